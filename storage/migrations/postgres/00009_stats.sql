-- Statistics read one period's rows: the items opened, the messages
-- written, the drafts decided and the replies published in it, and, for
-- returning members, whether a member wrote before. drafts_open counts
-- the drafts waiting for an approver or their signer.

-- +goose Up
CREATE INDEX items_created ON items (created_at);
CREATE INDEX messages_created ON messages (created_at);
CREATE INDEX messages_author ON messages (conn, author_id, created_at);
CREATE INDEX drafts_decided ON drafts (decided_at) WHERE decided_at IS NOT NULL;
CREATE INDEX drafts_published ON drafts (published_at) WHERE published_at IS NOT NULL;
CREATE INDEX drafts_open ON drafts (item_id) WHERE state IN ('pending', 'awaiting_signer');

-- +goose Down
DROP INDEX drafts_open;
DROP INDEX drafts_published;
DROP INDEX drafts_decided;
DROP INDEX messages_author;
DROP INDEX messages_created;
DROP INDEX items_created;
