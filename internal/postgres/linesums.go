package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"golang.org/x/sync/errgroup"

	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/ledger"
)

// order_line_sums keeps, for every order with lines, the sums the scoring
// makes of them (see migrations/00016_order_line_sums.sql). Every change
// to an order's lines or to a variant's cost rewrites the sums it touches
// in the same transaction, from the view order_line_totals, the SQL
// definition of the sums (ledger's lineCost is the Go one, equal to the
// last bit): a reader in any snapshot finds them agreeing with the lines.
//
// Whatever writes order_lines or variants must do the same: a missing row
// reads as an order without lines, and nothing else would tell. The
// writers are order webhooks (replaceLines), the orders merge's lines
// group and the products merge's variants group (stage.go). The variants
// group re-sums orders by reading their lines, so it runs alone under the
// shop's data lock: beside an orders merge's lines group it could miss
// lines not yet committed, which that group would have summed at the old
// cost.

// insertLineSums computes the sums of a shop's orders from their lines;
// the caller appends which orders (" AND order_id = ANY(...)"), or none
// for all of the shop's.
const insertLineSums = `INSERT INTO order_line_sums (shop, order_id, line_revenue, known_cost, covered_revenue)
	SELECT shop, order_id, line_revenue, known_cost, covered_revenue FROM order_line_totals WHERE shop = $1`

// refreshLineSums rewrites the sums of orders whose lines changed in tx.
func refreshLineSums(ctx context.Context, tx pgx.Tx, shop string, orders []int64) error {
	if _, err := tx.Exec(ctx, `DELETE FROM order_line_sums WHERE shop = $1 AND order_id = ANY($2)`, shop, orders); err != nil {
		return fmt.Errorf("order line sums: %w", err)
	}
	if _, err := tx.Exec(ctx, insertLineSums+` AND order_id = ANY($2)`, shop, orders); err != nil {
		return fmt.Errorf("order line sums: %w", err)
	}
	return nil
}

// ReadSummedOrders fills a ledger with a shop's orders as StreamOrders
// reads them, but narrower: it reads the orders without their
// attribution, their refunds and their lines' sums, then the attribution,
// discount codes and lines of only the orders the builder still wants
// (first purchases, and orders whose lines could not be summed). A shop
// of 5M orders then reads 5M narrow orders, 5M sums, and the details of
// its 1M first purchases with their 2.5M lines, instead of 5M wide orders
// and 12.7M lines. Everything is read in one repeatable-read snapshot, as
// StreamOrders reads in one transaction, so that the orders, sums, lines
// and catalogue agree; the snapshot is read on two connections.
func (s *OrderStore) ReadSummedOrders(ctx context.Context, shop string, into *ledger.Builder) error {
	// Not read-only: the orders wanted go into a temporary table, which
	// the rollback that always ends this transaction drops.
	tx, err := s.db.Pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead})
	if err != nil {
		return fmt.Errorf("load orders of %s: %w", shop, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck
	side, err := s.db.sharedSnapshot(ctx, tx)
	if err != nil {
		return fmt.Errorf("load orders of %s: %w", shop, err)
	}
	defer side.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck
	// Each transaction keeps the locks it took while this process waits
	// for the other: if a third session (a migration) held a table one of
	// them wants and waited for a table the other holds, PostgreSQL would
	// see no cycle, and all three would wait for good. A lock wait is cut
	// short instead, and the rescore fails and is retried.
	for _, t := range []pgx.Tx{tx, side} {
		if _, err := t.Exec(ctx, "SET LOCAL lock_timeout = "+strconv.FormatInt(readLockTimeout.Milliseconds(), 10)); err != nil {
			return fmt.Errorf("load orders of %s: %w", shop, err)
		}
	}
	catalogue, err := loadCatalogue(ctx, tx, shop)
	if err != nil {
		return err
	}
	if err := readSummed(ctx, tx, side, shop, into); err != nil {
		return fmt.Errorf("load orders of %s: %w", shop, err)
	}
	if err := readWanted(ctx, tx, side, shop, catalogue, into); err != nil {
		return fmt.Errorf("load first orders of %s: %w", shop, err)
	}
	return nil
}

// readLockTimeout bounds each lock wait of ReadSummedOrders' two
// transactions; a variable so that tests can shorten it.
var readLockTimeout = 10 * time.Second

// sharedSnapshot begins a transaction on another connection of the pool
// that sees exactly what tx sees (tx is repeatable read), so that two
// connections can read one consistent history side by side: each runs one
// query at a time, so on one connection the server's work and the
// decoding of one cursor's rows waited for the other's (the 1M-customer
// bench shop's loader took 19.8-21.1 s on one connection, 13.8-16.7 s on
// two). Like tx, it is not read-only, for its own temporary table, and is
// always rolled back. It counts against its job's connection budget:
// RescoreConns includes it.
func (db *DB) sharedSnapshot(ctx context.Context, tx pgx.Tx) (pgx.Tx, error) {
	var snapshot string
	if err := tx.QueryRow(ctx, `SELECT pg_export_snapshot()`).Scan(&snapshot); err != nil {
		return nil, fmt.Errorf("export snapshot: %w", err)
	}
	// SET TRANSACTION SNAPSHOT takes no parameter; the identifier is
	// PostgreSQL's own, hex digits and dashes, checked all the same.
	if snapshot == "" || strings.Trim(snapshot, "0123456789ABCDEFabcdef-") != "" {
		return nil, fmt.Errorf("export snapshot: unexpected identifier %q", snapshot)
	}
	side, err := db.Pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead})
	if err != nil {
		return nil, fmt.Errorf("begin a second reader: %w", err)
	}
	if _, err := side.Exec(ctx, "SET TRANSACTION SNAPSHOT '"+snapshot+"'"); err != nil {
		_ = side.Rollback(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("import snapshot: %w", err)
	}
	return side, nil
}

// readSummed adds every order of the shop with its refunds and line sums:
// the orders from tx, their sums and refunds from side, in the same
// snapshot.
func readSummed(ctx context.Context, tx, side pgx.Tx, shop string, into *ledger.Builder) error {
	f, err := openCursors(ctx, tx, shop, summedOrdersCursor)
	if err != nil {
		return err
	}
	defer f.stop()
	g, err := openCursors(ctx, side, shop, lineSumsCursor, refundsCursor)
	if err != nil {
		return err
	}
	defer g.stop()
	orders := startCursor(f, summedOrdersCursor.name, scanSummedOrder())
	sums := &childCursor[lineSumsRow]{c: startCursor(g, lineSumsCursor.name, scanLineSums()), order: func(r lineSumsRow) int64 { return r.order }}
	refunds := newRefundsCursor(g)
	var (
		o         cvo.Order
		refundBuf []cvo.Refund
	)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		row, ok, err := orders.next(ctx)
		if err != nil || !ok {
			return err
		}
		sum := ledger.Summary{Key: row.id, Customer: row.customer, Discounted: row.discounted} // customer 0: none
		err = sums.rowsOf(ctx, row.id, func(r lineSumsRow) {
			sum.Lines = true
			if r.revenue.Valid && r.cost.Valid && r.covered.Valid {
				sum.Summed = true
				sum.Cost = ledger.Cost{Cost: r.cost.Float64, Covered: r.covered.Float64, LineRevenue: r.revenue.Float64}
			}
		})
		if err != nil {
			return err
		}
		o = cvo.Order{CreatedAt: row.at.UTC(), Total: row.total, Cancelled: row.cancelled, Test: row.test}
		if refundBuf, err = refundsOf(ctx, row.id, refunds, refundBuf); err != nil {
			return err
		}
		o.Refunds = refundBuf
		into.AddSummed(&o, sum)
	}
}

// readWanted gives the builder the attribution, codes and lines of the
// orders it still wants: about one a customer (a fifth of the orders on
// the generated shops), spread over all of them. Looked up one by one,
// their lines took 9.3 s at 1M customers (1M orders, 2.5M lines); merged
// with the lines' index from a table of their ids, 4.1-5.0 s. The orders
// come from tx and their lines from side, each merged with a table of the
// ids of its own: the server spends about 1.6 s on those orders and 3.7 s
// on those lines, which on one connection followed each other.
func readWanted(ctx context.Context, tx, side pgx.Tx, shop string, catalogue catalogue, into *ledger.Builder) error {
	wanted := into.Wanted()
	if len(wanted) == 0 {
		return nil
	}
	var tables errgroup.Group
	tables.Go(func() error { return wantedTable(ctx, tx, wanted) })
	tables.Go(func() error { return wantedTable(ctx, side, wanted) })
	if err := tables.Wait(); err != nil {
		return err
	}
	f, err := openCursors(ctx, tx, shop, wantedOrdersCursor)
	if err != nil {
		return err
	}
	defer f.stop()
	g, err := openCursors(ctx, side, shop, wantedLinesCursor)
	if err != nil {
		return err
	}
	defer g.stop()
	orders := startCursor(f, wantedOrdersCursor.name, scanDetail())
	lines := newLinesCursor(g, wantedLinesCursor)
	var lineBuf []cvo.LineItem
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		row, ok, err := orders.next(ctx)
		if err != nil || !ok {
			return err
		}
		lineBuf = lineBuf[:0]
		err = lines.rowsOf(ctx, row.id, func(line lineRow) {
			lineBuf = append(lineBuf, catalogue.lineItem(line))
		})
		if err != nil {
			return err
		}
		row.Lines = lineBuf
		into.AddDetail(row.id, &row.Order)
	}
}

// wantedTable puts the ids of the orders wanted into a temporary table
// of tx's session, which tx's end drops.
func wantedTable(ctx context.Context, tx pgx.Tx, wanted []int64) error {
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE wanted_orders (id bigint PRIMARY KEY) ON COMMIT DROP`); err != nil {
		return err
	}
	// One row reused, holding a pgtype value that pgx encodes through
	// its pointer without a copy (a *int64 is copied to the heap as it is
	// encoded): a row of its own with the id boxed made 45 MB of garbage
	// for the two tables of a million-customer rescore, at the read's
	// peak.
	var id pgtype.Int8
	row := []any{&id}
	i := 0
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"wanted_orders"}, []string{"id"}, pgx.CopyFromFunc(func() ([]any, error) {
		if i == len(wanted) {
			return nil, nil
		}
		id = pgtype.Int8{Int64: wanted[i], Valid: true}
		i++
		return row, nil
	}))
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `ANALYZE wanted_orders`)
	return err
}

// The orders as readSummed reads them: without the attribution, which
// only the wanted orders' details read (wantedOrdersCursor).
var summedOrdersCursor = cursorDef{"shop_summed_orders", `SELECT id, COALESCE(customer_id, 0), COALESCE(processed_at, created_at),
		cancelled_at IS NOT NULL, test, total::float8, cardinality(discount_codes) > 0
		FROM orders WHERE shop = $1 ORDER BY id`}

type summedOrderRow struct {
	id, customer                int64
	at                          time.Time
	cancelled, test, discounted bool
	total                       float64
}

// scanDetail makes scans of wanted orders into one reused row, as reusedRow
// does, their attribution interned as scanLine interns titles: a shop has
// a few sources and campaigns, and a million first purchases.
func scanDetail() func(pgx.Rows) (orderRow, error) {
	var (
		row                                orderRow
		sourceName, utmSource, utmCampaign pgtype.DriverBytes
		texts                              = newTextInterner()
	)
	dest := []any{&row.id, &sourceName, &utmSource, &utmCampaign, &row.DiscountCodes}
	return func(r pgx.Rows) (orderRow, error) {
		err := r.Scan(dest...)
		row.SourceName, row.UTMSource, row.UTMCampaign = texts.of(sourceName), texts.of(utmSource), texts.of(utmCampaign)
		return row, err
	}
}

var scanSummedOrder = reusedRow(func(o *summedOrderRow) []any {
	return []any{&o.id, &o.customer, &o.at, &o.cancelled, &o.test, &o.total, &o.discounted}
})

// The wanted orders (readWanted) with what AddDetail reads of them besides
// their lines (the attribution it keeps, and the codes), and their lines.
// Their landing pages, referrers and currencies, read as ordersCursor
// reads them, were a million strings of garbage in a million-customer
// rescore, and long ones.
var (
	wantedOrdersCursor = cursorDef{"shop_wanted_orders", `SELECT id, COALESCE(source_name, ''), COALESCE(utm_source, ''),
		COALESCE(utm_campaign, ''), discount_codes FROM orders JOIN wanted_orders w USING (id) WHERE shop = $1 ORDER BY id`}

	wantedLinesCursor = cursorDef{"shop_wanted_lines", `SELECT l.order_id, COALESCE(l.product_id, 0), COALESCE(l.variant_id, 0), l.title, l.quantity,
		l.unit_price::float8 FROM order_lines l JOIN wanted_orders w ON w.id = l.order_id WHERE l.shop = $1 ORDER BY l.order_id, l.id`}
)

type lineSumsRow struct {
	order                  int64
	revenue, cost, covered pgtype.Float8
}

var scanLineSums = reusedRow(func(s *lineSumsRow) []any { return []any{&s.order, &s.revenue, &s.cost, &s.covered} })
