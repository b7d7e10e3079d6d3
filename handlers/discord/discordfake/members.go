package discordfake

// Acting as members: each action stores what a member did and dispatches the events Discord
// would send for it.

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// ErrClosed is returned by member actions once the fake is closed.
var ErrClosed = errors.New("discordfake: closed")

// PostParams is what a member posts.
type PostParams struct {
	Content string
	// Attachments: Filename, ContentType and Size; IDs and URLs are filled in.
	Attachments []Attachment
	// ReplyTo makes the post a reply (type 19) to a message of the same channel; like the
	// Discord client by default, it pings the replied-to author.
	ReplyTo string
}

// actor looks up a channel and checks that a user may act in it: a member of its guild, or the
// recipient of a DM. Callers hold f.mu.
func (f *Fake) actor(userID, channelID string) (*channelState, *User, error) {
	c := f.channels[channelID]
	if c == nil {
		return nil, nil, fmt.Errorf("discordfake: unknown channel %s", channelID)
	}
	if f.closed {
		return nil, nil, ErrClosed
	}
	u := f.users[userID]
	if u == nil {
		return nil, nil, fmt.Errorf("discordfake: unknown user %s", userID)
	}
	if u.ID == f.bot.ID {
		return nil, nil, fmt.Errorf("discordfake: %s is the bot; members act, the bot uses the API", userID)
	}
	if c.Type == ChannelDM {
		if c.recipient != userID {
			return nil, nil, fmt.Errorf("discordfake: user %s is not in DM channel %s", userID, c.ID)
		}
		return c, u, nil
	}
	if f.member(c.GuildID, userID) == nil {
		return nil, nil, fmt.Errorf("discordfake: user %s is not a member of guild %s", userID, c.GuildID)
	}
	return c, u, nil
}

func checkMemberContent(content string, attachments int) error {
	if utf8.RuneCountInString(content) > 2000 {
		return fmt.Errorf("discordfake: content is %d characters; Discord allows 2000", utf8.RuneCountInString(content))
	}
	if strings.TrimSpace(content) == "" && attachments == 0 {
		return errors.New("discordfake: empty message")
	}
	return nil
}

// Send posts a message as a member in a text channel, thread or DM, and dispatches
// MESSAGE_CREATE.
func (f *Fake) Send(userID, channelID string, p PostParams) (Message, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, u, err := f.actor(userID, channelID)
	if err != nil {
		return Message{}, err
	}
	if !c.Type.textual() {
		return Message{}, fmt.Errorf("discordfake: channel %s (type %d) takes no messages; use OpenForumPost for forums", c.ID, c.Type)
	}
	if err := checkMemberContent(p.Content, len(p.Attachments)); err != nil {
		return Message{}, err
	}
	m := &message{Message: Message{
		ID:        f.newID(),
		ChannelID: c.ID,
		GuildID:   c.GuildID,
		Type:      MessageDefault,
		Author:    *u,
		Content:   p.Content,
		Timestamp: f.now(),
	}}
	if p.ReplyTo != "" {
		rm := f.messages[p.ReplyTo]
		if rm == nil || rm.ChannelID != c.ID || rm.Deleted || rm.Ephemeral() {
			return Message{}, fmt.Errorf("discordfake: no message %s in channel %s to reply to", p.ReplyTo, c.ID)
		}
		m.Type = MessageReply
		m.MessageReference = &MessageReference{MessageID: rm.ID, ChannelID: rm.ChannelID, GuildID: rm.GuildID}
	}
	m.Attachments = f.makeAttachments(c.ID, p.Attachments)
	f.computeMentions(m, nil, true)
	f.storeMessage(m)
	f.dispatchMessage("MESSAGE_CREATE", m)
	return m.Message.clone(), nil
}

// Post posts content as a member.
func (f *Fake) Post(userID, channelID, content string) (Message, error) {
	return f.Send(userID, channelID, PostParams{Content: content})
}

// PostWithAttachment posts content with one attached file as a member.
func (f *Fake) PostWithAttachment(userID, channelID, content string, att Attachment) (Message, error) {
	return f.Send(userID, channelID, PostParams{Content: content, Attachments: []Attachment{att}})
}

// Reply posts a reply (type 19, with message_reference and referenced_message) as a member.
func (f *Fake) Reply(userID, channelID, refMessageID, content string) (Message, error) {
	return f.Send(userID, channelID, PostParams{Content: content, ReplyTo: refMessageID})
}

// PostInThread posts in a thread as a member.
func (f *Fake) PostInThread(userID, threadID, content string) (Message, error) {
	f.mu.Lock()
	c := f.channels[threadID]
	f.mu.Unlock()
	if c == nil || !c.Type.IsThread() {
		return Message{}, fmt.Errorf("discordfake: %s is not a thread", threadID)
	}
	return f.Post(userID, threadID, content)
}

// OpenForumPost opens a forum post as a member: THREAD_CREATE (newly_created) for the new
// thread, then MESSAGE_CREATE for its first message, whose ID is the thread's ID, as on Discord.
func (f *Fake) OpenForumPost(userID, forumID, title, content string) (Channel, Message, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, u, err := f.actor(userID, forumID)
	if err != nil {
		return Channel{}, Message{}, err
	}
	if c.Type != ChannelForum {
		return Channel{}, Message{}, fmt.Errorf("discordfake: channel %s is not a forum", forumID)
	}
	if n := utf8.RuneCountInString(title); n < 1 || n > 100 {
		return Channel{}, Message{}, fmt.Errorf("discordfake: a post title has 1 to 100 characters, not %d", n)
	}
	if err := checkMemberContent(content, 0); err != nil {
		return Channel{}, Message{}, err
	}
	id := f.newID()
	t := f.newThread(c, id, title, ChannelPublicThread, u.ID, 4320)
	m := &message{Message: Message{
		ID:        id,
		ChannelID: t.ID,
		GuildID:   c.GuildID,
		Type:      MessageDefault,
		Author:    *u,
		Content:   content,
		Timestamp: f.now(),
	}}
	f.computeMentions(m, nil, true)
	f.storeMessage(m)
	f.dispatchThreadCreate(t)
	f.dispatchMessage("MESSAGE_CREATE", m)
	return t.Channel, m.Message.clone(), nil
}

// StartThread starts a public thread from a message as a member (the thread takes the
// message's ID) and dispatches THREAD_CREATE.
func (f *Fake) StartThread(userID, channelID, messageID, name string) (Channel, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, u, err := f.actor(userID, channelID)
	if err != nil {
		return Channel{}, err
	}
	if c.Type != ChannelText && c.Type != ChannelAnnouncement {
		return Channel{}, fmt.Errorf("discordfake: threads start in text channels, not in %s", channelID)
	}
	m := f.messages[messageID]
	if m == nil || m.ChannelID != c.ID || m.Deleted || m.Ephemeral() {
		return Channel{}, fmt.Errorf("discordfake: no message %s in channel %s", messageID, channelID)
	}
	if m.ThreadID != "" {
		return Channel{}, fmt.Errorf("discordfake: message %s already has thread %s", messageID, m.ThreadID)
	}
	if n := utf8.RuneCountInString(name); n < 1 || n > 100 {
		return Channel{}, fmt.Errorf("discordfake: a thread name has 1 to 100 characters, not %d", n)
	}
	return f.threadFromMessage(c, m, name, u.ID, 4320).Channel, nil
}

// ArchiveThread archives a thread, as Discord does after its auto-archive duration without
// messages, and dispatches THREAD_UPDATE. It leaves the active list (GET
// /guilds/{id}/threads/active) for the archived one of its parent; a new message in it
// unarchives it.
func (f *Fake) ArchiveThread(threadID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.channels[threadID]
	if t == nil || !t.Type.IsThread() {
		return fmt.Errorf("discordfake: %s is not a thread", threadID)
	}
	if !t.archived {
		t.archived, t.archivedAt = true, f.now()
		f.dispatchThreadUpdate(t)
	}
	return nil
}

// Edit changes the content of a member's message and dispatches MESSAGE_UPDATE. Only messages
// members wrote can be edited this way.
func (f *Fake) Edit(channelID, messageID, content string) (Message, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return Message{}, ErrClosed
	}
	m := f.messages[messageID]
	if m == nil || m.ChannelID != channelID || m.Deleted {
		return Message{}, fmt.Errorf("discordfake: no message %s in channel %s", messageID, channelID)
	}
	if m.WebhookID != "" || m.Author.Bot {
		return Message{}, fmt.Errorf("discordfake: message %s was not written by a member", messageID)
	}
	if err := checkMemberContent(content, len(m.Attachments)); err != nil {
		return Message{}, err
	}
	m.Content = content
	m.Edited = true
	m.EditedAt = f.now()
	f.computeMentions(m, nil, true)
	f.dispatchMessage("MESSAGE_UPDATE", m)
	return m.Message.clone(), nil
}

// Delete deletes any message (as its author or a moderator) and dispatches MESSAGE_DELETE.
func (f *Fake) Delete(channelID, messageID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return ErrClosed
	}
	m := f.messages[messageID]
	if m == nil || m.ChannelID != channelID || m.Deleted {
		return fmt.Errorf("discordfake: no message %s in channel %s", messageID, channelID)
	}
	m.Deleted = true
	f.dispatchMessageDelete(m)
	return nil
}

// DMChannel returns the DM channel between the bot and a user, creating it.
func (f *Fake) DMChannel(userID string) (Channel, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u := f.users[userID]
	if u == nil || u.ID == f.bot.ID {
		return Channel{}, fmt.Errorf("discordfake: unknown user %s", userID)
	}
	return f.dmChannelLocked(userID).Channel, nil
}

// newInteraction registers an interaction. Callers hold f.mu.
func (f *Fake) newInteraction(typ int, userID string, c *channelState, messageID string) *interaction {
	in := &interaction{
		id:        f.newID(),
		token:     "discordfake." + randomToken(48),
		typ:       typ,
		channelID: c.ID,
		guildID:   c.GuildID,
		userID:    userID,
		messageID: messageID,
		createdAt: f.now(),
	}
	f.interactions[in.id] = in
	f.byToken[in.token] = in
	f.watchDeadline(in)
	return in
}

// componentMessage finds a message of the app a member may interact with. Callers hold f.mu.
func (f *Fake) componentMessage(userID, channelID, messageID string) (*channelState, *message, error) {
	c, _, err := f.actor(userID, channelID)
	if err != nil {
		return nil, nil, err
	}
	m := f.messages[messageID]
	if m == nil || m.ChannelID != c.ID || m.Deleted {
		return nil, nil, fmt.Errorf("discordfake: no message %s in channel %s", messageID, channelID)
	}
	if m.Ephemeral() && m.VisibleTo != userID {
		return nil, nil, fmt.Errorf("discordfake: message %s is ephemeral for another user", messageID)
	}
	if !f.appOwned(m) {
		return nil, nil, fmt.Errorf("discordfake: message %s was not sent by the app, so its components do not reach it", messageID)
	}
	return c, m, nil
}

func findComponent(cs []Component, customID string, match func(Component) bool) *Component {
	for i := range cs {
		if cs[i].CustomID == customID && match(cs[i]) {
			return &cs[i]
		}
		if c := findComponent(cs[i].Components, customID, match); c != nil {
			return c
		}
	}
	return nil
}

// Click clicks a button of one of the app's messages as a member and dispatches
// INTERACTION_CREATE (type 3, component_type 2). It fails if the message has no enabled button
// with that custom_id.
func (f *Fake) Click(userID, channelID, messageID, customID string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, m, err := f.componentMessage(userID, channelID, messageID)
	if err != nil {
		return "", err
	}
	b := findComponent(m.Components, customID, func(c Component) bool { return c.Type == ComponentButton })
	if b == nil {
		return "", fmt.Errorf("discordfake: message %s has no button %q", messageID, customID)
	}
	if b.Disabled {
		return "", fmt.Errorf("discordfake: button %q of message %s is disabled", customID, messageID)
	}
	in := f.newInteraction(3, userID, c, m.ID)
	in.customID, in.componentType = customID, ComponentButton
	f.dispatchInteraction(in, obj{"custom_id": customID, "component_type": ComponentButton})
	return in.id, nil
}

// Select picks values in a select menu of one of the app's messages as a member and
// dispatches INTERACTION_CREATE (type 3). For a string select the values must be options of
// it; for user, role, mentionable and channel selects they are IDs, resolved in data.resolved.
func (f *Fake) Select(userID, channelID, messageID, customID string, values []string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, m, err := f.componentMessage(userID, channelID, messageID)
	if err != nil {
		return "", err
	}
	sel := findComponent(m.Components, customID, func(c Component) bool {
		return c.Type == ComponentStringSel || (c.Type >= ComponentUserSel && c.Type <= ComponentChannelSel)
	})
	if sel == nil {
		return "", fmt.Errorf("discordfake: message %s has no select %q", messageID, customID)
	}
	if sel.Disabled {
		return "", fmt.Errorf("discordfake: select %q of message %s is disabled", customID, messageID)
	}
	lo, hi := 1, 1
	if sel.MinValues != nil {
		lo = *sel.MinValues
	}
	if sel.MaxValues != nil {
		hi = *sel.MaxValues
	}
	if len(values) < lo || len(values) > hi {
		return "", fmt.Errorf("discordfake: select %q takes %d to %d values, not %d", customID, lo, hi, len(values))
	}
	data := obj{"custom_id": customID, "component_type": sel.Type, "values": slices.Clone(values)}
	resolved := obj{}
	for _, v := range values {
		switch sel.Type {
		case ComponentStringSel:
			if !slices.ContainsFunc(sel.Options, func(o SelectOption) bool { return o.Value == v }) {
				return "", fmt.Errorf("discordfake: select %q has no option %q", customID, v)
			}
		default:
			if err := f.resolve(resolved, c.GuildID, selectKinds[sel.Type], v); err != nil {
				return "", err
			}
		}
	}
	if len(resolved) > 0 {
		data["resolved"] = resolved
	}
	in := f.newInteraction(3, userID, c, m.ID)
	in.customID, in.componentType = customID, sel.Type
	f.dispatchInteraction(in, data)
	return in.id, nil
}

// What a select or command option picks, for resolved data.
type resolveKind int

const (
	resolveUser resolveKind = iota + 1
	resolveRole
	resolveMentionable
	resolveChannel
)

var (
	selectKinds = map[int]resolveKind{ComponentUserSel: resolveUser, ComponentRoleSel: resolveRole, ComponentMention: resolveMentionable, ComponentChannelSel: resolveChannel}
	optionKinds = map[int]resolveKind{6: resolveUser, 7: resolveChannel, 8: resolveRole, 9: resolveMentionable}
)

// resolve adds the object an ID names to an interaction's resolved data.
func (f *Fake) resolve(resolved obj, guildID string, kind resolveKind, id string) error {
	put := func(key string, v obj) {
		m, _ := resolved[key].(obj)
		if m == nil {
			m = obj{}
			resolved[key] = m
		}
		m[id] = v
	}
	user := func() bool {
		u := f.users[id]
		if u == nil {
			return false
		}
		put("users", wireUser(*u))
		if mem := f.member(guildID, id); mem != nil {
			w := wireMember(mem, false)
			w["permissions"] = permString(PermAll)
			put("members", w)
		}
		return true
	}
	role := func() bool {
		g := f.guilds[guildID]
		if g == nil || g.role(id) == nil {
			return false
		}
		put("roles", wireRole(*g.role(id), 0))
		return true
	}
	var ok bool
	switch kind {
	case resolveUser:
		ok = user()
	case resolveRole:
		ok = role()
	case resolveMentionable:
		ok = user() || role()
	case resolveChannel:
		if c := f.channels[id]; c != nil {
			w := f.wireChannel(c)
			w["permissions"] = permString(PermAll)
			put("channels", w)
			ok = true
		}
	}
	if !ok {
		return fmt.Errorf("discordfake: %q does not name anything this select or option takes", id)
	}
	return nil
}

// SubmitModal submits, as a member, a modal the bot opened for them (a type 9 response to one
// of their interactions, with that custom_id), and dispatches INTERACTION_CREATE (type 5) with
// the text inputs in data.components. values maps text input custom_ids to what was typed.
func (f *Fake) SubmitModal(userID, channelID, customID string, values map[string]string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, _, err := f.actor(userID, channelID)
	if err != nil {
		return "", err
	}
	idx := -1
	for i, md := range f.modals {
		if md.userID == userID && md.channelID == channelID && md.customID == customID {
			idx = i
		}
	}
	if idx < 0 {
		return "", fmt.Errorf("discordfake: the bot opened no modal %q for user %s in channel %s", customID, userID, channelID)
	}
	md := f.modals[idx]
	inputs := map[string]Component{}
	rows := make([]obj, 0, len(md.components))
	for _, row := range md.components {
		ti := row.Components[0]
		inputs[ti.CustomID] = ti
		v := values[ti.CustomID]
		n := utf8.RuneCountInString(v)
		if (ti.Required == nil || *ti.Required) && v == "" {
			return "", fmt.Errorf("discordfake: text input %q is required", ti.CustomID)
		}
		if v != "" && ((ti.MinLength != nil && n < *ti.MinLength) || (ti.MaxLength != nil && n > *ti.MaxLength) || n > 4000) {
			return "", fmt.Errorf("discordfake: text input %q does not take %d characters", ti.CustomID, n)
		}
		in := obj{"type": ComponentTextInput, "custom_id": ti.CustomID, "value": v}
		if ti.ID != 0 {
			in["id"] = ti.ID
		}
		r := obj{"type": ComponentActionRow, "components": []obj{in}}
		if row.ID != 0 {
			r["id"] = row.ID
		}
		rows = append(rows, r)
	}
	for k := range values {
		if _, ok := inputs[k]; !ok {
			return "", fmt.Errorf("discordfake: modal %q has no text input %q", customID, k)
		}
	}
	f.modals = append(f.modals[:idx], f.modals[idx+1:]...)
	var msgID string
	if md.source.typ == 3 {
		msgID = md.source.messageID
	}
	in := f.newInteraction(5, userID, c, msgID)
	in.customID = customID
	in.fromComponent = md.source.typ == 3
	f.dispatchInteraction(in, obj{"custom_id": customID, "components": rows})
	return in.id, nil
}

// RunCommand runs a registered slash command as a member and dispatches INTERACTION_CREATE
// (type 2). Guild commands of the channel's guild are searched first, then global ones.
func (f *Fake) RunCommand(userID, channelID, name string, options []CommandOption) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, _, err := f.actor(userID, channelID)
	if err != nil {
		return "", err
	}
	cmd, err := f.commandFor(c, name, commandChatInput)
	if err != nil {
		return "", err
	}
	resolved := obj{}
	opts, err := f.buildOptions(cmd.Options, options, c.GuildID, resolved)
	if err != nil {
		return "", fmt.Errorf("discordfake: /%s: %w", name, err)
	}
	data := obj{"id": cmd.ID, "name": cmd.Name, "type": 1}
	if cmd.GuildID != "" {
		data["guild_id"] = cmd.GuildID
	}
	if len(opts) > 0 {
		data["options"] = opts
	}
	if len(resolved) > 0 {
		data["resolved"] = resolved
	}
	in := f.newInteraction(2, userID, c, "")
	in.commandName = cmd.Name
	f.dispatchInteraction(in, data)
	return in.id, nil
}

func (f *Fake) buildOptions(defs []CommandOptionDef, given []CommandOption, guildID string, resolved obj) ([]obj, error) {
	var out []obj
	seen := map[string]bool{}
	for _, g := range given {
		i := slices.IndexFunc(defs, func(d CommandOptionDef) bool { return d.Name == g.Name })
		if i < 0 {
			return nil, fmt.Errorf("no option %q", g.Name)
		}
		def := defs[i]
		typ := g.Type
		if typ == 0 {
			typ = def.Type
		}
		if typ != def.Type {
			return nil, fmt.Errorf("option %q has type %d, not %d", g.Name, def.Type, typ)
		}
		seen[g.Name] = true
		o := obj{"name": g.Name, "type": typ}
		switch typ {
		case 1, 2:
			sub, err := f.buildOptions(def.Options, g.Options, guildID, resolved)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", g.Name, err)
			}
			o["options"] = orEmpty(sub)
		case 6, 7, 8, 9:
			id, ok := g.Value.(string)
			if !ok {
				return nil, fmt.Errorf("option %q takes an ID string", g.Name)
			}
			if err := f.resolve(resolved, guildID, optionKinds[typ], id); err != nil {
				return nil, fmt.Errorf("option %q: %w", g.Name, err)
			}
			o["value"] = id
		default:
			o["value"] = g.Value
		}
		out = append(out, o)
	}
	for _, d := range defs {
		if d.Required && !seen[d.Name] {
			return nil, fmt.Errorf("option %q is required", d.Name)
		}
	}
	return out, nil
}
