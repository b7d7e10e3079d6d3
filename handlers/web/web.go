// Package web is Liaison's HTTP surface: liveness and readiness probes,
// Prometheus metrics, and a mount point for the Slack HTTP-mode endpoints.
package web

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	stdlog "log"
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
	"golang.org/x/sync/errgroup"

	"github.com/liaison-bot/liaison/bot"
)

// Pinger reports whether a dependency (the database) is reachable.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Defaults of the timeouts left at zero in Options. Nothing Liaison serves
// takes a large body, and Slack wants an HTTP-mode answer within 3 seconds:
// a client that takes longer to send its request is broken or hostile, and
// holds a goroutine and a buffer while it does.
const (
	DefaultReadHeaderTimeout = 5 * time.Second
	DefaultReadTimeout       = 10 * time.Second
	DefaultWriteTimeout      = 15 * time.Second
	DefaultIdleTimeout       = 60 * time.Second
)

// Options say where the server listens and how long a client may hold a
// connection. A zero timeout means its default.
type Options struct {
	Addr string
	// MetricsAddr, if set, is the only address that serves /metrics: Addr,
	// which may be exposed for Slack, then answers 404 there. Empty serves
	// /metrics on Addr.
	MetricsAddr string
	// ReadHeaderTimeout bounds reading a request's headers, ReadTimeout
	// the whole request, body included.
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	// WriteTimeout bounds a request from the end of its headers to the
	// end of the answer.
	WriteTimeout time.Duration
	// IdleTimeout closes a kept-alive connection that sends no next request.
	IdleTimeout time.Duration
}

// Server serves the HTTP surface.
type Server struct {
	DB      Pinger
	Metrics *Metrics
	Log     *slog.Logger // nil: slog.Default()
	opts    Options
	mux     *http.ServeMux // on Addr
	metrics *http.ServeMux // on MetricsAddr; nil when /metrics is on Addr

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

// NewServer returns a server with /healthz, /readyz and /metrics, the
// latter on its own address if o.MetricsAddr is set.
func NewServer(o Options, db Pinger, m *Metrics) *Server {
	o.ReadHeaderTimeout = cmp.Or(o.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	o.ReadTimeout = cmp.Or(o.ReadTimeout, DefaultReadTimeout)
	o.WriteTimeout = cmp.Or(o.WriteTimeout, DefaultWriteTimeout)
	o.IdleTimeout = cmp.Or(o.IdleTimeout, DefaultIdleTimeout)
	s := &Server{DB: db, Metrics: m, opts: o, mux: http.NewServeMux()}
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("ok\n"))
	})
	s.mux.HandleFunc("GET /readyz", s.ready)
	metrics := s.mux
	if o.MetricsAddr != "" {
		s.metrics = http.NewServeMux()
		metrics = s.metrics
	}
	metrics.Handle("GET /metrics", promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{}))
	return s
}

// Handle mounts h at pattern (Slack HTTP-mode endpoints).
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// Handler is the handler served on Addr, for tests.
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
	ln, err := net.Listen("tcp", s.opts.Addr)
	if err != nil {
		return fmt.Errorf("http: listen on %s: %w", s.opts.Addr, err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves on ln, and /metrics on MetricsAddr if set, until ctx is
// cancelled, then shuts down gracefully.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	var mln net.Listener
	if s.metrics != nil {
		var err error
		if mln, err = net.Listen("tcp", s.opts.MetricsAddr); err != nil {
			ln.Close()
			return fmt.Errorf("http: listen on %s for /metrics: %w", s.opts.MetricsAddr, err)
		}
	}
	return s.serve(ctx, ln, mln)
}

// serve runs one http.Server on ln and, if mln is not nil, one for
// /metrics on mln, with the same timeouts; it stops both when ctx is
// cancelled or either fails.
func (s *Server) serve(ctx context.Context, ln, mln net.Listener) error {
	log := s.Log
	if log == nil {
		log = slog.Default()
	}
	// net/http logs some failures itself, a line each (a handler that
	// panics on every request): through slog, and sampled like refusals.
	errorLog := stdlog.New(&sampledWriter{log: log, sampler: NewSampler(RefusalLogEvery)}, "", 0)
	type listening struct {
		srv *http.Server
		ln  net.Listener
	}
	servers := []listening{{s.httpServer(s.mux, errorLog), ln}}
	if mln != nil {
		servers = append(servers, listening{s.httpServer(s.metrics, errorLog), mln})
	}
	g, gctx := errgroup.WithContext(ctx)
	for i, l := range servers {
		what := "http listening"
		if i > 0 {
			what = "metrics listening"
		}
		log.Info(what, "addr", l.ln.Addr().String())
		g.Go(func() error {
			if err := l.srv.Serve(l.ln); !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("http: serve on %s: %w", l.ln.Addr(), err)
			}
			return nil
		})
	}
	g.Go(func() error {
		<-gctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var errs []error
		for _, l := range servers {
			if err := l.srv.Shutdown(sctx); err != nil {
				l.srv.Close()
				errs = append(errs, fmt.Errorf("http: shut down %s: %w", l.ln.Addr(), err))
			}
		}
		return errors.Join(errs...)
	})
	return g.Wait()
}

// httpServer returns a server of h with the configured timeouts: a client
// that trickles its request, or keeps an idle connection, is cut off.
func (s *Server) httpServer(h http.Handler, errorLog *stdlog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: s.opts.ReadHeaderTimeout,
		ReadTimeout:       s.opts.ReadTimeout,
		WriteTimeout:      s.opts.WriteTimeout,
		IdleTimeout:       s.opts.IdleTimeout,
		ErrorLog:          errorLog,
	}
}

// Metrics implements bot.Metrics with Prometheus counters.
type Metrics struct {
	registry *prometheus.Registry
	intake   *prometheus.CounterVec
	jobs     *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	reconn   *prometheus.CounterVec
	conn     *prometheus.GaugeVec
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
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "liaison_latency_seconds", Help: "Latency of a step: event_to_card (public message to its card), approval_to_public (approval to the public post).",
			Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600},
		}, []string{"step"}),
		reconn: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "liaison_reconnects_total", Help: "Gateway sessions or Socket Mode sockets opened after the first, by connection.",
		}, []string{"connection"}),
		conn: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "liaison_connection_up", Help: "1 while a connection's gateway or socket is up.",
		}, []string{"connection"}),
	}
	m.registry.MustRegister(m.intake, m.jobs, m.latency, m.reconn, m.conn, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *Metrics) Intake(conn string, outcome bot.Intake) {
	m.intake.WithLabelValues(conn, string(outcome)).Inc()
}

func (m *Metrics) Job(kind bot.OpKind, result string) {
	m.jobs.WithLabelValues(string(kind), result).Inc()
}

func (m *Metrics) Latency(step string, d time.Duration) {
	m.latency.WithLabelValues(step).Observe(d.Seconds())
}

func (m *Metrics) Reconnect(conn string) { m.reconn.WithLabelValues(conn).Inc() }

func (m *Metrics) ConnState(conn string, up bool) {
	v := 0.0
	if up {
		v = 1
	}
	m.conn.WithLabelValues(conn).Set(v)
}
