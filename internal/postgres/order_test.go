package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/ledger"
	"github.com/cvo-app/cvo/internal/postgres"
	"github.com/cvo-app/cvo/internal/postgres/pgtest"
)

// TestShopOrdersJoinsLinesAndRefundsToTheirOrders checks the loader's
// merge of its three cursors: children go to their own order only, a
// refund stored before its order arrived is skipped, other shops' rows
// never appear, and orders come in id order.
func TestShopOrdersJoinsLinesAndRefundsToTheirOrders(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	orders := postgres.NewOrderStore(db)
	at := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	order := func(id, customer int64) postgres.OrderRow {
		return postgres.OrderRow{ID: id, CustomerID: customer, Name: "#1", CreatedAt: at, UpdatedAt: at, Currency: "EUR",
			Total: "30.5", DiscountCodes: []string{}}
	}
	line := func(order, id int64) postgres.LineRow {
		return postgres.LineRow{OrderID: order, ID: id, Title: "Mug", Quantity: 2, UnitPrice: "10.25"}
	}
	for _, shop := range []string{"a.myshopify.com", "b.myshopify.com"} {
		_, err := orders.Upsert(ctx, shop, order(30, 7), []postgres.LineRow{line(30, 301), line(30, 300)},
			[]postgres.RefundRow{{OrderID: 30, ID: 3, CreatedAt: at.Add(time.Hour), Amount: "5"}})
		require.NoError(t, err)
		_, err = orders.Upsert(ctx, shop, order(10, 0), []postgres.LineRow{line(10, 100)}, nil)
		require.NoError(t, err)
	}
	// A refund whose order has not arrived (refunds/create before orders/create).
	require.NoError(t, orders.AddRefunds(ctx, "a.myshopify.com", []postgres.RefundRow{{OrderID: 20, ID: 2, CreatedAt: at, Amount: "1"}}))

	var got []cvo.Order
	require.NoError(t, orders.ShopOrders(ctx, "a.myshopify.com", func(o cvo.Order) error {
		got = append(got, o)
		return nil
	}))
	require.Len(t, got, 2)
	assert.Equal(t, "10", got[0].ID)
	assert.Empty(t, got[0].CustomerID)
	assert.Len(t, got[0].Lines, 1)
	assert.Empty(t, got[0].Refunds)
	assert.Equal(t, "30", got[1].ID)
	assert.Equal(t, "7", got[1].CustomerID)
	assert.InDelta(t, 30.5, got[1].Total, 1e-9)
	assert.Equal(t, []cvo.LineItem{{Title: "Mug", Quantity: 2, UnitPrice: 10.25}, {Title: "Mug", Quantity: 2, UnitPrice: 10.25}}, got[1].Lines)
	assert.Equal(t, []cvo.Refund{{CreatedAt: at.Add(time.Hour), Amount: 5}}, got[1].Refunds)
	assert.True(t, got[1].CreatedAt.Equal(at))

	var none int
	require.NoError(t, orders.ShopOrders(ctx, "c.myshopify.com", func(cvo.Order) error { none++; return nil }))
	assert.Zero(t, none)
}

// TestShopOrdersAcrossFetchChunks reads a shop larger than one FETCH of
// each cursor: every order keeps exactly its own lines and refunds however
// the chunks of the three cursors fall.
func TestShopOrdersAcrossFetchChunks(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	const shop, n = "big.myshopify.com", 25003
	_, err := db.Pool.Exec(ctx, `INSERT INTO orders (shop, id, customer_id, name, created_at, updated_at, test, currency, total, discount_codes)
		SELECT $1, i, NULLIF(i % 7, 0), '#' || i, '2025-01-01'::timestamptz + i * interval '1 minute', now(), false, 'EUR', i,
			CASE WHEN i % 2 = 0 THEN ARRAY['C' || i, 'D' || i] ELSE '{}' END
		FROM generate_series(1, $2) i`, shop, n)
	require.NoError(t, err)
	// Order i has i % 3 lines priced i and titled i, and a refund of i
	// when i % 5 == 0; even orders have the codes Ci and Di. Every row is
	// scanned into one reused row, which must not lend one order's codes
	// or titles to another.
	_, err = db.Pool.Exec(ctx, `INSERT INTO order_lines (shop, order_id, id, title, quantity, unit_price)
		SELECT $1, i, i * 10 + k, 'x' || i, 1, i FROM generate_series(1, $2) i, generate_series(1, 2) k WHERE k <= i % 3`, shop, n)
	require.NoError(t, err)
	_, err = db.Pool.Exec(ctx, `INSERT INTO refunds (shop, id, order_id, created_at, amount)
		SELECT $1, i, i, now(), i FROM generate_series(5, $2, 5) i`, shop, n)
	require.NoError(t, err)

	var (
		last int64
		kept []cvo.Order
	)
	count := 0
	require.NoError(t, postgres.NewOrderStore(db).ShopOrders(ctx, shop, func(o cvo.Order) error {
		count++
		id, err := strconv.ParseInt(o.ID, 10, 64)
		require.NoError(t, err)
		require.Greater(t, id, last, "orders come in id order")
		last = id
		require.Len(t, o.Lines, int(id%3), "order %d", id)
		for _, l := range o.Lines {
			require.InDelta(t, float64(id), l.UnitPrice, 1e-9, "order %d got another order's line", id)
		}
		kept = append(kept, o)
		if id%5 == 0 {
			require.Len(t, o.Refunds, 1, "order %d", id)
			require.InDelta(t, float64(id), o.Refunds[0].Amount, 1e-9)
		} else {
			require.Empty(t, o.Refunds, "order %d", id)
		}
		if id%7 == 0 {
			require.Empty(t, o.CustomerID)
		} else {
			require.Equal(t, strconv.FormatInt(id%7, 10), o.CustomerID)
		}
		return nil
	}))
	assert.Equal(t, n, count)
	// Checked once all are read: a later row must not have changed what
	// an earlier one handed out.
	for _, o := range kept {
		id, err := strconv.ParseInt(o.ID, 10, 64)
		require.NoError(t, err)
		if id%2 == 0 {
			require.Equal(t, []string{"C" + o.ID, "D" + o.ID}, o.DiscountCodes, "order %d", id)
		} else {
			require.Empty(t, o.DiscountCodes, "order %d", id)
		}
		for _, l := range o.Lines {
			require.Equal(t, "x"+o.ID, l.Title, "order %d", id)
		}
	}

	// The read of summed lines, whose sums and wanted lines are cursors
	// of their own, makes the same ledger, with the sums of most orders
	// missing too (as a NaN price leaves them), so that the lines it
	// reads of the orders it wants span several chunks.
	pgtest.SumLines(t, db, shop)
	orders := postgres.NewOrderStore(db)
	for _, unsummed := range []string{"none", "most"} {
		if unsummed == "most" {
			_, err = db.Pool.Exec(ctx, `UPDATE order_line_sums SET line_revenue = NULL, known_cost = NULL, covered_revenue = NULL
				WHERE shop = $1 AND order_id % 4 <> 0`, shop)
			require.NoError(t, err)
		}
		want, got := ledger.NewBuilder(0), ledger.NewBuilder(0)
		require.NoError(t, orders.StreamOrders(ctx, shop, func(o *cvo.Order) error { want.Add(o); return nil }))
		require.NoError(t, orders.ReadSummedOrders(ctx, shop, got))
		requireSameLedger(t, want.Ledger(), got.Ledger(), "across chunks, unsummed: "+unsummed)
	}
}

// BenchmarkShopOrders reads a shop of 100,000 orders with 200,000 lines
// and 20,000 refunds, as a rescore does.
func BenchmarkShopOrders(b *testing.B) {
	ctx := context.Background()
	db := pgtest.New(b)
	const shop = "bench.myshopify.com"
	for _, q := range []string{
		`INSERT INTO orders (shop, id, customer_id, name, created_at, updated_at, test, currency, total, discount_codes)
			SELECT $1, i, 1 + i % 20000, '#' || i, '2024-01-01'::timestamptz + i * interval '5 minutes', now(), false, 'EUR', i % 97, '{}'
			FROM generate_series(1, 100000) i`,
		`INSERT INTO order_lines (shop, order_id, id, product_id, title, quantity, unit_price)
			SELECT $1, i, i * 10 + k, 1 + i % 50, 'Mug', 1, i % 97 FROM generate_series(1, 100000) i, generate_series(1, 2) k`,
		`INSERT INTO refunds (shop, id, order_id, created_at, amount) SELECT $1, i, i, now(), 1 FROM generate_series(5, 100000, 5) i`,
		`ANALYZE orders, order_lines, refunds`,
	} {
		args := []any{shop}
		if !strings.Contains(q, "$1") {
			args = nil
		}
		_, err := db.Pool.Exec(ctx, q, args...)
		require.NoError(b, err)
	}
	store := postgres.NewOrderStore(db)
	for b.Loop() {
		n := 0
		require.NoError(b, store.ShopOrders(ctx, shop, func(cvo.Order) error { n++; return nil }))
		require.Equal(b, 100000, n)
	}
}

// TestStreamOrdersReusesOnlyItsOwnBuffers: the streamed order's lines and
// refunds are reused from order to order, and ShopOrders hands out copies
// no later order overwrites.
func TestStreamOrdersReusesOnlyItsOwnBuffers(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	store := postgres.NewOrderStore(db)
	at := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	const shop = "s.myshopify.com"
	for id := int64(1); id <= 3; id++ {
		var lines []postgres.LineRow
		for j := range 4 - id { // 3, 2 and 1 lines: later orders fit in earlier buffers
			lines = append(lines, postgres.LineRow{OrderID: id, ID: id*10 + j, Title: fmt.Sprintf("item %d.%d", id, j), Quantity: 1, UnitPrice: "1"})
		}
		var refunds []postgres.RefundRow
		if id != 2 {
			refunds = []postgres.RefundRow{{OrderID: id, ID: id, CreatedAt: at, Amount: fmt.Sprint(id)}}
		}
		_, err := store.Upsert(ctx, shop, postgres.OrderRow{ID: id, CustomerID: 5, Name: "#", CreatedAt: at, UpdatedAt: at,
			Currency: "EUR", Total: "9", DiscountCodes: []string{}}, lines, refunds)
		require.NoError(t, err)
	}
	var owned, streamed []cvo.Order
	require.NoError(t, store.ShopOrders(ctx, shop, func(o cvo.Order) error { owned = append(owned, o); return nil }))
	require.NoError(t, store.StreamOrders(ctx, shop, func(o *cvo.Order) error {
		c := *o
		c.Lines, c.Refunds = slices.Clone(o.Lines), slices.Clone(o.Refunds)
		streamed = append(streamed, c)
		return nil
	}))
	require.Len(t, owned, 3)
	assert.Equal(t, owned, streamed)
	for i, o := range owned {
		require.Len(t, o.Lines, 3-i)
		assert.Equal(t, fmt.Sprintf("item %d.0", i+1), o.Lines[0].Title, "order %d kept its own lines", i+1)
	}
	assert.Nil(t, owned[1].Refunds, "an order without refunds has none, not the last order's")
	assert.Equal(t, 3.0, owned[2].Refunds[0].Amount)
}

// fillOrders stores n orders of the shop, order i of customer i with a
// total of i, and runs the further statements (lines, refunds) with the
// shop as $1.
func fillOrders(t *testing.T, db *postgres.DB, shop string, n int, more ...string) {
	ctx := context.Background()
	_, err := db.Pool.Exec(ctx, `INSERT INTO orders (shop, id, customer_id, name, created_at, updated_at, test, currency, total, discount_codes)
		SELECT $1, i, i, '#' || i, '2025-01-01'::timestamptz + i * interval '1 minute', now(), false, 'EUR', i, '{}'
		FROM generate_series(1, $2) i`, shop, n)
	require.NoError(t, err)
	for _, q := range more {
		_, err := db.Pool.Exec(ctx, q, shop)
		require.NoError(t, err)
	}
}

// TestStreamOrdersAtExactChunkBoundaries: cursors whose rows fill their
// last FETCH exactly (the next one comes back empty) lose and repeat
// nothing, whichever cursor ends first.
func TestStreamOrdersAtExactChunkBoundaries(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	const shop = "exact.myshopify.com"
	// 20,000 orders; the even ones have a line (10,000); the first 10,000
	// have three refunds each (30,000).
	fillOrders(t, db, shop, 20000,
		`INSERT INTO order_lines (shop, order_id, id, title, quantity, unit_price)
			SELECT $1, i, i, 'x', 1, i FROM generate_series(2, 20000, 2) i`,
		`INSERT INTO refunds (shop, id, order_id, created_at, amount)
			SELECT $1, i * 10 + k, i, now(), i FROM generate_series(1, 10000) i, generate_series(1, 3) k`)
	orders, lines, refunds := 0, 0, 0
	require.NoError(t, postgres.NewOrderStore(db).StreamOrders(ctx, shop, func(o *cvo.Order) error {
		orders++
		id, err := strconv.ParseInt(o.ID, 10, 64)
		require.NoError(t, err)
		require.Equal(t, orders, int(id), "orders come once each, in id order")
		for _, l := range o.Lines {
			require.InDelta(t, float64(id), l.UnitPrice, 1e-9, "order %d got another order's line", id)
		}
		for _, r := range o.Refunds {
			require.InDelta(t, float64(id), r.Amount, 1e-9, "order %d got another order's refund", id)
		}
		require.Len(t, o.Lines, int(1-id%2), "order %d", id)
		if id <= 10000 {
			require.Len(t, o.Refunds, 3, "order %d", id)
		} else {
			require.Empty(t, o.Refunds, "order %d", id)
		}
		lines += len(o.Lines)
		refunds += len(o.Refunds)
		return nil
	}))
	assert.Equal(t, []int{20000, 10000, 30000}, []int{orders, lines, refunds})
}

// TestStreamOrdersStoppedEarlyKeepsItsConnection: a reader that stops
// early (its own error, or its context cancelled) gets its own error back,
// and the reading ahead is stopped without breaking the connection, which
// goes back to the pool instead of being replaced.
func TestStreamOrdersStoppedEarlyKeepsItsConnection(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	const shop = "early.myshopify.com"
	fillOrders(t, db, shop, 30000,
		`INSERT INTO order_lines (shop, order_id, id, title, quantity, unit_price)
			SELECT $1, i, i * 10 + k, 'x', 1, i FROM generate_series(1, 30000) i, generate_series(1, 2) k`,
		`INSERT INTO refunds (shop, id, order_id, created_at, amount) SELECT $1, i, i, now(), 1 FROM generate_series(1, 30000) i`)
	store := postgres.NewOrderStore(db)
	stopAt := errors.New("enough")
	stop := func() error {
		n := 0
		return store.StreamOrders(ctx, shop, func(*cvo.Order) error {
			if n++; n == 3 {
				return stopAt
			}
			return nil
		})
	}
	require.ErrorIs(t, stop(), stopAt)
	for range 10 {
		before := db.Pool.Stat().NewConnsCount()
		require.ErrorIs(t, stop(), stopAt)
		require.Equal(t, before, db.Pool.Stat().NewConnsCount(), "the connection went back to the pool")
	}
	// A cancelled read may cost its connection (pgx closes one whose
	// query it cancels), but it says it was cancelled.
	for range 10 {
		cctx, cancel := context.WithCancel(ctx)
		n := 0
		err := store.StreamOrders(cctx, shop, func(*cvo.Order) error {
			if n++; n == 2 {
				cancel()
			}
			return nil
		})
		require.ErrorIs(t, err, context.Canceled)
		require.Equal(t, 2, n, "no order is handed out after the cancellation")
	}
	count := 0
	require.NoError(t, store.StreamOrders(ctx, shop, func(*cvo.Order) error { count++; return nil }))
	assert.Equal(t, 30000, count)
	// The read of summed lines, cancelled, says so too, and leaves
	// nothing behind that a later read trips on (its table of wanted
	// orders).
	pgtest.SumLines(t, db, shop)
	cancelled := 0
	for wait := time.Millisecond; cancelled < 3 && wait < 10*time.Second; wait += time.Duration(rand.IntN(30)) * time.Millisecond {
		cctx, cancel := context.WithTimeout(ctx, wait)
		err := store.ReadSummedOrders(cctx, shop, ledger.NewBuilder(0))
		cancel()
		if err != nil {
			require.ErrorIs(t, err, context.DeadlineExceeded)
			cancelled++
		}
	}
	require.Equal(t, 3, cancelled, "reads were cancelled")
	for range 3 {
		b := ledger.NewBuilder(0)
		require.NoError(t, store.ReadSummedOrders(ctx, shop, b))
		assert.Equal(t, 30000, b.Ledger().Len())
	}
}
