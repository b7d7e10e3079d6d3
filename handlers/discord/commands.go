package discord

import (
	"context"
	"errors"
	"fmt"
	"time"

	dg "github.com/bwmarrin/discordgo"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/internal/pause"
)

// A failed registration of /liaison is tried again after registerBackoffMin,
// then twice as long each time, up to registerBackoffMax, for as long as
// Run runs; Health says so meanwhile.
const (
	registerBackoffMin = time.Second
	registerBackoffMax = 5 * time.Minute
)

// command is /liaison as the domain lists it, with its subcommands.
func command() *dg.ApplicationCommand {
	cmd := &dg.ApplicationCommand{
		Type:        dg.ChatApplicationCommand,
		Name:        bot.CommandName,
		Description: clip(bot.CommandDescription, maxCommandDescription),
	}
	for _, sc := range bot.SubCommands() {
		opt := &dg.ApplicationCommandOption{
			Type:        dg.ApplicationCommandOptionSubCommand,
			Name:        sc.Name,
			Description: clip(sc.Description, maxCommandDescription),
		}
		for _, a := range sc.Args {
			opt.Options = append(opt.Options, &dg.ApplicationCommandOption{
				Type:        optionType(a.Kind),
				Name:        a.Name,
				Description: clip(a.Description, maxCommandDescription),
				Required:    a.Required,
			})
		}
		cmd.Options = append(cmd.Options, opt)
	}
	return cmd
}

// commands are the application commands Liaison registers: /liaison and
// the domain's menu commands, on a message or on a user.
func commands() []*dg.ApplicationCommand {
	out := []*dg.ApplicationCommand{command()}
	for _, m := range bot.Menus() {
		typ := dg.MessageApplicationCommand
		if m.On == bot.OnUser {
			typ = dg.UserApplicationCommand
		}
		out = append(out, &dg.ApplicationCommand{Type: typ, Name: clip(m.Name, maxMenuName)})
	}
	return out
}

// maxMenuName is Discord's limit on a context-menu command's name.
const maxMenuName = 32

// optionType is the option a command argument is on Discord: a user
// option for a person, a string option for a word.
func optionType(k bot.ArgKind) dg.ApplicationCommandOptionType {
	if k == bot.ArgUser {
		return dg.ApplicationCommandOptionUser
	}
	return dg.ApplicationCommandOptionString
}

// register installs /liaison, trying again with a growing wait until it
// succeeds or ctx ends.
func (c *Conn) register(ctx context.Context) {
	c.mu.Lock()
	wait := c.regBackoff
	c.mu.Unlock()
	for attempt := 1; ; attempt++ {
		err := c.registerCommands(ctx)
		c.mu.Lock()
		c.registered, c.regErr = err == nil, err
		c.mu.Unlock()
		if err == nil {
			c.log.Info("/"+bot.CommandName+" registered", "attempts", attempt)
			return
		}
		if ctx.Err() != nil {
			return
		}
		c.log.Error("register /"+bot.CommandName, "attempt", attempt, "retry_in", wait, "err", err)
		if !pause.For(ctx, wait) {
			return
		}
		wait = nextBackoff(wait)
	}
}

// nextBackoff doubles d, up to registerBackoffMax.
func nextBackoff(d time.Duration) time.Duration {
	if d *= 2; d > registerBackoffMax || d <= 0 {
		return registerBackoffMax
	}
	return d
}

// registerCommands installs /liaison in the configured guild, or in every
// guild READY listed, replacing what was there.
func (c *Conn) registerCommands(ctx context.Context) error {
	app, err := c.application(ctx)
	if err != nil {
		return err
	}
	guilds := []string{c.opts.GuildID}
	if c.opts.GuildID == "" {
		c.mu.Lock()
		guilds = append([]string(nil), c.guilds...)
		c.mu.Unlock()
	}
	if len(guilds) == 0 {
		return errors.New("no guild to register in: set guild_id, or invite the bot to a guild")
	}
	var errs []error
	for _, g := range guilds {
		if _, err := c.s.ApplicationCommandBulkOverwrite(app, g, commands(), dg.WithContext(ctx)); err != nil {
			errs = append(errs, fmt.Errorf("guild %s: %w", g, err))
		}
	}
	return errors.Join(errs...)
}
