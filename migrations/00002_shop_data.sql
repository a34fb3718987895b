-- +goose Up
-- A shop's history as imported from Shopify (internal/ingest). Ids are
-- Shopify's numeric legacy ids (the number at the end of a GID). Amounts are
-- in the shop's currency (shopMoney), numeric(18,4): Shopify's Decimal money
-- carries sub-cent unit costs and three-decimal currencies, which cents
-- would round away. Every row keeps Shopify's updated_at so a late, older
-- webhook never overwrites newer data.

-- Personal data is limited to what the admin page searches by (email and
-- name) plus city and country for the reports; customers/redact wipes it.
CREATE TABLE customers (
    shop         text NOT NULL,
    id           bigint NOT NULL,
    email        text,
    first_name   text,
    last_name    text,
    city         text,
    country      text,
    country_code text,
    created_at   timestamptz,
    updated_at   timestamptz NOT NULL,
    -- Set by customers/delete. The row stays as a tombstone so a late
    -- customers/update cannot bring the customer back.
    deleted_at   timestamptz,
    PRIMARY KEY (shop, id)
);

-- Customers whose personal data was redacted (customers/redact). Imports
-- and webhooks consult it so the data never comes back, even when Shopify
-- still holds the customer.
CREATE TABLE redacted_customers (
    shop        text NOT NULL,
    customer_id bigint NOT NULL,
    redacted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop, customer_id)
);

CREATE TABLE orders (
    shop           text NOT NULL,
    id             bigint NOT NULL,
    customer_id    bigint,
    name           text NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL,
    -- processedAt is when the sale happened; imported orders carry their
    -- original date here while createdAt is the import time.
    processed_at   timestamptz,
    updated_at     timestamptz NOT NULL,
    cancelled_at   timestamptz,
    test           boolean NOT NULL DEFAULT false,
    currency       text NOT NULL DEFAULT '',
    total          numeric(18,4) NOT NULL DEFAULT 0,
    subtotal       numeric(18,4),
    source_name    text,
    landing_page   text,
    referrer_url   text,
    utm_source     text,
    utm_medium     text,
    utm_campaign   text,
    discount_codes text[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (shop, id)
);
CREATE INDEX orders_customer ON orders (shop, customer_id);

CREATE TABLE order_lines (
    shop       text NOT NULL,
    order_id   bigint NOT NULL,
    id         bigint NOT NULL,
    product_id bigint,
    variant_id bigint,
    title      text NOT NULL DEFAULT '',
    quantity   integer NOT NULL DEFAULT 0,
    unit_price numeric(18,4) NOT NULL DEFAULT 0,
    PRIMARY KEY (shop, order_id, id)
);

-- Refunds never change once given, so they carry no updated_at.
CREATE TABLE refunds (
    shop       text NOT NULL,
    id         bigint NOT NULL,
    order_id   bigint NOT NULL,
    created_at timestamptz NOT NULL,
    amount     numeric(18,4) NOT NULL,
    PRIMARY KEY (shop, id)
);
CREATE INDEX refunds_order ON refunds (shop, order_id);

CREATE TABLE products (
    shop         text NOT NULL,
    id           bigint NOT NULL,
    title        text NOT NULL DEFAULT '',
    product_type text NOT NULL DEFAULT '',
    vendor       text NOT NULL DEFAULT '',
    created_at   timestamptz,
    updated_at   timestamptz NOT NULL,
    PRIMARY KEY (shop, id)
);

CREATE TABLE variants (
    shop       text NOT NULL,
    id         bigint NOT NULL,
    product_id bigint NOT NULL,
    title      text NOT NULL DEFAULT '',
    sku        text,
    price      numeric(18,4),
    -- NULL when the merchant never recorded a cost: unknown, not zero.
    unit_cost  numeric(18,4),
    PRIMARY KEY (shop, id)
);

-- One row per shop: where its history import stands. A worker killed
-- mid-sync finds its bulk operations here and carries on.
CREATE SEQUENCE sync_runs;
CREATE TABLE sync_state (
    shop            text PRIMARY KEY,
    run_id          bigint NOT NULL DEFAULT 0,
    mode            text NOT NULL DEFAULT 'full',    -- full | reconcile
    phase           text NOT NULL DEFAULT 'idle',    -- idle | exporting | importing | done | failed
    -- Per resource (customers, orders, products): bulk operation id,
    -- status, result URL, object count, whether imported.
    operations      jsonb NOT NULL DEFAULT '{}',
    -- Lower bound of updated_at a reconciliation fetches.
    since           timestamptz,
    rows_done       bigint NOT NULL DEFAULT 0,
    rows_expected   bigint,
    started_at      timestamptz,
    finished_at     timestamptz,
    last_error      text NOT NULL DEFAULT '',
    -- Start of the last run that completed: everything changed before it
    -- is in the tables; reconciliation fetches what changed since.
    last_success_at timestamptz,
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE sync_state;
DROP SEQUENCE sync_runs;
DROP TABLE variants;
DROP TABLE products;
DROP TABLE refunds;
DROP TABLE order_lines;
DROP TABLE orders;
DROP TABLE redacted_customers;
DROP TABLE customers;
