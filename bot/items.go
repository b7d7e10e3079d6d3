package bot

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// Item actions: claiming, tagging, setting aside. Staff act on an item from
// the connection its card is on.

// ErrOtherWorkspace refuses an action on an item from another connection
// than the one its card is on.
var ErrOtherWorkspace = &Error{Code: EUNAUTHORIZED, Message: "Sorry, this item is handled from another workspace."}

func (s *Service) claim(ctx context.Context, req Request) (string, error) {
	err := s.itemAction(ctx, req, "item.claim", func(tx Tx, it *Item, p *Profile) error {
		switch it.Status {
		case ItemNew, ItemClaimed, ItemIgnored, ItemClosed:
			// Ignored and closed items refuse through the state machine.
			if err := it.SetStatus(ItemClaimed); err != nil {
				return err
			}
		}
		it.Assignee = p.ID
		return nil
	})
	return fmt.Sprintf("Item #%d is yours.", req.Target), err
}

// unclaim gives an item back to the queue. Its assignee may, and so may
// the route's approvers, who hand out the work.
func (s *Service) unclaim(ctx context.Context, req Request) (string, error) {
	err := s.itemAction(ctx, req, "item.unclaim", func(tx Tx, it *Item, p *Profile) error {
		if it.Assignee == 0 {
			return Errorf(ECONFLICT, "Item #%d is not claimed.", it.ID)
		}
		if it.Assignee != p.ID {
			rt := s.Router.Route(it.Route)
			if rt == nil || !IsApprover(rt, req.Actor) {
				return Errorf(EUNAUTHORIZED, "Sorry, only whoever claimed item #%d, or an approver of its route, can give it back.", it.ID)
			}
		}
		it.Assignee = 0
		if it.Status == ItemClaimed {
			return it.SetStatus(ItemNew)
		}
		return nil
	})
	return fmt.Sprintf("Item #%d is back in the queue.", req.Target), err
}

func (s *Service) tagForm(ctx context.Context, req Request) (*Form, error) {
	err := s.Store.View(ctx, func(tx Tx) error {
		it, err := tx.Item(ctx, req.Target)
		if err != nil {
			return err
		}
		return s.workOn(it, req.Actor)
	})
	if err != nil {
		return nil, err
	}
	return &Form{
		Action: ActTag, Target: req.Target, Title: itemFormTitle("Tag", req.Target), Submit: "Add tags",
		Fields: []Field{{ID: FieldTagsID, Label: "Tags", Hint: "Separate tags with commas.", Placeholder: "billing, export", Required: true, MaxLen: maxTagsChars}},
	}, nil
}

func (s *Service) tag(ctx context.Context, req Request) (string, error) {
	tags, err := parseTags(req.Values[FieldTagsID])
	if err != nil {
		return "", err
	}
	err = s.itemAction(ctx, req, "item.tag", func(tx Tx, it *Item, p *Profile) error {
		for _, t := range tags {
			if !slices.Contains(it.Tags, t) {
				it.Tags = append(it.Tags, t)
			}
		}
		return nil
	})
	return fmt.Sprintf("Item #%d is tagged %s.", req.Target, strings.Join(tags, ", ")), err
}

func (s *Service) ignore(ctx context.Context, req Request) (string, error) {
	err := s.itemAction(ctx, req, "item.ignore", func(tx Tx, it *Item, p *Profile) error {
		return it.SetStatus(ItemIgnored)
	})
	return fmt.Sprintf("Item #%d is set aside: it needs no public answer.", req.Target), err
}

// reopen brings an ignored or closed item back to the queue.
func (s *Service) reopen(ctx context.Context, req Request) (string, error) {
	err := s.itemAction(ctx, req, "item.reopen", func(tx Tx, it *Item, p *Profile) error {
		if it.Status != ItemIgnored && it.Status != ItemClosed {
			return Errorf(ECONFLICT, "Item #%d is already open.", it.ID)
		}
		if err := it.SetStatus(ItemNew); err != nil {
			return err
		}
		return s.syncItemStatus(ctx, tx, it)
	})
	return fmt.Sprintf("Item #%d is open again.", req.Target), err
}

// itemAction loads the item, checks the actor may act on it, applies change
// and records it: the item, its card's refresh and the audit, in one
// transaction.
func (s *Service) itemAction(ctx context.Context, req Request, action string, change func(Tx, *Item, *Profile) error) error {
	return s.inTx(ctx, func(tx Tx) error {
		it, err := tx.Item(ctx, req.Target)
		if err != nil {
			return err
		}
		if err := s.workOn(it, req.Actor); err != nil {
			return err
		}
		p, err := s.ensureProfile(ctx, tx, req.Actor)
		if err != nil {
			return err
		}
		before, assignee := itemSnapshot(it), it.Assignee
		if err := change(tx, it, p); err != nil {
			return err
		}
		it.UpdatedAt = s.Clock()
		if err := tx.UpdateItem(ctx, it); err != nil {
			return err
		}
		if err := s.updateCard(ctx, tx, it); err != nil {
			return err
		}
		if assignee != it.Assignee {
			// The item leaves the Home of whoever had it.
			if err := s.refreshHomes(ctx, tx, nil, assignee); err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, req.Actor.String(), action, subject("item", it.ID), before, itemSnapshot(it))
	})
}

func itemSnapshot(it *Item) map[string]any {
	return map[string]any{"status": it.Status, "tags": it.Tags, "assignee": it.Assignee}
}

// updateCard enqueues the refresh of an item's card, and of its assignee's
// Home, which lists it.
func (s *Service) updateCard(ctx context.Context, tx Tx, it *Item) error {
	if err := s.enqueue(ctx, tx, &OutboxJob{Kind: OpUpdateCard, ItemID: it.ID, Conn: it.CardConn, Channel: it.CardChannel, CoalesceKey: fmt.Sprintf("card:%d", it.ID)}); err != nil {
		return err
	}
	return s.refreshHomes(ctx, tx, nil, it.Assignee)
}
