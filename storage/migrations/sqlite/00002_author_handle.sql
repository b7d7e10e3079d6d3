-- A member's username beside the name people know them by: cards show
-- "Carol (@carol)" where the two differ.

-- +goose Up
ALTER TABLE items ADD COLUMN author_handle TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN author_handle TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE messages DROP COLUMN author_handle;
ALTER TABLE items DROP COLUMN author_handle;
