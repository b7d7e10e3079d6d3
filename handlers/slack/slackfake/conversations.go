package slackfake

import (
	"encoding/base64"
	"slices"
	"strconv"
	"strings"
)

// channelNeedingLocked finds a channel the bot has a scope on: channels:
// and need on a public channel, groups: and need on a private one.
func (f *Fake) channelNeedingLocked(ref, need string) (*channel, *apiError) {
	ch, err := f.channelLocked(ref)
	if err != nil {
		return nil, err
	}
	scope := "channels:" + need
	if ch.private {
		scope = "groups:" + need
	}
	if err := f.needScopeLocked(scope); err != nil {
		return nil, err
	}
	return ch, nil
}

// readableChannelLocked finds a channel whose history the bot may read.
func (f *Fake) readableChannelLocked(ref string) (*channel, *apiError) {
	ch, err := f.channelNeedingLocked(ref, "history")
	if err != nil {
		return nil, err
	}
	if !ch.members[f.opts.BotUserID] {
		return nil, refuse("not_in_channel")
	}
	return ch, nil
}

// pageSize is a method's page: the number of messages it answers when the
// call names no limit, and the most it answers whatever the limit.
type pageSize struct{ def, max int }

var (
	historyPage = pageSize{def: 100, max: 999}   // conversations.history: default 100, "maximum of 999"
	repliesPage = pageSize{def: 1000, max: 1000} // conversations.replies: default 1000, up to 1000
)

// page selects messages between oldest and latest and cuts a page of them,
// following Slack's conversations.history/replies arguments: oldest and
// latest exclude a message at their very ts unless inclusive is set, a
// cursor continues where the last page stopped (with the same oldest and
// latest), limit is clamped to the method's maximum.
func page(r *apiRequest, list []*message, size pageSize) ([]*message, string, *apiError) {
	oldest, latest := r.get("oldest"), r.get("latest")
	inclusive := r.bool("inclusive")
	var kept []*message
	for _, m := range list {
		if oldest != "" && (tsCompare(m.TS, oldest) < 0 || (!inclusive && tsCompare(m.TS, oldest) == 0)) {
			continue
		}
		if latest != "" && (tsCompare(m.TS, latest) > 0 || (!inclusive && tsCompare(m.TS, latest) == 0)) {
			continue
		}
		kept = append(kept, m)
	}
	start := 0
	if cursor := r.get("cursor"); cursor != "" {
		raw, err := base64.StdEncoding.DecodeString(cursor)
		ts, ok := strings.CutPrefix(string(raw), "next_ts:")
		if err != nil || !ok {
			return nil, "", refuse("invalid_cursor")
		}
		start = slices.IndexFunc(kept, func(m *message) bool { return m.TS == ts })
		if start < 0 {
			return nil, "", refuse("invalid_cursor")
		}
	}
	limit := size.def
	if s := r.get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return nil, "", refuse("invalid_limit")
		}
		if n > 0 {
			limit = min(n, size.max)
		}
	}
	end := min(start+limit, len(kept))
	next := ""
	if end < len(kept) {
		next = base64.StdEncoding.EncodeToString([]byte("next_ts:" + kept[end].TS))
	}
	return kept[start:end], next, nil
}

// tsCompare compares two Slack timestamps ("seconds.micros", or a bare or
// shorter Unix time as oldest and latest may be) exactly: -1, 0 or +1.
func tsCompare(a, b string) int {
	x, y := tsMicros(a), tsMicros(b)
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// tsMicros reads a timestamp as microseconds; what does not read is 0.
func tsMicros(ts string) int64 {
	sec, frac, _ := strings.Cut(ts, ".")
	s, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		return 0
	}
	frac = (frac + "000000")[:6]
	us, err := strconv.ParseInt(frac, 10, 64)
	if err != nil {
		return 0
	}
	return s*1e6 + us
}

func (f *Fake) conversationsHistory(r *apiRequest) (object, *apiError) {
	ch, err := f.readableChannelLocked(r.get("channel"))
	if err != nil {
		return nil, err
	}
	var list []*message
	for i := len(ch.messages) - 1; i >= 0; i-- { // newest first
		m := ch.messages[i]
		if m.Deleted || (m.ThreadTS != "" && m.ThreadTS != m.TS && m.Subtype != "thread_broadcast") {
			continue
		}
		list = append(list, m)
	}
	msgs, next, err := page(r, list, historyPage)
	if err != nil {
		return nil, err
	}
	return f.messagesAnswerLocked(ch, r, msgs, next), nil
}

func (f *Fake) conversationsReplies(r *apiRequest) (object, *apiError) {
	ch, m, err := f.requestedMessageLocked(r, f.readableChannelLocked, "ts", "thread_not_found")
	if err != nil {
		return nil, err
	}
	root := m.TS
	if m.ThreadTS != "" {
		root = m.ThreadTS
	}
	list := []*message{ch.byTS[root]}
	list = append(list, ch.replies(root)...) // oldest first, the parent first of all
	msgs, next, err := page(r, list, repliesPage)
	if err != nil {
		return nil, err
	}
	return f.messagesAnswerLocked(ch, r, msgs, next), nil
}

func (f *Fake) messagesAnswerLocked(ch *channel, r *apiRequest, msgs []*message, next string) object {
	o := wireOptions{metadata: r.bool("include_all_metadata"), thread: true}
	out := make([]object, len(msgs))
	for i, m := range msgs {
		out[i] = f.wireLocked(ch, m, o)
	}
	return object{
		"messages":              out,
		"has_more":              next != "",
		"pin_count":             0,
		"channel_actions_ts":    nil,
		"channel_actions_count": 0,
		"response_metadata":     object{"next_cursor": next},
	}
}

func (f *Fake) conversationsInfo(r *apiRequest) (object, *apiError) {
	ch, err := f.channelNeedingLocked(r.get("channel"), "read")
	if err != nil {
		return nil, err
	}
	return object{"channel": f.channelInfoLocked(ch, r.bool("include_num_members"))}, nil
}

func (f *Fake) channelInfoLocked(ch *channel, numMembers bool) object {
	info := object{
		"id":                    ch.id,
		"name":                  ch.name,
		"is_channel":            !ch.private,
		"is_group":              false,
		"is_im":                 false,
		"is_mpim":               false,
		"is_private":            ch.private,
		"created":               ch.created,
		"is_archived":           ch.archived,
		"is_general":            ch.name == "general",
		"unlinked":              0,
		"name_normalized":       ch.name,
		"is_shared":             false,
		"is_org_shared":         false,
		"is_pending_ext_shared": false,
		"pending_shared":        []string{},
		"context_team_id":       f.opts.TeamID,
		"updated":               ch.created * 1000,
		"parent_conversation":   nil,
		"creator":               "",
		"is_ext_shared":         false,
		"shared_team_ids":       []string{f.opts.TeamID},
		"is_member":             ch.members[f.opts.BotUserID],
		"topic":                 object{"value": "", "creator": "", "last_set": 0},
		"purpose":               object{"value": "", "creator": "", "last_set": 0},
		"previous_names":        []string{},
	}
	if numMembers {
		info["num_members"] = len(ch.members)
	}
	return info
}

func (f *Fake) conversationsJoin(r *apiRequest) (object, *apiError) {
	ch, err := f.channelLocked(r.get("channel"))
	if err != nil {
		return nil, err
	}
	if ch.private {
		return nil, refuse("method_not_supported_for_channel_type")
	}
	answer := object{}
	if ch.members[f.opts.BotUserID] {
		answer["warning"] = "already_in_channel"
		answer["response_metadata"] = object{"warnings": []string{"already_in_channel"}}
	} else {
		f.joinLocked(ch, f.opts.BotUserID)
	}
	answer["channel"] = f.channelInfoLocked(ch, false)
	return answer, nil
}

// joinLocked adds a member and posts the channel_join message Slack shows.
func (f *Fake) joinLocked(ch *channel, userID string) {
	ch.members[userID] = true
	m := &message{}
	m.Channel = ch.id
	m.TS = f.tsLocked()
	m.User = userID
	m.Subtype = "channel_join"
	m.Text = "<@" + userID + "> has joined the channel"
	ch.add(m)
	f.emitLocked(ch, f.wireLocked(ch, m, wireOptions{event: true}))
}

func (f *Fake) usersInfo(r *apiRequest) (object, *apiError) {
	u := f.users[r.get("user")]
	if u == nil {
		return nil, refuse("user_not_found")
	}
	return object{"user": f.wireUser(u)}, nil
}

// wireUser renders a user as users.info does.
func (f *Fake) wireUser(u *User) object {
	profile := object{
		"title":                   u.Title,
		"phone":                   "",
		"skype":                   "",
		"real_name":               u.RealName,
		"real_name_normalized":    u.RealName,
		"display_name":            u.DisplayName,
		"display_name_normalized": u.DisplayName,
		"fields":                  nil,
		"status_text":             "",
		"status_emoji":            "",
		"status_expiration":       0,
		"avatar_hash":             "g" + strings.ToLower(u.ID),
		"first_name":              firstWord(u.RealName),
		"last_name":               strings.TrimSpace(strings.TrimPrefix(u.RealName, firstWord(u.RealName))),
		"status_text_canonical":   "",
		"team":                    f.opts.TeamID,
	}
	for _, size := range []string{"24", "32", "48", "72", "192", "512"} {
		profile["image_"+size] = u.AvatarURL
	}
	if u.ID == f.opts.BotUserID {
		profile["bot_id"] = f.opts.BotID
		profile["api_app_id"] = f.opts.AppID
		profile["always_active"] = true
	}
	return object{
		"id":                  u.ID,
		"team_id":             f.opts.TeamID,
		"name":                u.Name,
		"deleted":             false,
		"color":               "9f69e7",
		"real_name":           u.RealName,
		"tz":                  "Europe/Paris",
		"tz_label":            "Central European Time",
		"tz_offset":           3600,
		"profile":             profile,
		"is_admin":            false,
		"is_owner":            false,
		"is_primary_owner":    false,
		"is_restricted":       false,
		"is_ultra_restricted": false,
		"is_bot":              u.IsBot,
		"is_app_user":         false,
		"updated":             f.now().Unix(),
		"is_email_confirmed":  !u.IsBot,
	}
}

func firstWord(s string) string {
	first, _, _ := strings.Cut(strings.TrimSpace(s), " ")
	return first
}

func (f *Fake) usergroupsUsersList(r *apiRequest) (object, *apiError) {
	g := f.groups[r.get("usergroup")]
	if g == nil {
		return nil, refuse("no_such_subteam")
	}
	return object{"users": slices.Clone(g.Users)}, nil
}

func (f *Fake) reactionsAdd(r *apiRequest) (object, *apiError) {
	ch, err := f.channelLocked(r.get("channel"))
	if err != nil {
		return nil, err
	}
	name := strings.Trim(r.get("name"), ":")
	if name == "" {
		return nil, refuse("invalid_name")
	}
	m := ch.byTS[r.get("timestamp")]
	if m == nil || m.Deleted {
		return nil, refuse("message_not_found")
	}
	for i, re := range m.Reactions {
		if re.Name != name {
			continue
		}
		if slices.Contains(re.Users, f.opts.BotUserID) {
			return nil, refuse("already_reacted")
		}
		m.Reactions[i].Users = append(re.Users, f.opts.BotUserID)
		return object{}, nil
	}
	m.Reactions = append(m.Reactions, Reaction{Name: name, Users: []string{f.opts.BotUserID}})
	return object{}, nil
}
