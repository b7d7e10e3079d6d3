package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Member history: a community member's earlier items where the menu was
// run, and how each was answered, shown privately to a staff member.

// memberHistoryLimit bounds the items listed, newest first: with their
// links they fit one Discord message (2,000 characters).
const memberHistoryLimit = 8

// memberSnippetChars bounds the quote of each item's first message.
const memberSnippetChars = 60

// ErrNoMember: the menu named nobody Liaison can look up.
var ErrNoMember = &Error{Code: EINVALID, Message: "Sorry, Liaison could not tell which member you mean."}

// memberHistory answers Member history, run on a person or on one of their
// messages (whose author it is about), with the text and links to show.
func (s *Service) memberHistory(ctx context.Context, req Request) (Reply, error) {
	if req.Kind != FromMenu {
		return Reply{}, ErrUnknownAction
	}
	var reply Reply
	err := s.Store.View(ctx, func(tx Tx) error {
		if err := s.mustBeStaff(ctx, tx, req.Actor); err != nil {
			return err
		}
		member, name, err := historyMember(req)
		if err != nil {
			return err
		}
		conn := req.Actor.Conn
		items, err := tx.MemberItems(ctx, conn, member)
		if err != nil {
			return err
		}
		forgotten, err := tx.MemberForgotten(ctx, conn, member)
		if err != nil {
			return err
		}
		reply, err = s.historyReply(ctx, tx, member, name, items, forgotten)
		return err
	})
	return reply, err
}

// historyMember is whom req is about: the author of the message it was run
// on, with the name the platform gave, or the person it was run on.
func historyMember(req Request) (id, name string, err error) {
	if m := req.Message; m != nil {
		if m.Bot || m.Webhook || m.Self || m.AuthorID == "" {
			return "", "", ErrNotMemberMessage
		}
		return m.AuthorID, MemberName(m.AuthorName, m.AuthorHandle), nil
	}
	if req.User == "" {
		return "", "", ErrNoMember
	}
	return req.User, "", nil
}

// historyReply words a member's items (in id order), newest first, within
// memberHistoryLimit.
func (s *Service) historyReply(ctx context.Context, tx Tx, member, name string, items []*Item, forgotten *time.Time) (Reply, error) {
	who := ""
	for i := len(items) - 1; i >= 0 && who == ""; i-- {
		if items[i].AuthorName != "" || items[i].AuthorHandle != "" {
			who = MemberName(items[i].AuthorName, items[i].AuthorHandle)
		}
	}
	switch {
	case who != "":
	case name != "" && name != MemberName("", ""):
		who = name
	case forgotten != nil:
		who = forgottenMember
	default:
		who = Mention(member) // shown as their name, and pings nobody in a private answer
	}
	var lines []string
	if len(items) == 0 {
		lines = append(lines, fmt.Sprintf("Liaison holds no earlier item from %s here.", who))
	} else {
		lines = append(lines, fmt.Sprintf("%s: %s here, newest first.", who, quantity(len(items), "item", "items")))
	}
	if forgotten != nil {
		lines = append(lines, fmt.Sprintf("Forgotten at their request on %s: what they wrote before then, and their name, were erased.", forgotten.UTC().Format("2 Jan 2006")))
	}
	var links []Link
	newest := slices.Clone(items)
	slices.Reverse(newest)
	for _, it := range newest[:min(len(newest), memberHistoryLimit)] {
		line, link, err := s.historyLine(ctx, tx, it)
		if err != nil {
			return Reply{}, err
		}
		lines = append(lines, line)
		if link != nil {
			links = append(links, *link)
		}
	}
	if n := len(items) - memberHistoryLimit; n > 0 {
		lines = append(lines, fmt.Sprintf("…and %d more.", n))
	}
	return Reply{Text: strings.Join(lines, "\n"), Links: links}, nil
}

// historyLine is one item: its number, when it was opened, where it stands,
// who answered it publicly and the start of its question, with the link to
// the public answer.
func (s *Service) historyLine(ctx context.Context, tx Tx, it *Item) (string, *Link, error) {
	line := fmt.Sprintf("#%d · %s · %s", it.ID, it.CreatedAt.UTC().Format("2 Jan 2006"), it.Status.Label())
	drafts, err := tx.DraftsByItem(ctx, it.ID)
	if err != nil {
		return "", nil, err
	}
	var answer *Draft
	for _, d := range drafts {
		if d.Kind == DraftReply && d.State == DraftPublished {
			answer = d // the latest counts, as on the card
		}
	}
	var link *Link
	if answer != nil {
		p, err := tx.Profile(ctx, answer.AuthorID)
		if err != nil {
			return "", nil, err
		}
		line += " · answered by " + staffName(p)
		if answer.PublicLink != "" {
			link = &Link{Text: fmt.Sprintf("#%d: the public answer", it.ID), URL: answer.PublicLink}
		}
	}
	root, err := tx.MessageByKey(ctx, MessageKey{Conn: it.Conn, Channel: rootChannel(it), ID: it.RootMsgID})
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		return "", nil, err
	case root.ForgottenAt == nil && root.PurgedAt == nil:
		// Erased text is shown as nothing: the member asked for it.
		if snippet := snippet(root.Text, memberSnippetChars); snippet != "" {
			line += " · “" + snippet + "”"
		}
	}
	return line, link, nil
}
