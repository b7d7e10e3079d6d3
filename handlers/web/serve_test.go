package web_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/handlers/web"
)

// closeBound is how long a test waits for the server to close a
// connection: far beyond the timeouts under test, so that only a server
// that never closes it fails.
const closeBound = 10 * time.Second

// logBuffer collects log lines written from the server's goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// lines returns the lines that contain s.
func (l *logBuffer) lines(s string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, line := range strings.Split(l.b.String(), "\n") {
		if strings.Contains(line, s) {
			out = append(out, line)
		}
	}
	return out
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// start serves srv on a fresh local port, and /metrics on another if
// metrics; it stops the server when the test ends. It returns the base URLs.
func start(t *testing.T, srv *web.Server, metrics bool) (base, metricsBase string) {
	t.Helper()
	if srv.Log == nil {
		srv.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	ln := listen(t)
	var mln net.Listener
	if metrics {
		mln = listen(t)
		metricsBase = "http://" + mln.Addr().String()
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.ServeOn(ctx, ln, mln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return "http://" + ln.Addr().String(), metricsBase
}

func dial(t *testing.T, base string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// waitClosed reads conn until the server closes it; it fails if the
// connection is still open after closeBound.
func waitClosed(t *testing.T, conn net.Conn) {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(closeBound))
	_, err := io.Copy(io.Discard, conn)
	if ne := net.Error(nil); errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the server still holds the connection after %s", closeBound)
	}
}

// TestSlowBodyIsCutOff: a client that sends its headers, then the body a
// byte at a time — each read making progress, so that no per-read bound
// would stop it — has its connection closed once the request as a whole
// took longer than ReadTimeout.
func TestSlowBodyIsCutOff(t *testing.T) {
	srv := web.NewServer(web.Options{
		Addr: "127.0.0.1:0", ReadHeaderTimeout: 200 * time.Millisecond, ReadTimeout: 200 * time.Millisecond,
		IdleTimeout: time.Minute,
	}, pinger{}, web.NewMetrics())
	srv.Handle("POST /upload", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	base, _ := start(t, srv, false)
	conn := dial(t, base)
	fmt.Fprint(conn, "POST /upload HTTP/1.1\r\nHost: liaison\r\nContent-Length: 1048576\r\n\r\n")
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if _, err := conn.Write([]byte("x")); err != nil {
					return
				}
			}
		}
	}()
	waitClosed(t, conn)
	close(stop)
	<-stopped
}

// TestIdleConnectionIsClosed: a kept-alive connection that sends no next
// request is closed after IdleTimeout, though ReadTimeout is long.
func TestIdleConnectionIsClosed(t *testing.T) {
	srv := web.NewServer(web.Options{
		Addr: "127.0.0.1:0", ReadHeaderTimeout: time.Minute, ReadTimeout: time.Minute, IdleTimeout: 200 * time.Millisecond,
	}, pinger{}, web.NewMetrics())
	base, _ := start(t, srv, false)
	conn := dial(t, base)
	fmt.Fprint(conn, "GET /healthz HTTP/1.1\r\nHost: liaison\r\n\r\n")
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Close {
		t.Fatalf("healthz = %d, close %v; want 200 on a kept-alive connection", res.StatusCode, res.Close)
	}
	waitClosed(t, conn)
}

// TestMetricsOnTheirOwnAddress: with MetricsAddr set, /metrics is served
// there and only there; the main address, which Slack reaches, answers 404.
func TestMetricsOnTheirOwnAddress(t *testing.T) {
	m := web.NewMetrics()
	m.Intake("community", bot.IntakeNew)
	srv := web.NewServer(web.Options{Addr: "127.0.0.1:0", MetricsAddr: "127.0.0.1:0"}, pinger{}, m)
	srv.Handle("/slack/community/", http.NotFoundHandler())
	base, metrics := start(t, srv, true)
	for _, tc := range []struct {
		url  string
		code int
		body string
	}{
		{base + "/metrics", http.StatusNotFound, ""},
		{base + "/healthz", http.StatusOK, "ok"},
		{metrics + "/metrics", http.StatusOK, `liaison_intake_messages_total{connection="community",outcome="new"} 1`},
		{metrics + "/healthz", http.StatusNotFound, ""},
		{metrics + "/readyz", http.StatusNotFound, ""},
	} {
		res, err := http.Get(tc.url)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != tc.code || !strings.Contains(string(body), tc.body) {
			t.Errorf("GET %s = %d, want %d with %q", tc.url, res.StatusCode, tc.code, tc.body)
		}
	}
}

// TestMetricsAddrTaken: Serve listens on MetricsAddr itself, and says so
// when it cannot.
func TestMetricsAddrTaken(t *testing.T) {
	taken := listen(t)
	defer taken.Close()
	srv := web.NewServer(web.Options{Addr: "127.0.0.1:0", MetricsAddr: taken.Addr().String()}, pinger{}, web.NewMetrics())
	srv.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	err := srv.Serve(ctx, listen(t))
	if err == nil || !strings.Contains(err.Error(), "/metrics") || !strings.Contains(err.Error(), taken.Addr().String()) {
		t.Fatalf("Serve with metrics_addr taken = %v, want an error naming it and /metrics", err)
	}
}

// TestServerErrorsAreSampled: what net/http logs itself (here a handler's
// panic, on every request) reaches Liaison's log, a line per period, not
// a line per request.
func TestServerErrorsAreSampled(t *testing.T) {
	var logs logBuffer
	srv := web.NewServer(web.Options{Addr: "127.0.0.1:0"}, pinger{}, web.NewMetrics())
	srv.Log = slog.New(slog.NewTextHandler(&logs, nil))
	srv.Handle("GET /panic", http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }))
	base, _ := start(t, srv, false)
	for range 20 {
		if res, err := http.Get(base + "/panic"); err == nil {
			res.Body.Close()
		}
	}
	if got := logs.lines(`msg="http server"`); len(got) != 1 || !strings.Contains(got[0], "boom") {
		t.Fatalf("server error lines after 20 panics:\n%s\nwant one, naming the panic", strings.Join(got, "\n"))
	}
}

// TestShutdownWithAnUnusedConnection: a client that opened a connection
// and never sent a request on it (Go's transport does so when it dials
// ahead) does not hold the shutdown until its deadline: Serve stops at
// once and without an error.
func TestShutdownWithAnUnusedConnection(t *testing.T) {
	srv := web.NewServer(web.Options{
		Addr: "127.0.0.1:0", ReadHeaderTimeout: time.Minute, ReadTimeout: time.Minute, IdleTimeout: time.Minute,
	}, pinger{}, web.NewMetrics())
	srv.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	ln := listen(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.ServeOn(ctx, ln, nil) }()
	conn := dial(t, "http://"+ln.Addr().String())
	// The server has accepted it once it answers a request on another.
	res, err := http.Get("http://" + ln.Addr().String() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve: %v", err)
		}
	case <-time.After(closeBound):
		t.Fatal("the shutdown waits for a connection that never sent a request")
	}
	waitClosed(t, conn)
}
