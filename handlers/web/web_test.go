package web_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

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
