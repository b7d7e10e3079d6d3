-- Liaison's first schema, Postgres flavour. Same tables, columns and
-- constraints as the SQLite one; times are TIMESTAMPTZ (microseconds, as the
-- domain keeps them), booleans BOOLEAN, lists JSON text.

-- +goose Up
CREATE TABLE items (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conn              TEXT NOT NULL,
    channel           TEXT NOT NULL,
    thread_id         TEXT NOT NULL DEFAULT '',
    thread_channel    TEXT NOT NULL DEFAULT '',
    root_channel      TEXT NOT NULL DEFAULT '',
    root_msg_id       TEXT NOT NULL DEFAULT '',
    link              TEXT NOT NULL DEFAULT '',
    author_id         TEXT NOT NULL DEFAULT '',
    author_name       TEXT NOT NULL DEFAULT '',
    route             TEXT NOT NULL DEFAULT '',
    tags              TEXT NOT NULL DEFAULT '[]',
    status            TEXT NOT NULL,
    assignee          BIGINT NOT NULL DEFAULT 0,
    card_conn         TEXT NOT NULL DEFAULT '',
    card_channel      TEXT NOT NULL DEFAULT '',
    card_id           TEXT NOT NULL DEFAULT '',
    card_thread       TEXT NOT NULL DEFAULT '',
    card_link         TEXT NOT NULL DEFAULT '',
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL,
    first_answered_at TIMESTAMPTZ
);
CREATE INDEX items_thread ON items (conn, channel, thread_id);
CREATE INDEX items_card_thread ON items (card_conn, card_thread) WHERE card_thread <> '';
CREATE INDEX items_author ON items (conn, author_id, created_at);

CREATE TABLE messages (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conn        TEXT NOT NULL,
    channel     TEXT NOT NULL,
    msg_id      TEXT NOT NULL,
    item_id     BIGINT REFERENCES items (id),
    author_id   TEXT NOT NULL DEFAULT '',
    author_name TEXT NOT NULL DEFAULT '',
    text        TEXT NOT NULL DEFAULT '',
    attachments TEXT NOT NULL DEFAULT '[]',
    link        TEXT NOT NULL DEFAULT '',
    mirror_id   TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMPTZ NOT NULL,
    edited_at   TIMESTAMPTZ,
    deleted_at  TIMESTAMPTZ,
    CONSTRAINT messages_key UNIQUE (conn, channel, msg_id)
);

CREATE TABLE drafts (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    item_id        BIGINT NOT NULL REFERENCES items (id),
    kind           TEXT NOT NULL,
    target         BIGINT NOT NULL DEFAULT 0,
    author_id      BIGINT NOT NULL DEFAULT 0,
    state          TEXT NOT NULL,
    approver_id    BIGINT NOT NULL DEFAULT 0,
    reject_reason  TEXT NOT NULL DEFAULT '',
    card_id        TEXT NOT NULL DEFAULT '',
    public_conn    TEXT NOT NULL DEFAULT '',
    public_channel TEXT NOT NULL DEFAULT '',
    public_id      TEXT NOT NULL DEFAULT '',
    public_link    TEXT NOT NULL DEFAULT '',
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL,
    decided_at     TIMESTAMPTZ,
    published_at   TIMESTAMPTZ
);
CREATE INDEX drafts_item ON drafts (item_id);
CREATE INDEX drafts_author_state ON drafts (author_id, state);

-- Every version of a draft is kept.
CREATE TABLE draft_versions (
    draft_id  BIGINT NOT NULL REFERENCES drafts (id) ON DELETE CASCADE,
    n         INTEGER NOT NULL,
    text      TEXT NOT NULL,
    editor_id BIGINT NOT NULL DEFAULT 0,
    at        TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (draft_id, n)
);

CREATE TABLE profiles (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         TEXT NOT NULL DEFAULT '',
    title        TEXT NOT NULL DEFAULT '',
    avatar_url   TEXT NOT NULL DEFAULT '',
    pronouns     TEXT NOT NULL DEFAULT '',
    consented_at TIMESTAMPTZ,
    role         TEXT NOT NULL,
    trusted      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);

-- A platform user is one profile.
CREATE TABLE profile_identities (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    profile_id BIGINT NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    conn       TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    CONSTRAINT profile_identities_user UNIQUE (conn, user_id)
);
CREATE INDEX profile_identities_profile ON profile_identities (profile_id);

-- Append-only.
CREATE TABLE audit_events (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          TIMESTAMPTZ NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    subject     TEXT NOT NULL,
    before_json TEXT NOT NULL DEFAULT '',
    after_json  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_events_subject ON audit_events (subject, id);

-- Platform operations waiting to happen (see outbox.go). Ids are never
-- reused: an operation's key on the platform is made of it.
CREATE TABLE outbox (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind         TEXT NOT NULL,
    item_id      BIGINT NOT NULL DEFAULT 0,
    draft_id     BIGINT NOT NULL DEFAULT 0,
    message_id   BIGINT NOT NULL DEFAULT 0,
    conn         TEXT NOT NULL DEFAULT '',
    channel      TEXT NOT NULL DEFAULT '',
    payload      TEXT NOT NULL DEFAULT '',
    order_key    TEXT NOT NULL DEFAULT '',
    idem_key     TEXT,
    coalesce_key TEXT,
    state        TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    uncertain    BOOLEAN NOT NULL DEFAULT FALSE,
    run_at       TIMESTAMPTZ NOT NULL,
    locked_by    TEXT NOT NULL DEFAULT '',
    locked_at    TIMESTAMPTZ,
    lease_until  TIMESTAMPTZ,
    last_error   TEXT NOT NULL DEFAULT '',
    result       TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    done_at      TIMESTAMPTZ
);
-- Partial unique indexes: most jobs have neither key, and an index entry is
-- a page written per insert.
CREATE UNIQUE INDEX outbox_idem_key ON outbox (idem_key) WHERE idem_key IS NOT NULL;
CREATE UNIQUE INDEX outbox_coalesce_key ON outbox (coalesce_key) WHERE state = 'pending' AND coalesce_key IS NOT NULL;
-- The live jobs (few: jobs are done in seconds), for claiming and per-key order.
CREATE INDEX outbox_order ON outbox (order_key, id) WHERE state IN ('pending', 'running');

-- Things said once (a warning about an unrouted channel…).
CREATE TABLE notices (
    key TEXT PRIMARY KEY,
    at  TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE notices;
DROP TABLE outbox;
DROP TABLE audit_events;
DROP TABLE profile_identities;
DROP TABLE profiles;
DROP TABLE draft_versions;
DROP TABLE drafts;
DROP TABLE messages;
DROP TABLE items;
