package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cvo-app/cvo/internal/cvo"
)

// Delivery states (webhook_deliveries.state).
const (
	DeliveryPending  = "pending"  // stored, not applied yet
	DeliveryApplied  = "applied"  // applied (or handled by the receiver); payload dropped
	DeliveryDead     = "dead"     // failed MaxAttempts times; waits for the reconciliation
	DeliveryRejected = "rejected" // its payload could never be applied; payload dropped
)

// DefaultMaxAttempts is how many failed tries make a delivery dead. With the
// job queue's backoff they span about four hours, as Shopify's own retries do.
const DefaultMaxAttempts = 10

// DeliveryStore keeps webhook deliveries for deduplication, their state
// (pending, applied, dead, rejected), and applies them in the transaction
// that marks them applied.
type DeliveryStore struct {
	db *DB
	// MaxAttempts is how many failed tries make a delivery dead.
	MaxAttempts int
	// LockWait bounds an apply's wait for the shop's data lock.
	LockWait time.Duration
}

// NewDeliveryStore returns the webhook delivery store.
func NewDeliveryStore(db *DB) *DeliveryStore {
	return &DeliveryStore{db: db, MaxAttempts: DefaultMaxAttempts, LockWait: WebhookLockWait}
}

// Record stores a delivery and says whether it still needs handling. A
// delivery already handled (the same X-Shopify-Webhook-Id) returns false; one
// received before but whose handling failed returns true again, so Shopify's
// retry gets another chance.
func (s *DeliveryStore) Record(ctx context.Context, d cvo.WebhookDelivery) (bool, error) {
	var triggered any
	if !d.TriggeredAt.IsZero() {
		triggered = d.TriggeredAt
	}
	var inserted bool
	err := s.db.Pool.QueryRow(ctx, `INSERT INTO webhook_deliveries (shop, webhook_id, topic, event_id, triggered_at, payload)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (shop, webhook_id) DO UPDATE SET payload = excluded.payload, received_at = now()
			WHERE webhook_deliveries.processed_at IS NULL AND webhook_deliveries.state = 'pending'
		RETURNING true`, d.Shop, d.ID, d.Topic, d.EventID, triggered, d.Payload).Scan(&inserted)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("record webhook %s for %s: %w", d.Topic, d.Shop, err)
	}
	return true, nil
}

// RecordQueued stores a delivery that a job will apply, in one statement:
// it is stored pending, with its payload, and marked handled by the
// receiver, so the caller only has to queue it. It says whether the
// delivery must be queued: when it is new, and also when a delivery of
// that id is stored and still waits to be applied, since the queue may
// have lost it (queueing again is harmless: a job's id is the delivery's).
// A duplicate neither writes nor waits for a row lock an apply may hold.
func (s *DeliveryStore) RecordQueued(ctx context.Context, d cvo.WebhookDelivery) (bool, error) {
	var triggered any
	if !d.TriggeredAt.IsZero() {
		triggered = d.TriggeredAt
	}
	var queue bool
	// The pending check reads the statement's snapshot: a duplicate racing
	// the first insert may not see it and is answered as done, which the
	// first one's own queueing makes true.
	err := s.db.Pool.QueryRow(ctx, `WITH ins AS (
			INSERT INTO webhook_deliveries (shop, webhook_id, topic, event_id, triggered_at, payload, processed_at)
			VALUES ($1, $2, $3, $4, $5, $6, now())
			ON CONFLICT (shop, webhook_id) DO NOTHING
			RETURNING true)
		SELECT EXISTS (SELECT 1 FROM ins) OR EXISTS (SELECT 1 FROM webhook_deliveries
			WHERE shop = $1 AND webhook_id = $2 AND state = 'pending' AND payload IS NOT NULL)`,
		d.Shop, d.ID, d.Topic, d.EventID, triggered, d.Payload).Scan(&queue)
	if err != nil {
		return false, fmt.Errorf("record webhook %s for %s: %w", d.Topic, d.Shop, err)
	}
	return queue, nil
}

// MarkHandled notes that the receiver handled a delivery. keepPayload means
// it was handed to a job that will apply it: the delivery stays pending, and
// the sweeper queues it again should the job be lost. Without keepPayload
// the receiver applied it itself.
func (s *DeliveryStore) MarkHandled(ctx context.Context, shop, webhookID string, keepPayload bool) error {
	q := `UPDATE webhook_deliveries SET processed_at = now(), error = '', payload = NULL, state = 'applied', applied_at = now()
		WHERE shop = $1 AND webhook_id = $2`
	if keepPayload {
		q = `UPDATE webhook_deliveries SET processed_at = now(), error = '' WHERE shop = $1 AND webhook_id = $2`
	}
	if _, err := s.db.Pool.Exec(ctx, q, shop, webhookID); err != nil {
		return fmt.Errorf("mark webhook %s handled for %s: %w", webhookID, shop, err)
	}
	return nil
}

// MarkFailed records why the receiver could not handle a delivery; it
// stays eligible for Shopify's retry.
func (s *DeliveryStore) MarkFailed(ctx context.Context, shop, webhookID, reason string) error {
	if _, err := s.db.Pool.Exec(ctx, `UPDATE webhook_deliveries SET error = $3 WHERE shop = $1 AND webhook_id = $2`, shop, webhookID, reason); err != nil {
		return fmt.Errorf("mark webhook %s failed for %s: %w", webhookID, shop, err)
	}
	return nil
}

// Get returns a stored delivery.
func (s *DeliveryStore) Get(ctx context.Context, shop, webhookID string) (cvo.WebhookDelivery, error) {
	d, _, err := getDelivery(ctx, s.db.Pool, shop, webhookID, "")
	return d, err
}

// DeliveryInfo is a delivery's bookkeeping, without its payload.
type DeliveryInfo struct {
	Topic    string
	State    string
	Attempts int
	Error    string
}

// Info returns a delivery's state, attempts and last error.
func (s *DeliveryStore) Info(ctx context.Context, shop, webhookID string) (DeliveryInfo, error) {
	var in DeliveryInfo
	err := s.db.Pool.QueryRow(ctx, `SELECT topic, state, attempts, error FROM webhook_deliveries WHERE shop = $1 AND webhook_id = $2`,
		shop, webhookID).Scan(&in.Topic, &in.State, &in.Attempts, &in.Error)
	if errors.Is(err, pgx.ErrNoRows) {
		return in, cvo.Errorf(cvo.ENOTFOUND, "No webhook delivery %s.", webhookID)
	}
	if err != nil {
		return in, fmt.Errorf("get webhook %s for %s: %w", webhookID, shop, err)
	}
	return in, nil
}

func getDelivery(ctx context.Context, q pgxQuerier, shop, webhookID, suffix string) (cvo.WebhookDelivery, string, error) {
	d := cvo.WebhookDelivery{Shop: shop, ID: webhookID}
	var state string
	err := q.QueryRow(ctx, `SELECT topic, event_id, COALESCE(triggered_at, 'epoch'), payload, state FROM webhook_deliveries
		WHERE shop = $1 AND webhook_id = $2`+suffix, shop, webhookID).Scan(&d.Topic, &d.EventID, &d.TriggeredAt, &d.Payload, &state)
	if errors.Is(err, pgx.ErrNoRows) {
		return d, "", cvo.Errorf(cvo.ENOTFOUND, "No webhook delivery %s.", webhookID)
	}
	if err != nil {
		return d, "", fmt.Errorf("get webhook %s for %s: %w", webhookID, shop, err)
	}
	return d, state, nil
}

// Outcome is what one try at applying a delivery came to.
type Outcome int

const (
	// OutcomeApplied means the data and the applied mark were committed together.
	OutcomeApplied Outcome = iota
	// OutcomeDone means nothing was to do (already applied, dead, rejected or
	// without payload).
	OutcomeDone
	// OutcomeBusy means the shop's data lock stayed taken by an import; the try
	// did not count.
	OutcomeBusy
	// OutcomeFailed means the try failed and counted; the delivery stays pending.
	OutcomeFailed
	// OutcomeDead means the try failed and was the last one allowed.
	OutcomeDead
	// OutcomeRejected means the payload can never be applied.
	OutcomeRejected
)

// WebhookWriter writes one delivery's data inside the transaction that
// marks the delivery applied, so the data and the mark commit together.
type WebhookWriter struct {
	tx   pgx.Tx
	shop string
}

// UpsertOrder is OrderStore.Upsert within the delivery's transaction.
func (w *WebhookWriter) UpsertOrder(ctx context.Context, o OrderRow, lines []LineRow, refunds []RefundRow) (bool, error) {
	return upsertOrder(ctx, w.tx, w.shop, o, lines, refunds)
}

// AddRefunds is OrderStore.AddRefunds within the delivery's transaction.
func (w *WebhookWriter) AddRefunds(ctx context.Context, refunds []RefundRow) error {
	return addRefunds(ctx, w.tx, w.shop, refunds)
}

// UpsertCustomer is CustomerStore.Upsert within the delivery's transaction.
func (w *WebhookWriter) UpsertCustomer(ctx context.Context, c CustomerRow) (bool, error) {
	return upsertCustomer(ctx, w.tx, w.shop, c)
}

// DeleteCustomer is CustomerStore.Delete within the delivery's transaction.
func (w *WebhookWriter) DeleteCustomer(ctx context.Context, id int64, at time.Time) error {
	return deleteCustomer(ctx, w.tx, w.shop, id, at)
}

// Apply applies a pending delivery with fn exactly once: in one
// transaction it locks the delivery, waits for the shop's data lock (at
// most LockWait, so applies of one shop run one after another), runs fn
// and marks the delivery applied, dropping its payload. A process dying
// anywhere in between leaves it pending with its data unwritten.
//
// fn failing with a cvo EINVALID error rejects the delivery and drops its
// payload: it would never be applied, and it may hold personal data. Any
// other error counts as a failed attempt, and the last allowed one makes
// the delivery dead. Waiting out a lock (OutcomeBusy, ErrShopBusy) and the
// caller's own cancellation count as nothing. The returned error is fn's
// (or the store's).
func (s *DeliveryStore) Apply(ctx context.Context, shop, webhookID string,
	fn func(ctx context.Context, d cvo.WebhookDelivery, w *WebhookWriter) error) (Outcome, DeliveryInfo, error) {
	// The transaction has ended, and its connection is back in the pool,
	// before a failure is recorded on another: waiting for a second
	// connection while holding one would exhaust the pool under load.
	outcome, in, err := s.applyTx(ctx, shop, webhookID, fn)
	switch outcome {
	case OutcomeFailed:
		return s.failed(ctx, shop, webhookID, err)
	case OutcomeRejected:
		return s.reject(ctx, shop, webhookID, err)
	}
	return outcome, in, err
}

// applyTx is Apply's transaction. OutcomeFailed and OutcomeRejected are
// not recorded yet.
func (s *DeliveryStore) applyTx(ctx context.Context, shop, webhookID string,
	fn func(ctx context.Context, d cvo.WebhookDelivery, w *WebhookWriter) error) (Outcome, DeliveryInfo, error) {
	tx, err := s.db.Pool.Begin(ctx)
	if err != nil {
		return OutcomeFailed, DeliveryInfo{}, fmt.Errorf("apply webhook %s for %s: %w", webhookID, shop, err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if err := boundWebhookTx(ctx, tx, s.LockWait); err != nil {
		return OutcomeFailed, DeliveryInfo{}, fmt.Errorf("apply webhook %s for %s: %w", webhookID, shop, err)
	}
	// The delivery's row lock comes before the shop's data lock, in the
	// order a redaction takes them (it scrubs payloads first), so the two
	// never wait for each other in a cycle; and a delivery already applied
	// is done without queueing for the shop.
	d, state, err := getDelivery(ctx, tx, shop, webhookID, " FOR UPDATE")
	if cvo.ErrorCode(err) == cvo.ENOTFOUND {
		return OutcomeDone, DeliveryInfo{}, err
	}
	if err != nil {
		if isLockTimeout(err) {
			// Another try of the same delivery, or a redaction, holds it.
			return OutcomeBusy, DeliveryInfo{}, fmt.Errorf("apply webhook %s for %s: %w", webhookID, shop, ErrShopBusy)
		}
		return OutcomeFailed, DeliveryInfo{}, err
	}
	if state != DeliveryPending {
		return OutcomeDone, DeliveryInfo{Topic: d.Topic, State: state}, nil
	}
	if err := takeShopLock(ctx, tx, shop); err != nil {
		if errors.Is(err, ErrShopBusy) {
			return OutcomeBusy, DeliveryInfo{Topic: d.Topic}, fmt.Errorf("apply webhook %s for %s: %w", webhookID, shop, err)
		}
		return OutcomeFailed, DeliveryInfo{}, fmt.Errorf("apply webhook %s for %s: %w", webhookID, shop, err)
	}
	if d.Payload != nil {
		if err := fn(ctx, d, &WebhookWriter{tx: tx, shop: shop}); err != nil {
			if cvo.ErrorCode(err) == cvo.EINVALID {
				return OutcomeRejected, DeliveryInfo{}, err
			}
			return OutcomeFailed, DeliveryInfo{}, err
		}
	}
	// A pending delivery without payload was redacted: nothing to apply.
	in := DeliveryInfo{Topic: d.Topic}
	err = tx.QueryRow(ctx, `UPDATE webhook_deliveries SET state = 'applied', applied_at = now(), payload = NULL,
			attempts = attempts + 1, error = '' WHERE shop = $1 AND webhook_id = $2 RETURNING state, attempts`,
		shop, webhookID).Scan(&in.State, &in.Attempts)
	if err == nil {
		err = tx.Commit(ctx)
	}
	if err != nil {
		// Not committed: the data was not written either.
		return OutcomeFailed, DeliveryInfo{}, fmt.Errorf("mark webhook %s applied for %s: %w", webhookID, shop, err)
	}
	if d.Payload == nil {
		return OutcomeDone, in, nil
	}
	return OutcomeApplied, in, nil
}

// failed counts a failed attempt and makes the delivery dead at the last
// one. The caller's cancellation (a worker shutting down) is no attempt; a
// deadline is one, or a delivery too slow to apply would never end.
func (s *DeliveryStore) failed(ctx context.Context, shop, webhookID string, cause error) (Outcome, DeliveryInfo, error) {
	if errors.Is(ctx.Err(), context.Canceled) {
		return OutcomeFailed, DeliveryInfo{}, cause
	}
	reason := cvo.ErrorMessage(cause)
	if cvo.ErrorCode(cause) == cvo.EINTERNAL {
		// Stored errors are shown on the page: the text of an internal one
		// stays in the logs.
		reason = "internal error"
		if isTimeout(cause) {
			reason = "timed out"
		}
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	var in DeliveryInfo
	err := s.db.Pool.QueryRow(rctx, `UPDATE webhook_deliveries SET attempts = attempts + 1, error = $3,
			state = CASE WHEN attempts + 1 >= $4 THEN 'dead' ELSE state END
		WHERE shop = $1 AND webhook_id = $2 AND state = 'pending' RETURNING topic, state, attempts, error`,
		shop, webhookID, reason, s.MaxAttempts).Scan(&in.Topic, &in.State, &in.Attempts, &in.Error)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return OutcomeFailed, in, errors.Join(cause, fmt.Errorf("count failed attempt of webhook %s for %s: %w", webhookID, shop, err))
	}
	if in.State == DeliveryDead {
		return OutcomeDead, in, cause
	}
	return OutcomeFailed, in, cause
}

// reject records that the delivery's payload can never be applied, and
// drops it.
func (s *DeliveryStore) reject(ctx context.Context, shop, webhookID string, cause error) (Outcome, DeliveryInfo, error) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	in := DeliveryInfo{State: DeliveryRejected, Error: cvo.ErrorMessage(cause)}
	err := s.db.Pool.QueryRow(rctx, `UPDATE webhook_deliveries SET state = 'rejected', attempts = attempts + 1, error = $3,
			payload = NULL WHERE shop = $1 AND webhook_id = $2 AND state = 'pending' RETURNING topic, attempts`,
		shop, webhookID, in.Error).Scan(&in.Topic, &in.Attempts)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return OutcomeRejected, in, errors.Join(cause, fmt.Errorf("reject webhook %s for %s: %w", webhookID, shop, err))
	}
	return OutcomeRejected, in, cause
}

func isTimeout(err error) bool {
	var pgErr interface{ SQLState() string }
	if errors.As(err, &pgErr) && pgErr.SQLState() == "57014" {
		return true
	}
	return errors.Is(err, context.DeadlineExceeded)
}

// DeliveryCounts are a shop's deliveries not applied (yet).
type DeliveryCounts struct {
	Pending  int64 `json:"pending"`
	Dead     int64 `json:"dead"`
	Rejected int64 `json:"rejected"`
}

// Counts reports how many of the shop's deliveries are pending, dead or
// rejected.
func (s *DeliveryStore) Counts(ctx context.Context, shop string) (DeliveryCounts, error) {
	var c DeliveryCounts
	err := s.db.Pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE state = 'pending'), count(*) FILTER (WHERE state = 'dead'),
			count(*) FILTER (WHERE state = 'rejected')
		FROM webhook_deliveries WHERE shop = $1 AND state <> 'applied'`, shop).Scan(&c.Pending, &c.Dead, &c.Rejected)
	if err != nil {
		return c, fmt.Errorf("count webhooks of %s: %w", shop, err)
	}
	return c, nil
}

// Stale returns pending deliveries of the given topics received before
// cutoff, of installed shops, oldest first: at most limit in all and at
// most perShop of one shop, so a shop with a large backlog does not hide
// the others'.
func (s *DeliveryStore) Stale(ctx context.Context, topics []string, cutoff time.Time, limit, perShop int) ([]cvo.WebhookDelivery, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT p.shop, p.webhook_id, p.topic FROM (
			SELECT shop, webhook_id, topic, received_at, row_number() OVER (PARTITION BY shop ORDER BY received_at) AS n
			FROM webhook_deliveries WHERE state = 'pending' AND received_at < $2 AND topic = ANY($1)
		) p JOIN shops s ON s.shop = p.shop AND s.uninstalled_at IS NULL
		WHERE p.n <= $4 ORDER BY p.received_at LIMIT $3`, topics, cutoff, limit, perShop)
	if err != nil {
		return nil, fmt.Errorf("list stale webhooks: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (cvo.WebhookDelivery, error) {
		var d cvo.WebhookDelivery
		return d, r.Scan(&d.Shop, &d.ID, &d.Topic)
	})
	if err != nil {
		return nil, fmt.Errorf("list stale webhooks: %w", err)
	}
	return out, nil
}

// Revive puts the shop's dead deliveries back to pending with their
// attempts reset, and returns them for queueing.
func (s *DeliveryStore) Revive(ctx context.Context, shop string) ([]cvo.WebhookDelivery, error) {
	rows, err := s.db.Pool.Query(ctx, `UPDATE webhook_deliveries SET state = 'pending', attempts = 0
		WHERE shop = $1 AND state = 'dead' RETURNING webhook_id, topic`, shop)
	if err != nil {
		return nil, fmt.Errorf("revive webhooks of %s: %w", shop, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (cvo.WebhookDelivery, error) {
		d := cvo.WebhookDelivery{Shop: shop}
		return d, r.Scan(&d.ID, &d.Topic)
	})
	if err != nil {
		return nil, fmt.Errorf("revive webhooks of %s: %w", shop, err)
	}
	return out, nil
}

// expireBatch bounds one retention statement, so expiring a large backlog
// never holds many row locks or one long transaction.
const expireBatch = 5000

// Expired counts what one retention run deleted.
type Expired struct {
	Deliveries   int64 // delivery rows, with whatever payload they held
	Unapplied    int64 // of which never applied (pending, dead or rejected)
	DataRequests int64
}

// Expire deletes deliveries received before cutoff and data-request
// exports made before it, in bounded batches. A delivery is needed only
// for deduplication (Shopify retries for hours) and until it is applied;
// an unapplied one that old has been retried for the whole retention and
// the reconciliation has fetched its data since.
func (s *DeliveryStore) Expire(ctx context.Context, cutoff time.Time) (Expired, error) {
	var out Expired
	for {
		var n, unapplied int64
		err := s.db.Pool.QueryRow(ctx, `WITH gone AS (
				DELETE FROM webhook_deliveries WHERE ctid = ANY(ARRAY(
					SELECT ctid FROM webhook_deliveries WHERE received_at < $1 LIMIT $2))
				RETURNING state)
			SELECT count(*), count(*) FILTER (WHERE state <> 'applied') FROM gone`, cutoff, expireBatch).Scan(&n, &unapplied)
		if err != nil {
			return out, fmt.Errorf("expire webhook deliveries: %w", err)
		}
		out.Deliveries += n
		out.Unapplied += unapplied
		if n < expireBatch {
			break
		}
	}
	for {
		tag, err := s.db.Pool.Exec(ctx, `DELETE FROM data_requests WHERE ctid = ANY(ARRAY(
			SELECT ctid FROM data_requests WHERE created_at < $1 LIMIT $2))`, cutoff, expireBatch)
		if err != nil {
			return out, fmt.Errorf("expire data requests: %w", err)
		}
		out.DataRequests += tag.RowsAffected()
		if tag.RowsAffected() < expireBatch {
			break
		}
	}
	return out, nil
}
