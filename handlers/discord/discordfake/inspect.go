package discordfake

import (
	"slices"
	"time"
)

// Messages returns the messages of a channel or thread as its members see them, oldest first,
// deleted ones included (Deleted set) and ephemeral ones left out (see Ephemerals).
func (f *Fake) Messages(channelID string) []Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Message
	for _, m := range f.channelMessages(channelID, func(m *message) bool { return !m.Ephemeral() }) {
		out = append(out, m.Message.clone())
	}
	return out
}

// MessageByID returns any message the fake holds, ephemeral and deleted ones included.
func (f *Fake) MessageByID(id string) (Message, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := f.messages[id]
	if m == nil {
		return Message{}, false
	}
	return m.Message.clone(), true
}

// Ephemerals returns the ephemeral messages only userID sees, oldest first.
func (f *Fake) Ephemerals(userID string) []Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Message
	for _, m := range f.messages {
		if m.Ephemeral() && m.VisibleTo == userID {
			out = append(out, m.Message.clone())
		}
	}
	slices.SortFunc(out, func(a, b Message) int { return compareSnowflakes(a.ID, b.ID) })
	return out
}

// InteractionResponses returns the callbacks the bot sent for an interaction (one at most:
// Discord accepts a single callback).
func (f *Fake) InteractionResponses(interactionID string) []InteractionResponse {
	f.mu.Lock()
	defer f.mu.Unlock()
	in := f.interactions[interactionID]
	if in == nil {
		return nil
	}
	out := make([]InteractionResponse, len(in.responses))
	for i, r := range in.responses {
		r.Embeds = slices.Clone(r.Embeds)
		r.Components = cloneComponents(r.Components)
		r.Body = slices.Clone(r.Body)
		out[i] = r
	}
	return out
}

// InteractionFailed reports whether an interaction went unanswered for InteractionDeadline: the
// person saw "This interaction failed", and any later answer is refused (10062).
func (f *Fake) InteractionFailed(interactionID string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	in := f.interactions[interactionID]
	return in != nil && f.expired(in)
}

// InteractionMessages returns the messages an interaction produced (its original response,
// then its follow-ups), ephemeral ones included.
func (f *Fake) InteractionMessages(interactionID string) []Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	in := f.interactions[interactionID]
	if in == nil {
		return nil
	}
	var out []Message
	for _, id := range append([]string{in.originalID}, in.followups...) {
		if m := f.messages[id]; m != nil {
			out = append(out, m.Message.clone())
		}
	}
	return out
}

// Calls returns the REST requests received so far, in order.
func (f *Fake) Calls() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Call, len(f.calls))
	for i, c := range f.calls {
		c.Body = slices.Clone(c.Body)
		out[i] = c
	}
	return out
}

// InvalidRequests counts the responses Discord counts toward its invalid-request block
// (Options.InvalidRequestLimit within Options.InvalidRequestWindow): 401, 403 and 429 (except
// 429s of scope "shared"), since the fake started. The answers of the block itself do not
// count.
func (f *Fake) InvalidRequests() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.invalid
}

// BlockedUntil is when the invalid-request block ends: until then every REST request is
// answered 429. The zero time when the client was never blocked.
func (f *Fake) BlockedUntil() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.blockedUntil
}

// RateLimited counts the REST requests answered 429: a route's or the global limit, an
// injected 429, or the invalid-request block.
func (f *Fake) RateLimited() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rateLimited
}

// Webhooks returns the webhooks of a channel, oldest first.
func (f *Fake) Webhooks(channelID string) []Webhook {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Webhook
	for _, id := range f.webhookOrder {
		if w := f.webhooks[id]; w != nil && w.ChannelID == channelID {
			out = append(out, *w)
		}
	}
	return out
}

// Commands returns the application commands registered for a guild ("" for global ones).
func (f *Fake) Commands(guildID string) []Command {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Command
	for _, c := range f.commands[guildID] {
		cc := c.Command
		cc.Options = slices.Clone(cc.Options)
		out = append(out, cc)
	}
	return out
}

// Channel returns a channel, thread or DM channel.
func (f *Fake) Channel(id string) (Channel, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.channels[id]
	if c == nil {
		return Channel{}, false
	}
	return c.Channel, true
}

// Threads returns the threads of a channel or forum, oldest first.
func (f *Fake) Threads(parentID string) []Channel {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Channel
	p := f.channels[parentID]
	if p == nil {
		return nil
	}
	g := f.guilds[p.GuildID]
	if g == nil {
		return nil
	}
	for _, id := range g.channelOrder {
		if c := f.channels[id]; c != nil && c.Type.IsThread() && c.ParentID == parentID {
			out = append(out, c.Channel)
		}
	}
	return out
}

// Guilds returns the guilds with their channels (threads included), roles and members.
func (f *Fake) Guilds() []Guild {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Guild
	for _, gid := range f.guildOrder {
		g := f.guilds[gid]
		gg := Guild{ID: g.id, Name: g.name, OwnerID: g.ownerID, Roles: slices.Clone(g.roles)}
		for _, id := range g.channelOrder {
			gg.Channels = append(gg.Channels, f.channels[id].Channel)
		}
		for _, id := range g.memberOrder {
			m := *g.members[id]
			m.Roles = slices.Clone(m.Roles)
			gg.Members = append(gg.Members, m)
		}
		out = append(out, gg)
	}
	return out
}
