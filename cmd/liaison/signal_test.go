//go:build unix

package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/handlers/discord/discordfake"
	"github.com/liaison-bot/liaison/handlers/slack/slackfake"
	"github.com/liaison-bot/liaison/storage"
)

// envProcessConfig, set, makes TestLiaisonProcess run `liaison run` with
// that config: the process TestStopOnSignal signals.
const envProcessConfig = "LIAISON_TEST_PROCESS_CONFIG"

// TestLiaisonProcess is `liaison run` in a child process of
// TestStopOnSignal, through main, signal handling and exit code included.
func TestLiaisonProcess(t *testing.T) {
	cfg := os.Getenv(envProcessConfig)
	if cfg == "" {
		t.Skip("runs only as the child process of TestStopOnSignal")
	}
	os.Args = []string{"liaison", "run", "--config", cfg}
	main() // exits
}

// signalBound is how long the test waits for the process: far beyond what
// starting and stopping take.
const signalBound = 30 * time.Second

// heldPost passes chat.postMessage calls on to Slack and holds each answer
// until released: a call in flight when the signal comes.
type heldPost struct {
	proxy   *httputil.ReverseProxy
	held    chan struct{} // receives when a call is being held
	release chan struct{}
	once    sync.Once
}

func newHeldPost(target string) (*heldPost, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	return &heldPost{proxy: httputil.NewSingleHostReverseProxy(u), held: make(chan struct{}, 16), release: make(chan struct{})}, nil
}

func (h *heldPost) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasSuffix(r.URL.Path, "/chat.postMessage") {
		h.proxy.ServeHTTP(w, r)
		return
	}
	rec := &heldAnswer{header: http.Header{}}
	h.proxy.ServeHTTP(rec, r) // Slack carries it out now
	h.held <- struct{}{}
	select {
	case <-h.release:
	case <-time.After(signalBound):
	}
	for k, v := range rec.header {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.code)
	w.Write(rec.body.Bytes())
}

func (h *heldPost) releaseAll() { h.once.Do(func() { close(h.release) }) }

// heldAnswer records an answer to send later.
type heldAnswer struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (a *heldAnswer) Header() http.Header { return a.header }
func (a *heldAnswer) WriteHeader(code int) {
	if a.code == 0 {
		a.code = code
	}
}
func (a *heldAnswer) Write(b []byte) (int, error) {
	a.WriteHeader(http.StatusOK)
	return a.body.Write(b)
}

// TestStopOnSignal: `liaison run` stops on SIGTERM and on SIGINT and exits
// 0. A platform call in flight when SIGTERM comes is finished, not
// abandoned: the card it posts is there once, and its job is done rather
// than left to be reconciled by the next start.
func TestStopOnSignal(t *testing.T) {
	if os.Getenv(envProcessConfig) != "" {
		t.Skip("in the child process")
	}
	for _, tc := range []struct {
		name     string
		sig      syscall.Signal
		inFlight bool
	}{
		{"SIGTERM", syscall.SIGTERM, true},
		{"SIGINT", syscall.SIGINT, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dc, err := discordfake.New(discordfake.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer dc.Close()
			sl, err := slackfake.New(slackfake.Options{
				Channels: []slackfake.Channel{{ID: "C0PRODUCT", Name: "product", Members: []string{"U0BOT"}}},
			})
			if err != nil {
				t.Fatal(err)
			}
			defer sl.Close()
			hold, err := newHeldPost(sl.URL())
			if err != nil {
				t.Fatal(err)
			}
			defer hold.releaseAll()
			proxy := &http.Server{Handler: hold}
			pln, err := listenLocal()
			if err != nil {
				t.Fatal(err)
			}
			go proxy.Serve(pln)
			defer proxy.Close()

			guild := discordfake.DefaultGuild()
			general := guild.Channels[0].ID
			dbPath := filepath.Join(t.TempDir(), "run.db")
			cfg := writeFile(t, fmt.Sprintf(`
company: Acme
database: {sqlite_path: %q}
http: {addr: "127.0.0.1:0"}
connections:
  - {name: community, platform: discord, role: public, token: "${DISCORD_TOKEN}", guild_id: %q, api_url: %s}
  - {name: internal, platform: slack, role: internal, bot_token: "${SLACK_BOT_TOKEN}", app_token: "${SLACK_APP_TOKEN}", api_url: %s}
sources:
  - {name: general, connection: community, channels: [%q]}
routes:
  - {name: product, default: true, destination: {connection: internal, channel: C0PRODUCT}, approval: none}
`, dbPath, guild.ID, dc.URL(), "http://"+pln.Addr().String(), general))

			cmd := exec.Command(os.Args[0], "-test.run=^TestLiaisonProcess$")
			cmd.Env = append(os.Environ(),
				envProcessConfig+"="+cfg,
				"DISCORD_TOKEN="+strings.TrimPrefix(dc.BotToken(), "Bot "),
				"SLACK_BOT_TOKEN="+sl.BotToken(), "SLACK_APP_TOKEN="+sl.AppToken(),
			)
			var stderr syncBuffer
			cmd.Stdout, cmd.Stderr = &stderr, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			defer func() {
				if cmd.ProcessState == nil {
					cmd.Process.Kill()
					<-exited
				}
			}()

			ctx, cancel := context.WithTimeout(context.Background(), signalBound)
			defer cancel()
			if err := dc.WaitFor(ctx, func() bool { return dc.Gateway().Connected }); err != nil {
				t.Fatalf("liaison never connected to Discord: %v\n%s", err, stderr.String())
			}
			if tc.inFlight {
				if _, err := dc.Post(guild.Members[1].User.ID, general, "Is there an API?"); err != nil {
					t.Fatal(err)
				}
				select {
				case <-hold.held:
				case <-ctx.Done():
					t.Fatalf("the card was never posted:\n%s", stderr.String())
				}
			}
			if err := cmd.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			if tc.inFlight {
				// The answer comes once Liaison is stopping.
				time.Sleep(200 * time.Millisecond)
				hold.releaseAll()
			}
			select {
			case err := <-exited: // an *exec.ExitError unless it exited 0
				if err != nil {
					t.Fatalf("liaison run after %s: %v\n%s", tc.name, err, stderr.String())
				}
			case <-ctx.Done():
				t.Fatalf("liaison run did not stop within %s of %s:\n%s", signalBound, tc.name, stderr.String())
			}
			if !strings.Contains(stderr.String(), `msg="liaison stopped"`) {
				t.Errorf("the log does not say Liaison stopped:\n%s", stderr.String())
			}
			if !tc.inFlight {
				return
			}
			if n := len(sl.Messages("C0PRODUCT")); n != 1 {
				t.Errorf("%d cards in Slack, want 1", n)
			}
			db, err := storage.Open(context.Background(), dbPath)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var job *bot.OutboxJob
			err = db.View(context.Background(), func(tx bot.Tx) (err error) {
				job, err = tx.Job(context.Background(), 1)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if job.Kind != bot.OpPostCard || job.State != bot.JobDone {
				t.Errorf("the card's job after the stop: %s %s (owner %q), want a done post_card\n%s", job.Kind, job.State, job.LockedBy, stderr.String())
			}
		})
	}
}

func listenLocal() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }
