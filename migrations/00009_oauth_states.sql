-- +goose Up
-- State nonces of the authorization-code grant, kept on the server so a
-- callback can spend each one once (a replayed state and cookie fail).
-- Only a hash of the nonce is stored.
CREATE TABLE oauth_states (
    nonce_hash bytea PRIMARY KEY,
    shop       text NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX oauth_states_expiry ON oauth_states (expires_at);
-- +goose Down
DROP TABLE oauth_states;
