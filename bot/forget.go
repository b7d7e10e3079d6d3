package bot

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Forgetting a member, at their request: what they wrote (text and
// attachments) and their names are erased from every message they wrote on
// the connection and from the items they opened, and the internal copies
// Liaison posted (cards, mirrored follow-ups, draft cards) are rendered
// again without them. The rows stay, with their ids, times and statuses,
// so that statistics and the audit still add up; the messages are marked
// forgotten, so that a later edit of one brings nothing back.
//
// Who may: an approver of the route of one of the member's items, since a
// member's request reaches the team that handles their questions. A
// member with no item on a route of the config (only unrouted messages, or
// items of a route since removed) may be forgotten by an approver of any
// route.

// Wording of what forgetting and retention leave in the internal copies.
const (
	forgottenMember = "A community member"
	textForgotten   = "The text was removed at the member's request."
	textPurged      = "The text was removed after the retention period."
)

// ErrNotForgetter refuses to forget a member on behalf of someone who is
// not an approver of one of the member's routes.
var ErrNotForgetter = &Error{Code: EUNAUTHORIZED, Message: "Sorry, only an approver of a route this member's items are on can forget them."}

// ErrUnknownMember: Liaison holds nothing from the member named.
var ErrUnknownMember = &Error{Code: ENOTFOUND, Message: "Liaison holds no message from that member."}

// MemberRef names a community member: the author of an item, on the item's
// public connection, or a platform identity.
type MemberRef struct {
	ItemID   int64  // "#42": the author of item 42
	Conn     string // or: the public connection
	AuthorID string // and the member's user id on it
}

// ParseMemberRef reads how staff name a member: "#42" (or "42"), the
// author of item 42, or "connection:user-id".
func ParseMemberRef(s string) (MemberRef, error) {
	s = strings.TrimSpace(s)
	if n := strings.TrimPrefix(s, "#"); n != "" {
		if id, err := strconv.ParseInt(n, 10, 64); err == nil && id > 0 {
			return MemberRef{ItemID: id}, nil
		}
	}
	conn, id, ok := strings.Cut(s, ":")
	conn, id = strings.TrimSpace(conn), strings.TrimSpace(id)
	if ok && conn != "" && id != "" && !strings.ContainsAny(id, " :") {
		return MemberRef{Conn: conn, AuthorID: id}, nil
	}
	return MemberRef{}, Errorf(EINVALID, "Name the member by one of their items (#42) or as connection:user-id (community:111111111111111111).")
}

// ForgetResult says what forgetting a member did.
type ForgetResult struct {
	Conn     string
	AuthorID string
	Items    int // the items they opened: kept and counted, their names erased
	Messages int // messages whose text and names were erased now
	Copies   int // internal copies (cards, notes, draft cards) being updated
	// Before: when they were forgotten earlier, if they were.
	Before *time.Time
}

// Text is the reply to whoever asked.
func (r ForgetResult) Text() string {
	if r.Messages == 0 {
		return fmt.Sprintf("That member was already forgotten (%s): Liaison holds nothing more they wrote.", r.Before.UTC().Format("2 Jan 2006"))
	}
	text := fmt.Sprintf("Forgotten: what they wrote and their name were erased from %s, and %s posted internally %s being updated to match.",
		quantity(r.Messages, "message", "messages"), quantity(r.Copies, "copy", "copies"), oneOrMany(r.Copies, "is", "are"))
	if r.Items > 0 {
		text += fmt.Sprintf(" The %s they opened %s kept without their words, so the statistics still count %s.",
			quantity(r.Items, "item", "items"), oneOrMany(r.Items, "is", "are"), oneOrMany(r.Items, "it", "them"))
	}
	return text
}

func quantity(n int, one, many string) string {
	return fmt.Sprintf("%d %s", n, oneOrMany(n, one, many))
}

func oneOrMany(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Forget erases what a community member wrote and their names, in one
// transaction with the updates of the internal copies and the audit event
// (which holds counts, never text). Someone who may not gets a refusal
// matching ErrNotForgetter and nothing changes.
func (s *Service) Forget(ctx context.Context, actor Actor, ref MemberRef) (ForgetResult, error) {
	if len(s.approvedRoutes(actor)) == 0 {
		return ForgetResult{}, ErrNotForgetter
	}
	var res ForgetResult
	err := s.inTx(ctx, func(tx Tx) error {
		res = ForgetResult{}
		conn, authorID, err := s.member(ctx, tx, ref)
		if err != nil {
			return err
		}
		res.Conn, res.AuthorID = conn, authorID
		items, err := tx.MemberItems(ctx, conn, authorID)
		if err != nil {
			return err
		}
		if !s.mayForget(actor, items) {
			return ErrNotForgetter
		}
		if res.Before, err = tx.MemberForgotten(ctx, conn, authorID); err != nil {
			return err
		}
		msgs, err := tx.ForgetMember(ctx, conn, authorID, actor.String(), s.Clock())
		if err != nil {
			return err
		}
		if len(msgs) == 0 && res.Before == nil {
			return ErrUnknownMember
		}
		res.Items, res.Messages = len(items), len(msgs)
		if len(msgs) == 0 {
			return errNothingToForget
		}
		stale, err := s.copiesOf(ctx, tx, msgs)
		if err != nil {
			return err
		}
		if res.Copies, err = s.refresh(ctx, tx, stale); err != nil {
			return err
		}
		n, err := s.refreshDraftCards(ctx, tx, items)
		if err != nil {
			return err
		}
		res.Copies += n
		return s.audit(ctx, tx, actor.String(), "member.forget", "member:"+conn+":"+authorID, nil,
			map[string]any{"items": res.Items, "messages": res.Messages, "copies": res.Copies})
	})
	if errors.Is(err, errNothingToForget) {
		return res, nil // forgotten before: nothing was written
	}
	if err != nil {
		return ForgetResult{}, fmt.Errorf("forget a member: %w", err)
	}
	s.Log.Info("member forgotten", "conn", res.Conn, "actor", actor.String(), "items", res.Items, "messages", res.Messages, "copies", res.Copies)
	return res, nil
}

// errNothingToForget rolls back a forget that found everything forgotten
// already: it would only have moved the record's date.
var errNothingToForget = errors.New("nothing left to forget")

// member resolves ref into a public connection and a member's id there.
func (s *Service) member(ctx context.Context, tx Tx, ref MemberRef) (conn, authorID string, err error) {
	if ref.ItemID != 0 {
		it, err := tx.Item(ctx, ref.ItemID)
		if errors.Is(err, ErrNotFound) {
			return "", "", Errorf(ENOTFOUND, "There is no item #%d.", ref.ItemID)
		} else if err != nil {
			return "", "", err
		}
		return it.Conn, it.AuthorID, nil
	}
	conn, authorID = storable(strings.TrimSpace(ref.Conn)), storable(strings.TrimSpace(ref.AuthorID))
	if conn == "" || authorID == "" {
		return "", "", Errorf(EINVALID, "Name the member by one of their items (#42) or as connection:user-id.")
	}
	return conn, authorID, nil
}

// mayForget: whether actor approves the route of one of the member's items,
// or, for a member with no item on a route of the config, any route.
func (s *Service) mayForget(actor Actor, items []*Item) bool {
	routed := false
	for _, it := range items {
		rt := s.Router.Route(it.Route)
		if rt == nil {
			continue
		}
		routed = true
		if IsApprover(rt, actor) {
			return true
		}
	}
	return !routed && len(s.approvedRoutes(actor)) > 0
}

// copies are the internal copies Liaison posted that a change of stored
// messages makes stale: item cards (by item id) and follow-up notes.
type copies struct {
	roots []*Item         // items whose first message changed
	cards map[int64]*Item // cards to render again
	notes []*Message      // follow-ups whose note to render again
	items map[int64]*Item // read so far
}

// copiesOf finds the posted copies of msgs: the card of an item whose
// first message is among them, the note of a follow-up. Copies not posted
// yet need nothing: their jobs render the current state when they run.
func (s *Service) copiesOf(ctx context.Context, tx Tx, msgs []*Message) (*copies, error) {
	c := &copies{cards: map[int64]*Item{}, items: map[int64]*Item{}}
	for _, m := range msgs {
		if m.ItemID == 0 {
			continue // unrouted: never copied
		}
		it, ok := c.items[m.ItemID]
		if !ok {
			var err error
			if it, err = tx.Item(ctx, m.ItemID); err != nil {
				return nil, err
			}
			c.items[m.ItemID] = it
		}
		switch {
		case it.RootMsgID == m.Key.ID && rootChannel(it) == m.Key.Channel:
			c.roots = append(c.roots, it)
			if it.CardID != "" {
				c.cards[it.ID] = it
			}
		case m.MirrorID != "":
			c.notes = append(c.notes, m)
		}
	}
	return c, nil
}

// addHistories adds the cards whose member history shows one of the
// changed items: the next historyLimit items of the same member.
func (c *copies) addHistories(ctx context.Context, tx Tx) error {
	type member struct{ conn, id string }
	byMember := map[member][]*Item{}
	for _, root := range c.roots {
		k := member{root.Conn, root.AuthorID}
		items, ok := byMember[k]
		if !ok {
			var err error
			if items, err = tx.MemberItems(ctx, root.Conn, root.AuthorID); err != nil {
				return err
			}
			byMember[k] = items
		}
		shown := 0
		for _, it := range items { // in id order
			if it.ID <= root.ID {
				continue
			}
			if shown++; shown > historyLimit {
				break
			}
			if it.CardID != "" {
				c.cards[it.ID] = it
			}
		}
	}
	return nil
}

// refresh enqueues the update of every copy and reports how many.
func (s *Service) refresh(ctx context.Context, tx Tx, c *copies) (int, error) {
	ids := slices.Sorted(maps.Keys(c.cards))
	for _, id := range ids {
		if err := s.updateCard(ctx, tx, c.cards[id]); err != nil {
			return 0, err
		}
	}
	for _, m := range c.notes {
		it := c.items[m.ItemID]
		if err := s.enqueue(ctx, tx, &OutboxJob{Kind: OpUpdateNote, ItemID: it.ID, MessageID: m.ID, Conn: it.CardConn, Channel: it.CardChannel, CoalesceKey: fmt.Sprintf("note:%d", m.ID)}); err != nil {
			return 0, err
		}
	}
	return len(ids) + len(c.notes), nil
}

// refreshDraftCards enqueues the update of the posted draft cards of items,
// which name the member they answer.
func (s *Service) refreshDraftCards(ctx context.Context, tx Tx, items []*Item) (int, error) {
	n := 0
	for _, it := range items {
		drafts, err := tx.DraftsByItem(ctx, it.ID)
		if err != nil {
			return 0, err
		}
		for _, d := range drafts {
			if d.CardID == "" {
				continue
			}
			if err := s.updateDraftCard(ctx, tx, it, d); err != nil {
				return 0, err
			}
			n++
		}
	}
	return n, nil
}

// /liaison forget <member>: the command that runs Forget.

// ForgetMemberArg is the argument of /liaison forget.
const ForgetMemberArg = "member"

var forgetArgs = []CommandArg{
	{Name: ForgetMemberArg, Description: "One of their items (#42), or connection:user-id", Kind: ArgText, Required: true},
}

const forgetHelp = "erase what a community member wrote, and their name, at their request: name them by one of their items (`#42`) or as `connection:user-id`; the internal copies say the text was removed, the counts remain (approvers only)"

func (s *Service) forgetRun(ctx context.Context, req Request) (string, error) {
	arg := strings.TrimSpace(req.Args[ForgetMemberArg])
	if arg == "" {
		cmd := "/" + CommandName + " " + string(ActForget)
		return "", Errorf(EINVALID, "Name the member to forget: `%s #42` (the author of item 42) or `%s connection:user-id`.", cmd, cmd)
	}
	ref, err := ParseMemberRef(arg)
	if err != nil {
		return "", err
	}
	res, err := s.Forget(ctx, req.Actor, ref)
	if err != nil {
		return "", err
	}
	return res.Text(), nil
}
