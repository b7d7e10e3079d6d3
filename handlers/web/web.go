// Package web is Liaison's HTTP surface: liveness and readiness probes,
// Prometheus metrics, and a mount point for the Slack HTTP-mode endpoints.
package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/liaison-bot/liaison/bot"
)

// Pinger reports whether a dependency (the database) is reachable.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Server serves the HTTP surface.
type Server struct {
	Addr    string
	DB      Pinger
	Metrics *Metrics
	Log     *slog.Logger // nil: slog.Default()
	mux     *http.ServeMux

	mu     sync.Mutex
	checks []check
}

// check is one more condition of readiness: a connection that must be up.
type check struct {
	name string
	fn   func() error
}

// AddCheck makes /readyz fail, naming name and saying why, while fn
// returns an error.
func (s *Server) AddCheck(name string, fn func() error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.checks = append(s.checks, check{name, fn})
}

// NewServer returns a server with /healthz, /readyz and /metrics.
func NewServer(addr string, db Pinger, m *Metrics) *Server {
	s := &Server{Addr: addr, DB: db, Metrics: m, mux: http.NewServeMux()}
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("ok\n"))
	})
	s.mux.HandleFunc("GET /readyz", s.ready)
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{}))
	return s
}

// Handle mounts h at pattern (Slack HTTP-mode endpoints).
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// Handler is the server's handler, for tests.
func (s *Server) Handler() http.Handler { return s.mux }

func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.DB.Ping(ctx); err != nil {
		http.Error(w, "database unreachable", http.StatusServiceUnavailable)
		return
	}
	s.mu.Lock()
	checks := slices.Clone(s.checks)
	s.mu.Unlock()
	var failed []string
	for _, c := range checks {
		if err := c.fn(); err != nil {
			failed = append(failed, c.name+": "+err.Error())
		}
	}
	if len(failed) > 0 {
		http.Error(w, strings.Join(failed, "\n"), http.StatusServiceUnavailable)
		return
	}
	w.Write([]byte("ready\n"))
}

// Run listens on Addr and serves until ctx is cancelled.
func (s *Server) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("http: listen on %s: %w", s.Addr, err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves on ln until ctx is cancelled, then shuts down gracefully.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: s.mux, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log := s.Log
	if log == nil {
		log = slog.Default()
	}
	log.Info("http listening", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Metrics implements bot.Metrics with Prometheus counters.
type Metrics struct {
	registry *prometheus.Registry
	intake   *prometheus.CounterVec
	jobs     *prometheus.CounterVec
}

var _ bot.Metrics = (*Metrics)(nil)

// NewMetrics returns metrics registered on a fresh registry, with the Go
// runtime and process collectors.
func NewMetrics() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		intake: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "liaison_intake_messages_total", Help: "Public messages received, by connection and outcome.",
		}, []string{"connection", "outcome"}),
		jobs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "liaison_outbox_jobs_total", Help: "Outbox job attempts, by kind and result.",
		}, []string{"kind", "result"}),
	}
	m.registry.MustRegister(m.intake, m.jobs, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *Metrics) Intake(conn string, outcome bot.Intake) {
	m.intake.WithLabelValues(conn, string(outcome)).Inc()
}

func (m *Metrics) Job(kind bot.OpKind, result string) {
	m.jobs.WithLabelValues(string(kind), result).Inc()
}
