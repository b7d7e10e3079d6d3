package discordfake

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// commandName is Discord's rule for command and option names.
var commandName = regexp.MustCompile(`^[-_\p{L}\p{N}\p{Devanagari}\p{Thai}]{1,32}$`)

// commandScope checks the application and guild of a command URL: a foreign application or a
// guild the bot is not in gives 50001 Missing Access.
func (f *Fake) commandScope(rq *request) (string, *apiError) {
	if rq.params["application.id"] != f.appID {
		return "", errMissingAccess()
	}
	gid := rq.params["guild.id"]
	if gid != "" && f.guilds[gid] == nil {
		return "", errMissingAccess()
	}
	return gid, nil
}

type commandBody struct {
	Type        int                `json:"type"`
	Name        string             `json:"name"`
	Description string             `json:"description"`
	Options     []CommandOptionDef `json:"options"`
}

func validateCommand(fe *formErrors, path string, b *commandBody) {
	if b.Type == 0 {
		b.Type = 1
	}
	if b.Type < 1 || b.Type > 4 {
		fe.add(path+"type", "BASE_TYPE_CHOICES", "Value must be one of {1, 2, 3, 4}.")
	}
	if b.Type == 1 {
		if !commandName.MatchString(b.Name) || strings.ToLower(b.Name) != b.Name {
			fe.add(path+"name", "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
		}
		lengthBetween(fe, path+"description", b.Description, 1, 100)
	} else {
		lengthBetween(fe, path+"name", b.Name, 1, 32)
		if b.Description != "" {
			fe.add(path+"description", "APPLICATION_COMMAND_CONTEXT_MENU_DESCRIPTION", "Context menu commands cannot have description")
		}
	}
	validateOptionDefs(fe, path+"options", b.Options, 0)
}

func validateOptionDefs(fe *formErrors, path string, opts []CommandOptionDef, depth int) {
	if len(opts) > 25 {
		fe.add(path, "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
	}
	seenOptional := false
	names := map[string]bool{}
	for i, o := range opts {
		p := path + "." + strconv.Itoa(i) + "."
		if !commandName.MatchString(o.Name) || strings.ToLower(o.Name) != o.Name {
			fe.add(p+"name", "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
		}
		if names[o.Name] {
			fe.add(p+"name", "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS", "Option names must be unique")
		}
		names[o.Name] = true
		lengthBetween(fe, p+"description", o.Description, 1, 100)
		if o.Type < 1 || o.Type > 11 {
			fe.add(p+"type", "BASE_TYPE_CHOICES", "Value must be one of {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}.")
		}
		if o.Required && seenOptional {
			fe.add(p+"required", "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID", "Required options must be placed before non-required options")
		}
		if !o.Required {
			seenOptional = true
		}
		if o.Type == 1 || o.Type == 2 {
			if depth >= 2 {
				fe.add(p+"type", "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID", "Sub-command and sub-command group option types are mutually exclusive to all other types")
			}
			validateOptionDefs(fe, p+"options", o.Options, depth+1)
		}
	}
}

// putCommand stores a command, keeping the ID of an existing one of the same name and type, as
// Discord does. Callers hold f.mu.
func (f *Fake) putCommand(guildID string, raw map[string]json.RawMessage, b commandBody) (*command, bool) {
	list := f.commands[guildID]
	var cmd *command
	for _, c := range list {
		if c.Name == b.Name && c.Type == b.Type {
			cmd = c
		}
	}
	created := cmd == nil
	if created {
		cmd = &command{}
		cmd.ID = f.newID()
		f.commands[guildID] = append(list, cmd)
	}
	cmd.ApplicationID = f.appID
	cmd.GuildID = guildID
	cmd.Type = b.Type
	cmd.Name = b.Name
	cmd.Description = b.Description
	cmd.Options = b.Options
	cmd.Version = f.newID()
	cmd.raw = raw
	return cmd, created
}

func (f *Fake) wireCommand(c *command) obj {
	o := obj{}
	for k, v := range c.raw {
		o[k] = v
	}
	o["id"] = c.ID
	o["application_id"] = c.ApplicationID
	o["version"] = c.Version
	o["type"] = c.Type
	o["name"] = c.Name
	o["description"] = c.Description
	if c.GuildID != "" {
		o["guild_id"] = c.GuildID
	}
	if _, ok := o["default_member_permissions"]; !ok {
		o["default_member_permissions"] = nil
	}
	if _, ok := o["nsfw"]; !ok {
		o["nsfw"] = false
	}
	if _, ok := o["integration_types"]; !ok {
		o["integration_types"] = []int{0}
	}
	if _, ok := o["contexts"]; !ok {
		o["contexts"] = nil
	}
	return o
}

func (f *Fake) listCommands(rq *request) (int, any, *apiError) {
	gid, err := f.commandScope(rq)
	if err != nil {
		return 0, nil, err
	}
	out := []obj{}
	for _, c := range f.commands[gid] {
		out = append(out, f.wireCommand(c))
	}
	return http.StatusOK, out, nil
}

func decodeCommand(data []byte) (map[string]json.RawMessage, commandBody, *apiError) {
	rq := &request{body: data}
	var raw map[string]json.RawMessage
	var b commandBody
	if err := rq.decode(&raw); err != nil {
		return nil, b, err
	}
	if err := rq.decode(&b); err != nil {
		return nil, b, err
	}
	return raw, b, nil
}

func (f *Fake) overwriteCommands(rq *request) (int, any, *apiError) {
	gid, err := f.commandScope(rq)
	if err != nil {
		return 0, nil, err
	}
	var items []json.RawMessage
	if err := rq.decode(&items); err != nil {
		return 0, nil, err
	}
	if len(items) > 100 {
		return 0, nil, formError("_root", "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length.")
	}
	var fe formErrors
	type parsed struct {
		raw map[string]json.RawMessage
		b   commandBody
	}
	var all []parsed
	seen := map[string]bool{}
	for i, it := range items {
		raw, b, err := decodeCommand(it)
		if err != nil {
			return 0, nil, err
		}
		validateCommand(&fe, strconv.Itoa(i)+".", &b)
		key := strconv.Itoa(b.Type) + "|" + b.Name
		if seen[key] {
			fe.add(strconv.Itoa(i)+".name", "APPLICATION_COMMANDS_DUPLICATE_NAME", "Application command names must be unique")
		}
		seen[key] = true
		all = append(all, parsed{raw, b})
	}
	if err := fe.err(); err != nil {
		return 0, nil, err
	}
	old := f.commands[gid]
	f.commands[gid] = nil
	out := []obj{}
	for _, p := range all {
		for _, c := range old { // keep IDs of commands that survive
			if c.Name == p.b.Name && c.Type == p.b.Type {
				f.commands[gid] = append(f.commands[gid], c)
			}
		}
		c, _ := f.putCommand(gid, p.raw, p.b)
		out = append(out, f.wireCommand(c))
	}
	f.notifyLocked()
	return http.StatusOK, out, nil
}

func (f *Fake) createCommand(rq *request) (int, any, *apiError) {
	gid, err := f.commandScope(rq)
	if err != nil {
		return 0, nil, err
	}
	raw, b, err := decodeCommand(rq.body)
	if err != nil {
		return 0, nil, err
	}
	var fe formErrors
	validateCommand(&fe, "", &b)
	if err := fe.err(); err != nil {
		return 0, nil, err
	}
	c, created := f.putCommand(gid, raw, b)
	f.notifyLocked()
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return status, f.wireCommand(c), nil
}

func (f *Fake) findCommand(rq *request) (string, *command, *apiError) {
	gid, err := f.commandScope(rq)
	if err != nil {
		return "", nil, err
	}
	for _, c := range f.commands[gid] {
		if c.ID == rq.params["command.id"] {
			return gid, c, nil
		}
	}
	return "", nil, errUnknown(10063)
}

func (f *Fake) getCommand(rq *request) (int, any, *apiError) {
	_, c, err := f.findCommand(rq)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, f.wireCommand(c), nil
}

func (f *Fake) editCommand(rq *request) (int, any, *apiError) {
	_, c, err := f.findCommand(rq)
	if err != nil {
		return 0, nil, err
	}
	raw, b, err := decodeCommand(rq.body)
	if err != nil {
		return 0, nil, err
	}
	merged := map[string]json.RawMessage{}
	for k, v := range c.raw {
		merged[k] = v
	}
	for k, v := range raw {
		merged[k] = v
	}
	if b.Name == "" {
		b.Name = c.Name
	}
	if _, ok := raw["description"]; !ok {
		b.Description = c.Description
	}
	if _, ok := raw["options"]; !ok {
		b.Options = c.Options
	}
	b.Type = c.Type
	var fe formErrors
	validateCommand(&fe, "", &b)
	if err := fe.err(); err != nil {
		return 0, nil, err
	}
	c.Name, c.Description, c.Options, c.raw, c.Version = b.Name, b.Description, b.Options, merged, f.newID()
	f.notifyLocked()
	return http.StatusOK, f.wireCommand(c), nil
}

func (f *Fake) deleteCommand(rq *request) (int, any, *apiError) {
	gid, c, err := f.findCommand(rq)
	if err != nil {
		return 0, nil, err
	}
	list := f.commands[gid]
	for i := range list {
		if list[i] == c {
			f.commands[gid] = append(list[:i:i], list[i+1:]...)
			break
		}
	}
	f.notifyLocked()
	return http.StatusNoContent, nil, nil
}
