-- A staff message said in a card's thread before Liaison recorded the card
-- (the card was posted, its answer not yet stored) waits here until the
-- card is known, then is taken in like any other. A message parked for a
-- day was not in a card's thread and is dropped.

-- +goose Up
CREATE TABLE parked (
    id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conn    TEXT NOT NULL,
    channel TEXT NOT NULL,
    msg_id  TEXT NOT NULL,
    card_channel TEXT NOT NULL,
    thread  TEXT NOT NULL,
    payload TEXT NOT NULL,
    at      TIMESTAMPTZ NOT NULL,
    UNIQUE (conn, channel, msg_id)
);

CREATE INDEX parked_thread ON parked (conn, card_channel, thread);

-- +goose Down
DROP TABLE parked;
