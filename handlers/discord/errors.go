package discord

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	dg "github.com/bwmarrin/discordgo"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/internal/redact"
)

// Discord JSON error codes the adapter branches on
// (https://discord.com/developers/docs/topics/opcodes-and-status-codes#json-json-error-codes).
const (
	codeUnknownChannel     = 10003
	codeUnknownMessage     = 10008
	codeUnknownWebhook     = 10015
	codeMissingAccess      = 50001
	codeCannotDMUser       = 50007
	codeMissingPermissions = 50013
	codeInvalidFormBody    = 50035
	codeThreadExists       = 160004
)

// restError returns the HTTP status and Discord error code of a failed call,
// or 0, 0 when err is not an answer from Discord.
func restError(err error) (status, code int) {
	var re *dg.RESTError
	if !errors.As(err, &re) || re.Response == nil {
		return 0, 0
	}
	if re.Message != nil {
		code = re.Message.Code
	}
	return re.Response.StatusCode, code
}

// classify turns a discordgo error into what the outbox may assume:
// a rate limit changed nothing and says how long to wait; any other 4xx is
// Discord refusing the request as it stands (missing permission, unknown
// channel or message, invalid body), which a retry would not change; a 5xx
// or a network error leaves the outcome unknown.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var se *bot.SendError
	if errors.As(err, &se) {
		return err
	}
	// With ShouldRetryOnRateLimit off, discordgo v0.29 returns a 429 as a
	// *RateLimitError carrying retry_after from the body.
	var rl *dg.RateLimitError
	if errors.As(err, &rl) && rl.RateLimit != nil && rl.TooManyRequests != nil {
		return bot.RetryAfter(retryDelay(rl.RetryAfter), err)
	}
	status, _ := restError(err)
	switch {
	case status == http.StatusTooManyRequests:
		var re *dg.RESTError
		errors.As(err, &re)
		var body struct {
			RetryAfter float64 `json:"retry_after"`
			Global     bool    `json:"global"`
		}
		_ = json.Unmarshal(re.ResponseBody, &body)
		d := retryDelay(time.Duration(body.RetryAfter * float64(time.Second)))
		if body.Global {
			return bot.RetryAfterGlobal(d, err) // every channel of the connection waits
		}
		return bot.RetryAfter(d, err)
	case status == http.StatusUnauthorized:
		// A revoked token is fixed by an operator, not by time; nothing happened.
		return bot.NotApplied(err)
	case status >= 400 && status < 500:
		return bot.Permanent(err)
	}
	return err
}

func retryDelay(d time.Duration) time.Duration {
	if d <= 0 {
		return time.Second
	}
	return d
}

// isCode reports whether err is Discord's answer with one of codes.
func isCode(err error, codes ...int) bool {
	_, code := restError(err)
	for _, c := range codes {
		if code == c {
			return true
		}
	}
	return false
}

// hideTokens rewrites, in place, the URLs a failed call's error carries:
// net/http's *url.Error (a timeout, a reset) and discordgo's rate limit
// both quote the URL called, and a webhook's URL holds its token, with
// which anyone could post under any name. Call it on the SDK's error,
// before wrapping it, so that no text made from it shows the token. It
// returns err.
func hideTokens(err error) error {
	redact.URLs(err)
	var rl *dg.RateLimitError
	if errors.As(err, &rl) && rl.RateLimit != nil {
		rl.URL = redact.URL(rl.URL)
	}
	return err
}

// scrub is what leaves the adapter as an error: err with the connection's
// credentials hidden (its bot token, its webhooks' tokens, any token in a
// URL), for it is written to the outbox, the audit log, logs, and the note
// that says a publication failed.
func (c *Conn) scrub(err error) error {
	if err == nil {
		return nil
	}
	hideTokens(err)
	c.mu.Lock()
	secrets := []string{c.opts.Token, botToken(c.opts.Token)}
	for _, w := range c.webhooks {
		secrets = append(secrets, w.Token)
	}
	c.mu.Unlock()
	return redact.Error(err, secrets...)
}
