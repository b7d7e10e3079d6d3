package slackfake

import (
	"encoding/json"
	"strings"
	"unicode/utf8"
)

const maxTextLength = 40000 // chat.postMessage's msg_too_long limit

// channelLocked finds a channel by id, "#name" or name, as chat.postMessage
// accepts. Private channels the bot is not in do not exist for it.
func (f *Fake) channelLocked(ref string) (*channel, *apiError) {
	ch := f.channels[ref]
	if ch == nil {
		name := strings.TrimPrefix(ref, "#")
		for _, c := range f.channels {
			if c.name == name {
				ch = c
				break
			}
		}
	}
	if ch == nil || (ch.private && !ch.members[f.opts.BotUserID]) {
		return nil, refuse("channel_not_found")
	}
	return ch, nil
}

// postableChannelLocked finds a channel the bot may post in: a member's
// channel, or any public channel with chat:write.public.
func (f *Fake) postableChannelLocked(ref string) (*channel, *apiError) {
	ch, err := f.channelLocked(ref)
	if err != nil {
		return nil, err
	}
	if ch.archived {
		return nil, refuse("is_archived")
	}
	if !ch.members[f.opts.BotUserID] && (ch.private || !f.scopes["chat:write.public"]) {
		return nil, refuse("not_in_channel")
	}
	return ch, nil
}

// content is the visible part of a message in a chat.* request.
type content struct {
	text        string
	blocks      json.RawMessage
	attachments json.RawMessage
	metadata    json.RawMessage
	setBlocks   bool // the request had a blocks argument (chat.update may clear them)
	setMetadata bool
}

// parseContent parses and checks text, blocks, attachments and metadata.
func parseContent(r *apiRequest, requireSome bool) (content, *apiError) {
	c := content{text: r.get("text")}
	if _, ok := r.params["blocks"]; ok {
		c.setBlocks = true
		raw := r.get("blocks")
		if raw != "" {
			blocks, code, why := normalizeBlocks(raw, 50)
			if code != "" {
				return c, errorf(code, "%s", why)
			}
			if string(blocks) != "[]" {
				c.blocks = blocks
			}
		}
	}
	if raw := r.get("attachments"); raw != "" {
		var list []json.RawMessage
		if json.Unmarshal([]byte(raw), &list) != nil {
			return c, refuse("invalid_attachments")
		}
		if len(list) > 100 {
			return c, refuse("too_many_attachments")
		}
		if len(list) > 0 {
			c.attachments = json.RawMessage(raw)
		}
	}
	if raw := r.get("metadata"); raw != "" {
		var md struct {
			EventType    *string        `json:"event_type"`
			EventPayload map[string]any `json:"event_payload"`
		}
		if json.Unmarshal([]byte(raw), &md) != nil {
			return c, refuse("invalid_metadata_format")
		}
		if md.EventType == nil || *md.EventType == "" || md.EventPayload == nil {
			return c, refuse("invalid_metadata_schema")
		}
		c.metadata = json.RawMessage(raw)
		c.setMetadata = true
	}
	if requireSome && c.text == "" && c.blocks == nil && c.attachments == nil {
		return c, refuse("no_text")
	}
	if utf8.RuneCountInString(c.text) > maxTextLength {
		return c, refuse("msg_too_long")
	}
	return c, nil
}

// customizeLocked checks chat:write.customize for username and icons.
func (f *Fake) customizeLocked(r *apiRequest) *apiError {
	if r.get("username") != "" || r.get("icon_url") != "" || r.get("icon_emoji") != "" {
		return f.needScopeLocked("chat:write.customize")
	}
	return nil
}

// botMessageLocked builds a message posted by the bot.
func (f *Fake) botMessageLocked(ch *channel, r *apiRequest, c content) *message {
	m := &message{appID: f.opts.AppID}
	m.Channel = ch.id
	m.TS = f.tsLocked()
	m.User = f.opts.BotUserID
	m.BotID = f.opts.BotID
	m.Text = c.text
	m.Blocks = c.blocks
	m.Attachments = c.attachments
	m.Metadata = c.metadata
	m.Username = r.get("username")
	m.IconURL = r.get("icon_url")
	m.IconEmoji = r.get("icon_emoji")
	m.LinkNames = r.bool("link_names")
	m.Parse = r.get("parse")
	if m.Username != "" {
		m.Subtype = "bot_message"
	}
	return m
}

func (f *Fake) chatPostMessage(r *apiRequest) (object, *apiError) {
	ch, err := f.postableChannelLocked(r.get("channel"))
	if err != nil {
		return nil, err
	}
	if err := f.customizeLocked(r); err != nil {
		return nil, err
	}
	c, err := parseContent(r, true)
	if err != nil {
		return nil, err
	}
	threadTS := r.get("thread_ts")
	if threadTS != "" {
		parent := ch.byTS[threadTS]
		if parent == nil || parent.Deleted {
			return nil, refuse("thread_not_found")
		}
		if parent.ThreadTS != "" && parent.ThreadTS != parent.TS {
			threadTS = parent.ThreadTS // a reply to a reply joins the thread
		}
	}
	// The limit counts messages posted, so refused calls do not spend it.
	if err := f.rateLimitLocked(ch.id); err != nil {
		return nil, err
	}
	if threadTS != "" {
		ch.byTS[threadTS].ThreadTS = threadTS
	}
	m := f.botMessageLocked(ch, r, c)
	m.ThreadTS = threadTS
	if threadTS != "" && r.bool("reply_broadcast") {
		m.Subtype = "thread_broadcast"
	}
	ch.add(m)
	if !f.opts.DisableBotEcho {
		f.emitLocked(ch, f.wireLocked(ch, m, wireOptions{event: true}))
	}
	return object{"channel": ch.id, "ts": m.TS, "message": f.wireLocked(ch, m, wireOptions{metadata: true})}, nil
}

// requestedMessageLocked finds the message, not deleted, at the ts
// argument tsArg in the channel argument, which find looks up with the
// checks the method needs; missing is the error code when there is none.
func (f *Fake) requestedMessageLocked(r *apiRequest, find func(ref string) (*channel, *apiError), tsArg, missing string) (*channel, *message, *apiError) {
	ch, err := find(r.get("channel"))
	if err != nil {
		return nil, nil, err
	}
	m := ch.byTS[r.get(tsArg)]
	if m == nil || m.Deleted {
		return nil, nil, refuse(missing)
	}
	return ch, m, nil
}

// botTargetLocked finds a live message of the bot for chat.update/delete.
func (f *Fake) botTargetLocked(r *apiRequest, notMine string) (*channel, *message, *apiError) {
	ch, m, err := f.requestedMessageLocked(r, f.channelLocked, "ts", "message_not_found")
	if err != nil {
		return nil, nil, err
	}
	if !m.isBot() || m.BotID != f.opts.BotID {
		return nil, nil, refuse(notMine)
	}
	return ch, m, nil
}

func (f *Fake) chatUpdate(r *apiRequest) (object, *apiError) {
	ch, m, err := f.botTargetLocked(r, "cant_update_message")
	if err != nil {
		return nil, err
	}
	c, err := parseContent(r, false)
	if err != nil {
		return nil, err
	}
	if c.text == "" && c.blocks == nil && c.attachments == nil && !c.setBlocks {
		return nil, refuse("no_text")
	}
	before := f.wireLocked(ch, m, wireOptions{})
	f.editLocked(m, f.opts.BotUserID, c)
	if !f.opts.DisableBotEcho {
		f.emitChangedLocked(ch, m, before)
	}
	return object{"channel": ch.id, "ts": m.TS, "text": m.Text, "message": f.wireLocked(ch, m, wireOptions{metadata: true})}, nil
}

// editLocked replaces what a message shows, as chat.update and response_url do.
func (f *Fake) editLocked(m *message, by string, c content) {
	m.Text = c.text
	if c.setBlocks || c.blocks != nil {
		m.Blocks = c.blocks
	}
	if c.attachments != nil {
		m.Attachments = c.attachments
	}
	if c.setMetadata {
		m.Metadata = c.metadata
	}
	m.Edited = true
	m.editedBy = by
	m.editedTS = f.tsLocked()
}

func (f *Fake) chatDelete(r *apiRequest) (object, *apiError) {
	ch, m, err := f.botTargetLocked(r, "cant_delete_message")
	if err != nil {
		return nil, err
	}
	f.deleteLocked(ch, m, !f.opts.DisableBotEcho)
	return object{"channel": ch.id, "ts": m.TS}, nil
}

// deleteLocked marks a message deleted and tells the bot if asked to.
func (f *Fake) deleteLocked(ch *channel, m *message, emit bool) {
	before := f.wireLocked(ch, m, wireOptions{})
	m.Deleted = true
	if !emit {
		return
	}
	ts := f.tsLocked()
	ev := object{
		"type":             "message",
		"subtype":          "message_deleted",
		"hidden":           true,
		"deleted_ts":       m.TS,
		"channel":          ch.id,
		"previous_message": before,
		"event_ts":         ts,
		"ts":               ts,
		"channel_type":     ch.kind(),
	}
	f.emitLocked(ch, ev)
}

// emitChangedLocked tells the bot a message changed.
func (f *Fake) emitChangedLocked(ch *channel, m *message, before object) {
	ts := f.tsLocked()
	ev := object{
		"type":             "message",
		"subtype":          "message_changed",
		"message":          f.wireLocked(ch, m, wireOptions{}),
		"previous_message": before,
		"channel":          ch.id,
		"hidden":           true,
		"ts":               ts,
		"event_ts":         ts,
		"channel_type":     ch.kind(),
	}
	f.emitLocked(ch, ev)
}

func (f *Fake) chatPostEphemeral(r *apiRequest) (object, *apiError) {
	ch, err := f.postableChannelLocked(r.get("channel"))
	if err != nil {
		return nil, err
	}
	user := r.get("user")
	if f.users[user] == nil {
		return nil, refuse("user_not_found")
	}
	if !ch.members[user] {
		return nil, refuse("user_not_in_channel")
	}
	if err := f.customizeLocked(r); err != nil {
		return nil, err
	}
	c, err := parseContent(r, true)
	if err != nil {
		return nil, err
	}
	m := f.botMessageLocked(ch, r, c)
	m.ThreadTS = r.get("thread_ts")
	m.Ephemeral = true
	f.ephemerals[user] = append(f.ephemerals[user], m.snapshot())
	return object{"message_ts": m.TS}, nil
}

func (f *Fake) chatGetPermalink(r *apiRequest) (object, *apiError) {
	ch, m, err := f.requestedMessageLocked(r, f.channelLocked, "message_ts", "message_not_found")
	if err != nil {
		return nil, err
	}
	threadTS := ""
	if m.ThreadTS != m.TS {
		threadTS = m.ThreadTS
	}
	return object{"channel": ch.id, "permalink": f.permalink(ch.id, m.TS, threadTS)}, nil
}
