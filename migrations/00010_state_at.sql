-- +goose Up
-- Shopify's updated_at has one-second precision, so two changes of a
-- record within a second carry the same updated_at. state_at breaks the
-- tie: when the stored version was known to be current, i.e. the
-- X-Shopify-Triggered-At of the webhook that wrote it, or a time before
-- the bulk export that wrote it read anything. NULL when not known (a
-- delivery without the header, rows written before this column).
ALTER TABLE orders ADD COLUMN state_at timestamptz;
ALTER TABLE customers ADD COLUMN state_at timestamptz;
-- +goose Down
ALTER TABLE orders DROP COLUMN state_at;
ALTER TABLE customers DROP COLUMN state_at;
