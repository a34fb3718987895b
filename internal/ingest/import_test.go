package ingest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/postgres"
	"github.com/cvo-app/cvo/internal/postgres/pgtest"
)

// TestGoldenSyncLoadsExpectedTables imports the golden bulk files through a
// whole sync and reads them back the way scoring does.
func TestGoldenSyncLoadsExpectedTables(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	f := newFakeShopify(t)
	require.NoError(t, f.syncer(db).SyncShop(ctx, testShop))

	var orders []cvo.Order
	require.NoError(t, postgres.NewOrderStore(db).ShopOrders(ctx, testShop, func(o cvo.Order) error {
		orders = append(orders, o)
		return nil
	}))
	require.Len(t, orders, 3)
	first := orders[0]
	assert.Equal(t, "5001", first.ID)
	assert.Equal(t, "1001", first.CustomerID)
	assert.True(t, first.CreatedAt.Equal(ts("2024-01-05T09:14:00Z")), "the order date is processedAt")
	assert.InDelta(t, 45.9, first.Total, 1e-9)
	assert.Equal(t, []cvo.Refund{{CreatedAt: ts("2024-02-01T08:00:00Z"), Amount: 10.5}}, first.Refunds)
	assert.Equal(t, []cvo.LineItem{
		{ProductID: "301", VariantID: "401", Title: "Mug", Vendor: "Acme", ProductType: "Homeware", Quantity: 2, UnitPrice: 12, UnitCost: 4.25, CostKnown: true},
		{Title: "Gift wrap", Quantity: 1, UnitPrice: 18},
	}, first.Lines)
	assert.Equal(t, "newsletter", first.UTMSource)
	assert.Equal(t, []string{"WELCOME10"}, first.DiscountCodes)
	assert.True(t, first.IsPurchase())

	second := orders[1]
	assert.Empty(t, second.CustomerID)
	assert.True(t, second.Cancelled)
	assert.False(t, second.IsPurchase())
	assert.Equal(t, []cvo.LineItem{{ProductID: "302", VariantID: "402", Title: "Card", Vendor: "Paperie", Quantity: 1, UnitPrice: 3.5, UnitCost: 0.0125, CostKnown: true}},
		second.Lines, "a child line that came before its parent in the file is joined all the same")

	third := orders[2]
	assert.True(t, third.Test)
	assert.True(t, third.FullyRefunded())
	assert.Equal(t, []cvo.LineItem{{ProductID: "301", VariantID: "403", Title: "Teapot", Vendor: "Acme", ProductType: "Homeware", Quantity: 1, UnitPrice: 100}},
		third.Lines, "a variant without a recorded cost has an unknown cost")

	var customers []cvo.Customer
	require.NoError(t, postgres.NewCustomerStore(db).ShopCustomers(ctx, testShop, func(c cvo.Customer) error {
		customers = append(customers, c)
		return nil
	}))
	assert.Equal(t, []cvo.Customer{
		{ID: "1001", CreatedAt: ts("2023-04-01T10:00:00Z"), Country: "United Kingdom", City: "London",
			ShopifyRFMGroup: "CHAMPIONS", ShopifySpendTier: "HIGH"},
		{ID: "1002", CreatedAt: ts("2023-04-02T15:00:00Z")},
		{ID: "1003", CreatedAt: ts("2022-12-31T22:59:59Z"), Country: "France", City: "Paris"}, // "Loyal; drop" is no enum value: dropped
	}, customers)

	f.mu.Lock()
	queries := f.queries
	f.mu.Unlock()
	require.Len(t, queries, 3)
	for _, q := range queries {
		assert.NotContains(t, q, "updated_at:>", "a full sync fetches everything")
	}
}

// TestMalformedExportFailsNamingTheLineAndKeepsImportedData checks a broken
// result file stops the sync with the line number, while data already
// imported (earlier resources of the run, and everything of the previous
// run) stays as it was.
func TestMalformedExportFailsNamingTheLineAndKeepsImportedData(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	f := newFakeShopify(t)
	syncer := f.syncer(db)
	require.NoError(t, syncer.SyncShop(ctx, testShop))
	before := dumpTables(t, db, testShop)

	lines := strings.Split(f.files[postgres.ResourceOrders], "\n")
	lines[3] = strings.Replace(lines[3], `"amount":"3.5"`, `"amount":"3,5"`, 1)
	f.set(postgres.ResourceOrders, strings.Join(lines, "\n"))
	f.set(postgres.ResourceCustomers, f.files[postgres.ResourceCustomers]+
		`{"id":"gid://shopify/Customer/1004","firstName":"New","lastName":"Person","createdAt":"2024-06-01T00:00:00Z","updatedAt":"2024-06-01T00:00:00Z"}`+"\n")

	err := syncer.SyncShop(ctx, testShop)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "orders export line 4:")
	assert.Contains(t, err.Error(), `"3,5" is not a decimal amount`)

	after := dumpTables(t, db, testShop)
	assert.Equal(t, before["orders"], after["orders"], "orders of the previous run are untouched")
	assert.Equal(t, before["order_lines"], after["order_lines"])
	assert.Contains(t, after["customers"], "Person", "customers merged before the bad file stay merged")

	status, err := syncer.Status(ctx, testShop)
	require.NoError(t, err)
	assert.Equal(t, postgres.PhaseFailed, status["phase"])
	assert.Contains(t, status["last_error"], "orders export line 4")
	assert.Zero(t, stagingTables(t, db), "a failed run leaves no staging tables")

	// Once Shopify serves a good file again, a new run completes.
	f.set(postgres.ResourceOrders, strings.Join(append(lines[:3:3], lines[4:]...), "\n"))
	require.NoError(t, syncer.SyncShop(ctx, testShop))
	status, err = syncer.Status(ctx, testShop)
	require.NoError(t, err)
	assert.Equal(t, postgres.PhaseDone, status["phase"])
}

func stagingTables(t *testing.T, db *postgres.DB) int {
	t.Helper()
	var n int
	require.NoError(t, db.Pool.QueryRow(context.Background(),
		`SELECT count(*) FROM information_schema.tables WHERE table_name LIKE 'sync\_stage\_%'`).Scan(&n))
	return n
}

// TestReconcileFetchesChangesSinceTheLastGoodRun checks the daily
// reconciliation asks only for what changed after the last good run
// (with an hour's overlap), and that a shop never synced gets a full sync.
func TestReconcileFetchesChangesSinceTheLastGoodRun(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	f := newFakeShopify(t)
	syncer := f.syncer(db)
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	syncer.now = func() time.Time { return start }

	require.NoError(t, syncer.ReconcileShop(ctx, testShop))
	f.mu.Lock()
	require.Len(t, f.queries, 3)
	for _, q := range f.queries {
		assert.NotContains(t, q, "updated_at:>", "a shop never synced gets everything")
	}
	f.queries = nil
	f.mu.Unlock()
	st, _, err := postgres.NewSyncStore(db).Get(ctx, testShop)
	require.NoError(t, err)
	assert.Equal(t, postgres.ModeFull, st.Mode)
	assert.True(t, st.LastSuccessAt.Equal(start))

	syncer.now = func() time.Time { return start.Add(24 * time.Hour) }
	require.NoError(t, syncer.ReconcileShop(ctx, testShop))
	f.mu.Lock()
	defer f.mu.Unlock()
	require.Len(t, f.queries, 3)
	for _, q := range f.queries {
		if strings.Contains(q, "products") {
			assert.NotContains(t, q, "updated_at:>", "the catalogue is small and has no webhooks: fetched whole")
		} else {
			assert.Contains(t, q, `(query: "updated_at:>'2026-03-01T11:00:00Z'")`)
		}
	}
}
