package bot

import (
	"context"
	"fmt"
	"strings"
)

// Drafts and their review: a responder proposes a public reply (or a
// correction or retraction of one), the route's policy decides whether an
// approver must approve it, and an approved draft is published by the
// outbox.

func (s *Service) replyForm(ctx context.Context, req Request) (*Form, error) {
	err := s.Store.View(ctx, func(tx Tx) error {
		it, err := tx.Item(ctx, req.Target)
		if err != nil {
			return err
		}
		return s.draftable(it, req.Actor)
	})
	if err != nil {
		return nil, err
	}
	return &Form{
		Action: ActReply, Target: req.Target, Title: itemFormTitle("Reply to", req.Target), Submit: "Create draft",
		Fields: []Field{replyText(FieldTextID, "Your public reply",
			"Published under your name once approved. It pings only the member you answer.", "")},
	}, nil
}

// draftable checks a draft may be written for the item by actor.
func (s *Service) draftable(it *Item, actor Actor) error {
	if err := s.workOn(it, actor); err != nil {
		return err
	}
	if it.Status == ItemIgnored || it.Status == ItemClosed {
		return &TransitionError{Entity: "item", ID: it.ID, From: string(it.Status), To: string(ItemAwaitingApproval)}
	}
	return nil
}

func (s *Service) replyRun(ctx context.Context, req Request) (string, error) {
	var d *Draft
	err := s.inTx(ctx, func(tx Tx) (err error) {
		d, err = s.draftTx(ctx, tx, req.Actor, req.Target, nil, DraftReply, req.Values[FieldTextID])
		return err
	})
	if err != nil {
		return "", err
	}
	return draftCreated(d), nil
}

// draftCreated says where a new draft stands.
func draftCreated(d *Draft) string {
	switch d.State {
	case DraftApproved:
		return fmt.Sprintf("Draft #%d needs no review on this route: Liaison is publishing it.", d.ID)
	case DraftAwaitingSigner:
		return fmt.Sprintf("Draft #%d needs no review on this route; it is published once the reply's signer accepts it.", d.ID)
	default:
		return fmt.Sprintf("Draft #%d is in the item's thread.", d.ID)
	}
}

func (s *Service) correctForm(ctx context.Context, req Request) (*Form, error) {
	var d *Draft
	err := s.Store.View(ctx, func(tx Tx) (err error) {
		d, err = s.correctable(ctx, tx, req, "corrected")
		return err
	})
	if err != nil {
		return nil, err
	}
	return &Form{
		Action: ActCorrect, Target: req.Target, Title: draftFormTitle("Correct reply", req.Target), Submit: "Propose",
		Fields: []Field{replyText(FieldTextID, "Corrected reply", "Once approved, Liaison edits the public post.", d.Text())},
	}, nil
}

// correctable loads a published reply that actor may propose to correct or
// retract, and checks no other correction of it is under way.
func (s *Service) correctable(ctx context.Context, tx Tx, req Request, what string) (*Draft, error) {
	d, err := tx.Draft(ctx, req.Target)
	if err != nil {
		return nil, err
	}
	if d.State != DraftPublished || d.Kind != DraftReply {
		return nil, Errorf(EINVALID, "Only a published reply can be %s.", what)
	}
	it, err := tx.Item(ctx, d.ItemID)
	if err != nil {
		return nil, err
	}
	if err := s.workOn(it, req.Actor); err != nil {
		return nil, err
	}
	return d, s.checkNoOpenCorrection(ctx, tx, d)
}

func (s *Service) correctRun(ctx context.Context, req Request) (string, error) {
	d, err := s.changePublished(ctx, req, DraftCorrection, "corrected", req.Values[FieldTextID])
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("Correction proposed as draft #%d.", d.ID), nil
}

func (s *Service) retractAllowed(ctx context.Context, req Request) error {
	return s.Store.View(ctx, func(tx Tx) error {
		_, err := s.correctable(ctx, tx, req, "retracted")
		return err
	})
}

func (s *Service) retractRun(ctx context.Context, req Request) (string, error) {
	d, err := s.changePublished(ctx, req, DraftRetraction, "retracted", "retraction")
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("Retraction of reply #%d proposed as draft #%d.", req.Target, d.ID), nil
}

// changePublished proposes a correction or retraction of the published
// reply req.Target, as a draft of its own.
func (s *Service) changePublished(ctx context.Context, req Request, kind DraftKind, what, text string) (*Draft, error) {
	var d *Draft
	err := s.inTx(ctx, func(tx Tx) error {
		target, err := s.correctable(ctx, tx, req, what)
		if err != nil {
			return err
		}
		d, err = s.draftTx(ctx, tx, req.Actor, target.ItemID, target, kind, text)
		return err
	})
	return d, err
}

// draftTx proposes text, written by actor, as the public reply to an item,
// or as a correction or retraction of the published reply target. A reply
// is signed by its writer; a correction by the reply's signer, who accepts
// it when someone else wrote it. The route's policy decides whether it
// waits for an approver. A writer without a consented profile is asked,
// privately, to create one; the draft waits for it.
func (s *Service) draftTx(ctx context.Context, tx Tx, actor Actor, itemID int64, target *Draft, kind DraftKind, text string) (*Draft, error) {
	text, err := draftText(text)
	if err != nil {
		return nil, err
	}
	it, err := tx.Item(ctx, itemID)
	if err != nil {
		return nil, err
	}
	if err := s.draftable(it, actor); err != nil {
		return nil, err
	}
	author, err := s.ensureProfile(ctx, tx, actor)
	if err != nil {
		return nil, err
	}
	signer, targetID := author, int64(0)
	if target != nil {
		targetID = target.ID
		if signer, err = tx.Profile(ctx, target.AuthorID); err != nil {
			return nil, err
		}
	}
	now := s.Clock()
	d := &Draft{
		ItemID: it.ID, Kind: kind, Target: targetID, AuthorID: signer.ID, State: DraftPending,
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
	if err := s.draftHomes(ctx, tx, it, d); err != nil {
		return nil, err
	}
	if err := s.audit(ctx, tx, actor.String(), "draft.create", subject("draft", d.ID), nil, map[string]any{"item": it.ID, "kind": kind, "text": text}); err != nil {
		return nil, err
	}
	if signer.ID == author.ID && waitsForConsent(d, signer) {
		msg := fmt.Sprintf("Your draft is saved, but Liaison publishes replies only under a real name you agreed to. Set up your public profile with `%s` (name, title, avatar and consent); the draft waits for it.", usage(ActProfile))
		if err := s.notify(ctx, tx, it, actor.UserID, msg); err != nil {
			return nil, err
		}
	}
	return d, s.afterDraftChange(ctx, tx, it, d)
}

// waitsForConsent: the draft puts words under signer's name, who has not
// agreed to it. A retraction puts none.
func waitsForConsent(d *Draft, signer *Profile) bool {
	return d.Kind != DraftRetraction && !signer.Consented()
}

func (s *Service) checkNoOpenCorrection(ctx context.Context, tx Tx, target *Draft) error {
	drafts, err := tx.DraftsByItem(ctx, target.ItemID)
	if err != nil {
		return err
	}
	for _, o := range drafts {
		if o.Target == target.ID && (o.State == DraftPending || o.State == DraftAwaitingSigner || o.State == DraftApproved) {
			return Errorf(ECONFLICT, "A correction or retraction of that reply is already under way (draft #%d).", o.ID)
		}
	}
	return nil
}

// afterDraftChange approves when the policy lets the draft through without
// review, and keeps the item's status in step with its drafts.
func (s *Service) afterDraftChange(ctx context.Context, tx Tx, it *Item, d *Draft) error {
	if d.State == DraftPending {
		signer, err := tx.Profile(ctx, d.AuthorID)
		if err != nil {
			return err
		}
		if rt := s.Router.Route(it.Route); rt != nil && !waitsForConsent(d, signer) {
			review, err := needsReview(ctx, tx, rt, writer(d))
			if err != nil {
				return err
			}
			if !review {
				if err := s.approve(ctx, tx, it, d, nil, "system"); err != nil {
					return err
				}
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
		case d.State == DraftPending || d.State == DraftAwaitingSigner || d.State == DraftApproved:
			a, err := tx.Profile(ctx, d.AuthorID)
			if err != nil {
				return err
			}
			if waitsForConsent(d, a) {
				waiting = true
			} else {
				pending = true
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

// review is a draft an approver acts on, with its item and route.
type review struct {
	d  *Draft
	it *Item
	rt *Route
}

// reviewable loads a draft and checks actor approves its route.
func (s *Service) reviewable(ctx context.Context, tx Tx, actor Actor, draftID int64) (review, error) {
	d, err := tx.Draft(ctx, draftID)
	if err != nil {
		return review{}, err
	}
	it, err := tx.Item(ctx, d.ItemID)
	if err != nil {
		return review{}, err
	}
	rt := s.Router.Route(it.Route)
	if rt == nil {
		return review{}, ErrNoRoute
	}
	if !IsApprover(rt, actor) {
		return review{}, ErrNotApprover
	}
	if d.State == DraftPublished {
		return review{}, ErrAlreadyPublished
	}
	return review{d: d, it: it, rt: rt}, nil
}

// approvable checks actor may approve the draft now: an approver of its
// route, not the writer of its words (unless the route allows it), a draft
// pending or failed to publish, and a signer who agreed to publish under
// their name.
func (s *Service) approvable(ctx context.Context, tx Tx, actor Actor, draftID int64) (review, *Profile, error) {
	r, err := s.reviewable(ctx, tx, actor, draftID)
	if err != nil {
		return review{}, nil, err
	}
	if r.d.State != DraftPending && r.d.State != DraftFailed {
		return review{}, nil, &TransitionError{Entity: "draft", ID: r.d.ID, From: string(r.d.State), To: string(DraftApproved)}
	}
	author, err := tx.Profile(ctx, r.d.AuthorID)
	if err != nil {
		return review{}, nil, err
	}
	p, err := profileOf(ctx, tx, actor)
	if err != nil {
		return review{}, nil, err
	}
	if err := mayApprove(r.rt, r.d, author, p); err != nil {
		return review{}, nil, err
	}
	return r, author, nil
}

// mayApprove is the rest of approvable once the draft, pending or failed
// to publish, is loaded with its route, its signer and the profile of an
// approver of that route (nil when they have none): the Home asks it too
// of the drafts it lists (DraftsToReview: pending or failed), so that it
// never offers what the click would refuse.
func mayApprove(rt *Route, d *Draft, signer, approver *Profile) error {
	if approver != nil && approver.ID == writer(d) && !rt.Policy.AllowSelfApproval {
		return ErrSelfApproval
	}
	if waitsForConsent(d, signer) {
		return ErrNoConsent
	}
	return nil
}

// rejectable checks actor may reject the draft now: an approver of its
// route, and a draft not yet approved for good.
func (s *Service) rejectable(ctx context.Context, tx Tx, actor Actor, draftID int64) (review, error) {
	r, err := s.reviewable(ctx, tx, actor, draftID)
	if err != nil {
		return review{}, err
	}
	if r.d.State != DraftPending && r.d.State != DraftAwaitingSigner {
		return review{}, &TransitionError{Entity: "draft", ID: r.d.ID, From: string(r.d.State), To: string(DraftRejected)}
	}
	return r, nil
}

func (s *Service) approveRun(ctx context.Context, req Request) (string, error) {
	d, err := s.approveDraft(ctx, req.Actor, req.Target, "")
	if err != nil {
		return "", err
	}
	return approved(d), nil
}

// approved says where a draft stands once an approver acted on it.
func approved(d *Draft) string {
	switch d.State {
	case DraftAwaitingSigner:
		return fmt.Sprintf("Draft #%d is approved. It is published once its signer accepts the words: they are asked in the thread.", d.ID)
	case DraftPending:
		return fmt.Sprintf("Draft #%d is edited. The words are now yours and it is signed by you: another approver reviews them.", d.ID)
	}
	return fmt.Sprintf("Draft #%d is approved: Liaison is publishing it.", d.ID)
}

func (s *Service) editApproveForm(ctx context.Context, req Request) (*Form, error) {
	var r review
	err := s.Store.View(ctx, func(tx Tx) (err error) {
		r, _, err = s.approvable(ctx, tx, req.Actor, req.Target)
		if err == nil && r.d.State != DraftPending {
			err = Errorf(EINVALID, "A draft that could not be published is retried as it was accepted: approve it again, or withdraw it and write a new one.")
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	hint := "Changed words go to the signer to accept before publication; both versions are kept."
	if r.d.Kind == DraftRetraction {
		hint = "A retraction has no words to change."
	}
	return &Form{
		Action: ActEditApprove, Target: req.Target, Title: draftFormTitle("Edit & approve", req.Target), Submit: "Approve",
		Fields: []Field{replyText(FieldTextID, "Public reply", hint, r.d.Text())},
	}, nil
}

func (s *Service) editApproveRun(ctx context.Context, req Request) (string, error) {
	text, err := draftText(req.Values[FieldTextID])
	if err != nil {
		return "", err
	}
	d, err := s.approveDraft(ctx, req.Actor, req.Target, text)
	if err != nil {
		return "", err
	}
	return approved(d), nil
}

// approveDraft approves a draft, with text as its new version when the
// approver changed the words. Changed words are then the approver's: the
// signer accepts them before they are published, and when the approver is
// the signer, another approver reviews them.
func (s *Service) approveDraft(ctx context.Context, actor Actor, draftID int64, text string) (*Draft, error) {
	var d *Draft
	err := s.inTx(ctx, func(tx Tx) error {
		r, _, err := s.approvable(ctx, tx, actor, draftID)
		if err != nil {
			return err
		}
		d = r.d
		reviewer, err := s.ensureProfile(ctx, tx, actor)
		if err != nil {
			return err
		}
		if text != "" && text != d.Text() {
			if d.State != DraftPending || d.Kind == DraftRetraction {
				return Errorf(EINVALID, "These words cannot be changed now: approve the draft as it is, or reject it.")
			}
			before := d.Text()
			d.Versions = append(d.Versions, DraftVersion{N: len(d.Versions) + 1, Text: text, EditorID: reviewer.ID, At: s.Clock()})
			if err := s.audit(ctx, tx, actor.String(), "draft.edit", subject("draft", d.ID), map[string]any{"text": before}, map[string]any{"text": text}); err != nil {
				return err
			}
			if reviewer.ID == d.AuthorID && !r.rt.Policy.AllowSelfApproval {
				if _, err := s.saveDraft(ctx, tx, d); err != nil {
					return err
				}
				return s.syncItemStatus(ctx, tx, r.it)
			}
		}
		if err := s.approve(ctx, tx, r.it, d, reviewer, actor.String()); err != nil {
			return err
		}
		return s.syncItemStatus(ctx, tx, r.it)
	})
	return d, err
}

// approve records a review: approver (nil when the policy needs none)
// let the draft through. Words that are not the signer's own wait for the
// signer to accept them; everything else is published.
func (s *Service) approve(ctx context.Context, tx Tx, it *Item, d *Draft, approver *Profile, actor string) error {
	before := d.State
	approverID := int64(0)
	if approver != nil {
		approverID = approver.ID
	}
	next := DraftApproved
	if before == DraftPending && needsSigner(d, approverID) {
		next = DraftAwaitingSigner
	}
	if err := d.SetState(next); err != nil {
		return err
	}
	now := s.Clock()
	d.ApproverID, d.DecidedAt, d.UpdatedAt = approverID, &now, now
	if err := tx.UpdateDraft(ctx, d); err != nil {
		return err
	}
	if err := s.audit(ctx, tx, actor, "draft.approve", subject("draft", d.ID), map[string]any{"state": before}, map[string]any{"state": d.State, "version": len(d.Versions), "approver": d.ApproverID}); err != nil {
		return err
	}
	if next == DraftAwaitingSigner {
		if err := s.askSigner(ctx, tx, it, d); err != nil {
			return err
		}
		return s.updateDraftCard(ctx, tx, it, d)
	}
	return s.publish(ctx, tx, it, d, before)
}

// askSigner tells a draft's signer, privately, that words under their name
// wait for them.
func (s *Service) askSigner(ctx context.Context, tx Tx, it *Item, d *Draft) error {
	signer, err := tx.Profile(ctx, d.AuthorID)
	if err != nil {
		return err
	}
	id := identityOn(signer, it.CardConn)
	if id == "" {
		return nil
	}
	w, err := tx.Profile(ctx, writer(d))
	if err != nil {
		return err
	}
	what := fmt.Sprintf("%s changed the words of your draft #%d", staffName(w), d.ID)
	if d.Kind == DraftCorrection && proposer(d) == writer(d) {
		what = fmt.Sprintf("%s proposes a correction of your reply #%d (draft #%d)", staffName(w), d.Target, d.ID)
	}
	msg := fmt.Sprintf("%s. Nothing is published under your name until you accept it: see the draft in the item's thread, then %s or %s.",
		what, buttonLabel(ActAccept), buttonLabel(ActWithdraw))
	return s.notify(ctx, tx, it, id, msg)
}

func buttonLabel(id ActionID) string { a, _ := lookupAction(id); return a.label }

// acceptRun: the signer accepts words someone else wrote under their name,
// and they are published.
func (s *Service) acceptRun(ctx context.Context, req Request) (string, error) {
	err := s.inTx(ctx, func(tx Tx) error {
		d, err := tx.Draft(ctx, req.Target)
		if err != nil {
			return err
		}
		it, err := tx.Item(ctx, d.ItemID)
		if err != nil {
			return err
		}
		if req.Actor.Conn != it.CardConn {
			return ErrOtherWorkspace
		}
		p, err := profileOf(ctx, tx, req.Actor)
		if err != nil {
			return err
		}
		if p == nil || p.ID != d.AuthorID {
			return ErrNotSigner
		}
		if d.State != DraftAwaitingSigner {
			return &TransitionError{Entity: "draft", ID: d.ID, From: string(d.State), To: string(DraftApproved)}
		}
		if !p.Consented() {
			return ErrNoConsent
		}
		before := d.State
		if err := d.SetState(DraftApproved); err != nil {
			return err
		}
		d.UpdatedAt = s.Clock()
		if err := tx.UpdateDraft(ctx, d); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, req.Actor.String(), "draft.accept", subject("draft", d.ID), map[string]any{"state": before}, map[string]any{"state": d.State, "version": len(d.Versions)}); err != nil {
			return err
		}
		if err := s.publish(ctx, tx, it, d, before); err != nil {
			return err
		}
		return s.syncItemStatus(ctx, tx, it)
	})
	return fmt.Sprintf("Draft #%d is accepted: Liaison is publishing it under your name.", req.Target), err
}

// publish enqueues the publication of an approved draft and refreshes its
// card.
func (s *Service) publish(ctx context.Context, tx Tx, it *Item, d *Draft, before DraftState) error {
	now := s.Clock()
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
	return s.updateDraftCard(ctx, tx, it, d)
}

func (s *Service) rejectForm(ctx context.Context, req Request) (*Form, error) {
	err := s.Store.View(ctx, func(tx Tx) error {
		_, err := s.rejectable(ctx, tx, req.Actor, req.Target)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &Form{
		Action: ActReject, Target: req.Target, Title: draftFormTitle("Reject draft", req.Target), Submit: "Reject",
		Fields: []Field{{ID: FieldReasonID, Label: "Reason", Hint: "Sent to the author, privately.", Required: true, MaxLen: maxReasonChars, Multiline: true}},
	}, nil
}

// rejectRun rejects a pending draft; the reason is sent to its author.
func (s *Service) rejectRun(ctx context.Context, req Request) (string, error) {
	reason := req.value(FieldReasonID)
	if reason == "" {
		return "", fieldErrorf(FieldReasonID, "Please give the author a reason.")
	}
	if err := checkLen(FieldReasonID, "The reason", reason, maxReasonChars); err != nil {
		return "", err
	}
	err := s.inTx(ctx, func(tx Tx) error {
		r, err := s.rejectable(ctx, tx, req.Actor, req.Target)
		if err != nil {
			return err
		}
		reviewer, err := s.ensureProfile(ctx, tx, req.Actor)
		if err != nil {
			return err
		}
		author, err := tx.Profile(ctx, r.d.AuthorID)
		if err != nil {
			return err
		}
		d, it := r.d, r.it
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
			msg := fmt.Sprintf("Your draft #%d was not approved by %s: %s", d.ID, displayName(reviewer, req.Actor.Name), Sanitize(reason))
			if err := s.notify(ctx, tx, it, id, msg); err != nil {
				return err
			}
		}
		if err := s.audit(ctx, tx, req.Actor.String(), "draft.reject", subject("draft", d.ID), map[string]any{"state": DraftPending}, map[string]any{"state": d.State, "reason": reason}); err != nil {
			return err
		}
		return s.syncItemStatus(ctx, tx, it)
	})
	return fmt.Sprintf("Draft #%d is rejected; its author is told why.", req.Target), err
}

// withdrawRun lets a draft's signer, or whoever proposed it, take it back
// before it is published.
func (s *Service) withdrawRun(ctx context.Context, req Request) (string, error) {
	err := s.inTx(ctx, func(tx Tx) error {
		d, err := tx.Draft(ctx, req.Target)
		if err != nil {
			return err
		}
		p, err := profileOf(ctx, tx, req.Actor)
		if err != nil {
			return err
		}
		if p == nil || (p.ID != d.AuthorID && p.ID != proposer(d)) {
			return ErrNotAuthor
		}
		before := d.State
		if err := d.SetState(DraftWithdrawn); err != nil {
			return err
		}
		it, err := s.saveDraft(ctx, tx, d)
		if err != nil {
			return err
		}
		if err := s.audit(ctx, tx, req.Actor.String(), "draft.withdraw", subject("draft", d.ID), map[string]any{"state": before}, map[string]any{"state": d.State}); err != nil {
			return err
		}
		return s.syncItemStatus(ctx, tx, it)
	})
	return fmt.Sprintf("Draft #%d is withdrawn.", req.Target), err
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

// updateDraftCard enqueues the refresh of a draft's card, and of the Homes
// that show the draft.
func (s *Service) updateDraftCard(ctx context.Context, tx Tx, it *Item, d *Draft) error {
	if err := s.enqueue(ctx, tx, &OutboxJob{Kind: OpUpdateDraftCard, ItemID: it.ID, DraftID: d.ID, Conn: it.CardConn, Channel: it.CardChannel, CoalesceKey: fmt.Sprintf("draftcard:%d", d.ID)}); err != nil {
		return err
	}
	return s.draftHomes(ctx, tx, it, d)
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
		return Sanitize(p.Name)
	}
	if fallback = strings.TrimSpace(fallback); fallback != "" {
		return Sanitize(fallback)
	}
	return "an approver"
}
