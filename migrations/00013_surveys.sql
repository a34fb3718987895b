-- +goose Up
-- Customer surveys (internal/survey): what customers say beside what they
-- buy. A survey's definition (question texts, custom questions) is one
-- jsonb document read and written whole; what results group and filter by
-- has columns of its own.
CREATE TABLE surveys (
    id             bigserial PRIMARY KEY,
    shop           text NOT NULL,
    -- Names the customer metafield $app:cvo.survey_url_{key}; never changes.
    key            text NOT NULL,
    title          text NOT NULL,
    status         text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'active', 'closed')),
    definition     jsonb NOT NULL DEFAULT '{}',
    groups         text[] NOT NULL DEFAULT '{}',
    brand_color    text NOT NULL DEFAULT '#008060',
    language       text NOT NULL DEFAULT 'auto',
    link_days      integer NOT NULL DEFAULT 30 CHECK (link_days BETWEEN 1 AND 365),
    retention_days integer NOT NULL DEFAULT 730 CHECK (retention_days BETWEEN 30 AND 3650),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (shop, key)
);

-- One response per customer and survey: a later answer replaces the
-- earlier one (an upsert), so a replayed link or a double submission never
-- counts twice. The customer is named by Shopify id only, never by email.
-- Personal data: customers/redact deletes a customer's rows, shop/redact
-- the shop's, and the retention job rows older than their survey's
-- retention_days.
CREATE TABLE survey_responses (
    shop          text NOT NULL,
    survey_id     bigint NOT NULL REFERENCES surveys (id) ON DELETE CASCADE,
    customer_id   bigint NOT NULL CHECK (customer_id > 0),
    -- The customer's RFM group when they answered ('' if not scored).
    grp           text NOT NULL DEFAULT '',
    nps           smallint CHECK (nps BETWEEN 0 AND 10),
    ces           smallint CHECK (ces BETWEEN 1 AND 7),
    why           text NOT NULL DEFAULT '',
    answers       jsonb NOT NULL DEFAULT '[]',
    first_at      timestamptz NOT NULL DEFAULT now(),
    submitted_at  timestamptz NOT NULL DEFAULT now(),
    revisions     integer NOT NULL DEFAULT 1,
    PRIMARY KEY (shop, survey_id, customer_id)
);
-- Open answers newest first, and the retention job's scan.
CREATE INDEX survey_responses_recent ON survey_responses (shop, survey_id, submitted_at DESC);
-- A customer's answers across surveys (customer screen, privacy requests).
CREATE INDEX survey_responses_customer ON survey_responses (shop, customer_id);

-- +goose Down
DROP TABLE survey_responses;
DROP TABLE surveys;
