package discord

import (
	"context"
	"slices"
	"time"

	dg "github.com/bwmarrin/discordgo"

	"github.com/liaison-bot/liaison/bot"
)

// actorOf is who acted, as Discord identifies them: the member in a guild,
// the user in a DM. Groups are the member's role IDs.
func (c *Conn) actorOf(i *dg.Interaction) (bot.Actor, bool) {
	switch {
	case i.Member != nil && i.Member.User != nil:
		m := *i.Member
		if m.GuildID == "" {
			m.GuildID = i.GuildID // interactions omit it; the member's avatar URL needs it
		}
		return bot.Actor{Conn: c.name, UserID: m.User.ID, Name: m.DisplayName(), Groups: m.Roles, AvatarURL: m.AvatarURL("")}, true
	case i.User != nil:
		return bot.Actor{Conn: c.name, UserID: i.User.ID, Name: i.User.DisplayName(), AvatarURL: i.User.AvatarURL("")}, true
	}
	return bot.Actor{}, false
}

// request translates an interaction into what the person did. A custom_id
// Liaison did not make leaves the action empty: the domain refuses it.
// Menu commands and their forms' selects are translated by menus.go.
func (c *Conn) request(i *dg.Interaction) (bot.Request, bool) {
	actor, ok := c.actorOf(i)
	if !ok {
		return bot.Request{}, false
	}
	req := bot.Request{Actor: actor, Channel: i.ChannelID}
	switch i.Type {
	case dg.InteractionMessageComponent:
		req.Kind = bot.Click
		req.Action, req.Target, req.Confirmed, _ = parseCustomID(i.MessageComponentData().CustomID)
	case dg.InteractionModalSubmit:
		data := i.ModalSubmitData()
		req.Kind = bot.Submit
		req.Action, req.Target, _, _ = parseCustomID(data.CustomID)
		req.Values = modalValues(data.Components)
	case dg.InteractionApplicationCommand:
		data := i.ApplicationCommandData()
		req.Kind = bot.Command
		if data.Name != bot.CommandName || len(data.Options) == 0 {
			break
		}
		sub := data.Options[0]
		req.Action = bot.ActionID(sub.Name)
		req.Args = commandArgs(sub)
	default:
		return bot.Request{}, false
	}
	return req, true
}

// commandArgs reads a subcommand's options as the domain declared its
// arguments: a user option's user id, a string option's text. An option
// of another name or type is not Liaison's and is left out.
func commandArgs(sub *dg.ApplicationCommandInteractionDataOption) map[string]string {
	defs := bot.SubCommandArgs(sub.Name)
	var args map[string]string
	for _, o := range sub.Options {
		i := slices.IndexFunc(defs, func(a bot.CommandArg) bool { return a.Name == o.Name && optionType(a.Kind) == o.Type })
		if i < 0 {
			continue
		}
		if v, ok := o.Value.(string); ok && v != "" {
			if args == nil {
				args = map[string]string{}
			}
			args[o.Name] = v
		}
	}
	return args
}

// interactionBudget is how long the domain may take on an interaction:
// Discord wants the answer within 3 seconds of the click, and the answer
// itself takes time to get there.
const interactionBudget = 2500 * time.Millisecond

// onInteraction answers a click, a form or a command, received at. The
// domain acts first, and the answer says what it did: an interaction is
// acknowledged only once its effect is committed, so a crash in between
// leaves the person with Discord's "interaction failed", never with a
// confirmation of something that did not happen. If the domain does not
// finish within the budget, its context ends, which rolls its transaction
// back, and nothing is answered: Discord tells the person it failed. A form
// opens at once (opening one commits nothing); its submission is answered
// like a click.
func (c *Conn) onInteraction(ctx context.Context, i *dg.Interaction, at time.Time) {
	dctx, cancel := context.WithDeadline(ctx, at.Add(c.interactionBudget()))
	req, ok := c.request(i)
	if !ok {
		cancel()
		return
	}
	req = c.menu(dctx, i, req)
	reply := c.interact(dctx, i, req)
	late := dctx.Err() != nil
	cancel()
	if ctx.Err() != nil {
		return // shutting down
	}
	if late && reply.Err != nil {
		c.log.Warn("interaction not answered: the domain did not finish in time", "interaction", i.ID, "action", req.Action, "err", reply.Err)
		return
	}
	if reply.Form != nil && req.Kind == bot.FromMenu && choiceForm(reply.Form) {
		c.respond(ctx, i, &dg.InteractionResponse{Type: dg.InteractionResponseChannelMessageWithSource, Data: selectForm(reply.Form, req)})
		return
	}
	if reply.Form != nil && req.Kind != bot.Submit {
		if len(reply.Form.Fields) > maxRows {
			c.log.Error("form has more fields than a Discord modal holds; the last are left out", "action", req.Action, "fields", len(reply.Form.Fields), "max", maxRows)
		}
		c.respond(ctx, i, &dg.InteractionResponse{Type: dg.InteractionResponseModal, Data: modal(reply.Form)})
		return
	}
	text, comps := reply.Text, []dg.MessageComponent(nil)
	for _, l := range reply.Links {
		text += "\n" + markdownLink(l)
	}
	switch {
	case reply.Confirm != nil:
		// Discord has no confirmation dialog on buttons: the question is
		// asked here, with a button that clicks the action again, confirmed.
		text = reply.Confirm.Text
		if reply.Confirm.Title != "" {
			text = "**" + reply.Confirm.Title + "**\n" + text
		}
		comps = rows([]dg.MessageComponent{dg.Button{
			Label: clip(reply.Confirm.OK, maxButtonLabel), Style: dg.DangerButton,
			CustomID: customID(req.Action, req.Target, true),
		}})
	case reply.Form != nil:
		c.log.Error("interaction: a form cannot answer a form", "interaction", i.ID, "action", req.Action)
		text = bot.ErrorMessage(bot.ErrFormNotOpened)
	}
	if isMenuSelection(i) {
		// The answer takes the place of the select it answers, in the
		// same ephemeral message.
		if comps == nil {
			comps = []dg.MessageComponent{}
		}
		c.respond(ctx, i, &dg.InteractionResponse{
			Type: dg.InteractionResponseUpdateMessage,
			Data: &dg.InteractionResponseData{Content: clip(text, maxContent), Components: comps, AllowedMentions: noMentions()},
		})
		return
	}
	c.respond(ctx, i, &dg.InteractionResponse{
		Type: dg.InteractionResponseChannelMessageWithSource,
		Data: &dg.InteractionResponseData{Content: clip(text, maxContent), Components: comps, Flags: dg.MessageFlagsEphemeral, AllowedMentions: noMentions()},
	})
}

func (c *Conn) interactionBudget() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.budget > 0 {
		return c.budget
	}
	return interactionBudget
}

// interact hands req to the domain and logs what went wrong inside it.
func (c *Conn) interact(ctx context.Context, i *dg.Interaction, req bot.Request) bot.Reply {
	reply := c.d.Interact(ctx, req)
	if reply.Err != nil && bot.ErrorCode(reply.Err) == bot.EINTERNAL {
		c.log.Error("interaction", "interaction", i.ID, "action", req.Action, "target", req.Target, "err", reply.Err)
	}
	return reply
}

// respond sends the interaction's first answer; false if Discord refused it.
func (c *Conn) respond(ctx context.Context, i *dg.Interaction, r *dg.InteractionResponse) bool {
	if err := c.s.InteractionRespond(i, r, dg.WithContext(ctx)); err != nil {
		if ctx.Err() != nil {
			return false // shutting down
		}
		c.log.Error("answer interaction", "interaction", i.ID, "type", r.Type, "err", err)
		return false
	}
	return true
}
