package config

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// Id formats. Slack ids are upper-case letters and digits behind a one-letter
// kind; Discord ids are snowflakes (a uint64 in decimal).
var (
	slackUserRe    = regexp.MustCompile(`^[UW][A-Z0-9]{2,}$`)
	slackGroupRe   = regexp.MustCompile(`^S[A-Z0-9]{2,}$`)
	slackChannelRe = regexp.MustCompile(`^[CGD][A-Z0-9]{2,}$`)
	snowflakeRe    = regexp.MustCompile(`^[0-9]{17,20}$`)
	nameRe         = regexp.MustCompile(`^[a-z0-9-]+$`)
)

const wantSnowflake = "want a snowflake: 17 to 20 digits"

func isSlackUser(s string) bool    { return slackUserRe.MatchString(s) }
func isSlackGroup(s string) bool   { return slackGroupRe.MatchString(s) }
func isSlackChannel(s string) bool { return slackChannelRe.MatchString(s) }

func isSnowflake(s string) bool {
	if !snowflakeRe.MatchString(s) {
		return false
	}
	_, err := strconv.ParseUint(s, 10, 64)
	return err == nil
}

// The …Problem functions return "" for a good value, else the message: what
// is wrong and what is wanted.

// channelProblem checks a channel id. dm allows Slack direct-message
// channels (D…), fine for notices but not as a watched public place.
func channelProblem(p Platform, id string, dm bool) string {
	switch p {
	case Slack:
		if isSlackChannel(id) && (dm || id[0] != 'D') {
			return ""
		}
		want := "want C… or G…"
		if dm {
			want = "want C…, G… or D…"
		}
		msg := fmt.Sprintf("%q is not a Slack channel id (%s)", id, want)
		if strings.HasPrefix(id, "#") {
			msg += "; use the id shown at the bottom of the channel details, not the name"
		}
		return msg
	case Discord:
		if isSnowflake(id) {
			return ""
		}
		msg := fmt.Sprintf("%q is not a Discord channel id (%s)", id, wantSnowflake)
		if strings.HasPrefix(id, "#") {
			msg += "; use Copy Channel ID (Developer Mode), not the name"
		}
		return msg
	}
	return ""
}

// userProblem checks a staff member's user id.
func userProblem(p Platform, id string) string {
	switch p {
	case Slack:
		if isSlackUser(id) {
			return ""
		}
		msg := fmt.Sprintf("%q is not a Slack user id (want U… or W…)", id)
		if strings.HasPrefix(id, "@") {
			msg += "; use Copy member ID from the profile, not the name"
		}
		return msg
	case Discord:
		if isSnowflake(id) {
			return ""
		}
		msg := fmt.Sprintf("%q is not a Discord user id (%s)", id, wantSnowflake)
		if strings.HasPrefix(id, "@") {
			msg += "; use Copy User ID (Developer Mode), not the name"
		}
		return msg
	}
	return ""
}

// approverProblem checks an approver: a user, or a Slack user group or
// Discord role whose members all approve.
func approverProblem(p Platform, id string) string {
	switch p {
	case Slack:
		if isSlackUser(id) || isSlackGroup(id) {
			return ""
		}
		msg := fmt.Sprintf("%q is not a Slack user or user-group id (want U…, W… or S…)", id)
		if strings.HasPrefix(id, "@") {
			msg += "; use the member or group id, not the name"
		}
		return msg
	case Discord:
		if isSnowflake(id) {
			return ""
		}
		return fmt.Sprintf("%q is not a Discord user or role id (%s)", id, wantSnowflake)
	}
	return ""
}

// snowflakeProblem checks a Discord guild or application id.
func snowflakeProblem(what, id string) string {
	if isSnowflake(id) {
		return ""
	}
	return fmt.Sprintf("%q is not a Discord %s id (%s)", id, what, wantSnowflake)
}

// httpURLProblem checks an absolute http(s) URL.
func httpURLProblem(s string) string {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Sprintf("%q is not an http(s) URL (want e.g. https://example.com/…)", s)
	}
	return ""
}

// baseURLProblem checks a platform's base URL: scheme and host, no path.
// The adapters add the API's own path (/api/ on Slack, /api/v9/ on Discord).
func baseURLProblem(s string) string {
	if p := httpURLProblem(s); p != "" {
		return p
	}
	u, _ := url.Parse(s)
	if strings.Trim(u.Path, "/") != "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Sprintf("%q has a path: api_url is the platform's base URL, without /api/ (want e.g. https://slack.com, https://discord.com or http://127.0.0.1:9000)", s)
	}
	return ""
}

// databaseURLProblem checks a Postgres URL. The URL holds a password, so the
// message never quotes it, nor url.Parse's error (which would).
func databaseURLProblem(s string) string {
	const want = "(want postgres://user:password@host:5432/dbname, or leave it empty for SQLite)"
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" {
		return "is not a postgres:// URL " + want
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return fmt.Sprintf("scheme %q is not supported %s", u.Scheme, want)
	}
	return ""
}

// addrProblem checks a listen address.
func addrProblem(s string) string {
	_, port, err := net.SplitHostPort(s)
	if err == nil {
		if p, perr := strconv.Atoi(port); perr == nil && p >= 0 && p <= 65535 {
			return ""
		}
	}
	return fmt.Sprintf("%q is not a host:port address (want e.g. 127.0.0.1:8080 or :8080)", s)
}

// slackBotTokenProblem checks a Slack bot token without quoting it.
func slackBotTokenProblem(tok string) string {
	switch {
	case strings.HasPrefix(tok, "xoxb-"):
		return ""
	case strings.HasPrefix(tok, "xapp-"):
		return "is an app-level token (xapp-…); put it in app_token and set the bot token (xoxb-…) here"
	case strings.HasPrefix(tok, "xoxp-"):
		return "is a user token (xoxp-…); Liaison needs the bot token (xoxb-…) from OAuth & Permissions"
	}
	return "is not a Slack bot token (want a token starting with xoxb-)"
}

// discordTokenProblem checks a Discord bot token without quoting it.
func discordTokenProblem(tok string) string {
	tok = discordToken(tok)
	switch {
	case tok == "":
		return "is empty after removing the \"Bot \" prefix (want the bot token from the Discord developer portal)"
	case strings.HasPrefix(tok, "xox") || strings.HasPrefix(tok, "xapp-"):
		return "is a Slack token; want the Discord bot token from the Discord developer portal"
	case strings.ContainsAny(tok, " \t\r\n"):
		return "contains spaces (want the bot token alone, as the Discord developer portal shows it)"
	}
	return ""
}

// oneLine reports a value that must fit one line of at most max characters.
func oneLineProblem(s string, max int) string {
	if strings.ContainsAny(s, "\r\n") {
		return "must be one line"
	}
	if n := len([]rune(s)); n > max {
		return fmt.Sprintf("is %d characters long (at most %d)", n, max)
	}
	return ""
}

// known lists names for "no X named Y (known: …)" messages.
func known(what string, names []string) string {
	if len(names) == 0 {
		return "no " + what + " is defined"
	}
	return "known: " + strings.Join(names, ", ")
}
