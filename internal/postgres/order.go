package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/cvo-app/cvo/internal/cvo"
)

// OrderRow is an order as imported. Amounts are decimal strings in the
// shop's currency exactly as Shopify wrote them ("12.5"); the importer
// checks their form, the database stores them as numeric.
type OrderRow struct {
	ID          int64
	CustomerID  int64 // 0 = no customer
	Name        string
	CreatedAt   time.Time
	ProcessedAt time.Time
	UpdatedAt   time.Time
	CancelledAt time.Time // zero = not cancelled
	Test        bool
	Currency    string
	Total       string
	Subtotal    string // "" = unknown
	SourceName  string
	LandingPage string
	ReferrerURL string
	UTMSource   string
	UTMMedium   string
	UTMCampaign string
	// DiscountCodes is never nil in rows the importer builds.
	DiscountCodes []string
}

// LineRow is one line item of an order.
type LineRow struct {
	OrderID   int64
	ID        int64
	ProductID int64 // 0 = no product (custom line or deleted product)
	VariantID int64
	Title     string
	Quantity  int32
	UnitPrice string
}

// RefundRow is one refund of an order; Amount is its total in shop money.
type RefundRow struct {
	OrderID   int64
	ID        int64
	CreatedAt time.Time
	Amount    string
}

// OrderStore keeps a shop's orders with their lines and refunds.
type OrderStore struct {
	db *DB
}

// NewOrderStore returns the order store.
func NewOrderStore(db *DB) *OrderStore { return &OrderStore{db: db} }

// The landing and referrer pages of a redacted customer's orders are not
// kept (see redactCustomers).
const orderUpsert = `INSERT INTO orders AS o (shop, id, customer_id, name, created_at, processed_at, updated_at, cancelled_at, test, currency,
		total, subtotal, source_name, landing_page, referrer_url, utm_source, utm_medium, utm_campaign, discount_codes)
	SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::numeric, $12::numeric, $13,
		CASE WHEN r.red THEN NULL ELSE $14::text END, CASE WHEN r.red THEN NULL ELSE $15::text END, $16, $17, $18, $19
	FROM (SELECT EXISTS (SELECT 1 FROM redacted_customers WHERE shop = $1 AND customer_id = $3) AS red) r
	ON CONFLICT (shop, id) DO UPDATE SET customer_id = excluded.customer_id, name = excluded.name, created_at = excluded.created_at,
		processed_at = excluded.processed_at, updated_at = excluded.updated_at, cancelled_at = excluded.cancelled_at,
		test = excluded.test, currency = excluded.currency, total = excluded.total, subtotal = excluded.subtotal,
		source_name = excluded.source_name, landing_page = excluded.landing_page, referrer_url = excluded.referrer_url,
		utm_source = excluded.utm_source, utm_medium = excluded.utm_medium, utm_campaign = excluded.utm_campaign,
		discount_codes = excluded.discount_codes
	WHERE o.updated_at < excluded.updated_at
	RETURNING true`

// Upsert stores an order from a webhook with its lines and refunds, in one
// transaction. The order and its lines change only when the delivery is
// newer than what is stored (by updated_at), so duplicates, replays and
// late deliveries change nothing. Refunds never change once given, so they
// are added whenever they are new. It reports whether the order changed.
func (s *OrderStore) Upsert(ctx context.Context, shop string, o OrderRow, lines []LineRow, refunds []RefundRow) (bool, error) {
	var applied bool
	err := pgx.BeginFunc(ctx, s.db.Pool, func(tx pgx.Tx) error {
		if err := lockShopForWrite(ctx, tx, shop); err != nil {
			return err
		}
		codes := o.DiscountCodes
		if codes == nil {
			codes = []string{}
		}
		err := tx.QueryRow(ctx, orderUpsert, shop, o.ID, nullID(o.CustomerID), o.Name, o.CreatedAt, nullTime(o.ProcessedAt), o.UpdatedAt,
			nullTime(o.CancelledAt), o.Test, o.Currency, o.Total, nullText(o.Subtotal), nullText(o.SourceName),
			nullText(o.LandingPage), nullText(o.ReferrerURL), nullText(o.UTMSource), nullText(o.UTMMedium), nullText(o.UTMCampaign), codes).Scan(&applied)
		if errors.Is(err, pgx.ErrNoRows) {
			applied = false
		} else if err != nil {
			return fmt.Errorf("order: %w", err)
		}
		if applied {
			if err := replaceLines(ctx, tx, shop, o.ID, lines); err != nil {
				return err
			}
		}
		return addRefunds(ctx, tx, shop, refunds)
	})
	if err != nil {
		return false, fmt.Errorf("upsert order of %s: %w", shop, err)
	}
	return applied, nil
}

// AddRefunds stores refunds (refunds/create); one already stored is kept.
func (s *OrderStore) AddRefunds(ctx context.Context, shop string, refunds []RefundRow) error {
	err := pgx.BeginFunc(ctx, s.db.Pool, func(tx pgx.Tx) error {
		if err := lockShopForWrite(ctx, tx, shop); err != nil {
			return err
		}
		return addRefunds(ctx, tx, shop, refunds)
	})
	if err != nil {
		return fmt.Errorf("add refunds of %s: %w", shop, err)
	}
	return nil
}

// execer is a pool or a transaction.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

func replaceLines(ctx context.Context, tx pgx.Tx, shop string, orderID int64, lines []LineRow) error {
	ids := make([]int64, len(lines))
	products := make([]*int64, len(lines))
	variants := make([]*int64, len(lines))
	titles := make([]string, len(lines))
	qty := make([]int32, len(lines))
	prices := make([]string, len(lines))
	for i, l := range lines {
		ids[i], titles[i], qty[i], prices[i] = l.ID, l.Title, l.Quantity, l.UnitPrice
		if l.ProductID != 0 {
			products[i] = &lines[i].ProductID
		}
		if l.VariantID != 0 {
			variants[i] = &lines[i].VariantID
		}
	}
	if _, err := tx.Exec(ctx, `DELETE FROM order_lines WHERE shop = $1 AND order_id = $2 AND NOT (id = ANY($3))`, shop, orderID, ids); err != nil {
		return fmt.Errorf("order lines: %w", err)
	}
	if len(lines) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, `INSERT INTO order_lines AS l (shop, order_id, id, product_id, variant_id, title, quantity, unit_price)
		SELECT $1, $2, u.id, u.product_id, u.variant_id, u.title, u.quantity, u.price::numeric
		FROM unnest($3::bigint[], $4::bigint[], $5::bigint[], $6::text[], $7::int[], $8::text[]) AS u(id, product_id, variant_id, title, quantity, price)
		ON CONFLICT (shop, order_id, id) DO UPDATE SET product_id = excluded.product_id, variant_id = excluded.variant_id,
			title = excluded.title, quantity = excluded.quantity, unit_price = excluded.unit_price`,
		shop, orderID, ids, products, variants, titles, qty, prices)
	if err != nil {
		return fmt.Errorf("order lines: %w", err)
	}
	return nil
}

func addRefunds(ctx context.Context, q execer, shop string, refunds []RefundRow) error {
	if len(refunds) == 0 {
		return nil
	}
	ids := make([]int64, len(refunds))
	orders := make([]int64, len(refunds))
	at := make([]time.Time, len(refunds))
	amounts := make([]string, len(refunds))
	for i, r := range refunds {
		ids[i], orders[i], at[i], amounts[i] = r.ID, r.OrderID, r.CreatedAt, r.Amount
	}
	_, err := q.Exec(ctx, `INSERT INTO refunds (shop, id, order_id, created_at, amount)
		SELECT $1, u.id, u.order_id, u.created_at, u.amount::numeric
		FROM unnest($2::bigint[], $3::bigint[], $4::timestamptz[], $5::text[]) AS u(id, order_id, created_at, amount)
		ON CONFLICT (shop, id) DO NOTHING`, shop, ids, orders, at, amounts)
	if err != nil {
		return fmt.Errorf("refunds: %w", err)
	}
	return nil
}

// Get returns a stored order with its lines and refunds, as stored.
func (s *OrderStore) Get(ctx context.Context, shop string, id int64) (OrderRow, []LineRow, []RefundRow, bool, error) {
	o := OrderRow{ID: id}
	var cust *int64
	var processed, cancelled *time.Time
	var subtotal, source, landing, ref, us, um, uc *string
	err := s.db.Pool.QueryRow(ctx, `SELECT customer_id, name, created_at, processed_at, updated_at, cancelled_at, test, currency,
			total::text, subtotal::text, source_name, landing_page, referrer_url, utm_source, utm_medium, utm_campaign, discount_codes
		FROM orders WHERE shop = $1 AND id = $2`, shop, id).Scan(&cust, &o.Name, &o.CreatedAt, &processed, &o.UpdatedAt, &cancelled,
		&o.Test, &o.Currency, &o.Total, &subtotal, &source, &landing, &ref, &us, &um, &uc, &o.DiscountCodes)
	if errors.Is(err, pgx.ErrNoRows) {
		return o, nil, nil, false, nil
	}
	if err != nil {
		return o, nil, nil, false, fmt.Errorf("get order of %s: %w", shop, err)
	}
	if cust != nil {
		o.CustomerID = *cust
	}
	o.ProcessedAt, o.CancelledAt = deref(processed), deref(cancelled)
	o.Subtotal, o.SourceName, o.LandingPage, o.ReferrerURL = str(subtotal), str(source), str(landing), str(ref)
	o.UTMSource, o.UTMMedium, o.UTMCampaign = str(us), str(um), str(uc)

	rows, err := s.db.Pool.Query(ctx, `SELECT id, COALESCE(product_id, 0), COALESCE(variant_id, 0), title, quantity, unit_price::text
		FROM order_lines WHERE shop = $1 AND order_id = $2 ORDER BY id`, shop, id)
	if err != nil {
		return o, nil, nil, false, fmt.Errorf("get order lines of %s: %w", shop, err)
	}
	lines, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (LineRow, error) {
		l := LineRow{OrderID: id}
		return l, r.Scan(&l.ID, &l.ProductID, &l.VariantID, &l.Title, &l.Quantity, &l.UnitPrice)
	})
	if err != nil {
		return o, nil, nil, false, fmt.Errorf("get order lines of %s: %w", shop, err)
	}
	rows, err = s.db.Pool.Query(ctx, `SELECT id, created_at, amount::text FROM refunds WHERE shop = $1 AND order_id = $2 ORDER BY id`, shop, id)
	if err != nil {
		return o, nil, nil, false, fmt.Errorf("get refunds of %s: %w", shop, err)
	}
	refunds, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (RefundRow, error) {
		f := RefundRow{OrderID: id}
		return f, r.Scan(&f.ID, &f.CreatedAt, &f.Amount)
	})
	if err != nil {
		return o, nil, nil, false, fmt.Errorf("get refunds of %s: %w", shop, err)
	}
	return o, lines, refunds, true, nil
}

// ShopOrders streams every order of a shop as the scoring pipeline sees
// it, with its lines (product type, vendor and unit cost joined from the
// catalogue) and refunds, ordered by order id. Orders, lines and refunds
// come from one query that merges three index scans on order id, so a shop
// of any size streams in constant memory (beyond the catalogue) with no
// query per order.
func (s *OrderStore) ShopOrders(ctx context.Context, shop string, fn func(cvo.Order) error) error {
	catalogue, err := s.catalogue(ctx, shop)
	if err != nil {
		return err
	}
	rows, err := s.db.Pool.Query(ctx, shopOrdersQuery, shop)
	if err != nil {
		return fmt.Errorf("load orders of %s: %w", shop, err)
	}
	defer rows.Close()

	var (
		cur     cvo.Order
		curID   int64
		have    bool
		kind    int16
		orderID int64
		sub     int64
		// Order columns.
		cust                             *int64
		created, updated                 time.Time
		cancelled                        *time.Time
		test                             bool
		currency                         string
		total                            float64
		source, landing, ref, us, um, uc *string
		codes                            []string
		// Line and refund columns.
		product, variant *int64
		title            *string
		qty              *int32
		amount           *float64
		at               *time.Time
	)
	flush := func() error {
		if !have {
			return nil
		}
		return fn(cur)
	}
	for rows.Next() {
		if err := rows.Scan(&kind, &orderID, &sub, &cust, &created, &updated, &cancelled, &test, &currency, &total,
			&source, &landing, &ref, &us, &um, &uc, &codes, &product, &variant, &title, &qty, &amount, &at); err != nil {
			return fmt.Errorf("load orders of %s: %w", shop, err)
		}
		switch kind {
		case 0:
			if err := flush(); err != nil {
				return err
			}
			have, curID = true, orderID
			cur = cvo.Order{
				ID: strconv.FormatInt(orderID, 10), CreatedAt: created.UTC(), UpdatedAt: updated.UTC(), Total: total, Currency: currency,
				Cancelled: cancelled != nil, Test: test, SourceName: str(source), LandingPage: str(landing), Referrer: str(ref),
				UTMSource: str(us), UTMMedium: str(um), UTMCampaign: str(uc), DiscountCodes: codes,
			}
			if cust != nil {
				cur.CustomerID = strconv.FormatInt(*cust, 10)
			}
		case 1:
			if !have || orderID != curID {
				continue // a line of an order that is gone
			}
			l := cvo.LineItem{Title: str(title), Quantity: int(deref32(qty)), UnitPrice: derefF(amount)}
			if product != nil {
				l.ProductID = strconv.FormatInt(*product, 10)
				if p, ok := catalogue.products[*product]; ok {
					l.Vendor, l.ProductType = p.vendor, p.productType
				}
			}
			if variant != nil {
				l.VariantID = strconv.FormatInt(*variant, 10)
				if v, ok := catalogue.variants[*variant]; ok {
					l.UnitCost, l.CostKnown = v.cost, v.known
				}
			}
			cur.Lines = append(cur.Lines, l)
		case 2:
			if !have || orderID != curID || at == nil {
				continue
			}
			cur.Refunds = append(cur.Refunds, cvo.Refund{CreatedAt: at.UTC(), Amount: derefF(amount)})
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("load orders of %s: %w", shop, err)
	}
	return flush()
}

// shopOrdersQuery interleaves each order with its lines and refunds. Every
// branch reads an index in (order id, id) order, so PostgreSQL merges them
// (Merge Append) without sorting.
const shopOrdersQuery = `
SELECT 0::int2 AS kind, o.id AS order_id, 0::int8 AS sub, o.customer_id, COALESCE(o.processed_at, o.created_at), o.updated_at, o.cancelled_at,
	o.test, o.currency, o.total::float8, o.source_name, o.landing_page, o.referrer_url, o.utm_source, o.utm_medium, o.utm_campaign,
	o.discount_codes, NULL::int8, NULL::int8, NULL::text, NULL::int4, NULL::float8, NULL::timestamptz
FROM orders o WHERE o.shop = $1
UNION ALL
SELECT 1::int2, l.order_id, l.id, NULL, 'epoch', 'epoch', NULL, false, '', 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	l.product_id, l.variant_id, l.title, l.quantity, l.unit_price::float8, NULL
FROM order_lines l WHERE l.shop = $1
UNION ALL
SELECT 2::int2, r.order_id, r.id, NULL, 'epoch', 'epoch', NULL, false, '', 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	NULL, NULL, NULL, NULL, r.amount::float8, r.created_at
FROM refunds r WHERE r.shop = $1
ORDER BY order_id, kind, sub`

type catalogue struct {
	products map[int64]productInfo
	variants map[int64]variantInfo
}

type productInfo struct{ vendor, productType string }

type variantInfo struct {
	cost  float64
	known bool
}

func (s *OrderStore) catalogue(ctx context.Context, shop string) (catalogue, error) {
	c := catalogue{products: map[int64]productInfo{}, variants: map[int64]variantInfo{}}
	rows, err := s.db.Pool.Query(ctx, `SELECT id, vendor, product_type FROM products WHERE shop = $1`, shop)
	if err != nil {
		return c, fmt.Errorf("load products of %s: %w", shop, err)
	}
	var id int64
	var p productInfo
	_, err = pgx.ForEachRow(rows, []any{&id, &p.vendor, &p.productType}, func() error {
		c.products[id] = p
		return nil
	})
	if err != nil {
		return c, fmt.Errorf("load products of %s: %w", shop, err)
	}
	rows, err = s.db.Pool.Query(ctx, `SELECT id, unit_cost::float8 FROM variants WHERE shop = $1`, shop)
	if err != nil {
		return c, fmt.Errorf("load variants of %s: %w", shop, err)
	}
	var cost *float64
	_, err = pgx.ForEachRow(rows, []any{&id, &cost}, func() error {
		if cost != nil {
			c.variants[id] = variantInfo{cost: *cost, known: true}
		}
		return nil
	})
	if err != nil {
		return c, fmt.Errorf("load variants of %s: %w", shop, err)
	}
	return c, nil
}

func deref32(p *int32) int32 {
	if p == nil {
		return 0
	}
	return *p
}

func derefF(p *float64) float64 {
	if p == nil {
		return 0
	}
	return *p
}
