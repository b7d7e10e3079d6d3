package bot

// Commands people find in a platform's menus, on a message or on a person:
// a Slack message shortcut, a Discord message or user context-menu command.
const (
	// ActSendToTeam: on a message in a channel Liaison does not watch, a
	// staff member opens an item from it on the route they pick.
	ActSendToTeam ActionID = "send_to_team"
	// ActMemberHistory: a member's earlier items and how they were
	// answered, shown privately to a staff member.
	ActMemberHistory ActionID = "member_history"
)

// MenuTarget is what a menu command is run on.
type MenuTarget int

const (
	OnMessage MenuTarget = iota // a message (Slack message shortcut, Discord message command)
	OnUser                      // a person (Discord user command; on Slack, a message's author)
)

// Menu is a command in a platform's menus.
type Menu struct {
	Action ActionID
	// Name is what the menu shows, as Discord wants a context-menu
	// command's name (1 to 32 characters) and Slack a shortcut's.
	Name string
	// Description is where the platform describes it (Slack shortcuts).
	Description string
	// On: what Discord runs it on. Slack has message shortcuts only: a
	// command on a person runs there on a message's author.
	On MenuTarget
}

// Menus lists the menu commands, for adapters that register them and for
// the Slack app manifest.
func Menus() []Menu {
	return []Menu{
		{Action: ActSendToTeam, Name: "Send to team", On: OnMessage,
			Description: "Relay this message to a team, as if Liaison watched this channel (staff)"},
		{Action: ActMemberHistory, Name: "Member history", On: OnUser,
			Description: "This member's earlier questions and how they were answered, for your eyes only (staff)"},
	}
}
