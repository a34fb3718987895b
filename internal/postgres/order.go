package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

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
	// TriggeredAt is the X-Shopify-Triggered-At of the webhook delivery
	// that brought the row; zero when unknown (imports, no header).
	TriggeredAt time.Time
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
var orderUpsert = `INSERT INTO orders AS o (shop, id, customer_id, name, created_at, processed_at, updated_at, cancelled_at, test, currency,
		total, subtotal, source_name, landing_page, referrer_url, utm_source, utm_medium, utm_campaign, discount_codes, state_at)
	SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::numeric, $12::numeric, $13,
		CASE WHEN r.red THEN NULL ELSE $14::text END, CASE WHEN r.red THEN NULL ELSE $15::text END, $16, $17, $18, $19, $20
	FROM (SELECT EXISTS (SELECT 1 FROM redacted_customers WHERE shop = $1 AND customer_id = $3) AS red) r
	ON CONFLICT (shop, id) DO UPDATE SET ` + orderUpdateSet + `
	WHERE ` + webhookWins("o") + `
	RETURNING true`

// webhookWins is when a webhook's version of a row (excluded) replaces the
// stored one (alias t): it is newer by updated_at, or as new and triggered
// later than the stored version was known to be current. updated_at has
// one-second precision, so without the second rule a refund and a cancel
// within one second would keep whichever came first. A stored state_at of
// NULL (not known) loses to any triggered delivery: even with equal
// values the row then learns its state_at, so an earlier delivery arriving
// later cannot undo it. A delivery without X-Shopify-Triggered-At
// (state_at NULL) never wins a tie.
func webhookWins(t string) string {
	return t + `.updated_at < excluded.updated_at OR (` + t + `.updated_at = excluded.updated_at AND
		excluded.state_at IS NOT NULL AND (` + t + `.state_at IS NULL OR ` + t + `.state_at < excluded.state_at))`
}

// orderUpdateSet is what a newer version of an order overwrites, for both
// ways an order arrives: a webhook (orderUpsert) and an import merge.
const orderUpdateSet = `customer_id = excluded.customer_id, name = excluded.name, created_at = excluded.created_at,
		processed_at = excluded.processed_at, updated_at = excluded.updated_at, cancelled_at = excluded.cancelled_at,
		test = excluded.test, currency = excluded.currency, total = excluded.total, subtotal = excluded.subtotal,
		source_name = excluded.source_name, landing_page = excluded.landing_page, referrer_url = excluded.referrer_url,
		utm_source = excluded.utm_source, utm_medium = excluded.utm_medium, utm_campaign = excluded.utm_campaign,
		discount_codes = excluded.discount_codes, state_at = excluded.state_at`

// Upsert stores an order from a webhook with its lines and refunds, in one
// transaction. The order and its lines change only when the delivery is
// newer than what is stored (by updated_at, then by when it was triggered:
// see webhookWins), so duplicates, replays and late deliveries change
// nothing. Refunds never change once given, so they
// are added whenever they are new. It reports whether the order changed.
func (s *OrderStore) Upsert(ctx context.Context, shop string, o OrderRow, lines []LineRow, refunds []RefundRow) (bool, error) {
	var applied bool
	err := pgx.BeginFunc(ctx, s.db.Pool, func(tx pgx.Tx) error {
		if err := lockShopForWrite(ctx, tx, shop); err != nil {
			return err
		}
		var err error
		applied, err = upsertOrder(ctx, tx, shop, o, lines, refunds)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("upsert order of %s: %w", shop, err)
	}
	return applied, nil
}

func upsertOrder(ctx context.Context, tx pgx.Tx, shop string, o OrderRow, lines []LineRow, refunds []RefundRow) (bool, error) {
	codes := o.DiscountCodes
	if codes == nil {
		codes = []string{}
	}
	var applied bool
	err := tx.QueryRow(ctx, orderUpsert, shop, o.ID, nullID(o.CustomerID), o.Name, o.CreatedAt, nullTime(o.ProcessedAt), o.UpdatedAt,
		nullTime(o.CancelledAt), o.Test, o.Currency, o.Total, nullText(o.Subtotal), nullText(o.SourceName),
		nullText(o.LandingPage), nullText(o.ReferrerURL), nullText(o.UTMSource), nullText(o.UTMMedium), nullText(o.UTMCampaign), codes,
		nullTime(o.TriggeredAt)).Scan(&applied)
	if errors.Is(err, pgx.ErrNoRows) {
		applied = false
	} else if err != nil {
		return false, fmt.Errorf("order: %w", err)
	}
	if applied {
		if err := replaceLines(ctx, tx, shop, o.ID, lines); err != nil {
			return false, err
		}
	}
	return applied, addRefunds(ctx, tx, shop, refunds)
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
		return refreshLineSums(ctx, tx, shop, []int64{orderID})
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
	return refreshLineSums(ctx, tx, shop, []int64{orderID})
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
// it, ordered by order id, with its lines (product type, vendor and unit
// cost joined from the catalogue, which is loaded first) and refunds.
// Orders, lines and refunds come from three cursors, each reading its
// table's index in order id order, fetched in chunks and merged here: no
// sort on the server, no query per order, and memory that does not grow
// with the shop (beyond the catalogue). Everything is read in one
// repeatable-read transaction on one connection, so the catalogue, orders,
// lines and refunds agree even while webhooks write, and the caller's
// connection budget is never exceeded.
func (s *OrderStore) ShopOrders(ctx context.Context, shop string, fn func(cvo.Order) error) error {
	return s.StreamOrders(ctx, shop, func(o *cvo.Order) error {
		own := *o
		own.Lines, own.Refunds = slices.Clone(o.Lines), slices.Clone(o.Refunds)
		return fn(own)
	})
}

// StreamOrders is ShopOrders without an allocation per order: fn gets the
// same *cvo.Order every time, its lines and refunds in buffers that are
// reused, so it must copy whatever it keeps. A five-million-order shop
// then costs the garbage collector nothing but the lines' titles.
func (s *OrderStore) StreamOrders(ctx context.Context, shop string, fn func(*cvo.Order) error) error {
	tx, err := s.db.Pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("load orders of %s: %w", shop, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck
	catalogue, err := loadCatalogue(ctx, tx, shop)
	if err != nil {
		return err
	}
	f, err := openCursors(ctx, tx, shop, ordersCursor, linesCursor, refundsCursor)
	if err != nil {
		return fmt.Errorf("load orders of %s: %w", shop, err)
	}
	defer f.stop()
	orders := startCursor(f, ordersCursor.name, scanOrder())
	lines := newLinesCursor(f, linesCursor)
	refunds := newRefundsCursor(f)
	var (
		o         cvo.Order
		lineBuf   []cvo.LineItem
		refundBuf []cvo.Refund
	)
	for {
		// A cancelled read stops at once, not at the end of the chunk.
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("load orders of %s: %w", shop, err)
		}
		row, ok, err := orders.next(ctx)
		if err != nil {
			return fmt.Errorf("load orders of %s: %w", shop, err)
		}
		if !ok {
			return nil
		}
		lineBuf = lineBuf[:0]
		err = lines.rowsOf(ctx, row.id, func(line lineRow) {
			lineBuf = append(lineBuf, catalogue.lineItem(line))
		})
		if err != nil {
			return fmt.Errorf("load order lines of %s: %w", shop, err)
		}
		if refundBuf, err = orderOf(ctx, row, refunds, &o, refundBuf); err != nil {
			return fmt.Errorf("load refunds of %s: %w", shop, err)
		}
		// An order without lines has none (nil), not an empty buffer.
		if len(lineBuf) > 0 {
			o.Lines = lineBuf
		}
		if err := fn(&o); err != nil {
			return err
		}
	}
}

// orderOf sets o to the order row with its refunds, read from refunds
// into refundBuf, which it returns for reuse.
func orderOf(ctx context.Context, row orderRow, refunds *childCursor[refundRow], o *cvo.Order, refundBuf []cvo.Refund) ([]cvo.Refund, error) {
	*o = row.Order
	o.ID = strconv.FormatInt(row.id, 10)
	o.CreatedAt, o.UpdatedAt = o.CreatedAt.UTC(), o.UpdatedAt.UTC()
	if row.customer != 0 {
		o.CustomerID = strconv.FormatInt(row.customer, 10)
	}
	refundBuf, err := refundsOf(ctx, row.id, refunds, refundBuf)
	// An order without refunds has none (nil), not an empty buffer.
	if len(refundBuf) > 0 {
		o.Refunds = refundBuf
	}
	return refundBuf, err
}

// refundsOf reads order id's refunds into buf.
func refundsOf(ctx context.Context, id int64, refunds *childCursor[refundRow], buf []cvo.Refund) ([]cvo.Refund, error) {
	buf = buf[:0]
	err := refunds.rowsOf(ctx, id, func(f refundRow) {
		buf = append(buf, cvo.Refund{CreatedAt: f.at.UTC(), Amount: f.amount})
	})
	return buf, err
}

// idStrings formats ids once each.
type idStrings map[int64]string

func (m idStrings) of(id int64) string {
	s, ok := m[id]
	if !ok {
		s = strconv.FormatInt(id, 10)
		m[id] = s
	}
	return s
}

// reusedRow makes scans that read every row into one row, whose fields'
// addresses (fields) are taken once. pgx's Scan takes them as a variadic
// []any: built for every row, the slice and the row it points into were
// allocated for every row, 1.4 GB of garbage in a million-customer
// rescore's read. The row is returned by value, so a field must not point
// into memory a later row's scan reuses: strings and arrays are safe (pgx
// makes new ones for every row), the driver's bytes are not (scanLine
// turns them into strings before the next row). Each cursor needs a scan
// of its own (its goroutine is the only one that calls it).
func reusedRow[T any](fields func(*T) []any) func() func(pgx.Rows) (T, error) {
	return func() func(pgx.Rows) (T, error) {
		row := new(T)
		dest := fields(row)
		return func(r pgx.Rows) (T, error) {
			err := r.Scan(dest...)
			return *row, err
		}
	}
}

var (
	// An order's discount codes are safe to scan into a reused row: pgx
	// makes a new slice for every array it reads.
	scanOrder = reusedRow(func(o *orderRow) []any {
		return []any{&o.id, &o.customer, &o.CreatedAt, &o.UpdatedAt, &o.Cancelled, &o.Test, &o.Currency, &o.Total,
			&o.SourceName, &o.LandingPage, &o.Referrer, &o.UTMSource, &o.UTMMedium, &o.UTMCampaign, &o.DiscountCodes}
	})
	scanRefund = reusedRow(func(f *refundRow) []any { return []any{&f.order, &f.at, &f.amount} })
)

// scanLine makes scans of lines into one reused row, as reusedRow does,
// with each title read as the driver's bytes and made a string only when
// the cursor has not seen it: a shop sells a few thousand products, and a
// million-customer rescore reads 2.5M lines.
func scanLine() func(pgx.Rows) (lineRow, error) {
	var (
		row   lineRow
		title pgtype.DriverBytes
		texts = newTextInterner()
	)
	dest := []any{&row.order, &row.product, &row.variant, &title, &row.qty, &row.price}
	return func(r pgx.Rows) (lineRow, error) {
		err := r.Scan(dest...)
		// The driver's bytes are valid until the next row: made a string
		// now.
		row.title = texts.of(title)
		return row, err
	}
}

// textInterner gives one string for equal bytes, for a text column with
// few distinct values in many rows. Past maxInterned distinct values (a
// column of mostly unique values) it only makes strings, so that it never
// holds more than a bounded map.
type textInterner struct{ seen map[string]string }

const maxInterned = 1 << 16

func newTextInterner() *textInterner { return &textInterner{seen: map[string]string{}} }

func (t *textInterner) of(b []byte) string {
	if s, ok := t.seen[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(t.seen) < maxInterned {
		t.seen[s] = s
	}
	return s
}

// cursorDef is a cursor over one of a shop's tables, in order id order,
// so that the shop's history can be merged in one pass.
type cursorDef struct{ name, query string }

var (
	ordersCursor = cursorDef{"shop_orders", `SELECT id, COALESCE(customer_id, 0), COALESCE(processed_at, created_at), updated_at, cancelled_at IS NOT NULL,
			test, currency, total::float8, COALESCE(source_name, ''), COALESCE(landing_page, ''), COALESCE(referrer_url, ''),
			COALESCE(utm_source, ''), COALESCE(utm_medium, ''), COALESCE(utm_campaign, ''), discount_codes
			FROM orders WHERE shop = $1 ORDER BY id`}
	linesCursor = cursorDef{"shop_order_lines", `SELECT order_id, COALESCE(product_id, 0), COALESCE(variant_id, 0), title, quantity, unit_price::float8
			FROM order_lines WHERE shop = $1 ORDER BY order_id, id`}
	lineSumsCursor = cursorDef{"shop_order_line_sums", `SELECT order_id, line_revenue, known_cost, covered_revenue
			FROM order_line_sums WHERE shop = $1 ORDER BY order_id`}
	refundsCursor = cursorDef{"shop_refunds", `SELECT order_id, created_at, amount::float8 FROM refunds WHERE shop = $1 ORDER BY order_id, id`}
)

// openCursors declares, in tx, the cursors over a shop's tables and
// returns the fetcher that reads them ahead (startCursor). Call its stop
// before tx runs anything else or ends.
func openCursors(ctx context.Context, tx pgx.Tx, shop string, defs ...cursorDef) (*fetcher, error) {
	// The indexes deliver the order; a sort of millions of rows never pays.
	if _, err := tx.Exec(ctx, `SET LOCAL enable_sort = off`); err != nil {
		return nil, err
	}
	// Each cursor is planned for its whole result, as the plain queries
	// were, so the index scans that deliver the order are kept.
	if _, err := tx.Exec(ctx, `SET LOCAL cursor_tuple_fraction = 1`); err != nil {
		return nil, err
	}
	for _, c := range defs {
		if _, err := tx.Exec(ctx, "DECLARE "+c.name+" NO SCROLL CURSOR FOR "+c.query, shop); err != nil {
			return nil, fmt.Errorf("%s: %w", c.name, err)
		}
	}
	return newFetcher(ctx, tx), nil
}

func newLinesCursor(f *fetcher, def cursorDef) *childCursor[lineRow] {
	return &childCursor[lineRow]{c: startCursor(f, def.name, scanLine()), order: func(l lineRow) int64 { return l.order }}
}

func newRefundsCursor(f *fetcher) *childCursor[refundRow] {
	return &childCursor[refundRow]{c: startCursor(f, refundsCursor.name, scanRefund()), order: func(f refundRow) int64 { return f.order }}
}

// lineItem is a stored line with its product's vendor and type and its
// variant's unit cost.
func (c catalogue) lineItem(line lineRow) cvo.LineItem {
	l := cvo.LineItem{Title: line.title, Quantity: int(line.qty), UnitPrice: line.price}
	if line.product != 0 {
		l.ProductID = c.productIDs.of(line.product)
		if p, ok := c.products[line.product]; ok {
			l.Vendor, l.ProductType = p.vendor, p.productType
		}
	}
	if line.variant != 0 {
		l.VariantID = c.variantIDs.of(line.variant)
		if v, ok := c.variants[line.variant]; ok {
			l.UnitCost, l.CostKnown = v.cost, v.known
		}
	}
	return l
}

// orderRow is an order as its cursor reads it; 0 stands for a missing
// customer, product or variant, as the importer stores those as NULL.
type orderRow struct {
	cvo.Order
	id, customer int64
}

type lineRow struct {
	order, product, variant int64
	title                   string
	qty                     int32
	price                   float64
}

type refundRow struct {
	order  int64
	at     time.Time
	amount float64
}

// fetchChunk is how many rows one FETCH brings: each FETCH is a round
// trip, so chunks are large; a few chunks of each cursor stay a few
// megabytes.
const fetchChunk = 10000

// fetcher reads a transaction's cursors ahead of their reader, each in a
// goroutine of its own, so that PostgreSQL's work and the decoding of
// rows run on one core while the reader builds on another. Only one query
// runs on a connection at once: the FETCHes take turns.
type fetcher struct {
	tx  pgx.Tx
	ctx context.Context // the caller's: a FETCH is never cut short by stop
	// done tells the goroutines to fetch no more. stop does not cancel a
	// FETCH in flight, whose cancellation would close the connection
	// instead of returning it to the pool; it waits for it.
	done chan struct{}
	wg   sync.WaitGroup

	turn sync.Mutex
	err  error // the first FETCH that failed: its siblings only report it
}

func newFetcher(ctx context.Context, tx pgx.Tx) *fetcher {
	return &fetcher{tx: tx, ctx: ctx, done: make(chan struct{})}
}

// stop ends the reading ahead and waits for it (at most one FETCH), so
// that the transaction is free for its end.
func (f *fetcher) stop() {
	close(f.done)
	f.wg.Wait()
}

// chunk is one FETCH's rows, or what went wrong.
type chunk[T any] struct {
	rows []T
	err  error
}

// chunkCursor reads a declared cursor a chunk at a time, the next chunk
// fetched while the reader reads this one.
type chunkCursor[T any] struct {
	ready chan chunk[T] // the chunk fetched ahead
	free  chan []T      // chunks read, for the fetching to reuse
	buf   []T
	i     int
	done  bool
}

// startCursor starts fetching the cursor name ahead of its reader: one
// chunk waits to be read while another is read, and a third may be
// fetched, so three chunks of each cursor at most are held.
func startCursor[T any](f *fetcher, name string, scan func(pgx.Rows) (T, error)) *chunkCursor[T] {
	c := &chunkCursor[T]{ready: make(chan chunk[T], 1), free: make(chan []T, 2)}
	// A FETCH's result is described by its cursor, which is new in every
	// transaction: the statement is described afresh each time rather
	// than cached on the connection.
	query := "FETCH " + strconv.Itoa(fetchChunk) + " FROM " + name
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		// A new chunk after the first is made as large as the largest
		// so far: grown by appending, each left twice its size of garbage
		// behind (36 MB over a million-customer rescore's read). The
		// first grows as its rows come, so that a small shop's chunks
		// stay the size of its rows, not of a full FETCH.
		largest := 0
		for {
			var buf []T
			select {
			case <-f.done:
				return
			case buf = <-c.free:
			default:
				buf = make([]T, 0, largest)
			}
			rows, err := fetchRows(f, query, scan, buf[:0])
			largest = max(largest, len(rows))
			select {
			case c.ready <- chunk[T]{rows: rows, err: err}:
			case <-f.done:
				return
			}
			if err != nil || len(rows) < fetchChunk {
				return
			}
		}
	}()
	return c
}

// fetchRows runs one FETCH, in its turn, and scans its rows into buf.
// After a FETCH failed, the transaction is aborted: the others report
// that first error rather than the abort.
func fetchRows[T any](f *fetcher, query string, scan func(pgx.Rows) (T, error), buf []T) ([]T, error) {
	f.turn.Lock()
	defer f.turn.Unlock()
	if f.err != nil {
		return buf, f.err
	}
	select {
	case <-f.done: // stopped while waiting for the turn: nobody reads on
		return buf, errFetchStopped
	default:
	}
	buf, err := scanFetch(f, query, scan, buf)
	if err != nil {
		f.err = err
	}
	return buf, err
}

var errFetchStopped = errors.New("reading ahead stopped")

func scanFetch[T any](f *fetcher, query string, scan func(pgx.Rows) (T, error), buf []T) ([]T, error) {
	rows, err := f.tx.Query(f.ctx, query, pgx.QueryExecModeDescribeExec)
	if err != nil {
		return buf, err
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scan(rows)
		if err != nil {
			return buf, err
		}
		buf = append(buf, r)
	}
	return buf, rows.Err()
}

// next returns the cursor's next row; ok is false at its end.
func (c *chunkCursor[T]) next(ctx context.Context) (row T, ok bool, err error) {
	if c.i == len(c.buf) {
		if c.done {
			return row, false, nil
		}
		// A cancelled read says so, rather than the FETCH it broke.
		if err := ctx.Err(); err != nil {
			return row, false, err
		}
		if c.buf != nil {
			select {
			case c.free <- c.buf:
			default:
			}
			c.buf, c.i = nil, 0
		}
		var ch chunk[T]
		select {
		case ch = <-c.ready:
		case <-ctx.Done():
			return row, false, ctx.Err()
		}
		if ch.err != nil {
			c.done = true
			if err := ctx.Err(); err != nil {
				return row, false, err
			}
			return row, false, ch.err
		}
		c.buf, c.i = ch.rows, 0
		c.done = len(c.buf) < fetchChunk
		if len(c.buf) == 0 {
			return row, false, nil
		}
	}
	c.i++
	return c.buf[c.i-1], true, nil
}

// childCursor walks rows ordered by order id alongside the orders.
type childCursor[T any] struct {
	c       *chunkCursor[T]
	order   func(T) int64
	row     T    // the row read last
	pending bool // that row is not consumed yet
	done    bool
}

// rowsOf calls use for each row of order id. Rows of orders before id
// (whose order is gone, or a refund that came before its order) are
// skipped; the first row of a later order is kept for its turn.
func (c *childCursor[T]) rowsOf(ctx context.Context, id int64, use func(T)) error {
	for {
		if !c.pending {
			if c.done {
				return nil
			}
			row, ok, err := c.c.next(ctx)
			if err != nil {
				return err
			}
			if !ok {
				c.done = true
				return nil
			}
			c.row, c.pending = row, true
		}
		switch order := c.order(c.row); {
		case order > id:
			return nil
		case order == id:
			use(c.row)
		}
		c.pending = false
	}
}

type catalogue struct {
	products map[int64]productInfo
	variants map[int64]variantInfo
	// The ids as strings, formatted once each: a catalogue has thousands,
	// its lines millions.
	productIDs, variantIDs idStrings
}

type productInfo struct{ vendor, productType string }

type variantInfo struct {
	cost  float64
	known bool
}

func loadCatalogue(ctx context.Context, q pgxQuerier, shop string) (catalogue, error) {
	c := catalogue{products: map[int64]productInfo{}, variants: map[int64]variantInfo{}, productIDs: idStrings{}, variantIDs: idStrings{}}
	rows, err := q.Query(ctx, `SELECT id, vendor, product_type FROM products WHERE shop = $1`, shop)
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
	rows, err = q.Query(ctx, `SELECT id, unit_cost::float8 FROM variants WHERE shop = $1`, shop)
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

// MaxCustomerOrders bounds the orders CustomerOrders returns: a wholesale
// account with thousands of orders still answers a page quickly.
const MaxCustomerOrders = 500

// CustomerOrders returns a customer's newest orders (at most
// MaxCustomerOrders), with their refunds but not their lines: enough to
// tell which count as purchases and what they were worth. It uses the
// orders_customer index and is scoped by shop like every query.
func (s *OrderStore) CustomerOrders(ctx context.Context, shop string, customerID int64) ([]cvo.Order, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT o.id, COALESCE(o.processed_at, o.created_at), o.updated_at, o.cancelled_at IS NOT NULL,
			o.test, o.currency, o.total::float8, o.discount_codes,
			COALESCE((SELECT array_agg(r.created_at ORDER BY r.id) FROM refunds r WHERE r.shop = o.shop AND r.order_id = o.id), '{}'),
			COALESCE((SELECT array_agg(r.amount::float8 ORDER BY r.id) FROM refunds r WHERE r.shop = o.shop AND r.order_id = o.id), '{}')
		FROM orders o WHERE o.shop = $1 AND o.customer_id = $2
		ORDER BY COALESCE(o.processed_at, o.created_at) DESC, o.id DESC LIMIT $3`, shop, customerID, MaxCustomerOrders)
	if err != nil {
		return nil, fmt.Errorf("read orders of a customer of %s: %w", shop, err)
	}
	defer rows.Close()
	var out []cvo.Order
	for rows.Next() {
		var (
			o       cvo.Order
			id      int64
			at      []time.Time
			amounts []float64
		)
		if err := rows.Scan(&id, &o.CreatedAt, &o.UpdatedAt, &o.Cancelled, &o.Test, &o.Currency, &o.Total, &o.DiscountCodes,
			&at, &amounts); err != nil {
			return nil, fmt.Errorf("read orders of a customer of %s: %w", shop, err)
		}
		o.ID, o.CustomerID = strconv.FormatInt(id, 10), strconv.FormatInt(customerID, 10)
		o.CreatedAt, o.UpdatedAt = o.CreatedAt.UTC(), o.UpdatedAt.UTC()
		for i := range min(len(at), len(amounts)) {
			o.Refunds = append(o.Refunds, cvo.Refund{CreatedAt: at[i].UTC(), Amount: amounts[i]})
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read orders of a customer of %s: %w", shop, err)
	}
	return out, nil
}
