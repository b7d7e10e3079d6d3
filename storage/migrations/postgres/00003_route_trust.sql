-- Trust is given per route, by an approver of that route. The global
-- profiles.trusted flag is no longer read: nobody keeps, after upgrading,
-- a trust that no approver of the route gave.
-- profiles.seed_json is what the config last said of a profile, so that a
-- restart applies only what changed in the config.

-- +goose Up
CREATE TABLE route_trust (
    profile_id BIGINT NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    route      TEXT NOT NULL,
    granted_by TEXT NOT NULL,
    granted_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (profile_id, route)
);
ALTER TABLE profiles ADD COLUMN seed_json TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE profiles DROP COLUMN seed_json;
DROP TABLE route_trust;
