package discordfake

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// visibleChannel returns the channel a route's {channel.id} names, if the bot can see it:
// 10003 Unknown Channel, or 50001 Missing Access without VIEW_CHANNEL. Callers hold f.mu.
func (f *Fake) visibleChannel(rq *request) (*channelState, *apiError) {
	c := f.channels[rq.params["channel.id"]]
	if c == nil {
		return nil, errUnknown(10003)
	}
	if err := f.canView(c); err != nil {
		return nil, err
	}
	return c, nil
}

// visibleMessage returns the message a route's {channel.id} and {message.id} name, in a
// channel the bot can see. Callers hold f.mu.
func (f *Fake) visibleMessage(rq *request) (*channelState, *message, *apiError) {
	c, err := f.visibleChannel(rq)
	if err != nil {
		return nil, nil, err
	}
	m, err := f.channelMessage(c, rq.params["message.id"])
	if err != nil {
		return nil, nil, err
	}
	return c, m, nil
}

// canView checks VIEW_CHANNEL: Discord answers 50001 Missing Access without it.
func (f *Fake) canView(c *channelState) *apiError {
	if c.Type != ChannelDM && f.botPerms(c.ID)&PermViewChannel == 0 {
		return errMissingAccess()
	}
	return nil
}

// require checks a permission bit: 50013 Missing Permissions without it.
func (f *Fake) require(c *channelState, perm int64) *apiError {
	if c.Type != ChannelDM && f.botPerms(c.ID)&perm == 0 {
		return errMissingPermissions()
	}
	return nil
}

// blankREST says whether REST reads blank message content: when MESSAGE_CONTENT is not
// approved for the app.
func (f *Fake) blankREST() bool { return f.opts.UnapprovedIntents&IntentMessageContent != 0 }

func (f *Fake) getChannel(rq *request) (int, any, *apiError) {
	c, err := f.visibleChannel(rq)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, f.wireChannel(c), nil
}

func (f *Fake) typing(rq *request) (int, any, *apiError) {
	if _, err := f.visibleChannel(rq); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

// makeAttachments turns uploaded files into attachments of a message. Callers hold f.mu.
func (f *Fake) makeAttachments(channelID string, files []Attachment) []Attachment {
	var out []Attachment
	for _, a := range files {
		a.ID = f.newID()
		if a.Filename == "" {
			a.Filename = "file"
		}
		path := "attachments/" + channelID + "/" + a.ID + "/" + a.Filename
		a.URL = "https://cdn.discordapp.com/" + path
		a.ProxyURL = "https://media.discordapp.net/" + path
		out = append(out, a)
	}
	return out
}

func normalizeEmbeds(es []Embed) []Embed {
	out := slices.Clone(es)
	for i := range out {
		out[i].Type = "rich"
	}
	return out
}

func cloneAM(am *AllowedMentions) *AllowedMentions {
	if am == nil {
		return nil
	}
	c := *am
	c.Parse = slices.Clone(am.Parse)
	if c.Parse == nil {
		c.Parse = []string{}
	}
	c.Users = slices.Clone(am.Users)
	c.Roles = slices.Clone(am.Roles)
	return &c
}

const creatableFlags = FlagSuppressEmbeds | FlagSuppressNotifications | FlagIsComponentsV2

func (f *Fake) createMessage(rq *request) (int, any, *apiError) {
	c, err := f.visibleChannel(rq)
	if err != nil {
		return 0, nil, err
	}
	if !c.Type.textual() {
		return 0, nil, errBadRequest(50008)
	}
	send := PermSendMessages
	if c.Type.IsThread() {
		send = PermSendMessagesInThread
	}
	if err := f.require(c, send); err != nil {
		return 0, nil, err
	}
	if len(rq.files) > 0 {
		if err := f.require(c, PermAttachFiles); err != nil {
			return 0, nil, err
		}
	}
	var p msgPayload
	if err := rq.decode(&p); err != nil {
		return 0, nil, err
	}
	nonce, err := p.nonce()
	if err != nil {
		return 0, nil, err
	}
	if err := validateMessage(&p); err != nil {
		return 0, nil, err
	}
	if err := checkUploads(&p, rq.files); err != nil {
		return 0, nil, err
	}
	if emptyMessage(p.content(), p.Embeds, p.Components, len(rq.files), p.StickerIDs, p.Poll) {
		return 0, nil, errBadRequest(50006)
	}
	nonceKey := c.ID + "|" + f.bot.ID + "|" + nonce
	if p.EnforceNonce && nonce != "" {
		if e, ok := f.nonces[nonceKey]; ok && f.now().Sub(e.at) < 5*time.Minute {
			if m := f.messages[e.messageID]; m != nil && !m.Deleted {
				return http.StatusOK, f.wireMessage(m, wireOpts{}), nil
			}
		}
	}
	m := &message{Message: Message{
		ID:              f.newID(),
		ChannelID:       c.ID,
		GuildID:         c.GuildID,
		Type:            MessageDefault,
		Author:          f.bot,
		Content:         p.content(),
		Embeds:          normalizeEmbeds(p.Embeds),
		Components:      cloneComponents(p.Components),
		AllowedMentions: cloneAM(p.AllowedMentions),
		Flags:           p.Flags & creatableFlags,
		Nonce:           nonce,
		Timestamp:       f.now(),
	}}
	if ref := p.MessageReference; ref != nil && ref.MessageID != "" && ref.Type == 0 {
		refChan := ref.ChannelID
		if refChan == "" {
			refChan = c.ID
		}
		rm := f.messages[ref.MessageID]
		switch {
		case rm != nil && !rm.Deleted && !rm.Ephemeral() && rm.ChannelID == refChan && refChan == c.ID:
			m.Type = MessageReply
			m.MessageReference = &MessageReference{MessageID: rm.ID, ChannelID: rm.ChannelID, GuildID: rm.GuildID}
		case ref.FailIfNotExists == nil || *ref.FailIfNotExists:
			return 0, nil, formError("message_reference", "REPLIES_UNKNOWN_MESSAGE", "Unknown message")
		}
	}
	m.Attachments = f.makeAttachments(c.ID, rq.files)
	describeUploads(m, &p, rq.files)
	f.computeMentions(m, p.AllowedMentions, f.botPerms(c.ID)&PermMentionEveryone != 0)
	f.storeMessage(m)
	if nonce != "" {
		f.nonces[nonceKey] = nonceEntry{messageID: m.ID, at: f.now()}
	}
	f.dispatchMessage("MESSAGE_CREATE", m)
	return http.StatusOK, f.wireMessage(m, wireOpts{}), nil
}

func (f *Fake) listMessages(rq *request) (int, any, *apiError) {
	c, err := f.visibleChannel(rq)
	if err != nil {
		return 0, nil, err
	}
	limit, err := listLimit(rq)
	if err != nil {
		return 0, nil, err
	}
	// Documented: "The before, after, and around parameters are mutually exclusive, only one
	// may be passed at a time."
	given := 0
	for _, k := range []string{"around", "before", "after"} {
		v := rq.query.Get(k)
		if v == "" {
			continue
		}
		if given++; given > 1 {
			return 0, nil, formError(k, "BASE_TYPE_BAD_REQUEST", "Only one of around, before and after may be passed.")
		}
		if !isSnowflake(v) {
			return 0, nil, formError(k, "NUMBER_TYPE_COERCE", "Value \""+v+"\" is not snowflake.")
		}
	}
	if c.Type != ChannelDM && f.botPerms(c.ID)&PermReadMessageHistory == 0 {
		return http.StatusOK, []obj{}, nil // documented: no messages without the permission
	}
	all := f.visibleMessages(c.ID) // oldest first
	var pick []*message
	switch around, before, after := rq.query.Get("around"), rq.query.Get("before"), rq.query.Get("after"); {
	case around != "":
		i := 0
		for i < len(all) && snowflakeLess(all[i].ID, around) {
			i++
		}
		lo := max(0, i-limit/2)
		hi := min(len(all), lo+limit)
		pick = all[lo:hi]
	case before != "":
		var older []*message
		for _, m := range all {
			if snowflakeLess(m.ID, before) {
				older = append(older, m)
			}
		}
		pick = older[max(0, len(older)-limit):]
	case after != "":
		var newer []*message
		for _, m := range all {
			if snowflakeLess(after, m.ID) {
				newer = append(newer, m)
			}
		}
		pick = newer[:min(limit, len(newer))]
	default:
		pick = all[max(0, len(all)-limit):]
	}
	out := make([]obj, 0, len(pick))
	for i := len(pick) - 1; i >= 0; i-- { // newest first, as Discord returns them
		out = append(out, f.wireMessage(pick[i], wireOpts{blank: f.blankREST()}))
	}
	return http.StatusOK, out, nil
}

// channelMessage returns a message of a channel that members see, or 10008.
func (f *Fake) channelMessage(c *channelState, id string) (*message, *apiError) {
	m := f.messages[id]
	if m == nil || m.ChannelID != c.ID || m.Deleted || m.Ephemeral() {
		return nil, errUnknown(10008)
	}
	return m, nil
}

func (f *Fake) getMessage(rq *request) (int, any, *apiError) {
	c, err := f.visibleChannel(rq)
	if err != nil {
		return 0, nil, err
	}
	if err := f.require(c, PermReadMessageHistory); err != nil {
		return 0, nil, err
	}
	m, err := f.channelMessage(c, rq.params["message.id"])
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, f.wireMessage(m, wireOpts{blank: f.blankREST()}), nil
}

func (f *Fake) editMessage(rq *request) (int, any, *apiError) {
	c, m, err := f.visibleMessage(rq)
	if err != nil {
		return 0, nil, err
	}
	if m.Author.ID != f.bot.ID {
		return 0, nil, codeError(http.StatusForbidden, 50005)
	}
	if err := f.applyEdit(m, rq.body, rq.files, f.botPerms(c.ID)&PermMentionEveryone != 0); err != nil {
		return 0, nil, err
	}
	f.dispatchMessage("MESSAGE_UPDATE", m)
	return http.StatusOK, f.wireMessage(m, wireOpts{}), nil
}

// applyEdit applies a PATCH body to a message: fields present replace the old ones; a content or
// allowed_mentions change recomputes mentions with the allowed_mentions sent now (none: the
// defaults), as Discord does. Callers hold f.mu.
func (f *Fake) applyEdit(m *message, body []byte, files []Attachment, canEveryone bool) *apiError {
	rq := &request{body: body}
	var raw map[string]json.RawMessage
	if err := rq.decode(&raw); err != nil {
		return err
	}
	p, err := decodeChecked(rq, validateMessage)
	if err != nil {
		return err
	}
	next := m.Message.clone()
	_, hasContent := raw["content"]
	if hasContent {
		next.Content = p.content()
	}
	if _, ok := raw["embeds"]; ok {
		next.Embeds = normalizeEmbeds(p.Embeds)
	}
	if _, ok := raw["components"]; ok {
		next.Components = cloneComponents(p.Components)
	}
	if _, ok := raw["flags"]; ok {
		next.Flags = next.Flags&^FlagSuppressEmbeds | p.Flags&FlagSuppressEmbeds
	}
	if _, ok := raw["attachments"]; ok {
		var keep []struct {
			ID json.RawMessage `json:"id"`
		}
		_ = json.Unmarshal(raw["attachments"], &keep)
		var kept []Attachment
		for _, a := range next.Attachments {
			for _, k := range keep {
				if id := string(k.ID); id == `"`+a.ID+`"` || id == a.ID {
					kept = append(kept, a)
				}
			}
		}
		next.Attachments = kept
	}
	next.Attachments = append(next.Attachments, f.makeAttachments(m.ChannelID, files)...)
	if emptyMessage(next.Content, next.Embeds, next.Components, len(next.Attachments), nil, nil) {
		return errBadRequest(50006)
	}
	_, hasAM := raw["allowed_mentions"]
	next.Flags &^= FlagLoading
	next.Edited = true
	next.EditedAt = f.now()
	if hasContent || hasAM {
		next.AllowedMentions = cloneAM(p.AllowedMentions)
	}
	m.Message = next
	if hasContent || hasAM {
		f.computeMentions(m, p.AllowedMentions, canEveryone)
	}
	return nil
}

func (f *Fake) deleteMessage(rq *request) (int, any, *apiError) {
	c, m, err := f.visibleMessage(rq)
	if err != nil {
		return 0, nil, err
	}
	if m.Author.ID != f.bot.ID {
		if err := f.require(c, PermManageMessages); err != nil {
			return 0, nil, err
		}
	}
	m.Deleted = true
	f.dispatchMessageDelete(m)
	return http.StatusNoContent, nil, nil
}

type threadPayload struct {
	Name                string      `json:"name"`
	AutoArchiveDuration int         `json:"auto_archive_duration"`
	Type                *int        `json:"type"`
	Invitable           *bool       `json:"invitable"`
	RateLimitPerUser    int         `json:"rate_limit_per_user"`
	AppliedTags         []string    `json:"applied_tags"`
	Message             *msgPayload `json:"message"`
}

func validateThread(p *threadPayload) *apiError {
	var fe formErrors
	lengthBetween(&fe, "name", p.Name, 1, 100)
	switch p.AutoArchiveDuration {
	case 0, 60, 1440, 4320, 10080:
	default:
		fe.add("auto_archive_duration", "BASE_TYPE_CHOICES", "Value must be one of {60, 1440, 4320, 10080}.")
	}
	return fe.err()
}

// newThread creates a thread channel. Callers hold f.mu.
func (f *Fake) newThread(parent *channelState, id, name string, typ ChannelType, ownerID string, autoArchive int) *channelState {
	if autoArchive == 0 {
		autoArchive = 4320
	}
	t := &channelState{
		Channel:     Channel{ID: id, GuildID: parent.GuildID, Name: name, Type: typ, ParentID: parent.ID, OwnerID: ownerID},
		createdAt:   f.now(),
		autoArchive: autoArchive,
	}
	f.channels[id] = t
	if g := f.guilds[parent.GuildID]; g != nil {
		g.channelOrder = append(g.channelOrder, id)
	}
	return t
}

func (f *Fake) startThreadFromMessage(rq *request) (int, any, *apiError) {
	c, err := f.visibleChannel(rq)
	if err != nil {
		return 0, nil, err
	}
	if c.Type != ChannelText && c.Type != ChannelAnnouncement {
		return 0, nil, errBadRequest(50024)
	}
	m, err := f.channelMessage(c, rq.params["message.id"])
	if err != nil {
		return 0, nil, err
	}
	if err := f.require(c, PermCreatePublicThreads); err != nil {
		return 0, nil, err
	}
	p, err := decodeChecked(rq, validateThread)
	if err != nil {
		return 0, nil, err
	}
	if m.ThreadID != "" {
		return 0, nil, errBadRequest(160004)
	}
	t := f.threadFromMessage(c, m, p.Name, f.bot.ID, p.AutoArchiveDuration)
	return http.StatusCreated, f.wireChannel(t), nil
}

// threadFromMessage starts a thread, owned by ownerID, from message m of text or announcement
// channel c (the thread takes the message's ID), and dispatches THREAD_CREATE. Callers hold
// f.mu.
func (f *Fake) threadFromMessage(c *channelState, m *message, name, ownerID string, autoArchive int) *channelState {
	typ := ChannelPublicThread
	if c.Type == ChannelAnnouncement {
		typ = ChannelAnnouncementThread
	}
	t := f.newThread(c, m.ID, name, typ, ownerID, autoArchive)
	m.ThreadID = t.ID
	m.Flags |= FlagHasThread
	f.dispatchThreadCreate(t)
	return t
}

func (f *Fake) startThread(rq *request) (int, any, *apiError) {
	c, err := f.visibleChannel(rq)
	if err != nil {
		return 0, nil, err
	}
	p, err := decodeChecked(rq, validateThread)
	if err != nil {
		return 0, nil, err
	}
	switch c.Type {
	case ChannelForum:
		if err := f.require(c, PermSendMessages); err != nil {
			return 0, nil, err
		}
		if p.Message == nil {
			return 0, nil, formError("message", "BASE_TYPE_REQUIRED", "This field is required")
		}
		mp := p.Message
		if err := validateMessage(mp); err != nil {
			return 0, nil, err
		}
		if emptyMessage(mp.content(), mp.Embeds, mp.Components, len(rq.files), mp.StickerIDs, mp.Poll) {
			return 0, nil, errBadRequest(50006)
		}
		id := f.newID()
		t := f.newThread(c, id, p.Name, ChannelPublicThread, f.bot.ID, p.AutoArchiveDuration)
		m := &message{Message: Message{
			ID:              id,
			ChannelID:       t.ID,
			GuildID:         c.GuildID,
			Type:            MessageDefault,
			Author:          f.bot,
			Content:         mp.content(),
			Embeds:          normalizeEmbeds(mp.Embeds),
			Components:      cloneComponents(mp.Components),
			AllowedMentions: cloneAM(mp.AllowedMentions),
			Flags:           mp.Flags & creatableFlags,
			Timestamp:       f.now(),
		}}
		m.Attachments = f.makeAttachments(t.ID, rq.files)
		f.computeMentions(m, mp.AllowedMentions, f.botPerms(c.ID)&PermMentionEveryone != 0)
		f.storeMessage(m)
		f.dispatchThreadCreate(t)
		f.dispatchMessage("MESSAGE_CREATE", m)
		out := f.wireChannel(t)
		out["message"] = f.wireMessage(m, wireOpts{})
		return http.StatusCreated, out, nil
	case ChannelText, ChannelAnnouncement:
		typ := ChannelPrivateThread // API v9 default; v10 requires the field
		if p.Type != nil {
			typ = ChannelType(*p.Type)
		} else if rq.version >= 10 {
			return 0, nil, formError("type", "BASE_TYPE_REQUIRED", "This field is required")
		}
		switch {
		case c.Type == ChannelAnnouncement && typ != ChannelAnnouncementThread,
			c.Type == ChannelText && typ != ChannelPublicThread && typ != ChannelPrivateThread:
			return 0, nil, formError("type", "BASE_TYPE_CHOICES", "Value must be one of {10, 11, 12}.")
		}
		perm := PermCreatePublicThreads
		if typ == ChannelPrivateThread {
			perm = PermCreatePrivateThreads
		}
		if err := f.require(c, perm); err != nil {
			return 0, nil, err
		}
		t := f.newThread(c, f.newID(), p.Name, typ, f.bot.ID, p.AutoArchiveDuration)
		f.dispatchThreadCreate(t)
		return http.StatusCreated, f.wireChannel(t), nil
	default:
		return 0, nil, errBadRequest(50024)
	}
}

// listLimit reads a listing's limit: 50 by default, 1 to 100.
func listLimit(rq *request) (int, *apiError) {
	s := rq.query.Get("limit")
	if s == "" {
		return 50, nil
	}
	n, err := strconv.Atoi(s)
	switch {
	case err != nil:
		return 0, formError("limit", "NUMBER_TYPE_COERCE", "Value \""+s+"\" is not int.")
	case n < 1:
		return 0, formError("limit", "NUMBER_TYPE_MIN", "int value should be greater than or equal to 1.")
	case n > 100:
		return 0, formError("limit", "NUMBER_TYPE_MAX", "int value should be less than or equal to 100.")
	}
	return n, nil
}
