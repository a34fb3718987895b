-- +goose Up
-- Per-shop settings of scoring and write-back. A missing row means defaults.
CREATE TABLE settings (
    shop            text PRIMARY KEY,
    tag_prefix      text NOT NULL DEFAULT 'cvo-',
    -- The groups whose tags are written; NULL means all of them.
    groups_enabled  text[],
    value_tags      jsonb NOT NULL DEFAULT '{}',
    metafields      boolean NOT NULL DEFAULT true,
    segments        boolean NOT NULL DEFAULT true,
    cac             numeric(14,2) NOT NULL DEFAULT 0,
    cac_by_source   jsonb NOT NULL DEFAULT '{}',
    default_margin  numeric(5,4) NOT NULL DEFAULT 0.3,
    refund_dating   text NOT NULL DEFAULT 'refund_date' CHECK (refund_dating IN ('refund_date', 'order_date')),
    nightly_hour    smallint NOT NULL DEFAULT 3 CHECK (nightly_hour BETWEEN 0 AND 23),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- When new data last asked for a rescore: a debounced rescore that starts
-- after this moment has already covered it.
CREATE TABLE rescore_requests (
    shop         text PRIMARY KEY,
    requested_at timestamptz NOT NULL
);

-- One row per scoring run. Aggregates (group table, reports, fit, backtest)
-- are kept for every run; per-customer rows for the recent ones.
CREATE TABLE scorings (
    id           bigserial PRIMARY KEY,
    shop         text NOT NULL,
    reason       text NOT NULL,
    as_of        timestamptz NOT NULL,
    started_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    state        text NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'succeeded', 'failed')),
    error        text NOT NULL DEFAULT '',
    customers    integer NOT NULL DEFAULT 0,
    aggregates   jsonb
);
CREATE INDEX scorings_shop_latest ON scorings (shop, id DESC);

CREATE TABLE customer_scores (
    shop            text NOT NULL,
    scoring_id      bigint NOT NULL REFERENCES scorings (id) ON DELETE CASCADE,
    customer_id     bigint NOT NULL,
    grp             text NOT NULL,
    r               smallint NOT NULL,
    f               smallint NOT NULL,
    m               smallint NOT NULL,
    orders          integer NOT NULL,
    revenue         double precision NOT NULL,
    historical_clv  double precision NOT NULL,
    predicted_clv   double precision NOT NULL,
    p_alive         double precision NOT NULL,
    expected_orders double precision NOT NULL,
    next_order_at   date,
    PRIMARY KEY (shop, scoring_id, customer_id)
);
-- The admin page lists customers by predicted value, in all or in one group.
CREATE INDEX customer_scores_by_value ON customer_scores (shop, scoring_id, predicted_clv DESC, customer_id);
CREATE INDEX customer_scores_group ON customer_scores (shop, scoring_id, grp, predicted_clv DESC, customer_id);

-- The tags and metafield values the app has written to each customer, so a
-- write-back sends only changes and removes exactly the app's own stale tags.
CREATE TABLE customer_writeback (
    shop         text NOT NULL,
    customer_id  bigint NOT NULL,
    tags         text[] NOT NULL DEFAULT '{}',
    metafields   jsonb NOT NULL DEFAULT '{}',
    written_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop, customer_id)
);

-- +goose Down
DROP TABLE customer_writeback;
DROP TABLE customer_scores;
DROP TABLE scorings;
DROP TABLE rescore_requests;
DROP TABLE settings;
