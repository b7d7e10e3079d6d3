package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Settings are the deployment-wide choices the domain needs.
type Settings struct {
	Company         string
	ReplyPrefix     string // "!reply "
	MaxRelayChars   int    // relayed text longer than this is truncated
	KeepDeletedText bool   // the internal copy of a deleted message keeps its text
	AdminConn       string // where "no route" notices go; empty: nowhere
	AdminChannel    string
}

// maxDraftChars bounds a public reply (Discord's message limit, minus room
// for the mention and signature).
const maxDraftChars = 1800

// Service runs Liaison's flows. Adapters call it with platform events and
// user actions; every state change and the platform operations it causes are
// written in one transaction and carried out by the outbox Worker.
type Service struct {
	Store     Store
	Platforms map[string]Platform // by connection name
	Router    *Router
	Settings  Settings
	Clock     Clock
	Log       *slog.Logger
	Metrics   Metrics

	kick chan struct{}
}

// NewService returns a Service with defaults for anything left zero.
func NewService(store Store, platforms map[string]Platform, router *Router, settings Settings) *Service {
	if settings.ReplyPrefix == "" {
		settings.ReplyPrefix = "!reply "
	}
	if settings.MaxRelayChars <= 0 {
		settings.MaxRelayChars = 1500
	}
	if platforms == nil {
		platforms = map[string]Platform{}
	}
	return &Service{
		Store: store, Platforms: platforms, Router: router, Settings: settings,
		Clock: SystemClock, Log: slog.Default(), Metrics: noMetrics{}, kick: make(chan struct{}, 1),
	}
}

// Kicked is signalled after a transaction enqueued work, so a worker can
// run it at once instead of at its next poll.
func (s *Service) Kicked() <-chan struct{} { return s.kick }

func (s *Service) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

func (s *Service) kindOf(conn string) string {
	if p, ok := s.Platforms[conn]; ok {
		return p.Kind()
	}
	return ""
}

// inTx runs fn in a transaction and wakes the worker when it committed.
func (s *Service) inTx(ctx context.Context, fn func(Tx) error) error {
	if err := s.Store.InTx(ctx, fn); err != nil {
		return err
	}
	s.wake()
	return nil
}

// Actor is a staff member acting on the internal side, as the platform
// identified them: never a value carried in a button.
type Actor struct {
	Conn   string
	UserID string
	Name   string   // platform display name, used for a first profile
	Groups []string // Slack user-group ids or Discord role ids the user holds
}

func (a Actor) String() string { return a.Conn + ":" + a.UserID }

// Incoming is a public message as an adapter saw it.
type Incoming struct {
	Conn    string
	Channel string // where it was posted (a Discord thread is its own channel)
	ID      string
	// ParentChannel: for a message in a Discord thread or forum post, the
	// channel the thread belongs to.
	ParentChannel string
	// ThreadID: the root of the public thread it belongs to (Slack
	// thread_ts, Discord thread id); empty for a top-level message.
	ThreadID string
	// NewThread: the message opens a thread (a Discord forum post), so it is
	// a new item even though ThreadID is set.
	NewThread   bool
	ReplyTo     string // the message it replies to (Discord message_reference)
	AuthorID    string
	AuthorName  string
	Bot         bool
	Webhook     bool
	Self        bool
	Text        string
	Attachments []Attachment
	Link        string
	At          time.Time
}

// Intake outcomes, for adapters' logs and tests.
type Intake string

const (
	IntakeIgnored   Intake = "ignored"   // bot, webhook, self, or not a watched channel
	IntakeDuplicate Intake = "duplicate" // a redelivery
	IntakeNew       Intake = "new"       // a new item
	IntakeFollowUp  Intake = "follow_up"
	IntakeUnrouted  Intake = "unrouted" // stored, no route
)

// Receive takes a public message: it ignores bots, webhooks and Liaison
// itself, dedupes redeliveries, joins follow-ups to their item, or opens a
// new item on the first matching route and enqueues its card.
func (s *Service) Receive(ctx context.Context, in Incoming) (Intake, error) {
	if in.Bot || in.Webhook || in.Self {
		return IntakeIgnored, nil
	}
	watched := in.Channel
	src, ok := s.Router.Source(in.Conn, in.Channel)
	if !ok && in.ParentChannel != "" {
		src, ok = s.Router.Source(in.Conn, in.ParentChannel)
		watched = in.ParentChannel
	}
	if !ok {
		return IntakeIgnored, nil
	}
	if in.At.IsZero() {
		in.At = s.Clock()
	}
	in.At = in.At.UTC().Truncate(time.Microsecond)
	var outcome Intake
	err := s.inTx(ctx, func(tx Tx) error {
		m := &Message{
			Key:      MessageKey{Conn: in.Conn, Channel: in.Channel, ID: in.ID},
			AuthorID: in.AuthorID, AuthorName: in.AuthorName,
			Text: in.Text, Attachments: in.Attachments, Link: in.Link, CreatedAt: in.At,
		}
		// The message row is inserted once its item is known, so the common
		// case writes each row once; a redelivery rolls everything back.
		insert := func() error {
			inserted, err := tx.InsertMessage(ctx, m)
			if err == nil && !inserted {
				return errDuplicate
			}
			return err
		}
		if it, err := s.parentItem(ctx, tx, in, watched); err != nil {
			return err
		} else if it != nil {
			outcome = IntakeFollowUp
			m.ItemID = it.ID
			if err := insert(); err != nil {
				return err
			}
			return s.followUp(ctx, tx, it, m, in)
		}
		rt := s.Router.Match(src, in.Text)
		if rt == nil {
			outcome = IntakeUnrouted
			if err := insert(); err != nil {
				return err
			}
			return s.noRoute(ctx, tx, src, in.Channel)
		}
		outcome = IntakeNew
		return s.openItem(ctx, tx, in, watched, rt, m)
	})
	if errors.Is(err, errDuplicate) {
		outcome, err = IntakeDuplicate, nil
	}
	if err != nil {
		return "", fmt.Errorf("receive %s/%s/%s: %w", in.Conn, in.Channel, in.ID, err)
	}
	s.Metrics.Intake(in.Conn, outcome)
	return outcome, nil
}

// errDuplicate rolls back the intake of a message already stored.
var errDuplicate = errors.New("duplicate message")

func (s *Service) parentItem(ctx context.Context, tx Tx, in Incoming, watched string) (*Item, error) {
	if in.ThreadID != "" && !in.NewThread {
		it, err := tx.ItemByThread(ctx, in.Conn, watched, in.ThreadID)
		if err == nil || !errors.Is(err, ErrNotFound) {
			return it, err
		}
	}
	if in.ReplyTo != "" {
		m, err := tx.MessageByKey(ctx, MessageKey{Conn: in.Conn, Channel: in.Channel, ID: in.ReplyTo})
		if errors.Is(err, ErrNotFound) {
			return nil, nil
		} else if err != nil {
			return nil, err
		}
		if m.ItemID != 0 {
			return tx.Item(ctx, m.ItemID)
		}
	}
	return nil, nil
}

func (s *Service) openItem(ctx context.Context, tx Tx, in Incoming, watched string, rt *Route, m *Message) error {
	now := s.Clock()
	it := &Item{
		Conn: in.Conn, Channel: watched, ThreadID: in.ID, RootChannel: in.Channel, RootMsgID: in.ID, Link: in.Link,
		AuthorID: in.AuthorID, AuthorName: in.AuthorName,
		Route: rt.Name, Tags: slices.Clone(rt.Tags), Status: ItemNew,
		CardConn: rt.DestConn, CardChannel: rt.DestChannel,
		CreatedAt: now, UpdatedAt: now,
	}
	if in.ThreadID != "" {
		it.ThreadID = in.ThreadID
	}
	if in.ParentChannel != "" && in.Channel != in.ParentChannel {
		it.ThreadChannel = in.Channel
	}
	// No audit event: the message row records what came in, and when.
	ok, err := tx.OpenItem(ctx, it, m, &OutboxJob{Kind: OpPostCard, Conn: it.CardConn, Channel: it.CardChannel, State: JobPending, RunAt: now, CreatedAt: now})
	if err == nil && !ok {
		return errDuplicate
	}
	return err
}

func (s *Service) followUp(ctx context.Context, tx Tx, it *Item, m *Message, in Incoming) error {
	if it.ThreadChannel == "" && in.ParentChannel != "" && in.Channel != in.ParentChannel {
		// A thread was opened on the original message: answers go there.
		it.ThreadChannel = in.Channel
		if err := tx.UpdateItem(ctx, it); err != nil {
			return err
		}
	}
	if it.Status == ItemClosed || it.Status == ItemAnswered {
		// The member came back: the item needs attention again.
		if err := it.SetStatus(ItemNew); err != nil {
			return err
		}
		if it.Assignee != 0 {
			it.Status = ItemClaimed
		}
		it.UpdatedAt = s.Clock()
		if err := tx.UpdateItem(ctx, it); err != nil {
			return err
		}
		if err := s.updateCard(ctx, tx, it); err != nil {
			return err
		}
	}
	return s.enqueue(ctx, tx, &OutboxJob{Kind: OpPostNote, ItemID: it.ID, MessageID: m.ID, Conn: it.CardConn, Channel: it.CardChannel})
}

func (s *Service) noRoute(ctx context.Context, tx Tx, src *Source, channel string) error {
	first, err := tx.FirstNotice(ctx, "noroute:"+src.Conn+":"+channel, s.Clock())
	if err != nil || !first || s.Settings.AdminConn == "" {
		return err
	}
	text := fmt.Sprintf("Messages from source %q (channel %s) match no route and there is no default route: they are stored but nobody sees them. Add a route or a default route to the config.", src.Name, channel)
	return s.enqueue(ctx, tx, &OutboxJob{Kind: OpPostNote, Conn: s.Settings.AdminConn, Channel: s.Settings.AdminChannel, Payload: notePayload(text, "")})
}

// Edit records a new text for a public message and refreshes its internal copy.
func (s *Service) Edit(ctx context.Context, key MessageKey, text string, at time.Time) error {
	return s.changeMessage(ctx, key, "message.edit", func(m *Message) bool {
		if m.DeletedAt != nil || m.Text == text {
			return false // a redelivery, or an edit after deletion
		}
		t := at.UTC().Truncate(time.Microsecond)
		m.Text, m.EditedAt = text, &t
		return true
	})
}

// Delete marks a public message deleted; unless configured otherwise its
// stored text is dropped and the internal copy keeps only a note.
func (s *Service) Delete(ctx context.Context, key MessageKey, at time.Time) error {
	return s.changeMessage(ctx, key, "message.delete", func(m *Message) bool {
		if m.DeletedAt != nil {
			return false
		}
		t := at.UTC().Truncate(time.Microsecond)
		m.DeletedAt = &t
		if !s.Settings.KeepDeletedText {
			m.Text, m.Attachments = "", nil
		}
		return true
	})
}

func (s *Service) changeMessage(ctx context.Context, key MessageKey, action string, change func(*Message) bool) error {
	err := s.inTx(ctx, func(tx Tx) error {
		m, err := tx.MessageByKey(ctx, key)
		if errors.Is(err, ErrNotFound) {
			return nil // not a message Liaison took in
		} else if err != nil {
			return err
		}
		if !change(m) {
			return nil
		}
		if err := tx.UpdateMessage(ctx, m); err != nil {
			return err
		}
		if m.ItemID == 0 {
			return nil
		}
		it, err := tx.Item(ctx, m.ItemID)
		if err != nil {
			return err
		}
		if it.RootMsgID == key.ID && rootChannel(it) == key.Channel {
			err = s.updateCard(ctx, tx, it)
		} else {
			err = s.enqueue(ctx, tx, &OutboxJob{Kind: OpUpdateNote, ItemID: it.ID, MessageID: m.ID, Conn: it.CardConn, Channel: it.CardChannel, CoalesceKey: fmt.Sprintf("note:%d", m.ID)})
		}
		if err != nil {
			return err
		}
		return s.audit(ctx, tx, "system", action, subject("item", it.ID), nil, map[string]any{"message": key.ID})
	})
	if err != nil {
		return fmt.Errorf("%s %s/%s: %w", action, key.Channel, key.ID, err)
	}
	return nil
}

// InternalMessage takes a message in an internal thread. Internal discussion
// stays internal: only a message starting with the reply prefix becomes a
// draft, once — a redelivered message (same id) makes no second draft. It
// reports the draft, or nil.
func (s *Service) InternalMessage(ctx context.Context, actor Actor, thread, msgID, text string) (*Draft, error) {
	body, ok := strings.CutPrefix(strings.TrimLeft(text, " "), s.Settings.ReplyPrefix)
	if !ok {
		return nil, nil
	}
	var d *Draft
	err := s.inTx(ctx, func(tx Tx) error {
		it, err := tx.ItemByCardThread(ctx, actor.Conn, thread)
		if errors.Is(err, ErrNotFound) {
			return nil // a thread that is not an item's
		} else if err != nil {
			return err
		}
		first, err := tx.FirstNotice(ctx, "draft-from:"+actor.Conn+":"+thread+":"+msgID, s.Clock())
		if err != nil || !first {
			return err
		}
		d, err = s.draftTx(ctx, tx, actor, it.ID, DraftReply, 0, body)
		return err
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// ItemByCardThread returns the item discussed in an internal thread.
func (s *Service) ItemByCardThread(ctx context.Context, conn, thread string) (*Item, error) {
	var it *Item
	err := s.Store.InTx(ctx, func(tx Tx) (err error) {
		it, err = tx.ItemByCardThread(ctx, conn, thread)
		return err
	})
	return it, err
}

// Item returns an item by id.
func (s *Service) Item(ctx context.Context, id int64) (*Item, error) {
	var it *Item
	err := s.Store.InTx(ctx, func(tx Tx) (err error) {
		it, err = tx.Item(ctx, id)
		return err
	})
	return it, err
}

// Draft returns a draft by id.
func (s *Service) Draft(ctx context.Context, id int64) (*Draft, error) {
	var d *Draft
	err := s.Store.InTx(ctx, func(tx Tx) (err error) {
		d, err = tx.Draft(ctx, id)
		return err
	})
	return d, err
}

// Claim makes actor the item's assignee.
func (s *Service) Claim(ctx context.Context, actor Actor, itemID int64) error {
	return s.itemAction(ctx, actor, itemID, "item.claim", func(tx Tx, it *Item, p *Profile) error {
		switch it.Status {
		case ItemNew, ItemClaimed, ItemIgnored, ItemClosed:
			// Ignored and closed items refuse through the state machine.
			if err := it.SetStatus(ItemClaimed); err != nil {
				return err
			}
		}
		it.Assignee = p.ID
		return nil
	})
}

// Tag adds tags to an item.
func (s *Service) Tag(ctx context.Context, actor Actor, itemID int64, tags []string) error {
	return s.itemAction(ctx, actor, itemID, "item.tag", func(tx Tx, it *Item, p *Profile) error {
		for _, t := range tags {
			t = strings.ToLower(strings.TrimSpace(Sanitize(t)))
			if t == "" || utf8.RuneCountInString(t) > 40 {
				return Errorf(EINVALID, "A tag must be 1 to 40 characters.")
			}
			if !slices.Contains(it.Tags, t) {
				it.Tags = append(it.Tags, t)
			}
		}
		return nil
	})
}

// Ignore sets an item aside: it needs no public answer.
func (s *Service) Ignore(ctx context.Context, actor Actor, itemID int64) error {
	return s.itemAction(ctx, actor, itemID, "item.ignore", func(tx Tx, it *Item, p *Profile) error {
		return it.SetStatus(ItemIgnored)
	})
}

// CloseItem closes an item.
func (s *Service) CloseItem(ctx context.Context, actor Actor, itemID int64) error {
	return s.itemAction(ctx, actor, itemID, "item.close", func(tx Tx, it *Item, p *Profile) error {
		return it.SetStatus(ItemClosed)
	})
}

func (s *Service) itemAction(ctx context.Context, actor Actor, itemID int64, action string, change func(Tx, *Item, *Profile) error) error {
	return s.inTx(ctx, func(tx Tx) error {
		it, err := tx.Item(ctx, itemID)
		if err != nil {
			return err
		}
		if actor.Conn != it.CardConn {
			return Errorf(EUNAUTHORIZED, "Sorry, this item is handled from another workspace.")
		}
		p, err := s.ensureProfile(ctx, tx, actor)
		if err != nil {
			return err
		}
		before := itemSnapshot(it)
		if err := change(tx, it, p); err != nil {
			return err
		}
		it.UpdatedAt = s.Clock()
		if err := tx.UpdateItem(ctx, it); err != nil {
			return err
		}
		if err := s.updateCard(ctx, tx, it); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor.String(), action, subject("item", it.ID), before, itemSnapshot(it))
	})
}

// ensureProfile returns actor's profile, creating a bare one (no public
// name, no consent) the first time someone acts.
func (s *Service) ensureProfile(ctx context.Context, tx Tx, actor Actor) (*Profile, error) {
	p, err := tx.ProfileByIdentity(ctx, actor.Conn, actor.UserID)
	if err == nil || !errors.Is(err, ErrNotFound) {
		return p, err
	}
	now := s.Clock()
	// The platform's display name until they choose a public one; it is
	// never published without their consent.
	name := strings.TrimSpace(actor.Name)
	if r := []rune(name); len(r) > 60 {
		name = string(r[:60])
	}
	p = &Profile{Name: name, Role: RoleResponder, Identities: []Identity{{Conn: actor.Conn, UserID: actor.UserID}}, CreatedAt: now, UpdatedAt: now}
	if err := tx.SaveProfile(ctx, p); err != nil {
		return nil, err
	}
	return p, nil
}

func (s *Service) updateCard(ctx context.Context, tx Tx, it *Item) error {
	return s.enqueue(ctx, tx, &OutboxJob{Kind: OpUpdateCard, ItemID: it.ID, Conn: it.CardConn, Channel: it.CardChannel, CoalesceKey: fmt.Sprintf("card:%d", it.ID)})
}

func (s *Service) enqueue(ctx context.Context, tx Tx, j *OutboxJob) error {
	if j.OrderKey == "" && j.ItemID != 0 {
		j.OrderKey = ItemOrderKey(j.ItemID)
	}
	if j.OrderKey == "" {
		j.OrderKey = "conn:" + j.Conn + ":" + j.Channel
	}
	now := s.Clock()
	j.State, j.CreatedAt = JobPending, now
	if j.RunAt.IsZero() {
		j.RunAt = now
	}
	_, err := tx.Enqueue(ctx, j)
	return err
}

func (s *Service) audit(ctx context.Context, tx Tx, actor, action, subj string, before, after any) error {
	e := &AuditEvent{At: s.Clock(), Actor: actor, Action: action, Subject: subj, Before: jsonOf(before), After: jsonOf(after)}
	return tx.AppendAudit(ctx, e)
}

// ItemOrderKey orders an item's jobs: its card before its thread notes.
func ItemOrderKey(itemID int64) string { return fmt.Sprintf("item:%d", itemID) }

func subject(kind string, id int64) string { return fmt.Sprintf("%s:%d", kind, id) }

func jsonOf(v any) string {
	if v == nil {
		return ""
	}
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

func itemSnapshot(it *Item) map[string]any {
	return map[string]any{"status": it.Status, "tags": it.Tags, "assignee": it.Assignee}
}

type notePayloadJSON struct {
	Text   string `json:"text,omitempty"`
	UserID string `json:"user_id,omitempty"`
}

func notePayload(text, userID string) string {
	return jsonOf(notePayloadJSON{Text: text, UserID: userID})
}

// Purge applies the retention period: the text of public messages older
// than keep is dropped (the items, their status and the audit remain).
func (s *Service) Purge(ctx context.Context, keep time.Duration) (int64, error) {
	var n int64
	err := s.Store.InTx(ctx, func(tx Tx) (err error) {
		n, err = tx.PurgeMessageText(ctx, s.Clock().Add(-keep))
		if err != nil || n == 0 {
			return err
		}
		return s.audit(ctx, tx, "system", "retention.purge", "messages", nil, map[string]any{"messages": n, "older_than": keep.String()})
	})
	return n, err
}
