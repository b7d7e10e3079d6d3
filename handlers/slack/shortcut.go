package slack

import (
	"context"

	slackapi "github.com/slack-go/slack"
)

// shortcut takes a message shortcut: one of the domain's menu commands
// (bot.Menus), run on a message.
func (c *Conn) shortcut(ctx context.Context, cb slackapi.InteractionCallback) outcome {
	return ignored
}
