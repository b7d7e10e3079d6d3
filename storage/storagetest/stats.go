package storagetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/storage"
)

// A history written by hand, whose figures the statistics tests of storage
// and bot work out by hand. Every time is UTC. The current period is
// [StatsFrom, StatsTo), the week of 22–28 October 2026, whose Sunday 25th
// is 25 hours long in Europe/Paris (summer time ends at 01:00 UTC); the
// previous period is the week before. The routes the figures assume are
// "product", with an SLA of 4h and no business hours, and "support",
// without SLA.
var (
	StatsFrom = time.Date(2026, 10, 22, 0, 0, 0, 0, time.UTC)
	StatsTo   = time.Date(2026, 10, 29, 0, 0, 0, 0, time.UTC)
	// StatsNow is when the queue is read.
	StatsNow = time.Date(2026, 10, 29, 12, 0, 0, 0, time.UTC)
)

// StatsSeed names the rows SeedStats wrote: items I1–I8 (current period),
// P1–P4 (previous), W0 (waiting since before both) and E (opened at
// StatsTo exactly); drafts D1–D10; profiles by public name.
type StatsSeed struct {
	Items    map[string]int64
	Drafts   map[string]int64
	Profiles map[string]int64
}

// oct is a time on a day of October 2026, UTC.
func oct(day, hour, min int) time.Time { return time.Date(2026, 10, day, hour, min, 0, 0, time.UTC) }

type seedItem struct {
	name, route string
	status      bot.ItemStatus
	tags        []string
	created     time.Time
	answered    *time.Time
	conn        string
	author      string
	text        string
}

type seedMessage struct {
	item    string // "" when no route took it
	author  string
	at      time.Time
	text    string
	msgName string
}

type seedDraft struct {
	name, item       string
	kind             bot.DraftKind
	target           string
	state            bot.DraftState
	author, approver string // public names; "" for no approver
	created          time.Time
	decided          *time.Time
	published        *time.Time
}

func at(t time.Time) *time.Time { return &t }

// LongQuestion is the first message of I5: longer than a summary shows.
const LongQuestion = "Could you explain how the new pricing tiers apply to teams that were on the legacy plan before the change?\nThanks"

var (
	seedItems = []seedItem{
		{"I1", "product", bot.ItemAnswered, []string{"billing"}, oct(22, 0, 0), at(oct(22, 1, 0)), "community", "M1", "How do I export invoices?"},
		{"I2", "product", bot.ItemAnswered, []string{"billing", "login"}, oct(23, 9, 0), at(oct(23, 15, 0)), "community", "M2", "Billing page will not load"},
		{"I3", "support", bot.ItemAnswered, []string{"login"}, oct(25, 22, 30), at(oct(26, 0, 30)), "community", "M1", "Locked out"},
		{"I4", "product", bot.ItemAnswered, nil, oct(25, 23, 30), at(oct(29, 1, 0)), "community", "M3", "Where are the docs?"},
		{"I5", "product", bot.ItemAwaitingApproval, []string{"billing"}, oct(27, 8, 0), nil, "community", "M4", LongQuestion},
		{"I6", "product", bot.ItemIgnored, []string{"spam"}, oct(28, 23, 0), nil, "community", "M5", "Buy followers"},
		{"I7", "product", bot.ItemAwaitingApproval, nil, oct(28, 22, 0), nil, "community", "M2", "@everyone help <@123>\nsecond line"},
		{"I8", "support", bot.ItemAnswered, nil, oct(22, 12, 0), at(oct(22, 12, 30)), "other", "M1", "Hello from the other community"},
		{"P1", "product", bot.ItemAnswered, []string{"billing"}, oct(16, 10, 0), at(oct(16, 14, 0)), "community", "M1", "Refund?"},
		{"P2", "support", bot.ItemAnswered, []string{"login"}, oct(17, 9, 0), at(oct(17, 9, 20)), "community", "M2", "2FA codes"},
		{"P3", "product", bot.ItemAnswered, nil, oct(20, 8, 0), at(oct(20, 18, 0)), "community", "M10", "Roadmap?"},
		{"P4", "product", bot.ItemAnswered, nil, oct(21, 20, 0), at(oct(22, 1, 0)), "community", "M11", "Dark mode?"},
		{"W0", "support", bot.ItemNew, nil, oct(10, 0, 0), nil, "community", "M10", "Is there an API?\nMore details below"},
		{"E", "product", bot.ItemNew, nil, oct(29, 0, 0), nil, "community", "M9", ""},
	}
	seedMessages = []seedMessage{
		{item: "I1", author: "M7", at: oct(24, 10, 0), text: "Same question here", msgName: "F1"},
		{item: "", author: "M8", at: oct(26, 10, 0), text: "Off-topic chat", msgName: "U1"},
		{item: "", author: "M4", at: oct(1, 0, 0), text: "Hi all", msgName: "O1"},
	}
	seedDrafts = []seedDraft{
		{"D1", "I1", bot.DraftReply, "", bot.DraftPublished, "Alice Martin", "Bob Stone", oct(22, 0, 30), at(oct(22, 0, 50)), at(oct(22, 1, 0))},
		{"D2", "I2", bot.DraftReply, "", bot.DraftPublished, "Alice Martin", "Bob Stone", oct(23, 14, 0), at(oct(23, 14, 40)), at(oct(23, 15, 0))},
		{"D3", "I3", bot.DraftReply, "", bot.DraftPublished, "Carol", "", oct(26, 0, 0), at(oct(26, 0, 0)), at(oct(26, 0, 30))},
		{"D4", "I8", bot.DraftReply, "", bot.DraftPublished, "Bob Stone", "Alice Martin", oct(22, 12, 10), at(oct(22, 12, 20)), at(oct(22, 12, 30))},
		{"D5", "I5", bot.DraftReply, "", bot.DraftRejected, "Alice Martin", "Bob Stone", oct(27, 10, 0), at(oct(27, 11, 0)), nil},
		{"D6", "I5", bot.DraftReply, "", bot.DraftPending, "Alice Martin", "", oct(27, 11, 30), nil, nil},
		{"D7", "I4", bot.DraftReply, "", bot.DraftPublished, "Alice Martin", "Bob Stone", oct(28, 20, 0), at(oct(28, 23, 0)), at(oct(29, 1, 0))},
		{"D8", "I7", bot.DraftReply, "", bot.DraftAwaitingSigner, "Carol", "Bob Stone", oct(28, 22, 10), at(oct(28, 22, 40)), nil},
		{"D9", "I1", bot.DraftCorrection, "D1", bot.DraftPublished, "Alice Martin", "Bob Stone", oct(24, 9, 0), at(oct(24, 10, 0)), at(oct(24, 10, 5))},
		{"D10", "P1", bot.DraftReply, "", bot.DraftPublished, "Bob Stone", "Alice Martin", oct(16, 12, 0), at(oct(16, 12, 45)), at(oct(16, 14, 0))},
	}
)

// SeedStats writes the history into db and names its rows.
func SeedStats(tb testing.TB, db *storage.DB) StatsSeed {
	tb.Helper()
	s := StatsSeed{Items: map[string]int64{}, Drafts: map[string]int64{}, Profiles: map[string]int64{}}
	ctx := context.Background()
	err := db.InTx(ctx, func(tx bot.Tx) error {
		for i, name := range []string{"Alice Martin", "Bob Stone", "Carol"} {
			now := oct(1, 0, 0)
			p := &bot.Profile{Name: name, ConsentedAt: &now, CreatedAt: now, UpdatedAt: now,
				Identities: []bot.Identity{{Conn: "internal", UserID: fmt.Sprintf("U%d", i+1)}}}
			if err := tx.SaveProfile(ctx, p); err != nil {
				return err
			}
			s.Profiles[name] = p.ID
		}
		for _, si := range seedItems {
			it := &bot.Item{
				Conn: si.conn, Channel: "C1", ThreadID: "msg-" + si.name, RootMsgID: "msg-" + si.name,
				Link: "https://community.example/" + si.name, AuthorID: si.author, AuthorName: "Member " + si.author,
				Route: si.route, Tags: si.tags, Status: si.status,
				CardConn: "internal", CardChannel: "C0" + si.route, CardID: "card-" + si.name, CardThread: "card-" + si.name,
				CardLink:  "https://staff.example/card/" + si.name,
				CreatedAt: si.created, UpdatedAt: si.created, FirstAnsweredAt: si.answered,
			}
			if err := tx.CreateItem(ctx, it); err != nil {
				return err
			}
			s.Items[si.name] = it.ID
			m := &bot.Message{Key: bot.MessageKey{Conn: si.conn, Channel: "C1", ID: "msg-" + si.name}, ItemID: it.ID,
				AuthorID: si.author, AuthorName: it.AuthorName, Text: si.text, Link: it.Link, CreatedAt: si.created}
			if _, err := tx.InsertMessage(ctx, m); err != nil {
				return err
			}
		}
		for _, sm := range seedMessages {
			m := &bot.Message{Key: bot.MessageKey{Conn: "community", Channel: "C1", ID: "msg-" + sm.msgName}, ItemID: s.Items[sm.item],
				AuthorID: sm.author, AuthorName: "Member " + sm.author, Text: sm.text, CreatedAt: sm.at}
			if _, err := tx.InsertMessage(ctx, m); err != nil {
				return err
			}
		}
		for _, sd := range seedDrafts {
			d := &bot.Draft{
				ItemID: s.Items[sd.item], Kind: sd.kind, Target: s.Drafts[sd.target], AuthorID: s.Profiles[sd.author],
				State: sd.state, ApproverID: s.Profiles[sd.approver],
				Versions:  []bot.DraftVersion{{N: 1, Text: "Reply " + sd.name, EditorID: s.Profiles[sd.author], At: sd.created}},
				CreatedAt: sd.created, UpdatedAt: sd.created, DecidedAt: sd.decided, PublishedAt: sd.published,
			}
			if sd.state == bot.DraftRejected {
				d.RejectReason = "Not yet"
			}
			if err := tx.CreateDraft(ctx, d); err != nil {
				return err
			}
			s.Drafts[sd.name] = d.ID
		}
		return nil
	})
	if err != nil {
		tb.Fatalf("storagetest: seed stats: %v", err)
	}
	return s
}
