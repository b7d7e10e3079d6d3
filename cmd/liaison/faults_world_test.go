//go:build linux

package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/liaison-bot/liaison/handlers/discord/discordfake"
	"github.com/liaison-bot/liaison/handlers/slack/slackfake"
	"github.com/liaison-bot/liaison/storage/storagetest"
)

// The fault world: a public Discord guild (a text channel and a forum) and
// a community Slack workspace are watched; their items go to two channels
// of an internal Slack workspace, where Alice drafts and Bob approves.
// The fakes live in the test process for the whole run, so they remember
// everything across Liaison's crashes.
const (
	fxGuild    = "4100000000000000001"
	fxGeneral  = "4100000000000000010" // watched text channel
	fxHelp     = "4100000000000000011" // watched forum
	fxMaria    = "4100000000000000101" // asks
	fxSam      = "4100000000000000102" // follows up
	fxPubBot   = "4100000000000000900"
	fxPubToken = "fault-community-discord-token"

	fxCommHelp = "C0HELP"   // watched channel of the community Slack
	fxMember   = "U0MEMBER" // a member there

	fxProduct = "C0PRODUCT" // cards of Discord items
	fxSupport = "C0SUPPORT" // cards of community Slack items
	fxAlice   = "U0ALICE"   // drafts
	fxBob     = "U0BOB"     // approves: never the author (four eyes)
	fxBotID   = "B0BOT"     // Liaison's bot on both Slack workspaces
)

// slackRetries are the waits before Slack's three retries of an event
// nobody acknowledged: at once, then after 1 and 5 minutes on Slack,
// shortened here so that a run sees all three.
var slackRetries = []time.Duration{0, 5 * time.Second, 15 * time.Second}

// faultConfig routes the Discord guild to #product and the community
// Slack to #support, both approval required, approved by Bob.
const faultConfig = `
company: Acme
database: {sqlite_path: "${DB_PATH}"}
connections:
  - {name: community, platform: discord, role: public, token: "${DISCORD_TOKEN}", guild_id: "${GUILD}", api_url: "${DISCORD_API}"}
  - {name: forum, platform: slack, role: public, bot_token: "${COMMUNITY_BOT_TOKEN}", app_token: "${COMMUNITY_APP_TOKEN}", api_url: "${COMMUNITY_API}"}
  - {name: internal, platform: slack, role: internal, bot_token: "${SLACK_BOT_TOKEN}", app_token: "${SLACK_APP_TOKEN}", api_url: "${SLACK_API}"}
sources:
  - {name: discord, connection: community, channels: ["${GENERAL}", "${HELP}"]}
  - {name: slack, connection: forum, channels: ["${COMMUNITY_HELP}"]}
routes:
  - {name: support, sources: [slack], destination: {connection: internal, channel: "${SUPPORT}"}, approval: required, approvers: ["${BOB}"]}
  - {name: product, default: true, destination: {connection: internal, channel: "${PRODUCT}"}, approval: required, approvers: ["${BOB}"]}
profiles:
  - {name: Alice Martin, title: Product Manager, consented_at: 2026-01-05T09:00:00Z,
     identities: [{connection: internal, user_id: "${ALICE}"}]}
  - {name: Bob Stone, title: Head of Product, consented_at: 2026-01-05T09:00:00Z,
     identities: [{connection: internal, user_id: "${BOB}"}]}
`

// Where a public item was asked.
const (
	inText  = "discord #general"
	inForum = "discord forum"
	inSlack = "community slack"
)

// item is one public question the test asked.
type item struct {
	marker string
	where  string
	root   string // Discord message id or Slack ts
	thread string // the forum post's thread
	cardCh string // internal channel its card goes to
	down   bool   // asked while no Liaison ran
	at     time.Time
	drafts int
}

// followUp is one public follow-up.
type followUp struct {
	marker string
	item   *item
	down   bool
	at     time.Time
}

// draftRec is one draft Alice wrote.
type draftRec struct {
	marker   string
	item     *item
	form     bool // by the Reply publicly form, else by "!reply "
	approved bool // the database shows Bob's approval
	at       time.Time
}

// stats is what the summary reports.
type stats struct {
	newItems, followUps, down, drafts, forms, approvals int
	lostClicks                                          int // clicks not acted on within 5s (refused or unacknowledged)
	retries                                             int // approvals again after a failed publication
	crashes, heldKills                                  int
	faults                                              map[string]int
	longestReady                                        time.Duration
	started                                             time.Time
}

// world is one run: the fakes, the proxies, the processes and the ledger
// of what the test did.
type world struct {
	t      *testing.T
	name   string
	top    uint64 // the run's seed
	seed   uint64 // this world's, from top and name
	rng    *rand.Rand
	bin    string
	dir    string // config, SQLite database, the log; kept when the test fails
	cfg    string
	engine string
	sqlite string    // SQLite path
	dsn    string    // Postgres URL, direct
	pg     *tcpProxy // Liaison's way to Postgres

	discord             *discordfake.Fake
	internal, community *slackfake.Fake
	internalWeb         *webProxy // Liaison's Web API way to the internal Slack
	communityWeb        *webProxy // and to the community Slack
	env                 map[string]string

	logMu    sync.Mutex
	logFile  *os.File
	problems []logLine // ERROR and WARN lines, and race reports
	races    int

	procs []*proc
	nproc int
	db    *sql.DB

	items     []*item
	followUps []*followUp
	drafts    []*draftRec
	marks     int
	st        stats
	// permanentFaults counts the refusals for good injected on purpose:
	// the dead publications they cause are expected.
	permanentFaults int
	// unexpected: processes that exited when nobody asked them to.
	unexpected []string
}

type logLine struct {
	at   time.Time
	proc string
	text string
}

// proc is one `liaison run` process.
type proc struct {
	name    string
	addr    string
	cmd     *exec.Cmd
	exited  chan struct{}
	err     error
	started time.Time
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

// newWorld starts the fakes and proxies and writes the config; no
// Liaison runs yet.
func newWorld(t *testing.T, name, engine string, top uint64) *world {
	t.Helper()
	seed := subSeed(top, name)
	dir, err := os.MkdirTemp("", "liaison-faults-")
	if err != nil {
		t.Fatal(err)
	}
	w := &world{
		t: t, name: name, top: top, seed: seed, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		bin: buildLiaison(t), dir: dir, engine: engine, env: map[string]string{},
		st: stats{faults: map[string]int{}, started: time.Now()},
	}
	if w.logFile, err = os.Create(filepath.Join(dir, "liaison.log")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, p := range slices.Clone(w.procs) {
			w.kill(p, "the test ends")
		}
		if w.db != nil {
			w.db.Close()
		}
		w.logFile.Close()
		if t.Failed() {
			t.Logf("%s: logs and database kept in %s", w.name, dir)
			if os.Getenv("CI") == "true" {
				// The machine goes away with the directory: the log's
				// story goes into the test's output.
				t.Logf("%s: from liaison.log:\n%s", w.name, logStory(filepath.Join(dir, "liaison.log"), 400))
			}
			return
		}
		os.RemoveAll(dir)
	})

	w.discord = discordfake.MustNew(t, discordfake.Options{
		BotToken: fxPubToken, BotUserID: fxPubBot,
		Guilds: []discordfake.Guild{{
			ID: fxGuild, Name: "Acme Community",
			Channels: []discordfake.Channel{
				{ID: fxGeneral, Name: "general", Type: discordfake.ChannelText},
				{ID: fxHelp, Name: "help", Type: discordfake.ChannelForum},
			},
			Members: []discordfake.Member{
				{User: discordfake.User{ID: fxMaria, Username: "maria", GlobalName: "Maria"}},
				{User: discordfake.User{ID: fxSam, Username: "sam", GlobalName: "Sam"}},
			},
		}},
	})
	w.internal = mustSlack(t, slackfake.Options{
		TeamID: "T0ACME", TeamName: "Acme", TeamDomain: "acme",
		Users: []slackfake.User{
			{ID: fxAlice, Name: "alice", RealName: "Alice Martin"},
			{ID: fxBob, Name: "bob", RealName: "Bob Stone"},
		},
		Channels: []slackfake.Channel{
			{ID: fxProduct, Name: "product", Members: []string{"U0BOT", fxAlice, fxBob}},
			{ID: fxSupport, Name: "support", Members: []string{"U0BOT", fxAlice, fxBob}},
		},
		PingInterval: time.Second, RatePerChannel: 20, Burst: 20, RetryDelays: slackRetries,
	})
	w.community = mustSlack(t, slackfake.Options{
		TeamID: "T0COMMUNITY", TeamName: "Acme Community", TeamDomain: "acme-community",
		BotToken: "xoxb-community-fault", AppToken: "xapp-community-fault",
		Users:        []slackfake.User{{ID: fxMember, Name: "member", RealName: "Mo Member"}},
		Channels:     []slackfake.Channel{{ID: fxCommHelp, Name: "help", Members: []string{"U0BOT", fxMember}}},
		PingInterval: time.Second, RatePerChannel: 20, Burst: 20, RetryDelays: slackRetries,
	})
	if w.internalWeb, err = newWebProxy(w.internal.URL()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.internalWeb.Close)
	if w.communityWeb, err = newWebProxy(w.community.URL()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.communityWeb.Close)

	w.env = map[string]string{
		"DISCORD_TOKEN": fxPubToken, "GUILD": fxGuild, "DISCORD_API": w.discord.URL(),
		"GENERAL": fxGeneral, "HELP": fxHelp,
		"COMMUNITY_BOT_TOKEN": w.community.BotToken(), "COMMUNITY_APP_TOKEN": w.community.AppToken(),
		"COMMUNITY_API": w.communityWeb.url, "COMMUNITY_HELP": fxCommHelp,
		"SLACK_BOT_TOKEN": w.internal.BotToken(), "SLACK_APP_TOKEN": w.internal.AppToken(),
		"SLACK_API": w.internalWeb.url, "PRODUCT": fxProduct, "SUPPORT": fxSupport,
		"ALICE": fxAlice, "BOB": fxBob,
	}
	switch engine {
	case "sqlite":
		w.sqlite = filepath.Join(dir, "liaison.db")
		w.env["DB_PATH"] = w.sqlite
	case "postgres":
		w.dsn = storagetest.DSN(t, "postgres")
		u, err := urlHost(w.dsn)
		if err != nil {
			t.Fatal(err)
		}
		if w.pg, err = newTCPProxy(u); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(w.pg.Close)
		w.env["DB_PATH"] = filepath.Join(dir, "unused.db")
		w.env["DATABASE_URL"] = strings.Replace(w.dsn, u, w.pg.Addr(), 1)
	}
	w.cfg = filepath.Join(dir, "liaison.yaml")
	if err := os.WriteFile(w.cfg, []byte(faultConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	w.note("world %s: engine %s, seed %d", name, engine, seed)
	return w
}

func mustSlack(t *testing.T, o slackfake.Options) *slackfake.Fake {
	t.Helper()
	f, err := slackfake.New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	return f
}

// urlHost returns the host:port of a Postgres URL.
func urlHost(dsn string) (string, error) {
	rest, ok := strings.CutPrefix(dsn, "postgres://")
	if !ok {
		rest, ok = strings.CutPrefix(dsn, "postgresql://")
	}
	if !ok {
		return "", fmt.Errorf("not a postgres:// URL")
	}
	if i := strings.IndexByte(rest, '@'); i >= 0 {
		rest = rest[i+1:]
	}
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		rest = rest[:i]
	}
	if !strings.Contains(rest, ":") {
		rest += ":5432"
	}
	return rest, nil
}

// The log: every process's output, one file, each line prefixed with the
// process's name, and the test's own steps as "=== " lines.

func (w *world) note(format string, args ...any) {
	w.logMu.Lock()
	defer w.logMu.Unlock()
	fmt.Fprintf(w.logFile, "%s === %s\n", time.Now().Format("15:04:05.000"), fmt.Sprintf(format, args...))
}

type procWriter struct {
	w    *world
	name string
	buf  []byte
}

func (pw *procWriter) Write(b []byte) (int, error) {
	w := pw.w
	w.logMu.Lock()
	defer w.logMu.Unlock()
	pw.buf = append(pw.buf, b...)
	for {
		i := bytes.IndexByte(pw.buf, '\n')
		if i < 0 {
			break
		}
		line := string(pw.buf[:i])
		pw.buf = pw.buf[i+1:]
		fmt.Fprintf(w.logFile, "%s %s | %s\n", time.Now().Format("15:04:05.000"), pw.name, line)
		switch {
		case strings.Contains(line, "WARNING: DATA RACE"):
			w.races++
			w.problems = append(w.problems, logLine{time.Now(), pw.name, line})
		case strings.Contains(line, "level=ERROR"), strings.Contains(line, "level=WARN"), strings.HasPrefix(line, "liaison: "), strings.HasPrefix(line, "panic:"):
			if len(w.problems) < 20000 {
				w.problems = append(w.problems, logLine{time.Now(), pw.name, line})
			}
		}
	}
	return len(b), nil
}

// problemsSince returns the ERROR and WARN lines logged since t.
func (w *world) problemsSince(t time.Time) []logLine {
	w.logMu.Lock()
	defer w.logMu.Unlock()
	var out []logLine
	for _, l := range w.problems {
		if !l.at.Before(t) {
			out = append(out, l)
		}
	}
	return out
}

// Processes.

// start starts one `liaison run`; it does not wait for it to be ready.
func (w *world) start() *proc {
	w.t.Helper()
	w.nproc++
	p := &proc{name: fmt.Sprintf("liaison-%d", w.nproc), addr: freeAddr(w.t), exited: make(chan struct{}), started: time.Now()}
	p.cmd = exec.Command(w.bin, "run", "--config", w.cfg)
	p.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + w.dir, "TMPDIR=" + os.TempDir(), "LIAISON_HTTP_ADDR=" + p.addr}
	for k, v := range w.env {
		p.cmd.Env = append(p.cmd.Env, k+"="+v)
	}
	// The process dies with the test, however the test ends.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out := &procWriter{w: w, name: p.name}
	p.cmd.Stdout, p.cmd.Stderr = out, out
	if err := p.cmd.Start(); err != nil {
		w.t.Fatalf("start liaison: %v", err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	w.procs = append(w.procs, p)
	w.note("started %s (pid %d, http %s)", p.name, p.pid(), p.addr)
	return p
}

// waitReady waits until p answers /readyz with 200.
func (w *world) waitReady(p *proc, limit time.Duration) error {
	client := newClient()
	deadline := time.Now().Add(limit)
	last := "no answer"
	for time.Now().Before(deadline) {
		select {
		case <-p.exited:
			return fmt.Errorf("%s exited before it was ready: %v", p.name, p.err)
		default:
		}
		if ok, why := ready(client, p); ok {
			return nil
		} else {
			last = why
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready after %v: %s", p.name, limit, last)
}

func newClient() *http.Client { return &http.Client{Timeout: time.Second} }

// ready asks p's /readyz once.
func ready(client *http.Client, p *proc) (bool, string) {
	resp, err := client.Get("http://" + p.addr + "/readyz")
	if err != nil {
		return false, err.Error()
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK, strings.TrimSpace(string(body))
}

// up starts a process and waits until it is ready; the time since down
// (when the last one was killed) is a recovery. A process that exits
// before it is ready (its database is unreachable) is started again, as a
// supervisor would, for readyLimit at most.
func (w *world) up(down time.Time) *proc {
	w.t.Helper()
	deadline := time.Now().Add(readyLimit)
	var p *proc
	for {
		p = w.start()
		err := w.waitReady(p, time.Until(deadline))
		if err == nil {
			break
		}
		select {
		case <-p.exited:
			w.procs = slices.DeleteFunc(w.procs, func(x *proc) bool { return x == p })
			if time.Now().Before(deadline) {
				w.note("%s: %v; starting again", p.name, err)
				time.Sleep(500 * time.Millisecond)
				continue
			}
		default:
		}
		w.t.Fatalf("%s: %v (log: %s)", w.name, err, w.logFile.Name())
	}
	if !down.IsZero() {
		w.st.longestReady = max(w.st.longestReady, time.Since(down))
	}
	w.note("%s ready after %v", p.name, time.Since(p.started).Round(time.Millisecond))
	return p
}

// kill kills p with SIGKILL and waits for it to be gone. A process found
// dead already exited by itself: that is reported.
func (w *world) kill(p *proc, why string) {
	select {
	case <-p.exited:
		w.unexpected = append(w.unexpected, fmt.Sprintf("%s exited by itself (%v) before the test killed it", p.name, p.err))
	default:
	}
	_ = p.cmd.Process.Kill()
	<-p.exited
	w.procs = slices.DeleteFunc(w.procs, func(x *proc) bool { return x == p })
	w.note("killed %s: %s", p.name, why)
}

// stop asks p to stop (SIGTERM) and reports how it exited.
func (w *world) stop(p *proc) error {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(20 * time.Second):
		w.kill(p, "did not stop within 20s of SIGTERM")
		return fmt.Errorf("%s did not stop within 20s of SIGTERM", p.name)
	}
	w.procs = slices.DeleteFunc(w.procs, func(x *proc) bool { return x == p })
	w.note("stopped %s: %v", p.name, p.err)
	if p.err != nil {
		return fmt.Errorf("%s stopped with %v", p.name, p.err)
	}
	return nil
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// The ledger: what the test asked, drafted and approved.

func (w *world) mark(prefix string) string {
	w.marks++
	return fmt.Sprintf("%s%04dx", prefix, w.marks)
}

var markerRE = regexp.MustCompile(`[QFD]\d{4}x`)

// ask posts a new public question, on a platform the seed picks.
func (w *world) ask(down bool) {
	w.t.Helper()
	it := &item{marker: w.mark("Q"), down: down, at: time.Now()}
	switch w.rng.IntN(3) {
	case 0:
		it.where, it.cardCh = inText, fxProduct
		m, err := w.discord.Post(fxMaria, fxGeneral, "Is the CSV export broken for everyone? "+it.marker)
		if err != nil {
			w.t.Fatal(err)
		}
		it.root = m.ID
	case 1:
		it.where, it.cardCh = inForum, fxProduct
		ch, _, err := w.discord.OpenForumPost(fxMaria, fxHelp, "Export "+it.marker, "The export fails since Monday. "+it.marker)
		if err != nil {
			w.t.Fatal(err)
		}
		it.root, it.thread = ch.ID, ch.ID
	default:
		it.where, it.cardCh = inSlack, fxSupport
		ts, err := w.community.Post(fxMember, fxCommHelp, "Where do I find my invoices? "+it.marker)
		if err != nil {
			w.t.Fatal(err)
		}
		it.root = ts
	}
	w.items = append(w.items, it)
	w.st.newItems++
	if down {
		w.st.down++
	}
	w.note("asked %s in %s (down=%v)", it.marker, it.where, down)
}

// follow posts a follow-up to an earlier question the seed picks.
func (w *world) follow(down bool) {
	w.t.Helper()
	if len(w.items) == 0 {
		w.ask(down)
		return
	}
	it := w.items[w.rng.IntN(len(w.items))]
	f := &followUp{marker: w.mark("F"), item: it, down: down, at: time.Now()}
	var err error
	switch it.where {
	case inText:
		_, err = w.discord.Reply(fxSam, fxGeneral, it.root, "Same here, any news? "+f.marker)
	case inForum:
		_, err = w.discord.PostInThread(fxSam, it.thread, "Same here, any news? "+f.marker)
	case inSlack:
		_, err = w.community.Reply(fxMember, fxCommHelp, it.root, "Any news? "+f.marker)
	}
	if err != nil {
		w.t.Fatal(err)
	}
	w.followUps = append(w.followUps, f)
	w.st.followUps++
	if down {
		w.st.down++
	}
	w.note("followed up %s on %s (down=%v)", f.marker, it.marker, down)
}

// card returns the item's card in the internal Slack, if it is there.
func (w *world) card(it *item) (slackfake.Message, bool) {
	for _, m := range w.internal.Messages(it.cardCh) {
		if m.BotID == fxBotID && !m.Deleted && (m.ThreadTS == "" || m.ThreadTS == m.TS) && strings.Contains(slackfake.Shown(m), it.marker) {
			return m, true
		}
	}
	return slackfake.Message{}, false
}

// draftCard returns the draft's card, with its Approve button, if it is there.
func (w *world) draftCard(d *draftRec) (slackfake.Message, bool) {
	card, ok := w.card(d.item)
	if !ok {
		return slackfake.Message{}, false
	}
	for _, m := range w.internal.Thread(d.item.cardCh, card.TS) {
		if m.BotID == fxBotID && !m.Deleted && m.TS != card.TS && strings.Contains(slackfake.Shown(m), d.marker) && strings.Contains(string(m.Blocks), "liaison_approve") {
			return m, true
		}
	}
	return slackfake.Message{}, false
}

// draft has Alice write a public reply to an item whose card is there:
// by "!reply " in the card's thread, or by the Reply publicly form. It
// reports false when no card is there to draft on.
func (w *world) draft() bool {
	w.t.Helper()
	var cands []*item
	var cards []slackfake.Message
	for _, it := range w.items {
		if it.drafts > 0 {
			continue
		}
		if c, ok := w.card(it); ok {
			cands = append(cands, it)
			cards = append(cards, c)
		}
	}
	if len(cands) == 0 {
		return false
	}
	i := w.rng.IntN(len(cands))
	it, card := cands[i], cards[i]
	d := &draftRec{marker: w.mark("D"), item: it, form: w.rng.IntN(5) < 2, at: time.Now()}
	text := "Sorry about that: a fix ships today. " + d.marker
	if d.form {
		if !w.draftByForm(it, card, text) {
			w.st.lostClicks++
			w.note("the reply form for %s never opened or never closed", it.marker)
			return true
		}
		w.st.forms++
	} else if _, err := w.internal.Reply(fxAlice, it.cardCh, card.TS, "!reply "+text); err != nil {
		w.t.Fatal(err)
	}
	it.drafts++
	w.drafts = append(w.drafts, d)
	w.st.drafts++
	w.note("drafted %s on %s (form=%v)", d.marker, it.marker, d.form)
	return true
}

// draftByForm clicks Reply publicly, fills the form and submits it.
func (w *world) draftByForm(it *item, card slackfake.Message, text string) bool {
	if err := w.internal.Click(fxAlice, it.cardCh, card.TS, "liaison_reply"); err != nil {
		w.t.Fatal(err)
	}
	var view slackfake.View
	if !w.waitSlack(w.internal, 5*time.Second, func() bool {
		vs := w.internal.Views(fxAlice)
		if len(vs) == 1 && vs[0].CallbackID == "liaison_reply" {
			view = vs[0]
			return true
		}
		return false
	}) {
		return false
	}
	if err := w.internal.SubmitView(fxAlice, view.ID, map[string]map[string]string{"text": {"value": text}}); err != nil {
		w.t.Fatal(err)
	}
	if !w.waitSlack(w.internal, 5*time.Second, func() bool { return len(w.internal.Views(fxAlice)) == 0 }) {
		// Submitted but never answered: the form stays open, as Slack
		// shows it; Alice closes it.
		_ = w.internal.CloseView(fxAlice, view.ID)
		return false
	}
	return true
}

// approve has Bob approve a draft whose card is there, and waits until the
// database shows it. It reports false when no draft card is there.
func (w *world) approve() bool {
	w.t.Helper()
	d, card, ok := w.approvable(nil)
	if !ok {
		return false
	}
	w.clickApprove(d, card)
	return true
}

// approvable picks a draft Bob may approve, among those keep accepts.
func (w *world) approvable(keep func(*draftRec) bool) (*draftRec, slackfake.Message, bool) {
	var cands []*draftRec
	var cards []slackfake.Message
	for _, d := range w.drafts {
		if d.approved || (keep != nil && !keep(d)) {
			continue
		}
		if c, ok := w.draftCard(d); ok {
			cands = append(cands, d)
			cards = append(cards, c)
		}
	}
	if len(cands) == 0 {
		return nil, slackfake.Message{}, false
	}
	i := w.rng.IntN(len(cands))
	return cands[i], cards[i], true
}

// clickApprove clicks Approve, as Bob, until the database shows the
// approval (a click Liaison acknowledged then lost is clicked again, as a
// person would).
func (w *world) clickApprove(d *draftRec, card slackfake.Message) {
	w.t.Helper()
	for attempt := 0; attempt < 3; attempt++ {
		if err := w.internal.Click(fxBob, d.item.cardCh, card.TS, "liaison_approve"); err != nil {
			w.t.Fatal(err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			switch w.draftState(d.marker) {
			case "approved", "published", "failed":
				d.approved = true
				w.st.approvals++
				w.note("approved %s", d.marker)
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		w.st.lostClicks++
		w.note("approval of %s not recorded within 5s", d.marker)
		if len(w.procs) == 0 {
			return
		}
	}
}

// retryFailed has Bob approve again every approved draft whose
// publication failed for good, as the draft card invites him to.
func (w *world) retryFailed() {
	if len(w.procs) == 0 {
		return
	}
	for _, d := range w.drafts {
		if !d.approved || w.draftState(d.marker) != "failed" {
			continue
		}
		card, ok := w.draftCard(d)
		if !ok {
			continue
		}
		if err := w.internal.Click(fxBob, d.item.cardCh, card.TS, "liaison_approve"); err != nil {
			w.t.Fatal(err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) && w.draftState(d.marker) == "failed" {
			time.Sleep(50 * time.Millisecond)
		}
		w.st.retries++
		w.note("approved %s again after its publication failed: %s", d.marker, w.draftState(d.marker))
	}
}

// waitSlack waits up to limit for cond, checking it at every change of f.
func (w *world) waitSlack(f *slackfake.Fake, limit time.Duration, cond func() bool) bool {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	return f.WaitFor(ctx, cond) == nil
}

// The test's own view of the database.

func (w *world) sqlDB() *sql.DB {
	if w.db != nil {
		return w.db
	}
	var err error
	if w.engine == "postgres" {
		w.db, err = sql.Open("postgres", w.dsn)
	} else {
		w.db, err = sql.Open("sqlite", w.sqlite+"?_pragma=busy_timeout(10000)")
	}
	if err != nil {
		w.t.Fatal(err)
	}
	w.db.SetMaxOpenConns(2)
	return w.db
}

// rebind turns ? placeholders into $n on Postgres.
func (w *world) rebind(q string) string {
	if w.engine != "postgres" {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// each runs a query and calls scan for every row.
func (w *world) each(q string, args []any, scan func(*sql.Rows) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rows, err := w.sqlDB().QueryContext(ctx, w.rebind(q), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// count1 runs a query that returns one number.
func (w *world) count1(q string, args ...any) (int, error) {
	n := 0
	err := w.each(q, args, func(r *sql.Rows) error { return r.Scan(&n) })
	return n, err
}

// draftState is the state of the draft whose first version holds marker,
// "" if there is none.
func (w *world) draftState(marker string) string {
	var state string
	_ = w.each(`SELECT d.state FROM drafts d JOIN draft_versions v ON v.draft_id = d.id AND v.n = 1 WHERE v.text LIKE ? ORDER BY d.id`,
		[]any{"%" + marker + "%"}, func(r *sql.Rows) error { return r.Scan(&state) })
	return state
}

// job is one row of the outbox.
type job struct {
	id                  int64
	kind, state         string
	attempts            int
	uncertain           bool
	lockedBy, lastError string
	leaseUntil          sql.NullString
	created, done       sql.NullString
	item, draft, msg    int64
}

const jobSelect = `SELECT id, kind, state, attempts, uncertain, locked_by, last_error, lease_until, created_at, done_at, item_id, draft_id, message_id FROM outbox`

func (w *world) jobs(where string, args ...any) ([]job, error) {
	var out []job
	err := w.each(jobSelect+" "+where+" ORDER BY id", args, func(r *sql.Rows) error {
		var j job
		if err := r.Scan(&j.id, &j.kind, &j.state, &j.attempts, &j.uncertain, &j.lockedBy, &j.lastError,
			&j.leaseUntil, &j.created, &j.done, &j.item, &j.draft, &j.msg); err != nil {
			return err
		}
		out = append(out, j)
		return nil
	})
	return out, err
}

func (j job) String() string {
	s := fmt.Sprintf("%s job %d: %s, %d failed attempt(s)", j.kind, j.id, j.state, j.attempts)
	if j.uncertain {
		s += ", uncertain"
	}
	if j.state == "running" {
		s += fmt.Sprintf(", leased to %s until %s", j.lockedBy, shortTime(j.leaseUntil.String))
	}
	if j.lastError != "" {
		s += ", last error: " + firstLine(j.lastError, 160)
	}
	return s
}

func shortTime(s string) string {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.Local().Format("15:04:05")
	}
	return s
}

func firstLine(s string, n int) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}

// openJobs counts the jobs not yet done or dead.
func (w *world) openJobs() (int, error) {
	return w.count1(`SELECT COUNT(*) FROM outbox WHERE state IN ('pending', 'running')`)
}

// The census: what the fakes show, by marker.

type census struct {
	cards, notes, draftCards, public map[string]int
	misfiled                         map[string]int // follow-ups shown as cards of their own
	strays                           []string       // public posts by Liaison that no draft explains
}

func (w *world) count() census {
	c := census{cards: map[string]int{}, notes: map[string]int{}, draftCards: map[string]int{}, public: map[string]int{}, misfiled: map[string]int{}}
	for _, ch := range []string{fxProduct, fxSupport} {
		for _, m := range w.internal.Messages(ch) {
			if m.BotID != fxBotID || m.Deleted {
				continue
			}
			top := m.ThreadTS == "" || m.ThreadTS == m.TS
			// A card or a note names its own message in its text; a
			// card also quotes the member's earlier items in its blocks.
			// A draft card's text names no message; its blocks show the
			// draft.
			own := markers(m.Text)
			for _, mk := range own {
				switch {
				case mk[0] == 'Q' && top:
					c.cards[mk]++
				case mk[0] == 'F' && !top:
					c.notes[mk]++
				case mk[0] == 'F' && top:
					c.misfiled[mk]++
				}
			}
			if len(own) == 0 && !top {
				for _, mk := range markers(slackfake.Shown(m)) {
					if mk[0] == 'D' {
						c.draftCards[mk]++
					}
				}
			}
		}
	}
	publicPost := func(where, text string) {
		ms := markers(text)
		found := false
		for _, mk := range ms {
			if mk[0] == 'D' {
				c.public[mk]++
				found = true
			}
		}
		if !found {
			c.strays = append(c.strays, where+": "+firstLine(text, 120))
		}
	}
	channels := []string{fxGeneral}
	for _, parent := range []string{fxGeneral, fxHelp} {
		for _, th := range w.discord.Threads(parent) {
			channels = append(channels, th.ID)
		}
	}
	for _, ch := range channels {
		for _, m := range w.discord.Messages(ch) {
			if m.Deleted || (m.WebhookID == "" && m.Author.ID != fxPubBot) {
				continue
			}
			publicPost("discord "+ch, m.Content)
		}
	}
	for _, m := range w.community.Messages(fxCommHelp) {
		if m.BotID == fxBotID && !m.Deleted {
			publicPost("community slack", slackfake.Shown(m))
		}
	}
	return c
}

func markers(s string) []string {
	ms := markerRE.FindAllString(s, -1)
	slices.Sort(ms)
	return slices.Compact(ms)
}

// missing lists the effects not (yet) visible: cards, notes, draft cards
// and the publications of approved drafts.
func (w *world) missing(c census) []string {
	var out []string
	for _, it := range w.items {
		if c.cards[it.marker] == 0 {
			out = append(out, "card "+it.marker)
		}
	}
	for _, f := range w.followUps {
		if c.notes[f.marker] == 0 {
			out = append(out, "note "+f.marker)
		}
	}
	for _, d := range w.drafts {
		if c.draftCards[d.marker] == 0 {
			out = append(out, "draft card "+d.marker)
		}
		if d.approved && c.public[d.marker] == 0 {
			out = append(out, "public reply "+d.marker)
		}
	}
	return out
}

// settle waits, for limit at most, until every effect expected so far is
// visible: the system at rest, before the next blow.
func (w *world) settle(limit time.Duration) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) && len(w.missing(w.count())) > 0 {
		time.Sleep(100 * time.Millisecond)
	}
}

// drain waits until every expected effect is visible and no job is due or
// running, for at most limit. It gives up sooner once nothing is left that
// could bring the missing effects: no open job, no Slack delivery waiting
// for its ack and the Discord gateway connected, for quiet on end.
func (w *world) drain(limit time.Duration) time.Duration {
	const quiet = 10 * time.Second
	start := time.Now()
	deadline := start.Add(limit)
	var idleSince time.Time
	for {
		// A refusal for good injected on purpose may still wait for the
		// next publication, even the retry of one it refused: Bob approves
		// again each draft whose publication failed, as in the cycles.
		w.retryFailed()
		miss := w.missing(w.count())
		open, err := w.openJobs()
		if err == nil && open == 0 && len(miss) == 0 {
			w.note("drained in %v", time.Since(start).Round(time.Millisecond))
			return time.Since(start)
		}
		switch {
		case err != nil || open > 0 || w.unsettled() > 0 || !w.discord.Gateway().Connected:
			idleSince = time.Time{}
		case idleSince.IsZero():
			idleSince = time.Now()
		case time.Since(idleSince) > quiet:
			w.note("gave up the drain after %v: no open job nor Slack delivery for %v, missing %v", time.Since(start).Round(time.Millisecond), quiet, miss)
			return time.Since(start)
		}
		if time.Now().After(deadline) {
			w.note("not drained after %v: %d open jobs (%v), missing %v", limit, open, err, miss)
			return time.Since(start)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// unsettled counts the Slack deliveries neither acknowledged nor given up.
func (w *world) unsettled() int {
	n := 0
	for _, f := range []*slackfake.Fake{w.internal, w.community} {
		for _, d := range f.Deliveries() {
			if !d.Acked && !d.Failed {
				n++
			}
		}
	}
	return n
}

// verdict is the end of a run: every check, the summary, and the failures.
type verdict struct {
	lost, duplicated, unapproved, stuck, dead []string
	notes                                     []string
	longestJob                                time.Duration
	slowJobs                                  int
}

func (v *verdict) failures() int {
	return len(v.lost) + len(v.duplicated) + len(v.unapproved) + len(v.stuck) + len(v.dead)
}

// check counts what the fakes show against the ledger and reads the
// outbox; run it once every process has stopped.
func (w *world) check() *verdict {
	v := &verdict{}
	c := w.count()
	for _, it := range w.items {
		switch n := c.cards[it.marker]; {
		case n == 0:
			v.lost = append(v.lost, fmt.Sprintf("question %s (%s at %s%s): no card; %s", it.marker, it.where, clock(it.at), downNote(it.down), w.diagnose(it.marker, "post_card")))
		case n > 1:
			v.duplicated = append(v.duplicated, fmt.Sprintf("question %s (%s): %d cards", it.marker, it.where, n))
		}
	}
	for _, f := range w.followUps {
		switch n := c.notes[f.marker]; {
		case n == 0 && c.misfiled[f.marker] > 0:
			why := "taken in as a new question"
			if c.cards[f.item.marker] == 0 {
				why += ", its question being lost"
			}
			v.lost = append(v.lost, fmt.Sprintf("follow-up %s on %s (%s at %s%s): no note in the card's thread but a card of its own (%d): %s",
				f.marker, f.item.marker, f.item.where, clock(f.at), downNote(f.down), c.misfiled[f.marker], why))
		case n == 0:
			v.lost = append(v.lost, fmt.Sprintf("follow-up %s on %s (%s at %s%s): no note in the card's thread; %s", f.marker, f.item.marker, f.item.where, clock(f.at), downNote(f.down), w.diagnose(f.marker, "post_note")))
		case n > 1:
			v.duplicated = append(v.duplicated, fmt.Sprintf("follow-up %s on %s (%s): %d notes", f.marker, f.item.marker, f.item.where, n))
		}
	}
	known := map[string]bool{}
	for _, d := range w.drafts {
		known[d.marker] = true
		how := "!reply"
		if d.form {
			how = "the form"
		}
		switch n := c.draftCards[d.marker]; {
		case n == 0:
			v.lost = append(v.lost, fmt.Sprintf("draft %s on %s (by %s at %s): no draft card; %s%s", d.marker, d.item.marker, how, clock(d.at), w.diagnose(d.marker, "post_draft_card"), w.cardRecorded(d)))
		case n > 1:
			v.duplicated = append(v.duplicated, fmt.Sprintf("draft %s on %s (by %s): %d draft cards", d.marker, d.item.marker, how, n))
		}
		n := c.public[d.marker]
		switch {
		case !d.approved && n > 0:
			v.unapproved = append(v.unapproved, fmt.Sprintf("draft %s on %s (%s) was never approved, yet published %d time(s)", d.marker, d.item.marker, d.item.where, n))
		case d.approved && n == 0:
			v.lost = append(v.lost, fmt.Sprintf("approved draft %s on %s (%s): never published; %s", d.marker, d.item.marker, d.item.where, w.diagnose(d.marker, "publish")))
		case d.approved && n > 1:
			v.duplicated = append(v.duplicated, fmt.Sprintf("approved draft %s on %s (%s): published %d times", d.marker, d.item.marker, d.item.where, n))
		}
	}
	for mk, n := range c.public {
		if !known[mk] {
			v.unapproved = append(v.unapproved, fmt.Sprintf("%s published %d time(s) but no draft of the test holds it", mk, n))
		}
	}
	for _, s := range c.strays {
		v.unapproved = append(v.unapproved, "a public post by Liaison that no draft explains: "+s)
	}
	slices.Sort(v.unapproved)

	open, err := w.jobs(`WHERE state <> 'done'`)
	if err != nil {
		v.stuck = append(v.stuck, "reading the outbox: "+err.Error())
	}
	refused := 0
	for _, j := range open {
		switch j.state {
		case "dead":
			if w.permanentFaults > 0 && j.kind == "publish" && strings.Contains(j.lastError, "Missing Permissions") {
				refused++
				continue
			}
			v.dead = append(v.dead, j.String())
		default:
			v.stuck = append(v.stuck, j.String())
		}
	}
	if refused > 0 {
		v.notes = append(v.notes, fmt.Sprintf("%d publication(s) dead as expected: refused for good (403 Missing Permissions) on purpose", refused))
	}
	done, err := w.jobs(`WHERE state = 'done'`)
	if err == nil {
		for _, j := range done {
			c, err1 := time.Parse(time.RFC3339Nano, j.created.String)
			d, err2 := time.Parse(time.RFC3339Nano, j.done.String)
			if err1 != nil || err2 != nil {
				continue
			}
			lat := d.Sub(c)
			v.longestJob = max(v.longestJob, lat)
			if lat > 30*time.Second {
				v.slowJobs++
			}
		}
	}
	for _, d := range w.internal.Deliveries() {
		if d.Failed {
			v.notes = append(v.notes, fmt.Sprintf("internal Slack gave up on a %s delivery after %d attempts: %s", d.Type, d.Attempts, firstLine(string(d.Payload), 200)))
		}
	}
	for _, d := range w.community.Deliveries() {
		if d.Failed {
			v.notes = append(v.notes, fmt.Sprintf("community Slack gave up on a %s delivery after %d attempts", d.Type, d.Attempts))
		}
	}
	return v
}

func clock(t time.Time) string { return t.Format("15:04:05.000") }

// cardRecorded says, for a draft written in a card's thread and never
// stored, when the database learnt of that card: a thread Liaison does not
// know is no item's.
func (w *world) cardRecorded(d *draftRec) string {
	if stored, _ := w.stored(d.marker); stored {
		return ""
	}
	js, err := w.jobs(`WHERE kind = 'post_card' AND item_id IN (SELECT item_id FROM messages WHERE text LIKE ?)`, "%"+d.item.marker+"%")
	if err != nil || len(js) == 0 {
		return ""
	}
	j := js[0]
	done, err := time.Parse(time.RFC3339Nano, j.done.String)
	if err != nil {
		return fmt.Sprintf("; the card's %s", j)
	}
	if done.After(d.at) {
		return fmt.Sprintf("; the card it was written under was recorded only at %s (post_card job %d, after the draft was written): until then its thread was no item's",
			clock(done.Local()), j.id)
	}
	return ""
}

func downNote(down bool) string {
	if down {
		return ", posted while no Liaison ran"
	}
	return ""
}

// diagnose says what the database knows of the thing marker names: never
// stored, or stored and its job in such a state.
func (w *world) diagnose(marker, kind string) string {
	var where string
	var args []any
	switch marker[0] {
	case 'Q':
		where = `WHERE kind = ? AND item_id IN (SELECT item_id FROM messages WHERE text LIKE ?)`
	case 'F':
		where = `WHERE kind = ? AND message_id IN (SELECT id FROM messages WHERE text LIKE ?)`
	case 'D':
		where = `WHERE kind = ? AND draft_id IN (SELECT draft_id FROM draft_versions WHERE text LIKE ?)`
	}
	args = append(args, kind, "%"+marker+"%")
	stored, err := w.stored(marker)
	if err != nil {
		return "database: " + err.Error()
	}
	if !stored {
		return "the database never stored it (lost at intake)"
	}
	js, err := w.jobs(where, args...)
	if err != nil {
		return "database: " + err.Error()
	}
	if len(js) == 0 {
		return "stored, but no " + kind + " job was enqueued"
	}
	var parts []string
	for _, j := range js {
		s := j.String()
		if j.state == "running" && !w.alive(j.lockedBy) {
			s += " (a process since killed)"
		}
		parts = append(parts, s)
	}
	return "stored; " + strings.Join(parts, "; ")
}

func (w *world) stored(marker string) (bool, error) {
	q := `SELECT COUNT(*) FROM messages WHERE text LIKE ?`
	if marker[0] == 'D' {
		q = `SELECT COUNT(*) FROM draft_versions WHERE text LIKE ?`
	}
	n, err := w.count1(q, "%"+marker+"%")
	return n > 0, err
}

// alive reports whether a worker name (host-pid) is a running process.
func (w *world) alive(owner string) bool {
	for _, p := range w.procs {
		if strings.HasSuffix(owner, "-"+strconv.Itoa(p.pid())) {
			return true
		}
	}
	return false
}

// dump writes what the fakes show into the run's directory, for a reader
// of a failure.
func (w *world) dump() {
	f, err := os.Create(filepath.Join(w.dir, "fakes.txt"))
	if err != nil {
		return
	}
	defer f.Close()
	slackMsgs := func(title string, fake *slackfake.Fake, ch string) {
		fmt.Fprintf(f, "== %s %s\n", title, ch)
		for _, m := range fake.Messages(ch) {
			fmt.Fprintf(f, "ts=%s thread=%s user=%s bot=%s deleted=%v\n    %s\n", m.TS, m.ThreadTS, m.User, m.BotID, m.Deleted,
				strings.ReplaceAll(slackfake.Shown(m), "\n", "\n    "))
		}
	}
	slackMsgs("internal slack", w.internal, fxProduct)
	slackMsgs("internal slack", w.internal, fxSupport)
	slackMsgs("community slack", w.community, fxCommHelp)
	channels := []string{fxGeneral}
	for _, parent := range []string{fxGeneral, fxHelp} {
		for _, th := range w.discord.Threads(parent) {
			channels = append(channels, th.ID)
		}
	}
	for _, ch := range channels {
		fmt.Fprintf(f, "== discord %s\n", ch)
		for _, m := range w.discord.Messages(ch) {
			fmt.Fprintf(f, "id=%s author=%s webhook=%s deleted=%v\n    %s\n", m.ID, m.Author.Username, m.WebhookID, m.Deleted, m.Content)
		}
	}
	fmt.Fprintf(f, "== internal slack calls\n")
	for _, c := range w.internal.Calls() {
		fmt.Fprintf(f, "%s %s %s %d %s channel=%s ts=%s thread=%s\n", c.At.Format("15:04:05.000"), c.Method, c.Error, c.Status, c.TokenType, c.Params.Get("channel"), c.Params.Get("ts"), c.Params.Get("thread_ts"))
	}
	deliveries := func(title string, fake *slackfake.Fake) {
		fmt.Fprintf(f, "== %s deliveries\n", title)
		for _, d := range fake.Deliveries() {
			var p struct {
				Type  string `json:"type"`
				Event struct {
					Type     string `json:"type"`
					Subtype  string `json:"subtype"`
					TS       string `json:"ts"`
					ThreadTS string `json:"thread_ts"`
					Text     string `json:"text"`
				} `json:"event"`
			}
			_ = json.Unmarshal(d.Payload, &p)
			what := p.Type
			if p.Event.Type != "" {
				what = fmt.Sprintf("%s/%s ts=%s thread=%s %q", p.Event.Type, p.Event.Subtype, p.Event.TS, p.Event.ThreadTS, firstLine(p.Event.Text, 80))
			}
			fmt.Fprintf(f, "%s attempts=%d acked=%v failed=%v %s\n", d.Type, d.Attempts, d.Acked, d.Failed, what)
		}
	}
	deliveries("internal slack", w.internal)
	deliveries("community slack", w.community)
	fmt.Fprintf(f, "== discord calls\n")
	for _, c := range w.discord.Calls() {
		fmt.Fprintf(f, "%s %s %s?%s %d dropped=%v\n", c.At.Format("15:04:05.000"), c.Method, c.Path, c.Query, c.Status, c.Dropped)
	}
}

// brokenCalls says how many platform calls the faults actually broke.
func (w *world) brokenCalls() string {
	n := map[string]int{}
	for _, p := range []*webProxy{w.internalWeb, w.communityWeb} {
		for f, k := range p.broken() {
			n["slack-"+f.String()] += k
		}
	}
	for _, c := range w.discord.Calls() {
		switch {
		case c.Dropped && c.Status != 0:
			n["discord-lost-answer"]++
		case c.Dropped:
			n["discord-unanswered"]++
		case c.Status == 429:
			n["discord-429"]++
		case c.Status >= 500:
			n["discord-5xx"]++
		case c.Status == 403:
			n["discord-403"]++
		}
	}
	var out []string
	for k, v := range n {
		out = append(out, fmt.Sprintf("%s×%d", k, v))
	}
	sort.Strings(out)
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, " ")
}

// report logs the summary and fails the test on any failure.
func (w *world) report(v *verdict, extra ...string) {
	t := w.t
	t.Helper()
	var faults []string
	for k, n := range w.st.faults {
		faults = append(faults, fmt.Sprintf("%s×%d", k, n))
	}
	sort.Strings(faults)
	if len(faults) == 0 {
		faults = []string{"none"}
	}
	s := w.st
	summary := fmt.Sprintf("%s (seed %d, %v): %d crashes (%d while a call was held); %d public messages (%d questions, %d follow-ups; %d posted while down); "+
		"%d drafts (%d by the form), %d approved (%d again after a failure); faults: %s; lost %d, duplicated %d, published without approval %d, stuck jobs %d, dead jobs %d; "+
		"longest restart to ready %v, longest job %v (%d over 30s)",
		w.name, w.top, time.Since(s.started).Round(time.Second), s.crashes, s.heldKills, s.newItems+s.followUps, s.newItems, s.followUps, s.down,
		s.drafts, s.forms, s.approvals, s.retries, strings.Join(faults, " "),
		len(v.lost), len(v.duplicated), len(v.unapproved), len(v.stuck), len(v.dead),
		s.longestReady.Round(time.Millisecond), v.longestJob.Round(time.Millisecond), v.slowJobs)
	summary += "; calls broken: " + w.brokenCalls()
	t.Log(summary)
	w.note("summary: %s", summary)
	if s.lostClicks > 0 {
		t.Logf("%s: %d click(s) or form(s) not acted on within 5s: left unacknowledged (Slack showed the person an error) or answered with an error; as a person would, the test tried again or moved on", w.name, s.lostClicks)
	}
	for _, n := range v.notes {
		t.Logf("%s: %s", w.name, n)
	}
	w.logMu.Lock()
	races := w.races
	w.logMu.Unlock()
	if races > 0 {
		t.Errorf("%s: %d data race report(s) in the processes' output (see %s)", w.name, races, w.logFile.Name())
	}
	for _, e := range append(slices.Clone(w.unexpected), extra...) {
		t.Errorf("%s: %s", w.name, e)
		w.note("FAILED: %s", e)
	}
	section := func(title string, lines []string) {
		if len(lines) == 0 {
			return
		}
		const most = 25
		shown := lines
		if len(shown) > most {
			shown = shown[:most]
		}
		w.note("%s (%d):\n  %s", title, len(lines), strings.Join(lines, "\n  "))
		msg := fmt.Sprintf("%s: %s (%d):\n  %s", w.name, title, len(lines), strings.Join(shown, "\n  "))
		if len(lines) > most {
			msg += fmt.Sprintf("\n  … and %d more", len(lines)-most)
		}
		t.Error(msg)
	}
	section("LOST", v.lost)
	section("DUPLICATED", v.duplicated)
	section("PUBLISHED WITHOUT APPROVAL", v.unapproved)
	section("JOBS STILL PENDING OR RUNNING after the drain", v.stuck)
	section("DEAD JOBS", v.dead)
	if t.Failed() {
		w.dump()
		t.Logf("%s: replay with LIAISON_FAULT_SEED=%d go test -race -count=1 -run 'TestFaults/%s$' ./cmd/liaison; the processes' log is %s",
			w.name, w.top, w.name, w.logFile.Name())
	}
}

// logStory is the last max lines of a log that tell what happened: the
// test's steps, warnings and errors, and the Discord gateway's hand-overs
// and catch-ups.
func logStory(path string, max int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	var keep []string
	for _, l := range strings.Split(string(b), "\n") {
		for _, k := range []string{"===", "level=WARN", "level=ERROR", "gateway", "backfill", "catch", "standby", "DATA RACE"} {
			if strings.Contains(l, k) {
				keep = append(keep, l)
				break
			}
		}
	}
	if len(keep) > max {
		keep = keep[len(keep)-max:]
	}
	return strings.Join(keep, "\n")
}
