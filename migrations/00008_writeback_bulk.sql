-- +goose Up
-- Bulk mutation operations a write-back has prepared or started and not yet
-- settled. A batch row and its lines are stored before anything goes to
-- Shopify; the operation id as soon as Shopify returns it. A worker that
-- dies anywhere in between leaves the row behind, and the next write-back
-- of the shop finds the operation (by its id, or by the marker in its
-- mutation's operation name when the id was never stored), reads its
-- results and records the confirmed lines, instead of sending the file
-- again. Settling records the lines and deletes the batch in one
-- transaction.
CREATE TABLE writeback_bulk_batches (
    id            bigserial PRIMARY KEY,
    shop          text NOT NULL,
    -- The mutation field each line ran: tagsRemove, tagsAdd or metafieldsSet.
    kind          text NOT NULL CHECK (kind IN ('tagsRemove', 'tagsAdd', 'metafieldsSet')),
    -- Unique token in the bulk mutation's operation name.
    marker        text NOT NULL UNIQUE,
    lines         integer NOT NULL,
    staged_path   text,
    operation_id  text,
    created_at    timestamptz NOT NULL,
    started_at    timestamptz
);
CREATE INDEX writeback_bulk_batches_shop ON writeback_bulk_batches (shop, id);

-- The lines of a batch, in file order: line n of the staged file is the
-- row with line = n. tags holds what tagsAdd/tagsRemove sends; metafields
-- the key -> value pairs metafieldsSet sends.
CREATE TABLE writeback_bulk_lines (
    shop         text NOT NULL,
    -- No foreign key: its per-row checks would double the cost of storing
    -- and deleting a 100,000-line batch; the store deletes both together.
    batch_id     bigint NOT NULL,
    line         integer NOT NULL,
    customer_id  bigint NOT NULL,
    tags         text[] NOT NULL DEFAULT '{}',
    metafields   jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (batch_id, line)
);

-- +goose Down
DROP TABLE writeback_bulk_lines;
DROP TABLE writeback_bulk_batches;
