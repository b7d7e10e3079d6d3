-- A digest posts a period's figures once: the row of (name, period_end) is
-- written with the job that posts it, in one transaction, and the UNIQUE
-- constraint makes a second replica, or a restart that catches up on the
-- same firing, write nothing.

-- +goose Up
CREATE TABLE digests (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         TEXT NOT NULL,
    period_start TIMESTAMPTZ NOT NULL,
    period_end   TIMESTAMPTZ NOT NULL,
    job_id       BIGINT NOT NULL DEFAULT 0,
    created_at   TIMESTAMPTZ NOT NULL,
    UNIQUE (name, period_end)
);

-- +goose Down
DROP TABLE digests;
