package discord

import (
	"cmp"
	"context"
	"strings"

	dg "github.com/bwmarrin/discordgo"

	"github.com/liaison-bot/liaison/bot"
)

// The domain's menu commands (bot.Menus) are context-menu commands: on a
// message (data.type 3, the message in data.resolved.messages under
// data.target_id) or on a user (data.type 2, data.target_id). A form whose
// one field is a choice (Send to team's route) is an ephemeral message
// with a string select, since discordgo v0.29's modals hold text inputs
// only; picking an option submits the form
// (https://discord.com/developers/docs/interactions/receiving-and-responding,
// https://discord.com/developers/docs/components/reference#string-select).

// A menu form's select has the custom_id
// "liaison-menu:<action>:<field>:<channel>:<message>": the action it
// answers, the field its value is for, and the message it is about, which
// is read again by REST when the person picks. It names what the form is
// about, never who may act.
const menuIDSpace = "liaison-menu"

// Discord's limits on a string select
// (https://discord.com/developers/docs/components/reference#string-select).
const (
	maxSelectOptions     = 25
	maxSelectOptionLabel = 100
	maxSelectPlaceholder = 150
)

func menuCustomID(action bot.ActionID, field, channel, message string) string {
	return strings.Join([]string{menuIDSpace, string(action), field, channel, message}, ":")
}

// parseMenuCustomID reads a custom_id menuCustomID made.
func parseMenuCustomID(s string) (action bot.ActionID, field, channel, message string, ok bool) {
	parts := strings.Split(s, ":")
	if len(parts) != 5 || parts[0] != menuIDSpace || parts[1] == "" || parts[2] == "" || parts[3] == "" || parts[4] == "" {
		return "", "", "", "", false
	}
	return bot.ActionID(parts[1]), parts[2], parts[3], parts[4], true
}

// menu translates a menu command, or the pick in a menu form's select,
// reading the message it is about within ctx; req, as request translated
// it, for any other interaction.
func (c *Conn) menu(ctx context.Context, i *dg.Interaction, req bot.Request) bot.Request {
	switch {
	case isMenuSelection(i):
		return c.menuSelection(ctx, i, req)
	case i.Type == dg.InteractionApplicationCommand:
		if t := i.ApplicationCommandData().CommandType; t == dg.MessageApplicationCommand || t == dg.UserApplicationCommand {
			return c.menuRequest(ctx, i, req)
		}
	}
	return req
}

// menuAction is the domain's menu command Discord named name (as
// commands() registered it); "" for none.
func menuAction(name string) bot.ActionID {
	for _, m := range bot.Menus() {
		if clip(m.Name, maxMenuName) == name {
			return m.Action
		}
	}
	return ""
}

// menuRequest translates a context-menu command. The message is the one
// Discord resolved in the interaction, translated as intake translates a
// message; nil when Discord gave none.
func (c *Conn) menuRequest(ctx context.Context, i *dg.Interaction, req bot.Request) bot.Request {
	data := i.ApplicationCommandData()
	req.Kind, req.Action, req.Args = bot.FromMenu, menuAction(data.Name), nil
	switch data.CommandType {
	case dg.UserApplicationCommand:
		req.User = data.TargetID
	case dg.MessageApplicationCommand:
		if data.Resolved == nil {
			break
		}
		if m := data.Resolved.Messages[data.TargetID]; m != nil && m.Author != nil {
			req.Message, req.User = c.menuMessage(ctx, i, m), m.Author.ID
		}
	}
	return req
}

// menuMessage translates the message a menu command or its form is about
// as intake translates a message, in the place of interaction i: neither
// a resolved message nor one read by REST names its guild.
func (c *Conn) menuMessage(ctx context.Context, i *dg.Interaction, m *dg.Message) *bot.Incoming {
	if m.GuildID == "" {
		m.GuildID = i.GuildID
	}
	in := c.incoming(ctx, m)
	in.Direct = i.GuildID == "" // run in a direct message
	return &in
}

// menuSelection translates the pick in a menu form's select: the form's
// submission, about the message read again now (nil when the bot cannot
// read it: the domain says so).
func (c *Conn) menuSelection(ctx context.Context, i *dg.Interaction, req bot.Request) bot.Request {
	data := i.MessageComponentData()
	action, field, channel, message, _ := parseMenuCustomID(data.CustomID)
	req.Kind, req.Action, req.Target, req.Confirmed = bot.Submit, action, 0, false
	req.Values = map[string]string{}
	if len(data.Values) > 0 {
		req.Values[field] = data.Values[0]
	}
	m, err := c.s.ChannelMessage(channel, message, dg.WithContext(ctx))
	if err != nil || m == nil || m.Author == nil {
		c.log.Warn("menu form: the message cannot be read", "channel", channel, "message", message, "err", err)
		return req
	}
	req.Message, req.User = c.menuMessage(ctx, i, m), m.Author.ID
	return req
}

// isMenuSelection reports whether a component interaction is a pick in a
// menu form's select.
func isMenuSelection(i *dg.Interaction) bool {
	if i.Type != dg.InteractionMessageComponent {
		return false
	}
	_, _, _, _, ok := parseMenuCustomID(i.MessageComponentData().CustomID)
	return ok
}

// choiceForm reports whether f is one choice, which Discord shows as a
// select rather than a modal.
func choiceForm(f *bot.Form) bool {
	return len(f.Fields) == 1 && f.Fields[0].Kind == bot.FieldChoice
}

// selectForm renders a one-choice form about the message of req as an
// ephemeral message: its title and intro, and a select of the choice's
// options (the first 25, as many as Discord shows). Picking one submits it.
func selectForm(f *bot.Form, req bot.Request) *dg.InteractionResponseData {
	field := f.Fields[0]
	var channel, message string
	if req.Message != nil {
		channel, message = req.Message.Channel, req.Message.ID
	}
	sel := dg.SelectMenu{
		MenuType:    dg.StringSelectMenu,
		CustomID:    menuCustomID(f.Action, field.ID, channel, message),
		Placeholder: clip(cmp.Or(field.Placeholder, field.Label), maxSelectPlaceholder),
	}
	for _, o := range field.Options[:min(len(field.Options), maxSelectOptions)] {
		// No option is picked at first: picking is what submits.
		sel.Options = append(sel.Options, dg.SelectMenuOption{Label: clip(o.Label, maxSelectOptionLabel), Value: o.Value})
	}
	text := "**" + f.Title + "**"
	if f.Intro != "" {
		text += "\n" + f.Intro
	}
	if field.Hint != "" {
		text += "\n" + field.Label + ": " + field.Hint
	}
	return &dg.InteractionResponseData{
		Content: clip(text, maxContent), Flags: dg.MessageFlagsEphemeral, AllowedMentions: noMentions(),
		Components: rows([]dg.MessageComponent{sel}),
	}
}
