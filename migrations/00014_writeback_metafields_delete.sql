-- +goose Up
-- Bulk write-back batches may also run metafieldsDelete: survey links a
-- customer must no longer carry (survey closed, customer left its groups)
-- are deleted at Shopify, through the bulk path when many are. Such a
-- line's tags column holds the metafield keys it deletes.
ALTER TABLE writeback_bulk_batches DROP CONSTRAINT writeback_bulk_batches_kind_check;
ALTER TABLE writeback_bulk_batches ADD CONSTRAINT writeback_bulk_batches_kind_check
    CHECK (kind IN ('tagsRemove', 'tagsAdd', 'metafieldsSet', 'metafieldsDelete'));

-- "Share survey links with email apps": also write each link to the
-- merchant-owned namespace cvo_survey (readable, and writable, by every
-- app). Off by default.
ALTER TABLE settings ADD COLUMN share_survey_links boolean NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE settings DROP COLUMN share_survey_links;
-- Unsettled delete batches cannot be kept; the next write-back plans their
-- deletions again.
DELETE FROM writeback_bulk_lines WHERE batch_id IN (SELECT id FROM writeback_bulk_batches WHERE kind = 'metafieldsDelete');
DELETE FROM writeback_bulk_batches WHERE kind = 'metafieldsDelete';
ALTER TABLE writeback_bulk_batches DROP CONSTRAINT writeback_bulk_batches_kind_check;
ALTER TABLE writeback_bulk_batches ADD CONSTRAINT writeback_bulk_batches_kind_check
    CHECK (kind IN ('tagsRemove', 'tagsAdd', 'metafieldsSet'));
