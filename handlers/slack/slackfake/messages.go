package slackfake

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
)

// Message is a message as a member of the workspace sees it.
type Message struct {
	Channel     string
	TS          string
	ThreadTS    string // the parent's ts for a reply; TS itself for a parent with replies; else ""
	User        string // author; the bot user for the bot's posts
	BotID       string // set on posts of a bot (the fake's bot, or a User with IsBot)
	Username    string // custom name the bot posted under, if any
	IconURL     string
	IconEmoji   string
	Text        string          // raw mrkdwn as sent, e.g. "hi <@U1>" or "&lt;!here&gt;"
	Blocks      json.RawMessage // as stored by Slack (block_id filled in), nil if none
	Attachments json.RawMessage
	Metadata    json.RawMessage // {"event_type":…,"event_payload":…}, nil if none
	Subtype     string          // "", "bot_message", "file_share", "channel_join", "thread_broadcast", …
	Files       []File
	Reactions   []Reaction
	Edited      bool
	Deleted     bool
	LinkNames   bool   // posted with link_names=true: "@here" and "@name" ping
	Parse       string // the parse argument, "full" makes "@here" ping too
	Ephemeral   bool   // only for Ephemerals
}

// File is a file shared in a message.
type File struct {
	ID       string
	Name     string
	Title    string
	URL      string // url_private
	Mimetype string
	Filetype string
}

// Reaction is an emoji reaction on a message.
type Reaction struct {
	Name  string
	Users []string
}

// object is a JSON object under construction.
type object = map[string]any

// channel is the stored state of one channel.
type channel struct {
	id, name string
	private  bool
	archived bool // read-only: Archive
	created  int64
	members  map[string]bool
	messages []*message // in ts order, thread replies included
	byTS     map[string]*message
}

func (c *channel) kind() string {
	if c.private {
		return "group"
	}
	return "channel"
}

// message is a stored message.
type message struct {
	Message
	appID       string
	clientMsgID string
	editedBy    string
	editedTS    string
}

func (m *message) isBot() bool { return m.BotID != "" }

// snapshot copies the message for a caller outside the lock.
func (m *message) snapshot() Message {
	s := m.Message
	s.Files = slices.Clone(s.Files)
	s.Reactions = make([]Reaction, len(m.Reactions))
	for i, r := range m.Reactions {
		s.Reactions[i] = Reaction{Name: r.Name, Users: slices.Clone(r.Users)}
	}
	if len(s.Reactions) == 0 {
		s.Reactions = nil
	}
	return s
}

// addLocked stores a new message in the channel.
func (c *channel) add(m *message) {
	c.messages = append(c.messages, m)
	c.byTS[m.TS] = m
}

// replies returns the live replies of the thread rooted at ts.
func (c *channel) replies(ts string) []*message {
	var out []*message
	for _, m := range c.messages {
		if m.ThreadTS == ts && m.TS != ts && !m.Deleted {
			out = append(out, m)
		}
	}
	return out
}

// wireOptions says which variant of a message's JSON to render.
type wireOptions struct {
	metadata bool // include "metadata" (include_all_metadata)
	event    bool // add "channel", "event_ts", "channel_type" for a message event
	thread   bool // add reply_count & co. on a thread parent
}

// wireLocked renders a message as Slack's API and events show it.
func (f *Fake) wireLocked(c *channel, m *message, o wireOptions) object {
	w := object{"type": "message", "ts": m.TS, "text": m.Text}
	if m.Subtype != "" {
		w["subtype"] = m.Subtype
	}
	if m.isBot() {
		w["bot_id"] = m.BotID
		w["app_id"] = m.appID
		if m.Subtype == "bot_message" {
			w["username"] = m.Username
			icons := object{}
			if m.IconURL != "" {
				icons["image_48"] = m.IconURL
			}
			if m.IconEmoji != "" {
				icons["emoji"] = m.IconEmoji
			}
			w["icons"] = icons
		} else {
			w["user"] = m.User
			w["bot_profile"] = f.botProfileLocked(m)
		}
	} else {
		w["user"] = m.User
		if m.clientMsgID != "" {
			w["client_msg_id"] = m.clientMsgID
		}
	}
	w["team"] = f.opts.TeamID
	if len(m.Blocks) > 0 {
		w["blocks"] = m.Blocks
	}
	if len(m.Attachments) > 0 {
		w["attachments"] = m.Attachments
	}
	if m.ThreadTS != "" {
		w["thread_ts"] = m.ThreadTS
		if m.ThreadTS != m.TS {
			if parent := c.byTS[m.ThreadTS]; parent != nil {
				w["parent_user_id"] = parent.User
			}
		}
	}
	if m.Edited {
		w["edited"] = object{"user": m.editedBy, "ts": m.editedTS}
	}
	if len(m.Files) > 0 {
		files := make([]object, len(m.Files))
		for i, file := range m.Files {
			files[i] = f.wireFile(m, file)
		}
		w["files"] = files
		w["upload"] = false
		w["display_as_bot"] = false
	}
	if len(m.Reactions) > 0 {
		rs := make([]object, len(m.Reactions))
		for i, r := range m.Reactions {
			rs[i] = object{"name": r.Name, "users": r.Users, "count": len(r.Users)}
		}
		w["reactions"] = rs
	}
	if o.metadata && len(m.Metadata) > 0 {
		w["metadata"] = m.Metadata
	}
	if o.thread && m.ThreadTS == m.TS {
		replies := c.replies(m.TS)
		var users []string
		for _, r := range replies {
			if !slices.Contains(users, r.User) {
				users = append(users, r.User)
			}
		}
		w["reply_count"] = len(replies)
		w["reply_users_count"] = len(users)
		w["reply_users"] = users
		if len(replies) > 0 {
			w["latest_reply"] = replies[len(replies)-1].TS
		}
		w["is_locked"] = false
		w["subscribed"] = false
	}
	if o.event {
		w["channel"] = c.id
		w["event_ts"] = m.TS
		w["channel_type"] = c.kind()
	}
	return w
}

// botProfileLocked renders the bot_profile of a bot's message.
func (f *Fake) botProfileLocked(m *message) object {
	name := f.opts.BotName
	if u := f.users[m.User]; u != nil {
		name = u.Name
	}
	return object{
		"id":      m.BotID,
		"deleted": false,
		"name":    name,
		"updated": f.now().Unix(),
		"app_id":  m.appID,
		"icons": object{
			"image_36": "https://a.slack-edge.com/80588/img/plugins/app/bot_36.png",
			"image_48": "https://a.slack-edge.com/80588/img/plugins/app/bot_48.png",
			"image_72": "https://a.slack-edge.com/80588/img/plugins/app/service_72.png",
		},
		"team_id": f.opts.TeamID,
	}
}

func (f *Fake) wireFile(m *message, file File) object {
	created, _ := strconv.ParseFloat(m.TS, 64)
	return object{
		"id":                   file.ID,
		"created":              int64(created),
		"timestamp":            int64(created),
		"name":                 file.Name,
		"title":                file.Title,
		"mimetype":             file.Mimetype,
		"filetype":             file.Filetype,
		"pretty_type":          strings.ToUpper(file.Filetype),
		"user":                 m.User,
		"user_team":            f.opts.TeamID,
		"editable":             false,
		"size":                 0,
		"mode":                 "hosted",
		"is_external":          false,
		"external_type":        "",
		"is_public":            true,
		"public_url_shared":    false,
		"display_as_bot":       false,
		"username":             "",
		"url_private":          file.URL,
		"url_private_download": file.URL,
		"permalink":            f.permalink(m.Channel, m.TS, "") + "/" + file.ID,
		"permalink_public":     "https://slack-files.com/" + f.opts.TeamID + "-" + file.ID,
		"has_rich_preview":     false,
		"file_access":          "visible",
	}
}

// permalink returns the https://<domain>.slack.com/archives/… link of a message.
func (f *Fake) permalink(channelID, ts, threadTS string) string {
	link := "https://" + f.opts.TeamDomain + ".slack.com/archives/" + channelID + "/p" + strings.Replace(ts, ".", "", 1)
	if threadTS != "" && threadTS != ts {
		link += "?thread_ts=" + threadTS + "&cid=" + channelID
	}
	return link
}
