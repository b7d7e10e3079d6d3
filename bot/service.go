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
)

// Settings are the deployment-wide choices the domain needs.
type Settings struct {
	Company         string
	ReplyPrefix     string // "!reply "
	MaxRelayChars   int    // relayed text longer than this is truncated
	KeepDeletedText bool   // the internal copy of a deleted message keeps its text
	AdminConn       string // where "no route" notices go; empty: nowhere
	AdminChannel    string
	// DashboardURL is where staff open the dashboard, without its token;
	// the Home links to it. Empty: the Home has no dashboard link.
	DashboardURL string
}

// Service runs Liaison's flows. Adapters give it platform events (Receive,
// Edit, Delete) and what people do (Interact); every state change and the
// platform operations it causes are written in one transaction and carried
// out by the outbox Worker.
//
// Its methods live by concern: intake.go (public and thread messages),
// items.go (claiming, tagging, ignoring), review.go (drafts and their
// review), profiles.go (public profiles and trust), attention.go (SLA),
// views.go (what cards show), home.go (what people's Homes show),
// worker.go (the outbox).
type Service struct {
	Store     Store
	Platforms map[string]Platform // by connection name
	Router    *Router
	Settings  Settings
	Clock     Clock
	Log       *slog.Logger
	Metrics   Metrics
	// Charts draws a digest's chart as a PNG; nil posts digests without one.
	Charts func(*StatsReport) ([]byte, error)
	// Pacer schedules platform calls within the connections' limits;
	// adapters tell it what the platforms say (Hold).
	Pacer *Pacer

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
	s := &Service{
		Store: store, Platforms: platforms, Router: router, Settings: settings,
		Clock: SystemClock, Log: slog.Default(), Metrics: noMetrics{}, kick: make(chan struct{}, 1),
	}
	// The pacer reads the service's clock, which tests may replace.
	s.Pacer = NewPacer(func() time.Time { return s.Clock() })
	return s
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

// Watches reports whether channel on conn is a watched public channel.
// Adapters ask it only to spare platform look-ups for the many messages of
// other channels; Receive decides.
func (s *Service) Watches(conn, channel string) bool {
	_, ok := s.Router.Source(conn, channel)
	return ok
}

// StaffGroups lists the ids named as approvers or responders of routes
// whose cards conn shows: the user groups or roles whose membership an
// adapter must report in Actor.Groups (among user ids, which it can ignore).
func (s *Service) StaffGroups(conn string) []string {
	var out []string
	for _, rt := range s.Router.Routes() {
		if rt.DestConn != conn {
			continue
		}
		for _, a := range slices.Concat(rt.Policy.Approvers, rt.Policy.Responders) {
			if !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	return out
}

// inTx runs fn in a transaction and wakes the worker when it committed.
func (s *Service) inTx(ctx context.Context, fn func(Tx) error) error {
	if err := s.Store.InTx(ctx, fn); err != nil {
		return err
	}
	s.wake()
	return nil
}

// Actor is a person acting on the internal side, as the platform
// identified them: never a value carried in a button.
type Actor struct {
	Conn   string
	UserID string
	Name   string   // platform display name, used for a first profile
	Groups []string // Slack user-group ids or Discord role ids the user holds
	// What the platform's profile says, offered when they set up their
	// public profile.
	Title     string
	AvatarURL string
}

func (a Actor) String() string { return a.Conn + ":" + a.UserID }

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
	name := clipRunes(strings.TrimSpace(actor.Name), maxNameChars)
	p = &Profile{Name: name, Identities: []Identity{{Conn: actor.Conn, UserID: actor.UserID}}, CreatedAt: now, UpdatedAt: now}
	if err := tx.SaveProfile(ctx, p); err != nil {
		return nil, err
	}
	return p, nil
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

// note posts text in the item's internal thread.
func (s *Service) note(ctx context.Context, tx Tx, it *Item, text string) error {
	return s.enqueue(ctx, tx, &OutboxJob{Kind: OpPostNote, ItemID: it.ID, Conn: it.CardConn, Channel: it.CardChannel, Payload: notePayload(text, "")})
}

// notify tells one staff member something privately, about item it.
func (s *Service) notify(ctx context.Context, tx Tx, it *Item, userID, text string) error {
	return s.enqueue(ctx, tx, &OutboxJob{Kind: OpNotify, ItemID: it.ID, Conn: it.CardConn, Channel: it.CardChannel, Payload: notePayload(text, userID)})
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

type notePayloadJSON struct {
	Text   string `json:"text,omitempty"`
	UserID string `json:"user_id,omitempty"`
	// Merged: the follow-ups (message ids) posted with the job's own.
	Merged []int64 `json:"merged,omitempty"`
}

func notePayload(text, userID string) string {
	return jsonOf(notePayloadJSON{Text: text, UserID: userID})
}

// Item returns an item by id.
func (s *Service) Item(ctx context.Context, id int64) (*Item, error) {
	var it *Item
	err := s.Store.View(ctx, func(tx Tx) (err error) {
		it, err = tx.Item(ctx, id)
		return err
	})
	return it, err
}

// Draft returns a draft by id.
func (s *Service) Draft(ctx context.Context, id int64) (*Draft, error) {
	var d *Draft
	err := s.Store.View(ctx, func(tx Tx) (err error) {
		d, err = tx.Draft(ctx, id)
		return err
	})
	return d, err
}

// ItemByCardThread returns the item discussed in the internal thread
// thread of the card channel channel.
func (s *Service) ItemByCardThread(ctx context.Context, conn, channel, thread string) (*Item, error) {
	var it *Item
	err := s.Store.View(ctx, func(tx Tx) (err error) {
		it, err = tx.ItemByCardThread(ctx, conn, channel, thread)
		return err
	})
	return it, err
}

// purgePage bounds the messages one retention transaction empties, so that
// a first purge of a large table holds no long transaction.
const purgePage = 500

// Purge applies the retention period: the text of public messages older
// than keep is emptied, and the internal copies Liaison posted of it (the
// card of an item whose first message it was, the note of a follow-up, the
// cards whose member history quoted it) are updated to say so. The items,
// their status, the counts and the audit remain. It empties a page of
// messages per transaction, each audited, and reports how many messages it
// emptied.
func (s *Service) Purge(ctx context.Context, keep time.Duration) (int64, error) {
	now := s.Clock()
	before := now.Add(-keep)
	var (
		total int64
		after int64
	)
	for {
		var page []*Message
		copies := 0
		err := s.Store.InTx(ctx, func(tx Tx) (err error) {
			copies = 0
			page, err = tx.PurgeMessageText(ctx, before, after, purgePage, now)
			if err != nil || len(page) == 0 {
				return err
			}
			stale, err := s.copiesOf(ctx, tx, page)
			if err != nil {
				return err
			}
			if err := stale.addHistories(ctx, tx); err != nil {
				return err
			}
			if copies, err = s.refresh(ctx, tx, stale); err != nil {
				return err
			}
			return s.audit(ctx, tx, "system", "retention.purge", "messages", nil,
				map[string]any{"messages": len(page), "copies": copies, "older_than": keep.String()})
		})
		if err != nil {
			return total, fmt.Errorf("retention purge: %w", err)
		}
		if copies > 0 {
			s.wake()
		}
		total += int64(len(page))
		if len(page) < purgePage {
			return total, nil
		}
		after = page[len(page)-1].ID
		if err := ctx.Err(); err != nil {
			return total, err
		}
	}
}
