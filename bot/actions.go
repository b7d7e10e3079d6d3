package bot

import "context"

// action is everything Liaison knows about one thing a person can do: its
// label and style, what it acts on, the question it asks first, the form it
// opens, who may take it and what it does. Cards offer actions through
// itemButtons and draftButtons; Interact runs them.
type action struct {
	label   string
	style   Style
	confirm *Confirm
	onItem  bool // Target is an item
	onDraft bool // Target is a draft
	command *commandSpec
	// button: a command that a button may offer too (the Home's Edit on
	// the profile); its label is the button's.
	button bool
	// menu: a command of the platforms' menus (see Menus), run on a
	// message or a person. Its show answers the command and, when that
	// answer was a form, the form's submission (Request.Kind says which).
	menu bool

	// allowed: may the actor take the action now? Asked before a question
	// is put to them. Actions with a form check in form instead.
	allowed func(*Service, context.Context, Request) error
	// form checks the actor may take the action, then builds its form; nil
	// when the action needs no input.
	form func(*Service, context.Context, Request) (*Form, error)
	// run takes the action (checking again, in its transaction) and
	// returns the private confirmation.
	run func(*Service, context.Context, Request) (string, error)
	// show, in place of run, answers with more than a text: links to
	// follow.
	show func(*Service, context.Context, Request) (Reply, error)
}

// userArg is the one argument of a command about a person.
func userArg(description string) []CommandArg {
	return []CommandArg{{Name: UserArgName, Description: description, Kind: ArgUser, Required: true}}
}

// lookupAction returns the definition of id. Adding an action is one case
// here, its functions, and where it is offered in itemButtons or
// draftButtons: adapters render every action the same way.
func lookupAction(id ActionID) (action, bool) {
	switch id {
	case ActReply:
		return action{label: "Reply publicly", style: StylePrimary, onItem: true, form: (*Service).replyForm, run: (*Service).replyRun}, true
	case ActClaim:
		return action{label: "Claim", onItem: true, run: (*Service).claim}, true
	case ActUnclaim:
		return action{label: "Unclaim", onItem: true, run: (*Service).unclaim}, true
	case ActTag:
		return action{label: "Tag", onItem: true, form: (*Service).tagForm, run: (*Service).tag}, true
	case ActIgnore:
		return action{label: "Ignore", onItem: true, run: (*Service).ignore}, true
	case ActReopen:
		return action{label: "Reopen", onItem: true, run: (*Service).reopen}, true
	case ActApprove:
		return action{label: "Approve", style: StylePrimary, onDraft: true, run: (*Service).approveRun}, true
	case ActEditApprove:
		return action{label: "Edit & approve", onDraft: true, form: (*Service).editApproveForm, run: (*Service).editApproveRun}, true
	case ActReject:
		return action{label: "Reject", style: StyleDanger, onDraft: true, form: (*Service).rejectForm, run: (*Service).rejectRun}, true
	case ActWithdraw:
		return action{label: "Withdraw", onDraft: true, run: (*Service).withdrawRun}, true
	case ActAccept:
		return action{label: "Accept & publish", style: StylePrimary, onDraft: true, run: (*Service).acceptRun}, true
	case ActCorrect:
		return action{label: "Correct", onDraft: true, form: (*Service).correctForm, run: (*Service).correctRun}, true
	case ActRetract:
		return action{label: "Retract", style: StyleDanger, onDraft: true, confirm: &Confirm{
			Title:  "Retract the reply?",
			Text:   "This asks for the public reply to be deleted. An approver approves the retraction like any draft.",
			OK:     "Ask to retract",
			Cancel: "Cancel",
		}, allowed: (*Service).retractAllowed, run: (*Service).retractRun}, true
	case ActProfile:
		return action{label: "Edit profile", button: true, command: &commandSpec{help: "the name, title and avatar the public sees on your replies, and your agreement to publish under them",
			describe: "Set the name, title and avatar your public replies carry"},
			form: (*Service).profileForm, run: (*Service).profileRun}, true
	case ActHelp:
		return action{command: &commandSpec{help: "this message", describe: "What Liaison does and how to use it"}, run: (*Service).helpRun}, true
	case ActStats:
		return action{command: &commandSpec{args: statsArgs, help: statsHelp,
			describe: "Community figures: items in, answers, response times, what waits (responders, approvers)"}, show: (*Service).statsShow}, true
	case ActForget:
		return action{command: &commandSpec{args: forgetArgs, help: forgetHelp,
			describe: "Erase a community member's words and name, at their request (approvers)"}, run: (*Service).forgetRun}, true
	case ActSendToTeam:
		return action{menu: true, show: (*Service).sendToTeam}, true
	case ActMemberHistory:
		return action{menu: true, show: (*Service).memberHistory}, true
	case ActPromote:
		return action{command: &commandSpec{args: userArg("The responder to trust"), help: "trust a responder on the routes you approve in this channel: on trusted-auto routes their drafts then publish without review (approvers only, never yourself)",
			describe: "Trust a responder on your routes here: no review on trusted-auto routes (approvers)"}, run: (*Service).promote}, true
	case ActDemote:
		return action{command: &commandSpec{args: userArg("The responder to review again"), help: "have their drafts reviewed again on the routes you approve in this channel (approvers only, never yourself)",
			describe: "Have a responder's drafts reviewed again on your routes here (approvers)"}, run: (*Service).demote}, true
	}
	return action{}, false
}

// button is action id offered on target, with its label and style.
func button(id ActionID, target int64) Button {
	a, _ := lookupAction(id)
	return Button{Action: id, Target: target, Label: a.label, Style: a.style, Confirm: a.confirm}
}

// itemButtons are the actions a card offers in the item's state.
func itemButtons(it *Item) []Button {
	open := it.Status != ItemIgnored && it.Status != ItemClosed
	var bs []Button
	if open {
		bs = append(bs, button(ActReply, it.ID))
		if it.Assignee == 0 {
			bs = append(bs, button(ActClaim, it.ID))
		} else {
			bs = append(bs, button(ActUnclaim, it.ID))
		}
	}
	bs = append(bs, button(ActTag, it.ID))
	if canMove(it.Status, ItemIgnored) {
		bs = append(bs, button(ActIgnore, it.ID))
	}
	if !open {
		bs = append(bs, button(ActReopen, it.ID))
	}
	return bs
}

// draftButtons are the actions a draft card offers in the draft's state.
func draftButtons(d *Draft) []Button {
	switch {
	case d.State == DraftPending:
		return []Button{button(ActApprove, d.ID), button(ActEditApprove, d.ID), button(ActReject, d.ID), button(ActWithdraw, d.ID)}
	case d.State == DraftAwaitingSigner:
		return []Button{button(ActAccept, d.ID), button(ActWithdraw, d.ID), button(ActReject, d.ID)}
	case d.State == DraftFailed:
		retry := button(ActApprove, d.ID)
		retry.Label = "Approve (retry)"
		return []Button{retry, button(ActWithdraw, d.ID)}
	case d.State == DraftPublished && d.Kind == DraftReply:
		return []Button{button(ActCorrect, d.ID), button(ActRetract, d.ID)}
	}
	return nil
}
