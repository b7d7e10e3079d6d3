package web_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/handlers/web"
)

type pinger struct{ err error }

func (p pinger) Ping(context.Context) error { return p.err }

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	body, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, string(body)
}

func TestProbesAndMetrics(t *testing.T) {
	m := web.NewMetrics()
	up := web.NewServer(web.Options{Addr: "127.0.0.1:0"}, pinger{}, m).Handler()
	down := web.NewServer(web.Options{Addr: "127.0.0.1:0"}, pinger{errors.New("connection refused")}, m).Handler()

	if code, _ := get(t, up, "/healthz"); code != http.StatusOK {
		t.Fatalf("healthz = %d", code)
	}
	if code, _ := get(t, up, "/readyz"); code != http.StatusOK {
		t.Fatalf("readyz with a database = %d", code)
	}
	if code, body := get(t, down, "/readyz"); code != http.StatusServiceUnavailable || strings.Contains(body, "refused") {
		t.Fatalf("readyz without a database = %d %q", code, body)
	}
	// A connection that is not ready makes the whole not ready, and says why.
	srv := web.NewServer(web.Options{Addr: "127.0.0.1:0"}, pinger{}, m)
	var notReady error = errors.New("application commands not registered yet")
	srv.AddCheck("connection community", func() error { return notReady })
	if code, body := get(t, srv.Handler(), "/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "connection community: application commands not registered yet") {
		t.Fatalf("readyz with a connection not ready = %d %q", code, body)
	}
	notReady = nil
	if code, _ := get(t, srv.Handler(), "/readyz"); code != http.StatusOK {
		t.Fatalf("readyz once the connection is ready = %d", code)
	}
	m.Intake("community", bot.IntakeNew)
	m.Intake("community", bot.IntakeNew)
	m.Job(bot.OpPublish, "done")
	_, body := get(t, up, "/metrics")
	for _, want := range []string{
		`liaison_intake_messages_total{connection="community",outcome="new"} 2`,
		`liaison_outbox_jobs_total{kind="publish",result="done"} 1`,
		"go_goroutines",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// hangingPinger never answers until released, whatever its context says:
// a driver waiting on a network that went silent.
type hangingPinger struct{ release chan struct{} }

func (p hangingPinger) Ping(context.Context) error {
	<-p.release
	return nil
}

// getWithin is get, failing the test if the handler takes longer than
// bound to answer.
func getWithin(t *testing.T, h http.Handler, path string, bound time.Duration) (int, string) {
	t.Helper()
	type answer struct {
		code int
		body string
	}
	done := make(chan answer, 1)
	go func() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		body, _ := io.ReadAll(rec.Result().Body)
		done <- answer{rec.Code, string(body)}
	}()
	select {
	case a := <-done:
		return a.code, a.body
	case <-time.After(bound):
		t.Fatalf("GET %s did not answer within %s", path, bound)
		return 0, ""
	}
}

// TestReadyzWhenTheDatabaseHangs: a database that never answers (its
// network went silent) makes /readyz answer 503 once CheckTimeout has
// passed, saying so, rather than hang with it.
func TestReadyzWhenTheDatabaseHangs(t *testing.T) {
	p := hangingPinger{release: make(chan struct{})}
	t.Cleanup(func() { close(p.release) })
	srv := web.NewServer(web.Options{Addr: "127.0.0.1:0"}, p, web.NewMetrics())
	srv.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	code, body := getWithin(t, srv.Handler(), "/readyz", web.CheckTimeout+5*time.Second)
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "database: no answer within") {
		t.Fatalf("readyz with a hanging database = %d %q", code, body)
	}
}

// TestReadyzGivesEveryReason: with the database and a connection down,
// /readyz names both, and keeps the database's own error (which may name
// its host) for the log.
func TestReadyzGivesEveryReason(t *testing.T) {
	var logs logBuffer
	srv := web.NewServer(web.Options{Addr: "127.0.0.1:0"}, pinger{errors.New("dial tcp db.internal:5432: connection refused")}, web.NewMetrics())
	srv.Log = slog.New(slog.NewTextHandler(&logs, nil))
	srv.AddCheck("connection community", func() error { return errors.New("discord community: gateway not connected") })
	code, body := get(t, srv.Handler(), "/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "database: unreachable") ||
		!strings.Contains(body, "connection community: discord community: gateway not connected") || strings.Contains(body, "db.internal") {
		t.Fatalf("readyz = %d %q, want both reasons and no host", code, body)
	}
	if got := logs.lines("db.internal"); len(got) != 1 {
		t.Fatalf("log lines naming the database error: %q, want one", got)
	}
}

// outbox is a backlog as the store reports it.
type outbox struct {
	due    int
	oldest time.Duration
	err    error
	hang   chan struct{} // if set, OutboxStats waits for it, whatever its context
}

func (o *outbox) OutboxStats(ctx context.Context, now time.Time) (int, time.Duration, error) {
	if o.hang != nil {
		<-o.hang
	}
	return o.due, o.oldest, o.err
}

// TestMetricsGauges: /metrics shows the outbox's backlog as the store
// reports it at scrape time, whether the database answered, each
// connection's readiness and link state, reconnects from 0, and the
// latency histograms before their first observation.
func TestMetricsGauges(t *testing.T) {
	m := web.NewMetrics()
	o := &outbox{due: 3, oldest: 90 * time.Second}
	m.WatchOutbox(o, time.Now)
	m.WatchConnection("community", func() error { return nil })
	m.WatchConnection("internal", func() error { return errors.New("socket down") })
	m.ConnState("community", true)
	m.ConnState("internal", false)
	h := web.NewServer(web.Options{Addr: "127.0.0.1:0"}, pinger{}, m).Handler()
	scrape := func() string {
		t.Helper()
		code, body := getWithin(t, h, "/metrics", web.CheckTimeout+5*time.Second)
		if code != http.StatusOK {
			t.Fatalf("metrics = %d %q", code, body)
		}
		return body
	}
	has := func(body string, want ...string) {
		t.Helper()
		for _, w := range want {
			if !strings.Contains(body, w+"\n") {
				t.Errorf("metrics lack %q", w)
			}
		}
	}
	has(scrape(),
		"liaison_outbox_due_jobs 3",
		"liaison_outbox_oldest_due_seconds 90",
		"liaison_database_up 1",
		`liaison_connection_ready{connection="community"} 1`,
		`liaison_connection_ready{connection="internal"} 0`,
		`liaison_connection_up{connection="community"} 1`,
		`liaison_connection_up{connection="internal"} 0`,
		`liaison_reconnects_total{connection="community"} 0`,
		`liaison_reconnects_total{connection="internal"} 0`,
		`liaison_latency_seconds_count{step="event_to_card"} 0`,
		`liaison_latency_seconds_count{step="approval_to_public"} 0`,
	)
	m.Reconnect("internal")
	m.Latency(bot.LatencyEventToCard, 300*time.Millisecond)
	o.due, o.oldest = 0, 0
	has(scrape(),
		"liaison_outbox_due_jobs 0",
		"liaison_outbox_oldest_due_seconds 0",
		`liaison_reconnects_total{connection="internal"} 1`,
		`liaison_latency_seconds_bucket{step="event_to_card",le="0.5"} 1`,
		`liaison_latency_seconds_count{step="event_to_card"} 1`,
	)

	// The database fails: no backlog figures, and it says so; the rest of
	// the scrape is intact.
	o.err = errors.New("connection refused")
	body := scrape()
	has(body, "liaison_database_up 0", `liaison_connection_ready{connection="community"} 1`)
	if strings.Contains(body, "liaison_outbox_due_jobs ") {
		t.Errorf("a backlog is shown while the database fails:\n%s", body)
	}

	// The database hangs: the scrape still answers.
	o.err, o.hang = nil, make(chan struct{})
	t.Cleanup(func() { close(o.hang) })
	has(scrape(), "liaison_database_up 0")
}
