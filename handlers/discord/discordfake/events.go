package discordfake

// Dispatches, with the intent each one needs
// (https://discord.com/developers/docs/events/gateway#list-of-intents).

// wantsMessage reports whether a session receives MESSAGE_* events for m.
func wantsMessage(s *gwSession, m *message) bool {
	if m.Ephemeral() {
		return false
	}
	if m.GuildID == "" {
		return s.intents&IntentDirectMessages != 0
	}
	return s.intents&IntentGuildMessages != 0
}

// dispatchMessage sends MESSAGE_CREATE or MESSAGE_UPDATE (a full message, as Discord now
// sends). Callers hold f.mu.
func (f *Fake) dispatchMessage(t string, m *message) {
	f.broadcast(t, func(s *gwSession) (any, bool) {
		if !wantsMessage(s, m) {
			return nil, false
		}
		return f.wireMessage(m, wireOpts{gateway: true, blank: s.intents&IntentMessageContent == 0}), true
	})
	f.notifyLocked()
}

// dispatchMessageDelete sends MESSAGE_DELETE. Callers hold f.mu.
func (f *Fake) dispatchMessageDelete(m *message) {
	f.broadcast("MESSAGE_DELETE", func(s *gwSession) (any, bool) {
		if !wantsMessage(s, m) {
			return nil, false
		}
		d := obj{"id": m.ID, "channel_id": m.ChannelID}
		if m.GuildID != "" {
			d["guild_id"] = m.GuildID
		}
		return d, true
	})
	f.notifyLocked()
}

// dispatchThreadCreate sends THREAD_CREATE for a new thread. Callers hold f.mu.
func (f *Fake) dispatchThreadCreate(t *channelState) {
	f.broadcast("THREAD_CREATE", func(s *gwSession) (any, bool) {
		if s.intents&IntentGuilds == 0 {
			return nil, false
		}
		d := f.wireChannel(t)
		d["newly_created"] = true
		return d, true
	})
	f.notifyLocked()
}

// dispatchInteraction sends INTERACTION_CREATE, which needs no intent. Callers hold f.mu.
func (f *Fake) dispatchInteraction(in *interaction, data obj) {
	payload := f.wireInteraction(in, data)
	f.broadcast("INTERACTION_CREATE", func(*gwSession) (any, bool) { return payload, true })
	f.notifyLocked()
}

// dispatchWebhooksUpdate sends WEBHOOKS_UPDATE. Callers hold f.mu.
func (f *Fake) dispatchWebhooksUpdate(guildID, channelID string) {
	f.broadcast("WEBHOOKS_UPDATE", func(s *gwSession) (any, bool) {
		if s.intents&IntentGuildWebhooks == 0 {
			return nil, false
		}
		return obj{"guild_id": guildID, "channel_id": channelID}, true
	})
}

// dispatchThreadUpdate sends THREAD_UPDATE for a thread whose metadata changed. Callers hold
// f.mu.
func (f *Fake) dispatchThreadUpdate(t *channelState) {
	f.broadcast("THREAD_UPDATE", func(s *gwSession) (any, bool) {
		if s.intents&IntentGuilds == 0 {
			return nil, false
		}
		return f.wireChannel(t), true
	})
	f.notifyLocked()
}
