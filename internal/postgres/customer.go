package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cvo-app/cvo/internal/cvo"
)

// CustomerRow is a customer as imported: the only personal data kept is
// what the admin page searches by (email, names) and the location the
// reports group by.
type CustomerRow struct {
	ID          int64
	Email       string
	FirstName   string
	LastName    string
	City        string
	Country     string
	CountryCode string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	// Deleted is set on rows read back for a customer deleted in Shopify.
	Deleted bool
	// TriggeredAt is the X-Shopify-Triggered-At of the webhook delivery
	// that brought the row; zero when unknown (imports, no header).
	TriggeredAt time.Time
	// ShopifyRFMGroup and ShopifyPredictedSpendTier are Shopify's own
	// Customer.statistics, read by imports only (webhooks lack them).
	ShopifyRFMGroup           string
	ShopifyPredictedSpendTier string
}

// CustomerStore keeps a shop's customers.
type CustomerStore struct {
	db *DB
}

// NewCustomerStore returns the customer store.
func NewCustomerStore(db *DB) *CustomerStore { return &CustomerStore{db: db} }

// customerUpsert stores a customer unless the stored one is as new or
// newer (see webhookWins) or deleted; personal data of a redacted customer
// is dropped.
var customerUpsert = `INSERT INTO customers AS c (shop, id, email, first_name, last_name, city, country, country_code, created_at, updated_at, state_at)
	SELECT $1, $2, CASE WHEN r.red THEN NULL ELSE $3::text END, CASE WHEN r.red THEN NULL ELSE $4::text END,
		CASE WHEN r.red THEN NULL ELSE $5::text END, CASE WHEN r.red THEN NULL ELSE $6::text END,
		CASE WHEN r.red THEN NULL ELSE $7::text END, CASE WHEN r.red THEN NULL ELSE $8::text END, $9, $10, $11
	FROM (SELECT EXISTS (SELECT 1 FROM redacted_customers WHERE shop = $1 AND customer_id = $2) AS red) r
	ON CONFLICT (shop, id) DO UPDATE SET ` + customerUpdateSet + `
	WHERE c.deleted_at IS NULL AND (` + webhookWins("c") + `)`

// customerUpdateSet is what a newer version of a customer overwrites, for
// both ways a customer arrives: a webhook and an import merge.
const customerUpdateSet = `email = excluded.email, first_name = excluded.first_name, last_name = excluded.last_name,
		city = excluded.city, country = excluded.country, country_code = excluded.country_code,
		created_at = excluded.created_at, updated_at = excluded.updated_at, state_at = excluded.state_at`

// Upsert stores a customer from a webhook unless the stored one is as new
// or newer (see webhookWins: a late or replayed delivery never wins) or was
// deleted. A
// redacted customer's personal data is never stored again. It reports
// whether the row changed.
func (s *CustomerStore) Upsert(ctx context.Context, shop string, c CustomerRow) (bool, error) {
	var changed bool
	err := pgx.BeginFunc(ctx, s.db.Pool, func(tx pgx.Tx) error {
		if err := lockShopForWrite(ctx, tx, shop); err != nil {
			return err
		}
		var err error
		changed, err = upsertCustomer(ctx, tx, shop, c)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("upsert customer of %s: %w", shop, err)
	}
	return changed, nil
}

func upsertCustomer(ctx context.Context, tx pgx.Tx, shop string, c CustomerRow) (bool, error) {
	tag, err := tx.Exec(ctx, customerUpsert, shop, c.ID, nullText(c.Email), nullText(c.FirstName), nullText(c.LastName),
		nullText(c.City), nullText(c.Country), nullText(c.CountryCode), nullTime(c.CreatedAt), c.UpdatedAt, nullTime(c.TriggeredAt))
	return tag.RowsAffected() > 0, err
}

// Delete marks a customer deleted (customers/delete) and drops its personal
// data. The row stays as a tombstone, so a late customers/update cannot
// bring the customer back; deleting twice changes nothing.
func (s *CustomerStore) Delete(ctx context.Context, shop string, id int64, at time.Time) error {
	err := pgx.BeginFunc(ctx, s.db.Pool, func(tx pgx.Tx) error {
		if err := lockShopForWrite(ctx, tx, shop); err != nil {
			return err
		}
		return deleteCustomer(ctx, tx, shop, id, at)
	})
	if err != nil {
		return fmt.Errorf("delete customer of %s: %w", shop, err)
	}
	return nil
}

func deleteCustomer(ctx context.Context, tx pgx.Tx, shop string, id int64, at time.Time) error {
	_, err := tx.Exec(ctx, `INSERT INTO customers AS c (shop, id, updated_at, deleted_at) VALUES ($1, $2, $3, $3)
		ON CONFLICT (shop, id) DO UPDATE SET email = NULL, first_name = NULL, last_name = NULL, city = NULL,
			country = NULL, country_code = NULL, deleted_at = COALESCE(c.deleted_at, excluded.deleted_at)`, shop, id, at)
	return err
}

// Get returns one stored customer, tombstones included (Deleted set).
func (s *CustomerStore) Get(ctx context.Context, shop string, id int64) (CustomerRow, bool, error) {
	c := CustomerRow{ID: id}
	var email, first, last, city, country, code *string
	var created, deleted *time.Time
	err := s.db.Pool.QueryRow(ctx, `SELECT email, first_name, last_name, city, country, country_code, created_at, updated_at, deleted_at,
			COALESCE(shopify_rfm_group, ''), COALESCE(shopify_predicted_spend_tier, '')
		FROM customers WHERE shop = $1 AND id = $2`, shop, id).Scan(&email, &first, &last, &city, &country, &code, &created, &c.UpdatedAt, &deleted,
		&c.ShopifyRFMGroup, &c.ShopifyPredictedSpendTier)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, false, nil
	}
	if err != nil {
		return c, false, fmt.Errorf("get customer of %s: %w", shop, err)
	}
	c.Email, c.FirstName, c.LastName = str(email), str(first), str(last)
	c.City, c.Country, c.CountryCode = str(city), str(country), str(code)
	c.CreatedAt = deref(created)
	c.Deleted = deleted != nil
	return c, true, nil
}

// ShopCustomers streams every live customer of a shop, ordered by id, as
// the scoring pipeline sees them: id, creation date and location.
func (s *CustomerStore) ShopCustomers(ctx context.Context, shop string, fn func(cvo.Customer) error) error {
	rows, err := s.db.Pool.Query(ctx, `SELECT id, created_at, COALESCE(country, country_code, ''), COALESCE(city, ''),
			COALESCE(shopify_rfm_group, ''), COALESCE(shopify_predicted_spend_tier, '')
		FROM customers WHERE shop = $1 AND deleted_at IS NULL ORDER BY id`, shop)
	if err != nil {
		return fmt.Errorf("load customers of %s: %w", shop, err)
	}
	defer rows.Close()
	var (
		id      int64
		created *time.Time
		c       cvo.Customer
	)
	for rows.Next() {
		if err := rows.Scan(&id, &created, &c.Country, &c.City, &c.ShopifyRFMGroup, &c.ShopifySpendTier); err != nil {
			return fmt.Errorf("load customers of %s: %w", shop, err)
		}
		c.ID = strconv.FormatInt(id, 10)
		c.CreatedAt = time.Time{}
		if created != nil {
			c.CreatedAt = created.UTC()
		}
		if err := fn(c); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("load customers of %s: %w", shop, err)
	}
	return nil
}

// customerIDOf reads a privacy request's customer id: Shopify sends the
// numeric id; a GID is accepted too.
func customerIDOf(ref cvo.CustomerRef) (int64, bool) {
	s := ref.ID
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		s = s[i+1:]
	}
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil && id > 0
}

// redactedCustomerIDs are the stored customers a privacy request names: by
// its id, and by its email (in any case) for a customer named only by it.
func redactedCustomerIDs(ctx context.Context, q pgxQuerier, shop string, c cvo.CustomerRef) ([]int64, error) {
	ids := []int64{}
	if id, ok := customerIDOf(c); ok {
		ids = append(ids, id)
	}
	if c.Email == "" {
		return ids, nil
	}
	rows, err := q.Query(ctx, `SELECT id FROM customers WHERE shop = $1 AND lower(email) = lower($2)`, shop, c.Email)
	if err != nil {
		return nil, err
	}
	more, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, err
	}
	return append(ids, more...), nil
}

// redactCustomers wipes the customer's personal data and remembers the
// redaction, so neither a later import nor a webhook stores it again. A
// customer named only by email is found by it.
func redactCustomers(ctx context.Context, tx pgx.Tx, shop string, c cvo.CustomerRef) error {
	// A merge running now could otherwise store the data again after this
	// commits: wait for it, a few seconds at most (Shopify retries a
	// compliance webhook that fails).
	if _, err := tx.Exec(ctx, `SET LOCAL lock_timeout = '5s'`); err != nil {
		return fmt.Errorf("customers: %w", err)
	}
	if err := LockShopData(ctx, tx, shop, false); err != nil {
		return fmt.Errorf("customers: %w", err)
	}
	ids, err := redactedCustomerIDs(ctx, tx, shop, c)
	if err != nil {
		return fmt.Errorf("customers: %w", err)
	}
	if len(ids) == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, `INSERT INTO redacted_customers (shop, customer_id) SELECT $1, unnest($2::bigint[]) ON CONFLICT DO NOTHING`, shop, ids); err != nil {
		return fmt.Errorf("customers: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE customers SET email = NULL, first_name = NULL, last_name = NULL, city = NULL, country = NULL, country_code = NULL
		WHERE shop = $1 AND id = ANY($2)`, shop, ids); err != nil {
		return fmt.Errorf("customers: %w", err)
	}
	// The pages a person landed on and came from are their browsing
	// history; the purchase facts stay, anonymous.
	if _, err := tx.Exec(ctx, `UPDATE orders SET landing_page = NULL, referrer_url = NULL
		WHERE shop = $1 AND customer_id = ANY($2) AND (landing_page IS NOT NULL OR referrer_url IS NOT NULL)`, shop, ids); err != nil {
		return fmt.Errorf("orders: %w", err)
	}
	// A sync in flight may hold the customer in its staging table; merges
	// consult redacted_customers, but the staged copy must go now too.
	stages, err := stageTables(ctx, tx, shop, ResourceCustomers)
	if err != nil {
		return err
	}
	for _, t := range stages {
		if _, err := tx.Exec(ctx, fmt.Sprintf(`UPDATE %s SET email = NULL, first_name = NULL, last_name = NULL, city = NULL, country = NULL, country_code = NULL
			WHERE shop = $1 AND id = ANY($2)`, pgx.Identifier{t}.Sanitize()), shop, ids); err != nil {
			return fmt.Errorf("staged customers: %w", err)
		}
	}
	return nil
}

// exportCustomer gathers the customer's stored personal data and purchase
// history for a data request.
func exportCustomer(ctx context.Context, q pgxQuerier, shop string, c cvo.CustomerRef, into map[string]any) error {
	id, ok := customerIDOf(c)
	if !ok {
		return nil
	}
	var email, first, last, city, country, code *string
	var created, updated time.Time
	err := q.QueryRow(ctx, `SELECT email, first_name, last_name, city, country, country_code, COALESCE(created_at, updated_at), updated_at
		FROM customers WHERE shop = $1 AND id = $2`, shop, id).Scan(&email, &first, &last, &city, &country, &code, &created, &updated)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		return fmt.Errorf("customers: %w", err)
	default:
		into["customer"] = map[string]any{
			"email": str(email), "first_name": str(first), "last_name": str(last),
			"city": str(city), "country": str(country), "country_code": str(code),
			"created_at": created, "updated_at": updated,
		}
	}
	rows, err := q.Query(ctx, `SELECT id, name, COALESCE(processed_at, created_at), total::text, currency, cancelled_at IS NOT NULL,
			COALESCE(landing_page, ''), COALESCE(referrer_url, ''), discount_codes,
			COALESCE((SELECT sum(amount) FROM refunds r WHERE r.shop = o.shop AND r.order_id = o.id), 0)::text
		FROM orders o WHERE shop = $1 AND customer_id = $2 ORDER BY id`, shop, id)
	if err != nil {
		return fmt.Errorf("orders: %w", err)
	}
	defer rows.Close()
	orders := []map[string]any{}
	for rows.Next() {
		var (
			oid                            int64
			name, total, cur, landing, ref string
			refunded                       string
			at                             time.Time
			cancelled                      bool
			codes                          []string
		)
		if err := rows.Scan(&oid, &name, &at, &total, &cur, &cancelled, &landing, &ref, &codes, &refunded); err != nil {
			return fmt.Errorf("orders: %w", err)
		}
		orders = append(orders, map[string]any{
			"id": oid, "name": name, "date": at, "total": total, "refunded": refunded, "currency": cur,
			"cancelled": cancelled, "landing_page": landing, "referrer_url": ref, "discount_codes": codes,
		})
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("orders: %w", err)
	}
	into["orders"] = orders
	return nil
}

func nullText(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
