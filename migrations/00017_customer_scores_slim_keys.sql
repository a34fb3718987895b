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
ALTER TABLE customer_scores DROP CONSTRAINT customer_scores_pkey;
ALTER TABLE customer_scores ADD PRIMARY KEY (scoring_id, customer_id);
DROP INDEX customer_scores_by_value;
CREATE INDEX customer_scores_by_value ON customer_scores (scoring_id, predicted_clv DESC, customer_id);
DROP INDEX customer_scores_group;
CREATE INDEX customer_scores_group ON customer_scores (scoring_id, grp, predicted_clv DESC, customer_id);
CREATE INDEX customer_scores_shop ON customer_scores (shop);

-- +goose Down
DROP INDEX customer_scores_shop;
DROP INDEX customer_scores_group;
CREATE INDEX customer_scores_group ON customer_scores (shop, scoring_id, grp, predicted_clv DESC, customer_id);
DROP INDEX customer_scores_by_value;
CREATE INDEX customer_scores_by_value ON customer_scores (shop, scoring_id, predicted_clv DESC, customer_id);
ALTER TABLE customer_scores DROP CONSTRAINT customer_scores_pkey;
ALTER TABLE customer_scores ADD PRIMARY KEY (shop, scoring_id, customer_id);
