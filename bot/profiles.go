package bot

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"
)

// Profiles and trust: the name, title and face a staff member's public
// replies carry, their consent to publish under them, and whether their
// drafts need review on trusted-auto routes.

// ProfileInput is what a person says about their public identity.
type ProfileInput struct {
	Name      string
	Title     string
	AvatarURL string
	Pronouns  string
	Consent   bool
}

// Validate checks a profile before it is saved; an error names its field.
func (in ProfileInput) Validate() error {
	switch n := utf8.RuneCountInString(strings.TrimSpace(in.Name)); {
	case n == 0:
		return fieldErrorf(FieldNameID, "Please give the name the public will see.")
	case n > maxNameChars:
		return fieldErrorf(FieldNameID, "The public name is too long (%d characters at most).", maxNameChars)
	}
	if err := checkLen(FieldTitleID, "The title", strings.TrimSpace(in.Title), maxTitleChars); err != nil {
		return err
	}
	if err := checkLen(FieldPronounsID, "The pronouns", strings.TrimSpace(in.Pronouns), maxPronounChars); err != nil {
		return err
	}
	if in.AvatarURL != "" {
		if err := checkLen(FieldAvatarID, "The avatar URL", in.AvatarURL, maxAvatarChars); err != nil {
			return err
		}
		u, err := url.Parse(in.AvatarURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fieldErrorf(FieldAvatarID, "The avatar must be an http(s) URL.")
		}
	}
	return nil
}

// profileForm offers the public-profile form, filled with what Liaison
// has, else with what the platform says of the person.
func (s *Service) profileForm(ctx context.Context, req Request) (*Form, error) {
	var p *Profile
	err := s.Store.View(ctx, func(tx Tx) (err error) {
		p, err = tx.ProfileByIdentity(ctx, req.Actor.Conn, req.Actor.UserID)
		return err
	})
	if errors.Is(err, ErrNotFound) {
		p, err = &Profile{}, nil
	}
	if err != nil {
		return nil, err
	}
	first := func(vals ...string) string { return strings.TrimSpace(firstOf(vals...)) }
	text := func(id, label, hint, placeholder, initial string, max int) Field {
		return Field{ID: id, Label: label, Hint: hint, Placeholder: placeholder, Initial: clipRunes(initial, max), MaxLen: max}
	}
	name := text(FieldNameID, "Public name", "", "Alice Martin", first(p.Name, req.Actor.Name), maxNameChars)
	name.Required = true
	return &Form{
		Action: ActProfile, Title: "Your public profile", Submit: "Save",
		Intro: "This is how the community sees you on the replies Liaison publishes for you.",
		Fields: []Field{
			name,
			text(FieldTitleID, "Title", "Your job title, shown with your name.", "Product Manager", first(p.Title, req.Actor.Title), maxTitleChars),
			text(FieldAvatarID, "Avatar URL", "An http(s) image address; your picture here by default.", "https://…", first(p.AvatarURL, req.Actor.AvatarURL), maxAvatarChars),
			text(FieldPronounsID, "Pronouns (optional)", "", "she/her", p.Pronouns, maxPronounChars),
			{
				ID: FieldConsentID, Kind: FieldCheck, Label: "Consent",
				Hint:    "Without it your drafts wait: nothing is published anonymously.",
				Option:  "I agree that replies I write are published under this name",
				Checked: p.Consented(), Keyword: consentWord, MaxLen: 10,
				TypedLabel:  "Consent: type yes to agree",
				TypedPrompt: "type yes: replies you write are published under this name",
			},
		},
	}, nil
}

func (s *Service) profileRun(ctx context.Context, req Request) (string, error) {
	p, err := s.saveProfile(ctx, req.Actor, ProfileInput{
		Name: req.value(FieldNameID), Title: req.value(FieldTitleID), AvatarURL: req.value(FieldAvatarID),
		Pronouns: req.value(FieldPronounsID), Consent: req.checked(FieldConsentID),
	})
	if err != nil {
		return "", err
	}
	if !p.Consented() {
		return "Profile saved. Liaison will not publish replies under your name until you agree to it in this form.", nil
	}
	return fmt.Sprintf("Profile saved: your public replies will be signed %q.", Username(p.Name, s.Settings.Company)), nil
}

// saveProfile records actor's public identity and consent. Drafts that were
// waiting for consent move on.
func (s *Service) saveProfile(ctx context.Context, actor Actor, in ProfileInput) (*Profile, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	var p *Profile
	err := s.inTx(ctx, func(tx Tx) (err error) {
		p, err = s.ensureProfile(ctx, tx, actor)
		if err != nil {
			return err
		}
		before := map[string]any{"name": p.Name, "title": p.Title, "consent": p.Consented()}
		now := s.Clock()
		p.Name, p.Title = strings.TrimSpace(in.Name), strings.TrimSpace(in.Title)
		p.AvatarURL, p.Pronouns, p.UpdatedAt = strings.TrimSpace(in.AvatarURL), strings.TrimSpace(in.Pronouns), now
		switch {
		case in.Consent && p.ConsentedAt == nil:
			p.ConsentedAt = &now
		case !in.Consent:
			p.ConsentedAt = nil
		}
		if err := tx.SaveProfile(ctx, p); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, actor.String(), "profile.save", subject("profile", p.ID), before, map[string]any{"name": p.Name, "title": p.Title, "consent": p.Consented()}); err != nil {
			return err
		}
		if err := s.refreshHomes(ctx, tx, nil, p.ID); err != nil {
			return err
		}
		pending, err := tx.DraftsByAuthorState(ctx, p.ID, DraftPending)
		if err != nil {
			return err
		}
		for _, d := range pending {
			it, err := tx.Item(ctx, d.ItemID)
			if err != nil {
				return err
			}
			if err := s.updateDraftCard(ctx, tx, it, d); err != nil {
				return err
			}
			if err := s.afterDraftChange(ctx, tx, it, d); err != nil {
				return err
			}
		}
		return nil
	})
	return p, err
}

// promote trusts a responder on the routes the approver approves here.
func (s *Service) promote(ctx context.Context, req Request) (string, error) {
	p, routes, changed, err := s.setTrust(ctx, req, true)
	if err != nil {
		return "", err
	}
	if len(changed) == 0 {
		return fmt.Sprintf("%s is already trusted on %s.", personName(p, req.User), routeNames(routes)), nil
	}
	return fmt.Sprintf("%s is now trusted on %s: where the route is trusted-auto, their drafts publish without review.", personName(p, req.User), routeNames(changed)), nil
}

// demote has a responder's drafts reviewed again on the routes the
// approver approves here.
func (s *Service) demote(ctx context.Context, req Request) (string, error) {
	p, routes, changed, err := s.setTrust(ctx, req, false)
	if err != nil {
		return "", err
	}
	if len(changed) == 0 {
		return fmt.Sprintf("%s is not trusted on %s.", personName(p, req.User), routeNames(routes)), nil
	}
	return fmt.Sprintf("%s is no longer trusted on %s: their drafts are reviewed again there.", personName(p, req.User), routeNames(changed)), nil
}

// trustRoutes are the routes a promote or demote acts on: those the actor
// approves whose cards go to the channel the command was typed in, else
// every route they approve.
func (s *Service) trustRoutes(req Request) []Route {
	mine := s.approvedRoutes(req.Actor)
	var here []Route
	for _, rt := range mine {
		if rt.DestChannel == req.Channel {
			here = append(here, rt)
		}
	}
	if len(here) > 0 {
		return here
	}
	return mine
}

// setTrust records the trust an approver gives or takes back, on the
// routes they approve (trustRoutes), and tells each route's channel. It
// returns the names of the routes it acted on, and of those it changed.
func (s *Service) setTrust(ctx context.Context, req Request, trust bool) (p *Profile, names, changed []string, err error) {
	if req.User == "" {
		return nil, nil, nil, Errorf(EINVALID, "Please name the person: `%s`.", usage(req.Action))
	}
	routes := s.trustRoutes(req)
	names = namesOf(routes)
	if len(routes) == 0 {
		return nil, nil, nil, ErrNotApprover
	}
	if len(routes) > 1 && !slices.ContainsFunc(routes, func(rt Route) bool { return rt.DestChannel == req.Channel }) {
		return nil, nil, nil, Errorf(EINVALID, "You approve several routes (%s): run the command in the internal channel of the route you mean.", strings.Join(names, ", "))
	}
	if req.User == req.Actor.UserID {
		return nil, nil, nil, ErrSelfTrust
	}
	err = s.inTx(ctx, func(tx Tx) error {
		me, err := profileOf(ctx, tx, req.Actor)
		if err != nil {
			return err
		}
		p, err = s.ensureProfile(ctx, tx, Actor{Conn: req.Actor.Conn, UserID: req.User})
		if err != nil {
			return err
		}
		if me != nil && me.ID == p.ID {
			return ErrSelfTrust
		}
		changed = nil
		for _, rt := range routes {
			ok, err := tx.SetTrust(ctx, p.ID, rt.Name, trust, req.Actor.String(), s.Clock())
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			changed = append(changed, rt.Name)
			if err := s.audit(ctx, tx, req.Actor.String(), "trust."+string(req.Action), subject("profile", p.ID),
				map[string]any{"route": rt.Name, "trusted": !trust}, map[string]any{"route": rt.Name, "trusted": trust}); err != nil {
				return err
			}
			if err := s.channelNote(ctx, tx, &rt, trustNote(&rt, p, req, trust)); err != nil {
				return err
			}
		}
		return nil
	})
	return p, names, changed, err
}

// trustNote tells a route's channel who changed whose trust there.
func trustNote(rt *Route, p *Profile, req Request, trust bool) string {
	who := personName(p, req.User)
	if trust {
		effect := "their drafts on this route publish without review"
		if rt.Policy.Mode != ApprovalTrustedAuto {
			effect = "this matters once the route is trusted-auto; for now an approver still reviews every draft"
		}
		return fmt.Sprintf("%s trusted %s on route %s: %s.", Mention(req.Actor.UserID), who, rt.Name, effect)
	}
	return fmt.Sprintf("%s no longer trusts %s on route %s: their drafts there are reviewed again.", Mention(req.Actor.UserID), who, rt.Name)
}

// channelNote posts text in a route's internal channel, outside any thread.
func (s *Service) channelNote(ctx context.Context, tx Tx, rt *Route, text string) error {
	return s.enqueue(ctx, tx, &OutboxJob{Kind: OpPostNote, Conn: rt.DestConn, Channel: rt.DestChannel, Payload: notePayload(text, "")})
}

func routeNames(names []string) string {
	if len(names) == 1 {
		return "route " + names[0]
	}
	return "routes " + strings.Join(names, ", ")
}

// personName names a staff member in a private answer: their public name,
// else a mention of their platform id (which pings nobody there).
func personName(p *Profile, userID string) string {
	if p != nil && p.Name != "" {
		return Sanitize(p.Name)
	}
	return Mention(userID)
}

func namesOf(routes []Route) []string {
	var out []string
	for _, rt := range routes {
		out = append(out, rt.Name)
	}
	return out
}
