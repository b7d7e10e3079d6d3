package discordfake

import (
	"net/http"
)

func (f *Fake) listWebhooks(rq *request) (int, any, *apiError) {
	c, err := f.visibleChannel(rq)
	if err != nil {
		return 0, nil, err
	}
	if err := f.require(c, PermManageWebhooks); err != nil {
		return 0, nil, err
	}
	out := []obj{}
	for _, id := range f.webhookOrder {
		if w := f.webhooks[id]; w != nil && w.ChannelID == c.ID {
			out = append(out, f.wireWebhook(w, true))
		}
	}
	return http.StatusOK, out, nil
}

func (f *Fake) createWebhook(rq *request) (int, any, *apiError) {
	c, err := f.visibleChannel(rq)
	if err != nil {
		return 0, nil, err
	}
	if c.Type != ChannelText && c.Type != ChannelAnnouncement && c.Type != ChannelForum {
		return 0, nil, errBadRequest(50024)
	}
	if err := f.require(c, PermManageWebhooks); err != nil {
		return 0, nil, err
	}
	var p struct {
		Name   string `json:"name"`
		Avatar string `json:"avatar"`
	}
	if err := rq.decode(&p); err != nil {
		return 0, nil, err
	}
	if err := validateName("name", p.Name); err != nil {
		return 0, nil, err
	}
	n := 0
	for _, w := range f.webhooks {
		if w.ChannelID == c.ID {
			n++
		}
	}
	if n >= 15 {
		return 0, nil, errBadRequest(30007)
	}
	w := &Webhook{
		ID:            f.newID(),
		Token:         randomToken(34),
		ChannelID:     c.ID,
		GuildID:       c.GuildID,
		Name:          p.Name,
		ApplicationID: f.appID,
		CreatedBy:     f.bot.ID,
	}
	if p.Avatar != "" {
		w.Avatar = avatarHash(p.Avatar)
	}
	f.webhooks[w.ID] = w
	f.webhookOrder = append(f.webhookOrder, w.ID)
	f.dispatchWebhooksUpdate(c.GuildID, c.ID)
	return http.StatusOK, f.wireWebhook(w, true), nil
}

func (f *Fake) getWebhook(rq *request) (int, any, *apiError) {
	w := f.webhooks[rq.params["webhook.id"]]
	if w == nil {
		return 0, nil, errUnknown(10015)
	}
	if w.ApplicationID != f.appID {
		if err := f.require(f.channels[w.ChannelID], PermManageWebhooks); err != nil {
			return 0, nil, err
		}
	}
	return http.StatusOK, f.wireWebhook(w, true), nil
}

func (f *Fake) deleteWebhook(rq *request) (int, any, *apiError) {
	w := f.webhooks[rq.params["webhook.id"]]
	if w == nil {
		return 0, nil, errUnknown(10015)
	}
	if err := f.require(f.channels[w.ChannelID], PermManageWebhooks); err != nil {
		return 0, nil, err
	}
	delete(f.webhooks, w.ID)
	f.dispatchWebhooksUpdate(w.GuildID, w.ChannelID)
	return http.StatusNoContent, nil, nil
}

// webhookByToken returns the webhook of a token URL: 10015 for an unknown ID, 50027 for a
// wrong token.
func (f *Fake) webhookByToken(rq *request) (*Webhook, *apiError) {
	w := f.webhooks[rq.params["webhook.id"]]
	if w == nil {
		return nil, errUnknown(10015)
	}
	if w.Token != rq.params["webhook.token"] {
		return nil, codeError(http.StatusUnauthorized, 50027)
	}
	return w, nil
}

func (f *Fake) getWebhookWithToken(rq *request) (int, any, *apiError) {
	w, err := f.webhookByToken(rq)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, f.wireWebhook(w, false), nil
}

func (f *Fake) executeWebhook(rq *request) (int, any, *apiError) {
	if rq.params["webhook.id"] == f.appID {
		return f.createFollowup(rq)
	}
	w, err := f.webhookByToken(rq)
	if err != nil {
		return 0, nil, err
	}
	c := f.channels[w.ChannelID]
	p, err := decodeChecked(rq, validateMessage)
	if err != nil {
		return 0, nil, err
	}
	if p.Username != "" {
		if err := validateName("username", p.Username); err != nil {
			return 0, nil, err
		}
	}
	target := c
	var newThread bool
	switch threadID := rq.query.Get("thread_id"); {
	case threadID != "":
		t := f.channels[threadID]
		if t == nil || !t.Type.IsThread() || t.ParentID != c.ID {
			return 0, nil, errUnknown(10003)
		}
		target = t
	case c.Type == ChannelForum:
		if p.ThreadName == "" {
			return 0, nil, errBadRequest(220001)
		}
		if err := validateThread(&threadPayload{Name: p.ThreadName}); err != nil {
			return 0, nil, err
		}
		newThread = true
	case p.ThreadName != "":
		return 0, nil, errBadRequest(220003)
	}
	if emptyMessage(p.content(), p.Embeds, p.Components, len(rq.files), p.StickerIDs, p.Poll) {
		return 0, nil, errBadRequest(50006)
	}
	name, avatar := w.Name, w.Avatar
	if p.Username != "" {
		name = p.Username
	}
	if p.AvatarURL != "" {
		avatar = avatarHash(p.AvatarURL)
	}
	m := &message{Message: Message{
		ID:              f.newID(),
		GuildID:         c.GuildID,
		Type:            MessageDefault,
		Author:          User{ID: w.ID, Username: name, Avatar: avatar, Bot: true},
		WebhookID:       w.ID,
		ApplicationID:   w.ApplicationID,
		AvatarURL:       p.AvatarURL,
		Content:         p.content(),
		Embeds:          normalizeEmbeds(p.Embeds),
		Components:      cloneComponents(p.Components),
		AllowedMentions: cloneAM(p.AllowedMentions),
		Flags:           p.Flags & creatableFlags,
		Timestamp:       f.now(),
	}}
	if newThread {
		// A forum post made by a webhook: the thread takes the message's ID.
		target = f.newThread(c, m.ID, p.ThreadName, ChannelPublicThread, w.ID, 0)
	}
	m.ChannelID = target.ID
	m.Attachments = f.makeAttachments(target.ID, rq.files)
	f.computeMentions(m, p.AllowedMentions, true)
	f.storeMessage(m)
	if newThread {
		f.dispatchThreadCreate(target)
	}
	f.dispatchMessage("MESSAGE_CREATE", m)
	if !queryBool(rq.query, "wait") {
		return http.StatusNoContent, nil, nil
	}
	return http.StatusOK, f.wireMessage(m, wireOpts{}), nil
}

// webhookMessage finds a message a webhook sent. Like Discord, it looks in the webhook's channel
// unless ?thread_id= names one of its threads: a message in a thread is 10008 without it.
func (f *Fake) webhookMessage(w *Webhook, rq *request) (*message, *apiError) {
	channelID := w.ChannelID
	if tid := rq.query.Get("thread_id"); tid != "" {
		t := f.channels[tid]
		if t == nil || !t.Type.IsThread() || t.ParentID != w.ChannelID {
			return nil, errUnknown(10003)
		}
		channelID = tid
	}
	m := f.messages[rq.params["message.id"]]
	if m == nil || m.Deleted || m.WebhookID != w.ID || m.ChannelID != channelID {
		return nil, errUnknown(10008)
	}
	return m, nil
}

// hookMessage is the message a webhook message route names: with the application's ID, an
// interaction's @original or follow-up (and the interaction); with a channel webhook's, one of
// its messages, checked against its token and the thread_id parameter (and no interaction).
func (f *Fake) hookMessage(rq *request) (*interaction, *message, *apiError) {
	if rq.params["webhook.id"] == f.appID {
		return f.interactionTarget(rq)
	}
	w, err := f.webhookByToken(rq)
	if err != nil {
		return nil, nil, err
	}
	m, err := f.webhookMessage(w, rq)
	return nil, m, err
}

func (f *Fake) getWebhookMessage(rq *request) (int, any, *apiError) {
	_, m, err := f.hookMessage(rq)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, f.wireMessage(m, wireOpts{}), nil
}

func (f *Fake) editWebhookMessage(rq *request) (int, any, *apiError) {
	in, m, err := f.hookMessage(rq)
	if err != nil {
		return 0, nil, err
	}
	if err := f.applyEdit(m, rq.body, rq.files, true); err != nil {
		return 0, nil, err
	}
	if in != nil && m.ID == in.originalID && in.loading {
		in.loading = false
		m.Edited = false // filling in a deferred response is not an edit
	}
	if !m.Ephemeral() {
		f.dispatchMessage("MESSAGE_UPDATE", m)
	}
	return http.StatusOK, f.wireMessage(m, wireOpts{}), nil
}

func (f *Fake) deleteWebhookMessage(rq *request) (int, any, *apiError) {
	_, m, err := f.hookMessage(rq)
	if err != nil {
		return 0, nil, err
	}
	m.Deleted = true
	if !m.Ephemeral() {
		f.dispatchMessageDelete(m)
	}
	return http.StatusNoContent, nil, nil
}
