-- A lease lets one replica at a time do what any of them could: hold the
-- gateway session of a Discord bot token. A lease whose expires has passed
-- may be taken by another owner; its holder renews it well before.
-- messages_newest finds the newest stored message of a channel by platform
-- id order (longer snowflakes are newer), where catching up starts.

-- +goose Up
CREATE TABLE leases (
    name    TEXT PRIMARY KEY,
    owner   TEXT NOT NULL,
    expires TIMESTAMPTZ NOT NULL
);
CREATE INDEX messages_newest ON messages (conn, channel, length(msg_id), msg_id);

-- +goose Down
DROP INDEX messages_newest;
DROP TABLE leases;
