-- +goose Up
-- Shopify's own RFM group and predicted spend tier (Customer.statistics),
-- read by the sync for a side-by-side comparison with the app's groups.
-- Shopify recomputes them without touching the customer's updated_at, so
-- the sync overwrites them whenever they differ. Webhook payloads do not
-- carry them and leave them alone. NULL when Shopify gave none.
ALTER TABLE customers ADD COLUMN shopify_rfm_group text;
ALTER TABLE customers ADD COLUMN shopify_predicted_spend_tier text;
-- +goose Down
ALTER TABLE customers DROP COLUMN shopify_rfm_group;
ALTER TABLE customers DROP COLUMN shopify_predicted_spend_tier;
