package discordfake_test

import (
	"testing"

	"github.com/bwmarrin/discordgo"
)

// A member runs the app's context-menu commands on a message and on a user; the app answers
// with an ephemeral select, which the member picks in.
func TestContextMenuCommands(t *testing.T) {
	t.Parallel()
	f, s, ev := fakeSession(t, noContent)
	menus := []*discordgo.ApplicationCommand{
		{Type: discordgo.MessageApplicationCommand, Name: "Send to team"},
		{Type: discordgo.UserApplicationCommand, Name: "Member history"},
	}
	if _, err := s.ApplicationCommandBulkOverwrite(f.ApplicationID(), guildID, menus); err != nil {
		t.Fatal(err)
	}
	posted, err := f.Post(bob, general, "Where is the export button?")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.RunMessageCommand(alice, general, "Member history", posted.ID); err == nil {
		t.Fatal("ran a user command on a message")
	}
	if _, err := f.RunMessageCommand(alice, general, "Send to team", "1"); err == nil {
		t.Fatal("ran a message command on no message")
	}

	iid, err := f.RunMessageCommand(alice, general, "Send to team", posted.ID)
	if err != nil {
		t.Fatal(err)
	}
	ic := recv(t, ev.interaction, "message command")
	d := ic.ApplicationCommandData()
	if ic.ID != iid || ic.Type != discordgo.InteractionApplicationCommand || d.CommandType != discordgo.MessageApplicationCommand ||
		d.Name != "Send to team" || d.TargetID != posted.ID || ic.Member == nil || ic.Member.User.ID != alice {
		t.Fatalf("interaction = %+v, data = %+v", ic.Interaction, d)
	}
	m := d.Resolved.Messages[posted.ID]
	if m == nil || m.Author == nil || m.Author.ID != bob || m.Content != "Where is the export button?" || m.ChannelID != general {
		t.Fatalf("resolved message = %+v (its content stays, Message Content intent or not)", m)
	}

	sel := discordgo.SelectMenu{MenuType: discordgo.StringSelectMenu, CustomID: "route", Options: []discordgo.SelectMenuOption{
		{Label: "product", Value: "product"}, {Label: "support (default)", Value: "support"},
	}}
	if err := s.InteractionRespond(ic.Interaction, &discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseChannelMessageWithSource,
		Data: &discordgo.InteractionResponseData{Content: "Pick a route", Flags: discordgo.MessageFlagsEphemeral,
			Components: []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{sel}}}},
	}); err != nil {
		t.Fatal(err)
	}
	eph := f.Ephemerals(alice)
	if len(eph) != 1 {
		t.Fatalf("ephemerals = %+v", eph)
	}
	if _, err := f.Select(bob, general, eph[0].ID, "route", []string{"product"}); err == nil {
		t.Fatal("another member picked in alice's ephemeral select")
	}
	if _, err := f.Select(alice, general, eph[0].ID, "route", []string{"sales"}); err == nil {
		t.Fatal("picked an option the select does not have")
	}
	pick, err := f.Select(alice, general, eph[0].ID, "route", []string{"product"})
	if err != nil {
		t.Fatal(err)
	}
	ic = recv(t, ev.interaction, "the pick")
	if cd := ic.MessageComponentData(); ic.ID != pick || cd.CustomID != "route" || len(cd.Values) != 1 || cd.Values[0] != "product" {
		t.Fatalf("pick = %+v", cd)
	}
	if err := s.InteractionRespond(ic.Interaction, &discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseUpdateMessage,
		Data: &discordgo.InteractionResponseData{Content: "Sent to the team.", Components: []discordgo.MessageComponent{}},
	}); err != nil {
		t.Fatal(err)
	}
	if eph := f.Ephemerals(alice); len(eph) != 1 || eph[0].Content != "Sent to the team." || len(eph[0].Components) != 0 {
		t.Fatalf("updated ephemeral = %+v", eph)
	}

	uid, err := f.RunUserCommand(alice, general, "Member history", bob)
	if err != nil {
		t.Fatal(err)
	}
	ic = recv(t, ev.interaction, "user command")
	d = ic.ApplicationCommandData()
	if ic.ID != uid || d.CommandType != discordgo.UserApplicationCommand || d.TargetID != bob ||
		d.Resolved == nil || d.Resolved.Users[bob] == nil || d.Resolved.Members[bob] == nil {
		t.Fatalf("user command data = %+v", d)
	}
	if _, err := f.RunUserCommand(alice, general, "Member history", "42"); err == nil {
		t.Fatal("ran a user command on nobody")
	}
	if _, err := f.RunUserCommand(alice, general, "Send to team", bob); err == nil {
		t.Fatal("ran a message command on a user")
	}
}
