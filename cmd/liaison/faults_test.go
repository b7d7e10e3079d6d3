//go:build linux

package main

// The fault suite runs the real binary, `liaison run`, as a subprocess
// against the Slack and Discord fakes, and breaks things around it while a
// community floods it with questions and staff draft and approve answers:
// kill -9 at random moments (also while a platform call has been carried
// out and its answer is held), 5xx, 429 storms, answers lost after the
// platform applied the call, slow answers, dropped and refreshed Socket
// Mode sockets, dropped, resumed and invalidated gateway sessions,
// Postgres cut off and back, a locked SQLite file, a full disk, and
// replicas of which one dies. After a drain it checks what people would
// see: every public message relayed once, every approved draft published
// once, nothing public without approval, no job left behind.
//
// The run is given by a seed (printed; LIAISON_FAULT_SEED or -faults.seed
// replays its schedule) and a number of crash cycles per engine (20 by
// default; LIAISON_FAULT_CYCLES or -faults.cycles for more). What happens
// within a cycle depends on timing too, so a replay is the same schedule,
// not the same interleaving. See docs/faults.md.

import (
	"context"
	"flag"
	"fmt"
	"hash/fnv"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/liaison-bot/liaison/handlers/discord/discordfake"
	"github.com/liaison-bot/liaison/storage/storagetest"
)

var (
	flagFaultCycles = flag.Int("faults.cycles", 0, "crash cycles per engine of TestFaults (default: $LIAISON_FAULT_CYCLES, else 20)")
	flagFaultSeed   = flag.Uint64("faults.seed", 0, "seed of TestFaults (default: $LIAISON_FAULT_SEED, else the clock)")
)

const (
	// fastCycles is the default: enough for the usual `go test ./...`.
	fastCycles = 20
	// readyLimit bounds a start: migrate, connect every connection.
	readyLimit = 30 * time.Second
)

// binary is the liaison binary the suite builds once per test run.
var binary struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if binary.dir != "" {
		os.RemoveAll(binary.dir)
	}
	os.Exit(code)
}

// buildLiaison builds ./cmd/liaison once, with the race detector when the
// tests run with it. LIAISON_FAULT_BIN names a binary to use instead (one
// built from another revision, say).
func buildLiaison(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("LIAISON_FAULT_BIN"); bin != "" {
		return bin
	}
	binary.once.Do(func() {
		binary.dir, binary.err = os.MkdirTemp("", "liaison-faults-bin-")
		if binary.err != nil {
			return
		}
		goTool, err := exec.LookPath("go")
		if err != nil {
			goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
		}
		binary.path = filepath.Join(binary.dir, "liaison")
		args := []string{"build", "-o", binary.path}
		if raceBuild {
			args = append(args, "-race")
		}
		out, err := exec.Command(goTool, append(args, ".")...).CombinedOutput()
		if err != nil {
			binary.err = fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	})
	if binary.err != nil {
		t.Fatal(binary.err)
	}
	return binary.path
}

// faultParams returns the seed and the number of crash cycles.
func faultParams(t *testing.T) (uint64, int) {
	t.Helper()
	seed := *flagFaultSeed
	if s := os.Getenv("LIAISON_FAULT_SEED"); seed == 0 && s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("LIAISON_FAULT_SEED=%q: want a number", s)
		}
	}
	if seed == 0 {
		seed = uint64(time.Now().UnixNano()%1_000_000_000) + 1
	}
	cycles := *flagFaultCycles
	if s := os.Getenv("LIAISON_FAULT_CYCLES"); cycles == 0 && s != "" {
		var err error
		if cycles, err = strconv.Atoi(s); err != nil || cycles < 1 {
			t.Fatalf("LIAISON_FAULT_CYCLES=%q: want a positive number", s)
		}
	}
	if cycles == 0 {
		cycles = fastCycles
	}
	return seed, cycles
}

// subSeed gives each scenario its own schedule from the run's seed.
func subSeed(seed uint64, name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return seed ^ h.Sum64()
}

// drainLimit is how long the end of a run waits for the last effects: in
// the fast mode long enough for a job lease (20 s) and Slack's retries
// (here 5 and 15 s) to run out after the last restart, and for a job that
// met injected errors to wait out its growing backoff on a loaded machine
// (the test machines run every package at once); the long mode waits
// longer. The drain ends as soon as everything is there.
func drainLimit(cycles int) time.Duration {
	if cycles > fastCycles {
		return 3 * time.Minute
	}
	return time.Minute
}

// TestFaults runs the scenarios, in parallel, each in a world of its own.
func TestFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("the fault suite runs liaison processes for minutes")
	}
	seed, cycles := faultParams(t)
	t.Logf("seed %d, %d crash cycles per engine; replay: LIAISON_FAULT_SEED=%d LIAISON_FAULT_CYCLES=%d go test -race -count=1 -run TestFaults ./cmd/liaison",
		seed, cycles, seed, cycles)
	buildLiaison(t)
	postgres := os.Getenv(storagetest.EnvURL) != ""
	if !postgres {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true and %s is unset: the fault suite must run on Postgres too", storagetest.EnvURL)
		}
		t.Logf("%s is unset: the Postgres scenarios do not run", storagetest.EnvURL)
	}
	run := func(name, engine string, fn func(w *world)) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fn(newWorld(t, name, engine, seed))
		})
	}

	// Crashes and platform faults, one process at a time. What the suite
	// found, and which seed shows it, is listed in docs/faults.md.
	run("crashes-sqlite", "sqlite", func(w *world) {
		w.crashRun(cycles)
		w.finish(drainLimit(cycles))
	})
	if postgres {
		// The same with Postgres cut off and back now and then.
		run("crashes-postgres", "postgres", func(w *world) {
			w.crashRun(cycles)
			w.finish(drainLimit(cycles))
		})
		// Three replicas on one database; one is killed, the others carry
		// on.
		run("replicas-postgres", "postgres", func(w *world) {
			w.replicaRun(max(8, cycles/2))
			w.finish(drainLimit(cycles))
		})
	}
	// Another process holds SQLite's write lock for longer than Liaison
	// waits.
	run("locked-sqlite", "sqlite", func(w *world) {
		extra := w.lockedRun(8 * time.Second)
		w.finish(drainLimit(cycles), extra...)
	})
	// The disk is full (no file may grow), then space comes back.
	run("diskfull-sqlite", "sqlite", func(w *world) {
		extra := w.diskFullRun(6 * time.Second)
		w.finish(drainLimit(cycles), extra...)
	})
}

// finish brings a process up if none runs, waits for the last effects,
// stops every process cleanly, checks and reports.
func (w *world) finish(limit time.Duration, extra ...string) {
	w.t.Helper()
	if len(w.procs) == 0 {
		w.up(time.Now())
	}
	w.settle(5 * time.Second)
	w.retryFailed()
	w.drain(limit)
	for _, p := range slices.Clone(w.procs) {
		if err := w.stop(p); err != nil {
			extra = append(extra, err.Error())
		}
	}
	w.report(w.check(), extra...)
}

// crashRun: cycles of actions ended by a kill -9, with a platform or
// database fault in about half of them and public messages posted while
// no process runs in some.
func (w *world) crashRun(cycles int) {
	var down time.Time
	for c := 1; c <= cycles; c++ {
		if len(w.procs) == 0 {
			w.up(down)
		}
		w.note("cycle %d", c)
		w.retryFailed()
		if w.rng.IntN(2) == 0 {
			w.fault()
		}
		for n := 2 + w.rng.IntN(3); n > 0; n-- {
			w.act()
		}
		if w.rng.IntN(2) == 0 {
			w.settle(2 * time.Second)
		}
		w.crash(w.procs[0])
		down = time.Now()
		if w.rng.IntN(5) < 2 {
			for n := 1 + w.rng.IntN(2); n > 0; n-- {
				if w.rng.IntN(3) == 0 {
					w.follow(true)
				} else {
					w.ask(true)
				}
			}
		}
		w.calm()
	}
	w.up(down)
}

// replicaRun: three processes on one database; one is killed a third of
// the way in and the others carry on; later ones die and come back.
func (w *world) replicaRun(cycles int) {
	for range 3 {
		w.start()
	}
	for _, p := range w.procs {
		if err := w.waitReady(p, readyLimit); err != nil {
			w.t.Fatalf("%s: %v", w.name, err)
		}
	}
	firstKill := 1 + cycles/3
	for c := 1; c <= cycles; c++ {
		w.note("cycle %d (%d replicas)", c, len(w.procs))
		w.retryFailed()
		if w.rng.IntN(2) == 0 {
			w.fault()
		}
		for n := 2 + w.rng.IntN(3); n > 0; n-- {
			w.act()
		}
		w.settle(time.Second)
		switch {
		case c == firstKill, c > firstKill && len(w.procs) > 2 && w.rng.IntN(3) == 0:
			w.crash(w.procs[w.rng.IntN(len(w.procs))])
		case c > firstKill && len(w.procs) < 3 && w.rng.IntN(3) == 0:
			w.up(time.Time{})
		}
		w.calm()
	}
}

// act is one thing people do, picked by the seed: ask, follow up, draft or
// approve (when there is nothing to draft on or approve, ask or follow up).
func (w *world) act() {
	switch r := w.rng.IntN(20); {
	case r < 8:
		w.ask(false)
	case r < 13:
		w.follow(false)
	case r < 17:
		if !w.draft() {
			w.ask(false)
		}
	default:
		if !w.approve() {
			w.follow(false)
		}
	}
}

// crash kills p: at once, a moment later, or while one of its platform
// calls has been carried out and its answer is held.
func (w *world) crash(p *proc) {
	w.st.crashes++
	switch w.rng.IntN(4) {
	case 0:
		w.kill(p, "kill -9")
	case 1:
		time.Sleep(time.Duration(w.rng.IntN(1000)) * time.Millisecond)
		w.kill(p, "kill -9 a moment later")
	case 2:
		w.killHeldCard(p)
	default:
		w.killHeldPublish(p)
	}
}

// killHeldCard holds the answer of the next chat.postMessage to the
// internal Slack (posted by the platform all the same), causes one with a
// new question, and kills p while the answer is held.
func (w *world) killHeldCard(p *proc) {
	w.internalWeb.inject("chat.postMessage", faultHold, 1, 0)
	w.ask(false)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
	held := w.internalWeb.waitHeld(ctx)
	cancel()
	if held {
		w.st.heldKills++
		w.kill(p, "kill -9 while an internal chat.postMessage was carried out and its answer held")
	} else {
		w.kill(p, "kill -9 (no internal chat.postMessage came to hold)")
	}
	w.internalWeb.clearHolds()
	w.internalWeb.releaseHolds()
}

// killHeldPublish has Bob approve a draft and kills p while the public
// post has been made and its answer is held; with nothing to approve it
// holds a card instead.
func (w *world) killHeldPublish(p *proc) {
	d, card, ok := w.approvable(nil)
	if !ok {
		w.killHeldCard(p)
		return
	}
	var held func(context.Context) bool
	if d.item.where == inSlack {
		w.communityWeb.inject("chat.postMessage", faultHold, 1, 0)
		held = w.communityWeb.waitHeld
	} else {
		before := len(w.discord.Calls())
		w.discord.Inject(discordfake.Fault{Method: "POST", PathPrefix: "/webhooks/", Drop: discordfake.DropHang, Applied: true})
		held = func(ctx context.Context) bool {
			return w.discord.WaitFor(ctx, func() bool {
				for _, c := range w.discord.Calls()[before:] {
					if c.Dropped && strings.HasPrefix(c.Route, "POST /webhooks/") {
						return true
					}
				}
				return false
			}) == nil
		}
	}
	w.clickApprove(d, card)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
	ok = held(ctx)
	cancel()
	if ok {
		w.st.heldKills++
		w.kill(p, "kill -9 while the public post of "+d.marker+" was made and its answer held")
	} else {
		w.kill(p, "kill -9 (the public post of "+d.marker+" did not come to be held)")
	}
	w.communityWeb.clearHolds()
	w.communityWeb.releaseHolds()
}

// fault injects one platform or database fault, picked by the seed.
func (w *world) fault() {
	kinds := []string{
		"slack-5xx", "slack-5xx-share", "slack-429", "slack-lost-answer", "slack-slow", "slack-socket-drop", "slack-socket-refresh", "slack-rate-storm",
		"discord-5xx", "discord-429", "discord-lost-answer", "discord-permanent", "gateway-drop", "gateway-reconnect", "gateway-invalid-session",
	}
	if w.pg != nil {
		kinds = append(kinds, "postgres-restart", "postgres-restart")
	}
	k := kinds[w.rng.IntN(len(kinds))]
	web, slack := w.internalWeb, w.internal
	if w.rng.IntN(3) == 0 {
		web, slack = w.communityWeb, w.community
	}
	method := "chat.postMessage"
	if w.rng.IntN(4) == 0 {
		method = "chat.update"
	}
	times := 1 + w.rng.IntN(3)
	switch k {
	case "slack-5xx":
		web.inject(method, fault5xx, times, 0)
	case "slack-5xx-share":
		web.share("chat.*", fault5xx, 3+w.rng.IntN(4), 2+w.rng.IntN(3), 0)
	case "slack-429":
		web.inject(method, fault429, times, 0)
	case "slack-lost-answer":
		web.inject(method, faultLostAnswer, 1, 0)
	case "slack-slow":
		web.inject(method, faultSlow, times, time.Duration(500+w.rng.IntN(2000))*time.Millisecond)
	case "slack-socket-drop":
		slack.DropSocket()
	case "slack-socket-refresh":
		slack.Disconnect()
	case "slack-rate-storm":
		for _, ch := range []string{fxProduct, fxSupport} {
			w.internal.SetRate(ch, 0.5, 1)
		}
	case "discord-5xx":
		if w.rng.IntN(2) == 0 {
			w.discord.Inject(discordfake.Fault{Method: "POST", PathPrefix: "/webhooks/", Status: 502, Times: times})
		} else {
			w.discord.Inject(discordfake.Fault{Method: "GET", PathPrefix: "/channels/", Status: 500, Times: times})
		}
	case "discord-429":
		w.discord.Inject(discordfake.Fault{Method: "POST", PathPrefix: "/webhooks/", Status: 429, RetryAfter: 700 * time.Millisecond, Times: times})
	case "discord-permanent":
		// The webhook refuses for good: the publication dies, the draft
		// fails, and Bob approves it again (see retryFailed).
		w.discord.Inject(discordfake.Fault{Method: "POST", PathPrefix: "/webhooks/", Status: 403, Code: 50013})
		w.permanentFaults++
	case "discord-lost-answer":
		w.discord.Inject(discordfake.Fault{Method: "POST", PathPrefix: "/webhooks/", Drop: discordfake.DropReset, Applied: true})
	case "gateway-drop":
		w.discord.DropGateway()
	case "gateway-reconnect":
		w.discord.SendReconnect()
	case "gateway-invalid-session":
		w.discord.InvalidateSession()
	case "postgres-restart":
		d := time.Duration(1000+w.rng.IntN(2000)) * time.Millisecond
		w.pg.cut()
		w.note("postgres cut off for %v", d)
		time.AfterFunc(d, func() {
			w.pg.restore()
			w.note("postgres back")
		})
	}
	w.st.faults[k]++
	w.note("fault %s", k)
}

// calm ends the cycle's rate storm, if any.
func (w *world) calm() {
	for _, ch := range []string{fxProduct, fxSupport} {
		w.internal.SetRate(ch, 20, 20)
	}
}

// readyWatch polls /readyz of p until stop is closed and reports whether it
// ever said not ready, and what.
func readyWatch(p *proc, stop <-chan struct{}) <-chan string {
	out := make(chan string, 1)
	go func() {
		client := newClient()
		seen := ""
		for {
			select {
			case <-stop:
				out <- seen
				return
			case <-time.After(200 * time.Millisecond):
			}
			if ok, why := ready(client, p); !ok && seen == "" {
				seen = firstLine(why, 200)
				if seen == "" {
					seen = "not ready"
				}
			}
		}
	}()
	return out
}

// lockedRun: another process takes SQLite's write lock (BEGIN EXCLUSIVE)
// for hold, longer than Liaison's busy timeout, while members ask and
// Alice drafts; then lets it go. Liaison should say so in its log and on
// /readyz, and lose nothing.
func (w *world) lockedRun(hold time.Duration) []string {
	p := w.up(time.Time{})
	for range 3 {
		w.ask(false)
	}
	w.follow(false)
	w.drain(15 * time.Second)

	ctx := context.Background()
	conn, err := w.sqlDB().Conn(ctx)
	if err != nil {
		w.t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN EXCLUSIVE"); err != nil {
		w.t.Fatalf("take the database's write lock: %v", err)
	}
	since := time.Now()
	w.note("database locked by the test for %v", hold)
	w.st.faults["sqlite-locked"]++
	stop := make(chan struct{})
	watch := readyWatch(p, stop)
	for range 2 {
		w.ask(false)
	}
	w.follow(false)
	w.follow(false)
	w.draft()
	time.Sleep(time.Until(since.Add(hold)))
	close(stop)
	notReady := <-watch
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		w.t.Fatalf("release the database's write lock: %v", err)
	}
	w.note("database unlocked")
	w.settle(10 * time.Second)
	w.approve()

	var extra []string
	if notReady == "" {
		extra = append(extra, fmt.Sprintf("/readyz said ready all along while another process held the database's write lock for %v", hold))
	}
	if !w.logged(since, "locked", "busy") {
		extra = append(extra, fmt.Sprintf("no ERROR or WARN line said the database was locked during the %v it was", hold))
	}
	return extra
}

// diskFullRun: no file of the process may grow (RLIMIT_FSIZE) for hold,
// while members ask and Alice drafts; then space comes back. Liaison should
// say so in its log and on /readyz, and lose nothing.
func (w *world) diskFullRun(hold time.Duration) []string {
	p := w.up(time.Time{})
	for range 3 {
		w.ask(false)
	}
	w.follow(false)
	w.drain(15 * time.Second)

	if err := setFileSizeLimit(p.pid(), 1); err != nil {
		w.t.Fatalf("limit the file size of %s: %v", p.name, err)
	}
	since := time.Now()
	w.note("disk full for %s for %v", p.name, hold)
	w.st.faults["disk-full"]++
	stop := make(chan struct{})
	watch := readyWatch(p, stop)
	for range 2 {
		w.ask(false)
	}
	w.follow(false)
	w.follow(false)
	w.draft()
	time.Sleep(time.Until(since.Add(hold)))
	close(stop)
	notReady := <-watch
	if err := setFileSizeLimit(p.pid(), ^uint64(0)); err != nil {
		w.t.Fatalf("lift the file size limit of %s: %v", p.name, err)
	}
	w.note("disk space back")
	w.settle(10 * time.Second)
	w.approve()

	var extra []string
	if notReady == "" {
		extra = append(extra, fmt.Sprintf("/readyz said ready all along while the disk was full for %v", hold))
	}
	if !w.logged(since, "full", "I/O error", "too large") {
		extra = append(extra, fmt.Sprintf("no ERROR or WARN line said the disk was full during the %v it was", hold))
	}
	return extra
}

// logged reports whether an ERROR or WARN line since t holds one of words.
func (w *world) logged(since time.Time, words ...string) bool {
	for _, l := range w.problemsSince(since) {
		for _, word := range words {
			if strings.Contains(l.text, word) {
				w.note("clear error: %s | %s", l.proc, l.text)
				return true
			}
		}
	}
	return false
}

// setFileSizeLimit sets RLIMIT_FSIZE of a running process: a write beyond
// limit bytes fails (EFBIG; Go ignores SIGXFSZ), as on a full disk.
func setFileSizeLimit(pid int, limit uint64) error {
	lim := syscall.Rlimit{Cur: limit, Max: ^uint64(0)}
	_, _, errno := syscall.RawSyscall6(syscall.SYS_PRLIMIT64, uintptr(pid), uintptr(syscall.RLIMIT_FSIZE),
		uintptr(unsafe.Pointer(&lim)), 0, 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}
