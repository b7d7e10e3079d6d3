package bot

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// A person's Home: the page a platform shows each person on their own
// (Slack's App Home), with what waits for them — the items assigned to
// them, the drafts they may approve now, their own drafts and where each
// stands, their public profile — and a link to the dashboard. It is
// rendered whole from the database when its job runs, like a card: the
// job says only whose Home it is.
//
// A person's Home is published when they open it, and again, a moment
// later, when something it shows changes: one pending publication per
// person takes every change of a burst (its coalesce key). Only the people
// who opened their Home lately are kept up to date; the others get theirs
// when they open it again.

const (
	// homeListMax bounds each list of a Home, so that it stays well within
	// what a platform shows (Slack: 100 blocks a view).
	homeListMax = 10
	// homeReviewScan bounds the drafts looked at for the "to approve" list.
	homeReviewScan = 200
	// homeRecent: the Homes kept up to date are those opened within it.
	homeRecent = 30 * 24 * time.Hour
	// homeSettle is how long a refresh waits before it runs, so that the
	// changes of one burst (an approval, its publication, the item's
	// status) are published once.
	homeSettle = time.Second
	// homeSnippet bounds the quotes of a member's question or a draft.
	homeSnippet = 160
)

// HomeReplyTitle titles the small window that shows the answer to what a
// person did on their Home, where there is no channel to answer in.
const HomeReplyTitle = "Liaison"

// HomeView is what one person's Home shows, worded: adapters lay it out.
type HomeView struct {
	Title    string
	Intro    string
	Sections []HomeSection
}

// HomeSection is one part of a Home: a list, or a single entry.
type HomeSection struct {
	Title   string
	Empty   string // shown in place of the entries when there are none
	Entries []HomeEntry
	More    string // said after the entries when the list was cut
}

// HomeEntry is one thing a Home shows, with what can be done about it.
// Its texts are plain and safe; adapters escape them for their markup.
type HomeEntry struct {
	Title    string
	Lines    []string
	Links    []Link
	ImageURL string // an http(s) picture shown beside it (an avatar); "" for none
	ImageAlt string
	Actions  []Button
}

// HomeViewer is a person who opened their Home: on which connection, the
// groups the platform said they held then (for the approver checks of the
// refreshes that follow), and when.
type HomeViewer struct {
	Conn     string
	UserID   string
	Groups   []string
	OpenedAt time.Time
}

func (v *HomeViewer) actor() Actor {
	return Actor{Conn: v.Conn, UserID: v.UserID, Groups: v.Groups}
}

// hasHome reports whether people on conn have a Home: Slack's App Home.
func (s *Service) hasHome(conn string) bool { return s.kindOf(conn) == KindSlack }

// HomeOpened records that actor opened their Home and publishes it. A
// connection whose platform has no Home refuses.
func (s *Service) HomeOpened(ctx context.Context, actor Actor) error {
	actor = Request{Actor: actor}.storable().Actor
	switch {
	case actor.Conn == "" || actor.UserID == "":
		return Errorf(EINVALID, "A Home is opened by someone, on a connection.")
	case !s.hasHome(actor.Conn):
		return Errorf(EINVALID, "Connection %q has no Home to publish.", actor.Conn)
	}
	groups := make([]string, 0, len(actor.Groups))
	for _, g := range actor.Groups {
		if g = storable(g); g != "" && !slices.Contains(groups, g) {
			groups = append(groups, g)
		}
	}
	return s.inTx(ctx, func(tx Tx) error {
		v := &HomeViewer{Conn: actor.Conn, UserID: actor.UserID, Groups: groups, OpenedAt: s.Clock()}
		if err := tx.SaveHomeViewer(ctx, v); err != nil {
			return err
		}
		return s.enqueueHome(ctx, tx, v.Conn, v.UserID, time.Time{})
	})
}

// homeKey orders and coalesces the publications of one person's Home.
func homeKey(conn, userID string) string { return "home:" + conn + ":" + userID }

// enqueueHome enqueues the publication of a person's Home at at (zero:
// now), unless one is pending already: rendered when it runs, that one
// shows the latest state. An opening that finds a refresh pending is
// published with it, within homeSettle.
func (s *Service) enqueueHome(ctx context.Context, tx Tx, conn, userID string, at time.Time) error {
	key := homeKey(conn, userID)
	return s.enqueue(ctx, tx, &OutboxJob{Kind: OpPublishHome, Conn: conn, Payload: notePayload("", userID),
		OrderKey: key, CoalesceKey: key, RunAt: at})
}

// refreshHomes enqueues, a moment from now, the publication of the Homes a
// change concerns, among those opened lately: of the people profiles names,
// wherever they opened it, and of the approvers of rt (nil: none).
func (s *Service) refreshHomes(ctx context.Context, tx Tx, rt *Route, profiles ...int64) error {
	now := s.Clock()
	since, at := now.Add(-homeRecent), now.Add(homeSettle)
	seen := map[string]bool{}
	publish := func(v *HomeViewer) error {
		k := homeKey(v.Conn, v.UserID)
		if seen[k] || v.OpenedAt.Before(since) {
			return nil
		}
		seen[k] = true
		return s.enqueueHome(ctx, tx, v.Conn, v.UserID, at)
	}
	var done []int64
	for _, id := range profiles {
		if id == 0 || slices.Contains(done, id) {
			continue
		}
		done = append(done, id)
		p, err := tx.Profile(ctx, id)
		if errors.Is(err, ErrNotFound) {
			continue
		} else if err != nil {
			return err
		}
		for _, ident := range p.Identities {
			if !s.hasHome(ident.Conn) {
				continue
			}
			v, err := tx.HomeViewer(ctx, ident.Conn, ident.UserID)
			if errors.Is(err, ErrNotFound) {
				continue
			} else if err != nil {
				return err
			}
			if err := publish(v); err != nil {
				return err
			}
		}
	}
	if rt == nil || !s.hasHome(rt.DestConn) {
		return nil
	}
	viewers, err := tx.HomeViewers(ctx, rt.DestConn, since)
	if err != nil {
		return err
	}
	for _, v := range viewers {
		if IsApprover(rt, v.actor()) {
			if err := publish(v); err != nil {
				return err
			}
		}
	}
	return nil
}

// draftHomes refreshes the Homes that show a draft: its signer's, its
// proposer's, the item's assignee's, and its route's approvers'.
func (s *Service) draftHomes(ctx context.Context, tx Tx, it *Item, d *Draft) error {
	return s.refreshHomes(ctx, tx, s.Router.Route(it.Route), d.AuthorID, proposer(d), it.Assignee)
}

// homeOp renders the Home of a person who opened it on conn; skip when
// they never did.
func (s *Service) homeOp(ctx context.Context, tx Tx, conn, userID string) (*HomeView, string, error) {
	if userID == "" {
		return nil, "", Permanent(errors.New("a Home job without a user"))
	}
	v, err := tx.HomeViewer(ctx, conn, userID)
	if errors.Is(err, ErrNotFound) {
		return nil, "the person never opened their Home", nil
	} else if err != nil {
		return nil, "", err
	}
	h, err := s.home(ctx, tx, v.actor())
	return h, "", err
}

// home renders what actor's Home shows now. It only reads.
func (s *Service) home(ctx context.Context, tx Tx, actor Actor) (*HomeView, error) {
	me, err := profileOf(ctx, tx, actor)
	if err != nil {
		return nil, err
	}
	h := &HomeView{Title: "Liaison", Intro: "What waits for you in the community, and where your public replies stand."}
	assigned, err := s.homeAssigned(ctx, tx, actor, me)
	if err != nil {
		return nil, err
	}
	h.Sections = append(h.Sections, assigned)
	if routes := s.approvedRoutes(actor); len(routes) > 0 {
		review, err := s.homeToApprove(ctx, tx, actor, me, routes)
		if err != nil {
			return nil, err
		}
		h.Sections = append(h.Sections, review)
	}
	mine, err := s.homeDrafts(ctx, tx, actor, me)
	if err != nil {
		return nil, err
	}
	h.Sections = append(h.Sections, mine, s.homeProfile(me))
	if u := s.Settings.DashboardURL; u != "" {
		h.Sections = append(h.Sections, HomeSection{Title: "Dashboard", Entries: []HomeEntry{{
			Lines: []string{"The community's figures, live: items in, answers, response times, what waits. It asks for the dashboard's token the first time."},
			Links: []Link{{Text: "Open the dashboard", URL: u}},
		}}})
	}
	return h, nil
}

// more says how many entries of a list were left out.
func more(total, shown int, where string) string {
	if total <= shown {
		return ""
	}
	return fmt.Sprintf("…and %d more %s.", total-shown, where)
}

func (s *Service) homeAssigned(ctx context.Context, tx Tx, actor Actor, me *Profile) (HomeSection, error) {
	sec := HomeSection{Title: "Assigned to you", Empty: "Nothing is assigned to you. Claim an item on its card, or reply to it, and it shows here."}
	if me == nil {
		return sec, nil
	}
	items, total, err := tx.AssignedItems(ctx, me.ID, homeListMax)
	if err != nil {
		return sec, err
	}
	for _, it := range items {
		e, err := s.homeItem(ctx, tx, actor, it)
		if err != nil {
			return sec, err
		}
		sec.Entries = append(sec.Entries, e)
	}
	sec.More = more(total, len(items), "assigned to you: see their cards")
	return sec, nil
}

// itemTitle names an item as its card does.
func (s *Service) itemTitle(it *Item) string {
	return fmt.Sprintf("#%d · %s", it.ID, s.sourceName(it))
}

// question quotes the member's first message, as far as it may be shown.
func (s *Service) question(ctx context.Context, tx Tx, it *Item) (string, error) {
	root, err := tx.MessageByKey(ctx, MessageKey{Conn: it.Conn, Channel: rootChannel(it), ID: it.RootMsgID})
	if errors.Is(err, ErrNotFound) {
		return MemberName(it.AuthorName, it.AuthorHandle), nil
	} else if err != nil {
		return "", err
	}
	name, text := MemberName(it.AuthorName, it.AuthorHandle), s.erasedText(root)
	if root.ForgottenAt != nil {
		name = forgottenMember
	}
	if text == "" {
		text = snippet(root.Text, homeSnippet)
	}
	if text == "" {
		return name, nil
	}
	return name + ": “" + text + "”", nil
}

// snippet is the first line of text, sanitised, within limit characters.
func snippet(text string, limit int) string {
	line := strings.TrimSpace(firstLine(Sanitize(text)))
	if r := []rune(line); len(r) > limit {
		line = strings.TrimSpace(string(r[:limit-1])) + "…"
	}
	return line
}

func (s *Service) homeItem(ctx context.Context, tx Tx, actor Actor, it *Item) (HomeEntry, error) {
	q, err := s.question(ctx, tx, it)
	if err != nil {
		return HomeEntry{}, err
	}
	e := HomeEntry{Title: s.itemTitle(it), Lines: []string{q, it.Status.Label()}}
	if it.CardLink != "" {
		e.Links = append(e.Links, Link{Text: "Open the card", URL: it.CardLink})
	}
	if it.Link != "" {
		e.Links = append(e.Links, Link{Text: "View original", URL: it.Link})
	}
	if s.draftable(it, actor) == nil {
		e.Actions = append(e.Actions, button(ActReply, it.ID))
	}
	return e, nil
}

// homeToApprove lists the drafts actor may approve now, on the routes
// they approve: checked as the click will check them (mayApprove), so
// that a draft of their own is not offered unless the route allows it.
func (s *Service) homeToApprove(ctx context.Context, tx Tx, actor Actor, me *Profile, routes []Route) (HomeSection, error) {
	sec := HomeSection{Title: "Waiting for your approval", Empty: "No draft waits for your approval."}
	byName := map[string]*Route{}
	var names []string
	for i := range routes {
		byName[routes[i].Name] = &routes[i]
		names = append(names, routes[i].Name)
	}
	drafts, err := tx.DraftsToReview(ctx, names, homeReviewScan)
	if err != nil {
		return sec, err
	}
	signers := map[int64]*Profile{}
	total := 0
	for _, d := range drafts {
		it, err := tx.Item(ctx, d.ItemID)
		if err != nil {
			return sec, err
		}
		rt := byName[it.Route]
		if rt == nil {
			continue
		}
		signer, ok := signers[d.AuthorID]
		if !ok {
			if signer, err = tx.Profile(ctx, d.AuthorID); err != nil {
				return sec, err
			}
			signers[d.AuthorID] = signer
		}
		if mayApprove(rt, d, signer, me) != nil {
			continue
		}
		total++
		if len(sec.Entries) >= homeListMax {
			continue
		}
		q, err := s.question(ctx, tx, it)
		if err != nil {
			return sec, err
		}
		e := HomeEntry{Title: draftTitle(d), Lines: []string{
			fmt.Sprintf("By %s, on %s", staffName(signer), s.itemTitle(it)),
			"Answering " + q,
			"“" + snippet(d.Text(), homeSnippet) + "”",
		}}
		if d.State == DraftFailed {
			e.Lines = append(e.Lines, draftStateLabel(d, true, true))
		}
		if it.CardLink != "" {
			e.Links = append(e.Links, Link{Text: "Open the card", URL: it.CardLink})
		}
		for _, b := range draftButtons(d) {
			switch b.Action {
			case ActApprove, ActEditApprove, ActReject:
				e.Actions = append(e.Actions, b)
			}
		}
		sec.Entries = append(sec.Entries, e)
	}
	sec.More = more(total, len(sec.Entries), "waiting for your approval: see their cards")
	return sec, nil
}

// homeDrafts lists the drafts actor signs or proposed, newest first, and
// where each stands.
func (s *Service) homeDrafts(ctx context.Context, tx Tx, actor Actor, me *Profile) (HomeSection, error) {
	sec := HomeSection{Title: "Your drafts", Empty: "You have not written a public reply yet."}
	if me == nil {
		return sec, nil
	}
	drafts, total, err := tx.DraftsOf(ctx, me.ID, homeListMax)
	if err != nil {
		return sec, err
	}
	for _, d := range drafts {
		it, err := tx.Item(ctx, d.ItemID)
		if err != nil {
			return sec, err
		}
		e, err := s.homeDraft(ctx, tx, actor, me, it, d)
		if err != nil {
			return sec, err
		}
		sec.Entries = append(sec.Entries, e)
	}
	sec.More = more(total, len(drafts), "older ones: see their items' threads")
	return sec, nil
}

func (s *Service) homeDraft(ctx context.Context, tx Tx, actor Actor, me *Profile, it *Item, d *Draft) (HomeEntry, error) {
	signer := me
	if d.AuthorID != me.ID {
		var err error
		if signer, err = tx.Profile(ctx, d.AuthorID); err != nil {
			return HomeEntry{}, err
		}
	}
	review, err := needsReview(ctx, tx, s.Router.Route(it.Route), writer(d))
	if err != nil {
		return HomeEntry{}, err
	}
	state := draftStateLabel(d, review, !waitsForConsent(d, signer))
	switch {
	case d.State == DraftPending && waitsForConsent(d, signer) && signer.ID == me.ID:
		state = "⏳ Waiting for your public profile: set it up below"
	case d.State == DraftAwaitingSigner && signer.ID == me.ID:
		state = "✍️ Waiting for you to accept the words as they now are"
	case d.State == DraftAwaitingSigner:
		state = fmt.Sprintf("✍️ Waiting for %s to accept these words", staffName(signer))
	}
	e := HomeEntry{Title: draftTitle(d), Lines: []string{"On " + s.itemTitle(it), state}}
	if d.Kind != DraftRetraction {
		e.Lines = append(e.Lines, "“"+snippet(d.Text(), homeSnippet)+"”")
	}
	if d.State == DraftRejected && d.RejectReason != "" {
		e.Lines = append(e.Lines, "Reason: "+snippet(d.RejectReason, homeSnippet))
	}
	if d.PublicLink != "" && d.State == DraftPublished {
		e.Links = append(e.Links, Link{Text: "View the public post", URL: d.PublicLink})
	}
	if it.CardLink != "" {
		e.Links = append(e.Links, Link{Text: "Open the card", URL: it.CardLink})
	}
	// What the draft card offers its signer or proposer, as its run checks.
	if d.State == DraftAwaitingSigner && signer.ID == me.ID && actor.Conn == it.CardConn && me.Consented() {
		e.Actions = append(e.Actions, button(ActAccept, d.ID))
	}
	if d.State == DraftPending || d.State == DraftAwaitingSigner || d.State == DraftFailed {
		e.Actions = append(e.Actions, button(ActWithdraw, d.ID))
	}
	return e, nil
}

// homeProfile shows the public profile, with the button that edits it.
func (s *Service) homeProfile(me *Profile) HomeSection {
	sec := HomeSection{Title: "Your public profile"}
	edit := button(ActProfile, 0)
	if me == nil || me.Name == "" {
		edit.Label, edit.Style = "Set up your profile", StylePrimary
		sec.Entries = []HomeEntry{{
			Lines:   []string{"You have no public profile yet. Liaison publishes replies only under a real name you agreed to: set yours up before you write one."},
			Actions: []Button{edit},
		}}
		return sec
	}
	e := HomeEntry{Title: Sanitize(me.Name), Actions: []Button{edit}}
	if me.Title != "" {
		e.Lines = append(e.Lines, Sanitize(me.Title))
	}
	if me.Pronouns != "" {
		e.Lines = append(e.Lines, "Pronouns: "+Sanitize(me.Pronouns))
	}
	if me.Consented() {
		e.Lines = append(e.Lines, fmt.Sprintf("✅ You agreed to publish under this name: your replies are signed “%s”.", Sanitize(Username(me.Name, s.Settings.Company))))
	} else {
		e.Lines = append(e.Lines, "⚠️ You have not agreed to publish under this name: your drafts wait until you do.")
	}
	if u, err := url.Parse(me.AvatarURL); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
		e.ImageURL, e.ImageAlt = me.AvatarURL, Sanitize(me.Name)
	}
	return HomeSection{Title: sec.Title, Entries: []HomeEntry{e}}
}
