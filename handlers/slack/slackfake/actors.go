package slackfake

import (
	"encoding/json"
	"fmt"
	"maps"
	"mime"
	"net/url"
	"path"
	"slices"
	"strings"
)

// memberLocked finds a user and a channel the user is a member of.
func (f *Fake) memberLocked(op, userID, channelID string) (*User, *channel, error) {
	u := f.users[userID]
	if u == nil {
		return nil, nil, fmt.Errorf("slackfake: %s: no user %s", op, userID)
	}
	ch := f.channels[channelID]
	if ch == nil {
		return nil, nil, fmt.Errorf("slackfake: %s: no channel %s", op, channelID)
	}
	if !ch.members[userID] {
		return nil, nil, fmt.Errorf("slackfake: %s: %s is not a member of %s", op, userID, channelID)
	}
	return u, ch, nil
}

// userMessageLocked builds a message a person typed, or another app posted
// when the user is a bot.
func (f *Fake) userMessageLocked(u *User, ch *channel, text string) *message {
	m := &message{}
	m.Channel = ch.id
	m.TS = f.tsLocked()
	m.User = u.ID
	m.Text = text
	if u.IsBot {
		id := strings.TrimLeft(u.ID, "UW")
		m.BotID, m.appID = "B"+id, "A"+id
		return m
	}
	m.clientMsgID = uuid()
	m.Blocks = richText(text)
	return m
}

// Post posts text as userID in a channel and delivers the message event to
// the bot. text is Slack's wire format: "<@U1>" mentions, "&lt;" for a typed
// '<'. A user with IsBot posts as another app would, with a bot_id. It
// returns the message's ts.
func (f *Fake) Post(userID, channelID, text string) (string, error) {
	return f.postAs("Post", userID, channelID, text, nil)
}

// postAs posts text as userID, a member of the channel, and delivers the
// message event to the bot; shape, if set, completes the message or
// refuses it first. It returns the message's ts.
func (f *Fake) postAs(op, userID, channelID, text string, shape func(ch *channel, m *message) error) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u, ch, err := f.memberLocked(op, userID, channelID)
	if err != nil {
		return "", err
	}
	m := f.userMessageLocked(u, ch, text)
	if shape != nil {
		if err := shape(ch, m); err != nil {
			return "", err
		}
	}
	f.addAndEmitLocked(ch, m)
	return m.TS, nil
}

// PostWebhook posts text in a channel as an incoming webhook does: a
// bot_message with a bot_id and the given username, and no user. It
// delivers the message event to the bot and returns the message's ts.
func (f *Fake) PostWebhook(channelID, username, text string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := f.channels[channelID]
	if ch == nil {
		return "", fmt.Errorf("slackfake: PostWebhook: no channel %s", channelID)
	}
	m := &message{appID: f.idLocked("A")}
	m.Channel, m.TS, m.Text = ch.id, f.tsLocked(), text
	m.BotID, m.Subtype, m.Username = f.idLocked("B"), "bot_message", username
	f.addAndEmitLocked(ch, m)
	return m.TS, nil
}

// Reply posts text as userID in the thread of threadTS and returns its ts.
func (f *Fake) Reply(userID, channelID, threadTS, text string) (string, error) {
	return f.postAs("Reply", userID, channelID, text, func(ch *channel, m *message) error {
		parent := ch.byTS[threadTS]
		if parent == nil || parent.Deleted {
			return fmt.Errorf("slackfake: Reply: no message %s in %s", threadTS, channelID)
		}
		if parent.ThreadTS != "" && parent.ThreadTS != parent.TS {
			return fmt.Errorf("slackfake: Reply: %s is itself a reply in thread %s", threadTS, parent.ThreadTS)
		}
		parent.ThreadTS = parent.TS
		m.ThreadTS = threadTS
		return nil
	})
}

// PostFile posts a message sharing a file (subtype file_share) and returns
// its ts. The file is only a name and a URL: no bytes are uploaded.
func (f *Fake) PostFile(userID, channelID, text, fileName, fileURL string) (string, error) {
	return f.postAs("PostFile", userID, channelID, text, func(_ *channel, m *message) error {
		m.Subtype = "file_share"
		ext := strings.TrimPrefix(path.Ext(fileName), ".")
		mimetype := mime.TypeByExtension(path.Ext(fileName))
		if mimetype == "" {
			mimetype = "application/octet-stream"
		}
		mimetype, _, _ = strings.Cut(mimetype, ";")
		m.Files = []File{{ID: f.idLocked("F"), Name: fileName, Title: fileName, URL: fileURL, Mimetype: mimetype, Filetype: ext}}
		return nil
	})
}

func (f *Fake) addAndEmitLocked(ch *channel, m *message) {
	ch.add(m)
	f.emitLocked(ch, f.wireLocked(ch, m, wireOptions{event: true}))
	f.changedLocked()
}

// Edit changes the text of a person's message, as its author, and delivers
// message_changed to the bot.
func (f *Fake) Edit(channelID, ts, newText string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch, m, err := f.liveMessageLocked("Edit", channelID, ts)
	if err != nil {
		return err
	}
	if m.BotID == f.opts.BotID {
		return fmt.Errorf("slackfake: Edit: %s is the bot's message; the bot edits with chat.update", ts)
	}
	before := f.wireLocked(ch, m, wireOptions{})
	f.editLocked(m, m.User, content{text: newText, blocks: richText(newText)})
	f.emitChangedLocked(ch, m, before)
	f.changedLocked()
	return nil
}

// Delete deletes a message, as its author or an admin would, and delivers
// message_deleted to the bot.
func (f *Fake) Delete(channelID, ts string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch, m, err := f.liveMessageLocked("Delete", channelID, ts)
	if err != nil {
		return err
	}
	f.deleteLocked(ch, m, m.BotID != f.opts.BotID || !f.opts.DisableBotEcho)
	f.changedLocked()
	return nil
}

func (f *Fake) liveMessageLocked(op, channelID, ts string) (*channel, *message, error) {
	ch := f.channels[channelID]
	if ch == nil {
		return nil, nil, fmt.Errorf("slackfake: %s: no channel %s", op, channelID)
	}
	m := ch.byTS[ts]
	if m == nil || m.Deleted {
		return nil, nil, fmt.Errorf("slackfake: %s: no message %s in %s", op, ts, channelID)
	}
	return ch, m, nil
}

// Join makes userID (a person, or the bot user) a member of a channel and
// posts the channel_join message, which the bot receives as an event once it
// is a member.
func (f *Fake) Join(userID, channelID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.users[userID] == nil {
		return fmt.Errorf("slackfake: Join: no user %s", userID)
	}
	ch := f.channels[channelID]
	if ch == nil {
		return fmt.Errorf("slackfake: Join: no channel %s", channelID)
	}
	if ch.members[userID] {
		return nil
	}
	f.joinLocked(ch, userID)
	f.changedLocked()
	return nil
}

// Click clicks, as userID, the button with actionID in a message of a channel
// (or in an ephemeral message the user sees there). The bot gets Slack's
// block_actions payload: the button's block_id and value as posted, a fresh
// trigger_id (3 s, once), the message, and a response_url.
func (f *Fake) Click(userID, channelID, messageTS, actionID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	u, ch, err := f.memberLocked("Click", userID, channelID)
	if err != nil {
		return err
	}
	var (
		blocks    json.RawMessage
		threadTS  string
		ephemeral bool
		shown     object
	)
	if m := ch.byTS[messageTS]; m != nil && !m.Deleted {
		blocks, threadTS, shown = m.Blocks, m.ThreadTS, f.wireLocked(ch, m, wireOptions{})
	} else {
		i := slices.IndexFunc(f.ephemerals[userID], func(e Message) bool { return e.Channel == channelID && e.TS == messageTS })
		if i < 0 {
			return fmt.Errorf("slackfake: Click: %s sees no message %s in %s", userID, messageTS, channelID)
		}
		e := f.ephemerals[userID][i]
		blocks, threadTS, ephemeral = e.Blocks, e.ThreadTS, true
	}
	blockID, el, ok := findElement(blocks, actionID)
	if !ok {
		return fmt.Errorf("slackfake: Click: message %s has no element with action_id %q", messageTS, actionID)
	}
	if el["type"] != "button" {
		return fmt.Errorf("slackfake: Click: %q is a %v, not a button", actionID, el["type"])
	}
	container := object{"type": "message", "message_ts": messageTS, "channel_id": ch.id, "is_ephemeral": ephemeral}
	if threadTS != "" && threadTS != messageTS {
		container["thread_ts"] = threadTS
	}
	action := f.buttonActionLocked(actionID, blockID, el)
	payload := f.interaction("block_actions", u, object{
		"container":    container,
		"trigger_id":   f.issueTriggerLocked(userID),
		"channel":      object{"id": ch.id, "name": ch.name},
		"state":        object{"values": object{}},
		"response_url": f.responseURLLocked("actions", userID, ch.id, messageTS, threadTS, ephemeral),
		"actions":      []object{action},
	})
	if shown != nil {
		payload["message"] = shown
	}
	f.enqueueInteractionLocked(payload, false, nil)
	f.changedLocked()
	return nil
}

// buttonActionLocked is a click on the button el of block blockID, as
// block_actions carries it: its value and style as posted.
func (f *Fake) buttonActionLocked(actionID, blockID string, el object) object {
	action := object{"action_id": actionID, "block_id": blockID, "text": el["text"], "type": "button", "action_ts": f.tsLocked()}
	for _, k := range []string{"value", "style"} {
		if v, ok := el[k]; ok {
			action[k] = v
		}
	}
	return action
}

// SlashCommand runs a slash command as userID in a channel. The bot gets the
// command's fields (a slash_commands envelope, or a form in HTTP mode) with a
// trigger_id and a response_url; a message in the ack is shown to the user,
// or to the channel with "response_type":"in_channel".
func (f *Fake) SlashCommand(userID, channelID, command, text string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	u, ch, err := f.memberLocked("SlashCommand", userID, channelID)
	if err != nil {
		return err
	}
	if !strings.HasPrefix(command, "/") || len(command) < 2 {
		return fmt.Errorf("slackfake: SlashCommand: %q is not a command (want /name)", command)
	}
	respURL := f.responseURLLocked("commands", userID, ch.id, "", "", false)
	rc := f.responseURLs[respURL]
	fields := object{
		"token":                 f.opts.VerificationToken,
		"team_id":               f.opts.TeamID,
		"team_domain":           f.opts.TeamDomain,
		"channel_id":            ch.id,
		"channel_name":          ch.name,
		"user_id":               u.ID,
		"user_name":             u.Name,
		"command":               command,
		"text":                  text,
		"api_app_id":            f.opts.AppID,
		"is_enterprise_install": "false",
		"response_url":          respURL,
		"trigger_id":            f.issueTriggerLocked(userID),
	}
	e := f.enqueueLocked(slashCommands, fields, true, func(ack json.RawMessage) {
		if ack == nil {
			return
		}
		var rep reply
		if json.Unmarshal(ack, &rep) == nil {
			_ = f.respondLocked(rc, rep)
		}
	})
	form := url.Values{}
	for k, v := range fields {
		form.Set(k, v.(string))
	}
	e.form = []byte(form.Encode())
	f.changedLocked()
	return nil
}

// enqueueInteractionLocked queues an interactive payload, which HTTP mode
// sends as the form field payload=<json>.
func (f *Fake) enqueueInteractionLocked(payload object, accepts bool, onAck func(json.RawMessage)) {
	e := f.enqueueLocked(interactive, payload, accepts, onAck)
	e.form = []byte(url.Values{"payload": {string(e.body)}}.Encode())
}

// interaction is an interactive payload of type typ by u: what every one
// carries, and more.
func (f *Fake) interaction(typ string, u *User, more object) object {
	payload := object{
		"type":                  typ,
		"team":                  f.teamObject(),
		"user":                  f.userObject(u),
		"api_app_id":            f.opts.AppID,
		"token":                 f.opts.VerificationToken,
		"is_enterprise_install": false,
		"enterprise":            nil,
	}
	maps.Copy(payload, more)
	return payload
}

func (f *Fake) teamObject() object {
	return object{"id": f.opts.TeamID, "domain": f.opts.TeamDomain}
}

func (f *Fake) userObject(u *User) object {
	return object{"id": u.ID, "username": u.Name, "name": u.Name, "team_id": f.opts.TeamID}
}
