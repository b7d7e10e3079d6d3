package slack

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	slackapi "github.com/slack-go/slack"

	"github.com/liaison-bot/liaison/bot"
)

// blockJSON is blocks as slack-go sends them.
func blockJSON(t *testing.T, blocks []slackapi.Block) string {
	t.Helper()
	b, err := json.Marshal(blocks)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestModalView: a domain form becomes a modal generically, within Slack's
// limits; what it says is the domain's.
func TestModalView(t *testing.T) {
	f := &bot.Form{
		Action: bot.ActProfile, Target: 42, Title: "A title far longer than Slack allows", Submit: "Save it all, please, right now",
		Intro: "Intro <b>",
		Fields: []bot.Field{
			{ID: "name", Label: "Public name", Placeholder: strings.Repeat("p", 200), Initial: "Alice Martin", Required: true, MaxLen: 5},
			{ID: "bio", Label: "Bio", Hint: "A hint.", Initial: strings.Repeat("b", 4000), MaxLen: 5000, Multiline: true},
			{ID: "consent", Kind: bot.FieldCheck, Label: "Consent", Hint: "Why.", Option: "I agree", Keyword: "yes", Checked: true},
		},
	}
	v := modalView(f, formMeta{Target: 42, Channel: "C1", Thread: "1.2", ResponseURL: "https://hooks.slack.com/x"})
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Type            string `json:"type"`
		CallbackID      string `json:"callback_id"`
		PrivateMetadata string `json:"private_metadata"`
		Title, Submit   struct{ Text string }
		Close           *struct{ Text string }
		Blocks          []struct {
			Type     string
			BlockID  string `json:"block_id"`
			Optional bool
			Label    struct{ Text string }
			Hint     *struct{ Text string }
			Text     *struct{ Type, Text string }
			Element  struct {
				Type           string
				ActionID       string `json:"action_id"`
				Multiline      bool
				InitialValue   string `json:"initial_value"`
				MaxLength      int    `json:"max_length"`
				Placeholder    *struct{ Text string }
				Options        []struct{ Value string }
				InitialOptions []struct{ Value string } `json:"initial_options"`
			}
		}
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	if got.Type != "modal" || got.CallbackID != "liaison_profile" || got.Close != nil {
		t.Errorf("modal = %s", raw)
	}
	if n := utf8.RuneCountInString(got.Title.Text); n != modalTitleMax || !strings.HasSuffix(got.Title.Text, "…") {
		t.Errorf("title %q (%d characters)", got.Title.Text, n)
	}
	if n := utf8.RuneCountInString(got.Submit.Text); n > modalButtonMax {
		t.Errorf("submit %q (%d characters)", got.Submit.Text, n)
	}
	var meta formMeta
	if err := json.Unmarshal([]byte(got.PrivateMetadata), &meta); err != nil || meta != (formMeta{Target: 42, Channel: "C1", Thread: "1.2", ResponseURL: "https://hooks.slack.com/x"}) {
		t.Errorf("private_metadata = %q", got.PrivateMetadata)
	}
	if len(got.Blocks) != 4 || got.Blocks[0].Type != "section" || got.Blocks[0].Text.Type != "plain_text" || got.Blocks[0].Text.Text != "Intro <b>" {
		t.Fatalf("blocks = %s", raw)
	}
	name, bio, consent := got.Blocks[1], got.Blocks[2], got.Blocks[3]
	if name.BlockID != "name" || name.Optional || name.Label.Text != "Public name" || name.Element.ActionID != inputAction ||
		name.Element.Type != "plain_text_input" || name.Element.MaxLength != 5 || name.Element.InitialValue != "Alice" ||
		utf8.RuneCountInString(name.Element.Placeholder.Text) != placeholderMax || name.Element.Multiline {
		t.Errorf("name = %+v", name)
	}
	if bio.BlockID != "bio" || !bio.Optional || bio.Hint.Text != "A hint." || !bio.Element.Multiline ||
		bio.Element.MaxLength != textInputMax || len(bio.Element.InitialValue) != textInputMax || bio.Element.Placeholder != nil {
		t.Errorf("bio = %+v", bio)
	}
	if consent.BlockID != "consent" || !consent.Optional || consent.Element.Type != "checkboxes" || consent.Element.ActionID != inputAction ||
		len(consent.Element.Options) != 1 || consent.Element.Options[0].Value != "yes" || len(consent.Element.InitialOptions) != 1 {
		t.Errorf("consent = %+v", consent)
	}
	f.Fields[2].Checked = false
	if raw, _ := json.Marshal(modalView(f, formMeta{})); strings.Contains(string(raw), "initial_options") {
		t.Error("an unticked box starts ticked")
	}
	// A response_url too long for private_metadata is left out.
	v = modalView(f, formMeta{Target: 1, Channel: "C1", ResponseURL: "https://x/" + strings.Repeat("r", privateMetadataMax)})
	if len(v.PrivateMetadata) > privateMetadataMax || !strings.Contains(v.PrivateMetadata, `"channel":"C1"`) {
		t.Errorf("private_metadata = %q", v.PrivateMetadata)
	}
}

// TestFormValues: a submission's values by field id; a ticked box gives its
// keyword, an unticked one "".
func TestFormValues(t *testing.T) {
	state := &slackapi.ViewState{Values: map[string]map[string]slackapi.BlockAction{
		"text":    {inputAction: {Type: "plain_text_input", Value: "Hello"}},
		"consent": {inputAction: {Type: "checkboxes", SelectedOptions: []slackapi.OptionBlockObject{{Value: "yes"}}}},
		"none":    {inputAction: {Type: "checkboxes"}},
		"other":   {"elsewhere": {Type: "plain_text_input", Value: "ignored"}},
	}}
	got := formValues(state)
	if len(got) != 3 || got["text"] != "Hello" || got["consent"] != "yes" || got["none"] != "" {
		t.Errorf("values = %v", got)
	}
	if got := formValues(nil); len(got) != 0 {
		t.Errorf("no state: %v", got)
	}
}

func TestErrorBlock(t *testing.T) {
	v := slackapi.View{Blocks: slackapi.Blocks{BlockSet: []slackapi.Block{
		slackapi.NewSectionBlock(plain("intro"), nil, nil),
		slackapi.NewInputBlock("name", plain("Name"), nil, slackapi.NewPlainTextInputBlockElement(nil, inputAction)),
		slackapi.NewInputBlock("avatar", plain("Avatar"), nil, slackapi.NewPlainTextInputBlockElement(nil, inputAction)),
	}}}
	for field, want := range map[string]string{"avatar": "avatar", "name": "name", "": "name", "gone": "name"} {
		if got := errorBlock(v, field); got != want {
			t.Errorf("errorBlock(%q) = %q, want %q", field, got, want)
		}
	}
	if got := errorBlock(slackapi.View{}, "name"); got != "" {
		t.Errorf("no inputs: %q", got)
	}
}

// TestFactBlocks: inline facts sit side by side, at most 10 fields of at
// most 2000 characters a section; the others get sections of their own.
func TestFactBlocks(t *testing.T) {
	var facts []bot.Fact
	for i := range 12 {
		facts = append(facts, bot.Fact{Label: fmt.Sprintf("L%d", i), Value: "v <b>", Inline: true})
	}
	facts[3].Value = strings.Repeat("x", 2500)
	facts[4].Links = []bot.Link{{Text: "the post", URL: "https://a.test/p"}, {Text: "bad", URL: "javascript:x"}}
	facts = append(facts, bot.Fact{Label: "History", Value: "a\nb"}, bot.Fact{Label: "Tags", Value: "t", Inline: true})
	blocks := factBlocks(facts)
	raw := blockJSON(t, blocks)
	var got []struct {
		Type   string
		Text   *struct{ Text string }
		Fields []struct{ Type, Text string }
	}
	if err := json.Unmarshal([]byte(raw), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 || len(got[0].Fields) != 10 || len(got[1].Fields) != 2 || got[2].Text == nil || len(got[3].Fields) != 1 {
		t.Fatalf("blocks = %s", raw)
	}
	for _, b := range got {
		for _, f := range b.Fields {
			if f.Type != "mrkdwn" || utf8.RuneCountInString(f.Text) > sectionFieldMax {
				t.Errorf("field %.40q… (%d characters)", f.Text, utf8.RuneCountInString(f.Text))
			}
		}
	}
	if f := got[0].Fields[0].Text; f != "*L0*\nv &lt;b&gt;" {
		t.Errorf("field = %q", f)
	}
	if f := got[0].Fields[4].Text; f != "*L4*\nv &lt;b&gt;\n<https://a.test/p|the post>\nbad javascript:x" {
		t.Errorf("links = %q", f)
	}
	if got[2].Text.Text != "*History*\na\nb" || got[3].Fields[0].Text != "*Tags*\nt" {
		t.Errorf("own section = %q, after = %q", got[2].Text.Text, got[3].Fields[0].Text)
	}
}

// TestButtons: the domain's buttons, with their style and question.
func TestButtons(t *testing.T) {
	blocks := actionBlocks([]bot.Button{
		{Action: bot.ActReply, Target: 7, Label: "Reply publicly", Style: bot.StylePrimary},
		{Action: bot.ActRetract, Target: 8, Label: strings.Repeat("R", 80), Style: bot.StyleDanger, Confirm: &bot.Confirm{
			Title: strings.Repeat("t", 120), Text: strings.Repeat("x", 400), OK: strings.Repeat("o", 40), Cancel: "Cancel",
		}},
		{Action: "frobnicate", Target: 9, Label: "Other"},
	})
	if len(blocks) != 1 {
		t.Fatalf("%d blocks", len(blocks))
	}
	var got []struct {
		Elements []struct {
			ActionID string `json:"action_id"`
			Value    string
			Style    string
			Text     struct{ Type, Text string }
			Confirm  *struct {
				Title, Text, Confirm, Deny struct{ Text string }
				Style                      string
			}
		}
	}
	raw := blockJSON(t, blocks)
	if err := json.Unmarshal([]byte(raw), &got); err != nil {
		t.Fatal(err)
	}
	els := got[0].Elements
	if els[0].ActionID != "liaison_reply" || els[0].Value != "7" || els[0].Style != "primary" || els[0].Text.Text != "Reply publicly" || els[0].Confirm != nil {
		t.Errorf("reply = %+v", els[0])
	}
	r := els[1]
	if r.ActionID != "liaison_retract" || r.Value != "8" || r.Style != "danger" || utf8.RuneCountInString(r.Text.Text) != buttonTextMax || r.Confirm == nil {
		t.Fatalf("retract = %+v", r)
	}
	if c := r.Confirm; utf8.RuneCountInString(c.Title.Text) != confirmTitleMax || utf8.RuneCountInString(c.Text.Text) != confirmTextMax ||
		utf8.RuneCountInString(c.Confirm.Text) != confirmButtonMax || c.Deny.Text != "Cancel" || c.Style != "danger" {
		t.Errorf("confirm = %+v", c)
	}
	if els[2].ActionID != "liaison_frobnicate" || els[2].Style != "" {
		t.Errorf("other = %+v", els[2])
	}
}

// TestCardWithinLimits: a card of any length fits Slack's 50 blocks and
// keeps its facts and actions.
func TestCardWithinLimits(t *testing.T) {
	card := &bot.Card{
		AuthorName: "Mia <x>", Title: "#1 · community", Link: "https://a.test/m", LinkLabel: "View original",
		Text: strings.Repeat("word ", 40000), Summary: "Mia in community: word",
		Facts:   []bot.Fact{{Label: "Status", Value: "New", Inline: true}},
		Notes:   []string{"✏️ Edited"},
		Footer:  "From Slack · Liaison item #1",
		Actions: []bot.Button{{Action: bot.ActClaim, Target: 1, Label: "Claim"}},
	}
	text, blocks := cardMessage(card)
	if text != "Mia in community: word" || len(blocks) != messageBlocksMax {
		t.Fatalf("text %q, %d blocks", text, len(blocks))
	}
	raw := blockJSON(t, blocks)
	for _, want := range []string{`"text":"*Mia \u0026lt;x\u0026gt;* · #1 · community · \u003chttps://a.test/m|View original\u003e"`, `"*Status*\nNew"`, `"✏️ Edited"`, `"From Slack · Liaison item #1"`, `"liaison_claim"`} {
		if !strings.Contains(raw, want) {
			t.Errorf("card lacks %s", want)
		}
	}
}

// TestDraftCardPreview: the three previews of a draft card.
func TestDraftCardPreview(t *testing.T) {
	dc := &bot.DraftCard{
		Title: "Draft #1 · public reply (v1)", Summary: "Draft #1", PreviewText: "@Mia Yes <b>",
		Preview:        bot.PublicPost{Username: "Alice Martin · Acme", AvatarURL: "https://a.test/a.png", Byline: "Alice Martin, PM at Acme", Signature: "— Alice Martin, PM at Acme"},
		CustomIdentity: true, PreviewNote: "",
	}
	_, blocks := draftCardMessage(dc)
	raw := blockJSON(t, blocks)
	for _, want := range []string{`"*Draft #1 · public reply (v1)*"`, `"image_url":"https://a.test/a.png","alt_text":"Alice Martin · Acme"`, `"*Alice Martin · Acme*"`, `"@Mia Yes \u0026lt;b\u0026gt;"`, `"Alice Martin, PM at Acme"`} {
		if !strings.Contains(raw, want) {
			t.Errorf("custom preview lacks %s:\n%s", want, raw)
		}
	}
	dc.CustomIdentity, dc.PreviewNote = false, "Posted by the app."
	_, blocks = draftCardMessage(dc)
	raw = blockJSON(t, blocks)
	if !strings.Contains(raw, `"Posted by the app."`) || !strings.Contains(raw, `"@Mia Yes \u0026lt;b\u0026gt;\n— Alice Martin, PM at Acme"`) || strings.Contains(raw, "image") {
		t.Errorf("signed preview:\n%s", raw)
	}
	dc.Kind, dc.PreviewText = bot.DraftRetraction, "(deleted)"
	_, blocks = draftCardMessage(dc)
	if raw = blockJSON(t, blocks); !strings.Contains(raw, `"_(deleted)_"`) || strings.Contains(raw, "Alice Martin, PM") {
		t.Errorf("retraction preview:\n%s", raw)
	}
}
