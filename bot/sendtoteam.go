package bot

import (
	"context"
	"errors"
	"fmt"
)

// Send to team: a staff member brings a community member's message in by
// hand, from a channel Liaison does not watch (or one no route matched),
// and picks the route whose team gets it. The item opens as intake opens
// one, deduplicated the same way; the member is not notified and nothing
// is posted on the public side.

var (
	// ErrNotCommunity refuses Send to team on a connection whose channels
	// Liaison never watches: an internal workspace.
	ErrNotCommunity = &Error{Code: EINVALID, Message: "Liaison brings in messages from the community's spaces only, and this workspace is not one of them."}
	// ErrNotMemberMessage refuses a message no community member wrote.
	ErrNotMemberMessage = &Error{Code: EINVALID, Message: "That message was posted by an app, a webhook or Liaison itself, not by a community member."}
	// ErrDirectMessage refuses a private conversation: it is nobody's to relay.
	ErrDirectMessage = &Error{Code: EINVALID, Message: "Liaison brings in messages from the community's channels only, not from direct messages."}
	// ErrMessageUnreadable: the platform did not give the message.
	ErrMessageUnreadable = &Error{Code: ENOTFOUND, Message: "Sorry, Liaison could not read that message: it may have been deleted, or Liaison may not be allowed to see its channel."}
	// ErrNoRoutes: the config names no route to send a message to.
	ErrNoRoutes = &Error{Code: ENOTFOUND, Message: "There is no route to send it to: the configuration names none."}
)

// sendToTeam answers Send to team: run on a message, the form that asks
// for the route, or what the message already is; its form submitted, the
// item it opened.
func (s *Service) sendToTeam(ctx context.Context, req Request) (Reply, error) {
	switch req.Kind {
	case FromMenu:
		return s.sendToTeamAsk(ctx, req)
	case Submit:
		return s.sendToTeamRun(ctx, req)
	}
	return Reply{}, ErrUnknownAction
}

// bringable checks that req's message is one a member wrote on a community
// connection, where the person acted.
func (s *Service) bringable(req Request) (Incoming, error) {
	in := req.Message
	switch {
	case in == nil:
		return Incoming{}, ErrMessageUnreadable
	case in.Conn != req.Actor.Conn || in.Channel == "" || in.ID == "":
		return Incoming{}, ErrUnknownAction // an adapter's mistake
	case !s.community(in.Conn):
		return Incoming{}, ErrNotCommunity
	case in.Direct:
		return Incoming{}, ErrDirectMessage
	case in.Bot || in.Webhook || in.Self || in.AuthorID == "":
		return Incoming{}, ErrNotMemberMessage
	}
	return *in, nil
}

// community reports whether Liaison watches channels on conn: a public
// connection, where members write.
func (s *Service) community(conn string) bool {
	for _, src := range s.Router.sources {
		if src.Conn == conn {
			return true
		}
	}
	return false
}

// sendToTeamAsk checks, changing nothing, and asks for the route.
func (s *Service) sendToTeamAsk(ctx context.Context, req Request) (Reply, error) {
	var (
		in       Incoming
		existing *Item
	)
	err := s.Store.View(ctx, func(tx Tx) error {
		if err := s.mustBeStaff(ctx, tx, req.Actor); err != nil {
			return err
		}
		var err error
		if in, err = s.bringable(req); err != nil {
			return err
		}
		existing, err = s.itemOfMessage(ctx, tx, in)
		return err
	})
	if err != nil {
		return Reply{}, err
	}
	if existing != nil {
		return alreadyIn(existing, in), nil
	}
	field, err := s.routeField()
	if err != nil {
		return Reply{}, err
	}
	who := firstOf(MemberName(in.AuthorName, in.AuthorHandle), "The member")
	return Reply{Form: &Form{
		Action: ActSendToTeam, Title: "Send to team", Submit: "Send",
		Intro:  fmt.Sprintf("Liaison opens an item from this message by %s, on the route you pick, and its team gets the card. %s is not notified.", who, who),
		Fields: []Field{field},
	}}, nil
}

// routeField is the choice of a route, the default one first picked.
func (s *Service) routeField() (Field, error) {
	f := Field{ID: FieldRouteID, Kind: FieldChoice, Label: "Route", Hint: "The team whose channel gets the card.", Required: true}
	for _, rt := range s.Router.Routes() {
		label := rt.Name
		if rt.Default {
			label += " (default)"
			if f.Initial == "" {
				f.Initial = rt.Name
			}
		}
		f.Options = append(f.Options, Option{Value: rt.Name, Label: label})
	}
	if len(f.Options) == 0 {
		return Field{}, ErrNoRoutes
	}
	return f, nil
}

// sendToTeamRun opens the item on the route picked, checking everything
// again: two staff members who bring the same message in make one item.
func (s *Service) sendToTeamRun(ctx context.Context, req Request) (Reply, error) {
	name := req.value(FieldRouteID)
	rt := s.Router.Route(name)
	switch {
	case name == "":
		return Reply{}, fieldErrorf(FieldRouteID, "Please pick the route whose team gets this message.")
	case rt == nil:
		return Reply{}, fieldErrorf(FieldRouteID, "There is no route %q any more: the configuration changed. Please pick another.", clipRunes(Sanitize(name), 40))
	}
	var (
		in     Incoming
		it     *Item
		opened bool
	)
	err := s.inTx(ctx, func(tx Tx) error {
		if err := s.mustBeStaff(ctx, tx, req.Actor); err != nil {
			return err
		}
		var err error
		if in, err = s.bringable(req); err != nil {
			return err
		}
		if it, opened, err = s.bringIn(ctx, tx, in, rt); err != nil || !opened {
			return err
		}
		return s.audit(ctx, tx, req.Actor.String(), "item.bring_in", subject("item", it.ID), nil,
			map[string]any{"route": rt.Name, "channel": in.Channel, "message": in.ID})
	})
	if errors.Is(err, errDuplicate) {
		// Taken in meanwhile, by another staff member or by intake.
		opened = false
		err = s.Store.View(ctx, func(tx Tx) (err error) {
			it, err = s.itemOfMessage(ctx, tx, in)
			if err == nil && it == nil {
				err = errDuplicate // gone again: cannot happen, items are kept
			}
			return err
		})
	}
	if err != nil {
		return Reply{}, err
	}
	if !opened {
		return alreadyIn(it, in), nil
	}
	s.Metrics.Intake(in.Conn, IntakeNew)
	s.Log.Info("message brought in", "conn", in.Conn, "channel", in.Channel, "message", in.ID, "item", it.ID, "route", rt.Name, "actor", req.Actor.String())
	who := firstOf(MemberName(in.AuthorName, in.AuthorHandle), "The member")
	text := fmt.Sprintf("Sent to the team: item #%d, on route %s. %s was not notified.", it.ID, rt.Name, who)
	if !s.Watches(in.Conn, it.Channel) {
		text += " Replies to the message are not followed: Liaison does not watch that channel."
	}
	return Reply{Text: text}, nil
}

// mustBeStaff refuses actor unless they are staff where they act.
func (s *Service) mustBeStaff(ctx context.Context, tx Tx, actor Actor) error {
	ok, err := s.staffOn(ctx, tx, actor)
	if err == nil && !ok {
		err = ErrStaffOnly
	}
	return err
}

// itemOfMessage is the item in belongs to, as intake would join it: the
// item of the stored message, or of the public thread it replies in; nil
// when there is none.
func (s *Service) itemOfMessage(ctx context.Context, tx Tx, in Incoming) (*Item, error) {
	m, err := tx.MessageByKey(ctx, MessageKey{Conn: in.Conn, Channel: in.Channel, ID: in.ID})
	switch {
	case err == nil && m.ItemID != 0:
		return tx.Item(ctx, m.ItemID)
	case err == nil:
		return nil, nil // stored, no item
	case !errors.Is(err, ErrNotFound):
		return nil, err
	}
	return s.parentItem(ctx, tx, in, cardChannel(in))
}

// alreadyIn answers that in belongs to it already, with a link to its card.
func alreadyIn(it *Item, in Incoming) Reply {
	text := fmt.Sprintf("This message is already item #%d, on route %s: nothing changed.", it.ID, it.Route)
	if it.RootMsgID != in.ID || rootChannel(it) != in.Channel {
		text = fmt.Sprintf("This message is already part of item #%d, on route %s, as a follow-up: nothing changed.", it.ID, it.Route)
	}
	r := Reply{Text: text}
	if it.CardLink != "" {
		r.Links = []Link{{Text: fmt.Sprintf("Item #%d's card", it.ID), URL: it.CardLink}}
	}
	return r
}
