package bot

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ActionID names something a person can do: a button on a card or a draft
// card, the form it opens, or a /liaison subcommand. Adapters put it on the
// wire as it is (a Slack action_id, a Discord custom_id) and hand it back in
// a Request; it never says who may act.
type ActionID string

const (
	ActReply       ActionID = "reply"        // item: opens the reply form
	ActClaim       ActionID = "claim"        // item
	ActUnclaim     ActionID = "unclaim"      // item: back to the queue
	ActTag         ActionID = "tag"          // item: opens the tag form
	ActIgnore      ActionID = "ignore"       // item
	ActReopen      ActionID = "reopen"       // item: undoes Ignore
	ActApprove     ActionID = "approve"      // draft
	ActEditApprove ActionID = "edit_approve" // draft: opens the edit form
	ActReject      ActionID = "reject"       // draft: opens the reason form
	ActWithdraw    ActionID = "withdraw"     // draft, by its signer or proposer
	ActAccept      ActionID = "accept"       // draft, by its signer: publish words someone else wrote
	ActCorrect     ActionID = "correct"      // published reply: opens the correction form
	ActRetract     ActionID = "retract"      // published reply, after a confirmation
	ActProfile     ActionID = "profile"      // command: opens the public-profile form
	ActHelp        ActionID = "help"         // command
	ActPromote     ActionID = "promote"      // command, with a user
	ActDemote      ActionID = "demote"       // command, with a user
	ActStats       ActionID = "stats"        // command, with a period and a route
	ActForget      ActionID = "forget"       // command, with a member
)

// Style is how a button stands out; adapters map it to their platform's.
type Style string

const (
	StyleDefault Style = ""
	StylePrimary Style = "primary"
	StyleDanger  Style = "danger"
)

// Button is an action offered on a card or a draft card.
type Button struct {
	Action  ActionID
	Target  int64 // the item or draft it acts on
	Label   string
	Style   Style
	Confirm *Confirm // ask before acting, where the platform can
}

// Confirm is the question asked before an action that is hard to undo.
type Confirm struct {
	Title  string
	Text   string
	OK     string
	Cancel string
}

// RequestKind says what a person did.
type RequestKind int

const (
	// Click: a button. An action with a form answers with the form.
	Click RequestKind = iota
	// Submit: a form, with its values.
	Submit
	// Command: a /liaison subcommand, with its arguments.
	Command
	// FromMenu: a command from a platform's menus (see Menus), run on a
	// message (Request.Message) or on a person (Request.User).
	FromMenu
)

// Request is what a person did, as an adapter translated it from its
// platform. The Actor is the platform's identity of that person, never a
// value the payload carried.
type Request struct {
	Kind   RequestKind
	Actor  Actor
	Action ActionID
	// Target is the item or draft a button or form is about (0 for
	// commands, and for the profile form).
	Target int64
	// Values are a submitted form's values, by field id. A check field
	// holds its Keyword when ticked (or what was typed where the platform
	// has no check box).
	Values map[string]string
	// Confirmed: the person already answered the action's Confirm (Slack
	// asks on the button itself; elsewhere the domain asks first).
	Confirmed bool
	// Args are a command's arguments, by CommandArg name, as typed (a
	// user argument: the user id); an argument not given is absent.
	Args map[string]string
	// User is a command's user argument (promote, demote), Args[UserArgName]
	// unless set; empty when the person named nobody the platform
	// recognised.
	User string
	// Channel is where the person acted (the channel a command was typed
	// in); "" when the platform did not say.
	Channel string
	// Message is the message a menu command was run on, and its form
	// submitted about, as the platform's own payload (or a read of it)
	// gives it: never what the person typed. nil when the platform could
	// not give it (the message is gone, or Liaison cannot read its channel).
	Message *Incoming
}

// storable cleans what a person typed or the platform said as intake
// does, so that forms store alike on both engines.
func (r Request) storable() Request {
	if len(r.Values) > 0 {
		v := make(map[string]string, len(r.Values))
		for k, x := range r.Values {
			v[storable(k)] = storable(x)
		}
		r.Values = v
	}
	if len(r.Args) > 0 {
		a := make(map[string]string, len(r.Args))
		for k, x := range r.Args {
			a[storable(k)] = storable(x)
		}
		r.Args = a
	}
	if r.User == "" {
		r.User = r.Args[UserArgName]
	}
	r.User, r.Channel = storable(r.User), storable(r.Channel)
	if r.Message != nil {
		m := r.Message.storable()
		r.Message = &m
	}
	a := &r.Actor
	a.Conn, a.UserID, a.Name = storable(a.Conn), storable(a.UserID), storable(a.Name)
	a.Title, a.AvatarURL = storable(a.Title), storable(a.AvatarURL)
	return r
}

// Reply is what to show the person, privately: a form to fill, a question
// to confirm, or a text (a confirmation, a refusal, the help).
type Reply struct {
	Form    *Form
	Confirm *Confirm
	Text    string
	// Links follow the text, one a line; adapters render each as their
	// platform shows a link.
	Links []Link
	// Refused: nothing was done; Text says why.
	Refused bool
	// Field is the form field a refused submission is about; "" for the
	// form as a whole.
	Field string
	// Err is the error behind a refusal. Adapters log it when its code is
	// EINTERNAL; Text then says only "Internal error.".
	Err error
}

func done(text string) Reply { return Reply{Text: text} }

func refuse(err error) Reply {
	var fe *Error
	field := ""
	if errors.As(err, &fe) {
		field = fe.Field
	}
	return Reply{Text: ErrorMessage(err), Refused: true, Field: field, Err: err}
}

// ErrUnknownAction answers a button, form or command Liaison does not know,
// such as a button left on an old card.
var ErrUnknownAction = &Error{Code: EINVALID, Message: "Sorry, Liaison does not know this button or form. It may be out of date: please use the latest card."}

// ErrFormNotOpened is what adapters say when the platform would not open a
// form in time (Slack's trigger lasts 3 seconds).
var ErrFormNotOpened = &Error{Code: EINTERNAL, Message: "Sorry, the form could not be opened in time. Please try again."}

// Interact takes what a person did on any platform and answers what to
// show them. Permission is checked before a form opens and again when it
// is submitted; a refusal changes nothing.
func (s *Service) Interact(ctx context.Context, req Request) Reply {
	req = req.storable()
	a, ok := lookupAction(req.Action)
	switch {
	case req.Kind == Command && (!ok || a.command == nil):
		typed := clipRunes(strings.ReplaceAll(Sanitize(string(req.Action)), "`", "'"), 40)
		return Reply{Text: fmt.Sprintf("I don't know `%s`.\n%s", typed, s.Help()), Refused: true, Err: ErrUnknownAction}
	case !ok, req.Kind == Click && a.command != nil && !a.button, req.Kind == Submit && a.form == nil && !a.menu:
		return refuse(ErrUnknownAction)
	case req.Kind != Submit && (req.Kind == FromMenu) != a.menu:
		// Menu commands come from menus only, and menus run nothing else.
		return refuse(ErrUnknownAction)
	case (a.onItem || a.onDraft) && req.Target <= 0:
		return refuse(ErrUnknownAction)
	}
	if req.Actor.UserID == "" || req.Actor.Conn == "" {
		return refuse(Errorf(EUNAUTHORIZED, "Sorry, Liaison could not tell who you are."))
	}
	switch {
	case req.Kind != Submit && a.form != nil:
		form, err := a.form(s, ctx, req)
		if err != nil {
			return refuse(err)
		}
		return Reply{Form: form}
	case req.Kind == Click && a.confirm != nil && !req.Confirmed:
		if a.allowed != nil {
			if err := a.allowed(s, ctx, req); err != nil {
				return refuse(err)
			}
		}
		return Reply{Confirm: a.confirm}
	}
	if a.show != nil {
		reply, err := a.show(s, ctx, req)
		if err != nil {
			return refuse(err)
		}
		return reply
	}
	text, err := a.run(s, ctx, req)
	if err != nil {
		return refuse(err)
	}
	return done(text)
}

// OpensForm reports whether a click on action answers with a form. Adapters
// that must answer a form at once, without a deferral (Discord), ask first.
func OpensForm(action ActionID) bool {
	a, ok := lookupAction(action)
	return ok && a.form != nil
}

// ParseTarget reads the target id an adapter carried on the wire; 0 when
// it is not one.
func ParseTarget(s string) int64 {
	id, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || id < 0 {
		return 0
	}
	return id
}
