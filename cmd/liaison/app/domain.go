package app

import (
	"regexp"
	"time"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/config"
)

// The configuration as the domain takes it: config/ knows YAML and
// validation, bot/ knows nothing of either; this is where they meet.

// settings returns the deployment-wide settings.
func settings(c *config.Config) bot.Settings {
	s := bot.Settings{
		Company: c.Company, ReplyPrefix: c.ReplyPrefix, MaxRelayChars: c.MaxRelayChars,
		KeepDeletedText: c.KeepDeletedText,
	}
	if c.Admin != nil {
		s.AdminConn, s.AdminChannel = c.Admin.Connection, c.Admin.Channel
	}
	if c.Dashboard.Token != "" {
		s.DashboardURL = c.Dashboard.URL // the Home links to a dashboard that is on
	}
	return s
}

// router returns the sources and routes, in order. The config must have
// been validated (its regular expressions compile, its hours parse).
func router(c *config.Config) *bot.Router {
	var sources []bot.Source
	for _, s := range c.Sources {
		sources = append(sources, bot.Source{Name: s.Name, Conn: s.Connection, Channels: s.Channels})
	}
	var routes []bot.Route
	for _, r := range c.Routes {
		rt := bot.Route{
			Name: r.Name, Sources: r.Sources, Keywords: r.Keywords, Tags: r.Tags,
			DestConn: r.Destination.Connection, DestChannel: r.Destination.Channel, Default: r.Default,
			Policy: bot.Policy{Mode: bot.ApprovalMode(r.Approval), Approvers: r.Approvers, Responders: r.Responders, AllowSelfApproval: r.AllowSelfApproval, SLA: r.SLA},
		}
		for _, re := range r.Regexes {
			rt.Regexps = append(rt.Regexps, regexp.MustCompile(re))
		}
		if r.Hours != nil {
			loc, days, start, end, err := r.Hours.Parse()
			if err != nil {
				panic("route " + r.Name + ": " + err.Error())
			}
			rt.Policy.Hours = &bot.BusinessHours{Location: loc, Days: days, Start: start, End: end, Holidays: r.Hours.Holidays}
		}
		routes = append(routes, rt)
	}
	return bot.NewRouter(sources, routes)
}

// staffProfiles returns the profiles the admin declared.
func staffProfiles(c *config.Config) []bot.ProfileSeed {
	var out []bot.ProfileSeed
	for _, p := range c.Profiles {
		bp := bot.ProfileSeed{Name: p.Name, Title: p.Title, AvatarURL: p.AvatarURL, Pronouns: p.Pronouns, TrustedOn: p.TrustedOn}
		if !p.ConsentedAt.IsZero() {
			t := p.ConsentedAt.UTC().Truncate(time.Microsecond)
			bp.ConsentedAt = &t
		}
		for _, id := range p.Identities {
			bp.Identities = append(bp.Identities, bot.Identity{Conn: id.Connection, UserID: id.UserID})
		}
		out = append(out, bp)
	}
	return out
}
