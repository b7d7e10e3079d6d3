package discord

import (
	"context"

	"github.com/liaison-bot/liaison/config"
	"github.com/liaison-bot/liaison/internal/doctor"
)

// Doctor checks one Discord connection of the config with its token: see
// `liaison doctor`.
func Doctor(ctx context.Context, conn config.Connection, need doctor.Channels) []doctor.Check {
	return nil
}
