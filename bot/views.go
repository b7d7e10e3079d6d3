package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// What cards, draft cards and notes say. Everything a person reads on
// either platform is worded here; adapters lay it out.

// historyLimit bounds the member's earlier items shown on a card.
const historyLimit = 5

var itemStatusLabels = map[ItemStatus]string{
	ItemNew:              "🆕 New",
	ItemClaimed:          "🙋 Claimed",
	ItemDrafting:         "✏️ Drafting",
	ItemAwaitingApproval: "⏳ Awaiting approval",
	ItemAnswered:         "✅ Answered",
	ItemClosed:           "📁 Closed",
	ItemIgnored:          "🙈 Ignored",
}

// Label is how cards show the status.
func (s ItemStatus) Label() string {
	if l, ok := itemStatusLabels[s]; ok {
		return l
	}
	return string(s)
}

// draftStateLabel is how a draft card shows where the draft stands.
func draftStateLabel(d *Draft, needsApproval, consent bool) string {
	switch d.State {
	case DraftPending:
		switch {
		case !consent:
			return "⏳ Waiting for the author's public profile"
		case needsApproval:
			return "⏳ Waiting for an approver"
		}
		return "⏳ Publishes without review"
	case DraftApproved:
		return "👍 Approved, publishing…"
	case DraftPublished:
		return "✅ Published"
	case DraftRejected:
		return "❌ Not approved"
	case DraftWithdrawn:
		return "↩️ Withdrawn by the author"
	case DraftFailed:
		return "⚠️ Could not be published: an approver can approve it again to retry"
	case DraftRetracted:
		return "🗑️ Retracted: the public post was removed"
	}
	return string(d.State)
}

var platformNames = map[string]string{KindSlack: "Slack", KindDiscord: "Discord"}

// MemberName is how staff see a community member: the name people know
// them by, with their username where it differs ("Carol (@carol)").
func MemberName(name, handle string) string {
	name, handle = strings.TrimSpace(Sanitize(name)), strings.TrimSpace(Sanitize(handle))
	switch {
	case name == "" && handle == "":
		return "Someone"
	case name == "":
		return "@" + handle
	case handle == "" || strings.EqualFold(name, handle):
		return name
	}
	return name + " (@" + handle + ")"
}

// card renders the internal view of an item from the current state. It
// only reads, and takes no row locks where the engine has them.
func (s *Service) card(ctx context.Context, tx Tx, it *Item) (*Card, error) {
	root, err := tx.MessageByKey(ctx, MessageKey{Conn: it.Conn, Channel: rootChannel(it), ID: it.RootMsgID})
	if err != nil {
		return nil, fmt.Errorf("card for item %d: %w", it.ID, err)
	}
	c := &Card{
		ItemID: it.ID, Status: it.Status, Source: s.sourceName(it), Platform: s.kindOf(it.Conn),
		AuthorName: MemberName(it.AuthorName, it.AuthorHandle), AuthorID: it.AuthorID, Link: it.Link,
		Route: it.Route, Tags: it.Tags, Edited: root.EditedAt != nil, Deleted: root.DeletedAt != nil,
		CreatedAt: it.CreatedAt, LinkLabel: "View original",
	}
	if root.ForgottenAt != nil {
		c.AuthorName = forgottenMember
	}
	if c.Text = s.erasedText(root); c.Text == "" {
		c.Text, c.Truncated = Truncate(Sanitize(root.Text), s.Settings.MaxRelayChars, it.Link)
		c.Attachments = sanitizeAttachments(root.Attachments)
	}
	c.Rename = root.ForgottenAt != nil || root.PurgedAt != nil
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
		c.ApprovedBy = ""
		if d.ApproverID != 0 && d.ApproverID != d.AuthorID {
			if a, err := tx.Profile(ctx, d.ApproverID); err == nil {
				c.ApprovedBy = staffName(a)
			}
		}
		c.PublicLink = d.PublicLink
	}
	if c.History, err = tx.MemberHistory(ctx, it.Conn, it.AuthorID, it.ID, historyLimit); err != nil {
		return nil, err
	}
	for i := range c.History {
		c.History[i].Snippet, _ = Truncate(Sanitize(c.History[i].Snippet), 80, "")
	}
	s.wordCard(c, it)
	return c, nil
}

// sourceName names where an item came from: its source, or its
// connection when no source watches its channel any more.
func (s *Service) sourceName(it *Item) string {
	if src, ok := s.Router.Source(it.Conn, it.Channel); ok {
		return src.Name
	}
	return it.Conn
}

// erasedText is what an item's first message shows in place of its words
// when they may not be shown (forgotten, deleted, purged); "" when they may.
func (s *Service) erasedText(root *Message) string {
	switch {
	case root.ForgottenAt != nil:
		return textForgotten
	case root.DeletedAt != nil && !s.Settings.KeepDeletedText:
		return "(the author deleted this message)"
	case root.PurgedAt != nil:
		return textPurged
	}
	return ""
}

// wordCard fills in how a card reads.
func (s *Service) wordCard(c *Card, it *Item) {
	c.Title = fmt.Sprintf("#%d · %s", c.ItemID, c.Source)
	c.Summary = fmt.Sprintf("%s in %s: %s", c.AuthorName, c.Source, firstLine(c.Text))
	c.ThreadName = fmt.Sprintf("#%d %s", c.ItemID, c.AuthorName)
	// Once the words are erased, the thread name quotes none of them.
	if words := strings.Join(strings.Fields(c.Text), " "); words != "" && !c.Rename {
		c.ThreadName += ": " + words
	}
	c.Footer = fmt.Sprintf("From %s · Liaison item #%d", firstOf(platformNames[c.Platform], c.Platform, "the community"), c.ItemID)
	c.Facts = append(c.Facts, Fact{Label: "Status", Value: c.Status.Label(), Inline: true})
	if c.Route != "" {
		c.Facts = append(c.Facts, Fact{Label: "Route", Value: c.Route, Inline: true})
	}
	if c.Assignee != "" {
		c.Facts = append(c.Facts, Fact{Label: "Claimed by", Value: c.Assignee, Inline: true})
	}
	if len(c.Tags) > 0 {
		c.Facts = append(c.Facts, Fact{Label: "Tags", Value: strings.Join(c.Tags, ", "), Inline: true})
	}
	if len(c.Attachments) > 0 {
		f := Fact{Label: "Attachments"}
		for _, a := range c.Attachments {
			f.Links = append(f.Links, Link{Text: "📎 " + a.Name, URL: a.URL})
		}
		c.Facts = append(c.Facts, f)
	}
	if len(c.History) > 0 {
		var lines []string
		for _, h := range c.History {
			line := fmt.Sprintf("#%d · %s · %s", h.ItemID, h.Status.Label(), h.At.UTC().Format("2 Jan 2006"))
			if h.Snippet != "" {
				line += " · “" + h.Snippet + "”"
			}
			lines = append(lines, line)
		}
		c.Facts = append(c.Facts, Fact{Label: "Earlier from this member", Value: strings.Join(lines, "\n")})
	}
	if c.AnsweredBy != "" {
		c.Facts = append(c.Facts, Fact{Label: "Answered publicly by", Value: c.AnsweredBy, Inline: true})
		if c.ApprovedBy != "" {
			c.Facts = append(c.Facts, Fact{Label: "Approved by", Value: c.ApprovedBy, Inline: true})
		}
		if c.PublicLink != "" {
			c.Facts = append(c.Facts, Fact{Label: "Public reply", Links: []Link{{Text: "View the public reply", URL: c.PublicLink}}, Inline: true})
		}
	}
	switch {
	case c.Deleted:
		c.Notes = append(c.Notes, "🗑️ Deleted by the author")
	case c.Edited:
		c.Notes = append(c.Notes, "✏️ Edited by the author")
	}
	if c.Truncated {
		c.Notes = append(c.Notes, "✂️ Truncated: the whole message is at the original")
	}
	c.Actions = itemButtons(it)
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}

func firstOf(vals ...string) string {
	for _, v := range vals {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
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

var draftTitles = map[DraftKind]string{
	DraftReply:      "Draft #%d · public reply (v%d)",
	DraftCorrection: "Correction #%d of the public reply (v%d)",
	DraftRetraction: "Retraction #%d of the public reply",
}

// draftTitle names a draft, on its card and on Homes.
func draftTitle(d *Draft) string {
	if d.Kind == DraftRetraction {
		return fmt.Sprintf(draftTitles[d.Kind], d.ID)
	}
	return fmt.Sprintf(draftTitles[d.Kind], d.ID, len(d.Versions))
}

// draftCard renders the internal view of a draft.
func (s *Service) draftCard(ctx context.Context, tx Tx, it *Item, d *Draft) (*DraftCard, error) {
	author, err := tx.Profile(ctx, d.AuthorID)
	if err != nil {
		return nil, err
	}
	review, err := needsReview(ctx, tx, s.Router.Route(it.Route), writer(d))
	if err != nil {
		return nil, err
	}
	dc := &DraftCard{
		DraftID: d.ID, ItemID: it.ID, Kind: d.Kind, State: d.State, AuthorName: staffName(author),
		MemberName: MemberName(it.AuthorName, it.AuthorHandle), CustomIdentity: s.customIdentity(it.Conn),
		Version: len(d.Versions), Consent: !waitsForConsent(d, author), Reason: Sanitize(d.RejectReason), PublicLink: d.PublicLink,
		NeedsApproval: review,
	}
	if d.ApproverID != 0 {
		if a, err := tx.Profile(ctx, d.ApproverID); err == nil {
			dc.ApproverName = staffName(a)
		}
	}
	if w := writer(d); w != d.AuthorID {
		if p, err := tx.Profile(ctx, w); err == nil {
			dc.WriterName = staffName(p)
		}
	}
	if dc.ChangesLabel, dc.Changes, err = s.changes(ctx, tx, d); err != nil {
		return nil, err
	}
	switch {
	case d.Kind == DraftRetraction:
		dc.Preview = PublicPost{Body: "(the public reply will be deleted)"}
		dc.PreviewText = dc.Preview.Body
	default:
		dc.Preview = Attribute(author, s.Settings.Company, d.Text(), it.AuthorID, it.Link)
		if !author.Consented() {
			dc.Preview.Username, dc.Preview.Byline = "(no public profile yet)", "(no public profile yet)"
			dc.Preview.Signature = "— " + dc.Preview.Byline
		}
		dc.PreviewText = dc.Preview.Reply
		if dc.Preview.Mention != "" {
			dc.PreviewText = "@" + firstOf(Sanitize(it.AuthorName), Sanitize(it.AuthorHandle), "member") + " " + dc.PreviewText
		}
		if !dc.CustomIdentity {
			dc.PreviewNote = "Posted by the app, not under the signer's name and avatar: the signature line says who wrote it."
		}
	}
	wordDraftCard(dc, d)
	return dc, nil
}

func wordDraftCard(dc *DraftCard, d *Draft) {
	dc.Title = draftTitle(d)
	state := draftStateLabel(d, dc.NeedsApproval, dc.Consent)
	if d.State == DraftAwaitingSigner {
		state = fmt.Sprintf("✍️ Waiting for %s to accept these words", dc.AuthorName)
	}
	dc.Summary = fmt.Sprintf("%s by %s: %s", dc.Title, dc.AuthorName, state)
	dc.Facts = append(dc.Facts,
		Fact{Label: "State", Value: state, Inline: true},
		Fact{Label: "Author", Value: dc.AuthorName, Inline: true})
	if dc.WriterName != "" {
		dc.Facts = append(dc.Facts, Fact{Label: "Words by", Value: dc.WriterName, Inline: true})
	}
	if dc.MemberName != "" {
		dc.Facts = append(dc.Facts, Fact{Label: "Answering", Value: dc.MemberName, Inline: true})
	}
	review := "An approver must approve it"
	if !dc.NeedsApproval {
		review = "Publishes without review"
	}
	dc.Facts = append(dc.Facts, Fact{Label: "Review", Value: review, Inline: true})
	if dc.ApproverName != "" {
		label := "Approved by"
		if d.State == DraftRejected {
			label = "Rejected by"
		}
		dc.Facts = append(dc.Facts, Fact{Label: label, Value: dc.ApproverName, Inline: true})
	}
	if dc.Reason != "" {
		dc.Facts = append(dc.Facts, Fact{Label: "Reason", Value: dc.Reason})
	}
	if dc.Changes != "" {
		dc.Facts = append(dc.Facts, Fact{Label: dc.ChangesLabel, Value: dc.Changes})
	}
	if dc.PublicLink != "" {
		dc.Facts = append(dc.Facts, Fact{Label: "Public post", Links: []Link{{Text: "View the public post", URL: dc.PublicLink}}, Inline: true})
	}
	if !dc.Consent && (d.State == DraftPending || d.State == DraftApproved) {
		dc.Notes = append(dc.Notes, fmt.Sprintf("⚠️ Waiting for %s to set up a public profile and agree to publish under it: `%s`", dc.AuthorName, usage(ActProfile)))
	}
	dc.Actions = draftButtons(d)
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
			ms, err := mergedMessages(ctx, tx, j, p)
			if err != nil {
				return nil, "", err
			}
			op.Note = s.followUpsNote(ms)
		}
	case OpUpdateNote:
		m, err := tx.MessageByID(ctx, j.MessageID)
		if err != nil {
			return nil, "", err
		}
		if m.MirrorID == "" {
			return nil, "the internal copy was never posted", nil
		}
		// The copy may carry other follow-ups posted with it.
		ms, err := tx.MessagesByMirror(ctx, j.ItemID, m.MirrorID)
		if err != nil {
			return nil, "", err
		}
		if len(ms) == 0 {
			ms = []*Message{m}
		}
		op.ThreadID, op.MessageID, op.Note = needThread(), m.MirrorID, s.followUpsNote(ms)
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
	case OpPostDigest: // its figures are read by renderDigest, outside this transaction
	case OpPublishHome:
		op.UserID = p.UserID
		op.Home, skip, err = s.homeOp(ctx, tx, j.Conn, p.UserID)
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
		post := Attribute(author, s.Settings.Company, d.Text(), it.AuthorID, it.Link)
		op.Post = &post
	}
	return nil
}

func (s *Service) followUpNote(m *Message) *Note {
	var b strings.Builder
	name := MemberName(m.AuthorName, m.AuthorHandle)
	if m.ForgottenAt != nil {
		name = forgottenMember
	}
	fmt.Fprintf(&b, "%s: ", name)
	switch {
	case m.ForgottenAt != nil:
		b.WriteString(textForgotten)
	case m.DeletedAt != nil && !s.Settings.KeepDeletedText:
		b.WriteString("(deleted this message)")
	case m.PurgedAt != nil:
		b.WriteString(textPurged)
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

// fallbackNote says why a published reply went out with a signature line.
func fallbackNote(author *Profile, res Result) string {
	why := "the public side cannot show a person's name and avatar"
	switch res.FallbackCause {
	case FallbackNoCustomize:
		why = "the Slack app is not allowed to post under a person's name and avatar (it lacks the chat:write.customize scope)"
	case FallbackNoManageWebhooks:
		why = fmt.Sprintf("Liaison lacks Manage Webhooks in #%s", Sanitize(res.FallbackWhere))
	case FallbackNoWebhookAccess:
		why = fmt.Sprintf("Liaison has no access to the webhooks of #%s", Sanitize(res.FallbackWhere))
	}
	return fmt.Sprintf("Posted by the bot with a signature line, not under %s's name and avatar: %s.", staffName(author), why)
}
