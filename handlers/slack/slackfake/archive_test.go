package slackfake_test

import (
	"context"
	"testing"

	"github.com/slack-go/slack"
)

func TestArchive(t *testing.T) {
	f := mustStart(t)
	c := api(f)
	ctx := context.Background()
	if err := f.Archive(general); err != nil {
		t.Fatal(err)
	}
	info, err := c.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: general})
	if err != nil || !info.IsArchived {
		t.Fatalf("conversations.info = %+v, %v; want is_archived", info, err)
	}
	if _, _, err := c.PostMessageContext(ctx, general, slack.MsgOptionText("hello", false)); slackError(err) != "is_archived" {
		t.Fatalf("chat.postMessage in an archived channel: %v, want is_archived", err)
	}
	if _, err := c.PostEphemeralContext(ctx, general, alice, slack.MsgOptionText("hello", false)); slackError(err) != "is_archived" {
		t.Fatalf("chat.postEphemeral in an archived channel: %v, want is_archived", err)
	}
	if _, err := c.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: general}); err != nil {
		t.Fatalf("the history of an archived channel: %v, want it readable", err)
	}
	if err := f.Archive("C0NOPE"); err == nil {
		t.Fatal("Archive of a channel that does not exist: no error")
	}
}
