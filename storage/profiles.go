package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/liaison-bot/liaison/bot"
)

// The role and trusted columns of the first schema are no longer read:
// approvers are named by routes, trust is per route (route_trust).
const profileColumns = `p.id, p.name, p.title, p.avatar_url, p.pronouns, p.consented_at, p.seed_json,
	p.created_at, p.updated_at`

func scanProfile(s scanner) (*bot.Profile, error) {
	var p bot.Profile
	var seed string
	err := s.Scan(&p.ID, &p.Name, &p.Title, &p.AvatarURL, &p.Pronouns, timeOrNil(&p.ConsentedAt), &seed,
		(*stamp)(&p.CreatedAt), (*stamp)(&p.UpdatedAt))
	if err != nil {
		return nil, err
	}
	if seed != "" {
		p.Seed = new(bot.ProfileSeed)
		if err := json.Unmarshal([]byte(seed), p.Seed); err != nil {
			return nil, fmt.Errorf("profile %d seed: %w", p.ID, err)
		}
	}
	return &p, nil
}

func seedJSON(p *bot.Profile) (string, error) {
	if p.Seed == nil {
		return "", nil
	}
	b, err := json.Marshal(p.Seed)
	return string(b), err
}

func (tx *tx) Profile(ctx context.Context, id int64) (*bot.Profile, error) {
	p, err := scanProfile(tx.queryRow(ctx, `SELECT `+profileColumns+` FROM profiles p WHERE p.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("profile %d: %w", id, bot.ErrNotFound)
	}
	if err == nil {
		err = loadIdentities(ctx, tx, p)
	}
	if err != nil {
		return nil, fmt.Errorf("get profile %d: %w", id, err)
	}
	return p, nil
}

func (tx *tx) ProfileByIdentity(ctx context.Context, conn, userID string) (*bot.Profile, error) {
	p, err := scanProfile(tx.queryRow(ctx, `
		SELECT `+profileColumns+`
		FROM profiles p JOIN profile_identities i ON i.profile_id = p.id
		WHERE i.conn = ? AND i.user_id = ?`,
		conn, userID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("profile of %s/%s: %w", conn, userID, bot.ErrNotFound)
	}
	if err == nil {
		err = loadIdentities(ctx, tx, p)
	}
	if err != nil {
		return nil, fmt.Errorf("get profile of %s/%s: %w", conn, userID, err)
	}
	return p, nil
}

// SaveProfile checks the identities are free before writing anything, so
// that a conflict leaves the transaction usable on Postgres too; the UNIQUE
// (conn, user_id) constraint still guards against a concurrent save.
func (tx *tx) SaveProfile(ctx context.Context, p *bot.Profile) error {
	for _, id := range p.Identities {
		owner, err := identityOwner(ctx, tx, id)
		if err != nil {
			return fmt.Errorf("save profile %d: %w", p.ID, err)
		}
		if owner != 0 && owner != p.ID {
			return fmt.Errorf("save profile %d: %s user %s belongs to profile %d: %w", p.ID, id.Conn, id.UserID, owner,
				bot.Errorf(bot.ECONFLICT, "That %s account is already linked to another profile.", id.Conn))
		}
	}
	if p.ID == 0 {
		if err := insertProfile(ctx, tx, p); err != nil {
			return fmt.Errorf("create profile: %w", err)
		}
	} else if err := updateProfile(ctx, tx, p); err != nil {
		return fmt.Errorf("save profile %d: %w", p.ID, err)
	}
	if err := replaceIdentities(ctx, tx, p); err != nil {
		return fmt.Errorf("save profile %d: %w", p.ID, err)
	}
	return nil
}

func insertProfile(ctx context.Context, tx *tx, p *bot.Profile) error {
	seed, err := seedJSON(p)
	if err != nil {
		return err
	}
	id, _, err := tx.insert(ctx, `
		INSERT INTO profiles (name, title, avatar_url, pronouns, consented_at, seed_json, role, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, 'responder', ?, ?)
		RETURNING id`,
		p.Name, p.Title, p.AvatarURL, p.Pronouns, atOrNull(p.ConsentedAt), seed,
		at(p.CreatedAt), at(p.UpdatedAt))
	if err != nil {
		return err
	}
	p.ID = id
	return nil
}

func updateProfile(ctx context.Context, tx *tx, p *bot.Profile) error {
	seed, err := seedJSON(p)
	if err != nil {
		return err
	}
	return tx.execOne(ctx, bot.ErrNotFound, `
		UPDATE profiles
		SET name = ?, title = ?, avatar_url = ?, pronouns = ?, consented_at = ?, seed_json = ?,
			updated_at = ?
		WHERE id = ?`,
		p.Name, p.Title, p.AvatarURL, p.Pronouns, atOrNull(p.ConsentedAt), seed,
		at(p.UpdatedAt),
		p.ID)
}

// TrustedRoutes lists the routes profileID is trusted on, by name.
func (tx *tx) TrustedRoutes(ctx context.Context, profileID int64) ([]string, error) {
	rows, err := tx.query(ctx, `SELECT route FROM route_trust WHERE profile_id = ? ORDER BY route`, profileID)
	if err != nil {
		return nil, fmt.Errorf("trust of profile %d: %w", profileID, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			return nil, fmt.Errorf("trust of profile %d: %w", profileID, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// SetTrust gives or takes back trust on a route; it reports whether that
// changed anything.
func (tx *tx) SetTrust(ctx context.Context, profileID int64, route string, trusted bool, by string, now time.Time) (bool, error) {
	var res sql.Result
	var err error
	if trusted {
		res, err = tx.exec(ctx, `
			INSERT INTO route_trust (profile_id, route, granted_by, granted_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (profile_id, route) DO NOTHING`,
			profileID, route, by, at(now))
	} else {
		res, err = tx.exec(ctx, `DELETE FROM route_trust WHERE profile_id = ? AND route = ?`, profileID, route)
	}
	if err != nil {
		return false, fmt.Errorf("set trust of profile %d on %s: %w", profileID, route, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("set trust of profile %d on %s: %w", profileID, route, err)
	}
	return n > 0, nil
}

// identityOwner returns the profile holding id, or 0.
func identityOwner(ctx context.Context, tx *tx, id bot.Identity) (int64, error) {
	var owner int64
	err := tx.queryRow(ctx, `SELECT profile_id FROM profile_identities WHERE conn = ? AND user_id = ?`,
		id.Conn, id.UserID).Scan(&owner)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return owner, err
}

// replaceIdentities stores p's identities in their order, once each.
func replaceIdentities(ctx context.Context, tx *tx, p *bot.Profile) error {
	if _, err := tx.exec(ctx, `DELETE FROM profile_identities WHERE profile_id = ?`, p.ID); err != nil {
		return fmt.Errorf("clear identities: %w", err)
	}
	seen := make(map[bot.Identity]bool, len(p.Identities))
	for _, id := range p.Identities {
		if seen[id] {
			continue
		}
		seen[id] = true
		_, err := tx.exec(ctx, `INSERT INTO profile_identities (profile_id, conn, user_id) VALUES (?, ?, ?)`,
			p.ID, id.Conn, id.UserID)
		if err != nil {
			return fmt.Errorf("add identity %s/%s: %w", id.Conn, id.UserID, err)
		}
	}
	return nil
}

func loadIdentities(ctx context.Context, tx *tx, p *bot.Profile) error {
	rows, err := tx.query(ctx, `SELECT conn, user_id FROM profile_identities WHERE profile_id = ? ORDER BY id`, p.ID)
	if err != nil {
		return fmt.Errorf("read identities: %w", err)
	}
	defer rows.Close()
	p.Identities = nil
	for rows.Next() {
		var id bot.Identity
		if err := rows.Scan(&id.Conn, &id.UserID); err != nil {
			return fmt.Errorf("read identities: %w", err)
		}
		p.Identities = append(p.Identities, id)
	}
	return rows.Err()
}
