package discord

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/liaison-bot/liaison/bot"
)

// A menu form's select names its action, field and message within
// Discord's 100 characters, and is told apart from a button's custom_id.
func TestMenuCustomID(t *testing.T) {
	snowflake := strings.Repeat("9", 20) // the longest a uint64 gives
	for _, m := range bot.Menus() {
		id := menuCustomID(m.Action, bot.FieldRouteID, snowflake, snowflake)
		if n := utf8.RuneCountInString(id); n > maxCustomID {
			t.Errorf("%s: custom_id of %d characters", m.Action, n)
		}
		action, field, channel, message, ok := parseMenuCustomID(id)
		if !ok || action != m.Action || field != bot.FieldRouteID || channel != snowflake || message != snowflake {
			t.Errorf("%s: %q read back as %q %q %q %q %v", m.Action, id, action, field, channel, message, ok)
		}
		if _, _, _, ok := parseCustomID(id); ok {
			t.Errorf("%q reads as a button's custom_id", id)
		}
	}
	for _, id := range []string{customID(bot.ActClaim, 7, false), customID(bot.ActRetract, 7, true), "liaison-menu:send_to_team:route:1", "liaison-menu::route:1:2", "other:a:b:c:d"} {
		if _, _, _, _, ok := parseMenuCustomID(id); ok {
			t.Errorf("%q reads as a menu form's select", id)
		}
	}
	if menuAction("Send to team") != bot.ActSendToTeam || menuAction("Member history") != bot.ActMemberHistory || menuAction("liaison") != "" {
		t.Error("menu commands are not found by their names")
	}
}
