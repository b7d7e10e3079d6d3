-- People's Homes (Slack's App Home). home_viewers records who opened their
-- Home, on which connection, when, and the groups the platform said they
-- held then (a JSON list): only the Homes opened lately are kept up to
-- date, and the groups decide whether a draft waits for that person's
-- approval. A Home lists the items assigned to its person that wait for an
-- answer (items_assigned), the drafts waiting for an approver or to be
-- retried (drafts_review), and the drafts its person signs or proposed
-- (drafts_author_state, and draft_versions_proposer for the first version).

-- +goose Up
CREATE TABLE home_viewers (
    conn      TEXT NOT NULL,
    user_id   TEXT NOT NULL,
    group_ids TEXT NOT NULL DEFAULT '[]',
    opened_at TEXT NOT NULL,
    PRIMARY KEY (conn, user_id)
) STRICT;
CREATE INDEX home_viewers_opened ON home_viewers (conn, opened_at);
CREATE INDEX items_assigned ON items (assignee, id) WHERE assignee <> 0 AND status IN ('new', 'claimed', 'drafting', 'awaiting_approval');
CREATE INDEX drafts_review ON drafts (id) WHERE state IN ('pending', 'failed');
CREATE INDEX draft_versions_proposer ON draft_versions (editor_id) WHERE n = 1;

-- +goose Down
DROP INDEX draft_versions_proposer;
DROP INDEX drafts_review;
DROP INDEX items_assigned;
DROP TABLE home_viewers;
