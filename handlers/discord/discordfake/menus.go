package discordfake

// Context-menu commands: a member runs one of the app's commands on a message or on a user, as
// the Discord client does from its Apps menu. Sources:
// https://discord.com/developers/docs/interactions/application-commands ("Message Commands",
// "User Commands": type 3 and 2, no options, a name of 1 to 32 characters) and
// https://discord.com/developers/docs/interactions/receiving-and-responding ("Application Command
// Data Structure": type, target_id; "Resolved Data Structure": users, members, messages). The
// resolved message is whole, content included: message commands are one of the ways Discord
// offers apps to read a message without the Message Content intent
// (https://support-dev.discord.com/hc/en-us/articles/6383579033751, "Message Commands").
//
// The answer with a select (an ephemeral message of the app) is picked in with Select, which
// finds ephemeral messages the member sees.

import (
	"fmt"
	"slices"
)

// Application command types.
const (
	commandChatInput = 1
	commandUser      = 2
	commandMessage   = 3
)

// commandFor finds the registered command name of type typ for a channel: the channel's
// guild's commands first, then global ones. Callers hold f.mu.
func (f *Fake) commandFor(c *channelState, name string, typ int) (*command, error) {
	scopes := []string{""}
	if c.GuildID != "" {
		scopes = []string{c.GuildID, ""}
	}
	for _, scope := range scopes {
		if i := slices.IndexFunc(f.commands[scope], func(cc *command) bool { return cc.Name == name && cc.Type == typ }); i >= 0 {
			return f.commands[scope][i], nil
		}
	}
	return nil, fmt.Errorf("discordfake: no command %q of type %d is registered for this channel", name, typ)
}

// runContext dispatches INTERACTION_CREATE (type 2) for a context-menu command. Callers hold f.mu.
func (f *Fake) runContext(userID string, c *channelState, cmd *command, targetID string, resolved obj) string {
	data := obj{"id": cmd.ID, "name": cmd.Name, "type": cmd.Type, "target_id": targetID, "resolved": resolved}
	if cmd.GuildID != "" {
		data["guild_id"] = cmd.GuildID
	}
	in := f.newInteraction(2, userID, c, "")
	in.commandName = cmd.Name
	f.dispatchInteraction(in, data)
	return in.id
}

// RunMessageCommand runs, as a member, the app's message command name on a message of a channel
// and dispatches INTERACTION_CREATE (type 2) whose data has type 3, target_id the message's ID
// and the message in resolved.messages. It returns the interaction's ID.
func (f *Fake) RunMessageCommand(userID, channelID, name, messageID string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, _, err := f.actor(userID, channelID)
	if err != nil {
		return "", err
	}
	cmd, err := f.commandFor(c, name, commandMessage)
	if err != nil {
		return "", err
	}
	m := f.messages[messageID]
	if m == nil || m.ChannelID != c.ID || m.Deleted || (m.Ephemeral() && m.VisibleTo != userID) {
		return "", fmt.Errorf("discordfake: %s sees no message %s in channel %s", userID, messageID, channelID)
	}
	resolved := obj{"messages": obj{m.ID: f.wireMessage(m, wireOpts{})}}
	return f.runContext(userID, c, cmd, m.ID, resolved), nil
}

// RunUserCommand runs, as a member, the app's user command name on a user from a channel and
// dispatches INTERACTION_CREATE (type 2) whose data has type 2, target_id the user's ID, the user
// in resolved.users and, in a guild they belong to, their member in resolved.members. It returns
// the interaction's ID.
func (f *Fake) RunUserCommand(userID, channelID, name, targetID string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, _, err := f.actor(userID, channelID)
	if err != nil {
		return "", err
	}
	cmd, err := f.commandFor(c, name, commandUser)
	if err != nil {
		return "", err
	}
	resolved := obj{}
	if err := f.resolve(resolved, c.GuildID, resolveUser, targetID); err != nil {
		return "", err
	}
	return f.runContext(userID, c, cmd, targetID, resolved), nil
}
