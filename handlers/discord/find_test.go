package discord_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/handlers/discord"
	"github.com/liaison-bot/liaison/handlers/discord/discordfake"
)

// TestFindCannotTell: Find says a lost post does not exist only after
// reading every message since op.After; when it cannot read them all it
// says so with an error, and the outbox does not post a second copy.
func TestFindCannotTell(t *testing.T) {
	ctx := context.Background()
	f := discordfake.MustNew(t, discordfake.Options{BotToken: pubToken, BotUserID: pubBot, Guilds: []discordfake.Guild{communityGuild()}})
	c, err := discord.New(discord.Options{Name: "community", Token: pubToken, GuildID: pubGuild, APIURL: f.URL(), Log: testLog(t)}, &recorder{})
	if err != nil {
		t.Fatal(err)
	}
	since := time.Now()
	note := func(channel, text string) *bot.Op {
		return &bot.Op{Kind: bot.OpPostNote, Key: "liaison-job-7", Conn: "community", Channel: channel, After: since, Note: &bot.Note{Text: text}}
	}
	w := &world{t: t, pub: f}
	w.post(maria, general, "A member's message")

	t.Run("NotThere", func(t *testing.T) {
		if _, found, err := c.Find(ctx, note(general, "Never posted")); err != nil || found {
			t.Errorf("Find = %v, %v; want not found", found, err)
		}
	})
	t.Run("There", func(t *testing.T) {
		op := note(general, "Posted, answer lost")
		res, err := c.Send(ctx, op)
		if err != nil {
			t.Fatal(err)
		}
		got, found, err := c.Find(ctx, op)
		if err != nil || !found || got.MessageID != res.MessageID {
			t.Errorf("Find = %+v, %v, %v; want message %s", got, found, err, res.MessageID)
		}
	})
	t.Run("NoHistory", func(t *testing.T) {
		// Without Read Message History Discord lists no message at all.
		f.SetBotPermissions(general, discordfake.PermAll&^discordfake.PermReadMessageHistory)
		defer f.SetBotPermissions(general, discordfake.PermAll)
		if _, found, err := c.Find(ctx, note(general, "Posted, answer lost")); err == nil || found {
			t.Errorf("Find without the history = %v, %v; want an error", found, err)
		}
	})
	t.Run("NoAccess", func(t *testing.T) {
		f.SetBotPermissions(general, 0)
		defer f.SetBotPermissions(general, discordfake.PermAll)
		if _, found, err := c.Find(ctx, note(general, "Posted, answer lost")); err == nil || found {
			t.Errorf("Find in a channel it cannot see = %v, %v; want an error", found, err)
		}
	})
	t.Run("UnknownChannel", func(t *testing.T) {
		if _, found, err := c.Find(ctx, note("2100000000000009999", "x")); err == nil || found {
			t.Errorf("Find in an unknown channel = %v, %v; want an error", found, err)
		}
	})
	t.Run("TooMany", func(t *testing.T) {
		for i := range 1001 {
			w.post(sam, offTopic, fmt.Sprint("chatter ", i))
		}
		_, found, err := c.Find(ctx, note(offTopic, "Never posted"))
		if err == nil || found || !strings.Contains(err.Error(), "cannot tell") {
			t.Errorf("Find past 1000 messages = %v, %v; want an error", found, err)
		}
	})
}
