-- A digest posts a period's figures once: the row of (name, period_end) is
-- written with the job that posts it, in one transaction, and the UNIQUE
-- constraint makes a second replica, or a restart that catches up on the
-- same firing, write nothing.

-- +goose Up
CREATE TABLE digests (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT NOT NULL,
    period_start TEXT NOT NULL,
    period_end   TEXT NOT NULL,
    job_id       INTEGER NOT NULL DEFAULT 0,
    created_at   TEXT NOT NULL,
    UNIQUE (name, period_end)
) STRICT;

-- +goose Down
DROP TABLE digests;
