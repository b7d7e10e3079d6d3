package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/handlers/discord/discordfake"
	"github.com/liaison-bot/liaison/handlers/slack/slackfake"
)

// stepWithin bounds each wait of the script by default: the fakes report
// every change, so a wait ends as soon as what it waits for happened.
const stepWithin = 20 * time.Second

// The story's texts.
const (
	storyTitle    = "Export dashboards to CSV?"
	storyQuestion = "Hi @everyone! Is there a way to export my dashboards to CSV? I need them for our monthly report."
	storyFollowUp = "Ideally the export would keep my filters too."
	storyAnswer   = "Thanks Mia! CSV export is on our roadmap for the next release; until then, Share → Download data gives you a CSV of each chart. @everyone"
	storyFix      = "Thanks Mia! CSV export ships in the next release (filters included); until then, Share → Download data gives you a CSV of each chart."
)

// script runs the story and writes its transcript.
type script struct {
	ctx    context.Context
	w      *world
	out    io.Writer
	within time.Duration       // bounds each wait
	seen   map[string][]string // what the transcript last showed of each message

	post       discordfake.Channel // Mia's forum post
	card       slackfake.Message   // its card in #product-feedback
	draft      slackfake.Message   // Alice's draft card, in the card's thread
	reply      discordfake.Message // the public reply
	correction slackfake.Message   // the correction's draft card
}

func runScript(ctx context.Context, w *world, out io.Writer, within time.Duration) error {
	s := &script{ctx: ctx, w: w, out: out, within: within, seen: map[string][]string{}}
	steps := []struct {
		title string
		run   func() error
	}{
		{"Mia asks a question in the feedback forum, with an @everyone in it", s.ask},
		{"Mia adds a follow-up in her post", s.followUp},
		{"Alice, a volunteer, claims the card and drafts a public reply", s.drafts},
		{"Carol, who may not approve, clicks Approve", s.refused},
		{"Bob, the manager, approves the draft", s.approves},
		{"The reply is public, under Alice's name, pinging only Mia", s.published},
		{"Alice corrects the reply and Bob approves the correction", s.corrects},
		{"The managers' dashboard counts the question, answered by Alice", s.dashboard},
	}
	fmt.Fprintln(out, "Liaison demo script: a public Discord server (Acme Community) and an internal Slack workspace (Acme HQ), both local fakes, with the real adapters, storage and worker in between.")
	for i, st := range steps {
		fmt.Fprintf(out, "\n%d. %s\n", i+1, st.title)
		err := st.run()
		s.show()
		if err != nil {
			fmt.Fprintf(out, "\nFAILED at step %d (%s): %v\n", i+1, st.title, err)
			return fmt.Errorf("demo script: step %d (%s): %w", i+1, st.title, err)
		}
	}
	fmt.Fprintf(out, "\nOK: all %d steps did what they should.\n", len(steps))
	return nil
}

func (s *script) check(format string, args ...any) {
	fmt.Fprintf(s.out, "   ✓ %s\n", fmt.Sprintf(format, args...))
}

// waitSlack waits, on the Slack fake's change notifications, until cond holds.
func (s *script) waitSlack(what string, cond func() bool) error {
	return s.wait(what, s.w.slack.WaitFor, cond)
}

func (s *script) waitDiscord(what string, cond func() bool) error {
	return s.wait(what, s.w.discord.WaitFor, cond)
}

func (s *script) wait(what string, waitFor func(context.Context, func() bool) error, cond func() bool) error {
	ctx, cancel := context.WithTimeout(s.ctx, s.within)
	defer cancel()
	if err := waitFor(ctx, cond); err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("%s did not happen within %s", what, s.within)
		}
		return fmt.Errorf("waiting for %s: %w", what, err)
	}
	s.show()
	s.check("%s", what)
	return nil
}

// The story's steps.

func (s *script) ask() error {
	post, _, err := s.w.discord.OpenForumPost(miaID, forumChannel, storyTitle, storyQuestion)
	if err != nil {
		return err
	}
	s.post = post
	if err := s.waitSlack("a card for the question in #product-feedback", func() bool {
		for _, m := range s.w.slack.Messages(productChannel) {
			if m.BotID != "" && hasButton(m, "liaison_reply") && strings.Contains(s.slackText(m), "export my dashboards") {
				s.card = m
				return true
			}
		}
		return false
	}); err != nil {
		return err
	}
	if p := slackfake.Pings(s.card); len(p) > 0 {
		return fmt.Errorf("the card pings %v; relayed text must ping nobody", p)
	}
	if strings.Contains(s.card.Text, "<!everyone>") || strings.Contains(s.card.Text, "<!channel>") {
		return fmt.Errorf("the card carries a live broadcast: %q", s.card.Text)
	}
	s.check("the card pings nobody, although Mia's @everyone pings the whole public server")
	return nil
}

func (s *script) followUp() error {
	if _, err := s.w.discord.PostInThread(miaID, s.post.ID, storyFollowUp); err != nil {
		return err
	}
	return s.waitSlack("the follow-up in the card's thread", func() bool {
		return slices.ContainsFunc(s.thread(), func(m slackfake.Message) bool {
			return m.BotID != "" && strings.Contains(s.slackText(m), "keep my filters")
		})
	})
}

func (s *script) drafts() error {
	if err := s.w.slack.Click(aliceID, productChannel, s.card.TS, "liaison_claim"); err != nil {
		return err
	}
	if err := s.waitSlack("the card says Alice claimed it", func() bool {
		return strings.Contains(s.cardText(), "Claimed by Alice Martin")
	}); err != nil {
		return err
	}
	if err := s.writeInForm(s.card.TS, "liaison_reply", "the Reply publicly form opens for Alice", storyAnswer); err != nil {
		return err
	}
	var err error
	s.draft, err = s.waitDraftCard("a draft card in the thread, previewing the post as \"Alice Martin · Acme\"", func(m slackfake.Message) bool {
		return strings.Contains(s.slackText(m), "Alice Martin · Acme")
	})
	if err != nil {
		return err
	}
	return s.waitSlack("the card is awaiting approval", func() bool {
		return strings.Contains(s.cardText(), "Awaiting approval")
	})
}

func (s *script) refused() error {
	if err := s.w.slack.Click(carolID, productChannel, s.draft.TS, "liaison_approve"); err != nil {
		return err
	}
	if err := s.waitSlack("a polite refusal only Carol sees", func() bool {
		return slices.ContainsFunc(s.w.slack.Ephemerals(carolID), func(m slackfake.Message) bool {
			return strings.Contains(m.Text, bot.ErrNotApprover.Message)
		})
	}); err != nil {
		return err
	}
	if d, _ := s.w.slack.Message(productChannel, s.draft.TS); !hasButton(d, "liaison_approve") {
		return errors.New("the draft is no longer pending after a refused click")
	}
	if n := len(s.publicReplies()); n != 0 {
		return fmt.Errorf("%d public replies after a refused click, want none", n)
	}
	s.check("the draft still waits for an approver; nothing was published")
	return nil
}

func (s *script) approves() error {
	if err := s.w.slack.Click(bobID, productChannel, s.draft.TS, "liaison_approve"); err != nil {
		return err
	}
	if err := s.waitDiscord("a webhook reply in Mia's forum post", func() bool {
		if ps := s.publicReplies(); len(ps) > 0 {
			s.reply = ps[0]
			return true
		}
		return false
	}); err != nil {
		return err
	}
	return s.waitSlack("the card says who answered and who approved", func() bool {
		t := s.cardText()
		return strings.Contains(t, "Answered publicly by Alice Martin") && strings.Contains(t, "Approved by Bob Stone")
	})
}

func (s *script) published() error {
	r := s.reply
	if want := "Alice Martin · Acme"; r.Author.Username != want {
		return fmt.Errorf("the reply is posted as %q, want %q", r.Author.Username, want)
	}
	s.check("posted through a webhook as %q", r.Author.Username)
	if want := s.w.base + "/avatars/alice.svg"; r.AvatarURL != want {
		return fmt.Errorf("the reply's avatar is %q, want Alice's %q", r.AvatarURL, want)
	}
	s.check("with Alice's avatar")
	if !strings.HasPrefix(r.Content, "<@"+miaID+">") || !strings.Contains(r.Content, "CSV export is on our roadmap") {
		return fmt.Errorf("the reply reads %q; want a mention of Mia, then Alice's text", r.Content)
	}
	if got := s.w.discord.Pings(r); !slices.Equal(got, []string{"<@" + miaID + ">"}) {
		return fmt.Errorf("the reply pings %v; want only Mia", got)
	}
	s.check("it pings only Mia: the @everyone in Alice's text pings nobody")
	if n := len(s.publicReplies()); n != 1 {
		return fmt.Errorf("%d public replies, want exactly one", n)
	}
	s.check("exactly one public reply")
	return s.waitSlack("the draft card says it is published", func() bool {
		d, _ := s.w.slack.Message(productChannel, s.draft.TS)
		return strings.Contains(s.slackText(d), "Published")
	})
}

func (s *script) corrects() error {
	if err := s.writeInForm(s.draft.TS, "liaison_correct", "the correction form opens for Alice, filled with the published text", storyFix); err != nil {
		return err
	}
	var err error
	s.correction, err = s.waitDraftCard("a correction draft card in the thread", func(m slackfake.Message) bool {
		return m.TS != s.draft.TS && strings.Contains(s.slackText(m), "Correction")
	})
	if err != nil {
		return err
	}
	if err := s.w.slack.Click(bobID, productChannel, s.correction.TS, "liaison_approve"); err != nil {
		return err
	}
	if err := s.waitDiscord("the public reply edited in place", func() bool {
		m, ok := s.w.discord.MessageByID(s.reply.ID)
		return ok && m.Edited && strings.Contains(m.Content, "filters included")
	}); err != nil {
		return err
	}
	m, _ := s.w.discord.MessageByID(s.reply.ID)
	if got := s.w.discord.Pings(m); !slices.Equal(got, []string{"<@" + miaID + ">"}) {
		return fmt.Errorf("the corrected reply pings %v; want only Mia", got)
	}
	if n := len(s.publicReplies()); n != 1 {
		return fmt.Errorf("%d public replies after the correction, want the same one", n)
	}
	s.check("still one reply, still pinging only Mia")
	return s.waitSlack("the correction's card says it is published, and the item is answered again", func() bool {
		d, _ := s.w.slack.Message(productChannel, s.correction.TS)
		return strings.Contains(s.slackText(d), "Published") && strings.Contains(s.cardText(), "✅ Answered")
	})
}

// dashboard reads the figures the managers' dashboard shows, as its page
// does, with the dashboard's token.
func (s *script) dashboard() error {
	get := func(token string) (status int, body []byte, err error) {
		ctx, cancel := context.WithTimeout(s.ctx, s.within)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.w.base+"/dashboard/data.json?days=7", nil)
		if err != nil {
			return 0, nil, err
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer res.Body.Close()
		body, err = io.ReadAll(res.Body)
		return res.StatusCode, body, err
	}
	status, _, err := get("")
	if err != nil {
		return err
	}
	if status != http.StatusUnauthorized {
		return fmt.Errorf("the dashboard answers %d without its token, want 401 Unauthorized", status)
	}
	s.check("without its token, the dashboard shows nothing (401)")
	status, body, err := get(s.w.dashboard)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("the dashboard's figures: %d %s", status, body)
	}
	var d struct {
		Overall struct {
			ItemsIn  int `json:"items_in"`
			Answered int `json:"answered"`
		} `json:"overall"`
		Queue struct {
			Unanswered int `json:"unanswered"`
		} `json:"queue"`
		Responders []struct {
			Name string `json:"name"`
			N    int    `json:"n"`
		} `json:"responders"`
	}
	if err := json.Unmarshal(body, &d); err != nil {
		return fmt.Errorf("the dashboard's figures: %w", err)
	}
	if d.Overall.ItemsIn != 1 || d.Overall.Answered != 1 || d.Queue.Unanswered != 0 {
		return fmt.Errorf("the dashboard counts %d items in, %d answered, %d waiting; want 1, 1 and 0", d.Overall.ItemsIn, d.Overall.Answered, d.Queue.Unanswered)
	}
	if len(d.Responders) == 0 || d.Responders[0].Name != "Alice Martin" {
		return fmt.Errorf("the dashboard's responders are %+v, want Alice Martin first", d.Responders)
	}
	s.check("with it: 1 item in the last 7 days, 1 answered, nothing waiting; Alice Martin answered")
	return nil
}

// writeInForm has Alice click the button action of the message at ts, and
// write text in the form that opens (its callback id is the action's, and
// opens says what it is).
func (s *script) writeInForm(ts, action, opens, text string) error {
	if err := s.w.slack.Click(aliceID, productChannel, ts, action); err != nil {
		return err
	}
	view, err := s.modal(aliceID, action, opens)
	if err != nil {
		return err
	}
	return s.w.slack.SubmitView(aliceID, view.ID, map[string]map[string]string{"text": {"value": text}})
}

// Reading the fakes.

// waitDraftCard waits for a draft card awaiting approval in the card's
// thread that match accepts, the what.
func (s *script) waitDraftCard(what string, match func(slackfake.Message) bool) (slackfake.Message, error) {
	var card slackfake.Message
	err := s.waitSlack(what, func() bool {
		for _, m := range s.thread() {
			if hasButton(m, "liaison_approve") && match(m) {
				card = m
				return true
			}
		}
		return false
	})
	return card, err
}

// modal waits for a person's modal with a callback id.
func (s *script) modal(user, callbackID, what string) (slackfake.View, error) {
	var view slackfake.View
	err := s.waitSlack(what, func() bool {
		vs := s.w.slack.Views(user)
		if len(vs) > 0 && vs[len(vs)-1].CallbackID == callbackID {
			view = vs[len(vs)-1]
			return true
		}
		return false
	})
	return view, err
}

// thread returns the replies in the card's thread.
func (s *script) thread() []slackfake.Message {
	th := s.w.slack.Thread(productChannel, s.card.TS)
	if len(th) > 0 {
		return th[1:]
	}
	return nil
}

func (s *script) cardText() string {
	m, _ := s.w.slack.Message(productChannel, s.card.TS)
	return s.slackText(m)
}

// publicReplies are the webhook posts in Mia's forum post.
func (s *script) publicReplies() []discordfake.Message {
	var out []discordfake.Message
	for _, m := range s.w.discord.Messages(s.post.ID) {
		if m.WebhookID != "" && !m.Deleted {
			out = append(out, m)
		}
	}
	return out
}

func hasButton(m slackfake.Message, actionID string) bool {
	for _, b := range slackBlocks(m.Blocks) {
		if slices.ContainsFunc(b.Buttons, func(b Button) bool { return b.ActionID == actionID }) {
			return true
		}
	}
	return false
}

// slackText is a message as a reader sees it, on one line.
func (s *script) slackText(m slackfake.Message) string {
	return strings.Join(slackLines(s.w.slackMessage(m)), " ")
}

// The transcript: after every wait, what appeared or changed on either side.

// show prints the messages, ephemeral messages and modals that are new or
// changed since it last ran.
func (s *script) show() {
	st := s.w.snapshot()
	for _, ch := range st.Discord.Channels {
		for _, m := range ch.Messages {
			s.print("d"+m.ID, "Discord #"+ch.Name, discordLines(m))
		}
		for _, p := range ch.Posts {
			for _, m := range p.Messages {
				s.print("d"+m.ID, "Discord "+ch.Name+" forum › "+p.Title, discordLines(m))
			}
		}
	}
	for _, ch := range st.Slack.Channels {
		for _, m := range ch.Messages {
			s.print("s"+m.TS, "Slack #"+ch.Name, slackLines(m))
			for _, r := range m.Replies {
				s.print("s"+r.TS, "Slack #"+ch.Name+" › thread", slackLines(r))
			}
		}
	}
	for _, p := range people {
		for _, m := range st.Slack.Ephemerals[p.ID] {
			s.print("e"+m.TS, "Slack, only "+p.Name+" sees", slackLines(m))
		}
		if v := st.Slack.Modals[p.ID]; v != nil {
			lines := []string{"form \"" + v.Title + "\""}
			for _, f := range v.Fields {
				lines = append(lines, fmt.Sprintf("%s: %s", f.Label, clip(f.Initial, 100)))
			}
			s.print("v"+v.ViewID, "Slack, a form open for "+p.Name, lines)
		}
	}
}

// print shows a message the first time in full, later only its new lines.
func (s *script) print(key, where string, lines []string) {
	before, known := s.seen[key]
	if known && slices.Equal(before, lines) {
		return
	}
	s.seen[key] = lines
	if !known {
		fmt.Fprintf(s.out, "   + %s · %s\n", where, lines[0])
		for _, l := range lines[1:] {
			fmt.Fprintf(s.out, "       %s\n", l)
		}
		return
	}
	fmt.Fprintf(s.out, "   ~ %s · %s (updated)\n", where, lines[0])
	for _, l := range lines[1:] {
		if !slices.Contains(before, l) {
			fmt.Fprintf(s.out, "       %s\n", l)
		}
	}
}

// byline is who wrote a message, with their badge ("APP") if any.
func byline(author, badge string) string {
	if badge == "" {
		return author
	}
	return author + " [" + badge + "]"
}

func discordLines(m DMessage) []string {
	head := byline(m.Author, m.Badge)
	if m.Deleted {
		return []string{head, "(deleted)"}
	}
	if m.Edited {
		head += " (edited)"
	}
	lines := []string{head}
	if m.ReplyTo != nil {
		lines = append(lines, "↪ replying to "+m.ReplyTo.Author+": "+m.ReplyTo.Snippet)
	}
	if t := plainText(m.HTML); t != "" {
		lines = append(lines, clip(t, 200))
	}
	for _, e := range m.Embeds {
		lines = append(lines, clip(strings.TrimSpace(e.Author+" "+e.Title+" "+plainText(e.HTML)), 200))
	}
	if len(m.Pings) > 0 {
		lines = append(lines, "🔔 notifies "+strings.Join(m.Pings, ", "))
	}
	return lines
}

func slackLines(m SMessage) []string {
	head := byline(m.Author, m.Badge)
	if m.Deleted {
		return []string{head, "(deleted)"}
	}
	lines := []string{head}
	if t := plainText(m.HTML); t != "" {
		lines = append(lines, clip(t, 200))
	}
	for _, b := range m.Blocks {
		var parts []string
		if t := plainText(b.HTML); t != "" {
			parts = append(parts, t)
		}
		for _, f := range b.Fields {
			parts = append(parts, plainText(f))
		}
		for _, e := range b.Elements {
			if t := plainText(e.HTML); t != "" {
				parts = append(parts, t)
			}
		}
		for _, btn := range b.Buttons {
			parts = append(parts, "["+btn.Label+"]")
		}
		if len(parts) > 0 {
			lines = append(lines, clip(strings.Join(parts, " "), 200))
		}
	}
	if len(m.Pings) > 0 {
		lines = append(lines, "🔔 notifies "+strings.Join(m.Pings, ", "))
	}
	return lines
}
