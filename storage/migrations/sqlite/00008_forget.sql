-- Forgetting a member erases what they wrote and their names but keeps the
-- rows, so that counts, statuses and the audit still add up: forgotten_at
-- marks a message erased at its author's request, purged_at one whose text
-- the retention period emptied. Neither text comes back with an edit.
-- forgotten_members remembers who was forgotten, when and by whom.

-- +goose Up
ALTER TABLE messages ADD COLUMN forgotten_at TEXT;
ALTER TABLE messages ADD COLUMN purged_at TEXT;
CREATE TABLE forgotten_members (
    conn         TEXT NOT NULL,
    author_id    TEXT NOT NULL,
    forgotten_at TEXT NOT NULL,
    forgotten_by TEXT NOT NULL,
    PRIMARY KEY (conn, author_id)
) STRICT;

-- +goose Down
DROP TABLE forgotten_members;
ALTER TABLE messages DROP COLUMN purged_at;
ALTER TABLE messages DROP COLUMN forgotten_at;
