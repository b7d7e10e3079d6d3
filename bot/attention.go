package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// attentionPage bounds the items looked at in one transaction.
const attentionPage = 100

// Attend reminds and escalates items waiting too long for a public answer:
// past its route's SLA an item gets a reminder in its thread;
// past twice the SLA the route's approvers are told privately, and a draft
// still awaiting approval is named. Each happens once per item, for every
// item waiting, however many: Attend pages through them by id, a page per
// transaction.
func (s *Service) Attend(ctx context.Context) error {
	minSLA := time.Duration(0)
	for _, rt := range s.Router.Routes() {
		if rt.Policy.SLA > 0 && (minSLA == 0 || rt.Policy.SLA < minSLA) {
			minSLA = rt.Policy.SLA
		}
	}
	if minSLA == 0 {
		return nil
	}
	now := s.Clock()
	var after int64
	for {
		var n int
		err := s.inTx(ctx, func(tx Tx) error {
			items, err := tx.UnansweredItems(ctx, now.Add(-minSLA), after, attentionPage)
			if err != nil {
				return err
			}
			n = len(items)
			for _, it := range items {
				after = it.ID
				if err := s.attend(ctx, tx, it, now); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil || n < attentionPage {
			return err
		}
	}
}

// attend reminds or escalates one waiting item, as its route's SLA says.
func (s *Service) attend(ctx context.Context, tx Tx, it *Item, now time.Time) error {
	rt := s.Router.Route(it.Route)
	if rt == nil || rt.Policy.SLA <= 0 || it.CardThread == "" {
		return nil
	}
	// Business time never exceeds wall time, so Attend's query, by wall
	// time, finds every item this may remind.
	waited := rt.Policy.Waited(it.CreatedAt, now)
	if waited >= rt.Policy.SLA {
		if err := s.remind(ctx, tx, it, rt, waited); err != nil {
			return err
		}
	}
	if waited >= 2*rt.Policy.SLA {
		return s.escalate(ctx, tx, it, rt, waited)
	}
	return nil
}

func (s *Service) remind(ctx context.Context, tx Tx, it *Item, rt *Route, waited time.Duration) error {
	first, err := tx.FirstNotice(ctx, fmt.Sprintf("sla:remind:item:%d", it.ID), s.Clock())
	if err != nil || !first {
		return err
	}
	text := fmt.Sprintf("⏰ This has waited %s for a public answer (the %s route's target is %s). Claim it, or draft a reply with the Reply publicly button.",
		rt.Policy.waitedText(waited), rt.Name, rt.Policy.waitedText(rt.Policy.SLA))
	return s.note(ctx, tx, it, text)
}

func (s *Service) escalate(ctx context.Context, tx Tx, it *Item, rt *Route, waited time.Duration) error {
	first, err := tx.FirstNotice(ctx, fmt.Sprintf("sla:escalate:item:%d", it.ID), s.Clock())
	if err != nil || !first {
		return err
	}
	var pending []string
	drafts, err := tx.DraftsByItem(ctx, it.ID)
	if err != nil {
		return err
	}
	for _, d := range drafts {
		if d.State == DraftPending {
			pending = append(pending, fmt.Sprintf("#%d", d.ID))
		}
	}
	what := "still has no public answer"
	if len(pending) > 0 {
		what = "has a draft awaiting your approval (" + strings.Join(pending, ", ") + ")"
	}
	text := fmt.Sprintf("Escalation: an item from %s has waited %s and %s: %s",
		MemberName(it.AuthorName, it.AuthorHandle), rt.Policy.waitedText(waited), what, it.CardLink)
	if err := s.note(ctx, tx, it, "Escalated to the approvers: "+what+"."); err != nil {
		return err
	}
	for _, id := range rt.Policy.Approvers {
		// Only people with a profile: a group or role id has none, and is
		// reached through the thread note.
		if _, err := tx.ProfileByIdentity(ctx, it.CardConn, id); errors.Is(err, ErrNotFound) {
			continue
		} else if err != nil {
			return err
		}
		if err := s.notify(ctx, tx, it, id, text); err != nil {
			return err
		}
	}
	return s.audit(ctx, tx, "system", "item.escalate", subject("item", it.ID), nil, map[string]any{"waited": waited.String(), "business_hours": rt.Policy.Hours != nil, "pending_drafts": pending})
}

// waitedText says a duration counted as Waited counts it.
func (p Policy) waitedText(d time.Duration) string {
	if p.Hours == nil {
		return roundDuration(d)
	}
	// Days of business time would read as working days: keep to hours.
	if d >= 2*time.Hour {
		return fmt.Sprintf("%d hours of business time", int(d.Hours()))
	}
	return d.Round(time.Minute).String() + " of business time"
}

func roundDuration(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%d days", int(d.Hours()/24))
	case d >= 2*time.Hour:
		return fmt.Sprintf("%d hours", int(d.Hours()))
	default:
		return d.Round(time.Minute).String()
	}
}
