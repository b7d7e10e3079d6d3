package slack_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/handlers/slack/slackfake"
)

// The message shortcuts on Slack: Send to team and Member history, run in
// the community workspace, for staff only. U0ALICEC is Alice's own account
// there: the config links it to her profile.

const (
	aliceC    = "U0ALICEC"
	randomCh  = "C0RANDOM" // a channel Liaison does not watch, and is not in
	scSend    = actionPrefix + string(bot.ActSendToTeam)
	scHistory = actionPrefix + string(bot.ActMemberHistory)
)

func withShortcuts(c *envConfig) {
	c.pub = func(o *slackfake.Options) {
		o.Users = append(o.Users, slackfake.User{ID: aliceC, Name: "alice", RealName: "Alice Martin"})
		o.Channels = append(o.Channels, slackfake.Channel{ID: randomCh, Name: "random", Members: []string{member, other, aliceC}})
		o.Channels[0].Members = append(o.Channels[0].Members, aliceC)
	}
	c.config = func(yaml string) string {
		return strings.Replace(yaml, `identities: [{connection: internal, user_id: "${ALICE}"}]`,
			`identities: [{connection: internal, user_id: "${ALICE}"}, {connection: community, user_id: "`+aliceC+`"}]`, 1)
	}
}

// modalBlock is an input block of a modal, as views.open returns it.
type modalBlock struct {
	BlockID string `json:"block_id"`
	Element struct {
		Type          string            `json:"type"`
		Options       []json.RawMessage `json:"options"`
		InitialOption struct {
			Value string `json:"value"`
		} `json:"initial_option"`
	} `json:"element"`
}

// pubView waits for the modal the community workspace shows user.
func (e *env) pubView(user, callbackID string) slackfake.View {
	e.t.Helper()
	var v slackfake.View
	e.wait(e.pub, "modal "+callbackID, func() bool {
		views := e.pub.Views(user)
		if len(views) == 1 && views[0].CallbackID == callbackID {
			v = views[0]
			return true
		}
		return false
	})
	return v
}

// told waits for the nth ephemeral message (1-based) the community
// workspace shows user, and returns its text.
func (e *env) told(user string, n int) string {
	e.t.Helper()
	e.wait(e.pub, fmt.Sprintf("ephemeral %d to %s", n, user), func() bool { return len(e.pub.Ephemerals(user)) >= n })
	return e.pub.Ephemerals(user)[n-1].Text
}

func (e *env) storedRows(table string) int64 {
	e.t.Helper()
	n, err := e.liaison.DB.RowCount(e.ctx, table)
	check(e.t, err)
	return n
}

func TestSendToTeamOnSlack(t *testing.T) {
	for _, mode := range []string{"socket", "http"} {
		t.Run(mode, func(t *testing.T) {
			eachEngine(t, func(t *testing.T, engine string) {
				e := newEnv(t, engine, withShortcuts, func(c *envConfig) { c.httpMode = mode == "http" })
				ts := e.ts(e.pub.Post(member, randomCh, "<!everyone> how do I export my data?"))

				// Otto is no staff: a polite refusal, to him alone.
				check(t, e.pub.MessageShortcut(other, randomCh, ts, scSend))
				if got := e.told(other, 1); got != bot.ErrStaffOnly.Message {
					t.Fatalf("Otto was told %q", got)
				}
				if n := e.storedRows("messages"); n != 0 {
					t.Fatalf("%d messages stored", n)
				}

				// Alice picks the route in a modal.
				check(t, e.pub.MessageShortcut(aliceC, randomCh, ts, scSend))
				v := e.pubView(aliceC, scSend)
				var view struct {
					Blocks []modalBlock `json:"blocks"`
				}
				check(t, json.Unmarshal(v.JSON, &view))
				i := slices.IndexFunc(view.Blocks, func(b modalBlock) bool { return b.BlockID == bot.FieldRouteID })
				if i < 0 || view.Blocks[i].Element.Type != "static_select" || len(view.Blocks[i].Element.Options) != 1 ||
					view.Blocks[i].Element.InitialOption.Value != "product" || len(v.PrivateMetadata) > 3000 {
					t.Fatalf("modal = %s", v.JSON)
				}
				check(t, e.pub.SubmitView(aliceC, v.ID, map[string]map[string]string{bot.FieldRouteID: {inputAction: "product"}}))
				if got := e.told(aliceC, 1); !strings.HasPrefix(got, "Sent to the team: item #1, on route product. Mia was not notified.") {
					t.Fatalf("Alice was told %q", got)
				}

				card := e.waitCard(1)
				expectShown(t, "card", card, "how do I export my data?")
				if p := slackfake.Pings(card); len(p) != 0 {
					t.Errorf("the card pings %v", p)
				}
				for _, m := range e.pub.Messages(randomCh) {
					if m.TS != ts {
						t.Errorf("posted in the community: %+v", m)
					}
				}
				if len(e.pub.Ephemerals(member)) != 0 {
					t.Errorf("Mia was told: %+v", e.pub.Ephemerals(member))
				}

				// Again: the item it is, with its card.
				it, err := e.liaison.Service.ItemByCardThread(e.ctx, "internal", productCh, card.TS)
				check(t, err)
				check(t, e.pub.MessageShortcut(aliceC, randomCh, ts, scSend))
				got := e.told(aliceC, 2)
				if !strings.HasPrefix(got, "This message is already item #1, on route product: nothing changed.") || !strings.Contains(got, it.CardLink) {
					t.Fatalf("again, Alice was told %q", got)
				}
				if n := e.storedRows("items"); n != 1 {
					t.Fatalf("%d items", n)
				}

				// Member history, on the member's message: to Alice alone.
				check(t, e.pub.MessageShortcut(aliceC, randomCh, ts, scHistory))
				got = e.told(aliceC, 3)
				if !strings.HasPrefix(got, "Mia: 1 item here, newest first.\n#1 · ") || !strings.Contains(got, "how do I export my data?") {
					t.Fatalf("Member history: %q", got)
				}
				if len(e.pub.Ephemerals(other)) != 1 {
					t.Errorf("Otto saw more: %+v", e.pub.Ephemerals(other))
				}
			})
		})
	}
}

// TestMemberHistoryOnSlack: the history shows how an item was answered,
// with the link to the public answer.
func TestMemberHistoryOnSlack(t *testing.T) {
	e := newEnv(t, "sqlite", withShortcuts)
	root, card := e.ask(1, "How do I export invoices?")
	check(t, e.staff.Click(alice, productCh, card.TS, actReply))
	e.submit(alice, e.openView(alice, cbReply), map[string]map[string]string{blockText: text("Settings, then Billing.")})
	draftCard := e.waitButton(card.TS, actApprove)
	check(t, e.staff.Click(bob, productCh, draftCard.TS, actApprove))
	pub := e.waitPublicReply(root)
	d := e.draft(idOf(t, draftCard, actApprove))
	e.waitStore("the public link recorded", func() bool { d = e.draft(d.ID); return d.PublicLink != "" })

	later := e.ts(e.pub.Post(member, randomCh, "thanks!"))
	check(t, e.pub.MessageShortcut(aliceC, randomCh, later, scHistory))
	got := e.told(aliceC, 1)
	for _, want := range []string{
		"Mia: 1 item here, newest first.\n#1 · ",
		" · answered by Alice Martin · “How do I export invoices?”\n",
		"<" + d.PublicLink + "|#1: the public answer>",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("history lacks %q:\n%s", want, got)
		}
	}
	if !strings.Contains(d.PublicLink, strings.Replace(pub.TS, ".", "", 1)) {
		t.Errorf("public link %q is not the reply's", d.PublicLink)
	}
}
