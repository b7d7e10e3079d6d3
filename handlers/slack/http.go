package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"time"

	slackapi "github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/liaison-bot/liaison/handlers/web"
)

// maxBody bounds what a Slack request may carry; Slack's are far smaller.
const maxBody = 1 << 20

// Handler serves HTTP mode: POST /events (Events API), /interactivity
// (clicks and modals) and /commands (/liaison), paths relative to where the
// caller mounts it. Every request must carry a valid Slack signature made
// less than 5 minutes ago; any other gets 401 and is not read further.
// Slack's retries (X-Slack-Retry-Num) are processed like first attempts: the
// domain dedupes messages on their keys. An event is answered 200 once
// stored, a click, form or command once its effect is committed; see
// socketEvent.
//
// Refusals are logged at most once per web.RefusalLogEvery for each reason
// (body, signature), with the number refused since: anyone may send them.
func (c *Conn) Handler() http.Handler {
	refused := web.NewSampler(web.RefusalLogEvery)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /events", c.signed(refused, c.serveEvents))
	mux.HandleFunc("POST /interactivity", c.signed(refused, c.serveInteractivity))
	mux.HandleFunc("POST /commands", c.signed(refused, c.serveCommands))
	return mux
}

// signed reads the raw body and checks its signature before anything
// parses it, then passes it to serve; a request not signed right gets 401.
func (c *Conn) signed(refused *web.Sampler, serve func(w http.ResponseWriter, r *http.Request, body []byte)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			// Too large, or not sent within the server's read timeout.
			if ok, n := refused.Allow("body"); ok {
				c.log.Warn("slack request refused: body not read", "path", r.URL.Path, "remote", r.RemoteAddr, "err", err, "suppressed", n)
			}
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var sv slackapi.SecretsVerifier
		if sv, err = slackapi.NewSecretsVerifier(r.Header, c.opts.SigningSecret); err == nil {
			if _, err = sv.Write(body); err == nil {
				err = sv.Ensure()
			}
		}
		if err != nil {
			if ok, n := refused.Allow("signature"); ok {
				c.log.Warn("slack request refused: bad or stale signature", "path", r.URL.Path, "remote", r.RemoteAddr, "err", err, "suppressed", n)
			}
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		serve(w, r, body)
	}
}

// unavailable answers while the connection is not running; Slack retries.
func unavailable(w http.ResponseWriter) {
	w.Header().Set("Retry-After", "5")
	http.Error(w, "liaison is starting or stopping", http.StatusServiceUnavailable)
}

func (c *Conn) serveEvents(w http.ResponseWriter, r *http.Request, body []byte) {
	var head struct {
		Type      string `json:"type"`
		Challenge string `json:"challenge"`
	}
	if err := json.Unmarshal(body, &head); err != nil {
		http.Error(w, "not JSON", http.StatusBadRequest)
		return
	}
	if head.Type == slackevents.URLVerification {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, head.Challenge)
		return
	}
	ctx, ok := c.running()
	if !ok {
		unavailable(w)
		return
	}
	ev, err := slackevents.ParseEvent(json.RawMessage(body), slackevents.OptionNoVerifyToken())
	if err != nil {
		http.Error(w, "not an Events API payload", http.StatusBadRequest)
		return
	}
	if ev.Type != slackevents.CallbackEvent || c.foreign(ev.TeamID) {
		w.WriteHeader(http.StatusOK)
		return
	}
	// Answer once the domain has stored the event, so that a crash before
	// that leaves it to Slack's retry. If that takes too long (the database
	// is slow or down), answer an error within Slack's 3 seconds: Slack
	// sends the event again, and the inbox keeps trying meanwhile.
	done := c.take(ev, nil)
	if done == nil { // the inbox is full, or the connection stopping
		w.Header().Set("Retry-After", "5")
		http.Error(w, "busy, please retry", http.StatusServiceUnavailable)
		return
	}
	t := time.NewTimer(storeWithin)
	defer t.Stop()
	select {
	case <-done:
		w.WriteHeader(http.StatusOK)
	case <-t.C:
		http.Error(w, "not stored yet, please retry", http.StatusServiceUnavailable)
	case <-ctx.Done():
		unavailable(w)
	case <-r.Context().Done():
	}
}

func (c *Conn) serveInteractivity(w http.ResponseWriter, r *http.Request, body []byte) {
	form, err := url.ParseQuery(string(body))
	var cb slackapi.InteractionCallback
	if err == nil {
		err = json.Unmarshal([]byte(form.Get("payload")), &cb)
	}
	if err != nil {
		http.Error(w, "no interaction payload", http.StatusBadRequest)
		return
	}
	c.serveInteraction(w, r, cb.Team.ID, func(ctx context.Context) outcome { return c.interactive(ctx, cb) })
}

func (c *Conn) serveCommands(w http.ResponseWriter, r *http.Request, body []byte) {
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	cmd, err := slackapi.SlashCommandParse(r)
	if err != nil {
		http.Error(w, "not a slash command", http.StatusBadRequest)
		return
	}
	// The answer follows through response_url.
	c.serveInteraction(w, r, cmd.TeamID, func(ctx context.Context) outcome { return c.slashCommand(ctx, cmd) })
}

// serveInteraction answers a click, a form or a command once the domain has
// finished with it (its effect committed): 200, with the answer Slack shows
// in a modal if any, and then what follows. One the domain did not finish in
// time gets 503, and its effect was rolled back: Slack tells the person it
// failed. A payload from another workspace is answered 200 and dropped.
func (c *Conn) serveInteraction(w http.ResponseWriter, r *http.Request, team string, run func(ctx context.Context) outcome) {
	runCtx, ok := c.running()
	if !ok {
		unavailable(w)
		return
	}
	if c.foreign(team) {
		w.WriteHeader(http.StatusOK)
		return
	}
	// The work stops when Slack hangs up or the connection stops.
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	defer context.AfterFunc(runCtx, cancel)()
	o := run(ctx)
	if !o.done {
		http.Error(w, "not done in time", http.StatusServiceUnavailable)
		return
	}
	if o.answer != nil {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(o.answer)
	} else {
		w.WriteHeader(http.StatusOK) // an empty 200 closes a modal
	}
	if o.then != nil {
		c.goWork(o.then)
	}
}
