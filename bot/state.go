package bot

import "slices"

var itemTransitions = map[ItemStatus][]ItemStatus{
	ItemNew:              {ItemClaimed, ItemDrafting, ItemAwaitingApproval, ItemAnswered, ItemIgnored, ItemClosed},
	ItemClaimed:          {ItemNew, ItemClaimed, ItemDrafting, ItemAwaitingApproval, ItemAnswered, ItemIgnored, ItemClosed},
	ItemDrafting:         {ItemNew, ItemClaimed, ItemDrafting, ItemAwaitingApproval, ItemAnswered, ItemClosed},
	ItemAwaitingApproval: {ItemNew, ItemClaimed, ItemDrafting, ItemAwaitingApproval, ItemAnswered, ItemClosed},
	ItemAnswered:         {ItemNew, ItemClaimed, ItemDrafting, ItemAwaitingApproval, ItemAnswered, ItemClosed},
	ItemClosed:           {ItemNew},
	ItemIgnored:          {ItemNew, ItemClosed},
}

var draftTransitions = map[DraftState][]DraftState{
	DraftPending:        {DraftApproved, DraftAwaitingSigner, DraftRejected, DraftWithdrawn},
	DraftAwaitingSigner: {DraftApproved, DraftRejected, DraftWithdrawn},
	DraftApproved:       {DraftPublished, DraftFailed},
	DraftFailed:         {DraftApproved, DraftWithdrawn},
	DraftPublished:      {DraftRetracted},
}

// canMove reports whether the state machine lets an item go from one status to another.
func canMove(from, to ItemStatus) bool { return slices.Contains(itemTransitions[from], to) }

// SetStatus moves it to status, or returns a *TransitionError and changes nothing.
func (it *Item) SetStatus(status ItemStatus) error {
	if !canMove(it.Status, status) {
		return &TransitionError{Entity: "item", ID: it.ID, From: string(it.Status), To: string(status)}
	}
	it.Status = status
	return nil
}

// SetState moves d to state, or returns a *TransitionError and changes nothing.
func (d *Draft) SetState(state DraftState) error {
	if !slices.Contains(draftTransitions[d.State], state) {
		if d.State == DraftPublished && state == DraftApproved {
			return ErrAlreadyPublished
		}
		return &TransitionError{Entity: "draft", ID: d.ID, From: string(d.State), To: string(state)}
	}
	d.State = state
	return nil
}
