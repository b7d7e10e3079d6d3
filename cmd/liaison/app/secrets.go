package app

import (
	"net/url"

	"github.com/liaison-bot/liaison/config"
)

// secrets are the credentials of cfg, which Liaison's logs must never show:
// each connection's tokens and signing secret, the dashboard's token, and
// the database URL with its password on its own.
func secrets(cfg *config.Config) []string {
	var out []string
	if dsn := cfg.Database.URL.Reveal(); dsn != "" {
		out = append(out, dsn)
		if u, err := url.Parse(dsn); err == nil {
			if pw, ok := u.User.Password(); ok {
				out = append(out, pw, url.QueryEscape(pw), url.PathEscape(pw))
			}
			if pw := u.Query().Get("password"); pw != "" {
				out = append(out, pw, url.QueryEscape(pw))
			}
		}
	}
	out = append(out, cfg.Dashboard.Token.Reveal())
	for _, c := range cfg.Connections {
		out = append(out, c.BotToken.Reveal(), c.AppToken.Reveal(), c.SigningSecret.Reveal(), c.Token.Reveal())
	}
	return out
}
