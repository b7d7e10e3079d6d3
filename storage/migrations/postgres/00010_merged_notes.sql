-- Follow-ups merged into one internal post share its id as their
-- mirror_id: an edit of one of them rewrites the post from all of them.
-- Only relayed follow-ups have a mirror_id, and they get it after intake,
-- so intake pays nothing for this index.

-- +goose Up
CREATE INDEX messages_mirror ON messages (mirror_id, item_id) WHERE mirror_id <> '';

-- +goose Down
DROP INDEX messages_mirror;
