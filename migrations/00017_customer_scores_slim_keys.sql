-- +goose NO TRANSACTION
-- +goose Up
-- A scoring's id is unique across shops, so the shop text that led the
-- keys of a snapshot's three indexes only repeated itself in every entry:
-- dropped, the entries are 24-32 bytes instead of 56-64 and a
-- million-customer snapshot's indexes are a third smaller. Copying a
-- snapshot in is mostly their upkeep. Every query still names the shop
-- beside the scoring, so a scoring id of another shop finds nothing.
--
-- Shop redaction deletes by shop alone; the index on shop serves it. All
-- of a snapshot's entries there share one key, which deduplication keeps
-- in posting lists of a few bytes an entry, appended in heap order.
--
-- The table holds every kept snapshot of every shop: the new indexes are
-- built beside the old ones without blocking writes, and each swap takes
-- its lock only for a moment. Each step can run again after a failure
-- part way (a concurrent build that failed leaves an invalid index, which
-- is dropped and built anew).
DROP INDEX CONCURRENTLY IF EXISTS customer_scores_key_slim;
CREATE UNIQUE INDEX CONCURRENTLY customer_scores_key_slim ON customer_scores (scoring_id, customer_id);
DROP INDEX CONCURRENTLY IF EXISTS customer_scores_by_value_slim;
CREATE INDEX CONCURRENTLY customer_scores_by_value_slim ON customer_scores (scoring_id, predicted_clv DESC, customer_id);
DROP INDEX CONCURRENTLY IF EXISTS customer_scores_group_slim;
CREATE INDEX CONCURRENTLY customer_scores_group_slim ON customer_scores (scoring_id, grp, predicted_clv DESC, customer_id);
DROP INDEX CONCURRENTLY IF EXISTS customer_scores_shop;
CREATE INDEX CONCURRENTLY customer_scores_shop ON customer_scores (shop);
-- The key's index takes the constraint's name.
ALTER TABLE customer_scores DROP CONSTRAINT customer_scores_pkey,
    ADD CONSTRAINT customer_scores_pkey PRIMARY KEY USING INDEX customer_scores_key_slim;
DROP INDEX CONCURRENTLY IF EXISTS customer_scores_by_value;
ALTER INDEX customer_scores_by_value_slim RENAME TO customer_scores_by_value;
DROP INDEX CONCURRENTLY IF EXISTS customer_scores_group;
ALTER INDEX customer_scores_group_slim RENAME TO customer_scores_group;

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS customer_scores_key_wide;
CREATE UNIQUE INDEX CONCURRENTLY customer_scores_key_wide ON customer_scores (shop, scoring_id, customer_id);
DROP INDEX CONCURRENTLY IF EXISTS customer_scores_by_value_wide;
CREATE INDEX CONCURRENTLY customer_scores_by_value_wide ON customer_scores (shop, scoring_id, predicted_clv DESC, customer_id);
DROP INDEX CONCURRENTLY IF EXISTS customer_scores_group_wide;
CREATE INDEX CONCURRENTLY customer_scores_group_wide ON customer_scores (shop, scoring_id, grp, predicted_clv DESC, customer_id);
ALTER TABLE customer_scores DROP CONSTRAINT customer_scores_pkey,
    ADD CONSTRAINT customer_scores_pkey PRIMARY KEY USING INDEX customer_scores_key_wide;
DROP INDEX CONCURRENTLY IF EXISTS customer_scores_by_value;
ALTER INDEX customer_scores_by_value_wide RENAME TO customer_scores_by_value;
DROP INDEX CONCURRENTLY IF EXISTS customer_scores_group;
ALTER INDEX customer_scores_group_wide RENAME TO customer_scores_group;
DROP INDEX CONCURRENTLY IF EXISTS customer_scores_shop;
