-- outbox_publish finds every earlier attempt to publish a draft, so that a
-- new attempt is reconciled against all of them; only publish jobs pay for
-- it. items_waiting lists the items still waiting for a public answer, so
-- that reminders page through them however few of all items they are.

-- +goose Up
CREATE INDEX outbox_publish ON outbox (draft_id, id) WHERE kind = 'publish';
CREATE INDEX items_waiting ON items (id) WHERE status IN ('new', 'claimed', 'drafting', 'awaiting_approval');

-- +goose Down
DROP INDEX items_waiting;
DROP INDEX outbox_publish;
