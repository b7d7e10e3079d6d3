package bot

import (
	"context"
	"errors"
	"slices"
)

// Who may do what. A route names its approvers and, optionally, its
// responders; trust is given per route, by that route's approvers; every
// public word is seen by two people and accepted by its signer.
// docs/permissions.md says the same in a table, and permissions_test.go
// walks that table against the service.

// named reports whether actor is one of ids, by user id or by a group or
// role the platform says they hold.
func named(ids []string, actor Actor) bool {
	if actor.UserID == "" {
		return false
	}
	if slices.Contains(ids, actor.UserID) {
		return true
	}
	for _, g := range actor.Groups {
		if slices.Contains(ids, g) {
			return true
		}
	}
	return false
}

// IsApprover reports whether actor may approve drafts on rt: by user id or
// by a group/role the platform says they hold, on the route's own connection.
func IsApprover(rt *Route, actor Actor) bool {
	return actor.Conn == rt.DestConn && named(rt.Policy.Approvers, actor)
}

// IsResponder reports whether actor may act on rt's items: claim, tag,
// draft. A route that names no responders lets anyone who sees its cards
// act; one that does, only them and its approvers.
func IsResponder(rt *Route, actor Actor) bool {
	if actor.Conn != rt.DestConn || actor.UserID == "" {
		return false
	}
	return len(rt.Policy.Responders) == 0 || named(rt.Policy.Responders, actor) || IsApprover(rt, actor)
}

// workOn checks that actor may act on the item: from the workspace its
// card is in, and a responder of its route.
func (s *Service) workOn(it *Item, actor Actor) error {
	if actor.Conn != it.CardConn {
		return ErrOtherWorkspace
	}
	rt := s.Router.Route(it.Route)
	if rt == nil {
		// A route removed from the config: its approvers are gone too,
		// so nobody is named; the workspace decides.
		return nil
	}
	if !IsResponder(rt, actor) {
		return ErrNotResponder
	}
	return nil
}

// trusted reports whether a profile is trusted on route.
func trusted(ctx context.Context, tx Tx, profileID int64, route string) (bool, error) {
	routes, err := tx.TrustedRoutes(ctx, profileID)
	if err != nil {
		return false, err
	}
	return slices.Contains(routes, route), nil
}

// needsReview: whether the route's policy wants an approver for a draft
// whose words writer wrote.
func needsReview(ctx context.Context, tx Tx, rt *Route, writer int64) (bool, error) {
	switch {
	case rt == nil || rt.Policy.Mode == ApprovalRequired:
		return true, nil
	case rt.Policy.Mode == ApprovalNone:
		return false, nil
	}
	ok, err := trusted(ctx, tx, writer, rt.Name)
	return !ok, err
}

// writer is the profile that wrote the draft's current words.
func writer(d *Draft) int64 {
	if len(d.Versions) == 0 {
		return d.AuthorID
	}
	return d.Versions[len(d.Versions)-1].EditorID
}

// proposer is the profile that proposed the draft (for a correction of
// someone else's reply, not its signer).
func proposer(d *Draft) int64 {
	if len(d.Versions) == 0 {
		return d.AuthorID
	}
	return d.Versions[0].EditorID
}

// needsSigner reports whether a reviewed draft must still be accepted by
// its signer before it is published: its words are not the signer's own,
// and the signer did not approve them. A retraction publishes no words.
func needsSigner(d *Draft, approver int64) bool {
	return d.Kind != DraftRetraction && writer(d) != d.AuthorID && approver != d.AuthorID
}

// profileOf returns actor's profile, or nil when they have none.
func profileOf(ctx context.Context, tx Tx, actor Actor) (*Profile, error) {
	p, err := tx.ProfileByIdentity(ctx, actor.Conn, actor.UserID)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	return p, err
}

// approvedRoutes lists the routes actor approves.
func (s *Service) approvedRoutes(actor Actor) []Route {
	var out []Route
	for _, rt := range s.Router.Routes() {
		if IsApprover(&rt, actor) {
			out = append(out, rt)
		}
	}
	return out
}

// ErrStaffOnly refuses a menu command (Send to team, Member history) to
// someone who is not staff where they ran it.
var ErrStaffOnly = &Error{Code: EUNAUTHORIZED, Message: "Sorry, this is for the staff who answer the community through Liaison."}

// staffOn reports whether actor is staff on their connection: named, by
// user id or by a group or role they hold, as an approver or a responder of
// a route whose cards go to that connection; or linked by their profile to
// an identity on a connection where cards go. Only the config links a
// person's identities, so a community member who set up a profile of their
// own is not staff: that profile holds their one identity.
func (s *Service) staffOn(ctx context.Context, tx Tx, actor Actor) (bool, error) {
	cards := map[string]bool{}
	for _, rt := range s.Router.Routes() {
		cards[rt.DestConn] = true
		if rt.DestConn == actor.Conn && named(slices.Concat(rt.Policy.Approvers, rt.Policy.Responders), actor) {
			return true, nil
		}
	}
	p, err := profileOf(ctx, tx, actor)
	if err != nil || p == nil {
		return false, err
	}
	self := Identity{Conn: actor.Conn, UserID: actor.UserID}
	for _, id := range p.Identities {
		if id != self && cards[id.Conn] {
			return true, nil
		}
	}
	return false, nil
}
