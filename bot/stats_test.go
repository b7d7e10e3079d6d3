package bot_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/storage"
	"github.com/liaison-bot/liaison/storage/storagetest"
)

// The figures of storagetest.SeedStats's history, worked out by hand from
// its table (times UTC; 22 October 2026 is a Thursday).

// statsRoutes are the routes the seeded history assumes: product with an
// SLA of 4h (and hours when given), support without SLA. Alice answers
// product, Carol support, Bob approves both.
func statsRoutes(hours *bot.BusinessHours) []bot.Route {
	const h = time.Hour
	return []bot.Route{
		{Name: "product", DestConn: staffConn, DestChannel: productCh,
			Policy: bot.Policy{Mode: bot.ApprovalRequired, Approvers: []string{"U0BOB"}, Responders: []string{"U0ALICE"}, SLA: 4 * h, Hours: hours}},
		{Name: "support", Default: true, DestConn: staffConn, DestChannel: supportCh,
			Policy: bot.Policy{Mode: bot.ApprovalRequired, Approvers: []string{"U0BOB"}, Responders: []string{"U0CAROL"}}},
	}
}

// statsService is a Liaison over a store holding the seeded history, whose
// clock reads storagetest.StatsNow.
func statsService(t *testing.T, db *storage.DB, hours *bot.BusinessHours) (*bot.Service, storagetest.StatsSeed) {
	t.Helper()
	seed := storagetest.SeedStats(t, db)
	svc := bot.NewService(db, nil, bot.NewRouter(nil, statsRoutes(hours)), bot.Settings{Company: "Acme"})
	svc.Clock = func() time.Time { return storagetest.StatsNow }
	return svc, seed
}

func wantSame[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s =\n %+v\nwant\n %+v", what, got, want)
	}
}

// day is Day with its local midnight in loc.
func statsDay(loc *time.Location, d, in, answered int, firstAnswer time.Duration) bot.Day {
	return bot.Day{Date: time.Date(2026, 10, d, 0, 0, 0, 0, loc), In: in, Answered: answered, FirstAnswer: firstAnswer}
}

// sameDays compares days by instant (time.Time's location pointer aside).
func sameDays(t *testing.T, what string, got, want []bot.Day) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d days, want %d:\n %+v", what, len(got), len(want), got)
		return
	}
	for i := range want {
		g, w := got[i], want[i]
		if !g.Date.Equal(w.Date) || g.Date.Location().String() != w.Date.Location().String() || g.In != w.In || g.Answered != w.Answered || g.FirstAnswer != w.FirstAnswer {
			t.Errorf("%s: day %d = %+v, want %+v", what, i, g, w)
		}
	}
}

func TestStats(t *testing.T) {
	const h, m = time.Hour, time.Minute
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		svc, seed := statsService(t, db, nil)
		ctx := context.Background()
		q := bot.StatsQuery{From: storagetest.StatsFrom, To: storagetest.StatsTo}
		r, err := svc.Stats(ctx, q, paris)
		if err != nil {
			t.Fatal(err)
		}
		cur, prev := r.Current, r.Previous

		t.Run("Current", func(t *testing.T) {
			wantSame(t, "query", cur.Query, q)
			// I1–I8: I1 opened at From exactly, E at To is the next
			// period's; I6 is ignored but was said.
			wantSame(t, "items in", cur.ItemsIn, 8)
			// I1 1h, I8 30m, I2 6h, I3 2h; I4 was answered after To.
			wantSame(t, "answered", cur.Answered, 4)
			wantSame(t, "answered share", cur.AnsweredShare(), 0.5)
			wantSame(t, "first answers", cur.FirstAnswers, []time.Duration{30 * m, h, 2 * h, 6 * h})
			// Even count: the median is rank ⌈4·0.5⌉ = 2, the p90 rank ⌈3.6⌉ = 4.
			wantSame(t, "first answer", cur.FirstAnswer, bot.Spread{N: 4, Median: h, P90: 6 * h})
			wantSame(t, "first answer, business", cur.FirstAnswerBusiness, cur.FirstAnswer)
			// Approved by a person and decided in the period: D4 10m, D1
			// 20m, D8 30m (awaiting its signer), D2 40m, D9 1h (a
			// correction), D7 3h. Not D3 (no approver), D5 (rejected), D6
			// (undecided). Median rank 3, p90 rank ⌈5.4⌉ = 6.
			wantSame(t, "approval", cur.Approval, bot.Spread{N: 6, Median: 30 * m, P90: 3 * h})
			// Product's SLA is 4h: I1 answered in 1h is within; I2 in 6h
			// is past, and so are I5, unanswered 40h at To, and I4,
			// answered after To but waiting 24h30m by then; I7 had waited
			// 2h at To; I6 was ignored, owed nothing. Support has no SLA.
			wantSame(t, "past SLA", cur.PastSLA, 3)
			wantSame(t, "within SLA", cur.WithinSLA, 1)
			wantSame(t, "top tags", cur.TopTags, []bot.Count{{Name: "billing", N: 3}, {Name: "login", N: 2}, {Name: "spam", N: 1}})
			// M1, M2, M3, M4, M5, M7, M8 on community and M1 on other;
			// M1, M2 and M4 wrote before From.
			wantSame(t, "members", [2]int{cur.Members, cur.Returning}, [2]int{8, 3})
			wantSame(t, "responders", cur.Responders, []bot.Count{{Name: "Alice Martin", N: 2}, {Name: "Bob Stone", N: 1}, {Name: "Carol", N: 1}})
		})

		t.Run("DaysInParis", func(t *testing.T) {
			// From is 02:00 on the 22nd in Paris and To 01:00 on the 29th:
			// eight local days. The 25th lasts 25 hours (summer time ends),
			// so I3, at 22:30 UTC, is still the 25th (23:30) and I4, at
			// 23:30 UTC, the 26th (00:30); I6 at 23:00 UTC on the 28th is
			// the 29th. The 22nd has I1 (1h) and I8 (30m): the median of
			// two is the lower.
			sameDays(t, "days", cur.Days, []bot.Day{
				statsDay(paris, 22, 2, 2, 30*m), statsDay(paris, 23, 1, 1, 6*h), statsDay(paris, 24, 0, 0, 0), statsDay(paris, 25, 1, 1, 2*h),
				statsDay(paris, 26, 1, 0, 0), statsDay(paris, 27, 1, 0, 0), statsDay(paris, 28, 1, 0, 0), statsDay(paris, 29, 1, 0, 0),
			})
			if got := cur.Days[4].Date.Sub(cur.Days[3].Date); got != 25*h {
				t.Errorf("25 October lasts %s, want 25h", got)
			}
			if r.Location != paris {
				t.Errorf("location = %v", r.Location)
			}
		})

		t.Run("DaysInUTC", func(t *testing.T) {
			r, err := svc.Stats(ctx, q, nil)
			if err != nil {
				t.Fatal(err)
			}
			// The same items cut in UTC: seven days; I3 and I4 both the
			// 25th, I7 and I6 both the 28th.
			sameDays(t, "days", r.Current.Days, []bot.Day{
				statsDay(time.UTC, 22, 2, 2, 30*m), statsDay(time.UTC, 23, 1, 1, 6*h), statsDay(time.UTC, 24, 0, 0, 0), statsDay(time.UTC, 25, 2, 1, 2*h),
				statsDay(time.UTC, 26, 0, 0, 0), statsDay(time.UTC, 27, 1, 0, 0), statsDay(time.UTC, 28, 2, 0, 0),
			})
		})

		t.Run("Previous", func(t *testing.T) {
			wantSame(t, "query", prev.Query, q.Previous())
			// P1–P4; W0 is older.
			wantSame(t, "items in", prev.ItemsIn, 4)
			// P1 4h, P2 20m, P3 10h; P4 was answered after the period.
			wantSame(t, "answered", prev.Answered, 3)
			// Odd count: median rank 2, p90 rank ⌈2.7⌉ = 3.
			wantSame(t, "first answer", prev.FirstAnswer, bot.Spread{N: 3, Median: 4 * h, P90: 10 * h})
			wantSame(t, "approval", prev.Approval, bot.Spread{N: 1, Median: 45 * m, P90: 45 * m})
			// P1, answered in exactly 4h, is within; P3 (10h) past; P4
			// had waited exactly 4h at the period's end: not past.
			wantSame(t, "past, within SLA", [2]int{prev.PastSLA, prev.WithinSLA}, [2]int{1, 1})
			wantSame(t, "top tags", prev.TopTags, []bot.Count{{Name: "billing", N: 1}, {Name: "login", N: 1}})
			wantSame(t, "members", [2]int{prev.Members, prev.Returning}, [2]int{4, 1})
			wantSame(t, "responders", prev.Responders, []bot.Count{{Name: "Bob Stone", N: 1}})
			if len(prev.Days) != 8 || !prev.Days[0].Date.Equal(time.Date(2026, 10, 15, 0, 0, 0, 0, paris)) {
				t.Errorf("previous days = %+v", prev.Days)
			}
		})

		t.Run("Queue", func(t *testing.T) {
			// At noon on the 29th: W0, I5, I7 and E wait; I5 (52h), I7
			// (14h) and E (12h) are past product's 4h; W0 is support's.
			// D6 is pending, D8 awaits its signer.
			w := r.Queue
			wantSame(t, "queue counts", [3]int{w.Unanswered, w.AwaitingApproval, w.PastSLA}, [3]int{4, 2, 3})
			wantSame(t, "queue time", w.At, storagetest.StatsNow)
			item := func(name, summary string, since time.Time) bot.Waiting {
				return bot.Waiting{ItemID: seed.Items[name], Route: map[bool]string{true: "support", false: "product"}[name == "W0"],
					Summary: summary, Since: since, Link: "https://community.example/" + name, CardLink: "https://staff.example/card/" + name}
			}
			wantSame(t, "oldest", w.Oldest, []bot.Waiting{
				item("W0", "Is there an API?", time.Date(2026, 10, 10, 0, 0, 0, 0, time.UTC)),
				// Its first line, clipped to 80 characters.
				item("I5", "Could you explain how the new pricing tiers apply to teams that were on the leg…", time.Date(2026, 10, 27, 8, 0, 0, 0, time.UTC)),
				// Sanitised: it pings nobody.
				item("I7", "@\u200beveryone help <\u200b@123>", time.Date(2026, 10, 28, 22, 0, 0, 0, time.UTC)),
				item("E", "", storagetest.StatsTo),
			})
		})

		t.Run("Route", func(t *testing.T) {
			r, err := svc.Stats(ctx, bot.StatsQuery{From: q.From, To: q.To, Route: "product"}, paris)
			if err != nil {
				t.Fatal(err)
			}
			c, p, w := r.Current, r.Previous, r.Queue
			wantSame(t, "items in", [2]int{c.ItemsIn, p.ItemsIn}, [2]int{6, 3})
			wantSame(t, "first answer", c.FirstAnswer, bot.Spread{N: 2, Median: h, P90: 6 * h})
			wantSame(t, "previous first answer", p.FirstAnswer, bot.Spread{N: 2, Median: 4 * h, P90: 10 * h})
			// D1 20m, D8 30m, D2 40m, D9 1h, D7 3h: odd count, median
			// rank 3, p90 rank ⌈4.5⌉ = 5.
			wantSame(t, "approval", c.Approval, bot.Spread{N: 5, Median: 40 * m, P90: 3 * h})
			wantSame(t, "top tags", c.TopTags, []bot.Count{{Name: "billing", N: 3}, {Name: "login", N: 1}, {Name: "spam", N: 1}})
			// M1, M7, M2, M3, M4, M5; returning M1, M2, M4.
			wantSame(t, "members", [2]int{c.Members, c.Returning}, [2]int{6, 3})
			wantSame(t, "responders", c.Responders, []bot.Count{{Name: "Alice Martin", N: 2}})
			wantSame(t, "queue counts", [3]int{w.Unanswered, w.AwaitingApproval, w.PastSLA}, [3]int{3, 2, 3})
			if len(w.Oldest) != 3 || w.Oldest[0].ItemID != seed.Items["I5"] {
				t.Errorf("oldest on product = %+v", w.Oldest)
			}
		})

		t.Run("Text", func(t *testing.T) {
			want := fmt.Sprintf(`📊 Last 7 days (22 Oct – 29 Oct), all routes
• Items in: 8 (+4 vs previous 7 days)
• Answered: 4, 50%% (−25 pts)
• First public answer: median 1h (−3h), p90 6h (−4h)
• Approval: median 30m (−15m), p90 3h (+2h15m), 6 approved
• Past SLA: 3 (+2), 1 within
• Top tags: billing 3, login 2, spam 1
• Members: 8 (+4), 3 returning
• Responders: Alice Martin 2, Bob Stone 1, Carol 1
• Waiting now: 4 unanswered, 2 awaiting approval, 3 past SLA
Oldest waiting:
  – #%d “Is there an API?” · waiting 19d12h (https://staff.example/card/W0)
  – #%d “Could you explain how the new pricing tiers apply to teams that were on the leg…” · waiting 2d4h (https://staff.example/card/I5)
  – #%d “@`+"\u200b"+`everyone help <`+"\u200b"+`@123>” · waiting 14h (https://staff.example/card/I7)
  – #%d · waiting 12h (https://staff.example/card/E)`, seed.Items["W0"], seed.Items["I5"], seed.Items["I7"], seed.Items["E"])
			if got := bot.FormatStats(r); got != want {
				t.Errorf("FormatStats =\n%s\nwant\n%s", got, want)
			}
			if bot.HasPing(bot.FormatStats(r)) {
				t.Errorf("the report would ping someone")
			}
		})
	})
}

// TestStatsBusinessHours: with hours on product (Monday to Friday, 9:00 to
// 17:00 UTC), its times and SLA count business time; support stays
// wall-clock.
func TestStatsBusinessHours(t *testing.T) {
	const h, m = time.Hour, time.Minute
	hours := &bot.BusinessHours{Location: time.UTC, Start: 9 * h, End: 17 * h,
		Days: [7]bool{time.Monday: true, time.Tuesday: true, time.Wednesday: true, time.Thursday: true, time.Friday: true}}
	svc, _ := statsService(t, storagetest.Open(t, "sqlite"), hours)
	r, err := svc.Stats(context.Background(), bot.StatsQuery{From: storagetest.StatsFrom, To: storagetest.StatsTo}, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, p := r.Current, r.Previous
	// Wall-clock times do not change.
	wantSame(t, "first answer", c.FirstAnswer, bot.Spread{N: 4, Median: h, P90: 6 * h})
	// I1 (Thursday 00:00–01:00) took no business time, I2 (Friday
	// 9:00–15:00) 6h; support's I8 30m and I3 2h: 0, 30m, 2h, 6h.
	wantSame(t, "first answer, business", c.FirstAnswerBusiness, bot.Spread{N: 4, Median: 30 * m, P90: 6 * h})
	// P1 (Friday 10:00–14:00) 4h, P3 (Tuesday 8:00–18:00) 8h, P2 20m.
	wantSame(t, "previous, business", p.FirstAnswerBusiness, bot.Spread{N: 3, Median: 4 * h, P90: 8 * h})
	// I1 within; I2 (6h), I5 (Tuesday and Wednesday: 16h by To) and I4
	// (Sunday night: Monday to Wednesday, 24h by To) past.
	wantSame(t, "past, within SLA", [2]int{c.PastSLA, c.WithinSLA}, [2]int{3, 1})
	// At Thursday noon I5 has waited 19 business hours; I7 (since
	// Wednesday 22:00) and E (since midnight) 3h: within 4h.
	wantSame(t, "queue past SLA", r.Queue.PastSLA, 1)
	if text := bot.FormatStats(r); !strings.Contains(text, "\n• In business time: median 30m (−3h30m), p90 6h (−2h)\n") {
		t.Errorf("FormatStats does not give business time:\n%s", text)
	}
}

// TestStatsQuery: a period must end after it starts.
func TestStatsQuery(t *testing.T) {
	const h = time.Hour
	svc, _ := statsService(t, storagetest.Open(t, "sqlite"), nil)
	_, err := svc.Stats(context.Background(), bot.StatsQuery{From: storagetest.StatsTo, To: storagetest.StatsTo}, nil)
	if bot.ErrorCode(err) != bot.EINVALID {
		t.Fatalf("empty period: %v, want an EINVALID error", err)
	}
	if got := (bot.StatsQuery{From: storagetest.StatsFrom, To: storagetest.StatsTo, Route: "x"}).Previous(); got.To != storagetest.StatsFrom ||
		got.From != storagetest.StatsFrom.Add(-7*24*h) || got.Route != "x" {
		t.Errorf("previous = %+v", got)
	}
}

func TestParsePeriod(t *testing.T) {
	const h, d = time.Hour, 24 * time.Hour
	for in, want := range map[string]time.Duration{
		"": 7 * d, "7d": 7 * d, "24h": 24 * h, "30d": 30 * d, "4w": 28 * d, "week": 7 * d, "month": 30 * d,
		" Month ": 30 * d, "7D": 7 * d, "1h": h, "365d": 365 * d, "52w": 364 * d, "day": d, "12 h": 12 * h,
	} {
		if got, err := bot.ParsePeriod(in); err != nil || got != want {
			t.Errorf("ParsePeriod(%q) = %s, %v; want %s", in, got, err, want)
		}
	}
	for _, in := range []string{"0h", "366d", "53w", "7", "d", "abc", "-7d", "1.5d", "7days", "1m", "99999999999d"} {
		if got, err := bot.ParsePeriod(in); bot.ErrorCode(err) != bot.EINVALID {
			t.Errorf("ParsePeriod(%q) = %s, %v; want an EINVALID error", in, got, err)
		}
	}
}

// TestStatsCommand: /liaison stats answers staff privately with the
// figures of the period they ask for, on the route they name; it refuses
// politely what it cannot read and whoever answers no route, and changes
// nothing.
func TestStatsCommand(t *testing.T) {
	ctx := context.Background()
	dsn := storagetest.DSN(t, "sqlite")
	db, err := storage.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	svc, seed := statsService(t, db, nil)
	run := func(a bot.Actor, args map[string]string) bot.Reply {
		return svc.Interact(ctx, bot.Request{Kind: bot.Command, Actor: a, Action: bot.ActStats, Args: args})
	}
	dave := bot.Actor{Conn: staffConn, UserID: "U0DAVE", Name: "dave"}
	member := bot.Actor{Conn: "community", UserID: "M1", Name: "member"}
	before := storagetest.Dump(t, dsn)

	t.Run("Default", func(t *testing.T) {
		for _, a := range []bot.Actor{alice, bob, carol} {
			r := run(a, nil)
			if r.Refused {
				t.Fatalf("stats by %s refused: %q", a.UserID, r.Text)
			}
			// The last 7 days up to now, noon on the 22nd to noon on the
			// 29th: I8 (at noon on the 22nd), I2–I7 and E; the week
			// before, P1–P4 and I1.
			if !strings.HasPrefix(r.Text, "📊 Last 7 days (22 Oct – 29 Oct), all routes\n• Items in: 8 (+3 vs previous 7 days)\n") {
				t.Errorf("stats by %s =\n%s", a.UserID, r.Text)
			}
			if len(r.Links) != 4 || r.Links[0].URL != "https://staff.example/card/W0" || !strings.HasPrefix(r.Links[0].Text, fmt.Sprintf("#%d “Is there an API?”", seed.Items["W0"])) {
				t.Errorf("links = %+v", r.Links)
			}
		}
	})
	t.Run("PeriodAndRoute", func(t *testing.T) {
		r := run(bob, map[string]string{bot.StatsPeriodArg: "24h", bot.StatsRouteArg: "product"})
		// Noon on the 28th to noon on the 29th: I7, I6 and E, all
		// product; none the day before.
		want := "📊 Last 24 hours (28 Oct 12:00 – 29 Oct 12:00 UTC), route product\n• Items in: 3 (+3 vs previous 24 hours)\n"
		if r.Refused || !strings.HasPrefix(r.Text, want) {
			t.Errorf("stats 24h product =\n%s\nwant it to start with\n%s", r.Text, want)
		}
		// A lone route name is the route.
		r = run(bob, map[string]string{bot.StatsPeriodArg: "support"})
		if r.Refused || !strings.HasPrefix(r.Text, "📊 Last 7 days (22 Oct – 29 Oct), route support\n") {
			t.Errorf("stats support =\n%s", r.Text)
		}
	})
	t.Run("Refused", func(t *testing.T) {
		for _, tt := range []struct {
			name string
			a    bot.Actor
			args map[string]string
			want string
		}{
			{"bad period", bob, map[string]string{bot.StatsPeriodArg: "soon"},
				"Sorry, Liaison cannot read `soon` as a period: give a number of hours, days or weeks (24h, 7d, 4w), or week or month, as in `/liaison stats [period] [route]`."},
			{"too long", bob, map[string]string{bot.StatsPeriodArg: "400d"}, "Sorry, a period goes from 1h to 365d; `400d` does not."},
			{"unknown route", bob, map[string]string{bot.StatsPeriodArg: "7d", bot.StatsRouteArg: "sales"},
				"Sorry, there is no route `sales`. The routes are: product, support."},
			{"not a responder", dave, nil, bot.ErrNotStaff.Message},
			{"not a responder, bad period", dave, map[string]string{bot.StatsPeriodArg: "soon"}, bot.ErrNotStaff.Message},
			{"community member", member, nil, bot.ErrNotStaff.Message},
		} {
			r := run(tt.a, tt.args)
			if !r.Refused || r.Text != tt.want || len(r.Links) != 0 {
				t.Errorf("%s: %+v, want the refusal %q", tt.name, r, tt.want)
			}
		}
	})
	if after := storagetest.Dump(t, dsn); after != before {
		t.Errorf("/liaison stats changed the store")
	}
}

// TestStatsRenderQuiet: a period with nothing in it, and a team larger than
// a report names.
func TestStatsRenderQuiet(t *testing.T) {
	q := bot.StatsQuery{From: time.Date(2026, 12, 28, 9, 0, 0, 0, time.UTC), To: time.Date(2027, 1, 27, 9, 0, 0, 0, time.UTC)}
	var responders []bot.Count
	for i := range 10 {
		responders = append(responders, bot.Count{Name: fmt.Sprintf("Person %d", i), N: 10 - i})
	}
	r := &bot.StatsReport{
		Current:  &bot.Stats{Query: q, Responders: responders},
		Previous: &bot.Stats{Query: q.Previous(), ItemsIn: 3},
		Queue:    bot.Queue{At: q.To},
	}
	want := `📊 Last 30 days (28 Dec 2026 – 27 Jan 2027), all routes
• Items in: 0 (−3 vs previous 30 days)
• Answered: no item to answer
• First public answer: none in the period
• Approval: none in the period
• Top tags: none
• Members: 0 (±0), 0 returning
• Responders: Person 0 10, Person 1 9, Person 2 8, Person 3 7, Person 4 6, Person 5 5, Person 6 4, Person 7 3, and 2 more
• Waiting now: 0 unanswered, 0 awaiting approval, 0 past SLA`
	text, links := r.Render()
	if text != want || len(links) != 0 {
		t.Errorf("Render =\n%s\n%v\nwant\n%s", text, links, want)
	}
	if got := bot.FormatStats(r); got != want {
		t.Errorf("FormatStats =\n%s\nwant\n%s", got, want)
	}
}
