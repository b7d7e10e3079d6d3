package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Profiles the config declares. The config seeds a profile; at each start
// Liaison applies only what changed in the config since it was last
// applied. A restart never overwrites what a person set for themselves in
// the app, never gives back consent they withdrew, and never gives back
// trust an approver took away.

// SeedReport says what seeding did and where the config and the database
// disagree.
type SeedReport struct {
	Applied   []string // config changes written to the database
	Kept      []string // the database keeps a value the config disagrees with
	Conflicts []string // identities the config links that belong to separate profiles
}

// Lines lists the report, one finding per line.
func (r SeedReport) Lines() []string { return slices.Concat(r.Applied, r.Kept, r.Conflicts) }

func (r *SeedReport) add(o SeedReport) {
	r.Applied = append(r.Applied, o.Applied...)
	r.Kept = append(r.Kept, o.Kept...)
	r.Conflicts = append(r.Conflicts, o.Conflicts...)
}

// SeedProfiles applies the profiles the config declares, and reports an
// identity conflict once in the admin channel. Conflicting profiles are
// left as they are, both usable.
func (s *Service) SeedProfiles(ctx context.Context, seeds []ProfileSeed) (SeedReport, error) {
	var all SeedReport
	for i, in := range seeds {
		var r SeedReport
		err := s.inTx(ctx, func(tx Tx) (err error) {
			r, err = s.seedProfile(ctx, tx, in, true)
			return err
		})
		if err != nil {
			return all, fmt.Errorf("profiles[%d] (%s): %w", i, in.Name, err)
		}
		all.add(r)
	}
	return all, nil
}

// ProfileDrift reports, changing nothing, what SeedProfiles would apply
// and where the config and the database disagree.
func (s *Service) ProfileDrift(ctx context.Context, seeds []ProfileSeed) (SeedReport, error) {
	var all SeedReport
	err := s.Store.View(ctx, func(tx Tx) error {
		for i, in := range seeds {
			r, err := s.seedProfile(ctx, tx, in, false)
			if err != nil {
				return fmt.Errorf("profiles[%d] (%s): %w", i, in.Name, err)
			}
			all.add(r)
		}
		return nil
	})
	return all, err
}

// seedProfile compares one declared profile with the database and, when
// write is set, applies what changed in the config.
func (s *Service) seedProfile(ctx context.Context, tx Tx, in ProfileSeed, write bool) (SeedReport, error) {
	var r SeedReport
	if len(in.Identities) == 0 {
		return r, Errorf(EINVALID, "profile %q has no identity", in.Name)
	}
	who := fmt.Sprintf("profile %q", in.Name)
	var p *Profile
	owners := map[int64]*Profile{}
	var free []Identity
	for _, id := range in.Identities {
		found, err := tx.ProfileByIdentity(ctx, id.Conn, id.UserID)
		switch {
		case errors.Is(err, ErrNotFound):
			free = append(free, id)
		case err != nil:
			return r, err
		default:
			owners[found.ID] = found
			if p == nil {
				p = found
			}
		}
	}
	if len(owners) > 1 {
		return s.seedConflict(ctx, tx, in, owners, write)
	}
	now := s.Clock()
	if p == nil {
		p = &Profile{Name: in.Name, Title: in.Title, AvatarURL: in.AvatarURL, Pronouns: in.Pronouns, ConsentedAt: in.ConsentedAt,
			Identities: in.Identities, CreatedAt: now}
		r.Applied = append(r.Applied, who+": created from the config")
	} else {
		selfSet, err := s.setInApp(ctx, tx, p.ID)
		if err != nil {
			return r, err
		}
		seedFields(p, in, selfSet, who, &r)
		for _, id := range free {
			p.Identities = append(p.Identities, id)
			r.Applied = append(r.Applied, fmt.Sprintf("%s: linked %s user %s", who, id.Conn, id.UserID))
		}
	}
	trust, err := s.seedTrust(ctx, tx, p, in, who, &r)
	if err != nil {
		return r, err
	}
	if !write {
		return r, nil
	}
	before := jsonOf(p.Seed)
	seed := in
	p.Seed, p.UpdatedAt = &seed, now
	if len(r.Applied) == 0 && before == jsonOf(p.Seed) {
		return r, nil
	}
	if err := tx.SaveProfile(ctx, p); err != nil {
		return r, err
	}
	for route, grant := range trust {
		if _, err := tx.SetTrust(ctx, p.ID, route, grant, "config", now); err != nil {
			return r, err
		}
	}
	if len(r.Applied) == 0 {
		return r, nil
	}
	return r, tx.AppendAudit(ctx, &AuditEvent{At: now, Actor: "config", Action: "profile.seed", Subject: subject("profile", p.ID),
		Before: before, After: jsonOf(map[string]any{"seed": p.Seed, "applied": r.Applied})})
}

// setInApp reports whether the person saved their public profile in the
// app: what they set there is theirs, not the config's.
func (s *Service) setInApp(ctx context.Context, tx Tx, profileID int64) (bool, error) {
	events, err := tx.AuditFor(ctx, subject("profile", profileID))
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(events, func(e *AuditEvent) bool { return e.Action == "profile.save" }), nil
}

// seedFields applies the public fields and consent the config changed,
// unless the person set their own.
func seedFields(p *Profile, in ProfileSeed, selfSet bool, who string, r *SeedReport) {
	old := p.Seed
	if old == nil {
		old = &ProfileSeed{}
	}
	field := func(label string, cur *string, was, want string) {
		switch {
		case *cur == want:
		case selfSet:
			r.Kept = append(r.Kept, fmt.Sprintf("%s: %s is %q, set by the person in the app; the config says %q and is not applied", who, label, *cur, want))
		case p.Seed != nil && want == was:
			// The config did not change; someone else changed the value.
			r.Kept = append(r.Kept, fmt.Sprintf("%s: %s is %q in the database; the config says %q", who, label, *cur, want))
		default:
			r.Applied = append(r.Applied, fmt.Sprintf("%s: %s changed from %q to %q by the config", who, label, *cur, want))
			*cur = want
		}
	}
	field("name", &p.Name, old.Name, in.Name)
	field("title", &p.Title, old.Title, in.Title)
	field("avatar_url", &p.AvatarURL, old.AvatarURL, in.AvatarURL)
	field("pronouns", &p.Pronouns, old.Pronouns, in.Pronouns)

	switch {
	case in.ConsentedAt != nil && p.ConsentedAt == nil && (selfSet || old.ConsentedAt != nil):
		// They withdrew it, in the app or since the config gave it.
		r.Kept = append(r.Kept, fmt.Sprintf("%s: the config records written consent, but the person withdrew their consent; Liaison publishes nothing under their name until they agree again with %s", who, usage(ActProfile)))
	case in.ConsentedAt != nil && p.ConsentedAt == nil:
		t := in.ConsentedAt.UTC()
		p.ConsentedAt = &t
		r.Applied = append(r.Applied, fmt.Sprintf("%s: written consent of %s recorded from the config", who, t.Format(time.DateOnly)))
	case in.ConsentedAt == nil && old.ConsentedAt != nil && p.ConsentedAt != nil && p.ConsentedAt.Equal(*old.ConsentedAt) && !selfSet:
		p.ConsentedAt = nil
		r.Applied = append(r.Applied, fmt.Sprintf("%s: written consent removed from the config; Liaison publishes nothing under their name until they agree with %s", who, usage(ActProfile)))
	}
}

// seedTrust works out the trust the config changed: routes added to
// trusted_on are granted, routes removed are revoked. Trust an approver
// took away is not given back while the config still lists the route.
func (s *Service) seedTrust(ctx context.Context, tx Tx, p *Profile, in ProfileSeed, who string, r *SeedReport) (map[string]bool, error) {
	var have []string
	if p.ID != 0 {
		var err error
		if have, err = tx.TrustedRoutes(ctx, p.ID); err != nil {
			return nil, err
		}
	}
	var was []string
	if p.Seed != nil {
		was = p.Seed.TrustedOn
	}
	out := map[string]bool{}
	for _, route := range in.TrustedOn {
		switch {
		case slices.Contains(have, route):
		case slices.Contains(was, route):
			r.Kept = append(r.Kept, fmt.Sprintf("%s: the config trusts them on route %s, but an approver took that trust away; it stays off until an approver of the route promotes them", who, route))
		default:
			out[route] = true
			r.Applied = append(r.Applied, fmt.Sprintf("%s: trusted on route %s by the config", who, route))
		}
	}
	for _, route := range was {
		if !slices.Contains(in.TrustedOn, route) && slices.Contains(have, route) {
			out[route] = false
			r.Applied = append(r.Applied, fmt.Sprintf("%s: no longer trusted on route %s: removed from the config", who, route))
		}
	}
	return out, nil
}

// seedConflict reports identities the config links that belong to
// separate profiles; it changes neither profile, so both stay usable.
func (s *Service) seedConflict(ctx context.Context, tx Tx, in ProfileSeed, owners map[int64]*Profile, write bool) (SeedReport, error) {
	var ids []int64
	for id := range owners {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var parts []string
	for _, id := range ids {
		o := owners[id]
		var accounts []string
		for _, i := range o.Identities {
			accounts = append(accounts, i.Conn+" user "+i.UserID)
		}
		parts = append(parts, fmt.Sprintf("#%d %q (%s)", id, o.Name, strings.Join(accounts, ", ")))
	}
	text := fmt.Sprintf("Config profile %q names accounts that already belong to separate profiles: %s. Liaison left both as they are, and each still works on its own account. "+
		"To keep them apart, split this entry of the config's profiles into one per profile; Liaison does not merge profiles, since each signed its own replies.",
		in.Name, strings.Join(parts, "; "))
	r := SeedReport{Conflicts: []string{text}}
	if !write || s.Settings.AdminConn == "" {
		return r, nil
	}
	first, err := tx.FirstNotice(ctx, fmt.Sprintf("profile-conflict:%v", ids), s.Clock())
	if err != nil || !first {
		return r, err
	}
	return r, s.enqueue(ctx, tx, &OutboxJob{Kind: OpPostNote, Conn: s.Settings.AdminConn, Channel: s.Settings.AdminChannel, Payload: notePayload(Sanitize(text), "")})
}
