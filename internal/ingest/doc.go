// Package ingest brings a shop's data into Postgres and keeps it current.
//
// History sync (Syncer.SyncShop): one GraphQL bulk query operation per
// resource (customers; orders with their line items and refunds; products
// with their variants and unit costs), each within Shopify's bulk rules
// (one top-level field, at most five connections, nested at most two
// levels), run at once where the API version allows (five per shop from
// 2026-01). The syncer polls bulkOperation(id:) with backoff from PollMin to
// PollMax; a bulk_operations/finish webhook applied in the same process
// (Applier, sharing the shopify.BulkWaker) cuts the wait short. Polling
// alone is enough for correctness. Starting, reading and downloading the
// operations is internal/shopify's; what is ours here is the run's state
// and what to do next.
//
// Each result file is streamed (a fixed buffer, one line at a time, so
// memory does not depend on the shop's size) through a single-pass JSON
// reader into a staging table with COPY. Child lines (line items,
// variants) are staged with their __parentId, not joined in memory:
// Shopify's JSONL puts children on their own lines and, without
// groupObjects, does not promise they sit next to their parent, so the
// join happens in SQL. The staged rows are then merged into the real
// tables, one statement per table, newer updated_at winning (see
// postgres.SyncStore.Merge).
//
// Resumption: the run's bulk operation ids, statuses, result URLs and what
// has been merged live in the shop's sync_state row, saved after every
// step. A run interrupted anywhere resumes on the next call: finished
// operations are reused while their URL is valid (rerun otherwise), a
// resource whose import broke off is streamed again from the start into a
// fresh staging table, and merges are idempotent, so the end state is the
// one a clean run reaches. Two workers never sync one shop at once (a
// session advisory lock).
//
// Live updates (Applier.ApplyWebhook): the receiver stores each delivery
// and queues a job; the job parses the REST-shaped payload (shop money from
// the *_set fields), writes it only if it is newer than what is stored
// (updated_at), and drops the payload. Refunds never change, so a refund
// is added once. Webhooks are not guaranteed, so ReconcileShop, run daily,
// fetches everything updated since the last good run through the same bulk
// path.
package ingest
