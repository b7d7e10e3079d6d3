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
			if err := s.afterDraftChange(ctx, tx, it, d, p); err != nil {
				return err
			}
		}
		return nil
	})
	return p, err
}

// IsApprover reports whether actor may approve drafts on rt: by user id or
// by a group/role the platform says they hold, on the route's own connection.
func IsApprover(rt *Route, actor Actor) bool {
	if actor.Conn != rt.DestConn || actor.UserID == "" {
		return false
	}
	if slices.Contains(rt.Policy.Approvers, actor.UserID) {
		return true
	}
	for _, g := range actor.Groups {
		if slices.Contains(rt.Policy.Approvers, g) {
			return true
		}
	}
	return false
}

// isApproverAnywhere: an approver of any route served on actor's connection.
func (s *Service) isApproverAnywhere(actor Actor) bool {
	for _, rt := range s.Router.Routes() {
		if IsApprover(&rt, actor) {
			return true
		}
	}
	return false
}

// promote lets a responder publish without review on trusted-auto routes.
func (s *Service) promote(ctx context.Context, req Request) (string, error) {
	p, err := s.setTrust(ctx, req, true)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s is now trusted: on trusted-auto routes their drafts publish without review.", personName(p, req.User)), nil
}

// demote has a responder's drafts reviewed again.
func (s *Service) demote(ctx context.Context, req Request) (string, error) {
	p, err := s.setTrust(ctx, req, false)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s is no longer trusted: their drafts are reviewed again.", personName(p, req.User)), nil
}

// setTrust records the trust an approver gives or takes back.
func (s *Service) setTrust(ctx context.Context, req Request, trusted bool) (*Profile, error) {
	if req.User == "" {
		return nil, Errorf(EINVALID, "Please name the person: `%s`.", usage(req.Action))
	}
	if !s.isApproverAnywhere(req.Actor) {
		return nil, ErrNotApprover
	}
	var p *Profile
	err := s.inTx(ctx, func(tx Tx) (err error) {
		p, err = s.ensureProfile(ctx, tx, Actor{Conn: req.Actor.Conn, UserID: req.User})
		if err != nil {
			return err
		}
		before := p.Trusted
		p.Trusted, p.UpdatedAt = trusted, s.Clock()
		if err := tx.SaveProfile(ctx, p); err != nil {
			return err
		}
		return s.audit(ctx, tx, req.Actor.String(), "profile."+string(req.Action), subject("profile", p.ID), map[string]any{"trusted": before}, map[string]any{"trusted": trusted})
	})
	return p, err
}

// personName names a staff member in a private answer: their public name,
// else a mention of their platform id (which pings nobody there).
func personName(p *Profile, userID string) string {
	if p != nil && p.Name != "" {
		return Sanitize(p.Name)
	}
	return Mention(userID)
}

// SeedProfiles seeds every profile the config declares.
func (s *Service) SeedProfiles(ctx context.Context, profiles []Profile) error {
	for i, p := range profiles {
		if err := s.seedProfile(ctx, p); err != nil {
			return fmt.Errorf("profiles[%d]: %w", i, err)
		}
	}
	return nil
}

// seedProfile creates or updates a profile the admin declared in the
// config, found by its identities. Consent from the config is written
// consent on file; consent given in the app is kept.
func (s *Service) seedProfile(ctx context.Context, in Profile) error {
	if len(in.Identities) == 0 {
		return Errorf(EINVALID, "profile %q has no identity", in.Name)
	}
	return s.Store.InTx(ctx, func(tx Tx) error {
		var p *Profile
		for _, id := range in.Identities {
			found, err := tx.ProfileByIdentity(ctx, id.Conn, id.UserID)
			if err == nil {
				p = found
				break
			} else if !errors.Is(err, ErrNotFound) {
				return err
			}
		}
		now := s.Clock()
		if p == nil {
			p = &Profile{CreatedAt: now}
		}
		before := jsonOf(map[string]any{"name": p.Name, "role": p.Role, "trusted": p.Trusted})
		p.Name, p.Title, p.AvatarURL, p.Pronouns = in.Name, in.Title, in.AvatarURL, in.Pronouns
		p.Role, p.Trusted, p.Identities, p.UpdatedAt = in.Role, in.Trusted, in.Identities, now
		if in.ConsentedAt != nil && p.ConsentedAt == nil {
			p.ConsentedAt = in.ConsentedAt
		}
		if err := tx.SaveProfile(ctx, p); err != nil {
			return err
		}
		after := jsonOf(map[string]any{"name": p.Name, "role": p.Role, "trusted": p.Trusted})
		if before == after {
			return nil
		}
		return tx.AppendAudit(ctx, &AuditEvent{At: now, Actor: "config", Action: "profile.seed", Subject: subject("profile", p.ID), Before: before, After: after})
	})
}
