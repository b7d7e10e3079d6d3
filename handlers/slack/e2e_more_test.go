package slack_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/handlers/slack/slackfake"
)

// post sends body to url with header, as Slack would, and returns the
// answer.
func post(t *testing.T, url, contentType string, body []byte, header http.Header) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	check(t, err)
	if header != nil {
		req.Header = header
	}
	req.Header.Set("Content-Type", contentType)
	res, err := http.DefaultClient.Do(req)
	check(t, err)
	res.Body.Close()
	return res
}

// signed returns the headers by which Slack signs body with secret at ts.
func signed(secret string, ts time.Time, body []byte) http.Header {
	return http.Header{
		"X-Slack-Request-Timestamp": {strconv.FormatInt(ts.Unix(), 10)},
		"X-Slack-Signature":         {slackfake.Signature(secret, ts, body)},
	}
}

const (
	jsonType = "application/json"
	formType = "application/x-www-form-urlencoded"
)

// messageDelivery returns the delivery of the message event for ts.
func messageDelivery(f *slackfake.Fake, ts string) (slackfake.Delivery, bool) {
	for _, d := range f.Deliveries() {
		var p struct {
			Event struct {
				Subtype string `json:"subtype"`
				TS      string `json:"ts"`
			} `json:"event"`
		}
		if d.Type == "events_api" && json.Unmarshal(d.Payload, &p) == nil && p.Event.TS == ts && p.Event.Subtype == "" {
			return d, true
		}
	}
	return slackfake.Delivery{}, false
}

// TestHTTPMode runs both connections in HTTP mode: signed deliveries work,
// Slack's retries change nothing, and a request with a bad, stale or missing
// signature gets 401 and stores nothing.
func TestHTTPMode(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := newEnv(t, engine, func(c *envConfig) { c.httpMode = true })
		check(t, e.pub.VerifyURL())

		forged, err := os.ReadFile("testdata/event_message_forged.json")
		check(t, err)
		base := e.url + "/slack/community"
		secret := e.pub.SigningSecret()
		form := []byte(url.Values{"payload": {`{"type":"block_actions","user":{"id":"U0BOB"},"actions":[{"action_id":"liaison_ignore","value":"1"}]}`}}.Encode())
		command := []byte("command=%2Fliaison&text=help&user_id=U0BOB")
		now := time.Now()
		for _, tc := range []struct {
			name, path, ctype string
			body              []byte
			header            http.Header
		}{
			{"WrongSecret", "/events", jsonType, forged, signed("not-"+secret, now, forged)},
			{"Stale", "/events", jsonType, forged, signed(secret, now.Add(-6*time.Minute), forged)},
			{"FromTheFuture", "/events", jsonType, forged, signed(secret, now.Add(6*time.Minute), forged)},
			{"InteractivityWrongSecret", "/interactivity", formType, form, signed("not-"+secret, now, form)},
			{"CommandStale", "/commands", formType, command, signed(secret, now.Add(-time.Hour), command)},
			{"Unsigned", "/events", jsonType, forged, nil},
			{"TamperedBody", "/events", jsonType, bytes.Replace(forged, []byte("never"), []byte("often"), 1), signed(secret, now, forged)},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if res := post(t, base+tc.path, tc.ctype, tc.body, tc.header); res.StatusCode != http.StatusUnauthorized {
					t.Errorf("status %d, want 401", res.StatusCode)
				}
			})
		}

		t.Run("OtherWorkspace", func(t *testing.T) {
			// Signed by the app, but from a workspace this connection does not serve.
			body := bytes.ReplaceAll(forged, []byte(`"T0COMMUNITY"`), []byte(`"T0ELSEWHERE"`))
			if res := post(t, base+"/events", jsonType, body, signed(secret, time.Now(), body)); res.StatusCode != http.StatusOK {
				t.Errorf("status %d, want 200 (and nothing done)", res.StatusCode)
			}
		})

		// A real message, delivered signed over HTTP.
		root, card := e.ask(1, "Hello over HTTP")
		if !strings.Contains(slackfake.Shown(card), "Hello over HTTP") {
			t.Fatalf("card = %s", slackfake.Shown(card))
		}

		t.Run("RetryChangesNothing", func(t *testing.T) {
			d, ok := messageDelivery(e.pub, root)
			if !ok {
				t.Fatal("no delivery of the message")
			}
			// Slack's retry of a delivery it thinks failed: the same body, a
			// retry header. The answer comes once the domain has it.
			retry := signed(secret, time.Now(), d.Payload)
			retry.Set("X-Slack-Retry-Num", "1")
			retry.Set("X-Slack-Retry-Reason", "http_timeout")
			res := post(t, base+"/events", jsonType, d.Payload, retry)
			if res.StatusCode != http.StatusOK {
				t.Errorf("retry answered %d, want 200", res.StatusCode)
			}
		})

		// Clicks and commands over HTTP.
		check(t, e.staff.Click(bob, productCh, card.TS, actClaim))
		e.waitShowing(card.TS, "the claimed card", fact("Claimed by", "Bob Stone"))
		e.ephemeralShowing(e.staff, bob, "Item #1 is yours.")
		check(t, e.staff.SlashCommand(carol, productCh, "/liaison", "help"))
		e.ephemeralShowing(e.staff, carol, "/liaison profile")
		check(t, e.staff.Click(alice, productCh, card.TS, actReply))
		e.submit(alice, e.openView(alice, cbReply), map[string]map[string]string{blockText: text("Hello to you!")})
		e.waitReply(card.TS, "the draft card", func(m slackfake.Message) bool { return strings.Contains(slackfake.Shown(m), "Hello to you!") })

		if n := len(e.cards()); n != 1 {
			t.Errorf("%d cards, want 1", n)
		}
		for _, m := range e.staff.Messages(productCh) {
			if strings.Contains(slackfake.Shown(m), "forged") {
				t.Errorf("the forged message reached the internal side: %s", slackfake.Shown(m))
			}
		}
		if _, err := e.liaison.Service.Item(e.ctx, 2); !errors.Is(err, bot.ErrNotFound) {
			t.Errorf("item 2: err = %v, want not found", err)
		}
	})
}

// TestRedeliveredEnvelope: an event acknowledged late is delivered again by
// Socket Mode; the item is still opened once.
func TestRedeliveredEnvelope(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := newEnv(t, engine, func(c *envConfig) {
			c.pub = func(o *slackfake.Options) { o.AckTimeout = 300 * time.Millisecond }
		})
		// The adapter stores an event before acknowledging it; a slow
		// users.info makes it late, so Slack sends the event again.
		e.pub.DelayNext("users.info", time.Second)
		root := e.ts(e.pub.Post(member, helpChan, "Is anyone there?"))
		e.wait(e.pub, "a redelivery, acknowledged", func() bool {
			d, ok := messageDelivery(e.pub, root)
			return ok && d.Attempts >= 2 && d.Acked
		})
		// Events are taken in order: once the next message has its card,
		// every copy of the first one has been handled.
		e.ts(e.pub.Post(other, helpChan, "Same question here"))
		e.waitCard(2)
		cards := e.cards()
		if len(cards) != 2 {
			t.Fatalf("%d cards, want 2", len(cards))
		}
		if !strings.Contains(slackfake.Shown(cards[0]), "Is anyone there?") || !strings.Contains(slackfake.Shown(cards[1]), "Same question here") {
			t.Errorf("cards: %q, %q", slackfake.Shown(cards[0]), slackfake.Shown(cards[1]))
		}
		if d, _ := messageDelivery(e.pub, root); d.Attempts < 2 {
			t.Errorf("delivery = %+v, want a redelivery", d)
		}
	})
}

// TestRateLimitStorm: the internal channel takes few messages a second;
// every card and note still arrives, once.
func TestRateLimitStorm(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := newEnv(t, engine)
		// Stricter than Slack's documented limit, which Liaison paces
		// itself to (one a second, bursts of 3): its bursts meet 429s.
		e.staff.SetRate(productCh, 2, 1)
		const questions = 6
		var roots []string
		for i := range questions {
			roots = append(roots, e.ts(e.pub.Post(member, helpChan, fmt.Sprintf("Question %d", i))))
		}
		for i := range 3 {
			e.ts(e.pub.Reply(other, helpChan, roots[0], fmt.Sprintf("Me too %d", i)))
		}
		e.wait(e.staff, "every card", func() bool { return len(e.cards()) == questions })
		first := e.cards()[0]
		thread := func() string {
			var all []string
			for _, m := range e.replies(first.TS) {
				all = append(all, m.Text)
			}
			return strings.Join(all, "\n")
		}
		e.wait(e.staff, "every follow-up", func() bool { return strings.Contains(thread(), "Me too 2") })

		limited := 0
		for _, c := range e.staff.Calls() {
			if c.Method == "chat.postMessage" && c.Status == http.StatusTooManyRequests {
				limited++
			}
		}
		if limited == 0 {
			t.Error("no 429: the storm did not happen")
		}
		keys := map[string]bool{}
		texts := map[string]bool{}
		for _, m := range e.staff.Messages(productCh) {
			if m.BotID != botID {
				continue
			}
			if k := jobKey(m); k == "" || keys[k] {
				t.Errorf("message %s has job key %q (twice or none)", m.TS, k)
			} else {
				keys[k] = true
			}
			head := strings.SplitN(slackfake.Shown(m), "\n", 2)[0]
			if texts[head] {
				t.Errorf("posted twice: %q", head)
			}
			texts[head] = true
		}
		// Each follow-up once, in order, however many posts carry them.
		all, last := thread(), -1
		for i := range 3 {
			want := fmt.Sprintf("Me too %d", i)
			if n := strings.Count(all, want); n != 1 {
				t.Errorf("%q shown %d times in the thread, want once:\n%s", want, n, all)
			}
			if at := strings.Index(all, want); at < last {
				t.Errorf("%q out of order:\n%s", want, all)
			} else {
				last = at
			}
		}
		t.Logf("%d rate-limited calls, %d messages", limited, len(keys))
	})
}

// TestNoPingAnywhere: broadcasts and mentions in what members write, and in
// what staff draft, ping nobody on either side; the public reply pings only
// the member it answers.
func TestNoPingAnywhere(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := newEnv(t, engine)
		root, card := e.ask(1, "<!channel> <!here> <!everyone> @channel @here @everyone <@"+other+"> <!subteam^S0TEAM|@team> <#C0HELP|help> <https://evil.example|click> anyone?")
		reply := e.ts(e.pub.Reply(member, helpChan, root, "<!here> still waiting <@"+other+">"))
		note := e.waitNote(card.TS, "still waiting")
		check(t, e.pub.Edit(helpChan, reply, "<!channel> still waiting, edited"))
		e.wait(e.staff, "the edited note", func() bool { return strings.Contains(e.current(note.TS).Text, "edited") })
		e.ts(e.pub.PostFile(member, helpChan, "<!here> my log", "<!channel>.txt", "https://files.example/log.txt"))
		e.waitCard(2)

		// Alice drafts in the thread, as typed in Slack: her @here arrives as <!here>.
		e.ts(e.staff.Reply(alice, productCh, card.TS, "!reply Hi <!here> <!channel> <@"+carol+">, fixed!"))
		draftCard := e.waitButton(card.TS, actApprove)
		check(t, e.staff.Click(bob, productCh, draftCard.TS, actApprove))
		pub := e.waitPublicReply(root)
		e.waitNote(card.TS, "Answered publicly")

		if got := slackfake.Pings(pub); !slices.Equal(got, []string{member}) {
			t.Errorf("the public reply pings %v, want only %s: %q", got, member, pub.Text)
		}
		for _, m := range e.staff.Messages(productCh) {
			if m.BotID != botID {
				continue
			}
			if got := slackfake.Pings(m); len(got) > 0 {
				t.Errorf("internal post %s pings %v:\n%s", m.TS, got, slackfake.Shown(m))
			}
		}
		for _, u := range []string{alice, bob, carol, lead} {
			for _, m := range e.staff.Ephemerals(u) {
				if got := slackfake.Pings(m); len(got) > 0 {
					t.Errorf("ephemeral to %s pings %v", u, got)
				}
			}
		}
		expectShown(t, "card", e.current(card.TS), "#help click (https://evil.example)", "@\u200bchannel", "@Otto Berg")
		if s := slackfake.Shown(e.current(card.TS)); strings.Contains(s, "<https://evil.example") {
			t.Errorf("the card carries the member's disguised link:\n%s", s)
		}
	})
}

// TestMissingCustomizeScope: without chat:write.customize the reply goes out
// as the app with a signature line, and the internal thread says so; the
// adapter learns it from auth.test, and from Slack's refusal when auth.test
// did not say which scopes the token has.
func TestMissingCustomizeScope(t *testing.T) {
	withoutCustomize := func(c *envConfig) {
		c.pub = func(o *slackfake.Options) {
			o.Scopes = slices.DeleteFunc(slackfake.DefaultScopes(), func(s string) bool { return s == "chat:write.customize" })
		}
	}
	const signature = "— Alice Martin, Product Manager at Acme"
	ask := func(t *testing.T, e *env, question string, knowsScope bool) {
		root, card := e.ask(1, question)
		check(t, e.staff.Click(alice, productCh, card.TS, actReply))
		e.submit(alice, e.openView(alice, cbReply), map[string]map[string]string{blockText: text("Here is how.")})
		draftCard := e.waitButton(card.TS, actApprove)
		if knowsScope && (!strings.Contains(slackfake.Shown(draftCard), signature) || strings.Contains(slackfake.Shown(draftCard), "Alice Martin · Acme")) {
			t.Errorf("the preview should show the signature line, not a custom name:\n%s", slackfake.Shown(draftCard))
		}
		check(t, e.staff.Click(bob, productCh, draftCard.TS, actApprove))
		pub := e.waitPublicReply(root)
		if pub.Username != "" || pub.IconURL != "" || pub.Text != "<@"+member+"> Here is how.\n"+signature {
			t.Errorf("fallback post = %q as %q/%q", pub.Text, pub.Username, pub.IconURL)
		}
		if got := slackfake.Pings(pub); !slices.Equal(got, []string{member}) {
			t.Errorf("pings %v", got)
		}
		e.waitNote(card.TS, "Posted by the bot with a signature line")
	}
	eachEngine(t, func(t *testing.T, engine string) {
		t.Run("ToldByAuthTest", func(t *testing.T) {
			e := newEnv(t, engine, withoutCustomize)
			if e.conn("community").Capabilities().CustomIdentity {
				t.Fatal("auth.test's scopes lack chat:write.customize, yet the connection claims a custom identity")
			}
			ask(t, e, "First question", true)
		})

		// As if auth.test had said nothing: Slack's refusal teaches it.
		t.Run("LearnedFromRefusal", func(t *testing.T) {
			e := newEnv(t, engine, withoutCustomize, func(c *envConfig) {
				c.transport = func(conn string, rt http.RoundTripper) http.RoundTripper {
					if conn != "community" {
						return rt
					}
					return scopesUnsaid{rt}
				}
			})
			if !e.conn("community").Capabilities().CustomIdentity {
				t.Fatal("auth.test said nothing of the scopes, yet the connection does not assume a custom identity")
			}
			ask(t, e, "Second question", false)
			refused := slices.ContainsFunc(e.pub.Calls(), func(c slackfake.Call) bool {
				return c.Method == "chat.postMessage" && c.Error == "missing_scope" && c.Params.Get("username") != ""
			})
			if !refused {
				t.Error("no refused attempt with a username")
			}
			if e.conn("community").Capabilities().CustomIdentity {
				t.Error("the connection did not learn it lacks chat:write.customize")
			}
		})
	})
}

// scopesUnsaid drops the scopes from auth.test's answers, as if Slack had
// not said which scopes the token has.
type scopesUnsaid struct{ http.RoundTripper }

func (rt scopesUnsaid) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := rt.RoundTripper.RoundTrip(req)
	if err == nil && strings.HasSuffix(req.URL.Path, "/auth.test") {
		res.Header.Del("X-OAuth-Scopes")
	}
	return res, err
}

// TestProfileCommand: /liaison help, profile (modal, validation, consent),
// promote and demote.
func TestProfileCommand(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := newEnv(t, engine)
		slash := func(user, text string) { check(t, e.staff.SlashCommand(user, productCh, "/liaison", text)) }

		slash(carol, "help")
		e.ephemeralShowing(e.staff, carol, "`/liaison profile`")
		slash(carol, "frobnicate")
		e.ephemeralShowing(e.staff, carol, "I don't know `frobnicate`")

		// The form is filled from the Slack profile.
		slash(carol, "profile")
		v := e.openView(carol, cbProfile)
		for _, want := range []string{`"initial_value":"Carol King"`, `"initial_value":"Engineer"`, `"initial_value":"https://example.com/carol.png"`, "I agree that replies I write are published under this name"} {
			if !strings.Contains(string(v.JSON), want) {
				t.Errorf("profile modal lacks %s", want)
			}
		}
		// A bad avatar keeps the modal open with the domain's message, on
		// the avatar's field.
		check(t, e.staff.SubmitView(carol, v.ID, map[string]map[string]string{
			blockName: text("Carol King"), blockTitle: text("Engineer"), blockAvatar: text("ftp://example.com/c.png"),
		}))
		if got := e.waitFieldError(carol, blockAvatar); got != "The avatar must be an http(s) URL." {
			t.Errorf("the avatar's error = %q", got)
		}
		if errs := e.staff.Views(carol)[0].Errors; len(errs) != 1 {
			t.Errorf("errors = %v, want only the avatar's", errs)
		}
		if p := e.profile(carol); p != nil && p.Title != "" {
			t.Errorf("a refused form saved %+v", p)
		}
		// Saved without consent.
		e.submit(carol, v, map[string]map[string]string{blockName: text("Carol King"), blockTitle: text("Engineer"), blockAvatar: text("https://example.com/carol.png")})
		e.ephemeralShowing(e.staff, carol, "Profile saved. Liaison will not publish replies under your name until you agree to it in this form.")
		if p := e.profile(carol); p == nil || p.Name != "Carol King" || p.Title != "Engineer" || p.AvatarURL != "https://example.com/carol.png" || p.Consented() {
			t.Errorf("profile = %+v, want saved without consent", p)
		}

		// Her draft waits for her consent.
		root, card := e.ask(1, "Does the API paginate?")
		e.ts(e.staff.Reply(carol, productCh, card.TS, "!reply Yes, with cursors."))
		e.ephemeralShowing(e.staff, carol, "Your draft is saved")
		draftCard := e.waitReply(card.TS, "the waiting draft card", func(m slackfake.Message) bool {
			return strings.Contains(slackfake.Shown(m), "Yes, with cursors.") && strings.Contains(slackfake.Shown(m), "set up a public profile")
		})

		// She agrees; the draft card says so; Bob approves.
		slash(carol, "profile")
		v = e.openView(carol, cbProfile)
		if !strings.Contains(string(v.JSON), `"initial_value":"Carol King"`) {
			t.Error("the second profile modal is not filled from her profile")
		}
		// Not agreed yet: one box, with the domain's keyword, not ticked.
		if strings.Contains(string(v.JSON), `"initial_options"`) || strings.Count(string(v.JSON), `"value":"yes"`) != 1 {
			t.Errorf("the consent box: %s", v.JSON)
		}
		e.submit(carol, v, map[string]map[string]string{
			blockName: text("Carol King"), blockTitle: text("Engineer"), blockAvatar: text("https://example.com/carol.png"), blockConsent: text("yes"),
		})
		e.ephemeralShowing(e.staff, carol, `Profile saved: your public replies will be signed "Carol King · Acme".`)
		e.wait(e.staff, "the draft card to drop its warning", func() bool {
			m := e.current(draftCard.TS)
			return !strings.Contains(slackfake.Shown(m), "set up a public profile") && strings.Contains(slackfake.Shown(m), "Carol King · Acme")
		})
		check(t, e.staff.Click(bob, productCh, draftCard.TS, actApprove))
		if pub := e.waitPublicReply(root); pub.Username != "Carol King · Acme" || pub.IconURL != "https://example.com/carol.png" {
			t.Errorf("published as %q / %q", pub.Username, pub.IconURL)
		}

		// Promotion is for approvers, and needs a person.
		slash(carol, "promote <@"+alice+"|alice>")
		e.ephemeralShowing(e.staff, carol, bot.ErrNotApprover.Message)
		slash(bob, "promote carol")
		e.ephemeralShowing(e.staff, bob, "Please name the person: `/liaison promote @person`.")
		slash(bob, "promote <@"+bob+"|bob>")
		e.ephemeralShowing(e.staff, bob, bot.ErrSelfTrust.Message)
		if got := e.trusted(carol); len(got) != 0 {
			t.Errorf("Carol is trusted on %q after refused promotions", got)
		}
		slash(bob, "promote <@"+carol+"|carol>")
		e.ephemeralShowing(e.staff, bob, "Carol King is now trusted on route product: where the route is trusted-auto, their drafts publish without review.")
		if got := e.trusted(carol); !slices.Equal(got, []string{"product"}) {
			t.Errorf("Carol is trusted on %q after promote", got)
		}
		slash(lead, "  DEMOTE   "+carol)
		e.ephemeralShowing(e.staff, lead, "Carol King is no longer trusted on route product: their drafts are reviewed again there.")
		if got := e.trusted(carol); len(got) != 0 {
			t.Errorf("Carol is still trusted on %q after demote", got)
		}
	})
}

// TestReconcileUnknownOutcome: the card is posted but Slack's answer is
// lost; the worker finds it by its job metadata instead of posting again.
func TestReconcileUnknownOutcome(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := newEnv(t, engine, func(c *envConfig) { c.worker = func(w *bot.Worker) { w.CallTimeout = 500 * time.Millisecond } })
		e.staff.DelayNext("chat.postMessage", 2*time.Second) // takes effect at once, answers too late
		root, card := e.ask(1, "Lost answer?")
		e.wait(e.staff, "the reconciling read", func() bool {
			return slices.ContainsFunc(e.staff.Calls(), func(c slackfake.Call) bool {
				return c.Method == "conversations.history" && c.Params.Get("include_all_metadata") == "1"
			})
		})
		// The item knows its card: a follow-up lands in the card's thread.
		e.ts(e.pub.Reply(member, helpChan, root, "follow-up after the lost answer"))
		e.waitNote(card.TS, "follow-up after the lost answer")
		if n := len(e.cards()); n != 1 {
			t.Errorf("%d cards, want 1", n)
		}
	})
}

// TestReviewModals: reject with a reason, edit and approve, correct a
// published reply, ignore an item — each through its button and modal.
func TestReviewModals(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := newEnv(t, engine)
		e.staff.SetRate(productCh, -1, 0) // the storm test covers rate limits
		root, card := e.ask(1, "Can I change my plan?")

		t.Run("Reject", func(t *testing.T) {
			e.ts(e.staff.Reply(alice, productCh, card.TS, "!reply Yes, in Settings."))
			dc := e.waitDraftCard(card.TS, "Yes, in Settings.")
			check(t, e.staff.Click(bob, productCh, dc.TS, actReject))
			v := e.openView(bob, cbReject)
			check(t, e.staff.SubmitView(bob, v.ID, map[string]map[string]string{blockReason: text("  ")}))
			if got := e.waitFieldError(bob, blockReason); !strings.Contains(got, "reason") {
				t.Errorf("the reason's error = %q", got)
			}
			e.submit(bob, v, map[string]map[string]string{blockReason: text("Link the <billing> page.")})
			e.ephemeralShowing(e.staff, alice, "was not approved by Bob Stone: Link the &lt;billing&gt; page.")
			e.ephemeralShowing(e.staff, bob, "is rejected; its author is told why.")
			e.wait(e.staff, "the rejected draft card", func() bool {
				s := slackfake.Shown(e.current(dc.TS))
				return strings.Contains(s, fact("State", "❌ Not approved")) && strings.Contains(s, fact("Rejected by", "Bob Stone")) &&
					strings.Contains(s, fact("Reason", "Link the &lt;billing&gt; page.")) && len(buttons(e.current(dc.TS))) == 0
			})
		})

		e.ts(e.staff.Reply(alice, productCh, card.TS, "!reply Yes: Settings → Billing."))
		dc := e.waitDraftCard(card.TS, "Yes: Settings → Billing.")
		draftID := idOf(t, dc, actApprove)

		t.Run("EditAndApprove", func(t *testing.T) {
			check(t, e.staff.Click(lead, productCh, dc.TS, actEditApprove))
			v := e.openView(lead, cbEditApprove)
			if !strings.Contains(string(v.JSON), `"initial_value":"Yes: Settings → Billing."`) {
				t.Errorf("the modal is not filled with the draft: %s", v.JSON)
			}
			e.submit(lead, v, map[string]map[string]string{blockText: text("Yes: Settings → Billing → Change plan.")})
			// Lea's words go out under Alice's name only once Alice accepts them.
			e.ephemeralShowing(e.staff, lead, "It is published once its signer accepts the words")
			e.ephemeralShowing(e.staff, alice, "Lea Park changed the words of your draft #")
			e.wait(e.staff, "the draft card asking Alice", func() bool {
				m := e.current(dc.TS)
				s := slackfake.Shown(m)
				return strings.Contains(s, fact("State", "✍️ Waiting for Alice Martin to accept these words")) &&
					strings.Contains(s, "+ Yes: Settings → Billing → Change plan.") &&
					slices.Equal(actionIDs(m), []string{actAccept, actReject, actWithdraw})
			})
			check(t, e.staff.Click(lead, productCh, dc.TS, actAccept))
			e.ephemeralShowing(e.staff, lead, bot.ErrNotSigner.Message)
			if n := len(e.publicReplies(root)); n != 0 {
				t.Fatalf("%d public replies before the signer accepted", n)
			}
			check(t, e.staff.Click(alice, productCh, dc.TS, actAccept))
			e.ephemeralShowing(e.staff, alice, "is accepted: Liaison is publishing it under your name.")
			pub := e.waitPublicReply(root)
			if pub.Username != "Alice Martin · Acme" || !strings.Contains(pub.Text, "Change plan.") {
				t.Errorf("published %q as %q", pub.Text, pub.Username)
			}
			e.waitNote(card.TS, "approved by Lea Park")
			if d := e.draft(draftID); len(d.Versions) != 2 {
				t.Errorf("draft has %d versions, want both kept", len(d.Versions))
			}
		})

		t.Run("Correct", func(t *testing.T) {
			e.wait(e.staff, "the Correct button", func() bool {
				m := e.current(dc.TS)
				_, ok := buttons(m)[actCorrect]
				return ok
			})
			check(t, e.staff.Click(alice, productCh, dc.TS, actCorrect))
			v := e.openView(alice, cbCorrect)
			if !strings.Contains(string(v.JSON), "Change plan.") {
				t.Errorf("the modal is not filled with the published text: %s", v.JSON)
			}
			e.submit(alice, v, map[string]map[string]string{blockText: text("Yes: Settings → Plans.")})
			e.ephemeralShowing(e.staff, alice, "Correction proposed as draft #")
			corr := e.waitDraftCard(card.TS, "of the public reply (v1)*")
			if !strings.Contains(slackfake.Shown(corr), "*Correction #") {
				t.Errorf("correction card:\n%s", slackfake.Shown(corr))
			}
			check(t, e.staff.Click(bob, productCh, corr.TS, actApprove))
			e.wait(e.pub, "the corrected reply", func() bool {
				r := e.publicReplies(root)
				return len(r) == 1 && strings.Contains(r[0].Text, "Settings → Plans.") && r[0].Edited
			})
			e.waitNote(card.TS, "The public reply was corrected by Alice Martin")
		})

		t.Run("Ignore", func(t *testing.T) {
			e.ts(e.pub.Post(other, helpChan, "buy cheap watches"))
			spam := e.waitCard(2)
			check(t, e.staff.Click(carol, productCh, spam.TS, actIgnore))
			e.ephemeralShowing(e.staff, carol, "is set aside: it needs no public answer.")
			e.wait(e.staff, "the ignored card", func() bool {
				m := e.current(spam.TS)
				return strings.Contains(slackfake.Shown(m), fact("Status", "🙈 Ignored")) && slices.Equal(actionIDs(m), []string{actReopen, actTag})
			})
		})
	})
}

// TestDraftCardWithoutAvatar: when Slack refuses a draft card's blocks (it
// could not fetch the avatar), the card goes out again without the image.
func TestDraftCardWithoutAvatar(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := newEnv(t, engine)
		_, card := e.ask(1, "Avatar?")
		e.staff.FailNext("chat.postMessage", "invalid_blocks")
		e.ts(e.staff.Reply(alice, productCh, card.TS, "!reply Here it is."))
		dc := e.waitDraftCard(card.TS, "Here it is.")
		if strings.Contains(string(dc.Blocks), "alice.png") || !strings.Contains(slackfake.Shown(dc), "*Alice Martin · Acme*") {
			t.Errorf("draft card after the refusal:\n%s", dc.Blocks)
		}
		refused := slices.ContainsFunc(e.staff.Calls(), func(c slackfake.Call) bool {
			return c.Method == "chat.postMessage" && c.Error == "invalid_blocks" && strings.Contains(c.Params.Get("blocks"), "alice.png")
		})
		if !refused {
			t.Error("no refused attempt with the avatar")
		}
	})
}

// TestSocketReconnects: a dropped socket and Slack's refresh request are
// both survived, and events keep flowing.
func TestSocketReconnects(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := newEnv(t, engine)
		e.pub.DropSocket()
		e.wait(e.pub, "a new community socket", func() bool { return e.pub.Connects() == 2 && e.pub.Connections() == 1 })
		e.waitStore("the community connection healthy again", func() bool { return e.conn("community").Health() == nil })
		_, card := e.ask(1, "After the drop")
		e.staff.Disconnect()
		e.wait(e.staff, "a new internal socket", func() bool { return e.staff.Connects() == 2 })
		check(t, e.staff.Click(bob, productCh, card.TS, actClaim))
		e.waitShowing(card.TS, "the claimed card", fact("Claimed by", "Bob Stone"))
	})
}

// TestRespondersByUserGroup: a route that names a Slack user group as its
// responders lets its members act on cards, and refuses everyone else
// without changing the card.
func TestRespondersByUserGroup(t *testing.T) {
	e := newEnv(t, "sqlite", func(c *envConfig) {
		c.staff = func(o *slackfake.Options) {
			o.UserGroups = append(o.UserGroups, slackfake.UserGroup{ID: "S0SUPPORT", Handle: "support", Users: []string{carol}})
		}
		c.config = func(yaml string) string {
			return strings.Replace(yaml, `approvers: ["${BOB}", "${LEADS}"]`, `approvers: ["${BOB}", "${LEADS}"], responders: [S0SUPPORT]`, 1)
		}
	})
	_, card := e.ask(1, "Who may answer me?")
	check(t, e.staff.Click(alice, productCh, card.TS, actClaim))
	e.ephemeralShowing(e.staff, alice, bot.ErrNotResponder.Message)
	check(t, e.staff.Click(carol, productCh, card.TS, actClaim))
	e.ephemeralShowing(e.staff, carol, "is yours.")
	e.wait(e.staff, "the card claimed by Carol", func() bool {
		return strings.Contains(slackfake.Shown(e.current(card.TS)), fact("Claimed by", "Carol King"))
	})
}
