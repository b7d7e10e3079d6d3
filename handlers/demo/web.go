package demo

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io/fs"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/liaison-bot/liaison/handlers/discord/discordfake"
)

//go:embed web
var webFiles embed.FS

// page serves the demo page, its live state and the visitor's actions.
type page struct {
	w   *world
	hub *hub
	mux *http.ServeMux
}

// newPage returns the page; dashboard serves Liaison's dashboard, which
// the page shows at /dashboard.
func newPage(w *world, dashboard http.Handler) *page {
	p := &page{w: w, hub: newHub(), mux: http.NewServeMux()}
	static, _ := fs.Sub(webFiles, "web")
	p.mux.Handle("GET /", http.FileServerFS(static))
	p.mux.Handle("GET /dashboard", dashboard)
	p.mux.Handle("GET /dashboard/", dashboard)
	p.mux.Handle("POST /dashboard/", dashboard)
	p.mux.HandleFunc("GET /open-dashboard", func(rw http.ResponseWriter, r *http.Request) {
		http.Redirect(rw, r, strings.TrimPrefix(w.dashboardURL(), w.base), http.StatusSeeOther)
	})
	p.mux.HandleFunc("GET /api/state", p.state)
	p.mux.HandleFunc("GET /api/events", p.events)
	p.mux.HandleFunc("POST /api/act", p.act)
	p.mux.HandleFunc("GET /avatars/{file}", avatar)
	return p
}

func (p *page) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data: http: https:; style-src 'self' 'unsafe-inline'")
	p.mux.ServeHTTP(w, r)
}

func (p *page) state(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(p.w.snapshot())
}

// events streams the state as server-sent events: at once, then after
// every change the fakes report.
func (p *page) events(w http.ResponseWriter, r *http.Request) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("X-Accel-Buffering", "no")
	seen := -1
	for {
		state, version, changed := p.hub.current()
		if version != seen && state != nil {
			if _, err := fmt.Fprintf(w, "event: state\ndata: %s\n\n", state); err != nil {
				return
			}
			flusher.Flush()
			seen = version
		}
		select {
		case <-changed:
		case <-r.Context().Done():
			return
		}
	}
}

// hub holds the latest state and wakes the event streams when it changes.
type hub struct {
	mu      sync.Mutex
	state   []byte
	version int
	changed chan struct{}
}

func newHub() *hub { return &hub{changed: make(chan struct{})} }

func (h *hub) current() ([]byte, int, <-chan struct{}) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.state, h.version, h.changed
}

func (h *hub) publish(state []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if bytes.Equal(state, h.state) {
		return
	}
	h.state = state
	h.version++
	close(h.changed)
	h.changed = make(chan struct{})
}

// run rebuilds the state after every change of either fake until ctx ends.
// Changes come in bursts (a card, its thread, a call per step): at most one
// state is built per interval, after the burst's first change.
func (h *hub) run(ctx context.Context, w *world) {
	const interval = 50 * time.Millisecond
	for {
		sc, dc := w.slack.Changes(), w.discord.Changes()
		if b, err := json.Marshal(w.snapshot()); err == nil {
			h.publish(b)
		}
		select {
		case <-sc:
		case <-dc:
		case <-ctx.Done():
			return
		}
		t := time.NewTimer(interval)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return
		}
	}
}

// action is what the visitor did, as whom.
type action struct {
	As       string                       `json:"as"` // a person's id
	Do       string                       `json:"do"`
	Channel  string                       `json:"channel,omitempty"`
	Message  string                       `json:"message,omitempty"` // Discord message id or Slack ts
	Thread   string                       `json:"thread,omitempty"`  // Slack thread ts, Discord forum post id
	Text     string                       `json:"text,omitempty"`
	Title    string                       `json:"title,omitempty"`
	ActionID string                       `json:"action_id,omitempty"`
	View     string                       `json:"view,omitempty"`
	Values   map[string]map[string]string `json:"values,omitempty"`
}

// act performs an action through the fakes, as the platform's client would
// for that person. It answers {"id": …} (what a Discord post created), or
// 400 with {"error": …}.
func (p *page) act(w http.ResponseWriter, r *http.Request) {
	var a action
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&a); err != nil {
		actError(w, fmt.Errorf("bad request: %w", err))
		return
	}
	id, err := p.w.perform(a)
	if err != nil {
		actError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"id": id})
}

func actError(w http.ResponseWriter, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
}

var errNoText = errors.New("write something first")

// perform does a for the person it names and returns the id of the
// Discord message or forum post it created, if any.
func (w *world) perform(a action) (string, error) {
	who, ok := person(a.As)
	if !ok {
		return "", fmt.Errorf("pick who you are first")
	}
	text := strings.TrimSpace(a.Text)
	needText := func() error {
		if text == "" {
			return errNoText
		}
		return nil
	}
	if who.Platform == "discord" {
		return w.performDiscord(who, a, text, needText)
	}
	return "", w.performSlack(who, a, text, needText)
}

// performSlack acts as a staff member in the team's workspace.
func (w *world) performSlack(who Person, a action, text string, needText func() error) error {
	switch a.Do {
	case "post":
		if err := needText(); err != nil {
			return err
		}
		if cmd, rest, _ := strings.Cut(text, " "); strings.HasPrefix(cmd, "/") {
			if cmd != "/liaison" {
				return fmt.Errorf("the only command here is /liaison")
			}
			return w.slack.SlashCommand(who.ID, a.Channel, cmd, slackTyped(strings.TrimSpace(rest)))
		}
		_, err := w.slack.Post(who.ID, a.Channel, slackTyped(text))
		return err
	case "reply":
		if err := needText(); err != nil {
			return err
		}
		_, err := w.slack.Reply(who.ID, a.Channel, a.Thread, slackTyped(text))
		return err
	case "click":
		return w.slack.Click(who.ID, a.Channel, a.Message, a.ActionID)
	case "submit":
		return w.slack.SubmitView(who.ID, a.View, a.Values)
	case "close":
		return w.slack.CloseView(who.ID, a.View)
	}
	return fmt.Errorf("%s cannot %q on Slack", who.Name, a.Do)
}

// performDiscord acts as the community member on the public server.
func (w *world) performDiscord(who Person, a action, text string, needText func() error) (string, error) {
	own := func() error {
		m, ok := w.discord.MessageByID(a.Message)
		if !ok || m.Deleted || m.Author.ID != who.ID {
			return fmt.Errorf("%s can only change her own messages", who.Name)
		}
		return nil
	}
	switch a.Do {
	case "post": // in #help; a reply when Message is set
		if a.Channel != helpChannel {
			return "", fmt.Errorf("post in #help, or open a post in the forum")
		}
		if err := needText(); err != nil {
			return "", err
		}
		var m discordfake.Message
		var err error
		if a.Message != "" {
			m, err = w.discord.Reply(who.ID, a.Channel, a.Message, text)
		} else {
			m, err = w.discord.Post(who.ID, a.Channel, text)
		}
		return m.ID, err
	case "open_post":
		if strings.TrimSpace(a.Title) == "" {
			return "", fmt.Errorf("give the post a title")
		}
		if err := needText(); err != nil {
			return "", err
		}
		post, _, err := w.discord.OpenForumPost(who.ID, forumChannel, strings.TrimSpace(a.Title), text)
		return post.ID, err
	case "reply_post":
		if err := needText(); err != nil {
			return "", err
		}
		m, err := w.discord.PostInThread(who.ID, a.Thread, text)
		return m.ID, err
	case "edit":
		if err := needText(); err != nil {
			return "", err
		}
		if err := own(); err != nil {
			return "", err
		}
		_, err := w.discord.Edit(a.Channel, a.Message, text)
		return "", err
	case "delete":
		if err := own(); err != nil {
			return "", err
		}
		return "", w.discord.Delete(a.Channel, a.Message)
	}
	return "", fmt.Errorf("%s cannot %q on Discord", who.Name, a.Do)
}

// avatar draws a round avatar with a person's initial.
func avatar(w http.ResponseWriter, r *http.Request) {
	handle, ok := strings.CutSuffix(r.PathValue("file"), ".svg")
	color, known := avatarColors[handle]
	if !ok || !known {
		http.NotFound(w, r)
		return
	}
	initial := strings.ToUpper(handle[:1])
	if handle == "liaison" {
		initial = "L"
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64">`+
		`<rect width="64" height="64" rx="14" fill="%s"/>`+
		`<text x="32" y="43" font-family="Helvetica, Arial, sans-serif" font-size="30" font-weight="700" fill="#fff" text-anchor="middle">%s</text></svg>`,
		color, html.EscapeString(initial))
}
