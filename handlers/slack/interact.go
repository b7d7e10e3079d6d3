package slack

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"unicode"

	slackapi "github.com/slack-go/slack"

	"github.com/liaison-bot/liaison/bot"
)

// On the wire, a button's action_id and a modal's callback_id are
// actionPrefix followed by the domain's bot.ActionID; a button's value is
// the id of the item or draft it acts on, never who may act. Every input
// block of a modal has the domain's field id as block_id and one element
// whose action_id is inputAction.
const (
	actionPrefix = "liaison_"
	inputAction  = "value"
)

// place is where someone acted, to answer them privately there.
type place struct {
	Channel     string
	Thread      string
	User        string
	ResponseURL string
}

// formMeta is a modal's private_metadata: what the form is about and where
// the person acted, so that the answer to its submission goes there. It
// carries no identity: Slack names who submits.
type formMeta struct {
	Target      int64  `json:"target,omitempty"`
	Channel     string `json:"channel,omitempty"`
	Thread      string `json:"thread,omitempty"`
	ResponseURL string `json:"response_url,omitempty"`
	// Message: the message a shortcut's form is about (see shortcut.go).
	Message *shortcutMessage `json:"message,omitempty"`
}

// replyText renders the text and links the domain answered with as mrkdwn:
// the text escaped, then each link on a line of its own.
func replyText(text string, links []bot.Link) string {
	out := escapeDomain(text)
	for _, l := range links {
		out += "\n" + link(l.URL, l.Text)
	}
	return out
}

// tell shows text, mrkdwn rendered from what the domain wrote, to one user
// only: an ephemeral message where they acted, or through the
// interaction's response_url.
func (c *Conn) tell(ctx context.Context, p place, text string) {
	if p.Channel != "" {
		_, err := c.postEphemeral(ctx, p.Channel, p.Thread, p.User, text)
		if err == nil {
			return
		}
		c.log.Warn("chat.postEphemeral failed", "channel", p.Channel, "user", p.User, "err", err)
	}
	if p.ResponseURL != "" {
		msg := &slackapi.WebhookMessage{Text: text, ResponseType: slackapi.ResponseTypeEphemeral, ThreadTimestamp: p.Thread}
		if err := slackapi.PostWebhookCustomHTTPContext(ctx, p.ResponseURL, c.http, msg); err != nil {
			c.log.Warn("response_url failed", "user", p.User, "err", err)
		}
	}
}

// answer shows the domain's reply to the person who acted: the form it
// asks for, or its text and links, rendered as mrkdwn, through say.
func (c *Conn) answer(ctx context.Context, req bot.Request, reply bot.Reply, trigger string, p place, say func(string)) {
	if reply.Err != nil && bot.ErrorCode(reply.Err) == bot.EINTERNAL {
		c.log.Error("slack interaction failed", "action", req.Action, "user", p.User, "err", reply.Err)
	}
	switch {
	case reply.Form != nil:
		meta := formMeta{Target: reply.Form.Target, Channel: p.Channel, Thread: p.Thread, ResponseURL: p.ResponseURL}
		if _, err := c.api.OpenViewContext(ctx, trigger, modalView(reply.Form, meta)); err != nil {
			c.log.Warn("views.open failed", "action", req.Action, "user", p.User, "err", err)
			say(escapeDomain(bot.ErrFormNotOpened.Message))
		}
	case reply.Text != "":
		say(replyText(reply.Text, reply.Links))
	case reply.Confirm != nil:
		// Slack asks a button's question on the button itself, and
		// clicks arrive confirmed: there is no second place to ask.
		c.log.Error("the domain asked to confirm a click Slack already confirmed", "action", req.Action, "user", p.User)
	}
}

// outcome is what became of an interaction: whether the domain finished
// with it — then it is acknowledged, with answer as the ack's payload (nil
// for none) — and what to do once it is acknowledged: open the form the
// domain asked for, tell the person the outcome.
type outcome struct {
	done   bool
	answer any
	then   func(ctx context.Context)
}

// ignored is the outcome of an interaction that is none of Liaison's.
var ignored = outcome{done: true}

// interactive takes a click or a modal submission.
func (c *Conn) interactive(ctx context.Context, cb slackapi.InteractionCallback) outcome {
	switch cb.Type {
	case slackapi.InteractionTypeBlockActions:
		return c.click(ctx, cb)
	case slackapi.InteractionTypeViewSubmission:
		return c.viewSubmission(ctx, cb)
	case slackapi.InteractionTypeMessageAction:
		return c.shortcut(ctx, cb)
	}
	return ignored
}

// interact names the person acting and hands the request to the domain,
// within interactWithin. It reports false when the domain did not finish in
// time: its transaction was cancelled, so nothing was committed, and the
// interaction must not be acknowledged.
func (c *Conn) interact(ctx context.Context, userID string, req bot.Request) (bot.Reply, bool) {
	ctx, cancel := context.WithTimeout(ctx, interactWithin)
	defer cancel()
	req.Actor = c.actor(ctx, userID)
	reply := c.domain.Interact(ctx, req)
	if reply.Err != nil && ctx.Err() != nil {
		c.log.Warn("slack interaction not finished in time: left unacknowledged, Slack tells the person it failed",
			"action", req.Action, "user", userID, "err", reply.Err)
		return reply, false
	}
	return reply, true
}

// click takes a click. Liaison's buttons go to the domain, even those it no
// longer knows (it answers that the card is out of date).
func (c *Conn) click(ctx context.Context, cb slackapi.InteractionCallback) outcome {
	if cb.User.ID == "" || len(cb.ActionCallback.BlockActions) == 0 {
		return ignored
	}
	act := cb.ActionCallback.BlockActions[0]
	action, ok := strings.CutPrefix(act.ActionID, actionPrefix)
	if !ok {
		return ignored // not an element of Liaison's
	}
	p := place{Channel: firstOf(cb.Channel.ID, cb.Container.ChannelID), Thread: cb.Container.ThreadTs, User: cb.User.ID, ResponseURL: cb.ResponseURL}
	req := bot.Request{
		Kind: bot.Click, Action: bot.ActionID(action), Target: bot.ParseTarget(act.Value),
		Confirmed: true, // Slack asked the button's confirm question before sending the click
	}
	reply, ok := c.interact(ctx, cb.User.ID, req)
	if !ok {
		return outcome{}
	}
	return outcome{done: true, then: func(ctx context.Context) {
		say := func(text string) { c.tell(ctx, p, text) }
		if p.nowhere() {
			// A button on the Home: no channel, no response_url. The
			// answer shows in a small window opened with the click's
			// trigger; the Home itself is refreshed by the outbox.
			say = func(text string) { c.showReply(ctx, cb.TriggerID, p.User, text) }
		}
		c.answer(ctx, req, reply, cb.TriggerID, p, say)
	}}
}

// nowhere reports a place with nothing to answer in: the Home tab, or a
// form opened from it.
func (p place) nowhere() bool { return p.Channel == "" && p.ResponseURL == "" }

// showReply shows mrkdwn to the user who acted in a small window, opened
// with their click's trigger.
func (c *Conn) showReply(ctx context.Context, trigger, user, text string) {
	if _, err := c.api.OpenViewContext(ctx, trigger, replyModal(text)); err != nil {
		c.log.Warn("views.open of an answer failed", "user", user, "err", err)
	}
}

// viewSubmission takes a submitted modal. Its answer is what Slack shows in
// the modal: none closes it, errors keep it open with the domain's message
// on the field it is about. Once the modal is answered, the person is told
// the outcome where they acted.
func (c *Conn) viewSubmission(ctx context.Context, cb slackapi.InteractionCallback) outcome {
	action, ok := strings.CutPrefix(cb.View.CallbackID, actionPrefix)
	if !ok || cb.User.ID == "" {
		return ignored
	}
	var meta formMeta
	if cb.View.PrivateMetadata != "" {
		if err := json.Unmarshal([]byte(cb.View.PrivateMetadata), &meta); err != nil {
			// Target 0: the domain refuses the form as out of date.
			c.log.Warn("modal with unreadable private_metadata", "callback", cb.View.CallbackID, "err", err)
		}
	}
	req := bot.Request{Kind: bot.Submit, Action: bot.ActionID(action), Target: meta.Target, Values: formValues(cb.View.State)}
	if meta.Message != nil {
		req.Message = c.shortcutIncoming(ctx, *meta.Message)
	}
	reply, ok := c.interact(ctx, cb.User.ID, req)
	if !ok {
		return outcome{}
	}
	if reply.Err != nil && bot.ErrorCode(reply.Err) == bot.EINTERNAL {
		c.log.Error("slack form failed", "action", req.Action, "user", cb.User.ID, "err", reply.Err)
	}
	if reply.Refused {
		if block := errorBlock(cb.View, reply.Field); block != "" {
			return outcome{done: true, answer: slackapi.NewErrorsViewSubmissionResponse(map[string]string{block: reply.Text})}
		}
	}
	if reply.Text == "" {
		return ignored
	}
	p := place{Channel: meta.Channel, Thread: meta.Thread, User: cb.User.ID, ResponseURL: meta.ResponseURL}
	if p.nowhere() {
		// A form opened from the Home: the answer replaces it.
		modal := replyModal(replyText(reply.Text, reply.Links))
		return outcome{done: true, answer: slackapi.NewUpdateViewSubmissionResponse(&modal)}
	}
	return outcome{done: true, then: func(ctx context.Context) { c.tell(ctx, p, replyText(reply.Text, reply.Links)) }}
}

// formValues reads a submitted modal's values by block id (the domain's
// field ids): a text input's value; a static select's picked option; for
// check boxes, the values of the ticked options (the field's keyword), ""
// when none is.
func formValues(state *slackapi.ViewState) map[string]string {
	out := map[string]string{}
	if state == nil {
		return out
	}
	for block, actions := range state.Values {
		a, ok := actions[inputAction]
		if !ok {
			continue
		}
		if string(a.Type) == slackapi.OptTypeStatic {
			out[block] = a.SelectedOption.Value
			continue
		}
		if string(a.Type) == string(slackapi.METCheckboxGroups) {
			var ticked []string
			for _, o := range a.SelectedOptions {
				ticked = append(ticked, o.Value)
			}
			out[block] = strings.Join(ticked, ",")
			continue
		}
		out[block] = a.Value
	}
	return out
}

// errorBlock is the input block a refusal is shown on: the field it is
// about, else the form's first input.
func errorBlock(v slackapi.View, field string) string {
	var inputs []string
	for _, b := range v.Blocks.BlockSet {
		if in, ok := b.(*slackapi.InputBlock); ok && in.BlockID != "" {
			inputs = append(inputs, in.BlockID)
		}
	}
	for _, id := range inputs {
		if id == field {
			return id
		}
	}
	if len(inputs) > 0 {
		return inputs[0]
	}
	return ""
}

// modalView renders a domain form as a Slack modal. Its close button is
// left to Slack, which words it in the person's own language.
func modalView(f *bot.Form, meta formMeta) slackapi.ModalViewRequest {
	md, _ := json.Marshal(meta)
	if len(md) > privateMetadataMax {
		meta.ResponseURL = "" // the channel is enough to answer in
		md, _ = json.Marshal(meta)
	}
	var blocks []slackapi.Block
	if f.Intro != "" {
		blocks = append(blocks, slackapi.NewSectionBlock(plain(clipPlain(f.Intro, textObjectMax)), nil, nil))
	}
	for _, field := range f.Fields {
		blocks = append(blocks, inputBlock(field))
	}
	v := slackapi.ModalViewRequest{
		Type: slackapi.VTModal, CallbackID: actionPrefix + string(f.Action), PrivateMetadata: string(md),
		Title: plain(clipPlain(f.Title, modalTitleMax)), Blocks: slackapi.Blocks{BlockSet: blocks},
	}
	if f.Submit != "" {
		v.Submit = plain(clipPlain(f.Submit, modalButtonMax))
	}
	return v
}

// selectOptionsMax: the options of a static select
// (https://api.slack.com/reference/block-kit/block-elements#static_select).
const selectOptionsMax = 100

// inputBlock renders one field: a text input, a check box whose one option
// carries the field's keyword, or a static select of a choice's options.
func inputBlock(f bot.Field) *slackapi.InputBlock {
	var el slackapi.BlockElement
	switch f.Kind {
	case bot.FieldChoice:
		sel := slackapi.NewOptionsSelectBlockElement(slackapi.OptTypeStatic, nil, inputAction)
		for _, o := range f.Options[:min(len(f.Options), selectOptionsMax)] {
			opt := slackapi.NewOptionBlockObject(o.Value, plain(clipPlain(o.Label, optionTextMax)), nil)
			sel.Options = append(sel.Options, opt)
			if o.Value == f.Initial {
				sel.InitialOption = opt
			}
		}
		if f.Placeholder != "" {
			sel.Placeholder = plain(clipPlain(f.Placeholder, placeholderMax))
		}
		el = sel
	case bot.FieldCheck:
		opt := slackapi.NewOptionBlockObject(f.Keyword, plain(clipPlain(f.Option, optionTextMax)), nil)
		box := slackapi.NewCheckboxGroupsBlockElement(inputAction, opt)
		if f.Checked {
			box.InitialOptions = []*slackapi.OptionBlockObject{opt}
		}
		el = box
	default:
		in := slackapi.NewPlainTextInputBlockElement(nil, inputAction)
		in.Multiline = f.Multiline
		in.InitialValue = f.Initial
		if f.MaxLen > 0 {
			in.MaxLength = min(f.MaxLen, textInputMax)
			// Slack refuses a form whose initial value is longer than allowed.
			in.InitialValue = clipRunes(f.Initial, in.MaxLength)
		}
		if f.Placeholder != "" {
			in.Placeholder = plain(clipPlain(f.Placeholder, placeholderMax))
		}
		el = in
	}
	b := slackapi.NewInputBlock(f.ID, plain(clipPlain(f.Label, inputLabelMax)), nil, el)
	if f.Hint != "" {
		b.Hint = plain(clipPlain(f.Hint, inputLabelMax))
	}
	b.Optional = !f.Required
	return b
}

var mentionArg = regexp.MustCompile(`^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$`)
var userIDArg = regexp.MustCompile(`^[UW][A-Z0-9]{2,}$`)

// mentionedUser reads the user of "promote @user": Slack sends <@U123|name>
// when the command escapes mentions (the manifest asks it to), or a bare id.
func mentionedUser(arg string) string {
	arg = strings.TrimSpace(arg)
	if m := mentionArg.FindStringSubmatch(arg); m != nil {
		return m[1]
	}
	if userIDArg.MatchString(arg) {
		return arg
	}
	return ""
}

// commandWord is one word of what follows a subcommand: a Slack mention
// (<@U123|Alice Martin>) is one, spaces and all.
var commandWord = regexp.MustCompile(`<[^>]*>|\S+`)

// commandArgs reads the arguments of a subcommand from the words after
// it, in the order the subcommand declares them: a user argument from a
// mention or a user id, a text argument as typed. The last argument takes
// any words left over, so that the domain refuses what it cannot read
// rather than Liaison dropping it.
func commandArgs(action bot.ActionID, rest string) map[string]string {
	defs := bot.SubCommandArgs(string(action))
	words := commandWord.FindAllString(rest, -1)
	if len(defs) == 0 || len(words) == 0 {
		return nil
	}
	args := map[string]string{}
	for i, def := range defs {
		if i >= len(words) {
			break
		}
		w := words[i]
		if i == len(defs)-1 {
			w = strings.Join(words[i:], " ")
		}
		if def.Kind == bot.ArgUser {
			w = mentionedUser(w)
		}
		if w != "" {
			args[def.Name] = w
		}
	}
	return args
}

// slashCommand takes /liaison <subcommand> [arguments]; its answer goes to
// the user alone, after the ack.
func (c *Conn) slashCommand(ctx context.Context, cmd slackapi.SlashCommand) outcome {
	if cmd.UserID == "" {
		return ignored
	}
	text := strings.TrimSpace(cmd.Text)
	sub, rest := text, ""
	if i := strings.IndexFunc(text, unicode.IsSpace); i >= 0 {
		sub, rest = text[:i], text[i:]
	}
	action := bot.ActionID(strings.ToLower(sub))
	if action == "" {
		action = bot.ActHelp
	}
	req := bot.Request{Kind: bot.Command, Action: action, Channel: cmd.ChannelID, Args: commandArgs(action, rest)}
	reply, ok := c.interact(ctx, cmd.UserID, req)
	if !ok {
		return outcome{}
	}
	p := place{Channel: cmd.ChannelID, User: cmd.UserID, ResponseURL: cmd.ResponseURL}
	return outcome{done: true, then: func(ctx context.Context) {
		c.answer(ctx, req, reply, cmd.TriggerID, p, func(text string) { c.answerCommand(ctx, p, text) })
	}}
}

// answerCommand answers a command privately, with mrkdwn: through its
// response_url, which works in any channel, else as an ephemeral message.
func (c *Conn) answerCommand(ctx context.Context, p place, text string) {
	if p.ResponseURL != "" {
		msg := &slackapi.WebhookMessage{Text: text, ResponseType: slackapi.ResponseTypeEphemeral}
		err := slackapi.PostWebhookCustomHTTPContext(ctx, p.ResponseURL, c.http, msg)
		if err == nil {
			return
		}
		c.log.Warn("response_url failed", "user", p.User, "err", err)
	}
	c.tell(ctx, place{Channel: p.Channel, User: p.User}, text)
}
