package discord_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/handlers/discord"
	"github.com/liaison-bot/liaison/handlers/discord/discordfake"
	"github.com/liaison-bot/liaison/storage/storagetest"
)

// TestOneGatewayPerToken: two replicas share one database and one bot
// token. Only one opens the gateway (Discord would send both every event);
// the other stands by, healthy, and still serves REST. Messages and clicks
// are handled once. When the holder dies without a word, the standby takes
// over well within 15 seconds and catches up with what was said meanwhile.
func TestOneGatewayPerToken(t *testing.T) {
	for _, engine := range storagetest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			var mu sync.Mutex
			domains := map[string]*flaky{} // community's, by owner
			w := newWorld(t, worldOpts{engine: engine, keepLogs: true, adapter: func(name string, o *discord.Options, d discord.Domain) discord.Domain {
				o.LeaseTTL = time.Second
				if name != "community" {
					return nil
				}
				f := &flaky{Domain: d}
				mu.Lock()
				domains[o.Owner] = f
				mu.Unlock()
				return f
			}})
			replica := w.start("replica")
			standby := replica.Conns["community"]
			waitHealthy(t, standby)
			eventually(t, "the replica standing by", func() bool {
				return strings.Contains(w.logs.String(), `msg="standby: another replica holds the gateway" conn=community`)
			})
			// Two lease periods: the holder renews, the standby waits.
			for end := time.Now().Add(2 * time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
				for name, f := range map[string]*discordfake.Fake{"public": w.pub, "internal": w.inner} {
					if gi := f.Gateway(); gi.Sessions != 1 || gi.Identifies != 1 {
						t.Fatalf("%s Discord: %d sessions open, %d identified; want one of each", name, gi.Sessions, gi.Identifies)
					}
				}
				if err := standby.Health(); err != nil {
					t.Fatalf("the standby is unhealthy: %v", err)
				}
			}

			// One intake, one answer.
			w.post(maria, general, "Hello?")
			card := w.card(1, nil)
			if got := w.click(w.inner, nick, feedback, card.ID, "liaison:claim:1"); got != "Item #1 is yours." {
				t.Errorf("Claim answered %q", got)
			}
			for _, c := range w.inner.Calls() {
				if strings.HasSuffix(c.Path, "/callback") && c.Status != http.StatusNoContent {
					t.Errorf("an interaction was answered twice: %s → %d", c.Path, c.Status)
				}
			}

			// The standby, which has no gateway and knows no channel yet,
			// publishes and reconciles through REST.
			ctx := context.Background()
			op := &bot.Op{Kind: bot.OpPublish, Key: "liaison-job-standby", Conn: "community", Channel: general, After: time.Now(),
				Post: &bot.PublicPost{Username: "Alice Martin · Acme", Body: "Published by the standby", Reply: "Published by the standby"}}
			res, err := standby.Send(ctx, op)
			if err != nil || res.MessageID == "" {
				t.Fatalf("the standby could not publish: %+v, %v", res, err)
			}
			found, ok, err := standby.Find(ctx, op)
			if err != nil || !ok || found.MessageID != res.MessageID {
				t.Errorf("the standby's Find = %+v, %v, %v; want message %s", found, ok, err, res.MessageID)
			}

			// The holder dies: it takes nothing in any more, and goes
			// without releasing its lease. What it missed is read back by
			// the replica.
			mu.Lock()
			holder := domains["e2e"]
			mu.Unlock()
			holder.noRelease.Store(true)
			holder.down.Store(true)
			w.post(sam, general, "While the holder was dying")
			eventually(t, "the holder missing the message", func() bool { return holder.refused.Load() > 0 })
			died := time.Now()
			w.stop(w.liaison)
			w.waitFor(w.pub, "the replica's gateway", func() bool { gi := w.pub.Gateway(); return gi.Connected && gi.Identifies == 2 })
			if d := time.Since(died); d > 15*time.Second {
				t.Errorf("the replica took over after %v, want within 15s", d)
			}
			w.liaison = replica
			waitHealthy(t, standby)
			if c := w.card(2, nil); !strings.Contains(c.Embeds[0].Description, "While the holder was dying") {
				t.Errorf("card #2 = %q", c.Embeds[0].Description)
			}
			if !strings.Contains(w.logs.String(), "channel="+general+" listed=2 taken_in=1") {
				t.Error("the replica did not read the message back")
			}
			w.post(maria, general, "Sentinel")
			w.card(3, nil)
			w.relayedOnce(3, 3)
			if gi := w.pub.Gateway(); gi.Sessions != 1 {
				t.Errorf("%d sessions after the take-over, want 1", gi.Sessions)
			}
		})
	}
}
