// Package web is Liaison's HTTP surface: liveness and readiness probes,
// Prometheus metrics, the managers' dashboard, and a mount point for the
// Slack HTTP-mode endpoints.
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

// CheckTimeout bounds the database check of /readyz and the outbox query
// of a /metrics scrape: a database that does not answer by then counts as
// down, however long its driver would wait.
const CheckTimeout = 2 * time.Second

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
	// DashboardAddr, if set, is the only address that serves /dashboard
	// (see Server.Dashboard). Empty serves it on Addr.
	DashboardAddr string
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
	dash    *http.ServeMux // on DashboardAddr; nil when /dashboard is on Addr

	mu      sync.Mutex
	checks  []check
	sampler *Sampler // database check failures, for the log
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
	s := &Server{DB: db, Metrics: m, opts: o, mux: http.NewServeMux(), sampler: NewSampler(RefusalLogEvery)}
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
	if o.DashboardAddr != "" {
		s.dash = http.NewServeMux()
	}
	return s
}

// Handle mounts h at pattern (Slack HTTP-mode endpoints).
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// Handler is the handler served on Addr, for tests.
func (s *Server) Handler() http.Handler { return s.mux }

// ready answers 200 when the database answers within CheckTimeout and
// every check passes; otherwise 503, with a line per reason. The
// database's own error goes to the log only: it may name the host.
func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	var failed []string
	if err := within(r.Context(), CheckTimeout, s.DB.Ping); err != nil {
		reason := "database: unreachable"
		if errors.Is(err, context.DeadlineExceeded) {
			reason = fmt.Sprintf("database: no answer within %s", CheckTimeout)
		}
		failed = append(failed, reason)
		if ok, n := s.sampler.Allow("database"); ok {
			s.log().Error("not ready: database check failed", "err", err, "suppressed", n)
		}
	}
	s.mu.Lock()
	checks := slices.Clone(s.checks)
	s.mu.Unlock()
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

func (s *Server) log() *slog.Logger {
	if s.Log == nil {
		return slog.Default()
	}
	return s.Log
}

// within runs fn with a context that ends after d, and returns when fn
// does or when that context ends, whichever comes first: a driver blocked
// on a silent network past its context's end does not hold the caller.
// fn's goroutine ends when fn returns.
func within(ctx context.Context, d time.Duration, fn func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- fn(ctx) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Run listens on Addr and serves until ctx is cancelled.
func (s *Server) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.opts.Addr)
	if err != nil {
		return fmt.Errorf("http: listen on %s: %w", s.opts.Addr, err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves on ln, /metrics on MetricsAddr and /dashboard on
// DashboardAddr if set, until ctx is cancelled, then shuts down
// gracefully.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	var mln, dln net.Listener
	if s.metrics != nil {
		var err error
		if mln, err = net.Listen("tcp", s.opts.MetricsAddr); err != nil {
			ln.Close()
			return fmt.Errorf("http: listen on %s for /metrics: %w", s.opts.MetricsAddr, err)
		}
	}
	if s.dash != nil {
		var err error
		if dln, err = net.Listen("tcp", s.opts.DashboardAddr); err != nil {
			ln.Close()
			if mln != nil {
				mln.Close()
			}
			return fmt.Errorf("http: listen on %s for /dashboard: %w", s.opts.DashboardAddr, err)
		}
	}
	return s.serve(ctx, ln, mln, dln)
}

// serve runs one http.Server on ln and, if not nil, one for /metrics on
// mln and one for /dashboard on dln, with the same timeouts; it stops
// them all when ctx is cancelled or one fails.
func (s *Server) serve(ctx context.Context, ln, mln, dln net.Listener) error {
	log := s.log()
	// net/http logs some failures itself, a line each (a handler that
	// panics on every request): through slog, and sampled like refusals.
	errorLog := stdlog.New(&sampledWriter{log: log, sampler: NewSampler(RefusalLogEvery)}, "", 0)
	type listening struct {
		srv      *http.Server
		shutdown func(context.Context) error
		ln       net.Listener
		what     string
	}
	var servers []listening
	add := func(h http.Handler, ln net.Listener, what string) {
		srv := s.httpServer(h, errorLog)
		servers = append(servers, listening{srv, Graceful(srv), ln, what})
	}
	add(s.mux, ln, "http listening")
	if mln != nil {
		add(s.metrics, mln, "metrics listening")
	}
	if dln != nil {
		add(s.dash, dln, "dashboard listening")
	}
	g, gctx := errgroup.WithContext(ctx)
	for _, l := range servers {
		log.Info(l.what, "addr", l.ln.Addr().String())
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
			if err := l.shutdown(sctx); err != nil {
				l.srv.Close()
				errs = append(errs, fmt.Errorf("http: shut down %s: %w", l.ln.Addr(), err))
			}
		}
		return errors.Join(errs...)
	})
	return g.Wait()
}

// Graceful returns srv's graceful shutdown. Unlike srv.Shutdown alone, it
// does not wait for connections that never sent a request (a browser's or
// Go's transport dials ahead): nothing is lost by closing them, and
// http.Server waits 5 s before it counts them idle.
func Graceful(srv *http.Server) func(context.Context) error {
	unused := &unusedConns{conns: map[net.Conn]bool{}}
	prev := srv.ConnState
	srv.ConnState = func(c net.Conn, state http.ConnState) {
		unused.track(c, state)
		if prev != nil {
			prev(c, state)
		}
	}
	return func(ctx context.Context) error {
		srv.SetKeepAlivesEnabled(false)
		unused.close()
		return srv.Shutdown(ctx)
	}
}

// unusedConns tracks a server's connections that have not sent a request
// yet, so that a shutdown can close them rather than wait for them.
type unusedConns struct {
	mu     sync.Mutex
	closed bool
	conns  map[net.Conn]bool
}

func (u *unusedConns) track(c net.Conn, state http.ConnState) {
	u.mu.Lock()
	defer u.mu.Unlock()
	switch {
	case state == http.StateNew && u.closed:
		c.Close()
	case state == http.StateNew:
		u.conns[c] = true
	default:
		delete(u.conns, c)
	}
}

func (u *unusedConns) close() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.closed = true
	for c := range u.conns {
		c.Close()
	}
	clear(u.conns)
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

// Metrics implements bot.Metrics with Prometheus counters, histograms
// and gauges, and reads what only a scrape can tell (the outbox's backlog,
// each connection's readiness) when scraped.
type Metrics struct {
	registry *prometheus.Registry
	intake   *prometheus.CounterVec
	jobs     *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	reconn   *prometheus.CounterVec
	conn     *prometheus.GaugeVec
	waits    *prometheus.CounterVec
	waited   *prometheus.CounterVec
	limited  *prometheus.CounterVec
	state    *stateCollector
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
		waits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "liaison_rate_limit_waits_total", Help: "Platform calls that waited for their slot in a rate-limit bucket, by connection and bucket (a channel, or * for the whole connection).",
		}, []string{"connection", "bucket"}),
		waited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "liaison_rate_limit_wait_seconds_total", Help: "Time platform calls waited for their slot, by connection and bucket.",
		}, []string{"connection", "bucket"}),
		limited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "liaison_rate_limited_total", Help: "Platform calls refused with a 429 (rate limited), by connection and bucket.",
		}, []string{"connection", "bucket"}),
		state: newStateCollector(),
	}
	// Series that exist from the start read 0 rather than missing, which
	// rates and alerts handle better.
	for _, step := range []string{bot.LatencyEventToCard, bot.LatencyApprovalToPublic} {
		m.latency.WithLabelValues(step)
	}
	m.registry.MustRegister(m.intake, m.jobs, m.latency, m.reconn, m.conn, m.waits, m.waited, m.limited, m.state, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Outbox reports the outbox's backlog: the jobs due at now and not done,
// and how long past its run time the oldest of them is.
type Outbox interface {
	OutboxStats(ctx context.Context, now time.Time) (due int, oldestDue time.Duration, err error)
}

// WatchOutbox exports o's backlog, asked at each scrape within
// CheckTimeout, and whether the database answered. now is the clock the
// backlog is measured against.
func (m *Metrics) WatchOutbox(o Outbox, now func() time.Time) {
	m.state.mu.Lock()
	defer m.state.mu.Unlock()
	m.state.outbox, m.state.now = o, now
}

// WatchConnection exports whether conn is ready, as health says at each
// scrape, and starts its reconnect count at 0.
func (m *Metrics) WatchConnection(conn string, health func() error) {
	m.reconn.WithLabelValues(conn)
	m.state.mu.Lock()
	defer m.state.mu.Unlock()
	m.state.conns = append(m.state.conns, watchedConn{conn, health})
}

type watchedConn struct {
	name   string
	health func() error
}

// stateCollector reads, at scrape time, what no event reports.
type stateCollector struct {
	due, oldest, dbUp, ready *prometheus.Desc

	mu     sync.Mutex
	outbox Outbox
	now    func() time.Time
	conns  []watchedConn
}

func newStateCollector() *stateCollector {
	return &stateCollector{
		due:    prometheus.NewDesc("liaison_outbox_due_jobs", "Outbox jobs due to run now and not done.", nil, nil),
		oldest: prometheus.NewDesc("liaison_outbox_oldest_due_seconds", "How long the oldest due outbox job has waited past its run time; 0 when none is due.", nil, nil),
		dbUp:   prometheus.NewDesc("liaison_database_up", "1 when the database answered this scrape's outbox query in time.", nil, nil),
		ready:  prometheus.NewDesc("liaison_connection_ready", "1 when a connection is ready (as /readyz says), by connection.", []string{"connection"}, nil),
	}
}

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.due
	ch <- c.oldest
	ch <- c.dbUp
	ch <- c.ready
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	outbox, now, conns := c.outbox, c.now, slices.Clone(c.conns)
	c.mu.Unlock()
	for _, conn := range conns {
		ch <- prometheus.MustNewConstMetric(c.ready, prometheus.GaugeValue, boolValue(conn.health() == nil), conn.name)
	}
	if outbox == nil {
		return
	}
	var (
		due    int
		oldest time.Duration
	)
	err := within(context.Background(), CheckTimeout, func(ctx context.Context) (err error) {
		due, oldest, err = outbox.OutboxStats(ctx, now())
		return err
	})
	ch <- prometheus.MustNewConstMetric(c.dbUp, prometheus.GaugeValue, boolValue(err == nil))
	if err != nil {
		// No backlog figures rather than wrong ones; /readyz and the log
		// say why.
		return
	}
	ch <- prometheus.MustNewConstMetric(c.due, prometheus.GaugeValue, float64(due))
	ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, max(oldest, 0).Seconds())
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
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

func (m *Metrics) ConnState(conn string, up bool) { m.conn.WithLabelValues(conn).Set(boolValue(up)) }

func (m *Metrics) RateWait(conn, bucket string, d time.Duration) {
	m.waits.WithLabelValues(conn, bucket).Inc()
	m.waited.WithLabelValues(conn, bucket).Add(d.Seconds())
}

func (m *Metrics) RateLimited(conn, bucket string) { m.limited.WithLabelValues(conn, bucket).Inc() }
