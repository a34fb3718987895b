-- +goose Up
-- A rescore needs of most orders' lines only three sums, yet it read every
-- line (12.7M rows for a shop of 1M customers and 5M orders, the largest
-- part of its read). The sums are kept here instead, changed in the same
-- transaction as the lines or the variant costs they come from (order
-- webhooks, the orders merge's lines, the products merge's variants), so
-- that a reader in any snapshot finds them agreeing with the lines. The
-- rescore reads lines only where it needs them one by one: first
-- purchases, and orders whose sums are NULL.
--
-- order_line_totals is the SQL definition of the sums. They are float8
-- sums in line id order, each product rounded before it is added: the
-- order and arithmetic the Go loader uses on the same float8 values
-- (ledger's lineCost), so both give the same numbers to the last bit;
-- 0 + turns a sum of only negative zeros into the zero the Go sum starts
-- from. A NaN price or cost (numeric allows one) makes the sums NULL: the
-- Go loader then reads the lines and handles it.
CREATE VIEW order_line_totals AS
SELECT shop, order_id,
    CASE WHEN summable THEN 0 + revenue END AS line_revenue,
    CASE WHEN summable THEN 0 + COALESCE(cost, 0) END AS known_cost,
    CASE WHEN summable THEN 0 + COALESCE(covered, 0) END AS covered_revenue
FROM (SELECT l.shop, l.order_id,
        bool_and(l.unit_price <> 'NaN' AND (v.unit_cost IS NULL OR v.unit_cost <> 'NaN')) AS summable,
        sum(l.unit_price::float8 * l.quantity::float8 ORDER BY l.id) AS revenue,
        sum(v.unit_cost::float8 * l.quantity::float8 ORDER BY l.id) AS cost,
        sum(l.unit_price::float8 * l.quantity::float8 ORDER BY l.id) FILTER (WHERE v.unit_cost IS NOT NULL) AS covered
    FROM order_lines l LEFT JOIN variants v ON v.shop = l.shop AND v.id = l.variant_id
    GROUP BY l.shop, l.order_id) sums;

-- One row for every order that has lines, none for an order without.
CREATE TABLE order_line_sums (
    shop            text NOT NULL,
    order_id        bigint NOT NULL,
    line_revenue    float8,
    known_cost      float8,
    covered_revenue float8,
    PRIMARY KEY (shop, order_id)
);

INSERT INTO order_line_sums (shop, order_id, line_revenue, known_cost, covered_revenue)
SELECT shop, order_id, line_revenue, known_cost, covered_revenue FROM order_line_totals;

-- +goose Down
DROP TABLE order_line_sums;
DROP VIEW order_line_totals;
