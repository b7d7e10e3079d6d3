package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// historyLimit bounds the member's earlier items shown on a card.
const historyLimit = 5

// card renders the internal view of an item from the current state.
func (s *Service) card(ctx context.Context, tx Tx, it *Item) (*Card, error) {
	root, err := tx.MessageByKey(ctx, MessageKey{Conn: it.Conn, Channel: rootChannel(it), ID: it.RootMsgID})
	if err != nil {
		return nil, fmt.Errorf("card for item %d: %w", it.ID, err)
	}
	c := &Card{
		ItemID: it.ID, Status: it.Status, Source: it.Conn, Platform: s.kindOf(it.Conn),
		AuthorName: Sanitize(it.AuthorName), AuthorID: it.AuthorID, Link: it.Link,
		Route: it.Route, Tags: it.Tags, Edited: root.EditedAt != nil, Deleted: root.DeletedAt != nil,
		CreatedAt: it.CreatedAt,
	}
	if src, ok := s.Router.Source(it.Conn, it.Channel); ok {
		c.Source = src.Name
	}
	switch {
	case c.Deleted && !s.Settings.KeepDeletedText:
		c.Text = "(the author deleted this message)"
	default:
		c.Text, c.Truncated = Truncate(Sanitize(root.Text), s.Settings.MaxRelayChars, it.Link)
		c.Attachments = sanitizeAttachments(root.Attachments)
	}
	if it.Assignee != 0 {
		p, err := tx.Profile(ctx, it.Assignee)
		if err != nil {
			return nil, err
		}
		c.Assignee = staffName(p)
	}
	drafts, err := tx.DraftsByItem(ctx, it.ID)
	if err != nil {
		return nil, err
	}
	for _, d := range drafts {
		if d.Kind != DraftReply || d.State != DraftPublished {
			continue
		}
		if a, err := tx.Profile(ctx, d.AuthorID); err == nil {
			c.AnsweredBy = staffName(a)
		}
		if d.ApproverID != 0 && d.ApproverID != d.AuthorID {
			if a, err := tx.Profile(ctx, d.ApproverID); err == nil {
				c.ApprovedBy = staffName(a)
			}
		}
		c.PublicLink = d.PublicLink
	}
	earlier, err := tx.ItemsByAuthor(ctx, it.Conn, it.AuthorID, historyLimit+20)
	if err != nil {
		return nil, err
	}
	for _, e := range earlier {
		if e.ID >= it.ID || len(c.History) == historyLimit {
			continue // only what came before this item
		}
		h := HistoryEntry{ItemID: e.ID, Status: e.Status, At: e.CreatedAt}
		if m, err := tx.MessageByKey(ctx, MessageKey{Conn: e.Conn, Channel: rootChannel(e), ID: e.RootMsgID}); err == nil {
			h.Snippet, _ = Truncate(Sanitize(m.Text), 80, "")
		}
		c.History = append(c.History, h)
	}
	return c, nil
}

// rootChannel is the channel the item's first message was posted in.
func rootChannel(it *Item) string {
	if it.RootChannel != "" {
		return it.RootChannel
	}
	return it.Channel
}

func sanitizeAttachments(in []Attachment) []Attachment {
	out := make([]Attachment, 0, len(in))
	for _, a := range in {
		out = append(out, Attachment{Name: Sanitize(a.Name), URL: a.URL})
	}
	return out
}

// staffName is how internal posts name a staff member: never a mention,
// which would ping them.
func staffName(p *Profile) string {
	if p.Name != "" {
		return Sanitize(p.Name)
	}
	return fmt.Sprintf("staff member #%d", p.ID)
}

// draftCard renders the internal view of a draft.
func (s *Service) draftCard(ctx context.Context, tx Tx, it *Item, d *Draft) (*DraftCard, error) {
	author, err := tx.Profile(ctx, d.AuthorID)
	if err != nil {
		return nil, err
	}
	dc := &DraftCard{
		DraftID: d.ID, ItemID: it.ID, Kind: d.Kind, State: d.State, AuthorName: staffName(author),
		MemberName: Sanitize(it.AuthorName), CustomIdentity: s.customIdentity(it.Conn),
		Version: len(d.Versions), Consent: author.Consented(), Reason: Sanitize(d.RejectReason), PublicLink: d.PublicLink,
	}
	if rt := s.Router.Route(it.Route); rt != nil {
		dc.NeedsApproval = rt.Policy.Mode == ApprovalRequired || (rt.Policy.Mode == ApprovalTrustedAuto && !author.Trusted)
	}
	if d.ApproverID != 0 {
		if a, err := tx.Profile(ctx, d.ApproverID); err == nil {
			dc.ApproverName = staffName(a)
		}
	}
	if d.Kind == DraftRetraction {
		dc.Preview = PublicPost{Body: "(the public reply will be deleted)"}
		return dc, nil
	}
	dc.Preview = Attribute(author, s.Settings.Company, s.kindOf(it.Conn), d.Text(), it.AuthorID, it.Link)
	if !author.Consented() {
		dc.Preview.Username, dc.Preview.Signature = "(no public profile yet)", "— (no public profile yet)"
	}
	return dc, nil
}

// customIdentity: whether the public connection posts under a person's name.
func (s *Service) customIdentity(conn string) bool {
	p, ok := s.Platforms[conn]
	return ok && p.Capabilities().CustomIdentity
}

// buildOp renders a job into a platform operation from the current state.
// skip reports that nothing needs doing (the target is gone or not there yet).
func (s *Service) buildOp(ctx context.Context, tx Tx, j *OutboxJob) (op *Op, skip string, err error) {
	op = &Op{Kind: j.Kind, Key: fmt.Sprintf("liaison-job-%d", j.ID), Conn: j.Conn, Channel: j.Channel}
	var p notePayloadJSON
	if j.Payload != "" {
		if err := json.Unmarshal([]byte(j.Payload), &p); err != nil {
			return nil, "", fmt.Errorf("job %d payload: %w", j.ID, err)
		}
	}
	var it *Item
	if j.ItemID != 0 {
		if it, err = tx.Item(ctx, j.ItemID); err != nil {
			return nil, "", err
		}
		op.After = it.CreatedAt
	}
	needThread := func() string {
		if it == nil || it.CardThread == "" {
			skip = "the item has no internal thread (its card was never posted)"
			return ""
		}
		op.Channel = it.CardChannel
		return it.CardThread
	}
	switch j.Kind {
	case OpPostCard, OpUpdateCard:
		if j.Kind == OpUpdateCard {
			if it.CardID == "" {
				return nil, "the card was never posted", nil
			}
			op.MessageID = it.CardID
		}
		op.Channel = it.CardChannel
		op.Card, err = s.card(ctx, tx, it)
	case OpPostNote:
		if it != nil {
			op.ThreadID = needThread()
		}
		op.Note = &Note{Text: p.Text}
		if j.MessageID != 0 {
			m, err := tx.MessageByID(ctx, j.MessageID)
			if err != nil {
				return nil, "", err
			}
			op.Note = s.followUpNote(m)
		}
	case OpUpdateNote:
		m, err := tx.MessageByID(ctx, j.MessageID)
		if err != nil {
			return nil, "", err
		}
		if m.MirrorID == "" {
			return nil, "the internal copy was never posted", nil
		}
		op.ThreadID, op.MessageID, op.Note = needThread(), m.MirrorID, s.followUpNote(m)
	case OpPostDraftCard, OpUpdateDraftCard:
		d, err := tx.Draft(ctx, j.DraftID)
		if err != nil {
			return nil, "", err
		}
		if j.Kind == OpUpdateDraftCard {
			if d.CardID == "" {
				return nil, "the draft card was never posted", nil
			}
			op.MessageID = d.CardID
		}
		op.ThreadID = needThread()
		op.DraftCard, err = s.draftCard(ctx, tx, it, d)
		if err != nil {
			return nil, "", err
		}
	case OpPublish, OpEditPublic, OpDeletePublic:
		err = s.publicOp(ctx, tx, j, it, op)
	case OpNotify:
		op.UserID, op.Note = p.UserID, &Note{Text: p.Text}
		if it != nil {
			op.ThreadID = it.CardThread // where a refused private notice may go instead
		}
	default:
		return nil, "", fmt.Errorf("job %d: unknown kind %q", j.ID, j.Kind)
	}
	if err != nil {
		return nil, "", err
	}
	return op, skip, nil
}

func (s *Service) publicOp(ctx context.Context, tx Tx, j *OutboxJob, it *Item, op *Op) error {
	d, err := tx.Draft(ctx, j.DraftID)
	if err != nil {
		return err
	}
	if d.State != DraftApproved {
		return Permanent(fmt.Errorf("draft %d is %s, not approved", d.ID, d.State))
	}
	author, err := tx.Profile(ctx, d.AuthorID)
	if err != nil {
		return err
	}
	if !author.Consented() {
		return Permanent(errors.New("the author withdrew their consent"))
	}
	op.Channel, op.ReplyTo = it.Channel, it.RootMsgID
	if s.kindOf(it.Conn) == KindDiscord {
		op.ThreadID = it.ThreadChannel
	} else {
		op.ThreadID = it.ThreadID
	}
	if d.Kind != DraftReply {
		t, err := tx.Draft(ctx, d.Target)
		if err != nil {
			return err
		}
		op.MessageID = t.PublicID
	}
	if d.Kind != DraftRetraction {
		post := Attribute(author, s.Settings.Company, s.kindOf(it.Conn), d.Text(), it.AuthorID, it.Link)
		op.Post = &post
	}
	return nil
}

func (s *Service) followUpNote(m *Message) *Note {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: ", Sanitize(m.AuthorName))
	switch {
	case m.DeletedAt != nil && !s.Settings.KeepDeletedText:
		b.WriteString("(deleted this message)")
	default:
		text, _ := Truncate(Sanitize(m.Text), s.Settings.MaxRelayChars, m.Link)
		b.WriteString(text)
		for _, a := range m.Attachments {
			fmt.Fprintf(&b, "\n📎 %s %s", Sanitize(a.Name), a.URL)
		}
		if m.DeletedAt != nil {
			b.WriteString("\n(deleted by the author)")
		} else if m.EditedAt != nil {
			b.WriteString(" (edited)")
		}
	}
	if m.Link != "" {
		b.WriteString("\n" + m.Link)
	}
	return &Note{Text: b.String()}
}
