package discord

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"time"

	dg "github.com/bwmarrin/discordgo"
)

// outMessage is a bot message as Liaison posts it. discordgo's MessageSend
// has no nonce, so the JSON is sent as is through RequestWithBucketID.
type outMessage struct {
	Content         string                     `json:"content,omitempty"`
	Embeds          []*dg.MessageEmbed         `json:"embeds,omitempty"`
	Components      []dg.MessageComponent      `json:"components,omitempty"`
	AllowedMentions *dg.MessageAllowedMentions `json:"allowed_mentions"`
	Reference       *dg.MessageReference       `json:"message_reference,omitempty"`
	Nonce           string                     `json:"nonce,omitempty"`
	EnforceNonce    bool                       `json:"enforce_nonce,omitempty"`
}

// nonceOf is a stable short form of a job key: Discord takes nonces of up to
// 25 characters.
func nonceOf(key string) string {
	if key == "" || len(key) <= 25 {
		return key
	}
	h := fnv.New64a()
	h.Write([]byte(key))
	return "l" + strconv.FormatUint(h.Sum64(), 36)
}

// postBotMessage posts msg as the bot. With a key, the message carries its
// nonce with enforce_nonce: a retry within Discord's nonce window gets the
// message already created instead of a second one.
func (c *Conn) postBotMessage(ctx context.Context, channelID string, msg outMessage, key string) (*dg.Message, error) {
	if msg.AllowedMentions == nil {
		msg.AllowedMentions = noMentions()
	}
	if n := nonceOf(key); n != "" {
		msg.Nonce, msg.EnforceNonce = n, true
	}
	ep := dg.EndpointChannelMessages(channelID)
	body, err := c.s.RequestWithBucketID("POST", ep, msg, ep, dg.WithContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("post in channel %s: %w", channelID, err)
	}
	var m dg.Message
	if err := json.Unmarshal(body, &m); err != nil {
		// Discord answered 200: the message exists, its ID is unreadable.
		return nil, fmt.Errorf("post in channel %s: decode answer: %w", channelID, err)
	}
	return &m, nil
}

// editBotMessage replaces a bot message's content, and its embeds and
// components when given (an empty slice clears them). Mentions stay off: an
// edit without allowed_mentions would re-parse the text with the defaults.
func (c *Conn) editBotMessage(ctx context.Context, channelID, messageID, content string, embeds []*dg.MessageEmbed, comps []dg.MessageComponent) error {
	e := &dg.MessageEdit{ID: messageID, Channel: channelID, Content: &content, AllowedMentions: noMentions()}
	if embeds != nil {
		e.Embeds = &embeds
	}
	if comps != nil {
		e.Components = &comps
	}
	if _, err := c.s.ChannelMessageEditComplex(e, dg.WithContext(ctx)); err != nil {
		return fmt.Errorf("edit message %s in channel %s: %w", messageID, channelID, err)
	}
	return nil
}

// webhookMessageURL addresses a message a webhook sent. A message in a
// thread needs ?thread_id=, which discordgo v0.29's WebhookMessageEdit and
// WebhookMessageDelete cannot pass.
func webhookMessageURL(w *dg.Webhook, messageID, threadID string) (uri, bucket string) {
	uri = dg.EndpointWebhookMessage(w.ID, w.Token, messageID)
	bucket = uri
	if threadID != "" {
		uri += "?thread_id=" + threadID
	}
	return uri, bucket
}

type webhookEdit struct {
	Content         string                     `json:"content"`
	AllowedMentions *dg.MessageAllowedMentions `json:"allowed_mentions"`
}

// listedMessage is the part of a listed message Find matches on; unlike
// dg.Message it keeps the nonce and application_id.
type listedMessage struct {
	ID      string `json:"id"`
	Content string `json:"content"`
	Author  struct {
		ID       string `json:"id"`
		Username string `json:"username"`
	} `json:"author"`
	WebhookID     string          `json:"webhook_id"`
	ApplicationID string          `json:"application_id"`
	Nonce         json.RawMessage `json:"nonce"`
	Embeds        []struct {
		Title string `json:"title"`
	} `json:"embeds"`
	Thread *struct {
		ID string `json:"id"`
	} `json:"thread"`
}

// nonce reads the nonce, which Discord gives as a string or an integer.
func (m *listedMessage) nonce() string {
	var s string
	if json.Unmarshal(m.Nonce, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(m.Nonce, &n) == nil {
		return n.String()
	}
	return ""
}

func (m *listedMessage) embedTitle() string {
	if len(m.Embeds) == 0 {
		return ""
	}
	return m.Embeds[0].Title
}

// maxScanPages bounds a reconciliation's listing (100 messages a page).
const maxScanPages = 10

// scan looks through a channel's messages from shortly before since to the
// newest, oldest first, for one that match accepts. It returns nil, nil only
// when it read every message since then without a match. Anything that
// keeps it from telling is an error, never "not found": a refused listing,
// more pages than it reads, or an empty listing of a channel Discord says
// has messages since then (without Read Message History, Discord lists
// none).
func (c *Conn) scan(ctx context.Context, channelID string, since time.Time, match func(*listedMessage) bool) (*listedMessage, error) {
	if since.IsZero() {
		// An op with no item (an admin notice): a lost call is recent.
		since = time.Now().Add(-time.Hour)
	}
	// A minute of margin for clock skew between Liaison and Discord.
	after := snowflakeAt(since.Add(-time.Minute))
	ep := dg.EndpointChannelMessages(channelID)
	for page := 0; page < maxScanPages; page++ {
		body, err := c.s.RequestWithBucketID("GET", ep+"?limit=100&after="+after, nil, ep, dg.WithContext(ctx))
		if err != nil {
			return nil, fmt.Errorf("list messages of channel %s: %w", channelID, err)
		}
		var ms []listedMessage
		if err := json.Unmarshal(body, &ms); err != nil {
			return nil, fmt.Errorf("list messages of channel %s: %w", channelID, err)
		}
		if page == 0 && len(ms) == 0 {
			return nil, c.readable(ctx, channelID, after)
		}
		slices.SortFunc(ms, func(a, b listedMessage) int { return snowflakeCmp(a.ID, b.ID) })
		for i := range ms {
			if match(&ms[i]) {
				return &ms[i], nil
			}
		}
		if len(ms) < 100 {
			return nil, nil
		}
		after = ms[len(ms)-1].ID
	}
	return nil, fmt.Errorf("list messages of channel %s: more than %d messages since %s; cannot tell whether the post exists", channelID, maxScanPages*100, since.Format(time.RFC3339))
}

// readable checks that an empty listing of a channel after a message id
// means no message: Discord says which message is the channel's last.
func (c *Conn) readable(ctx context.Context, channelID, after string) error {
	ch, err := c.s.Channel(channelID, dg.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("get channel %s: %w", channelID, err)
	}
	if ch.LastMessageID != "" && snowflakeCmp(ch.LastMessageID, after) > 0 {
		return fmt.Errorf("channel %s lists no message although its last is %s: cannot read its history (Read Message History missing?)", channelID, ch.LastMessageID)
	}
	return nil
}
