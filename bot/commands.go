package bot

import (
	"context"
	"fmt"
	"strings"
)

// CommandName is Liaison's slash command: /liaison <subcommand>.
const CommandName = "liaison"

// AppName is the app's name where a platform lists it.
const AppName = "Liaison"

// AppDescription is what the app is for, where a platform lists it.
const AppDescription = "Brings what your community says to the team it concerns, and carries approved replies back under your name."

// CommandDescription describes /liaison where the platform lists commands.
const CommandDescription = "Liaison: the community's questions, answered under your own name"

// commandSpec makes an action a /liaison subcommand.
type commandSpec struct {
	args     []CommandArg // what it takes after its name, in order
	help     string       // its line in the help
	describe string       // its description where the platform lists commands
}

// commandOrder lists the subcommands as help and the platforms show them.
var commandOrder = []ActionID{ActProfile, ActPromote, ActDemote, ActStats, ActForget, ActHelp}

// ArgKind is what a command argument names.
type ArgKind int

const (
	// ArgText is a word, as typed: Slack takes the next word, Discord a
	// string option.
	ArgText ArgKind = iota
	// ArgUser is a person on the platform: Slack takes a mention (or a
	// user id), Discord a user option. The request carries their user id.
	ArgUser
)

// CommandArg is one argument of a subcommand.
type CommandArg struct {
	Name        string // lowercase, as Discord wants option names: "user", "period"
	Description string // where the platform describes it (at most 100 characters)
	Kind        ArgKind
	Required    bool
}

// SubCommand is a /liaison subcommand as a platform registers it.
type SubCommand struct {
	Name        string // the action, as typed: "promote"
	Description string
	// Usage is how it is typed: "/liaison promote @person".
	Usage string
	// Args are the arguments it takes, in the order they are typed;
	// required ones come first.
	Args []CommandArg
}

// SubCommands lists /liaison's subcommands, for platforms that register them.
func SubCommands() []SubCommand {
	var out []SubCommand
	for _, id := range commandOrder {
		a, _ := lookupAction(id)
		out = append(out, SubCommand{Name: string(id), Description: a.command.describe, Usage: usage(id), Args: a.command.args})
	}
	return out
}

// SubCommandArgs lists the arguments of the subcommand named name; none
// for a name Liaison does not know.
func SubCommandArgs(name string) []CommandArg {
	a, ok := lookupAction(ActionID(name))
	if !ok || a.command == nil {
		return nil
	}
	return a.command.args
}

// UserArgName names the user argument of the subcommands that take one
// (promote, demote): Request.User carries it.
const UserArgName = "user"

// usage is how a subcommand is typed: "/liaison promote @person",
// "/liaison stats [period] [route]".
func usage(id ActionID) string {
	out := "/" + CommandName + " " + string(id)
	a, _ := lookupAction(id)
	if a.command == nil {
		return out
	}
	for _, arg := range a.command.args {
		word := arg.Name
		if arg.Kind == ArgUser {
			word = "@person"
		}
		if !arg.Required {
			word = "[" + word + "]"
		}
		out += " " + word
	}
	return out
}

// Help says what Liaison does and how to use it, from the actions and
// commands themselves.
func (s *Service) Help() string {
	label := func(id ActionID) string { a, _ := lookupAction(id); return a.label }
	labels := func(ids ...ActionID) string {
		var out []string
		for _, id := range ids {
			out = append(out, label(id))
		}
		return strings.Join(out, ", ")
	}
	var b strings.Builder
	b.WriteString("Liaison relays what the community says into this team's channels and posts your approved answers back, under your own name.\n")
	fmt.Fprintf(&b, "• On a card: %s.\n", labels(ActReply, ActClaim, ActUnclaim, ActTag, ActIgnore, ActReopen))
	fmt.Fprintf(&b, "• In a card's thread, a message starting with `%s` becomes a draft reply; everything else said there stays internal.\n", strings.TrimSpace(s.Settings.ReplyPrefix))
	fmt.Fprintf(&b, "• On a draft: approvers %s; its signer can %s, and must %s words someone else wrote before they go out under their name. A published reply can be corrected (%s) or retracted (%s) the same way.\n",
		labels(ActApprove, ActEditApprove, ActReject), label(ActWithdraw), label(ActAccept), label(ActCorrect), label(ActRetract))
	for i, id := range commandOrder {
		a, _ := lookupAction(id)
		fmt.Fprintf(&b, "• `%s`: %s", usage(id), a.command.help)
		if i < len(commandOrder)-1 {
			b.WriteString("\n")
		}
	}
	return b.String()
}

func (s *Service) helpRun(ctx context.Context, req Request) (string, error) { return s.Help(), nil }
