package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/cvo-app/cvo/internal/cvo"
)

// PrivacyStore carries out Shopify's mandatory privacy requests against
// every table that holds a shop's or a customer's data.
type PrivacyStore struct {
	db *DB
}

// NewPrivacyStore returns the store for compliance requests.
func NewPrivacyStore(db *DB) *PrivacyStore { return &PrivacyStore{db: db} }

// DeleteShop removes everything the app holds on a shop (shop/redact). It
// finds the tables by their shop column rather than by a list, so a table
// added later cannot be forgotten.
func (p *PrivacyStore) DeleteShop(ctx context.Context, shop string) error {
	tx, err := p.db.Pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("redact shop %s: %w", shop, err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	tables, err := tablesWithColumn(ctx, tx, "shop")
	if err != nil {
		return fmt.Errorf("redact shop %s: %w", shop, err)
	}
	// A snapshot's rows go last, after their scorings: a scoring finished
	// while the redaction runs has then either committed before they are
	// deleted (its rows are seen and go) or finds its run deleted and rolls
	// its rows back (ScoringStore.Finish). Deleted before scorings, as the
	// alphabet has it, they would miss the rows of a snapshot committed in
	// between, which no reference deletes with their scoring any more.
	tables = append(slices.DeleteFunc(tables, func(t string) bool { return t == "customer_scores" }), "customer_scores")
	for _, t := range tables {
		if _, err := tx.Exec(ctx, fmt.Sprintf("DELETE FROM %s WHERE shop = $1", pgx.Identifier{t}.Sanitize()), shop); err != nil {
			return fmt.Errorf("redact shop %s from %s: %w", shop, t, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("redact shop %s: %w", shop, err)
	}
	return nil
}

// RedactCustomer removes a customer's personal data (customers/redact).
// Purchase facts stay, anonymous, because the shop's aggregates depend on
// them; everything that identifies the person goes.
func (p *PrivacyStore) RedactCustomer(ctx context.Context, shop string, c cvo.CustomerRef) error {
	tx, err := p.db.Pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("redact customer of %s: %w", shop, err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	for _, redact := range customerRedactions {
		if err := redact(ctx, tx, shop, c); err != nil {
			return fmt.Errorf("redact customer of %s: %w", shop, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("redact customer of %s: %w", shop, err)
	}
	return nil
}

// ExportCustomer gathers what the app holds on a customer
// (customers/data_request) and keeps it for the merchant under requestID.
func (p *PrivacyStore) ExportCustomer(ctx context.Context, shop, requestID string, c cvo.CustomerRef) (map[string]any, error) {
	export := map[string]any{"customer_id": c.ID}
	for _, gather := range customerExports {
		if err := gather(ctx, p.db.Pool, shop, c, export); err != nil {
			return nil, fmt.Errorf("export customer of %s: %w", shop, err)
		}
	}
	body, err := json.Marshal(export)
	if err != nil {
		return nil, fmt.Errorf("export customer of %s: %w", shop, err)
	}
	_, err = p.db.Pool.Exec(ctx, `INSERT INTO data_requests (shop, request_id, customer_id, export) VALUES ($1, $2, $3, $4)
		ON CONFLICT (shop, request_id) DO UPDATE SET export = excluded.export`, shop, requestID, c.ID, body)
	if err != nil {
		return nil, fmt.Errorf("store export for %s: %w", shop, err)
	}
	return export, nil
}

// DataRequest returns a stored export.
func (p *PrivacyStore) DataRequest(ctx context.Context, shop, requestID string) (json.RawMessage, error) {
	var body []byte
	err := p.db.Pool.QueryRow(ctx, `SELECT export FROM data_requests WHERE shop = $1 AND request_id = $2`, shop, requestID).Scan(&body)
	if err == pgx.ErrNoRows {
		return nil, cvo.Errorf(cvo.ENOTFOUND, "No data request %s.", requestID)
	}
	if err != nil {
		return nil, fmt.Errorf("read data request of %s: %w", shop, err)
	}
	return body, nil
}

// customerRedactions lists, per resource, how a customer's personal data is
// removed. A resource that stores personal data adds its step here.
var customerRedactions = []func(ctx context.Context, tx pgx.Tx, shop string, c cvo.CustomerRef) error{
	redactWebhookPayloads,
	redactDataRequests,
	redactSurveyResponses, // before redactCustomers, which drops the email it may need
	redactCustomers,
}

// customerExports lists, per resource, what is gathered for a data request.
var customerExports = []func(ctx context.Context, q pgxQuerier, shop string, c cvo.CustomerRef, into map[string]any) error{
	exportCustomer,
	exportSurveyResponses,
}

type pgxQuerier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// redactWebhookPayloads drops raw deliveries that concern the customer:
// they are kept only until applied, and an unapplied one naming a redacted
// customer must not bring the data back. Payloads are parsed and matched
// on the customer's ids and contact details, never as text: an id is also
// a substring of other ids and of timestamps, and an email may be stored
// in another case or JSON-escaped. Only the shop's stored payloads are
// read, and those are the deliveries not yet applied.
func redactWebhookPayloads(ctx context.Context, tx pgx.Tx, shop string, c cvo.CustomerRef) error {
	rows, err := tx.Query(ctx, `SELECT webhook_id, topic, payload FROM webhook_deliveries WHERE shop = $1 AND payload IS NOT NULL`, shop)
	if err != nil {
		return fmt.Errorf("webhook payloads: %w", err)
	}
	m := newCustomerMatcher(c)
	var hits []string
	var id, topic string
	var payload []byte
	_, err = pgx.ForEachRow(rows, []any{&id, &topic, &payload}, func() error {
		if m.payloadConcerns(topic, payload) {
			hits = append(hits, id)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("webhook payloads: %w", err)
	}
	if len(hits) == 0 {
		return nil
	}
	_, err = tx.Exec(ctx, `UPDATE webhook_deliveries SET payload = NULL, error = 'redacted', processed_at = COALESCE(processed_at, now())
		WHERE shop = $1 AND webhook_id = ANY($2)`, shop, hits)
	if err != nil {
		return fmt.Errorf("webhook payloads: %w", err)
	}
	return nil
}

func redactDataRequests(ctx context.Context, tx pgx.Tx, shop string, c cvo.CustomerRef) error {
	if _, err := tx.Exec(ctx, `DELETE FROM data_requests WHERE shop = $1 AND customer_id = $2`, shop, c.ID); err != nil {
		return fmt.Errorf("data requests: %w", err)
	}
	return nil
}

func tablesWithColumn(ctx context.Context, q pgxQuerier, column string) ([]string, error) {
	rows, err := q.Query(ctx, `SELECT c.table_name FROM information_schema.columns c
		JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
		WHERE c.table_schema = current_schema() AND c.column_name = $1 AND t.table_type = 'BASE TABLE'
		ORDER BY c.table_name`, column)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}
