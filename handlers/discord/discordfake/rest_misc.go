package discordfake

import (
	"net/http"
	"slices"
	"strconv"
	"time"
)

func (f *Fake) getGateway(*request) (int, any, *apiError) {
	return http.StatusOK, obj{"url": f.GatewayURL()}, nil
}

func (f *Fake) getGatewayBot(*request) (int, any, *apiError) {
	return http.StatusOK, obj{
		"url":    f.GatewayURL(),
		"shards": 1,
		"session_start_limit": obj{
			"total":           1000,
			"remaining":       max(0, 1000-f.sessionStarts),
			"reset_after":     86400000,
			"max_concurrency": 1,
		},
	}, nil
}

func (f *Fake) getMe(*request) (int, any, *apiError) {
	u := wireUser(f.bot)
	u["verified"] = true
	u["mfa_enabled"] = false
	u["locale"] = "en-US"
	u["email"] = nil
	u["bio"] = ""
	return http.StatusOK, u, nil
}

func (f *Fake) getUser(rq *request) (int, any, *apiError) {
	u := f.users[rq.params["user.id"]]
	if u == nil {
		return 0, nil, errUnknown(10013)
	}
	return http.StatusOK, wireUser(*u), nil
}

// dmChannelLocked returns the DM channel between the bot and a user, creating it. Callers hold
// f.mu.
func (f *Fake) dmChannelLocked(userID string) *channelState {
	if id, ok := f.dms[userID]; ok {
		return f.channels[id]
	}
	c := &channelState{Channel: Channel{ID: f.newID(), Type: ChannelDM}, createdAt: f.now(), recipient: userID}
	f.channels[c.ID] = c
	f.dms[userID] = c.ID
	return c
}

func (f *Fake) createDM(rq *request) (int, any, *apiError) {
	var p struct {
		RecipientID string `json:"recipient_id"`
	}
	if err := rq.decode(&p); err != nil {
		return 0, nil, err
	}
	u := f.users[p.RecipientID]
	if u == nil || u.ID == f.bot.ID {
		return 0, nil, formError("recipient_id", "USER_UNKNOWN", "Unknown user")
	}
	return http.StatusOK, f.wireChannel(f.dmChannelLocked(u.ID)), nil
}

func (f *Fake) guildFor(rq *request) (*guildState, *apiError) {
	g := f.guilds[rq.params["guild.id"]]
	if g == nil {
		return nil, errUnknown(10004)
	}
	return g, nil
}

func (f *Fake) getGuild(rq *request) (int, any, *apiError) {
	g, err := f.guildFor(rq)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, f.wireGuild(g, false, false), nil
}

func (f *Fake) getGuildChannels(rq *request) (int, any, *apiError) {
	g, err := f.guildFor(rq)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, f.wireChannels(g, func(c *channelState) bool { return !c.Type.IsThread() }), nil
}

func (f *Fake) getGuildRoles(rq *request) (int, any, *apiError) {
	g, err := f.guildFor(rq)
	if err != nil {
		return 0, nil, err
	}
	out := make([]obj, 0, len(g.roles))
	for i, r := range g.roles {
		out = append(out, wireRole(r, i))
	}
	return http.StatusOK, out, nil
}

func (f *Fake) getGuildMember(rq *request) (int, any, *apiError) {
	g, err := f.guildFor(rq)
	if err != nil {
		return 0, nil, err
	}
	m := g.members[rq.params["user.id"]]
	if m == nil {
		return 0, nil, errUnknown(10007)
	}
	return http.StatusOK, wireMember(m, true), nil
}

// listGuildMembers needs the GUILD_MEMBERS privileged intent to be approved for the app.
func (f *Fake) listGuildMembers(rq *request) (int, any, *apiError) {
	g, err := f.guildFor(rq)
	if err != nil {
		return 0, nil, err
	}
	if f.opts.UnapprovedIntents&IntentGuildMembers != 0 {
		return 0, nil, errMissingAccess()
	}
	limit := 1
	if s := rq.query.Get("limit"); s != "" {
		n, perr := strconv.Atoi(s)
		if perr != nil || n < 1 || n > 1000 {
			return 0, nil, formError("limit", "NUMBER_TYPE_MAX", "int value should be between 1 and 1000.")
		}
		limit = n
	}
	after := rq.query.Get("after")
	out := []obj{}
	for _, id := range g.memberOrder {
		if after != "" && !snowflakeLess(after, id) {
			continue
		}
		if len(out) == limit {
			break
		}
		out = append(out, wireMember(g.members[id], true))
	}
	return http.StatusOK, out, nil
}

func (f *Fake) getActiveThreads(rq *request) (int, any, *apiError) {
	g, err := f.guildFor(rq)
	if err != nil {
		return 0, nil, err
	}
	threads := f.wireChannels(g, func(c *channelState) bool { return c.Type.IsThread() && !c.archived })
	return http.StatusOK, obj{"threads": threads, "members": []any{}}, nil
}

// listArchivedThreads lists a channel's public archived threads, most recently archived
// first, archived before the before timestamp (ISO8601), up to limit (1 to 100, default 50).
// Discord requires READ_MESSAGE_HISTORY.
func (f *Fake) listArchivedThreads(rq *request) (int, any, *apiError) {
	c, err := f.visibleChannel(rq)
	if err != nil {
		return 0, nil, err
	}
	switch c.Type {
	case ChannelText, ChannelAnnouncement, ChannelForum:
	default:
		return 0, nil, errBadRequest(50024)
	}
	if err := f.require(c, PermReadMessageHistory); err != nil {
		return 0, nil, err
	}
	before := f.now()
	if s := rq.query.Get("before"); s != "" {
		t, perr := time.Parse(time.RFC3339Nano, s)
		if perr != nil {
			return 0, nil, formError("before", "DATE_TIME_TYPE_PARSE", "Could not parse "+s+". Should be ISO8601.")
		}
		before = t
	}
	limit, err := listLimit(rq)
	if err != nil {
		return 0, nil, err
	}
	var ths []*channelState
	for _, t := range f.channels {
		public := t.Type == ChannelPublicThread || t.Type == ChannelAnnouncementThread
		if public && t.ParentID == c.ID && t.archived && t.archivedAt.Before(before) {
			ths = append(ths, t)
		}
	}
	slices.SortFunc(ths, func(a, b *channelState) int {
		if d := b.archivedAt.Compare(a.archivedAt); d != 0 {
			return d
		}
		return compareSnowflakes(b.ID, a.ID)
	})
	more := len(ths) > limit
	ths = ths[:min(limit, len(ths))]
	out := make([]obj, 0, len(ths))
	for _, t := range ths {
		out = append(out, f.wireChannel(t))
	}
	return http.StatusOK, obj{"threads": out, "members": []any{}, "has_more": more}, nil
}

// wireChannels lists the guild's channels that keep selects, in the order they were made, as
// the API shows them. Callers hold f.mu.
func (f *Fake) wireChannels(g *guildState, keep func(*channelState) bool) []obj {
	out := []obj{}
	for _, id := range g.channelOrder {
		if c := f.channels[id]; c != nil && keep(c) {
			out = append(out, f.wireChannel(c))
		}
	}
	return out
}
