package postgres_test

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/ledger"
	"github.com/cvo-app/cvo/internal/postgres"
	"github.com/cvo-app/cvo/internal/postgres/pgtest"
)

// TestLineSumsFollowEveryWrite holds the stored line sums equal to their
// lines and costs after every way those change: a first import of
// products and orders, order webhooks that change, add and remove lines,
// a second products import that changes, adds and removes costs, and a
// second orders import that replaces lines. After each, the ledger read
// with the sums equals the ledger read with every line.
func TestLineSumsFollowEveryWrite(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	const shop = "sums.myshopify.com"
	syncs := postgres.NewSyncStore(db)
	orders := postgres.NewOrderStore(db)
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	run := int64(0)
	merge := func(r postgres.Resource, rows []postgres.StageRow) {
		t.Helper()
		run++
		stage := syncs.Stage(shop, run, r)
		require.NoError(t, stage.Reset(ctx))
		_, err := stage.Copy(ctx, &rowSource{rows: rows})
		require.NoError(t, err)
		_, err = syncs.Merge(ctx, stage, postgres.SyncState{Shop: shop, RunID: run, Mode: postgres.ModeFull, Phase: postgres.PhaseExporting,
			StartedAt: at.Add(time.Duration(run) * time.Hour)})
		require.NoError(t, err)
		require.NoError(t, stage.Drop(ctx))
	}
	// Products 1-3, each with variants p*10+1 and p*10+2; variant 32 has
	// no cost.
	catalogue := func(costs map[int64]string, updated time.Time) []postgres.StageRow {
		var rows []postgres.StageRow
		for p := int64(1); p <= 3; p++ {
			rows = append(rows, postgres.StageRow{Product: &postgres.ProductRow{ID: p, Title: fmt.Sprint("P", p), UpdatedAt: updated}})
			for v := p*10 + 1; v <= p*10+2; v++ {
				if cost, ok := costs[v]; ok {
					rows = append(rows, postgres.StageRow{Variant: &postgres.VariantRow{ProductID: p, ID: v, UnitCost: cost}})
				}
			}
		}
		return rows
	}
	order := func(id, customer int64, updated time.Time) *postgres.OrderRow {
		return &postgres.OrderRow{ID: id, CustomerID: customer, Name: "#", CreatedAt: at.Add(time.Duration(id) * time.Minute), UpdatedAt: updated,
			Currency: "EUR", Total: "30", DiscountCodes: []string{}}
	}
	line := func(order, id, variant int64, qty int32, price string) postgres.LineRow {
		return postgres.LineRow{OrderID: order, ID: id, ProductID: variant / 10, VariantID: variant, Title: fmt.Sprint("line ", id), Quantity: qty, UnitPrice: price}
	}
	check := func(step string) {
		t.Helper()
		pgtest.LineSumsAgree(t, db, shop)
		want := ledger.NewBuilder(0)
		require.NoError(t, orders.StreamOrders(ctx, shop, func(o *cvo.Order) error { want.Add(o); return nil }))
		got := ledger.NewBuilder(0)
		require.NoError(t, orders.ReadSummedOrders(ctx, shop, got))
		requireSameLedger(t, want.Ledger(), got.Ledger(), step)
	}

	merge(postgres.ResourceProducts, catalogue(map[int64]string{11: "2.5", 12: "4", 21: "0.3333", 22: "7", 31: "1.1", 32: ""}, at))
	var rows []postgres.StageRow
	for id := int64(1); id <= 40; id++ {
		rows = append(rows, postgres.StageRow{Order: order(id, 1+id%6, at)})
		for k := range id % 4 { // orders 4, 8, ... have no lines
			l := line(id, id*10+k, []int64{11, 12, 21, 22, 31, 32, 99}[(id+k)%7], int32(1+k), fmt.Sprintf("%d.%02d", 3+id%5, id%100))
			if id == 7 && k == 0 {
				l.UnitPrice = "NaN" // numeric allows it: these sums are left to the loader
			}
			rows = append(rows, postgres.StageRow{Line: &l})
		}
	}
	rows = append(rows, postgres.StageRow{Refund: &postgres.RefundRow{OrderID: 3, ID: 1, CreatedAt: at.Add(time.Hour), Amount: "30"}})
	merge(postgres.ResourceOrders, rows)
	var summed, unsummed int
	require.NoError(t, db.Pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE line_revenue IS NOT NULL), count(*) FILTER (WHERE line_revenue IS NULL)
		FROM order_line_sums WHERE shop = $1`, shop).Scan(&summed, &unsummed))
	assert.Equal(t, []int{29, 1}, []int{summed, unsummed}, "every order with lines has its sums, the one with a NaN price none")
	check("first import")

	later := at.Add(24 * time.Hour)
	// Order 5's lines change, order 9 loses its lines, order 41 is new.
	_, err := orders.Upsert(ctx, shop, *order(5, 2, later), []postgres.LineRow{line(5, 50, 12, 3, "9.99"), line(5, 59, 31, 1, "1")}, nil)
	require.NoError(t, err)
	_, err = orders.Upsert(ctx, shop, *order(9, 2, later), nil, nil)
	require.NoError(t, err)
	_, err = orders.Upsert(ctx, shop, *order(41, 3, later), []postgres.LineRow{line(41, 410, 22, 2, "5")}, nil)
	require.NoError(t, err)
	// A free item returned: 0 × -1 is -0, which Go's sum, starting from
	// +0, turns into +0.
	_, err = orders.Upsert(ctx, shop, *order(42, 4, later), []postgres.LineRow{line(42, 420, 11, -1, "0")}, nil)
	require.NoError(t, err)
	check("webhooks")

	var before float64
	require.NoError(t, db.Pool.QueryRow(ctx, `SELECT known_cost FROM order_line_sums WHERE shop = $1 AND order_id = 41`, shop).Scan(&before))
	// Variant 22 costs more, 32 gets a cost, 12 loses its cost and 31
	// leaves the catalogue.
	merge(postgres.ResourceProducts, catalogue(map[int64]string{11: "2.5", 12: "", 21: "0.3333", 22: "8", 32: "3"}, later))
	var after float64
	require.NoError(t, db.Pool.QueryRow(ctx, `SELECT known_cost FROM order_line_sums WHERE shop = $1 AND order_id = 41`, shop).Scan(&after))
	assert.Equal(t, []float64{14, 16}, []float64{before, after}, "a new cost reaches the sums")
	check("costs changed")

	// A second import replaces order 10's lines and drops order 11's.
	l1, l2 := line(10, 101, 21, 4, "2.25"), line(10, 105, 11, 1, "8")
	merge(postgres.ResourceOrders, []postgres.StageRow{{Order: order(10, 4, later.Add(time.Hour))}, {Line: &l1}, {Line: &l2},
		{Order: order(11, 5, later.Add(time.Hour))}})
	check("second import")
}

// requireSameLedger holds two ledgers of the same orders equal in every
// order's time, total, customer, refunds, costs and first-purchase detail
// (lines compared by value: two ledgers may number them differently).
func requireSameLedger(t *testing.T, want, got *ledger.Ledger, step string) {
	t.Helper()
	require.Equal(t, want.Len(), got.Len(), step)
	require.Equal(t, want.Fixed(), got.Fixed(), step)
	require.Equal(t, want.Latest(), got.Latest(), step)
	for j := range want.Orders() {
		w, g := &want.Orders()[j], &got.Orders()[j]
		require.Equal(t, want.Created(w), got.Created(g), "%s: order %d", step, j)
		require.Equal(t, w.Total, g.Total, "%s: order %d", step, j)
		require.Equal(t, want.CustomerID(w.Customer), got.CustomerID(g.Customer), "%s: order %d", step, j)
		require.Equal(t, want.Refunds(w), got.Refunds(g), "%s: order %d", step, j)
		// Bit for bit: a sum of zeros is +0 in Go and must be in SQL too.
		c1, c2, c3 := want.KnownCost(w)
		k1, k2, k3 := got.KnownCost(g)
		require.Equal(t, [3]uint64{math.Float64bits(c1), math.Float64bits(c2), math.Float64bits(c3)},
			[3]uint64{math.Float64bits(k1), math.Float64bits(k2), math.Float64bits(k3)}, "%s: order %d: %v against %v", step, j,
			[3]float64{c1, c2, c3}, [3]float64{k1, k2, k3})
		wd, wok := want.Detail(w)
		gd, gok := got.Detail(g)
		require.Equal(t, wok, gok, "%s: order %d", step, j)
		if !wok {
			continue
		}
		require.Equal(t, [4]string{wd.SourceName, wd.UTMSource, wd.UTMCampaign, wd.Acquisition},
			[4]string{gd.SourceName, gd.UTMSource, gd.UTMCampaign, gd.Acquisition}, "%s: order %d", step, j)
		require.Equal(t, wd.DiscountCodes, gd.DiscountCodes, "%s: order %d", step, j)
		require.Len(t, gd.Lines, len(wd.Lines), "%s: order %d", step, j)
		for k := range wd.Lines {
			require.Equal(t, *want.Line(wd.Lines[k]), *got.Line(gd.Lines[k]), "%s: order %d line %d", step, j, k)
		}
	}
}

// TestLineSumsMigrationSumsTheLinesStored: a database whose orders had
// lines before the sums existed gets them from the migration.
func TestLineSumsMigrationSumsTheLinesStored(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	_, err := db.Pool.Exec(ctx, `DELETE FROM goose_db_version WHERE version_id = 16; DROP TABLE order_line_sums; DROP VIEW order_line_totals`)
	require.NoError(t, err)
	_, err = db.Pool.Exec(ctx, `INSERT INTO variants (shop, id, product_id, unit_cost) VALUES ('m.myshopify.com', 1, 1, 2.5);
		INSERT INTO order_lines (shop, order_id, id, variant_id, title, quantity, unit_price)
		SELECT 'm.myshopify.com', i / 3, i, NULLIF(i % 2, 0), 'x', i % 4, i * 1.25 FROM generate_series(1, 300) i`)
	require.NoError(t, err)
	require.NoError(t, db.Migrate(ctx))
	var orders int
	require.NoError(t, db.Pool.QueryRow(ctx, `SELECT count(*) FROM order_line_sums WHERE shop = 'm.myshopify.com' AND known_cost > 0`).Scan(&orders))
	assert.Equal(t, 100, orders, "the orders with a costed line")
	pgtest.LineSumsAgree(t, db, "m.myshopify.com")
}

// TestCostsMergeWaitsForALinesMerge: the products merge's variants group
// re-sums orders by reading their lines, so it must not run beside an
// orders merge's lines group (which holds the shop's data lock shared):
// it would miss lines not yet committed, summed there at the old cost.
func TestCostsMergeWaitsForALinesMerge(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	const shop = "alone.myshopify.com"
	syncs := postgres.NewSyncStore(db)
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	stage := syncs.Stage(shop, 1, postgres.ResourceProducts)
	require.NoError(t, stage.Reset(ctx))
	_, err := stage.Copy(ctx, &rowSource{rows: []postgres.StageRow{
		{Product: &postgres.ProductRow{ID: 1, Title: "P", UpdatedAt: at}},
		{Variant: &postgres.VariantRow{ProductID: 1, ID: 11, UnitCost: "2"}},
	}})
	require.NoError(t, err)

	lines, err := db.Pool.Begin(ctx)
	require.NoError(t, err)
	defer lines.Rollback(ctx) //nolint:errcheck
	require.NoError(t, postgres.LockShopData(ctx, lines, shop, true))
	merged := make(chan error, 1)
	go func() {
		_, err := syncs.Merge(ctx, stage, postgres.SyncState{Shop: shop, RunID: 1, Mode: postgres.ModeFull, Phase: postgres.PhaseExporting, StartedAt: at})
		merged <- err
	}()
	select {
	case err := <-merged:
		t.Fatalf("the costs merge ran beside a lines merge (err %v)", err)
	case <-time.After(time.Second):
	}
	require.NoError(t, lines.Commit(ctx))
	require.NoError(t, <-merged)
}

// TestSecondReaderSeesTheFirstReadersSnapshot holds the two connections
// the rescore reads its history on to one snapshot: orders written after
// the first reader's snapshot are seen by neither, even though the second
// reader begins after they were committed.
func TestSecondReaderSeesTheFirstReadersSnapshot(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	const shop = "snapshot.myshopify.com"
	insert := func(id int64) {
		t.Helper()
		_, err := db.Pool.Exec(ctx, `INSERT INTO orders (shop, id, name, created_at, updated_at, currency, total, discount_codes)
			VALUES ($1, $2, '#', now(), now(), 'EUR', 1, '{}')`, shop, id)
		require.NoError(t, err)
	}
	count := func(q interface {
		QueryRow(context.Context, string, ...any) pgx.Row
	}) int {
		t.Helper()
		var n int
		require.NoError(t, q.QueryRow(ctx, `SELECT count(*) FROM orders WHERE shop = $1`, shop).Scan(&n))
		return n
	}
	insert(1)
	tx, err := db.Pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead})
	require.NoError(t, err)
	defer tx.Rollback(ctx) //nolint:errcheck
	require.Equal(t, 1, count(tx))
	insert(2)
	side, err := postgres.SharedSnapshot(db, ctx, tx)
	require.NoError(t, err)
	defer side.Rollback(ctx) //nolint:errcheck
	insert(3)
	assert.Equal(t, 1, count(side), "the second reader sees the first reader's snapshot")
	assert.Equal(t, 1, count(tx))
	assert.Equal(t, 3, count(db.Pool))
}

// TestHistoryReadGivesUpOnALockHeldElsewhere: the rescore's two readers
// hold their locks while the process waits for the other, a wait
// PostgreSQL cannot see. A table locked by another session (a migration)
// must end the read with the lock's error, not hold it until the job's
// own timeout.
func TestHistoryReadGivesUpOnALockHeldElsewhere(t *testing.T) {
	postgres.SetReadLockTimeout(t, 300*time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db := pgtest.New(t)
	const shop = "locked.myshopify.com"
	_, err := db.Pool.Exec(ctx, `INSERT INTO orders (shop, id, name, created_at, updated_at, currency, total, discount_codes)
		VALUES ($1, 1, '#', now(), now(), 'EUR', 1, '{}')`, shop)
	require.NoError(t, err)
	for _, table := range []string{"order_line_sums", "refunds", "orders"} {
		t.Run(table, func(t *testing.T) {
			migration, err := db.Pool.Begin(ctx)
			require.NoError(t, err)
			defer migration.Rollback(ctx) //nolint:errcheck
			_, err = migration.Exec(ctx, "LOCK TABLE "+table+" IN ACCESS EXCLUSIVE MODE")
			require.NoError(t, err)
			err = postgres.NewOrderStore(db).ReadSummedOrders(ctx, shop, ledger.NewBuilder(0))
			var pgErr *pgconn.PgError
			require.ErrorAs(t, err, &pgErr)
			assert.Equal(t, "55P03", pgErr.Code, "lock_not_available")
		})
	}
}

// TestImportSumsLinesWithAHashJoin: an import's line sums join every line
// of the shop to its variants before the planner has statistics on
// either. Left to guess, it joined each line against all of the shop's
// variants, a cost of lines times variants (stopped after 16 minutes for
// 48M lines and 2,786 variants); the merges ask for a hash join, one probe
// a line, and only for those statements. Each statement is explained as
// the merge ran it, in its transaction: a first import of products and
// orders, then a second of each (the sums of the orders it replaces, and
// of the orders whose costs it changes). An order webhook comes in before
// the first orders import, which then sums the whole shop, not its orders
// one list of ids at a time.
func TestImportSumsLinesWithAHashJoin(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	const shop = "plans.myshopify.com"
	type ran struct{ sql, plan, nestloop string }
	var (
		mu         sync.Mutex // a merge runs its groups side by side
		statements []ran
	)
	postgres.SpyMergeStatements(t, func(ctx context.Context, tx pgx.Tx, sql string, args []any) {
		r := ran{sql: sql}
		if err := tx.QueryRow(ctx, `SHOW enable_nestloop`).Scan(&r.nestloop); err != nil {
			t.Errorf("show enable_nestloop: %v", err)
			return
		}
		if strings.HasPrefix(strings.TrimSpace(sql), "INSERT INTO order_line_sums") {
			rows, err := tx.Query(ctx, "EXPLAIN "+sql, args...)
			if err == nil {
				var plan []string
				plan, err = pgx.CollectRows(rows, pgx.RowTo[string])
				r.plan = strings.Join(plan, "\n")
			}
			if err != nil {
				t.Errorf("explain %s: %v", sql, err)
				return
			}
		}
		mu.Lock()
		defer mu.Unlock()
		statements = append(statements, r)
	})
	syncs := postgres.NewSyncStore(db)
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	for run := int64(1); run <= 4; run++ {
		updated := at.Add(time.Duration(run) * time.Hour)
		if run == 2 {
			_, err := postgres.NewOrderStore(db).Upsert(ctx, shop, postgres.OrderRow{ID: 99, CustomerID: 9, Name: "#", CreatedAt: at, UpdatedAt: at,
				Currency: "EUR", Total: "5", DiscountCodes: []string{}}, []postgres.LineRow{{OrderID: 99, ID: 990, ProductID: 1, VariantID: 11, Title: "w", Quantity: 2, UnitPrice: "2.5"}}, nil)
			require.NoError(t, err)
		}
		var rows []postgres.StageRow
		resource := postgres.ResourceProducts
		if run%2 == 0 {
			resource = postgres.ResourceOrders
			for id := int64(1); id <= 20; id++ {
				rows = append(rows, postgres.StageRow{Order: &postgres.OrderRow{ID: id, CustomerID: id, Name: "#", CreatedAt: at, UpdatedAt: updated,
					Currency: "EUR", Total: "10", DiscountCodes: []string{}}},
					postgres.StageRow{Line: &postgres.LineRow{OrderID: id, ID: id * 10, ProductID: 1, VariantID: 10 + id%3, Title: "l", Quantity: 1, UnitPrice: "10"}})
			}
		} else {
			rows = append(rows, postgres.StageRow{Product: &postgres.ProductRow{ID: 1, Title: "P", UpdatedAt: updated}})
			for v := int64(10); v < 13; v++ {
				rows = append(rows, postgres.StageRow{Variant: &postgres.VariantRow{ProductID: 1, ID: v, UnitCost: fmt.Sprint(run + v)}})
			}
		}
		stage := syncs.Stage(shop, run, resource)
		require.NoError(t, stage.Reset(ctx))
		_, err := stage.Copy(ctx, &rowSource{rows: rows})
		require.NoError(t, err)
		_, err = syncs.Merge(ctx, stage, postgres.SyncState{Shop: shop, RunID: run, Mode: postgres.ModeFull, Phase: postgres.PhaseExporting, StartedAt: updated})
		require.NoError(t, err)
		require.NoError(t, stage.Drop(ctx))
	}
	sums, wholeShop := 0, 0
	for _, r := range statements {
		if r.plan == "" {
			assert.Equal(t, "on", r.nestloop, "only the sums plan without nested loops: %s", r.sql)
			continue
		}
		sums++
		if !strings.Contains(r.sql, "ANY(ARRAY") {
			wholeShop++
		}
		assert.Equal(t, "off", r.nestloop, r.sql)
		assert.Regexp(t, `Hash (Left |Right )?Join`, r.plan, r.sql)
		assert.NotContains(t, r.plan, "Nested Loop", r.sql)
	}
	assert.Equal(t, 4, sums, "the sums of each products and orders import")
	assert.Equal(t, 1, wholeShop, "the first orders import sums the whole shop, the webhook's order as well")
	pgtest.LineSumsAgree(t, db, shop)
	var webhookOrder int
	require.NoError(t, db.Pool.QueryRow(ctx, `SELECT count(*) FROM order_line_sums WHERE shop = $1 AND order_id = 99`, shop).Scan(&webhookOrder))
	assert.Equal(t, 1, webhookOrder)
}
