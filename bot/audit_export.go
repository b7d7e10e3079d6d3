package bot

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// The audit trail of items, as an export reads it: who wrote each public
// message (never what a forgotten member wrote, nor their names), every
// draft with each of its versions, who reviewed it, what was published
// where and when, and the audit events of the item and its drafts. The
// members' own words stay out of it: the link to each message is there.

// AuditQuery selects the items of an export: one item (ItemID), or every
// item opened or changed at or after Since.
type AuditQuery struct {
	ItemID int64
	Since  time.Time
}

// ItemTrail is the audit trail of one item. JSON field names are stable.
type ItemTrail struct {
	ItemID   int64          `json:"item"`
	Conn     string         `json:"connection"`
	Channel  string         `json:"channel"`
	Route    string         `json:"route"`
	Status   ItemStatus     `json:"status"`
	Link     string         `json:"link"`
	OpenedAt time.Time      `json:"opened_at"`
	Messages []TrailMessage `json:"messages"`
	Drafts   []TrailDraft   `json:"drafts"`
	Events   []TrailEvent   `json:"events"`
}

// TrailMessage is who wrote one public message of an item, and when.
type TrailMessage struct {
	MessageID string    `json:"message_id"`
	At        time.Time `json:"at"`
	// Author is how staff know them ("Carol (@carol)"), or "forgotten
	// member": then AuthorID, AuthorName and AuthorHandle are empty.
	Author       string     `json:"author"`
	AuthorID     string     `json:"author_id"`
	AuthorName   string     `json:"author_name"`
	AuthorHandle string     `json:"author_handle"`
	Forgotten    bool       `json:"forgotten"`
	TextPurged   bool       `json:"text_purged"` // emptied after the retention period
	Link         string     `json:"link"`
	EditedAt     *time.Time `json:"edited_at"`
	DeletedAt    *time.Time `json:"deleted_at"`
}

// TrailDraft is one draft of an item: a reply, or a correction or
// retraction of the published draft Target.
type TrailDraft struct {
	DraftID  int64          `json:"draft"`
	Kind     DraftKind      `json:"kind"`
	Target   int64          `json:"target"`
	State    DraftState     `json:"state"`
	Signer   string         `json:"signer"`
	SignerID int64          `json:"signer_id"`
	Created  time.Time      `json:"created_at"`
	Versions []TrailVersion `json:"versions"`
	// Review: "approved", "self-approved", "no review needed", "rejected",
	// or "" while undecided.
	Review        string     `json:"review"`
	ApprovedBy    string     `json:"approved_by"`
	ApprovedAt    *time.Time `json:"approved_at"`
	RejectedBy    string     `json:"rejected_by"`
	RejectedAt    *time.Time `json:"rejected_at"`
	RejectReason  string     `json:"reject_reason"`
	PublishedAt   *time.Time `json:"published_at"`
	PublicConn    string     `json:"public_connection"`
	PublicChannel string     `json:"public_channel"`
	PublicLink    string     `json:"public_link"`
}

// TrailVersion is one text of a draft.
type TrailVersion struct {
	N        int       `json:"n"`
	At       time.Time `json:"at"`
	Editor   string    `json:"editor"`
	EditorID int64     `json:"editor_id"`
	Text     string    `json:"text"`
}

// TrailEvent is one audit event of the item or of one of its drafts.
type TrailEvent struct {
	At        time.Time `json:"at"`
	Actor     string    `json:"actor"`      // "internal:U123", "system"
	ActorName string    `json:"actor_name"` // their public profile's name, if any
	Action    string    `json:"action"`     // "draft.approve"
	Subject   string    `json:"subject"`    // "draft:12"
}

// forgottenAuthor is how an export names a forgotten member.
const forgottenAuthor = "forgotten member"

// auditPage bounds the items listed per transaction of an export.
const auditPage = 100

// AuditTrail reads the trails of the items q selects, in item order. It
// only reads, one item per transaction, so that a long export never holds
// the database for long. An item that does not exist matches ErrNotFound.
func (s *Service) AuditTrail(ctx context.Context, q AuditQuery) ([]ItemTrail, error) {
	if q.ItemID != 0 {
		var t *ItemTrail
		err := s.Store.View(ctx, func(tx Tx) error {
			msgs, err := tx.ItemMessages(ctx, q.ItemID, q.ItemID)
			if err != nil {
				return err
			}
			t, err = s.trail(ctx, tx, q.ItemID, msgs)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("audit trail of item %d: %w", q.ItemID, err)
		}
		return []ItemTrail{*t}, nil
	}
	var out []ItemTrail
	var after int64
	for {
		var ids []int64
		err := s.Store.View(ctx, func(tx Tx) (err error) {
			ids, err = tx.AuditItemIDs(ctx, q.Since, after, auditPage)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("audit trail: %w", err)
		}
		if len(ids) == 0 {
			return out, nil
		}
		// The page's messages in one read, then one item per transaction.
		var msgs []*Message
		err = s.Store.View(ctx, func(tx Tx) (err error) {
			msgs, err = tx.ItemMessages(ctx, ids[0], ids[len(ids)-1])
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("audit trail: %w", err)
		}
		byItem := map[int64][]*Message{}
		for _, m := range msgs {
			byItem[m.ItemID] = append(byItem[m.ItemID], m)
		}
		for _, id := range ids {
			var t *ItemTrail
			err := s.Store.View(ctx, func(tx Tx) (err error) {
				t, err = s.trail(ctx, tx, id, byItem[id])
				return err
			})
			if err != nil {
				return nil, fmt.Errorf("audit trail of item %d: %w", id, err)
			}
			out = append(out, *t)
		}
		if len(ids) < auditPage {
			return out, nil
		}
		after = ids[len(ids)-1]
	}
}

// trail reads the trail of item id, whose messages are msgs.
func (s *Service) trail(ctx context.Context, tx Tx, id int64, msgs []*Message) (*ItemTrail, error) {
	it, err := tx.Item(ctx, id)
	if err != nil {
		return nil, err
	}
	t := &ItemTrail{
		ItemID: it.ID, Conn: it.Conn, Channel: it.Channel, Route: it.Route, Status: it.Status, Link: it.Link,
		OpenedAt: it.CreatedAt, Messages: []TrailMessage{}, Drafts: []TrailDraft{}, Events: []TrailEvent{},
	}
	for _, m := range msgs {
		tm := TrailMessage{
			MessageID: m.Key.ID, At: m.CreatedAt, Link: m.Link, EditedAt: m.EditedAt, DeletedAt: m.DeletedAt,
			TextPurged: m.PurgedAt != nil,
		}
		if m.ForgottenAt != nil {
			tm.Author, tm.Forgotten = forgottenAuthor, true
		} else {
			tm.Author, tm.AuthorID, tm.AuthorName, tm.AuthorHandle = MemberName(m.AuthorName, m.AuthorHandle), m.AuthorID, m.AuthorName, m.AuthorHandle
		}
		t.Messages = append(t.Messages, tm)
	}
	names := staffNames{tx: tx, byID: map[int64]string{}, byIdentity: map[string]string{}}
	drafts, err := tx.DraftsByItem(ctx, id)
	if err != nil {
		return nil, err
	}
	subjects := []string{subject("item", id)}
	for _, d := range drafts {
		td, err := trailDraft(ctx, &names, d)
		if err != nil {
			return nil, err
		}
		t.Drafts = append(t.Drafts, td)
		subjects = append(subjects, subject("draft", d.ID))
	}
	var events []*AuditEvent
	for _, subj := range subjects {
		es, err := tx.AuditFor(ctx, subj)
		if err != nil {
			return nil, err
		}
		events = append(events, es...)
	}
	slices.SortStableFunc(events, func(a, b *AuditEvent) int {
		return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.ID, b.ID))
	})
	for _, e := range events {
		name, err := names.actor(ctx, e.Actor)
		if err != nil {
			return nil, err
		}
		t.Events = append(t.Events, TrailEvent{At: e.At, Actor: e.Actor, ActorName: name, Action: e.Action, Subject: e.Subject})
	}
	return t, nil
}

func trailDraft(ctx context.Context, names *staffNames, d *Draft) (TrailDraft, error) {
	td := TrailDraft{
		DraftID: d.ID, Kind: d.Kind, Target: d.Target, State: d.State, SignerID: d.AuthorID, Created: d.CreatedAt,
		Versions: []TrailVersion{}, PublishedAt: d.PublishedAt,
		PublicConn: d.PublicConn, PublicChannel: d.PublicChannel, PublicLink: d.PublicLink,
	}
	var err error
	if td.Signer, err = names.profile(ctx, d.AuthorID); err != nil {
		return td, err
	}
	for _, v := range d.Versions {
		editor, err := names.profile(ctx, v.EditorID)
		if err != nil {
			return td, err
		}
		td.Versions = append(td.Versions, TrailVersion{N: v.N, At: v.At, Editor: editor, EditorID: v.EditorID, Text: v.Text})
	}
	if d.DecidedAt == nil {
		return td, nil
	}
	reviewer := ""
	if d.ApproverID != 0 {
		if reviewer, err = names.profile(ctx, d.ApproverID); err != nil {
			return td, err
		}
	}
	switch {
	case d.State == DraftRejected:
		td.Review, td.RejectedBy, td.RejectedAt, td.RejectReason = "rejected", reviewer, d.DecidedAt, d.RejectReason
	case d.State == DraftPending || d.State == DraftWithdrawn:
		// Not reviewed (a withdrawn draft may have been, and sent back).
	case d.ApproverID == 0:
		td.Review, td.ApprovedAt = "no review needed", d.DecidedAt
	default:
		td.Review, td.ApprovedBy, td.ApprovedAt = "approved", reviewer, d.DecidedAt
		if d.ApproverID == d.AuthorID && writer(d) == d.AuthorID {
			td.Review = "self-approved"
		}
	}
	return td, nil
}

// staffNames looks up and remembers staff profiles' names.
type staffNames struct {
	tx         Tx
	byID       map[int64]string
	byIdentity map[string]string
}

// profile names a profile; "" for id 0.
func (n *staffNames) profile(ctx context.Context, id int64) (string, error) {
	if id == 0 {
		return "", nil
	}
	if name, ok := n.byID[id]; ok {
		return name, nil
	}
	p, err := n.tx.Profile(ctx, id)
	if err != nil {
		return "", err
	}
	name := p.Name
	if name == "" {
		name = fmt.Sprintf("staff member #%d", p.ID)
	}
	n.byID[id] = name
	return name, nil
}

// actor names an audit actor ("conn:user") by their profile; "" when it is
// no person's or they have none.
func (n *staffNames) actor(ctx context.Context, actor string) (string, error) {
	conn, user, ok := strings.Cut(actor, ":")
	if !ok {
		return "", nil
	}
	if name, ok := n.byIdentity[actor]; ok {
		return name, nil
	}
	p, err := n.tx.ProfileByIdentity(ctx, conn, user)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return "", err
	}
	name := ""
	if p != nil {
		name = p.Name
	}
	n.byIdentity[actor] = name
	return name, nil
}

// TrailEntry is one line of an item's timeline: a public message, a draft
// version, a review, a publication or an audit event. Exports that list
// one event a row (CSV) read these.
type TrailEntry struct {
	Item    int64
	At      time.Time
	Kind    string // "message", "version", "approval", "rejection", "publication", "event"
	Actor   string
	Draft   int64
	Version int
	Text    string // a draft version's text; never a member's
	Link    string
	Detail  string // what kind of draft; the review; the audit action and subject
}

// Timeline lists the item's trail as entries, in time order.
func (t ItemTrail) Timeline() []TrailEntry {
	var out []TrailEntry
	for _, m := range t.Messages {
		detail := ""
		switch {
		case m.Forgotten:
			detail = "erased at the member's request"
		case m.TextPurged:
			detail = "text removed after the retention period"
		}
		if m.DeletedAt != nil {
			detail = strings.TrimPrefix(detail+"; deleted by the author", "; ")
		}
		actor := m.Author
		if !m.Forgotten && m.AuthorID != "" {
			actor += " [" + m.AuthorID + "]"
		}
		out = append(out, TrailEntry{Item: t.ItemID, At: m.At, Kind: "message", Actor: actor, Link: m.Link, Detail: detail})
	}
	for _, d := range t.Drafts {
		what := DraftWhat(d.Kind, d.Target)
		for _, v := range d.Versions {
			out = append(out, TrailEntry{Item: t.ItemID, At: v.At, Kind: "version", Actor: v.Editor, Draft: d.DraftID, Version: v.N, Text: v.Text, Detail: what})
		}
		if d.ApprovedAt != nil {
			out = append(out, TrailEntry{Item: t.ItemID, At: *d.ApprovedAt, Kind: "approval", Actor: d.ApprovedBy, Draft: d.DraftID, Version: d.versionAt(*d.ApprovedAt), Detail: d.Review})
		}
		if d.RejectedAt != nil {
			out = append(out, TrailEntry{Item: t.ItemID, At: *d.RejectedAt, Kind: "rejection", Actor: d.RejectedBy, Draft: d.DraftID, Version: d.versionAt(*d.RejectedAt), Detail: d.RejectReason})
		}
		if d.PublishedAt != nil {
			out = append(out, TrailEntry{Item: t.ItemID, At: *d.PublishedAt, Kind: "publication", Actor: d.Signer, Draft: d.DraftID, Version: d.versionAt(*d.PublishedAt), Link: d.PublicLink, Detail: what})
		}
	}
	for _, e := range t.Events {
		actor := e.Actor
		if e.ActorName != "" {
			actor += " (" + e.ActorName + ")"
		}
		out = append(out, TrailEntry{Item: t.ItemID, At: e.At, Kind: "event", Actor: actor, Detail: e.Action + " " + e.Subject})
	}
	slices.SortStableFunc(out, func(a, b TrailEntry) int { return a.At.Compare(b.At) })
	return out
}

// versionAt is the draft's version current at t: the one a review or a
// publication at t saw (a published correction adds a later version to the
// reply it corrects).
func (d TrailDraft) versionAt(t time.Time) int {
	n := 0
	for _, v := range d.Versions {
		if !v.At.After(t) {
			n = v.N
		}
	}
	return n
}

// DraftWhat says what a draft is: "reply", "correction of draft 3",
// "retraction of draft 3".
func DraftWhat(kind DraftKind, target int64) string {
	if kind == DraftReply || target == 0 {
		return string(kind)
	}
	return fmt.Sprintf("%s of draft %d", kind, target)
}
