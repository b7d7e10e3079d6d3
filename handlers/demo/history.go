package demo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/liaison-bot/liaison/handlers/discord/discordfake"
)

// The demo's history: a week of questions and answers, so that the
// managers' dashboard has something to show from the start. It is played
// as everything else in the demo is, through the fakes: members ask on the
// public server, staff draft in the cards' threads, Bob approves, and the
// real adapters, domain and worker do the rest; only the clock is moved,
// back a week and then forward to now, event by event.

// clock is the demo's time: the wall clock, shifted into the past while the
// history is played. It only ever moves forward.
type clock struct {
	mu     sync.Mutex
	offset time.Duration // ≤ 0
}

// Now is the fakes' clock.
func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

// service is Now as the domain keeps time (see bot.SystemClock).
func (c *clock) service() time.Time { return c.Now().UTC().Truncate(time.Microsecond) }

// moveTo moves the clock to t, if that is forward; a t in the future of
// the wall clock is now.
func (c *clock) moveTo(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset = min(0, max(c.offset, time.Until(t)))
}

// pastItem is a question of the history, and what became of it.
type pastItem struct {
	author string // a community member's id
	forum  bool   // a post in the feedback forum (product-feedback); else a message in #help (support)
	title  string // a forum post's title
	text   string
	ago    time.Duration // asked this long before the demo started

	drafter    string        // who drafts the answer; "": nobody yet
	draftAfter time.Duration // after it was asked
	answer     string
	// approveAfter is how long after the draft Bob approves it; 0: the
	// draft still waits.
	approveAfter time.Duration
}

// The history's community members, besides Mia.
const (
	noahID  = "1200000000000000102"
	priyaID = "1200000000000000103"
	samID   = "1200000000000000104"
)

// history is the demo's past: 19 questions over eight days, 15 answered
// (by Alice and Dana, approved by Bob) from half an hour to three and a
// half days later, one draft awaiting approval, three questions waiting,
// one of them past its SLA.
var history = []pastItem{
	{author: miaID, forum: true, title: "Dark mode for the editor", text: "Any plans for a dark mode in the dashboard editor? My eyes would thank you.", ago: 200 * time.Hour,
		drafter: aliceID, draftAfter: 18 * time.Minute, approveAfter: 12 * time.Minute, answer: "Dark mode is planned for the spring release; we will post here when the beta opens."},
	{author: noahID, text: "How do I reset my API key? The old one leaked in a screenshot.", ago: 190 * time.Hour,
		drafter: danaID, draftAfter: 90 * time.Minute, approveAfter: 30 * time.Minute, answer: "Settings, then API keys, then Revoke and Create key. The old key stops working at once."},
	{author: priyaID, text: "Is there a rate limit on the export API?", ago: 170 * time.Hour,
		drafter: danaID, draftAfter: 15 * time.Minute, approveAfter: 15 * time.Minute, answer: "Yes: 60 requests a minute per workspace. The response headers say how many are left."},
	{author: samID, forum: true, title: "Keyboard shortcuts", text: "Please add keyboard shortcuts to the chart builder, at least undo and duplicate.", ago: 150 * time.Hour,
		drafter: aliceID, draftAfter: 20 * time.Hour, approveAfter: 6 * time.Hour, answer: "Undo and duplicate shortcuts arrive next month; more will follow."},
	{author: miaID, text: "Login loops back to the sign-in page on Safari.", ago: 140 * time.Hour,
		drafter: danaID, draftAfter: 3 * time.Hour, approveAfter: 30 * time.Minute, answer: "We shipped a fix for Safari this morning; please try again and tell us if it still loops."},
	{author: noahID, text: "Can I change the email address our invoices go to?", ago: 120 * time.Hour,
		drafter: aliceID, draftAfter: 5 * time.Hour, approveAfter: time.Hour, answer: "Yes: Billing, then Invoice recipients. You can add several addresses."},
	{author: priyaID, forum: true, title: "Shared annotations", text: "Idea: let teammates annotate a chart and see the notes of the others.", ago: 110 * time.Hour,
		drafter: aliceID, draftAfter: 80 * time.Hour, approveAfter: 4 * time.Hour, answer: "Shared annotations are now on the roadmap; we will share mock-ups here for feedback."},
	{author: samID, text: "What happens to our data when we delete a workspace?", ago: 100 * time.Hour,
		drafter: danaID, draftAfter: 26 * time.Hour, approveAfter: 2 * time.Hour, answer: "It is kept 30 days so it can be restored, then deleted for good, backups included."},
	{author: samID, text: "How many times do you retry a failed webhook?", ago: 96 * time.Hour,
		drafter: danaID, draftAfter: 30 * time.Minute, approveAfter: 12 * time.Minute, answer: "Five times over 24 hours, each wait longer than the last. The delivery log lists every attempt."},
	{author: miaID, text: "CSV import fails when the file uses semicolons.", ago: 75 * time.Hour,
		drafter: danaID, draftAfter: 8 * time.Hour, approveAfter: 2 * time.Hour, answer: "The importer now detects semicolons; if it still fails, choose the separator under Advanced."},
	{author: noahID, forum: true, title: "Weekly digest by email", text: "A weekly email with a snapshot of my dashboards would save me a login every Monday.", ago: 60 * time.Hour,
		drafter: aliceID, draftAfter: 30 * time.Hour, approveAfter: 10 * time.Hour, answer: "Scheduled email snapshots are being built, and weekly will be one of the options."},
	{author: priyaID, text: "Where do I find the audit log?", ago: 50 * time.Hour,
		drafter: danaID, draftAfter: time.Hour, approveAfter: 30 * time.Minute, answer: "Admin, then Security, then Audit log, on the Business plan and above."},
	{author: priyaID, text: "Our invoice shows the wrong VAT number.", ago: 40 * time.Hour},
	{author: samID, text: "Do you support single sign-on with Okta?", ago: 30 * time.Hour,
		drafter: aliceID, draftAfter: 2 * time.Hour, approveAfter: time.Hour, answer: "Yes, SAML single sign-on works with Okta; the guide is under Admin, then Security."},
	{author: miaID, forum: true, title: "More colour palettes", text: "Could we get more colour palettes, or define our brand colours?", ago: 26 * time.Hour,
		drafter: aliceID, draftAfter: 12 * time.Hour, approveAfter: 6 * time.Hour, answer: "Custom palettes come with the theme editor: you will be able to save your brand colours."},
	{author: samID, forum: true, title: "Pin dashboards", text: "Let me pin my favourite dashboards to the top of the sidebar.", ago: 20 * time.Hour},
	{author: noahID, text: "Two-factor codes are not arriving by SMS.", ago: 8 * time.Hour,
		drafter: danaID, draftAfter: 30 * time.Minute, approveAfter: 18 * time.Minute, answer: "Some carriers delay our texts today; the authenticator app option works meanwhile."},
	{author: miaID, text: "Can I export a dashboard as a PDF?", ago: 5 * time.Hour,
		drafter: aliceID, draftAfter: 2 * time.Hour, answer: "Not yet: PDF export is planned for the summer. Printing to PDF from the browser works in the meantime."},
	{author: noahID, text: "Small typo on the pricing page: anually.", ago: 2 * time.Hour},
}

// historySpan is how far back the history starts.
func historySpan() time.Duration {
	var span time.Duration
	for _, it := range history {
		span = max(span, it.ago)
	}
	return span + time.Minute
}

// pastEvent is one thing that happens in the history.
type pastEvent struct {
	at   time.Time
	item int
	do   string // "ask", "draft" or "approve"
}

// played is what an item of the history left on the fakes.
type played struct {
	question string // the Discord message's id
	post     string // the forum post's id, for a forum item
	card     string // the card's ts
	draft    string // the draft card's ts
}

// playHistory plays the history, which ends at end, through the fakes,
// and moves the clock to now.
func (w *world) playHistory(ctx context.Context, end time.Time, within time.Duration) error {
	var events []pastEvent
	for i, it := range history {
		asked := end.Add(-it.ago)
		events = append(events, pastEvent{asked, i, "ask"})
		if it.drafter != "" {
			events = append(events, pastEvent{asked.Add(it.draftAfter), i, "draft"})
			if it.approveAfter > 0 {
				events = append(events, pastEvent{asked.Add(it.draftAfter + it.approveAfter), i, "approve"})
			}
		}
	}
	slices.SortStableFunc(events, func(a, b pastEvent) int { return a.at.Compare(b.at) })
	p := make([]played, len(history))
	for _, e := range events {
		w.clock.moveTo(e.at)
		var err error
		switch e.do {
		case "ask":
			err = w.ask(ctx, &p[e.item], history[e.item], within)
		case "draft":
			err = w.draft(ctx, &p[e.item], history[e.item], within)
		case "approve":
			err = w.approve(ctx, &p[e.item], history[e.item], within)
		}
		if err == nil {
			err = w.settle(ctx, within)
		}
		if err != nil {
			return fmt.Errorf("demo: the history, %s %d (%q): %w", e.do, e.item+1, history[e.item].text, err)
		}
	}
	w.clock.moveTo(time.Now())
	return nil
}

// cardChannel is where an item's card goes.
func (it pastItem) cardChannel() string {
	if it.forum {
		return productChannel
	}
	return supportChannel
}

func (w *world) ask(ctx context.Context, p *played, it pastItem, within time.Duration) error {
	before := w.cards(it.cardChannel())
	if it.forum {
		post, m, err := w.discord.OpenForumPost(it.author, forumChannel, it.title, it.text)
		if err != nil {
			return err
		}
		p.post, p.question = post.ID, m.ID
	} else {
		m, err := w.discord.Post(it.author, helpChannel, it.text)
		if err != nil {
			return err
		}
		p.question = m.ID
	}
	return w.waitOn(ctx, w.slack.WaitFor, within, "its card", func() bool {
		for _, ts := range w.cards(it.cardChannel()) {
			if !slices.Contains(before, ts) {
				p.card = ts
				return true
			}
		}
		return false
	})
}

// cards lists the cards of a channel: the bot's top-level posts with a
// Reply publicly button.
func (w *world) cards(channel string) []string {
	var out []string
	for _, m := range w.slack.Messages(channel) {
		if m.BotID != "" && (m.ThreadTS == "" || m.ThreadTS == m.TS) && hasButton(m, "liaison_reply") {
			out = append(out, m.TS)
		}
	}
	return out
}

func (w *world) draft(ctx context.Context, p *played, it pastItem, within time.Duration) error {
	channel := it.cardChannel()
	if _, err := w.slack.Reply(it.drafter, channel, p.card, slackTyped("!reply "+it.answer)); err != nil {
		return err
	}
	return w.waitOn(ctx, w.slack.WaitFor, within, "the draft card", func() bool {
		for _, m := range w.slack.Thread(channel, p.card) {
			if m.TS != p.card && m.BotID != "" && hasButton(m, "liaison_approve") {
				p.draft = m.TS
				return true
			}
		}
		return false
	})
}

func (w *world) approve(ctx context.Context, p *played, it pastItem, within time.Duration) error {
	where := helpChannel
	if it.forum {
		where = p.post
	}
	before := w.publicReplies(where)
	if err := w.slack.Click(bobID, it.cardChannel(), p.draft, "liaison_approve"); err != nil {
		return err
	}
	return w.waitOn(ctx, w.discord.WaitFor, within, "the public reply", func() bool {
		return len(w.publicReplies(where)) > len(before)
	})
}

// publicReplies are the webhook posts of a channel or forum post.
func (w *world) publicReplies(channel string) []discordfake.Message {
	var out []discordfake.Message
	for _, m := range w.discord.Messages(channel) {
		if m.WebhookID != "" && !m.Deleted {
			out = append(out, m)
		}
	}
	return out
}

// waitOn waits, on a fake's change notifications, until cond holds.
func (w *world) waitOn(ctx context.Context, waitFor func(context.Context, func() bool) error, within time.Duration, what string, cond func() bool) error {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	if err := waitFor(ctx, cond); err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("%s did not appear within %s", what, within)
		}
		return err
	}
	return nil
}

// settle waits until the outbox has nothing due: what the last event
// caused is done, at the time it happened, before the clock moves on.
func (w *world) settle(ctx context.Context, within time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	for {
		due, _, err := w.outbox.OutboxStats(ctx, w.clock.service())
		if err != nil {
			return err
		}
		if due == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d outbox jobs still due after %s", due, within)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// outbox reports the outbox's backlog (storage.DB does).
type outbox interface {
	OutboxStats(ctx context.Context, now time.Time) (due int, oldestDue time.Duration, err error)
}
