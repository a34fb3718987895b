-- +goose Up
-- Prefix search of the admin page's customer list (by email or name),
-- answered from an index even for a million customers.
CREATE INDEX customers_email_search ON customers (shop, lower(email) text_pattern_ops);
CREATE INDEX customers_name_search ON customers (shop, lower(coalesce(first_name, '') || ' ' || coalesce(last_name, '')) text_pattern_ops);
CREATE INDEX customers_last_name_search ON customers (shop, lower(last_name) text_pattern_ops);

-- +goose Down
DROP INDEX customers_last_name_search;
DROP INDEX customers_name_search;
DROP INDEX customers_email_search;
