package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/config"
	"github.com/liaison-bot/liaison/handlers/discord"
	"github.com/liaison-bot/liaison/handlers/slack"
	"github.com/liaison-bot/liaison/handlers/web"
)

// openConnections builds one adapter per configured connection. Slack
// connections in HTTP mode are mounted on the HTTP server under
// /slack/<name>/.
func openConnections(ctx context.Context, cfg *config.Config, svc *bot.Service, srv *web.Server) (map[string]connection, error) {
	conns := map[string]connection{}
	for i, c := range cfg.Connections {
		log := svc.Log.With("connection", c.Name)
		switch c.Platform {
		case config.Slack:
			sc, err := slack.New(slack.Options{
				Name: c.Name, BotToken: c.BotToken.Reveal(), AppToken: c.AppToken.Reveal(),
				SigningSecret: c.SigningSecret.Reveal(), HTTPMode: c.Mode == config.ModeHTTP,
				APIURL: c.APIURL, Log: log,
			}, svc)
			if err != nil {
				return nil, fmt.Errorf("connections[%d] %s: %w", i, c.Name, err)
			}
			if c.Mode == config.ModeHTTP {
				prefix := "/slack/" + c.Name
				srv.Handle(prefix+"/", http.StripPrefix(prefix, sc.Handler()))
				log.Info("slack http mode", "events", prefix+"/events", "interactivity", prefix+"/interactivity", "commands", prefix+"/commands")
			}
			conns[c.Name] = sc
		case config.Discord:
			opts := discord.Options{Name: c.Name, Token: c.Token.Reveal(), GuildID: c.GuildID, ApplicationID: c.ApplicationID, Log: log}
			if c.APIURL != "" {
				client, err := rewriteClient(c.APIURL)
				if err != nil {
					return nil, fmt.Errorf("connections[%d].api_url: %w", i, err)
				}
				opts.HTTPClient = client
			}
			dc, err := discord.New(opts, svc)
			if err != nil {
				return nil, fmt.Errorf("connections[%d] %s: %w", i, c.Name, err)
			}
			conns[c.Name] = dc
		default:
			return nil, fmt.Errorf("connections[%d].platform: %q is not supported", i, c.Platform)
		}
	}
	return conns, nil
}

// rewriteClient sends Discord's REST calls to another base URL (a local
// Discord-compatible server); the gateway URL comes from its /gateway answer.
func rewriteClient(base string) (*http.Client, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%q is not an http(s) URL", base)
	}
	rt := http.DefaultTransport
	return &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		r = r.Clone(r.Context())
		r.URL.Scheme, r.URL.Host, r.Host = u.Scheme, u.Host, u.Host
		return rt.RoundTrip(r)
	})}, nil
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
