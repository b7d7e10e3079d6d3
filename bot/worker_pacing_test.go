package bot_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/bot/mock"
	"github.com/liaison-bot/liaison/storage"
	"github.com/liaison-bot/liaison/storage/storagetest"
)

// paced makes the staff connection post one message a second per channel,
// and the worker send a job whose slot is not now back to pending until
// then, so that the test moves time itself.
func paced(e *env) {
	e.staff.Pace = bot.Limits{Post: bot.Limit{Every: time.Second, Burst: 1}}
	e.worker.MaxSlotWait = 0
}

// TestPacingNewCardsBeforeFollowUps: within one channel's limit, one post
// a second, new cards go before the follow-ups of items already shown, and
// the follow-ups that waited go out together, after their item's card.
func TestPacingNewCardsBeforeFollowUps(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		paced(e)
		a := e.post(helpChan, "pricing question A")
		e.receive(a, bot.IntakeNew)
		for i := range 3 {
			fu := e.post(helpChan, fmt.Sprintf("follow-up A%d", i+1))
			fu.ReplyTo = a.ID
			e.receive(fu, bot.IntakeFollowUp)
		}
		e.receive(e.post(helpChan, "pricing question B"), bot.IntakeNew)
		e.receive(e.post(helpChan, "pricing question C"), bot.IntakeNew)

		var order []string
		for step := range 10 {
			e.drain()
			posts := e.staff.Posts(productCh)
			for _, p := range posts[len(order):] {
				switch {
				case p.Card != nil:
					order = append(order, "card "+p.Card.Text[len(p.Card.Text)-1:])
				default:
					order = append(order, "note "+p.Text)
				}
			}
			if got := len(posts); got > step+1 {
				t.Fatalf("%d posts after %d s at one post a second: %v", got, step, order)
			}
			e.clock.Advance(time.Second)
		}
		if len(order) != 4 {
			t.Fatalf("posts in #product: %q, want 3 cards and one note", order)
		}
		if order[0] != "card A" || order[1] != "card B" || order[2] != "card C" {
			t.Fatalf("order %q: the new cards should come before the follow-ups", order)
		}
		note := order[3]
		for i, want := range []string{"A1", "A2", "A3"} {
			if strings.Count(note, "follow-up "+want) != 1 {
				t.Fatalf("merged note lacks follow-up %s exactly once: %q", want, note)
			}
			if i > 0 && strings.Index(note, "follow-up "+want) < strings.Index(note, fmt.Sprintf("follow-up A%d", i)) {
				t.Fatalf("merged note out of order: %q", note)
			}
		}
		if n := e.staff.Sends(bot.OpPostNote); n != 1 {
			t.Fatalf("%d note posts, want the three follow-ups in one", n)
		}
	})
}

// TestMergedFollowUpsStayEditable: follow-ups posted together are each
// still edited and deleted in that post.
func TestMergedFollowUpsStayEditable(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		it, _ := e.askPricing()
		var fus []bot.Incoming
		for i := range 4 {
			fu := e.post(helpChan, fmt.Sprintf("follow-up number %d", i+1))
			fu.ReplyTo = it.RootMsgID
			e.receive(fu, bot.IntakeFollowUp)
			fus = append(fus, fu)
		}
		e.drain()
		notes := e.staff.Thread(productCh, it.CardThread)
		if len(notes) != 1 {
			t.Fatalf("%d notes, want the four follow-ups in one: %+v", len(notes), notes)
		}
		key := func(fu bot.Incoming) bot.MessageKey {
			return bot.MessageKey{Conn: publicConn, Channel: helpChan, ID: fu.ID}
		}
		if err := e.svc.Edit(e.ctx, key(fus[2]), "follow-up number 3, corrected", e.clock.Now()); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Delete(e.ctx, key(fus[1]), e.clock.Now()); err != nil {
			t.Fatal(err)
		}
		e.drain()
		got, _ := e.staff.Get(notes[0].ID)
		for _, want := range []string{"follow-up number 1", "(deleted this message)", "follow-up number 3, corrected (edited)", "follow-up number 4"} {
			if strings.Count(got.Text, want) != 1 {
				t.Fatalf("note after an edit and a deletion lacks %q once:\n%s", want, got.Text)
			}
		}
		if strings.Contains(got.Text, "follow-up number 2") {
			t.Fatalf("deleted follow-up still shown:\n%s", got.Text)
		}
		if n := len(e.staff.Thread(productCh, it.CardThread)); n != 1 {
			t.Fatalf("%d notes after edits, want the one post updated", n)
		}
	})
}

// TestMergeStaysWithinOneMessage: follow-ups too long for one message go
// in as many posts as needed, each once, in order.
func TestMergeStaysWithinOneMessage(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		e.staff.Caps.MaxNote = 400
		it, _ := e.askPricing()
		var texts []string
		for i := range 7 {
			text := fmt.Sprintf("follow-up %d %s", i+1, strings.Repeat("words ", 15))
			fu := e.post(helpChan, text)
			fu.ReplyTo = it.RootMsgID
			e.receive(fu, bot.IntakeFollowUp)
			texts = append(texts, fmt.Sprintf("follow-up %d ", i+1))
		}
		e.drain()
		notes := e.staff.Thread(productCh, it.CardThread)
		if len(notes) < 2 || len(notes) >= 7 {
			t.Fatalf("%d notes for 7 long follow-ups, want them merged within 400 characters a post", len(notes))
		}
		all := ""
		for _, n := range notes {
			if len([]rune(n.Text)) > 400 {
				t.Fatalf("note of %d characters, over the limit of 400", len([]rune(n.Text)))
			}
			all += n.Text + "\n"
		}
		last := -1
		for _, want := range texts {
			if strings.Count(all, want) != 1 {
				t.Fatalf("%q not shown exactly once:\n%s", want, all)
			}
			i := strings.Index(all, want)
			if i < last {
				t.Fatalf("follow-ups out of order:\n%s", all)
			}
			last = i
		}
	})
}

// TestRateLimitHoldsTheChannel: a 429 holds its channel for Retry-After:
// no other post is tried there meanwhile, and it is counted.
func TestRateLimitHoldsTheChannel(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		m := &rateMetrics{Metrics: bot.NoMetrics}
		e.svc.Metrics = m
		e.staff.FailNext(mock.Failure{Kind: bot.OpPostCard, Err: bot.RetryAfter(5*time.Second, fmt.Errorf("ratelimited"))})
		e.receive(e.post(helpChan, "pricing one"), bot.IntakeNew)
		e.receive(e.post(helpChan, "pricing two"), bot.IntakeNew)
		e.receive(e.post(helpChan, "login broken"), bot.IntakeNew) // #support
		e.drain()
		if n := e.staff.Sends(bot.OpPostCard); n != 2 {
			t.Fatalf("%d card posts, want the refused one and #support's", n)
		}
		if len(e.staff.Posts(supportCh)) != 1 {
			t.Fatal("another channel waited for #product's limit")
		}
		if m.limited() != 1 {
			t.Fatalf("429s counted: %d, want 1", m.limited())
		}
		e.clock.Advance(5 * time.Second)
		e.drain()
		if got := len(e.staff.Posts(productCh)); got != 2 {
			t.Fatalf("%d cards in #product after the wait, want 2", got)
		}
	})
}

type rateMetrics struct {
	bot.Metrics
	mu    sync.Mutex
	n429  int
	waits int
}

func (m *rateMetrics) RateLimited(string, string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.n429++
}

func (m *rateMetrics) RateWait(string, string, time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.waits++
}

func (m *rateMetrics) limited() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.n429
}

// blocking is a platform whose posts wait until released, to see which
// calls are in flight at once.
type blocking struct {
	*mock.Platform
	mu       sync.Mutex
	inFlight map[string]int // by channel
	most     int            // calls in flight at once, at most
	perItem  map[string][]string
	release  chan struct{}
}

func (b *blocking) Send(ctx context.Context, op *bot.Op) (bot.Result, error) {
	b.mu.Lock()
	b.inFlight[op.Channel]++
	total := 0
	for _, n := range b.inFlight {
		total += n
	}
	b.most = max(b.most, total)
	b.mu.Unlock()
	select {
	case <-b.release:
	case <-ctx.Done():
	}
	b.mu.Lock()
	b.inFlight[op.Channel]--
	b.mu.Unlock()
	return b.Platform.Send(ctx, op)
}

// TestChannelsInParallel: Run sends to several channels at once, while an
// item's jobs keep their order.
func TestChannelsInParallel(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		e.svc.Clock = bot.SystemClock
		b := &blocking{Platform: e.staff, inFlight: map[string]int{}, release: make(chan struct{})}
		e.svc.Platforms[staffConn] = b
		e.receive(e.post(helpChan, "pricing one"), bot.IntakeNew)
		e.receive(e.post(helpChan, "login broken"), bot.IntakeNew)
		ctx, stop := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- e.worker.Run(ctx) }()
		deadline := time.Now().Add(10 * time.Second)
		for {
			b.mu.Lock()
			most := b.most
			b.mu.Unlock()
			if most >= 2 {
				break
			}
			if time.Now().After(deadline) {
				stop()
				t.Fatalf("calls in flight at once: %d, want the two channels' cards together", most)
			}
			time.Sleep(10 * time.Millisecond)
		}
		close(b.release)
		for time.Now().Before(deadline) && (len(e.staff.Posts(productCh)) == 0 || len(e.staff.Posts(supportCh)) == 0) {
			time.Sleep(10 * time.Millisecond)
		}
		stop()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if len(e.staff.Posts(productCh)) != 1 || len(e.staff.Posts(supportCh)) != 1 {
			t.Fatalf("cards: #product %d, #support %d", len(e.staff.Posts(productCh)), len(e.staff.Posts(supportCh)))
		}
	})
}

// TestRateWaitsCounted: calls that waited for their channel's limit are
// counted, and the log says once when the channel started making calls
// wait and once when it caught up, not once per call.
func TestRateWaitsCounted(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		paced(e)
		m := &rateMetrics{Metrics: bot.NoMetrics}
		var log strings.Builder
		var mu sync.Mutex
		e.svc.Metrics = m
		e.svc.Log = slog.New(slog.NewTextHandler(&lockedWriter{w: &log, mu: &mu}, nil))
		for i := range 4 {
			e.receive(e.post(helpChan, fmt.Sprintf("pricing question %d", i)), bot.IntakeNew)
		}
		for range 6 {
			e.drain()
			e.clock.Advance(time.Second + 100*time.Millisecond)
		}
		e.receive(e.post(helpChan, "pricing question, later"), bot.IntakeNew)
		e.drain()
		if n := len(e.staff.Posts(productCh)); n != 5 {
			t.Fatalf("%d cards, want 5", n)
		}
		m.mu.Lock()
		waits := m.waits
		m.mu.Unlock()
		if waits != 3 {
			t.Fatalf("%d calls counted as waiting for the limit, want 3 (the cards after the first)", waits)
		}
		mu.Lock()
		out := log.String()
		mu.Unlock()
		if strings.Count(out, "rate limit reached") != 1 || strings.Count(out, "rate limit: caught up") != 1 || !strings.Contains(out, "calls_waited=3") {
			t.Fatalf("log of the waits:\n%s", out)
		}
	})
}

type lockedWriter struct {
	w  *strings.Builder
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestRateLimitedEditsWait: a 429 on an update holds the connection's
// updates for its Retry-After, not its posts.
func TestRateLimitedEditsWait(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		e.worker.MaxSlotWait = 0
		one, _ := e.askPricing()
		e.receive(e.post(helpChan, "login broken"), bot.IntakeNew) // #support
		e.drain()
		_, other := e.card(supportCh)
		e.staff.FailNext(mock.Failure{Kind: bot.OpUpdateCard, Err: bot.RetryAfter(30*time.Second, fmt.Errorf("ratelimited"))})
		if err := e.act(alice, bot.ActClaim, one.ID); err != nil {
			t.Fatal(err)
		}
		e.drain()
		// Another card's update, and a new card, during the wait.
		if err := e.act(alice, bot.ActClaim, other.ID); err != nil {
			t.Fatal(err)
		}
		e.receive(e.post(helpChan, "pricing again"), bot.IntakeNew)
		e.drain()
		if got := e.staff.Sends(bot.OpUpdateCard); got != 1 {
			t.Fatalf("%d card updates during the 429's wait, want only the refused one", got)
		}
		if n := len(e.staff.Posts(productCh)); n != 2 {
			t.Fatalf("%d cards in #product, want the new one posted during the updates' wait", n)
		}
		e.clock.Advance(30 * time.Second)
		e.drain()
		if got := e.staff.Sends(bot.OpUpdateCard); got != 3 {
			t.Fatalf("%d card updates after the wait, want both cards updated", got)
		}
	})
}
