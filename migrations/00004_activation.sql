-- +goose Up
-- The write-back's bookkeeping beside customer_writeback (00003): what it
-- has set up in each shop, and the saved customer segments it owns.
CREATE TABLE activation_setup (
    shop                 text PRIMARY KEY,
    -- Version of the metafield definitions created in the shop; 0 = none.
    definitions_version  integer NOT NULL DEFAULT 0,
    -- Every tag prefix the app has written tags with, so the app's own tag
    -- changes are recognised in customers/update webhooks even after the
    -- merchant changes the prefix.
    tag_prefixes         text[] NOT NULL DEFAULT '{}',
    last_run_at          timestamptz,
    last_report          jsonb,
    updated_at           timestamptz NOT NULL DEFAULT now()
);

-- One saved Shopify customer segment per RFM group.
CREATE TABLE activation_segments (
    shop        text NOT NULL,
    grp         text NOT NULL,
    segment_id  bigint NOT NULL,
    name        text NOT NULL,
    query       text NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop, grp)
);

-- +goose Down
DROP TABLE activation_segments;
DROP TABLE activation_setup;
