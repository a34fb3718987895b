-- +goose Up
-- Every table carries the shop (its myshopify.com domain): shops are tenants
-- and every query is scoped by it.
CREATE TABLE shops (
    shop                     text PRIMARY KEY,
    name                     text NOT NULL DEFAULT '',
    currency                 text NOT NULL DEFAULT '',
    timezone                 text NOT NULL DEFAULT '',
    scopes                   text NOT NULL DEFAULT '',
    -- Tokens are sealed with AES-GCM (internal/secretbox); plaintext never lands here.
    access_token_sealed      text,
    access_token_expires_at  timestamptz,
    refresh_token_sealed     text,
    refresh_token_expires_at timestamptz,
    installed_at             timestamptz,
    uninstalled_at           timestamptz,
    created_at               timestamptz NOT NULL DEFAULT now(),
    updated_at               timestamptz NOT NULL DEFAULT now()
);

-- Webhook deliveries, deduplicated by X-Shopify-Webhook-Id. The raw payload
-- is kept only until the delivery is applied, since it may carry personal data.
CREATE TABLE webhook_deliveries (
    shop         text NOT NULL,
    webhook_id   text NOT NULL,
    topic        text NOT NULL,
    event_id     text NOT NULL DEFAULT '',
    triggered_at timestamptz,
    received_at  timestamptz NOT NULL DEFAULT now(),
    payload      bytea,
    processed_at timestamptz,
    error        text NOT NULL DEFAULT '',
    PRIMARY KEY (shop, webhook_id)
);
CREATE INDEX webhook_deliveries_unprocessed ON webhook_deliveries (shop, received_at) WHERE processed_at IS NULL;

-- Answers to customers/data_request, kept for the merchant to hand over.
CREATE TABLE data_requests (
    shop        text NOT NULL,
    request_id  text NOT NULL,
    customer_id text NOT NULL,
    export      jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (shop, request_id)
);

-- +goose Down
DROP TABLE data_requests;
DROP TABLE webhook_deliveries;
DROP TABLE shops;
