-- +goose Up
-- A webhook delivery's life: pending until applied (the applied mark is
-- committed with the data it wrote), dead after too many failed attempts
-- (revived by the reconciliation), rejected when its payload can never be
-- applied. attempts counts failed and successful tries, not waits for a
-- running import.
ALTER TABLE webhook_deliveries
    ADD COLUMN state text NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'applied', 'dead', 'rejected')),
    ADD COLUMN attempts integer NOT NULL DEFAULT 0,
    ADD COLUMN applied_at timestamptz;

-- Before this migration a payload was dropped once applied or refused;
-- a kept payload meant "still to apply".
UPDATE webhook_deliveries SET state = CASE
        WHEN payload IS NOT NULL THEN 'pending'
        WHEN error <> '' THEN 'rejected'
        ELSE 'applied' END,
    applied_at = CASE WHEN payload IS NULL AND error = '' THEN processed_at END;

-- The sweeper reads unapplied deliveries oldest first, and the page counts
-- a shop's unfinished ones; applied rows, the vast majority, stay out of
-- both indexes.
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (received_at) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_unfinished ON webhook_deliveries (shop, state) WHERE state <> 'applied';
-- The retention job deletes by age.
CREATE INDEX webhook_deliveries_received ON webhook_deliveries (received_at);
CREATE INDEX data_requests_created ON data_requests (created_at);

-- +goose Down
DROP INDEX data_requests_created;
DROP INDEX webhook_deliveries_received;
DROP INDEX webhook_deliveries_unfinished;
DROP INDEX webhook_deliveries_pending;
ALTER TABLE webhook_deliveries DROP COLUMN applied_at, DROP COLUMN attempts, DROP COLUMN state;
