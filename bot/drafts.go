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

// CreateDraft proposes text as the public reply to an item, signed by actor.
// The route's policy decides whether it waits for an approver or goes out.
// An author without a consented profile is asked, privately, to create one;
// the draft waits for it.
func (s *Service) CreateDraft(ctx context.Context, actor Actor, itemID int64, text string) (*Draft, error) {
	return s.newDraft(ctx, actor, itemID, DraftReply, 0, text)
}

// Correct proposes a new text for a published reply; once approved Liaison
// edits the public post.
func (s *Service) Correct(ctx context.Context, actor Actor, publishedDraftID int64, text string) (*Draft, error) {
	itemID, err := s.publishedItem(ctx, publishedDraftID, "corrected")
	if err != nil {
		return nil, err
	}
	return s.newDraft(ctx, actor, itemID, DraftCorrection, publishedDraftID, text)
}

// Retract proposes to remove a published reply; once approved Liaison
// deletes the public post.
func (s *Service) Retract(ctx context.Context, actor Actor, publishedDraftID int64, reason string) (*Draft, error) {
	itemID, err := s.publishedItem(ctx, publishedDraftID, "retracted")
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(reason) == "" {
		reason = "retraction"
	}
	return s.newDraft(ctx, actor, itemID, DraftRetraction, publishedDraftID, reason)
}

// publishedItem returns the item of a published reply, which a correction
// or retraction targets.
func (s *Service) publishedItem(ctx context.Context, draftID int64, what string) (int64, error) {
	var itemID int64
	err := s.Store.InTx(ctx, func(tx Tx) error {
		d, err := tx.Draft(ctx, draftID)
		if err != nil {
			return err
		}
		if d.State != DraftPublished || d.Kind == DraftRetraction {
			return Errorf(EINVALID, "Only a published reply can be %s.", what)
		}
		itemID = d.ItemID
		return nil
	})
	return itemID, err
}

func (s *Service) newDraft(ctx context.Context, actor Actor, itemID int64, kind DraftKind, target int64, text string) (*Draft, error) {
	var d *Draft
	err := s.inTx(ctx, func(tx Tx) (err error) {
		d, err = s.draftTx(ctx, tx, actor, itemID, kind, target, text)
		return err
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// draftTx creates a draft in tx; see CreateDraft.
func (s *Service) draftTx(ctx context.Context, tx Tx, actor Actor, itemID int64, kind DraftKind, target int64, text string) (*Draft, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, ErrEmptyText
	}
	if n := utf8.RuneCountInString(text); n > maxDraftChars {
		return nil, Errorf(EINVALID, "The reply is %d characters long; the limit is %d.", n, maxDraftChars)
	}
	it, err := tx.Item(ctx, itemID)
	if err != nil {
		return nil, err
	}
	if actor.Conn != it.CardConn {
		return nil, Errorf(EUNAUTHORIZED, "Sorry, this item is handled from another workspace.")
	}
	if it.Status == ItemIgnored || it.Status == ItemClosed {
		return nil, &TransitionError{Entity: "item", ID: it.ID, From: string(it.Status), To: string(ItemAwaitingApproval)}
	}
	author, err := s.ensureProfile(ctx, tx, actor)
	if err != nil {
		return nil, err
	}
	if target != 0 {
		if err := s.checkNoOpenCorrection(ctx, tx, target); err != nil {
			return nil, err
		}
	}
	now := s.Clock()
	d := &Draft{
		ItemID: it.ID, Kind: kind, Target: target, AuthorID: author.ID, State: DraftPending,
		Versions:   []DraftVersion{{N: 1, Text: text, EditorID: author.ID, At: now}},
		PublicConn: it.Conn, PublicChannel: it.Channel, CreatedAt: now, UpdatedAt: now,
	}
	if err := tx.CreateDraft(ctx, d); err != nil {
		return nil, err
	}
	if it.Assignee == 0 {
		it.Assignee = author.ID
	}
	if err := s.enqueue(ctx, tx, &OutboxJob{Kind: OpPostDraftCard, ItemID: it.ID, DraftID: d.ID, Conn: it.CardConn, Channel: it.CardChannel}); err != nil {
		return nil, err
	}
	if err := s.audit(ctx, tx, actor.String(), "draft.create", subject("draft", d.ID), nil, map[string]any{"item": it.ID, "kind": kind, "text": text}); err != nil {
		return nil, err
	}
	if !author.Consented() {
		msg := "Your draft is saved, but Liaison publishes replies only under a real name you agreed to. Set up your public profile with /liaison profile (name, title, avatar and consent); the draft waits for it."
		if err := s.notify(ctx, tx, it, actor.UserID, msg); err != nil {
			return nil, err
		}
	}
	return d, s.afterDraftChange(ctx, tx, it, d, author)
}

func (s *Service) checkNoOpenCorrection(ctx context.Context, tx Tx, target int64) error {
	t, err := tx.Draft(ctx, target)
	if err != nil {
		return err
	}
	drafts, err := tx.DraftsByItem(ctx, t.ItemID)
	if err != nil {
		return err
	}
	for _, o := range drafts {
		if o.Target == target && (o.State == DraftPending || o.State == DraftApproved) {
			return Errorf(ECONFLICT, "A correction or retraction of that reply is already under way (draft #%d).", o.ID)
		}
	}
	return nil
}

// afterDraftChange auto-approves when the policy lets the draft through
// without review, and keeps the item's status in step with its drafts.
func (s *Service) afterDraftChange(ctx context.Context, tx Tx, it *Item, d *Draft, author *Profile) error {
	if d.State == DraftPending && author.Consented() {
		rt := s.Router.Route(it.Route)
		if rt != nil && (rt.Policy.Mode == ApprovalNone || (rt.Policy.Mode == ApprovalTrustedAuto && author.Trusted)) {
			if err := s.approve(ctx, tx, it, d, author, "system"); err != nil {
				return err
			}
		}
	}
	return s.syncItemStatus(ctx, tx, it)
}

// syncItemStatus derives an open item's status from its drafts.
func (s *Service) syncItemStatus(ctx context.Context, tx Tx, it *Item) error {
	drafts, err := tx.DraftsByItem(ctx, it.ID)
	if err != nil {
		return err
	}
	var published, pending, waiting bool
	for _, d := range drafts {
		switch {
		case d.Kind == DraftReply && d.State == DraftPublished:
			published = true
		case d.State == DraftPending || d.State == DraftApproved:
			a, err := tx.Profile(ctx, d.AuthorID)
			if err != nil {
				return err
			}
			if a.Consented() {
				pending = true
			} else {
				waiting = true
			}
		}
	}
	want := it.Status
	switch {
	case it.Status == ItemIgnored || it.Status == ItemClosed:
	case pending:
		want = ItemAwaitingApproval
	case waiting:
		want = ItemDrafting
	case published:
		want = ItemAnswered
	case it.Assignee != 0:
		want = ItemClaimed
	default:
		want = ItemNew
	}
	if want != it.Status {
		if err := it.SetStatus(want); err != nil {
			return err
		}
	}
	it.UpdatedAt = s.Clock()
	if err := tx.UpdateItem(ctx, it); err != nil {
		return err
	}
	return s.updateCard(ctx, tx, it)
}

// Approve approves a pending draft and enqueues its publication.
func (s *Service) Approve(ctx context.Context, actor Actor, draftID int64) error {
	return s.review(ctx, actor, draftID, "", true)
}

// EditApprove replaces a draft's text and approves it. The author stays the
// signer; both versions are kept.
func (s *Service) EditApprove(ctx context.Context, actor Actor, draftID int64, text string) error {
	text = strings.TrimSpace(text)
	if text == "" {
		return ErrEmptyText
	}
	if n := utf8.RuneCountInString(text); n > maxDraftChars {
		return Errorf(EINVALID, "The reply is %d characters long; the limit is %d.", n, maxDraftChars)
	}
	return s.review(ctx, actor, draftID, text, true)
}

// Reject rejects a pending draft; the reason is sent to its author.
func (s *Service) Reject(ctx context.Context, actor Actor, draftID int64, reason string) error {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return Errorf(EINVALID, "Please give the author a reason.")
	}
	return s.review(ctx, actor, draftID, reason, false)
}

func (s *Service) review(ctx context.Context, actor Actor, draftID int64, text string, approve bool) error {
	return s.inTx(ctx, func(tx Tx) error {
		d, it, rt, err := s.reviewable(ctx, tx, actor, draftID, approve)
		if err != nil {
			return err
		}
		reviewer, err := s.ensureProfile(ctx, tx, actor)
		if err != nil {
			return err
		}
		author, err := tx.Profile(ctx, d.AuthorID)
		if err != nil {
			return err
		}
		if !approve {
			return s.reject(ctx, tx, it, d, reviewer, author, actor, text)
		}
		if reviewer.ID == author.ID && !rt.Policy.AllowSelfApproval {
			return ErrSelfApproval
		}
		if !author.Consented() {
			return ErrNoConsent
		}
		if text != "" && text != d.Text() {
			before := d.Text()
			d.Versions = append(d.Versions, DraftVersion{N: len(d.Versions) + 1, Text: text, EditorID: reviewer.ID, At: s.Clock()})
			if err := s.audit(ctx, tx, actor.String(), "draft.edit", subject("draft", d.ID), map[string]any{"text": before}, map[string]any{"text": text}); err != nil {
				return err
			}
		}
		if err := s.approve(ctx, tx, it, d, reviewer, actor.String()); err != nil {
			return err
		}
		return s.syncItemStatus(ctx, tx, it)
	})
}

func (s *Service) approve(ctx context.Context, tx Tx, it *Item, d *Draft, approver *Profile, actor string) error {
	before := d.State
	if err := d.SetState(DraftApproved); err != nil {
		return err
	}
	now := s.Clock()
	d.ApproverID, d.DecidedAt, d.UpdatedAt = approver.ID, &now, now
	if err := tx.UpdateDraft(ctx, d); err != nil {
		return err
	}
	kind := map[DraftKind]OpKind{DraftReply: OpPublish, DraftCorrection: OpEditPublic, DraftRetraction: OpDeletePublic}[d.Kind]
	// One publication per approval: a retried approval after a failure is
	// a new attempt, counted by the version of the draft it publishes.
	idem := fmt.Sprintf("%s:draft:%d:v%d", kind, d.ID, len(d.Versions))
	if before == DraftFailed {
		idem = fmt.Sprintf("%s:retry-%d", idem, now.UnixMicro())
	}
	if err := s.enqueue(ctx, tx, &OutboxJob{Kind: kind, ItemID: it.ID, DraftID: d.ID, Conn: it.Conn, Channel: it.Channel, IdemKey: idem}); err != nil {
		return err
	}
	if err := s.updateDraftCard(ctx, tx, it, d); err != nil {
		return err
	}
	return s.audit(ctx, tx, actor, "draft.approve", subject("draft", d.ID), map[string]any{"state": before}, map[string]any{"state": d.State, "version": len(d.Versions), "approver": approver.ID})
}

func (s *Service) reject(ctx context.Context, tx Tx, it *Item, d *Draft, reviewer, author *Profile, actor Actor, reason string) error {
	if err := d.SetState(DraftRejected); err != nil {
		return err
	}
	now := s.Clock()
	d.ApproverID, d.RejectReason, d.DecidedAt, d.UpdatedAt = reviewer.ID, reason, &now, now
	if err := tx.UpdateDraft(ctx, d); err != nil {
		return err
	}
	if err := s.updateDraftCard(ctx, tx, it, d); err != nil {
		return err
	}
	if id := identityOn(author, it.CardConn); id != "" {
		msg := fmt.Sprintf("Your draft #%d was not approved by %s: %s", d.ID, displayName(reviewer, actor.Name), Sanitize(reason))
		if err := s.notify(ctx, tx, it, id, msg); err != nil {
			return err
		}
	}
	if err := s.audit(ctx, tx, actor.String(), "draft.reject", subject("draft", d.ID), map[string]any{"state": DraftPending}, map[string]any{"state": d.State, "reason": reason}); err != nil {
		return err
	}
	return s.syncItemStatus(ctx, tx, it)
}

// Withdraw lets a draft's author take it back before it is published.
func (s *Service) Withdraw(ctx context.Context, actor Actor, draftID int64) error {
	return s.inTx(ctx, func(tx Tx) error {
		d, err := tx.Draft(ctx, draftID)
		if err != nil {
			return err
		}
		p, err := tx.ProfileByIdentity(ctx, actor.Conn, actor.UserID)
		if errors.Is(err, ErrNotFound) || (err == nil && p.ID != d.AuthorID) {
			return ErrNotAuthor
		} else if err != nil {
			return err
		}
		before := d.State
		if err := d.SetState(DraftWithdrawn); err != nil {
			return err
		}
		it, err := s.saveDraft(ctx, tx, d)
		if err != nil {
			return err
		}
		if err := s.audit(ctx, tx, actor.String(), "draft.withdraw", subject("draft", d.ID), map[string]any{"state": before}, map[string]any{"state": d.State}); err != nil {
			return err
		}
		return s.syncItemStatus(ctx, tx, it)
	})
}

// saveDraft writes d, enqueues the refresh of its card and returns its item.
func (s *Service) saveDraft(ctx context.Context, tx Tx, d *Draft) (*Item, error) {
	d.UpdatedAt = s.Clock()
	if err := tx.UpdateDraft(ctx, d); err != nil {
		return nil, err
	}
	it, err := tx.Item(ctx, d.ItemID)
	if err != nil {
		return nil, err
	}
	return it, s.updateDraftCard(ctx, tx, it, d)
}

// notify tells one staff member something privately, about item it.
func (s *Service) notify(ctx context.Context, tx Tx, it *Item, userID, text string) error {
	return s.enqueue(ctx, tx, &OutboxJob{Kind: OpNotify, ItemID: it.ID, Conn: it.CardConn, Channel: it.CardChannel, Payload: notePayload(text, userID)})
}

func (s *Service) updateDraftCard(ctx context.Context, tx Tx, it *Item, d *Draft) error {
	return s.enqueue(ctx, tx, &OutboxJob{Kind: OpUpdateDraftCard, ItemID: it.ID, DraftID: d.ID, Conn: it.CardConn, Channel: it.CardChannel, CoalesceKey: fmt.Sprintf("draftcard:%d", d.ID)})
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

// SetTrusted promotes (or demotes) a responder: trusted responders publish
// without review on trusted-auto routes. Only approvers may do it.
func (s *Service) SetTrusted(ctx context.Context, actor Actor, userID string, trusted bool) (*Profile, error) {
	if !s.isApproverAnywhere(actor) {
		return nil, ErrNotApprover
	}
	var p *Profile
	err := s.inTx(ctx, func(tx Tx) (err error) {
		p, err = s.ensureProfile(ctx, tx, Actor{Conn: actor.Conn, UserID: userID})
		if err != nil {
			return err
		}
		before := p.Trusted
		p.Trusted, p.UpdatedAt = trusted, s.Clock()
		if err := tx.SaveProfile(ctx, p); err != nil {
			return err
		}
		action := "profile.promote"
		if !trusted {
			action = "profile.demote"
		}
		return s.audit(ctx, tx, actor.String(), action, subject("profile", p.ID), map[string]any{"trusted": before}, map[string]any{"trusted": trusted})
	})
	return p, err
}

// ProfileInput is what a person says about their public identity.
type ProfileInput struct {
	Name      string
	Title     string
	AvatarURL string
	Pronouns  string
	Consent   bool
}

// Validate checks a profile before it is saved.
func (in ProfileInput) Validate() error {
	switch n := utf8.RuneCountInString(strings.TrimSpace(in.Name)); {
	case n == 0:
		return Errorf(EINVALID, "Please give the name the public will see.")
	case n > 60:
		return Errorf(EINVALID, "The public name is too long (60 characters at most).")
	}
	if utf8.RuneCountInString(in.Title) > 80 || utf8.RuneCountInString(in.Pronouns) > 30 {
		return Errorf(EINVALID, "The title (80) or pronouns (30) are too long.")
	}
	if in.AvatarURL != "" {
		u, err := url.Parse(in.AvatarURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return Errorf(EINVALID, "The avatar must be an http(s) URL.")
		}
	}
	return nil
}

// MyProfile returns actor's profile, or a bare one if they have none yet.
func (s *Service) MyProfile(ctx context.Context, actor Actor) (*Profile, error) {
	var p *Profile
	err := s.Store.InTx(ctx, func(tx Tx) (err error) {
		p, err = tx.ProfileByIdentity(ctx, actor.Conn, actor.UserID)
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return &Profile{Role: RoleResponder}, nil
	}
	return p, err
}

// SaveProfile records actor's public identity and consent. Drafts that were
// waiting for consent move on.
func (s *Service) SaveProfile(ctx context.Context, actor Actor, in ProfileInput) (*Profile, error) {
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
		p.AvatarURL, p.Pronouns, p.UpdatedAt = in.AvatarURL, strings.TrimSpace(in.Pronouns), now
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

func identityOn(p *Profile, conn string) string {
	for _, id := range p.Identities {
		if id.Conn == conn {
			return id.UserID
		}
	}
	return ""
}

func displayName(p *Profile, fallback string) string {
	if p != nil && p.Name != "" {
		return p.Name
	}
	if fallback != "" {
		return fallback
	}
	return "an approver"
}

// SeedProfiles seeds every profile the config declares.
func (s *Service) SeedProfiles(ctx context.Context, profiles []Profile) error {
	for i, p := range profiles {
		if err := s.SeedProfile(ctx, p); err != nil {
			return fmt.Errorf("profiles[%d]: %w", i, err)
		}
	}
	return nil
}

// SeedProfile creates or updates a profile the admin declared in the
// config, found by its identities. Consent from the config is written
// consent on file; consent given in the app is kept.
func (s *Service) SeedProfile(ctx context.Context, in Profile) error {
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

// CheckReviewer says, without changing anything, whether actor may approve,
// edit or reject the draft now: adapters ask before opening a modal.
func (s *Service) CheckReviewer(ctx context.Context, actor Actor, draftID int64, approving bool) error {
	return s.Store.InTx(ctx, func(tx Tx) error {
		d, _, rt, err := s.reviewable(ctx, tx, actor, draftID, approving)
		if err != nil || !approving {
			return err
		}
		p, err := tx.ProfileByIdentity(ctx, actor.Conn, actor.UserID)
		if err == nil && p.ID == d.AuthorID && !rt.Policy.AllowSelfApproval {
			return ErrSelfApproval
		}
		return nil
	})
}

// reviewable loads a draft an approver acts on and checks the actor's right
// and the draft's state.
func (s *Service) reviewable(ctx context.Context, tx Tx, actor Actor, draftID int64, approving bool) (*Draft, *Item, *Route, error) {
	d, err := tx.Draft(ctx, draftID)
	if err != nil {
		return nil, nil, nil, err
	}
	it, err := tx.Item(ctx, d.ItemID)
	if err != nil {
		return nil, nil, nil, err
	}
	rt := s.Router.Route(it.Route)
	if rt == nil {
		return nil, nil, nil, ErrNoRoute
	}
	if !IsApprover(rt, actor) {
		return nil, nil, nil, ErrNotApprover
	}
	if d.State == DraftPublished {
		return nil, nil, nil, ErrAlreadyPublished
	}
	if d.State != DraftPending && !(approving && d.State == DraftFailed) {
		return nil, nil, nil, &TransitionError{Entity: "draft", ID: d.ID, From: string(d.State), To: string(DraftApproved)}
	}
	return d, it, rt, nil
}
