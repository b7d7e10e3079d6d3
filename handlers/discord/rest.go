package discord

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
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

// scan looks through a channel's messages, newest first, back to shortly
// before since, for one that match accepts. A message created by a lost
// call is among the newest, so listing backwards finds it in the first page
// in practice. It returns nil, nil only when the listing reached since
// without a match.
func (c *Conn) scan(ctx context.Context, channelID string, since time.Time, match func(*listedMessage) bool) (*listedMessage, error) {
	if since.IsZero() {
		// An op with no item (an admin notice): a lost call is recent.
		since = time.Now().Add(-time.Hour)
	}
	// A minute of margin for clock skew between Liaison and Discord.
	floor, _ := strconv.ParseUint(snowflakeAt(since.Add(-time.Minute)), 10, 64)
	ep := dg.EndpointChannelMessages(channelID)
	before := ""
	for page := 0; page < maxScanPages; page++ {
		uri := ep + "?limit=100"
		if before != "" {
			uri += "&before=" + before
		}
		body, err := c.s.RequestWithBucketID("GET", uri, nil, ep, dg.WithContext(ctx))
		if err != nil {
			return nil, fmt.Errorf("list messages of channel %s: %w", channelID, err)
		}
		var ms []listedMessage
		if err := json.Unmarshal(body, &ms); err != nil {
			return nil, fmt.Errorf("list messages of channel %s: %w", channelID, err)
		}
		for i := range ms {
			if id, _ := strconv.ParseUint(ms[i].ID, 10, 64); id < floor {
				return nil, nil
			}
			if match(&ms[i]) {
				return &ms[i], nil
			}
		}
		if len(ms) < 100 {
			return nil, nil
		}
		before = ms[len(ms)-1].ID
	}
	return nil, fmt.Errorf("list messages of channel %s: more than %d messages since %s; cannot tell whether the post exists", channelID, maxScanPages*100, since.Format(time.RFC3339))
}
