package app_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	dg "github.com/bwmarrin/discordgo"

	"github.com/liaison-bot/liaison/cmd/liaison/app"
	"github.com/liaison-bot/liaison/config"
	"github.com/liaison-bot/liaison/handlers/discord/discordfake"
	"github.com/liaison-bot/liaison/handlers/web"
	"github.com/liaison-bot/liaison/storage/storagetest"
)

// opsBound is how long a test waits for something an operator would see:
// far beyond what it takes, so that only a Liaison that never gets there
// fails.
const opsBound = 30 * time.Second

// running is Liaison started through the composition root against a fake
// Discord guild where one text channel is watched and another gets the
// cards, with its HTTP surface on a local port.
type running struct {
	t     *testing.T
	app   *app.App
	base  string
	fake  *discordfake.Fake
	guild discordfake.Guild
	logs  *syncBuffer
}

// start runs Liaison on the database the config line db names until the
// test ends, and waits until /readyz says it is ready.
func start(t *testing.T, db string, env map[string]string) *running {
	t.Helper()
	// The default guild, with a second text channel for the cards.
	g := discordfake.DefaultGuild()
	g.Channels = append(g.Channels, discordfake.Channel{ID: "1100000000000000012", Name: "team", Type: discordfake.ChannelText})
	f, err := discordfake.New(discordfake.Options{Guilds: []discordfake.Guild{g}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	vars := map[string]string{"TOKEN": strings.TrimPrefix(f.BotToken(), "Bot ")}
	for k, v := range env {
		vars[k] = v
	}
	cfg, err := config.Parse([]byte(fmt.Sprintf(`
company: Acme
database: %s
connections:
  - {name: community, platform: discord, role: both, token: "${TOKEN}", guild_id: %q, api_url: %q}
sources:
  - {name: general, connection: community, channels: [%q]}
routes:
  - {name: team, default: true, destination: {connection: community, channel: %q}, approval: none}
`, db, g.ID, f.URL(), g.Channels[0].ID, g.Channels[2].ID)), func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &running{t: t, base: "http://" + ln.Addr().String(), fake: f, guild: g, logs: &syncBuffer{}}
	ctx, cancel := context.WithCancel(context.Background())
	r.app, err = app.Open(ctx, cfg, app.Options{
		Listener: ln, Log: slog.New(slog.NewTextHandler(r.logs, nil)),
		Discord: func(_ string, s *dg.Session) { s.LogLevel = -1 },
	})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- r.app.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(opsBound):
			t.Errorf("Run did not return within %s of its context's end", opsBound)
		}
		r.app.Close()
	})
	r.waitReadyz(http.StatusOK, "ready")
	return r
}

// get fetches path from the HTTP surface.
func (r *running) get(path string) (int, string) {
	c := http.Client{Timeout: opsBound}
	resp, err := c.Get(r.base + path)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// waitReadyz waits until /readyz answers code with a body containing want.
func (r *running) waitReadyz(code int, want string) string {
	r.t.Helper()
	deadline := time.Now().Add(opsBound)
	for {
		got, body := r.get("/readyz")
		if got == code && strings.Contains(body, want) {
			return body
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("/readyz = %d %q after %s, want %d with %q", got, body, opsBound, code, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// relay has a member post in the watched channel and waits for its card.
func (r *running) relay(text string) discordfake.Message {
	r.t.Helper()
	m, err := r.fake.Post(r.guild.Members[1].User.ID, r.guild.Channels[0].ID, text)
	if err != nil {
		r.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), opsBound)
	defer cancel()
	if err := r.fake.WaitFor(ctx, func() bool { return len(r.fake.Messages(r.guild.Channels[2].ID)) > 0 }); err != nil {
		r.t.Fatalf("no card: %v\n%s", err, r.logs.String())
	}
	return m
}

func sqliteDB(t *testing.T) string {
	return fmt.Sprintf("{sqlite_path: %q}", filepath.Join(t.TempDir(), "l.db"))
}

// TestRelayIsLogged: an operator reading the log sees each relayed
// message once — connection, channel, message and item, never its text —
// and every line names its connection once.
func TestRelayIsLogged(t *testing.T) {
	r := start(t, sqliteDB(t), nil)
	const text = "my order 4417 never arrived"
	m := r.relay(text)
	lines := r.logs.lines(`msg="public message received"`)
	if len(lines) != 1 {
		t.Fatalf("relay lines = %q, want one\n%s", lines, r.logs.String())
	}
	for _, want := range []string{"conn=community", "channel=" + r.guild.Channels[0].ID, "message=" + m.ID, "item=1", "outcome=new"} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("relay line %q lacks %s", lines[0], want)
		}
	}
	if got := r.logs.lines("4417"); len(got) != 0 {
		t.Errorf("the message's text is in the log: %q", got)
	}
	if got := r.logs.lines("connection=community"); len(got) != 0 {
		t.Errorf("lines name the connection as connection= (adapters say conn=): %q", got)
	}
}

// TestMetricsOfARunningLiaison: /metrics of a running Liaison has each
// family an operator watches, with values that match what happened.
func TestMetricsOfARunningLiaison(t *testing.T) {
	r := start(t, sqliteDB(t), nil)
	r.relay("dark mode, please")
	// The card's job completes after the card is posted: wait for it.
	var body string
	deadline := time.Now().Add(opsBound)
	for {
		_, body = r.get("/metrics")
		if strings.Contains(body, `liaison_outbox_jobs_total{kind="post_card",result="done"} 1`) || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, want := range []string{
		`liaison_intake_messages_total{connection="community",outcome="new"} 1`,
		`liaison_outbox_jobs_total{kind="post_card",result="done"} 1`,
		"liaison_outbox_due_jobs 0",
		"liaison_outbox_oldest_due_seconds 0",
		"liaison_database_up 1",
		`liaison_connection_up{connection="community"} 1`,
		`liaison_connection_ready{connection="community"} 1`,
		`liaison_reconnects_total{connection="community"} 0`,
		`liaison_latency_seconds_count{step="approval_to_public"} 0`,
		`liaison_latency_seconds_count{step="event_to_card"}`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// TestReadyzWhileTheDatabaseIsDown: /readyz is 503, and says the database
// is why, while the database does not answer; once it answers again, it
// is 200.
func TestReadyzWhileTheDatabaseIsDown(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		// Another process (the sqlite3 shell, a backup) holds the write
		// lock: nothing Liaison does can be stored.
		path := filepath.Join(t.TempDir(), "l.db")
		r := start(t, fmt.Sprintf("{sqlite_path: %q}", path), nil)
		// It waits for Liaison's own writes, as the sqlite3 shell would.
		other, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(10000)")
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		ctx := context.Background()
		conn, err := other.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
			t.Fatal(err)
		}
		body := r.waitReadyz(http.StatusServiceUnavailable, "database")
		if strings.Contains(body, path) {
			t.Errorf("/readyz shows where the database is: %q", body)
		}
		// And it stays so while the lock is held, not only while Liaison's
		// own writes happen to be waiting for it.
		for range 2 {
			if code, body := r.get("/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "database") {
				t.Fatalf("/readyz = %d %q while the write lock is held", code, body)
			}
		}
		if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
			t.Fatal(err)
		}
		r.waitReadyz(http.StatusOK, "ready")
	})
	if !hasPostgres(t) {
		return
	}
	t.Run("postgres", func(t *testing.T) {
		p := newProxy(t, pgAddr(t))
		r := start(t, `{url: "${DB_URL}"}`, map[string]string{"DB_URL": p.url(t, storagetest.DSN(t, "postgres"))})
		// Should the test stop while the network is silent, Liaison's
		// connections, blocked reading, are cut before it is stopped.
		t.Cleanup(p.cut)

		// The network goes silent: connections stay open, nothing answers.
		p.silence()
		start := time.Now()
		body := r.waitReadyz(http.StatusServiceUnavailable, "database: no answer within")
		if took := time.Since(start); took > web.CheckTimeout+10*time.Second {
			t.Errorf("/readyz took %s to say the database is not answering", took)
		}
		if strings.Contains(body, "127.0.0.1") {
			t.Errorf("/readyz shows where the database is: %q", body)
		}
		// The database goes away: connections are cut, new ones refused.
		p.cut()
		r.waitReadyz(http.StatusServiceUnavailable, "database: unreachable")
		// It comes back.
		p.restore()
		r.waitReadyz(http.StatusOK, "ready")
	})
}

func hasPostgres(t *testing.T) bool {
	for _, e := range storagetest.Engines(t) {
		if e == "postgres" {
			return true
		}
	}
	return false
}

// pgAddr is the host:port of TEST_DATABASE_URL.
func pgAddr(t *testing.T) string {
	u, err := url.Parse(os.Getenv(storagetest.EnvURL))
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

// proxy forwards TCP connections to a database, until the test makes the
// network silent (bytes are dropped, connections stay open) or cuts it
// (connections closed, new ones refused).
type proxy struct {
	t      *testing.T
	target string
	addr   string

	mu     sync.Mutex
	ln     net.Listener
	conns  []net.Conn
	silent bool
	wg     sync.WaitGroup
}

func newProxy(t *testing.T, target string) *proxy {
	p := &proxy{t: t, target: target}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(func() {
		p.cut()
		p.wg.Wait()
	})
	return p
}

// url is dsn with its host replaced by the proxy's.
func (p *proxy) url(t *testing.T, dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = p.addr
	return u.String()
}

func (p *proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			p.wg.Add(2)
			go p.pipe(up, c)
			go p.pipe(c, up)
		}
	}()
}

// pipe copies from src to dst, dropping what it reads while silent.
func (p *proxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			silent := p.silent
			p.mu.Unlock()
			if !silent {
				if _, werr := dst.Write(buf[:n]); werr != nil {
					return
				}
			}
		}
		if err != nil {
			dst.Close()
			return
		}
	}
}

func (p *proxy) silence() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.silent = true
}

func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// restore listens again on the same address and forwards again.
func (p *proxy) restore() {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatalf("proxy: listen again on %s: %v", p.addr, err)
	}
	p.mu.Lock()
	p.silent = false
	p.mu.Unlock()
	p.serve(ln)
}

// lines returns the lines that contain sub.
func (s *syncBuffer) lines(sub string) []string {
	var out []string
	for _, l := range strings.Split(s.String(), "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return out
}
