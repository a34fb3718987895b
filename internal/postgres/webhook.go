package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/cvo-app/cvo/internal/cvo"
)

// DeliveryStore keeps webhook deliveries for deduplication and hands their
// payloads to the jobs that apply them.
type DeliveryStore struct {
	db *DB
}

// NewDeliveryStore returns the webhook delivery store.
func NewDeliveryStore(db *DB) *DeliveryStore { return &DeliveryStore{db: db} }

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
			WHERE webhook_deliveries.processed_at IS NULL
		RETURNING true`, d.Shop, d.ID, d.Topic, d.EventID, triggered, d.Payload).Scan(&inserted)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("record webhook %s for %s: %w", d.Topic, d.Shop, err)
	}
	return true, nil
}

// MarkHandled notes that a delivery was handled (applied, or handed to a
// job that will apply it). keepPayload leaves the payload for that job.
func (s *DeliveryStore) MarkHandled(ctx context.Context, shop, webhookID string, keepPayload bool) error {
	q := `UPDATE webhook_deliveries SET processed_at = now(), error = '', payload = NULL WHERE shop = $1 AND webhook_id = $2`
	if keepPayload {
		q = `UPDATE webhook_deliveries SET processed_at = now(), error = '' WHERE shop = $1 AND webhook_id = $2`
	}
	if _, err := s.db.Pool.Exec(ctx, q, shop, webhookID); err != nil {
		return fmt.Errorf("mark webhook %s handled for %s: %w", webhookID, shop, err)
	}
	return nil
}

// MarkFailed records why handling failed; the delivery stays eligible for
// Shopify's retry.
func (s *DeliveryStore) MarkFailed(ctx context.Context, shop, webhookID, reason string) error {
	if _, err := s.db.Pool.Exec(ctx, `UPDATE webhook_deliveries SET error = $3 WHERE shop = $1 AND webhook_id = $2`, shop, webhookID, reason); err != nil {
		return fmt.Errorf("mark webhook %s failed for %s: %w", webhookID, shop, err)
	}
	return nil
}

// Payload returns a stored delivery for a job to apply.
func (s *DeliveryStore) Get(ctx context.Context, shop, webhookID string) (cvo.WebhookDelivery, error) {
	d := cvo.WebhookDelivery{Shop: shop, ID: webhookID}
	err := s.db.Pool.QueryRow(ctx, `SELECT topic, event_id, COALESCE(triggered_at, 'epoch'), payload FROM webhook_deliveries WHERE shop = $1 AND webhook_id = $2`,
		shop, webhookID).Scan(&d.Topic, &d.EventID, &d.TriggeredAt, &d.Payload)
	if errors.Is(err, pgx.ErrNoRows) {
		return d, cvo.Errorf(cvo.ENOTFOUND, "No webhook delivery %s.", webhookID)
	}
	if err != nil {
		return d, fmt.Errorf("get webhook %s for %s: %w", webhookID, shop, err)
	}
	return d, nil
}

// ClearPayload drops an applied delivery's payload, which may hold personal data.
func (s *DeliveryStore) ClearPayload(ctx context.Context, shop, webhookID string) error {
	if _, err := s.db.Pool.Exec(ctx, `UPDATE webhook_deliveries SET payload = NULL WHERE shop = $1 AND webhook_id = $2`, shop, webhookID); err != nil {
		return fmt.Errorf("clear webhook %s payload for %s: %w", webhookID, shop, err)
	}
	return nil
}
