package slack

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/liaison-bot/liaison/bot"
)

// Modals: the callback id says which form was submitted; private_metadata
// carries the id of the item or draft it is about, never who may act.
const (
	cbReply       = "liaison_reply"
	cbTag         = "liaison_tag"
	cbEditApprove = "liaison_edit_approve"
	cbReject      = "liaison_reject"
	cbCorrect     = "liaison_correct"
	cbProfile     = "liaison_profile"
)

// Input blocks of the modals; each holds one element whose action id is "value".
const (
	blockText     = "text"
	blockTags     = "tags"
	blockReason   = "reason"
	blockName     = "name"
	blockTitle    = "title"
	blockAvatar   = "avatar"
	blockPronouns = "pronouns"
	blockConsent  = "consent"
	inputAction   = "value"
)

// place is where someone acted, to answer them privately there.
type place struct {
	Channel     string
	Thread      string
	User        string
	ResponseURL string
}

// tell shows text, which the domain wrote, to one user only: an ephemeral
// message where they acted, or through the interaction's response_url.
func (c *Conn) tell(ctx context.Context, p place, text string) {
	text = escapeDomain(text)
	if p.Channel != "" {
		opts := []slackapi.MsgOption{slackapi.MsgOptionText(text, false)}
		if p.Thread != "" {
			opts = append(opts, slackapi.MsgOptionTS(p.Thread))
		}
		_, err := c.api.PostEphemeralContext(ctx, p.Channel, p.User, opts...)
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

// refuse tells the user why their action did nothing: the domain's message,
// or "Internal error." for anything else, which is logged.
func (c *Conn) refuse(ctx context.Context, p place, err error) {
	if bot.ErrorCode(err) == bot.EINTERNAL {
		c.log.Error("slack action failed", "user", p.User, "err", err)
	}
	c.tell(ctx, p, bot.ErrorMessage(err))
}

// interaction handles a click or a closed modal, after the ack.
func (c *Conn) interaction(ctx context.Context, cb slackapi.InteractionCallback) {
	if cb.Type != slackapi.InteractionTypeBlockActions || cb.User.ID == "" || len(cb.ActionCallback.BlockActions) == 0 {
		return
	}
	act := cb.ActionCallback.BlockActions[0]
	if !strings.HasPrefix(act.ActionID, "liaison_") {
		return
	}
	p := place{Channel: firstOf(cb.Channel.ID, cb.Container.ChannelID), Thread: cb.Container.ThreadTs, User: cb.User.ID, ResponseURL: cb.ResponseURL}
	id, perr := strconv.ParseInt(act.Value, 10, 64)
	if perr != nil || id <= 0 {
		c.tell(ctx, p, "That button is out of date. Please use the latest card.")
		return
	}
	// Modals first: the trigger_id works for 3 seconds only.
	var err error
	switch act.ActionID {
	case actReply:
		c.openModal(ctx, cb.TriggerID, textModal(cbReply, "Public reply", "Create draft", id, "Your public reply",
			"It is published in the public thread under your name once approved. It mentions only the member you answer.", "", true), p)
		return
	case actTag:
		c.openModal(ctx, cb.TriggerID, textModal(cbTag, "Tag item", "Add tags", id, "Tags", "Separate tags with commas.", "", false), p)
		return
	}
	actor := c.actor(ctx, cb.User.ID, cb.User.Name)
	switch act.ActionID {
	case actClaim:
		err = c.svc.Claim(ctx, actor, id)
	case actIgnore:
		err = c.svc.Ignore(ctx, actor, id)
	case actApprove:
		err = c.svc.Approve(ctx, actor, id)
	case actWithdraw:
		err = c.svc.Withdraw(ctx, actor, id)
	case actRetract:
		_, err = c.svc.Retract(ctx, actor, id, "")
	case actEditApprove, actReject:
		editing := act.ActionID == actEditApprove
		// Refuse before the modal: a reviewer who may not review must not
		// write a text that would then be thrown away.
		if err = c.svc.CheckReviewer(ctx, actor, id, editing); err != nil {
			break
		}
		if !editing {
			c.openModal(ctx, cb.TriggerID, textModal(cbReject, "Reject draft", "Reject", id, "Reason",
				"The author is told, privately.", "", true), p)
			return
		}
		var d *bot.Draft
		if d, err = c.svc.Draft(ctx, id); err == nil {
			c.openModal(ctx, cb.TriggerID, textModal(cbEditApprove, "Edit and approve", "Approve", id, "Public reply",
				"The author stays the signer; both versions are kept.", d.Text(), true), p)
			return
		}
	case actCorrect:
		var d *bot.Draft
		if d, err = c.svc.Draft(ctx, id); err == nil {
			c.openModal(ctx, cb.TriggerID, textModal(cbCorrect, "Correct the reply", "Propose", id, "Corrected reply",
				"Once approved, Liaison edits the public post.", d.Text(), true), p)
			return
		}
	default:
		return
	}
	if err != nil {
		c.refuse(ctx, p, err)
	}
}

// openModal opens a modal; if Slack will not (a trigger used too late), the
// user is told to try again.
func (c *Conn) openModal(ctx context.Context, trigger string, v slackapi.ModalViewRequest, p place) {
	if _, err := c.api.OpenViewContext(ctx, trigger, v); err != nil {
		c.log.Warn("views.open failed", "modal", v.CallbackID, "user", p.User, "err", err)
		c.tell(ctx, p, "Sorry, Slack did not let me open the form in time. Please try again.")
	}
}

func textModal(callbackID, title, submit string, id int64, label, hint, initial string, multiline bool) slackapi.ModalViewRequest {
	in := slackapi.NewPlainTextInputBlockElement(nil, inputAction)
	in.Multiline, in.InitialValue, in.MaxLength = multiline, initial, 3000
	block := blockText
	switch callbackID {
	case cbTag:
		block = blockTags
		in.MaxLength = 300
	case cbReject:
		block = blockReason
		in.MaxLength = 1000
	}
	return slackapi.ModalViewRequest{
		Type: slackapi.VTModal, CallbackID: callbackID, PrivateMetadata: strconv.FormatInt(id, 10),
		Title: plain(title), Submit: plain(submit), Close: plain("Cancel"),
		Blocks: slackapi.Blocks{BlockSet: []slackapi.Block{slackapi.NewInputBlock(block, plain(label), plain(hint), in)}},
	}
}

// viewSubmission takes a submitted modal. Its answer is what Slack shows in
// the modal: nil closes it, errors keep it open with the domain's message.
func (c *Conn) viewSubmission(ctx context.Context, cb slackapi.InteractionCallback) *slackapi.ViewSubmissionResponse {
	ctx, cancel := context.WithTimeout(ctx, submitWithin)
	defer cancel()
	var values map[string]map[string]slackapi.BlockAction
	if cb.View.State != nil {
		values = cb.View.State.Values
	}
	value := func(block string) string { return strings.TrimSpace(values[block][inputAction].Value) }
	id, _ := strconv.ParseInt(cb.View.PrivateMetadata, 10, 64)
	if cb.User.ID == "" {
		return nil
	}
	actor := c.actor(ctx, cb.User.ID, cb.User.Name)
	var err error
	block := blockText
	switch cb.View.CallbackID {
	case cbReply:
		_, err = c.svc.CreateDraft(ctx, actor, id, value(blockText))
	case cbTag:
		block = blockTags
		err = c.svc.Tag(ctx, actor, id, splitTags(value(blockTags)))
	case cbEditApprove:
		err = c.svc.EditApprove(ctx, actor, id, value(blockText))
	case cbReject:
		block = blockReason
		err = c.svc.Reject(ctx, actor, id, value(blockReason))
	case cbCorrect:
		_, err = c.svc.Correct(ctx, actor, id, value(blockText))
	case cbProfile:
		block = blockName
		consent := false
		for _, o := range values[blockConsent][inputAction].SelectedOptions {
			consent = consent || o.Value == "yes"
		}
		_, err = c.svc.SaveProfile(ctx, actor, bot.ProfileInput{
			Name: value(blockName), Title: value(blockTitle), AvatarURL: value(blockAvatar), Pronouns: value(blockPronouns), Consent: consent,
		})
	default:
		return nil
	}
	if err == nil {
		return nil
	}
	if bot.ErrorCode(err) == bot.EINTERNAL {
		c.log.Error("slack modal failed", "modal", cb.View.CallbackID, "user", cb.User.ID, "err", err)
	}
	return slackapi.NewErrorsViewSubmissionResponse(map[string]string{block: bot.ErrorMessage(err)})
}

func splitTags(s string) []string {
	var out []string
	for _, t := range strings.Split(s, ",") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		out = []string{""} // let the domain say what a tag must be
	}
	return out
}

var mentionArg = regexp.MustCompile(`^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$`)
var userIDArg = regexp.MustCompile(`^[UW][A-Z0-9]{2,}$`)

// mentionedUser reads the user of "promote @user": Slack sends <@U123|name>
// when the command escapes mentions (the manifest asks it to).
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

func (c *Conn) helpText() string {
	return "*Liaison* relays what the community says into this workspace and carries approved replies back, under your name.\n" +
		"• `/liaison profile`: the name, title and avatar the public sees on your replies, and your agreement to publish under them\n" +
		"• `/liaison promote @person`: trust a responder, whose drafts then publish without review on trusted-auto routes (approvers only)\n" +
		"• `/liaison demote @person`: review their drafts again (approvers only)\n" +
		"• `/liaison help`: this message\n" +
		"On a card: *Reply publicly*, *Claim*, *Tag*, *Ignore*. In a card's thread, a message starting with `" +
		strings.TrimSpace(c.svc.Settings.ReplyPrefix) + "` becomes a draft reply."
}

// slashCommand runs /liaison, after the ack; answers go to the user alone.
func (c *Conn) slashCommand(ctx context.Context, cmd slackapi.SlashCommand) {
	if cmd.UserID == "" {
		return
	}
	p := place{Channel: cmd.ChannelID, User: cmd.UserID, ResponseURL: cmd.ResponseURL}
	reply := func(text string) { c.answerCommand(ctx, p, text) }
	sub, rest, _ := strings.Cut(strings.TrimSpace(cmd.Text), " ")
	switch strings.ToLower(sub) {
	case "", "help":
		reply(c.helpText())
	case "profile":
		c.profileModal(ctx, cmd, p)
	case "promote", "demote":
		target := mentionedUser(rest)
		if target == "" {
			reply("Please name the person: `/liaison " + strings.ToLower(sub) + " @name`.")
			return
		}
		trusted := strings.EqualFold(sub, "promote")
		prof, err := c.svc.SetTrusted(ctx, c.actor(ctx, cmd.UserID, cmd.UserName), target, trusted)
		if err != nil {
			if bot.ErrorCode(err) == bot.EINTERNAL {
				c.log.Error("slack command failed", "command", sub, "user", cmd.UserID, "err", err)
			}
			reply(bot.ErrorMessage(err))
			return
		}
		who := "<@" + target + ">"
		if prof.Name != "" {
			who = prof.Name
		}
		if trusted {
			reply(who + " is now trusted: on trusted-auto routes their drafts publish without review.")
		} else {
			reply(who + " is no longer trusted: their drafts are reviewed again.")
		}
	default:
		reply("I don't know `" + strings.ReplaceAll(sub, "`", "'") + "`.\n" + c.helpText())
	}
}

// answerCommand answers a command privately: through its response_url,
// which works in any channel, else as an ephemeral message.
func (c *Conn) answerCommand(ctx context.Context, p place, text string) {
	if p.ResponseURL != "" {
		msg := &slackapi.WebhookMessage{Text: escapeDomain(text), ResponseType: slackapi.ResponseTypeEphemeral}
		err := slackapi.PostWebhookCustomHTTPContext(ctx, p.ResponseURL, c.http, msg)
		if err == nil {
			return
		}
		c.log.Warn("response_url failed", "user", p.User, "err", err)
	}
	c.tell(ctx, place{Channel: p.Channel, User: p.User}, text)
}

// profileModal opens the public-profile form, filled with what Liaison has,
// else with the Slack profile (name, title, image_192).
func (c *Conn) profileModal(ctx context.Context, cmd slackapi.SlashCommand, p place) {
	lookup, cancel := context.WithTimeout(ctx, 1500*time.Millisecond) // the trigger lasts 3 s
	actor := bot.Actor{Conn: c.name, UserID: cmd.UserID, Name: cmd.UserName}
	prof, err := c.svc.MyProfile(lookup, actor)
	if err != nil {
		prof = &bot.Profile{}
	}
	u := c.user(lookup, cmd.UserID)
	cancel()
	input := func(block, label, hint, initial string, optional bool, max int) slackapi.Block {
		el := slackapi.NewPlainTextInputBlockElement(nil, inputAction)
		// Slack refuses a form whose initial value is longer than allowed.
		el.InitialValue, el.MaxLength = string([]rune(initial)[:min(len([]rune(initial)), max)]), max
		b := slackapi.NewInputBlock(block, plain(label), nil, el)
		if hint != "" {
			b.Hint = plain(hint)
		}
		b.Optional = optional
		return b
	}
	yes := slackapi.NewOptionBlockObject("yes", plain("I agree that replies I write are published under this name"), nil)
	consent := slackapi.NewCheckboxGroupsBlockElement(inputAction, yes)
	if prof.Consented() {
		consent.InitialOptions = []*slackapi.OptionBlockObject{yes}
	}
	consentBlock := slackapi.NewInputBlock(blockConsent, plain("Consent"), plain("Without it your drafts wait: nothing is published anonymously."), consent)
	consentBlock.Optional = true
	v := slackapi.ModalViewRequest{
		Type: slackapi.VTModal, CallbackID: cbProfile, Title: plain("Your public profile"), Submit: plain("Save"), Close: plain("Cancel"),
		Blocks: slackapi.Blocks{BlockSet: []slackapi.Block{
			section("This is how the community sees you on the replies Liaison publishes for you."),
			input(blockName, "Public name", "", firstOf(prof.Name, u.RealName, u.Display, cmd.UserName), false, 60),
			input(blockTitle, "Title", "For example: Product Manager", firstOf(prof.Title, u.Title), true, 80),
			input(blockAvatar, "Avatar URL", "An https:// image; your Slack picture by default.", firstOf(prof.AvatarURL, u.Avatar), true, 500),
			input(blockPronouns, "Pronouns", "", prof.Pronouns, true, 30),
			consentBlock,
		}},
	}
	c.openModal(ctx, cmd.TriggerID, v, p)
}
