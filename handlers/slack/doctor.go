package slack

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/liaison-bot/liaison/config"
	"github.com/liaison-bot/liaison/internal/doctor"
	"github.com/liaison-bot/liaison/internal/pause"
	"github.com/liaison-bot/liaison/internal/redact"
)

// doctorCallTimeout bounds each Web API call of the doctor: an unreachable
// API fails its check instead of holding the others.
const doctorCallTimeout = 10 * time.Second

// Doctor checks one Slack connection of the config with its tokens: see
// `liaison doctor`. It reports, in this order, whether the bot token works
// (auth.test), whether it has every scope of Scopes, whether Slack's events
// can reach Liaison (Socket Mode: the app token opens a connection, which
// is not dialled; HTTP mode: a signing secret is set), and whether the bot
// is a member of every channel the config uses there. The checks that need
// a working bot token are left out when it does not work. ctx bounds the
// whole.
func Doctor(ctx context.Context, conn config.Connection, need doctor.Channels) []doctor.Check {
	d := doctorRun{conn: conn}
	apiURL, err := webAPIURL(conn.APIURL)
	if err != nil {
		return []doctor.Check{d.fail("api_url", err.Error(), "set api_url to the platform's base URL (https://slack.com), or leave it out")}
	}
	opts := []slackapi.Option{slackapi.OptionHTTPClient(&http.Client{Timeout: doctorCallTimeout})}
	if apiURL != "" {
		opts = append(opts, slackapi.OptionAPIURL(apiURL))
	}
	if app := conn.AppToken.Reveal(); app != "" {
		opts = append(opts, slackapi.OptionAppLevelToken(app))
	}
	d.api = slackapi.New(conn.BotToken.Reveal(), opts...)

	auth, check := d.botToken(ctx)
	checks := []doctor.Check{check}
	if auth != nil {
		checks = append(checks, d.scopes(auth.Header))
	}
	if conn.Mode == config.ModeHTTP {
		checks = append(checks, d.signingSecret())
	} else {
		checks = append(checks, d.appToken(ctx))
	}
	if auth != nil {
		checks = append(checks, d.channels(ctx, auth.User, need)...)
	}
	return checks
}

// doctorRun holds what the checks of one connection share.
type doctorRun struct {
	conn config.Connection
	api  *slackapi.Client
}

func (d doctorRun) ok(name, detail string) doctor.Check {
	return doctor.Check{Conn: d.conn.Name, Name: name, OK: true, Detail: detail}
}

func (d doctorRun) fail(name, detail, remedy string) doctor.Check {
	return doctor.Check{Conn: d.conn.Name, Name: name, Detail: detail, Remedy: remedy}
}

// scrub keeps the connection's secrets out of an error's text.
func (d doctorRun) scrub(err error) string {
	return redact.Error(err, d.conn.BotToken.Reveal(), d.conn.AppToken.Reveal(), d.conn.SigningSecret.Reveal()).Error()
}

// call runs one Web API call, waiting out one rate limit within ctx.
func call[T any](ctx context.Context, fn func(ctx context.Context) (T, error)) (T, error) {
	v, err := fn(ctx)
	var rl *slackapi.RateLimitedError
	if errors.As(err, &rl) && pause.For(ctx, max(rl.RetryAfter, time.Second)) {
		v, err = fn(ctx)
	}
	return v, err
}

// unreachable is the remedy when Slack did not answer.
func (d doctorRun) unreachable() string {
	where := "https://slack.com"
	if d.conn.APIURL != "" {
		where = "api_url " + d.conn.APIURL
	}
	return fmt.Sprintf("check that %s can be reached from here, then run liaison doctor again", where)
}

// botToken checks the bot token with auth.test, and returns its answer
// when the token works.
func (d doctorRun) botToken(ctx context.Context) (*slackapi.AuthTestResponse, doctor.Check) {
	const name = "bot token"
	res, err := call(ctx, d.api.AuthTestContext)
	switch code := slackError(err); {
	case err == nil:
		return res, d.ok(name, fmt.Sprintf("valid: bot @%s (%s) in %s (%s)", res.User, res.UserID, res.Team, res.TeamID))
	case code == "invalid_auth" || code == "not_authed" || code == "account_inactive" || code == "token_revoked" || code == "token_expired":
		return nil, d.fail(name, fmt.Sprintf("Slack refuses it (%s); scopes and channels not checked", code),
			"reinstall the app (OAuth & Permissions → Reinstall to Workspace) and copy its Bot User OAuth Token (xoxb-…) into the connection's bot_token")
	case code != "":
		return nil, d.fail(name, fmt.Sprintf("auth.test failed: %s; scopes and channels not checked", code),
			"check the bot token (OAuth & Permissions → Bot User OAuth Token, xoxb-…)")
	}
	return nil, d.fail(name, fmt.Sprintf("Slack did not answer auth.test (%s); scopes and channels not checked", d.scrub(err)), d.unreachable())
}

// scopes checks that the token has every scope Liaison needs, from the
// X-OAuth-Scopes header Slack puts on its answers.
func (d doctorRun) scopes(header http.Header) doctor.Check {
	const name = "scopes"
	granted := header.Get("X-OAuth-Scopes")
	if granted == "" {
		return d.fail(name, "Slack's answer did not say which scopes the token has (no X-OAuth-Scopes header)",
			"check that api_url, if set, points at Slack or a server that speaks its API")
	}
	have := splitScopes(granted)
	var missing []string
	for _, s := range Scopes() {
		if !slices.Contains(have, s.Name) {
			missing = append(missing, fmt.Sprintf("%s (%s)", s.Name, s.Without))
		}
	}
	if len(missing) == 0 {
		return d.ok(name, fmt.Sprintf("all %d needed scopes granted", len(Scopes())))
	}
	return d.fail(name, "missing "+strings.Join(missing, "; "),
		fmt.Sprintf("add them in the app's settings, OAuth & Permissions → Bot Token Scopes (or update the app from `liaison slack-manifest --connection %s`), then reinstall the app to the workspace", d.conn.Name))
}

// appToken checks, in Socket Mode, that the app-level token opens a
// connection: apps.connections.open answers a URL, which is not dialled.
func (d doctorRun) appToken(ctx context.Context) doctor.Check {
	const name = "app token"
	remedy := "Basic Information → App-Level Tokens → Generate Token and Scopes with connections:write, and copy it (xapp-…) into the connection's app_token; Socket Mode must be on in the app's settings"
	if !d.conn.AppToken.IsSet() {
		return d.fail(name, "not set: Socket Mode needs an app-level token", remedy)
	}
	_, err := call(ctx, func(ctx context.Context) (string, error) {
		_, u, err := d.api.StartSocketModeContext(ctx)
		return u, err
	})
	switch code := slackError(err); {
	case err == nil:
		return d.ok(name, "valid: Slack opens a Socket Mode connection with it")
	case code == "not_allowed_token_type":
		return d.fail(name, "Slack refuses it: it is not an app-level token", remedy)
	case code != "":
		return d.fail(name, fmt.Sprintf("Slack refuses it (%s)", code), remedy)
	}
	return d.fail(name, fmt.Sprintf("Slack did not answer apps.connections.open (%s)", d.scrub(err)), d.unreachable())
}

// signingSecret checks, in HTTP mode, what can be checked without Slack
// sending a request: that a signing secret is set.
func (d doctorRun) signingSecret() doctor.Check {
	const name = "signing secret"
	if !d.conn.SigningSecret.IsSet() {
		return d.fail(name, "not set: HTTP mode checks every request from Slack with it",
			"Basic Information → App Credentials → Signing Secret, into the connection's signing_secret")
	}
	return d.ok(name, "set (whether it is the app's shows only when Slack sends a request: a wrong one is refused with 401, logged)")
}

// channels checks that the bot is a member of every channel the config
// uses on the connection, each once.
func (d doctorRun) channels(ctx context.Context, botName string, need doctor.Channels) []doctor.Check {
	var out []doctor.Check
	for _, ch := range need.Each() {
		out = append(out, d.channel(ctx, ch, botName))
	}
	return out
}

// channel checks one channel with conversations.info: it exists, the bot
// sees it, is a member, and it is not archived.
//
// Membership is needed in card channels too, although chat:write.public
// would let a bot post in a public channel it has not joined: Slack sends
// a bot the messages of channels it is a member of only, so the thread
// under a card (a draft typed there) would not reach Liaison, and
// conversations.history, which Liaison reads to learn whether a post whose
// answer was lost went through, refuses a non-member.
func (d doctorRun) channel(ctx context.Context, ch doctor.Channel, botName string) doctor.Check {
	id := ch.ID
	name := "channel " + id
	invite := fmt.Sprintf("/invite @%s in that channel", botName)
	info, err := call(ctx, func(ctx context.Context) (*slackapi.Channel, error) {
		return d.api.GetConversationInfoContext(ctx, &slackapi.GetConversationInfoInput{ChannelID: id})
	})
	use := "(" + ch.Label() + ")"
	switch code := slackError(err); {
	case err == nil:
	case code == "channel_not_found":
		return d.fail(name, use+": the channel does not exist or the bot cannot see it (a private channel shows only to its members)",
			fmt.Sprintf("check the channel id in the config (in Slack: the channel's details, at the bottom); for a private channel, %s", invite))
	case code == "missing_scope":
		return d.fail(name, use+": not checked: the token lacks channels:read or groups:read",
			fmt.Sprintf("add the scopes the scopes check lists, then reinstall the app; meanwhile make sure the bot is in the channel (%s)", invite))
	case code != "":
		return d.fail(name, fmt.Sprintf("%s: conversations.info failed (%s)", use, code), "check the channel id in the config")
	default:
		return d.fail(name, fmt.Sprintf("%s: Slack did not answer conversations.info (%s)", use, d.scrub(err)), d.unreachable())
	}
	label := use
	if info.Name != "" {
		label = "#" + info.Name + " " + use
	}
	switch {
	case info.IsArchived:
		return d.fail(name, label+": the channel is archived: Liaison can post nothing there",
			"unarchive it, or take it out of the config")
	case !info.IsMember:
		var why []string
		if slices.Contains(ch.Uses, doctor.UseWatched) {
			why = append(why, "Slack sends a bot no message of a channel it is not in")
		}
		if slices.Contains(ch.Uses, doctor.UseCards) {
			why = append(why, "posting cards is not enough: only members read a card's thread (drafts typed there) and the channel's history (whether a post went through), even where chat:write.public lets a bot post")
		}
		if info.Name != "" {
			invite = fmt.Sprintf("/invite @%s in #%s", botName, info.Name)
		}
		return d.fail(name, label+": the bot is not a member; "+strings.Join(why, "; "), invite)
	}
	return d.ok(name, label+": the bot is a member")
}
