package discordfake

import (
	"encoding/json"
	"net/http"
	"slices"
	"time"
)

// Interaction timing, as Discord documents it.
const (
	InteractionDeadline = 3 * time.Second  // to send the initial callback
	InteractionTokenTTL = 15 * time.Minute // for follow-ups and @original
)

func errInteractionTypeInvalid() *apiError {
	return formError("type", "INTERACTION_RESPONSE_TYPE_INVALID", "Interaction response type is not valid for this interaction")
}

func (f *Fake) interactionCallback(rq *request) (int, any, *apiError) {
	in := f.interactions[rq.params["interaction.id"]]
	if in == nil || in.token != rq.params["interaction.token"] {
		return 0, nil, errUnknown(10062)
	}
	if in.acked {
		return 0, nil, errBadRequest(40060)
	}
	if f.expired(in) {
		return 0, nil, errUnknown(10062)
	}
	var resp struct {
		Type int             `json:"type"`
		Data json.RawMessage `json:"data"`
	}
	if err := rq.decode(&resp); err != nil {
		return 0, nil, err
	}
	var p msgPayload
	if present(resp.Data) {
		if err := (&request{body: resp.Data}).decode(&p); err != nil {
			return 0, nil, err
		}
	}
	rec := InteractionResponse{Type: resp.Type, Content: p.content(), Flags: p.Flags, Embeds: normalizeEmbeds(p.Embeds),
		Components: cloneComponents(p.Components), At: f.now(), Body: slices.Clone(json.RawMessage(rq.body))}
	var msg *message
	switch resp.Type {
	case 4:
		if err := validateMessage(&p); err != nil {
			return 0, nil, err
		}
		if emptyMessage(p.content(), p.Embeds, p.Components, len(rq.files), p.StickerIDs, p.Poll) {
			return 0, nil, errBadRequest(50006)
		}
		msg = f.interactionMessage(in, &p, rq.files, false)
	case 5:
		msg = f.interactionMessage(in, &p, nil, true)
	case 6, 7:
		if in.typ != 3 && !(in.typ == 5 && in.fromComponent) {
			return 0, nil, errInteractionTypeInvalid()
		}
		target := f.messages[in.messageID]
		if target == nil || target.Deleted {
			return 0, nil, errUnknown(10008)
		}
		if resp.Type == 7 {
			if !present(resp.Data) {
				return 0, nil, formError("data", "BASE_TYPE_REQUIRED", "This field is required")
			}
			if err := f.applyEdit(target, resp.Data, rq.files, true); err != nil {
				return 0, nil, err
			}
			f.dispatchMessage("MESSAGE_UPDATE", target)
		}
		in.originalID = target.ID
		msg = target
	case 9:
		if in.typ == 5 {
			return 0, nil, errInteractionTypeInvalid()
		}
		if err := validateModal(&p); err != nil {
			return 0, nil, err
		}
		rec.CustomID, rec.Title = p.CustomID, p.Title
		f.modals = append(f.modals, &pendingModal{userID: in.userID, channelID: in.channelID, customID: p.CustomID,
			title: p.Title, components: cloneComponents(p.Components), source: in})
	default:
		return 0, nil, errInteractionTypeInvalid()
	}
	in.acked = true
	in.responses = append(in.responses, rec)
	f.notifyLocked()
	if !queryBool(rq.query, "with_response") {
		return http.StatusNoContent, nil, nil
	}
	out := obj{"interaction": obj{"id": in.id, "type": in.typ, "activity_instance_id": nil}}
	if msg != nil {
		out["interaction"].(obj)["response_message_id"] = msg.ID
		out["interaction"].(obj)["response_message_loading"] = msg.Flags&FlagLoading != 0
		out["interaction"].(obj)["response_message_ephemeral"] = msg.Ephemeral()
		out["resource"] = obj{"type": resp.Type, "message": f.wireMessage(msg, wireOpts{})}
	} else {
		out["resource"] = obj{"type": resp.Type}
	}
	return http.StatusOK, out, nil
}

// expired reports whether an interaction went unanswered past InteractionDeadline, and records
// it as failed: Discord then shows the person that it failed, and refuses any answer with 10062.
// Callers hold f.mu.
func (f *Fake) expired(in *interaction) bool {
	if !in.acked && !in.failed && f.now().Sub(in.createdAt) > InteractionDeadline {
		in.failed = true
		f.notifyLocked()
	}
	return in.failed
}

// watchDeadline records an interaction as failed once its deadline passes unanswered, and
// wakes those waiting on Changes. Callers hold f.mu.
func (f *Fake) watchDeadline(in *interaction) {
	time.AfterFunc(InteractionDeadline+10*time.Millisecond, func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		if !f.closed {
			f.expired(in)
		}
	})
}

// interactionMessage creates the message a type 4 or 5 response (or a follow-up) makes: by the
// bot, with the app's webhook ID, ephemeral when flagged so. Callers hold f.mu.
func (f *Fake) interactionMessage(in *interaction, p *msgPayload, files []Attachment, loading bool) *message {
	typ := MessageDefault
	if in.typ == 2 {
		typ = MessageChatInputCommand
	}
	flags := p.Flags & (creatableFlags | FlagEphemeral)
	if loading {
		flags = p.Flags&FlagEphemeral | FlagLoading
	}
	c := f.channels[in.channelID]
	m := &message{Message: Message{
		ID:              f.newID(),
		ChannelID:       in.channelID,
		GuildID:         in.guildID,
		Type:            typ,
		Author:          f.bot,
		WebhookID:       f.appID,
		ApplicationID:   f.appID,
		Flags:           flags,
		Timestamp:       f.now(),
		InteractionID:   in.id,
		AllowedMentions: cloneAM(p.AllowedMentions),
	}, interaction: in}
	if !loading {
		m.Content = p.content()
		m.Embeds = normalizeEmbeds(p.Embeds)
		m.Components = cloneComponents(p.Components)
		m.Attachments = f.makeAttachments(in.channelID, files)
	}
	if m.Ephemeral() {
		m.VisibleTo = in.userID
	}
	canEveryone := c != nil && f.botPerms(c.ID)&PermMentionEveryone != 0
	f.computeMentions(m, p.AllowedMentions, canEveryone)
	f.storeMessage(m)
	if in.originalID == "" {
		in.originalID = m.ID
		in.loading = loading
	}
	if !m.Ephemeral() {
		f.dispatchMessage("MESSAGE_CREATE", m)
	}
	return m
}

// interactionByToken finds the interaction of a follow-up URL: 10015 for an unknown token, 50027
// once the token has expired.
func (f *Fake) interactionByToken(rq *request) (*interaction, *apiError) {
	in := f.byToken[rq.params["webhook.token"]]
	if in == nil {
		return nil, errUnknown(10015)
	}
	if f.now().Sub(in.createdAt) > InteractionTokenTTL {
		return nil, codeError(http.StatusUnauthorized, 50027)
	}
	return in, nil
}

func (f *Fake) createFollowup(rq *request) (int, any, *apiError) {
	in, err := f.interactionByToken(rq)
	if err != nil {
		return 0, nil, err
	}
	if !in.acked {
		return 0, nil, errUnknown(10015)
	}
	p, err := decodeChecked(rq, validateMessage)
	if err != nil {
		return 0, nil, err
	}
	if emptyMessage(p.content(), p.Embeds, p.Components, len(rq.files), p.StickerIDs, p.Poll) {
		return 0, nil, errBadRequest(50006)
	}
	var m *message
	if orig := f.messages[in.originalID]; in.loading && orig != nil && !orig.Deleted {
		// Discord: right after a type 5 defer, this endpoint edits the "thinking" message.
		if err := f.applyEdit(orig, rq.body, rq.files, true); err != nil {
			return 0, nil, err
		}
		orig.Edited = false
		in.loading = false
		m = orig
		if !m.Ephemeral() {
			f.dispatchMessage("MESSAGE_UPDATE", m)
		}
	} else {
		m = f.interactionMessage(in, p, rq.files, false)
		in.followups = append(in.followups, m.ID)
	}
	f.notifyLocked()
	if !queryBool(rq.query, "wait") {
		return http.StatusNoContent, nil, nil
	}
	return http.StatusOK, f.wireMessage(m, wireOpts{}), nil
}

// interactionTarget finds @original or a follow-up of the interaction in a URL.
func (f *Fake) interactionTarget(rq *request) (*interaction, *message, *apiError) {
	in, err := f.interactionByToken(rq)
	if err != nil {
		return nil, nil, err
	}
	id := rq.params["message.id"]
	if id == "@original" {
		id = in.originalID
	} else if id != in.originalID && !slices.Contains(in.followups, id) {
		return nil, nil, errUnknown(10008)
	}
	m := f.messages[id]
	if id == "" || m == nil || m.Deleted {
		return nil, nil, errUnknown(10008)
	}
	return in, m, nil
}
