package slackfake

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// SetHTTPEndpoints switches deliveries to HTTP mode: events go to eventsURL
// as JSON, interactions to interactivityURL as a form field payload=<json>,
// slash commands to commandsURL as form fields, each signed with the signing
// secret. An empty URL leaves that kind on Socket Mode.
func (f *Fake) SetHTTPEndpoints(eventsURL, interactivityURL, commandsURL string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.endpoints = [3]string{eventsURL, interactivityURL, commandsURL}
	f.nudge()
}

// Signature returns Slack's v0 signature of a request body sent at ts:
// "v0=" + hex(HMAC-SHA256(secret, "v0:<unix ts>:<body>")).
func Signature(secret string, ts time.Time, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "v0:%d:", ts.Unix())
	mac.Write(body)
	return "v0=" + hex.EncodeToString(mac.Sum(nil))
}

// SignedRequest POSTs body to url the way Slack does in HTTP mode, signed
// with the fake's signing secret and timestamped ts.
func (f *Fake) SignedRequest(url string, body []byte, contentType string, ts time.Time) (*http.Response, error) {
	return f.post(f.ctx, url, body, contentType, ts, f.opts.SigningSecret, nil)
}

// ForgedRequest is SignedRequest with a signature made with a wrong secret,
// for testing that a verifier refuses it.
func (f *Fake) ForgedRequest(url string, body []byte, contentType string, ts time.Time) (*http.Response, error) {
	return f.post(f.ctx, url, body, contentType, ts, "not-"+f.opts.SigningSecret, nil)
}

// post sends a signed request with Slack's headers.
func (f *Fake) post(ctx context.Context, url string, body []byte, contentType string, ts time.Time, secret string, extra http.Header) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("User-Agent", "Slackbot 1.0 (+https://api.slack.com/robots)")
	req.Header.Set("X-Slack-Request-Timestamp", strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set("X-Slack-Signature", Signature(secret, ts, body))
	for k, v := range extra {
		req.Header[k] = v
	}
	return f.client.Do(req)
}

// httpDelivery is one HTTP-mode attempt, prepared under the lock.
type httpDelivery struct {
	url         string
	body        []byte
	contentType string
	retryNum    int
	retryReason string
}

func (f *Fake) httpDeliveryLocked(e *envelope, url string) httpDelivery {
	d := httpDelivery{url: url, body: e.body, contentType: "application/json", retryNum: e.retryAttempt, retryReason: e.retryReason}
	if e.kind != eventsAPI {
		d.body = e.form
		d.contentType = "application/x-www-form-urlencoded"
	}
	return d
}

// deliverHTTP makes one attempt and records how it went.
func (f *Fake) deliverHTTP(e *envelope, d httpDelivery) {
	var extra http.Header
	if d.retryNum > 0 {
		extra = http.Header{
			"X-Slack-Retry-Num":    {strconv.Itoa(d.retryNum)},
			"X-Slack-Retry-Reason": {d.retryReason},
		}
	}
	payload, reason := f.attempt(d, extra)
	f.mu.Lock()
	f.httpBusy[e.kind] = false
	if reason == "" {
		f.ackLocked(e.id, payload, "http")
	} else {
		f.failAttemptLocked(e, reason)
	}
	f.changedLocked()
	f.mu.Unlock()
	f.nudge()
}

// attempt posts a delivery; it returns the answer as an ack payload, or the
// X-Slack-Retry-Reason Slack would give for the failure.
func (f *Fake) attempt(d httpDelivery, extra http.Header) (json.RawMessage, string) {
	res, err := f.post(f.ctx, d.url, d.body, d.contentType, time.Now(), f.opts.SigningSecret, extra)
	if err != nil {
		var nerr interface{ Timeout() bool }
		if errors.As(err, &nerr) && nerr.Timeout() {
			return nil, "http_timeout"
		}
		return nil, "connection_failed"
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return nil, "http_timeout"
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return nil, "http_error"
	}
	return answerPayload(res.Header.Get("Content-Type"), body), ""
}

// answerPayload turns an HTTP answer into what a Socket Mode ack would carry:
// JSON as is, plain text as a message {"text": …}.
func answerPayload(contentType string, body []byte) json.RawMessage {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil
	}
	ctype, _, _ := mime.ParseMediaType(contentType)
	if ctype == "application/json" || json.Valid(body) && (body[0] == '{') {
		return json.RawMessage(body)
	}
	b, _ := json.Marshal(object{"text": string(body)})
	return b
}

// VerifyURL sends Slack's url_verification challenge to the events URL and
// checks that the answer echoes it, as plain text, JSON {"challenge":…} or a
// form field challenge=….
func (f *Fake) VerifyURL() error {
	f.mu.Lock()
	target := f.endpoints[eventsAPI]
	f.mu.Unlock()
	if target == "" {
		return errors.New("slackfake: VerifyURL: no events URL; call SetHTTPEndpoints first")
	}
	challenge := randomHex(24)
	body, _ := json.Marshal(object{"token": f.opts.VerificationToken, "challenge": challenge, "type": "url_verification"})
	res, err := f.post(f.ctx, target, body, "application/json", time.Now(), f.opts.SigningSecret, nil)
	if err != nil {
		return fmt.Errorf("slackfake: url_verification: %w", err)
	}
	defer res.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("slackfake: url_verification: status %s, want 200", res.Status)
	}
	got := strings.TrimSpace(string(answer))
	var asJSON struct {
		Challenge string `json:"challenge"`
	}
	if json.Unmarshal(answer, &asJSON) == nil && asJSON.Challenge != "" {
		got = asJSON.Challenge
	} else if form, err := url.ParseQuery(got); err == nil && form.Get("challenge") != "" {
		got = form.Get("challenge")
	}
	if got != challenge {
		return fmt.Errorf("slackfake: url_verification: answer %q does not echo the challenge", string(answer))
	}
	return nil
}
