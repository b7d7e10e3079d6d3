package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Incoming is a message as an adapter saw it: in a watched public channel
// (a member's message), or in an internal thread (staff discussing a card).
type Incoming struct {
	Conn    string
	Channel string // where it was posted (a Discord thread is its own channel)
	ID      string
	// ParentChannel: for a message in a Discord thread or forum post, the
	// channel the thread belongs to.
	ParentChannel string
	// ThreadID: the root of the thread it belongs to (Slack thread_ts,
	// Discord thread id); empty for a top-level message.
	ThreadID string
	// NewThread: the message opens a thread (a Discord forum post), so it is
	// a new item even though ThreadID is set.
	NewThread bool
	// RootFirst: the adapter can fetch the thread's first message (Slack
	// conversations.replies). When that message is not stored, Receive
	// stores nothing and reports IntakeNoRoot, so that a reply delivered
	// before its question does not open an item of its own.
	RootFirst bool
	ReplyTo   string // the message it replies to (Discord message_reference)
	AuthorID  string
	// AuthorName is the name people know the author by (Slack display
	// name, Discord server nickname or global name); AuthorHandle is their
	// username.
	AuthorName   string
	AuthorHandle string
	// Bot, Webhook, Self: not a person's message (another app, a webhook,
	// Liaison itself). Receive drops them, so that nothing loops.
	Bot     bool
	Webhook bool
	Self    bool
	// Direct: a direct or group message, not a channel's. Intake never sees
	// one (nobody watches them); Send to team refuses it.
	Direct      bool
	Text        string
	Attachments []Attachment
	Link        string
	At          time.Time
}

// storable returns in with every string storable (see storable).
func (in Incoming) storable() Incoming {
	for _, f := range []*string{
		&in.Conn, &in.Channel, &in.ID, &in.ParentChannel, &in.ThreadID, &in.ReplyTo,
		&in.AuthorID, &in.AuthorName, &in.AuthorHandle, &in.Text, &in.Link,
	} {
		*f = storable(*f)
	}
	if len(in.Attachments) > 0 {
		as := make([]Attachment, len(in.Attachments))
		for i, a := range in.Attachments {
			as[i] = Attachment{Name: storable(a.Name), URL: storable(a.URL)}
		}
		in.Attachments = as
	}
	return in
}

func (k MessageKey) storable() MessageKey {
	return MessageKey{Conn: storable(k.Conn), Channel: storable(k.Channel), ID: storable(k.ID)}
}

// storable makes platform text one that both engines store, and store
// alike: bytes that are not UTF-8 become U+FFFD, and NUL is removed.
// Postgres text cannot hold U+0000 at all, and nothing shows it: Sanitize
// drops it from every relayed text anyway. storable is idempotent, so an
// edit or a redelivery compares equal to what was stored.
func storable(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "")
	}
	return s
}

// Intake outcomes, for adapters' logs and tests.
type Intake string

const (
	IntakeIgnored   Intake = "ignored"   // bot, webhook, self, or nothing Liaison watches
	IntakeDuplicate Intake = "duplicate" // a redelivery
	IntakeNew       Intake = "new"       // a new item
	IntakeFollowUp  Intake = "follow_up"
	IntakeUnrouted  Intake = "unrouted" // stored, no route
	IntakeInternal  Intake = "internal" // said in an item's internal thread: stays internal
	IntakeDraft     Intake = "draft"    // a reply-prefixed message in an item's thread made a draft
	IntakeRefused   Intake = "refused"  // it would have made a draft; its author is told why not
	// IntakeNoRoot: nothing stored; the message replies in a thread whose
	// first message is not stored yet, and Incoming.RootFirst asked to be
	// told. The adapter takes in the thread's first message, then this one.
	IntakeNoRoot Intake = "no_root"
	// IntakeParked: a reply-prefixed message in a thread of a card channel
	// that is no known card's yet; it is taken in once the card is recorded.
	IntakeParked Intake = "parked"
)

// Receive takes a message. Messages of bots, webhooks and Liaison itself are
// dropped here, for every platform alike. A message in a watched public
// channel is deduped, joined to its item as a follow-up, or opens a new item
// on the first matching route with its card; a message in an item's
// internal thread stays internal, unless it starts with the reply prefix:
// then it becomes a draft, once per message.
//
// Text is stored as storable makes it, so that any message a platform
// delivers is taken on either engine.
func (s *Service) Receive(ctx context.Context, in Incoming) (Intake, error) {
	in = in.storable()
	if in.Bot || in.Webhook || in.Self || in.AuthorID == "" {
		return IntakeIgnored, nil
	}
	watched := in.Channel
	src, ok := s.Router.Source(in.Conn, in.Channel)
	if !ok && in.ParentChannel != "" {
		src, ok = s.Router.Source(in.Conn, in.ParentChannel)
		watched = in.ParentChannel
	}
	if !ok {
		if in.ThreadID == "" {
			return IntakeIgnored, nil
		}
		return s.threadMessage(ctx, in)
	}
	if in.At.IsZero() {
		in.At = s.Clock()
	}
	in.At = in.At.UTC().Truncate(time.Microsecond)
	var (
		outcome Intake
		m       *Message
	)
	err := s.inTx(ctx, func(tx Tx) error {
		m = newMessage(in)
		// The message row is inserted once its item is known, so the common
		// case writes each row once; a redelivery rolls everything back.
		insert := func() error {
			inserted, err := tx.InsertMessage(ctx, m)
			if err == nil && !inserted {
				return errDuplicate
			}
			return err
		}
		it, err := s.parentItem(ctx, tx, in, watched)
		if err != nil {
			return err
		}
		if it == nil && in.RootFirst && in.ThreadID != "" && !in.NewThread {
			// A reply whose thread's first message was not taken in yet
			// (its delivery is late): the adapter takes that in first.
			root, err := tx.MessageByKey(ctx, MessageKey{Conn: in.Conn, Channel: in.Channel, ID: in.ThreadID})
			if errors.Is(err, ErrNotFound) {
				return errNoRoot
			} else if err != nil {
				return err
			}
			if root.ItemID != 0 {
				// Another replica stored the question between the two
				// reads: the reply is its follow-up all the same.
				if it, err = tx.Item(ctx, root.ItemID); err != nil {
					return err
				}
			}
		}
		if it != nil {
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
		_, err = s.openItem(ctx, tx, in, watched, rt, m)
		return err
	})
	if errors.Is(err, errDuplicate) {
		outcome, err = IntakeDuplicate, nil
		m.ItemID = 0 // the redelivery's transaction was rolled back
	} else if errors.Is(err, errNoRoot) {
		return IntakeNoRoot, nil
	}
	if err != nil {
		return "", fmt.Errorf("receive %s/%s/%s: %w", in.Conn, in.Channel, in.ID, err)
	}
	s.Metrics.Intake(in.Conn, outcome)
	// Never the text: a member's words stay out of the logs. A
	// redelivery relays nothing: it is for debugging only.
	level := slog.LevelInfo
	if outcome == IntakeDuplicate {
		level = slog.LevelDebug
	}
	s.Log.Log(ctx, level, "public message received", "conn", in.Conn, "channel", in.Channel, "message", in.ID, "item", m.ItemID, "outcome", outcome)
	return outcome, nil
}

// errDuplicate rolls back the intake of a message already stored.
var errDuplicate = errors.New("duplicate message")

// errNoRoot rolls back the intake of a reply whose thread's first message
// is to be taken in first.
var errNoRoot = errors.New("thread root not taken in yet")

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

// newMessage is the row of a public message as it came in.
func newMessage(in Incoming) *Message {
	return &Message{
		Key:      MessageKey{Conn: in.Conn, Channel: in.Channel, ID: in.ID},
		AuthorID: in.AuthorID, AuthorName: in.AuthorName, AuthorHandle: in.AuthorHandle,
		Text: in.Text, Attachments: in.Attachments, Link: in.Link, CreatedAt: in.At,
	}
}

// newItem is the item a public message opens on rt; watched is the channel
// its public thread belongs to.
func (s *Service) newItem(in Incoming, watched string, rt *Route) *Item {
	now := s.Clock()
	it := &Item{
		Conn: in.Conn, Channel: watched, ThreadID: in.ID, RootChannel: in.Channel, RootMsgID: in.ID, Link: in.Link,
		AuthorID: in.AuthorID, AuthorName: in.AuthorName, AuthorHandle: in.AuthorHandle,
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
	return it
}

// openItem stores the item in opens on rt, with m, and its card's job,
// and returns it; errDuplicate when m is stored already.
func (s *Service) openItem(ctx context.Context, tx Tx, in Incoming, watched string, rt *Route, m *Message) (*Item, error) {
	it := s.newItem(in, watched, rt)
	now := it.CreatedAt
	// No audit event: the message row records what came in, and when.
	ok, err := tx.OpenItem(ctx, it, m, &OutboxJob{Kind: OpPostCard, Conn: it.CardConn, Channel: it.CardChannel, State: JobPending, RunAt: now, CreatedAt: now})
	if err == nil && !ok {
		return nil, errDuplicate
	}
	return it, err
}

// bringIn opens an item from in, a message a staff member brings in by
// hand, on route rt: what Receive does when a source matches a message to
// a route, whether Liaison watches its channel or not. A message that
// already belongs to an item (its first message or a follow-up), or that
// replies in an item's public thread, is deduplicated as Receive does it:
// bringIn returns that item, opened false, and writes nothing. A message
// stored without an item (no route took it) gets one. A concurrent intake
// of the same message ends in errDuplicate: the caller rolls back, and
// reading again finds the item.
func (s *Service) bringIn(ctx context.Context, tx Tx, in Incoming, rt *Route) (it *Item, opened bool, err error) {
	if in.At.IsZero() {
		in.At = s.Clock()
	}
	in.At = in.At.UTC().Truncate(time.Microsecond)
	watched := cardChannel(in)
	m, err := tx.MessageByKey(ctx, MessageKey{Conn: in.Conn, Channel: in.Channel, ID: in.ID})
	switch {
	case err == nil && m.ItemID != 0:
		it, err = tx.Item(ctx, m.ItemID)
		return it, false, err
	case err == nil:
		// Stored without an item: a watched channel that no route matched.
		// Nothing locks an item-less message, so a notice does: of two
		// staff members bringing it in at once, the second waits for the
		// first, then finds its notice and reads the item it opened.
		first, err := tx.FirstNotice(ctx, "bring-in:"+in.Conn+":"+in.Channel+"/"+in.ID, s.Clock())
		if err != nil {
			return nil, false, err
		}
		if !first {
			return nil, false, errDuplicate
		}
		it = s.newItem(in, watched, rt)
		if err := tx.CreateItem(ctx, it); err != nil {
			return nil, false, err
		}
		m.ItemID = it.ID
		if err := tx.UpdateMessage(ctx, m); err != nil {
			return nil, false, err
		}
		return it, true, s.enqueue(ctx, tx, &OutboxJob{Kind: OpPostCard, ItemID: it.ID, Conn: it.CardConn, Channel: it.CardChannel})
	case !errors.Is(err, ErrNotFound):
		return nil, false, err
	}
	if it, err = s.parentItem(ctx, tx, in, watched); err != nil || it != nil {
		return it, false, err
	}
	it, err = s.openItem(ctx, tx, in, watched, rt, newMessage(in))
	return it, err == nil, err
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

// cardChannel is the channel whose card thread in was said in: a Discord
// thread's parent, or a Slack thread's own channel.
func cardChannel(in Incoming) string { return firstOf(in.ParentChannel, in.Channel) }

// threadMessage takes a message in a thread Liaison does not watch: when
// the thread is an item's internal one and the message starts with the
// reply prefix, it becomes a draft signed by its author, once per message
// (a redelivered message makes no second draft). Anything else said there
// stays internal. A draft the domain refuses (an empty or too long text, an
// ignored item) is answered privately, through the outbox.
func (s *Service) threadMessage(ctx context.Context, in Incoming) (Intake, error) {
	body, ok := strings.CutPrefix(strings.TrimLeft(in.Text, " "), s.Settings.ReplyPrefix)
	if !ok {
		return IntakeInternal, nil
	}
	actor := Actor{Conn: in.Conn, UserID: in.AuthorID, Name: in.AuthorName}
	once := "draft-from:" + in.Conn + ":" + in.ThreadID + ":" + in.Channel + "/" + in.ID
	outcome := IntakeIgnored
	var (
		refused error
		itemID  int64
	)
	err := s.inTx(ctx, func(tx Tx) error {
		it, err := tx.ItemByCardThread(ctx, in.Conn, cardChannel(in), in.ThreadID)
		if errors.Is(err, ErrNotFound) {
			if !s.parkable(in.Conn, cardChannel(in)) {
				return nil // a thread that is not an item's
			}
			// Perhaps the thread of a card posted but not recorded yet.
			outcome = IntakeParked
			return s.park(ctx, tx, in)
		} else if err != nil {
			return err
		}
		itemID = it.ID
		first, err := tx.FirstNotice(ctx, once, s.Clock())
		if err != nil {
			return err
		}
		if !first {
			outcome = IntakeDuplicate
			return nil
		}
		if _, err := s.draftTx(ctx, tx, actor, it.ID, nil, DraftReply, body); err != nil {
			if ErrorCode(err) != EINTERNAL {
				refused = err
			}
			return err
		}
		outcome = IntakeDraft
		return nil
	})
	if refused != nil {
		// The draft was rolled back; tell its author why, once.
		err = s.inTx(ctx, func(tx Tx) error {
			it, err := tx.ItemByCardThread(ctx, in.Conn, cardChannel(in), in.ThreadID)
			if err != nil {
				return err
			}
			first, err := tx.FirstNotice(ctx, once, s.Clock())
			if err != nil || !first {
				return err
			}
			outcome = IntakeRefused
			return s.notify(ctx, tx, it, in.AuthorID, ErrorMessage(refused))
		})
	}
	if err != nil {
		return "", fmt.Errorf("thread message %s/%s/%s: %w", in.Conn, in.Channel, in.ID, err)
	}
	if outcome != IntakeIgnored && outcome != IntakeDuplicate {
		s.Log.Info("reply-prefixed thread message received", "conn", in.Conn, "channel", in.Channel, "message", in.ID, "item", itemID, "outcome", outcome)
	}
	return outcome, nil
}

// Edit records a new text for a public message and refreshes its internal
// copy: the card when it is the item's first message, its note in the
// card's thread otherwise. A message Liaison did not take in is ignored.
// The text is made storable as Receive makes it.
func (s *Service) Edit(ctx context.Context, key MessageKey, text string, at time.Time) error {
	key, text = key.storable(), storable(text)
	return s.changeMessage(ctx, key, "message.edit", func(m *Message) bool {
		if m.DeletedAt != nil || m.Text == text {
			return false // a redelivery, or an edit after deletion
		}
		if m.ForgottenAt != nil || m.PurgedAt != nil {
			return false // erased: an edit brings no text back
		}
		t := at.UTC().Truncate(time.Microsecond)
		m.Text, m.EditedAt = text, &t
		return true
	})
}

// Delete marks a public message deleted; unless configured otherwise its
// stored text is dropped and the internal copy keeps only a note. A zero at
// means now.
func (s *Service) Delete(ctx context.Context, key MessageKey, at time.Time) error {
	if at.IsZero() {
		at = s.Clock()
	}
	key = key.storable()
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
	var (
		changed bool
		itemID  int64
	)
	err := s.inTx(ctx, func(tx Tx) error {
		changed = false
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
		changed, itemID = true, m.ItemID
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
	if changed {
		s.Log.Info("public message changed", "conn", key.Conn, "channel", key.Channel, "message", key.ID, "item", itemID, "change", action)
	}
	return nil
}
