package discordfake_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/liaison-bot/liaison/handlers/discord/discordfake"
)

func TestClickAndRespond(t *testing.T) {
	t.Parallel()
	f, s, ev := fakeSession(t, noContent)

	msg := buttonMessage(t, s, "Publish Alice's answer?", "approve:1", "reject:1")
	if own := recv(t, ev.msgCreate, "the bot's own message"); own.ID != msg.ID || own.Content == "" {
		t.Fatalf("own message = %+v", own.Message) // the app's messages keep their content
	}
	if _, err := f.Click(alice, general, msg.ID, "nope"); err == nil {
		t.Fatal("Click on a missing button succeeded")
	}
	iid, err := f.Click(alice, general, msg.ID, "approve:1")
	if err != nil {
		t.Fatal(err)
	}
	ic := recv(t, ev.interaction, "INTERACTION_CREATE")
	if ic.ID != iid || ic.Type != discordgo.InteractionMessageComponent || ic.AppID != f.ApplicationID() ||
		ic.GuildID != guildID || ic.ChannelID != general || ic.Token == "" {
		t.Fatalf("interaction = %+v", ic.Interaction)
	}
	if ic.Member == nil || ic.Member.User.ID != alice || len(ic.Member.Roles) != 1 || ic.User != nil {
		t.Fatalf("member = %+v, user = %+v", ic.Member, ic.User)
	}
	if d := ic.MessageComponentData(); d.CustomID != "approve:1" || d.ComponentType != discordgo.ButtonComponent {
		t.Fatalf("data = %+v", d)
	}
	if ic.Message == nil || ic.Message.ID != msg.ID || len(ic.Message.Components) != 1 {
		t.Fatalf("message = %+v", ic.Message)
	}

	err = s.InteractionRespond(ic.Interaction, &discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseChannelMessageWithSource,
		Data: &discordgo.InteractionResponseData{Content: "Published.", Flags: discordgo.MessageFlagsEphemeral},
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.InteractionRespond(ic.Interaction, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredMessageUpdate})
	restErr(t, err, http.StatusBadRequest, 40060)

	if rs := f.InteractionResponses(iid); len(rs) != 1 || rs[0].Type != 4 || rs[0].Content != "Published." {
		t.Fatalf("InteractionResponses = %+v", rs)
	}
	eph := f.Ephemerals(alice)
	if len(eph) != 1 || eph[0].Content != "Published." || eph[0].VisibleTo != alice || eph[0].InteractionID != iid {
		t.Fatalf("Ephemerals(alice) = %+v", eph)
	}
	if len(f.Ephemerals(bob)) != 0 || len(f.Messages(general)) != 1 {
		t.Fatal("the ephemeral answer is visible to others")
	}
	// Ephemeral answers are not dispatched; the original response can be edited with the token.
	none(t, ev.msgCreate, "MESSAGE_CREATE of an ephemeral response")
	if _, err := s.InteractionResponseEdit(ic.Interaction, &discordgo.WebhookEdit{Content: ptr("Published (edited).")}); err != nil {
		t.Fatal(err)
	}
	if eph := f.Ephemerals(alice); eph[0].Content != "Published (edited)." {
		t.Fatalf("edited ephemeral = %q", eph[0].Content)
	}
	// A non-member cannot click; a member cannot click what the bot did not send.
	if _, err := f.Click("42", general, msg.ID, "approve:1"); err == nil {
		t.Fatal("unknown user clicked")
	}
	other, err := f.Post(bob, general, "not the bot's")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Click(alice, general, other.ID, "approve:1"); err == nil {
		t.Fatal("clicked a member's message")
	}
}

func ptr[T any](v T) *T { return &v }

func TestInteractionDeadlines(t *testing.T) {
	t.Parallel()
	clk := newClock()
	f := discordfake.MustNew(t, discordfake.Options{Now: clk.Now})
	s, ev := mustSession(t, f, allIntents)
	msg := buttonMessage(t, s, "?", "go")
	recv(t, ev.msgCreate, "the bot's own message")
	if _, err := f.Click(bob, general, msg.ID, "go"); err != nil {
		t.Fatal(err)
	}
	late := recv(t, ev.interaction, "INTERACTION_CREATE")
	clk.Advance(3*time.Second + time.Millisecond)
	err := s.InteractionRespond(late.Interaction, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredMessageUpdate})
	restErr(t, err, http.StatusNotFound, 10062)

	// Deferred in time, a follow-up within 15 minutes fills in the "thinking" message; after
	// that the token is dead.
	if _, err := f.Click(bob, general, msg.ID, "go"); err != nil {
		t.Fatal(err)
	}
	ic := recv(t, ev.interaction, "INTERACTION_CREATE")
	if err := s.InteractionRespond(ic.Interaction, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource}); err != nil {
		t.Fatal(err)
	}
	loading := recv(t, ev.msgCreate, "deferred message")
	if loading.Flags&discordgo.MessageFlagsLoading == 0 || loading.Interaction != nil && loading.Interaction.ID != ic.ID {
		t.Fatalf("deferred message flags = %d", loading.Flags)
	}
	clk.Advance(14 * time.Minute)
	fu, err := s.FollowupMessageCreate(ic.Interaction, true, &discordgo.WebhookParams{Content: "Done."})
	if err != nil {
		t.Fatal(err)
	}
	if fu.ID != loading.ID || fu.Content != "Done." || fu.Flags&discordgo.MessageFlagsLoading != 0 {
		t.Fatalf("first follow-up after defer = %s %q flags %d, want the deferred message %s filled in", fu.ID, fu.Content, fu.Flags, loading.ID)
	}
	if up := recv(t, ev.msgUpdate, "MESSAGE_UPDATE"); up.ID != loading.ID || up.Content != "Done." {
		t.Fatalf("MESSAGE_UPDATE = %+v", up.Message)
	}
	second, err := s.FollowupMessageCreate(ic.Interaction, true, &discordgo.WebhookParams{Content: "One more thing."})
	if err != nil {
		t.Fatal(err)
	}
	if second.ID == loading.ID {
		t.Fatal("second follow-up edited the original")
	}
	if ms := f.InteractionMessages(ic.ID); len(ms) != 2 {
		t.Fatalf("InteractionMessages = %d", len(ms))
	}
	clk.Advance(2 * time.Minute)
	_, err = s.FollowupMessageCreate(ic.Interaction, true, &discordgo.WebhookParams{Content: "too late"})
	restErr(t, err, http.StatusUnauthorized, 50027)
}

func TestModalFlow(t *testing.T) {
	t.Parallel()
	f, s, ev := fakeSession(t, allIntents)
	msg := buttonMessage(t, s, "Draft ready", "reject:7")
	if _, err := f.SubmitModal(alice, general, "reason:7", map[string]string{"text": "x"}); err == nil {
		t.Fatal("submitted a modal nobody opened")
	}
	if _, err := f.Click(alice, general, msg.ID, "reject:7"); err != nil {
		t.Fatal(err)
	}
	ic := recv(t, ev.interaction, "click")
	err := s.InteractionRespond(ic.Interaction, &discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseModal,
		Data: &discordgo.InteractionResponseData{
			CustomID: "reason:7",
			Title:    "Why reject?",
			Components: []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{
				discordgo.TextInput{CustomID: "text", Label: "Reason", Style: discordgo.TextInputParagraph, Required: true, MaxLength: 500},
			}}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if rs := f.InteractionResponses(ic.ID); len(rs) != 1 || rs[0].Type != 9 || rs[0].CustomID != "reason:7" || rs[0].Title != "Why reject?" {
		t.Fatalf("InteractionResponses = %+v", rs)
	}
	if _, err := f.SubmitModal(bob, general, "reason:7", map[string]string{"text": "x"}); err == nil {
		t.Fatal("bob submitted alice's modal")
	}
	if _, err := f.SubmitModal(alice, general, "reason:7", map[string]string{"text": ""}); err == nil {
		t.Fatal("submitted an empty required input")
	}
	sid, err := f.SubmitModal(alice, general, "reason:7", map[string]string{"text": "Off topic"})
	if err != nil {
		t.Fatal(err)
	}
	sub := recv(t, ev.interaction, "modal submit")
	if sub.ID != sid || sub.Type != discordgo.InteractionModalSubmit || sub.Member.User.ID != alice {
		t.Fatalf("modal submit = %+v", sub.Interaction)
	}
	d := sub.ModalSubmitData()
	row, ok := d.Components[0].(*discordgo.ActionsRow)
	if d.CustomID != "reason:7" || !ok {
		t.Fatalf("modal data = %+v", d)
	}
	if ti, ok := row.Components[0].(*discordgo.TextInput); !ok || ti.CustomID != "text" || ti.Value != "Off topic" {
		t.Fatalf("text input = %+v", row.Components[0])
	}
	if sub.Message == nil || sub.Message.ID != msg.ID {
		t.Fatal("a modal opened from a button carries that message")
	}
	// The modal was opened from a component, so the submit may update that message.
	err = s.InteractionRespond(sub.Interaction, &discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseUpdateMessage,
		Data: &discordgo.InteractionResponseData{Content: "Rejected: Off topic", Components: []discordgo.MessageComponent{}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if m, _ := f.MessageByID(msg.ID); m.Content != "Rejected: Off topic" || len(m.Components) != 0 {
		t.Fatalf("updated message = %q %+v", m.Content, m.Components)
	}
	if _, err := f.SubmitModal(alice, general, "reason:7", map[string]string{"text": "again"}); err == nil {
		t.Fatal("a modal was submitted twice")
	}
}

func TestSlashCommands(t *testing.T) {
	t.Parallel()
	f, s, ev := fakeSession(t, allIntents)
	cmds, err := s.ApplicationCommandBulkOverwrite(f.ApplicationID(), guildID, []*discordgo.ApplicationCommand{askCommand()})
	if err != nil {
		t.Fatal(err)
	}
	if len(cmds) != 1 || cmds[0].ID == "" || cmds[0].GuildID != guildID || cmds[0].ApplicationID != f.ApplicationID() {
		t.Fatalf("overwrite returned %+v", cmds)
	}
	again, err := s.ApplicationCommandBulkOverwrite(f.ApplicationID(), guildID, []*discordgo.ApplicationCommand{{Name: "liaison", Description: "Talk to Liaison v2"}})
	if err != nil || again[0].ID != cmds[0].ID {
		t.Fatalf("re-overwrite kept no ID: %v %+v", err, again)
	}
	if _, err := s.ApplicationCommandBulkOverwrite(f.ApplicationID(), guildID, []*discordgo.ApplicationCommand{{Name: "Bad Name", Description: "x"}}); err == nil {
		t.Fatal("invalid command name accepted")
	} else {
		restErr(t, err, http.StatusBadRequest, 50035)
	}
	if _, err := s.ApplicationCommandBulkOverwrite(f.ApplicationID(), guildID, []*discordgo.ApplicationCommand{askCommand()}); err != nil {
		t.Fatal(err)
	}
	if list := f.Commands(guildID); len(list) != 1 || list[0].Name != "liaison" || len(list[0].Options) != 1 {
		t.Fatalf("Commands = %+v", list)
	}
	if _, err := f.RunCommand(alice, general, "unknown", nil); err == nil {
		t.Fatal("ran an unregistered command")
	}
	if _, err := f.RunCommand(alice, general, "liaison", []discordfake.CommandOption{{Name: "ask"}}); err == nil {
		t.Fatal("ran without a required option")
	}
	iid, err := f.RunCommand(alice, general, "liaison", []discordfake.CommandOption{{
		Name:    "ask",
		Options: []discordfake.CommandOption{{Name: "question", Value: "Where is the printer?"}, {Name: "for", Value: bob}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	ic := recv(t, ev.interaction, "command")
	d := ic.ApplicationCommandData()
	if ic.ID != iid || d.Name != "liaison" || d.ID != cmds[0].ID || len(d.Options) != 1 || d.Options[0].Name != "ask" {
		t.Fatalf("command data = %+v", d)
	}
	sub := d.Options[0]
	if q := sub.GetOption("question"); q == nil || q.StringValue() != "Where is the printer?" {
		t.Fatalf("question = %+v", q)
	}
	if u := sub.GetOption("for"); u == nil || u.UserValue(nil).ID != bob || d.Resolved == nil || d.Resolved.Users[bob] == nil {
		t.Fatalf("user option = %+v resolved = %+v", u, d.Resolved)
	}
	if err := s.InteractionRespond(ic.Interaction, &discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseChannelMessageWithSource,
		Data: &discordgo.InteractionResponseData{Content: "Asked."},
	}); err != nil {
		t.Fatal(err)
	}
	m := recv(t, ev.msgCreate, "command response")
	if m.Type != discordgo.MessageTypeChatInputCommand || m.Author.ID != f.Bot().ID || m.InteractionMetadata == nil || m.InteractionMetadata.User.ID != alice {
		t.Fatalf("response message type=%d author=%s meta=%+v", m.Type, m.Author.ID, m.InteractionMetadata)
	}
	// Updating a message is only for component interactions.
	if _, err := f.RunCommand(alice, general, "liaison", []discordfake.CommandOption{{Name: "ask", Options: []discordfake.CommandOption{{Name: "question", Value: "?"}}}}); err != nil {
		t.Fatal(err)
	}
	ic = recv(t, ev.interaction, "command")
	err = s.InteractionRespond(ic.Interaction, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseUpdateMessage, Data: &discordgo.InteractionResponseData{Content: "x"}})
	restErr(t, err, http.StatusBadRequest, 50035)
}

func askCommand() *discordgo.ApplicationCommand {
	return &discordgo.ApplicationCommand{
		Name:        "liaison",
		Description: "Talk to Liaison",
		Options: []*discordgo.ApplicationCommandOption{{
			Type:        discordgo.ApplicationCommandOptionSubCommand,
			Name:        "ask",
			Description: "Ask a question",
			Options: []*discordgo.ApplicationCommandOption{
				{Type: discordgo.ApplicationCommandOptionString, Name: "question", Description: "What to ask", Required: true},
				{Type: discordgo.ApplicationCommandOptionUser, Name: "for", Description: "On behalf of"},
			},
		}},
	}
}

// TestModalLimits: Discord refuses a modal with more than 5 rows, a title over 45 characters,
// a text input label over 45, a placeholder over 100, a max_length over 4000 or under its
// min_length; the fake does too, and takes a modal at every limit.
func TestModalLimits(t *testing.T) {
	t.Parallel()
	f, s, ev := fakeSession(t, allIntents)
	msg := buttonMessage(t, s, "Draft ready", "open")
	input := func(id string) discordgo.TextInput {
		return discordgo.TextInput{CustomID: id, Label: strings.Repeat("l", 45), Style: discordgo.TextInputShort, Placeholder: strings.Repeat("p", 100), MaxLength: 4000}
	}
	rows := func(inputs ...discordgo.TextInput) []discordgo.MessageComponent {
		var out []discordgo.MessageComponent
		for _, in := range inputs {
			out = append(out, discordgo.ActionsRow{Components: []discordgo.MessageComponent{in}})
		}
		return out
	}
	five := rows(input("a"), input("b"), input("c"), input("d"), input("e"))
	change := func(fn func(*discordgo.TextInput)) []discordgo.MessageComponent {
		in := input("a")
		fn(&in)
		return rows(in)
	}
	for _, tc := range []struct {
		name  string
		title string
		rows  []discordgo.MessageComponent
		ok    bool
	}{
		{"every limit", strings.Repeat("t", 45), five, true},
		{"six rows", "t", append(five, rows(input("f"))...), false},
		{"title over 45", strings.Repeat("t", 46), rows(input("a")), false},
		{"label over 45", "t", change(func(in *discordgo.TextInput) { in.Label = strings.Repeat("l", 46) }), false},
		{"placeholder over 100", "t", change(func(in *discordgo.TextInput) { in.Placeholder = strings.Repeat("p", 101) }), false},
		{"max_length over 4000", "t", change(func(in *discordgo.TextInput) { in.MaxLength = 4001 }), false},
		{"min_length above max_length", "t", change(func(in *discordgo.TextInput) { in.MinLength, in.MaxLength = 20, 10 }), false},
		{"no label", "t", change(func(in *discordgo.TextInput) { in.Label = "" }), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := f.Click(alice, general, msg.ID, "open"); err != nil {
				t.Fatal(err)
			}
			ic := recv(t, ev.interaction, "click")
			err := s.InteractionRespond(ic.Interaction, &discordgo.InteractionResponse{
				Type: discordgo.InteractionResponseModal,
				Data: &discordgo.InteractionResponseData{CustomID: "form", Title: tc.title, Components: tc.rows},
			})
			if tc.ok {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			restErr(t, err, http.StatusBadRequest, 50035)
		})
	}
}
