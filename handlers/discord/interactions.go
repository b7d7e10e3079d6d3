package discord

import (
	"context"
	"errors"
	"fmt"
	"strings"

	dg "github.com/bwmarrin/discordgo"

	"github.com/liaison-bot/liaison/bot"
)

// commandName is Liaison's slash command: /liaison help|profile|promote|demote.
const commandName = "liaison"

func commands() []*dg.ApplicationCommand {
	userOpt := func(desc string) []*dg.ApplicationCommandOption {
		return []*dg.ApplicationCommandOption{{Type: dg.ApplicationCommandOptionUser, Name: "user", Description: desc, Required: true}}
	}
	return []*dg.ApplicationCommand{{
		Name:        commandName,
		Description: "Liaison: the community's questions, answered under your own name",
		Options: []*dg.ApplicationCommandOption{
			{Type: dg.ApplicationCommandOptionSubCommand, Name: "help", Description: "What Liaison does and how to use it"},
			{Type: dg.ApplicationCommandOptionSubCommand, Name: "profile", Description: "Set the name, title and avatar your public replies carry"},
			{Type: dg.ApplicationCommandOptionSubCommand, Name: "promote", Description: "Let a responder publish without review (approvers only)", Options: userOpt("The responder to trust")},
			{Type: dg.ApplicationCommandOptionSubCommand, Name: "demote", Description: "Have a responder's replies reviewed again (approvers only)", Options: userOpt("The responder to review again")},
		},
	}}
}

// registerCommands installs /liaison in the configured guild, or in every
// guild READY listed, replacing what was there.
func (c *Conn) registerCommands(ctx context.Context) error {
	app, err := c.application(ctx)
	if err != nil {
		return err
	}
	guilds := []string{c.opts.GuildID}
	if c.opts.GuildID == "" {
		c.mu.Lock()
		guilds = append([]string(nil), c.guilds...)
		c.mu.Unlock()
	}
	var errs []error
	for _, g := range guilds {
		if _, err := c.s.ApplicationCommandBulkOverwrite(app, g, commands(), dg.WithContext(ctx)); err != nil {
			errs = append(errs, fmt.Errorf("guild %s: %w", g, err))
		}
	}
	return errors.Join(errs...)
}

// actorOf is who acted, as Discord identifies them: the member in a guild,
// the user in a DM. Roles are the member's role IDs.
func (c *Conn) actorOf(i *dg.Interaction) (bot.Actor, bool) {
	switch {
	case i.Member != nil && i.Member.User != nil:
		return bot.Actor{Conn: c.name, UserID: i.Member.User.ID, Name: i.Member.DisplayName(), Groups: i.Member.Roles}, true
	case i.User != nil:
		return bot.Actor{Conn: c.name, UserID: i.User.ID, Name: i.User.DisplayName()}, true
	}
	return bot.Actor{}, false
}

func (c *Conn) onInteraction(ctx context.Context, i *dg.Interaction) {
	actor, ok := c.actorOf(i)
	if !ok {
		return
	}
	switch i.Type {
	case dg.InteractionApplicationCommand:
		c.onCommand(ctx, i, actor)
	case dg.InteractionMessageComponent:
		c.onButton(ctx, i, actor)
	case dg.InteractionModalSubmit:
		c.onModal(ctx, i, actor)
	}
}

// onButton answers a click. Buttons that need input answer with a modal
// straight away (a modal cannot follow a deferral); reviewers are checked
// first so a refusal comes before the form. Others defer, act, follow up.
func (c *Conn) onButton(ctx context.Context, i *dg.Interaction, actor bot.Actor) {
	action, id, ok := parseCustomID(i.MessageComponentData().CustomID)
	if !ok {
		c.ephemeral(ctx, i, "Sorry, Liaison does not know this button.")
		return
	}
	switch action {
	case actReply:
		c.modal(ctx, i, customID(actReply, id), fmt.Sprintf("Public reply to item #%d", id),
			textInput("text", "Your public reply", dg.TextInputParagraph, "", "Published under your public name once approved", true, 1800))
	case actTag:
		c.modal(ctx, i, customID(actTag, id), fmt.Sprintf("Tag item #%d", id),
			textInput("tags", "Tags, separated by commas", dg.TextInputShort, "", "billing, bug", true, 200))
	case actEdit, actReject:
		if err := c.svc.CheckReviewer(ctx, actor, id, action == actEdit); err != nil {
			c.refuse(ctx, i, err)
			return
		}
		if action == actReject {
			c.modal(ctx, i, customID(actReject, id), fmt.Sprintf("Reject draft #%d", id),
				textInput("reason", "Why? (sent to the author)", dg.TextInputParagraph, "", "", true, 1000))
			return
		}
		d, err := c.svc.Draft(ctx, id)
		if err != nil {
			c.refuse(ctx, i, err)
			return
		}
		c.modal(ctx, i, customID(actEdit, id), fmt.Sprintf("Edit & approve draft #%d", id),
			textInput("text", "Public reply (the author still signs)", dg.TextInputParagraph, d.Text(), "", true, 1800))
	case actCorrect:
		d, err := c.svc.Draft(ctx, id)
		if err != nil {
			c.refuse(ctx, i, err)
			return
		}
		c.modal(ctx, i, customID(actCorrect, id), fmt.Sprintf("Correct public reply #%d", id),
			textInput("text", "Corrected reply", dg.TextInputParagraph, d.Text(), "", true, 1800))
	case actClaim:
		c.work(ctx, i, func() (string, error) {
			return fmt.Sprintf("Item #%d is yours.", id), c.svc.Claim(ctx, actor, id)
		})
	case actIgnore:
		c.work(ctx, i, func() (string, error) {
			return fmt.Sprintf("Item #%d is set aside: it needs no public answer.", id), c.svc.Ignore(ctx, actor, id)
		})
	case actApprove:
		c.work(ctx, i, func() (string, error) {
			return fmt.Sprintf("Draft #%d is approved: Liaison is publishing it.", id), c.svc.Approve(ctx, actor, id)
		})
	case actWithdraw:
		c.work(ctx, i, func() (string, error) {
			return fmt.Sprintf("Draft #%d is withdrawn.", id), c.svc.Withdraw(ctx, actor, id)
		})
	case actRetract:
		c.work(ctx, i, func() (string, error) {
			d, err := c.svc.Retract(ctx, actor, id, "")
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("Retraction of reply #%d proposed as draft #%d.", id, d.ID), nil
		})
	default:
		c.ephemeral(ctx, i, "Sorry, Liaison does not know this button.")
	}
}

// onModal takes a submitted form: defer, act, follow up.
func (c *Conn) onModal(ctx context.Context, i *dg.Interaction, actor bot.Actor) {
	data := i.ModalSubmitData()
	v := modalValues(data.Components)
	action, id, ok := parseCustomID(data.CustomID)
	if !ok {
		c.ephemeral(ctx, i, "Sorry, Liaison does not know this form.")
		return
	}
	c.work(ctx, i, func() (string, error) {
		switch action {
		case actReply:
			d, err := c.svc.CreateDraft(ctx, actor, id, v["text"])
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("Draft #%d is in the item's thread.", d.ID), nil
		case actTag:
			var tags []string
			for _, t := range strings.Split(v["tags"], ",") {
				if t = strings.TrimSpace(t); t != "" {
					tags = append(tags, t)
				}
			}
			if len(tags) == 0 {
				return "", bot.Errorf(bot.EINVALID, "Please give at least one tag.")
			}
			return fmt.Sprintf("Item #%d tagged %s.", id, strings.Join(tags, ", ")), c.svc.Tag(ctx, actor, id, tags)
		case actEdit:
			return fmt.Sprintf("Draft #%d is edited and approved: Liaison is publishing it.", id), c.svc.EditApprove(ctx, actor, id, v["text"])
		case actReject:
			return fmt.Sprintf("Draft #%d is rejected; its author is told why.", id), c.svc.Reject(ctx, actor, id, v["reason"])
		case actCorrect:
			d, err := c.svc.Correct(ctx, actor, id, v["text"])
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("Correction proposed as draft #%d.", d.ID), nil
		case actProfile:
			p, err := c.svc.SaveProfile(ctx, actor, bot.ProfileInput{
				Name: v["name"], Title: v["title"], AvatarURL: strings.TrimSpace(v["avatar"]), Pronouns: v["pronouns"],
				Consent: strings.EqualFold(strings.TrimSpace(v["consent"]), "yes"),
			})
			if err != nil {
				return "", err
			}
			if !p.Consented() {
				return "Profile saved. Liaison will not publish replies under your name until you type yes in the consent field.", nil
			}
			return fmt.Sprintf("Profile saved: your public replies will be signed %q.", bot.Username(p.Name, c.svc.Settings.Company)), nil
		}
		return "", bot.Errorf(bot.EINVALID, "Sorry, Liaison does not know this form.")
	})
}

// onCommand runs /liaison.
func (c *Conn) onCommand(ctx context.Context, i *dg.Interaction, actor bot.Actor) {
	data := i.ApplicationCommandData()
	if data.Name != commandName || len(data.Options) == 0 {
		c.ephemeral(ctx, i, c.helpText())
		return
	}
	sub := data.Options[0]
	switch sub.Name {
	case "profile":
		p, err := c.svc.MyProfile(ctx, actor)
		if err != nil {
			c.refuse(ctx, i, err)
			return
		}
		name, avatar, consent := p.Name, p.AvatarURL, ""
		if name == "" {
			name = actor.Name
		}
		if avatar == "" && i.Member != nil && i.Member.User != nil {
			avatar = i.Member.AvatarURL("")
		}
		if p.Consented() {
			consent = "yes"
		}
		c.modal(ctx, i, customID(actProfile, 0), "Your public profile",
			textInput("name", "Public name", dg.TextInputShort, clip(name, 60), "Alice Martin", true, 60),
			textInput("title", "Title", dg.TextInputShort, p.Title, "Product Manager", false, 80),
			textInput("avatar", "Avatar URL", dg.TextInputShort, avatar, "https://…", false, 512),
			textInput("pronouns", "Pronouns (optional)", dg.TextInputShort, p.Pronouns, "she/her", false, 30),
			textInput("consent", "Consent: type yes", dg.TextInputShort, consent, "type yes to agree that replies you write are published under this name", false, 10))
	case "promote", "demote":
		var userID string
		for _, o := range sub.Options {
			if s, ok := o.Value.(string); ok && o.Name == "user" {
				userID = s
			}
		}
		if userID == "" {
			c.ephemeral(ctx, i, "Please name the responder.")
			return
		}
		trusted := sub.Name == "promote"
		c.work(ctx, i, func() (string, error) {
			if _, err := c.svc.SetTrusted(ctx, actor, userID, trusted); err != nil {
				return "", err
			}
			if trusted {
				return fmt.Sprintf("<@%s> now publishes without review on routes that trust responders.", userID), nil
			}
			return fmt.Sprintf("<@%s>'s replies are reviewed again.", userID), nil
		})
	default:
		c.ephemeral(ctx, i, c.helpText())
	}
}

func (c *Conn) helpText() string {
	return "**Liaison** relays what the community says into this team's channels and posts your approved answers back, under your own name.\n" +
		"• On a card: **Reply publicly** drafts an answer, **Claim** takes the item, **Tag** and **Ignore** sort it.\n" +
		"• In a card's thread, a message starting with `" + strings.TrimSpace(c.svc.Settings.ReplyPrefix) + "` becomes a draft too; everything else said there stays internal.\n" +
		"• Approvers **Approve**, **Edit & approve** or **Reject** drafts; a published reply can be corrected or retracted the same way.\n" +
		"• `/liaison profile` sets the name, title and avatar your replies carry, and your consent to publish under them.\n" +
		"• `/liaison promote @user` lets a trusted responder publish without review; `/liaison demote @user` undoes it."
}

func textInput(id, label string, style dg.TextInputStyle, value, placeholder string, required bool, maxLen int) dg.TextInput {
	return dg.TextInput{CustomID: id, Label: label, Style: style, Value: value, Placeholder: placeholder, Required: required, MaxLength: maxLen}
}

// modalValues collects a submitted modal's text inputs by custom_id.
func modalValues(rows []dg.MessageComponent) map[string]string {
	out := map[string]string{}
	for _, r := range rows {
		row, ok := r.(*dg.ActionsRow)
		if !ok {
			continue
		}
		for _, comp := range row.Components {
			if ti, ok := comp.(*dg.TextInput); ok {
				out[ti.CustomID] = ti.Value
			}
		}
	}
	return out
}

// modal answers with a form (callback type 9).
func (c *Conn) modal(ctx context.Context, i *dg.Interaction, id, title string, inputs ...dg.TextInput) {
	rows := make([]dg.MessageComponent, 0, len(inputs))
	for _, in := range inputs {
		rows = append(rows, dg.ActionsRow{Components: []dg.MessageComponent{in}})
	}
	err := c.s.InteractionRespond(i, &dg.InteractionResponse{
		Type: dg.InteractionResponseModal,
		Data: &dg.InteractionResponseData{CustomID: id, Title: clip(title, 45), Components: rows},
	}, dg.WithContext(ctx))
	if err != nil {
		c.log.Error("open modal", "interaction", i.ID, "modal", id, "err", err)
	}
}

// ephemeral answers with a message only the clicker sees (type 4, flags 64).
func (c *Conn) ephemeral(ctx context.Context, i *dg.Interaction, text string) {
	err := c.s.InteractionRespond(i, &dg.InteractionResponse{
		Type: dg.InteractionResponseChannelMessageWithSource,
		Data: &dg.InteractionResponseData{Content: clip(text, maxContent), Flags: dg.MessageFlagsEphemeral, AllowedMentions: noMentions()},
	}, dg.WithContext(ctx))
	if err != nil {
		c.log.Error("answer interaction", "interaction", i.ID, "err", err)
	}
}

// refuse answers with the polite form of a domain error.
func (c *Conn) refuse(ctx context.Context, i *dg.Interaction, err error) {
	if bot.ErrorCode(err) == bot.EINTERNAL {
		c.log.Error("interaction", "interaction", i.ID, "err", err)
	}
	c.ephemeral(ctx, i, bot.ErrorMessage(err))
}

// work defers the answer (ephemeral "thinking…"), runs fn, then replaces the
// deferred answer with fn's result or the polite form of its error. If the
// deferral fails, the clicker already sees a failure: nothing is done.
func (c *Conn) work(ctx context.Context, i *dg.Interaction, fn func() (string, error)) {
	err := c.s.InteractionRespond(i, &dg.InteractionResponse{
		Type: dg.InteractionResponseDeferredChannelMessageWithSource,
		Data: &dg.InteractionResponseData{Flags: dg.MessageFlagsEphemeral},
	}, dg.WithContext(ctx))
	if err != nil {
		c.log.Error("defer interaction", "interaction", i.ID, "err", err)
		return
	}
	msg, err := fn()
	if err != nil {
		if bot.ErrorCode(err) == bot.EINTERNAL {
			c.log.Error("interaction", "interaction", i.ID, "err", err)
		}
		msg = bot.ErrorMessage(err)
	}
	msg = clip(msg, maxContent)
	if _, err := c.s.InteractionResponseEdit(i, &dg.WebhookEdit{Content: &msg, AllowedMentions: noMentions()}, dg.WithContext(ctx)); err != nil {
		c.log.Error("follow up interaction", "interaction", i.ID, "err", err)
	}
}
