package ingest

import (
	"context"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/postgres"
	"github.com/cvo-app/cvo/internal/postgres/pgtest"
	"github.com/cvo-app/cvo/internal/shopify"
	"github.com/cvo-app/cvo/internal/simulator"
)

// TestSyncShopMirrorsSimulator runs a whole sync against the simulator and
// compares every customer, order (lines, refunds) and product in Postgres
// with the simulator's store.
func TestSyncShopMirrorsSimulator(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	s := newSimShop(t)
	s.populate(t, 1, 150, 400)
	syncer := s.syncer(db)

	require.NoError(t, syncer.SyncShop(ctx, testShop))

	nc, no, np := s.sim.Counts(testShop)
	assert.Equal(t, nc, countRows(t, db, "customers", testShop))
	assert.Equal(t, no, countRows(t, db, "orders", testShop))
	assert.Equal(t, np, countRows(t, db, "products", testShop))

	customers := postgres.NewCustomerStore(db)
	for id := int64(1); ; id++ {
		want, ok := s.sim.GetCustomer(testShop, id)
		if !ok {
			break
		}
		got, found, err := customers.Get(ctx, testShop, id)
		require.NoError(t, err)
		require.True(t, found, "customer %d", id)
		assert.Equal(t, want.Email, got.Email)
		assert.Equal(t, want.FirstName, got.FirstName)
		assert.Equal(t, want.LastName, got.LastName)
		assert.True(t, want.CreatedAt.Equal(got.CreatedAt))
		rfmGroup, spendTier, ok := s.sim.CustomerStatistics(testShop, id)
		require.True(t, ok)
		require.NotEmpty(t, rfmGroup, "the simulator gives every customer a group")
		assert.Equal(t, rfmGroup, got.ShopifyRFMGroup, "customer %d: Customer.statistics.rfmGroup", id)
		assert.Equal(t, spendTier, got.ShopifyPredictedSpendTier, "customer %d: predictedSpendTier", id)
		if want.DefaultAddress != nil {
			assert.Equal(t, want.DefaultAddress.City, got.City)
			assert.Equal(t, want.DefaultAddress.Country, got.Country)
			assert.Equal(t, want.DefaultAddress.CountryCode, got.CountryCode)
		} else {
			assert.Empty(t, got.City)
		}
	}

	orders := postgres.NewOrderStore(db)
	checked := 0
	for id := int64(1); checked < no && id < 100000; id++ {
		want, ok := s.sim.GetOrder(testShop, id)
		if !ok {
			continue
		}
		checked++
		got, lines, refunds, found, err := orders.Get(ctx, testShop, id)
		require.NoError(t, err)
		require.True(t, found, "order %d", id)
		assert.Equal(t, want.CustomerID, got.CustomerID)
		assert.Equal(t, "#"+strconv.FormatInt(want.Number, 10), got.Name)
		assert.True(t, want.CreatedAt.Equal(got.CreatedAt))
		assert.True(t, want.UpdatedAt.Equal(got.UpdatedAt))
		assert.Equal(t, want.CancelledAt.IsZero(), got.CancelledAt.IsZero())
		assert.Equal(t, want.Test, got.Test)
		assert.Equal(t, "GBP", got.Currency)
		assertAmount(t, want.Total, got.Total, "order %d total", id)
		assert.Equal(t, want.SourceName, got.SourceName)
		assert.ElementsMatch(t, want.DiscountCodes, got.DiscountCodes)
		if want.Journey != nil {
			assert.Equal(t, want.Journey.FirstVisit.LandingPage, got.LandingPage)
			assert.Equal(t, want.Journey.FirstVisit.UTMCampaign, got.UTMCampaign)
		}
		require.Len(t, lines, len(want.LineItems), "order %d lines", id)
		for i, l := range want.LineItems {
			assert.Equal(t, l.ID, lines[i].ID)
			assert.Equal(t, l.VariantID, lines[i].VariantID)
			assert.Equal(t, l.ProductID, lines[i].ProductID)
			assert.Equal(t, int32(l.Quantity), lines[i].Quantity)
			assertAmount(t, l.UnitPrice, lines[i].UnitPrice, "line %d", l.ID)
		}
		require.Len(t, refunds, len(want.Refunds), "order %d refunds", id)
		for i, r := range want.Refunds {
			assert.Equal(t, r.ID, refunds[i].ID)
			assertAmount(t, r.Amount, refunds[i].Amount, "refund %d", r.ID)
			assert.True(t, r.CreatedAt.Equal(refunds[i].CreatedAt))
		}
	}
	assert.Equal(t, no, checked)

	products := postgres.NewProductStore(db)
	p, vs, found, err := products.Get(ctx, testShop, 1)
	require.NoError(t, err)
	require.True(t, found)
	assert.Equal(t, "Product 0", p.Title)
	require.NotEmpty(t, vs)
	assert.Empty(t, vs[0].UnitCost, "variant 0 of product 0 has no recorded cost")

	status, err := syncer.Status(ctx, testShop)
	require.NoError(t, err)
	assert.Equal(t, postgres.PhaseDone, status["phase"])
	assert.Equal(t, 100.0, status["percent"])
	assert.NotContains(t, status, "last_error")

	// A second full sync of an unchanged shop rewrites nothing.
	before := dumpTables(t, db, testShop)
	require.NoError(t, syncer.SyncShop(ctx, testShop))
	assert.Equal(t, before, dumpTables(t, db, testShop))

	// Shopify recomputes its statistics without a new updatedAt: the next
	// sync still takes them.
	require.NoError(t, s.sim.SetCustomerStatistics(testShop, 1, "AT_RISK", "LOW"))
	require.NoError(t, syncer.SyncShop(ctx, testShop))
	got, _, err := customers.Get(ctx, testShop, 1)
	require.NoError(t, err)
	assert.Equal(t, "AT_RISK", got.ShopifyRFMGroup)
	assert.Equal(t, "LOW", got.ShopifyPredictedSpendTier)
}

func assertAmount(t *testing.T, want simulator.Amount, got string, msg string, args ...any) {
	t.Helper()
	f, err := strconv.ParseFloat(got, 64)
	require.NoError(t, err)
	assert.InDelta(t, want.Float64(), f, 1e-9, append([]any{msg}, args...)...)
}

// TestSyncKilledHalfwayResumesToSameTables kills imports part way (an
// injected failure after some objects, and a cancelled context) and
// checks the resumed run ends with exactly the tables of a clean run, and
// that it reuses the bulk operations that had already finished.
func TestSyncKilledHalfwayResumesToSameTables(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newSimShop(t)
	s.populate(t, 2, 120, 300)

	clean := pgtest.New(t)
	require.NoError(t, s.syncer(clean).SyncShop(ctx, testShop))
	want := dumpTables(t, clean, testShop)

	t.Run("failure after N objects", func(t *testing.T) {
		db := pgtest.New(t)
		syncer := s.syncer(db)
		syncer.streamHook = func(r postgres.Resource, n int64) error {
			if r == postgres.ResourceOrders && n == 250 {
				return errInjected
			}
			return nil
		}
		err := syncer.SyncShop(ctx, testShop)
		require.ErrorIs(t, err, errInjected)
		st, _, err := postgres.NewSyncStore(db).Get(ctx, testShop)
		require.NoError(t, err)
		assert.Equal(t, postgres.PhaseImporting, st.Phase, "an interrupted run stays resumable")
		assert.Contains(t, st.LastError, "injected")
		assert.Zero(t, countRows(t, db, "orders", testShop), "a half-read export merges nothing")
		assert.NotZero(t, countRows(t, db, "customers", testShop), "resources merged before the failure stay")
		ops := map[postgres.Resource]string{}
		for r, op := range st.Operations {
			ops[r] = op.ID
		}

		syncer.streamHook = nil
		require.NoError(t, syncer.SyncShop(ctx, testShop))
		assert.Equal(t, want, dumpTables(t, db, testShop))
		after, _, err := postgres.NewSyncStore(db).Get(ctx, testShop)
		require.NoError(t, err)
		assert.Equal(t, st.RunID, after.RunID, "the run was resumed, not restarted")
		for r, op := range after.Operations {
			assert.Equal(t, ops[r], op.ID, "%s: the finished operation is reused", r)
		}
	})

	t.Run("context cancelled mid-stream", func(t *testing.T) {
		db := pgtest.New(t)
		syncer := s.syncer(db)
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		syncer.streamHook = func(r postgres.Resource, n int64) error {
			if r == postgres.ResourceOrders && n == 150 {
				cancel()
			}
			return nil
		}
		require.Error(t, syncer.SyncShop(cctx, testShop))
		assert.Zero(t, countRows(t, db, "orders", testShop))

		syncer.streamHook = nil
		require.NoError(t, syncer.SyncShop(ctx, testShop))
		assert.Equal(t, want, dumpTables(t, db, testShop))
	})
}

// TestFailedResultDownloadIsRetriedAlone: a result download that fails to
// open, or breaks in the middle, is retried on its own (a broken stream
// resumes at the byte it reached) within the same sync: no resource is
// exported twice, and the tables end as a clean sync leaves them.
func TestFailedResultDownloadIsRetriedAlone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clean := pgtest.New(t)
	require.NoError(t, newFakeShopify(t).syncer(clean).SyncShop(ctx, testShop))
	want := dumpTables(t, clean, testShop)

	for _, tc := range []struct {
		name   string
		faults []downloadFault
		// ranged counts the downloads that asked for the rest of a file.
		ranged int
	}{
		{name: "500 once", faults: []downloadFault{faultHTTP500}},
		{name: "mid-stream once", faults: []downloadFault{faultMidStream}, ranged: 1},
		{name: "mid-stream twice in one file", faults: []downloadFault{faultMidStream, faultMidStream}, ranged: 2},
		{name: "500, then mid-stream, then 500 on the resume", faults: []downloadFault{faultHTTP500, faultMidStream, faultHTTP500}, ranged: 2},
		{name: "resume from a server that ignores Range", faults: []downloadFault{faultMidStream, faultNoRange}, ranged: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			db := pgtest.New(t)
			f := newFakeShopify(t)
			f.failDownloads(tc.faults...)
			require.NoError(t, f.syncer(db).SyncShop(ctx, testShop))
			assert.Equal(t, want, dumpTables(t, db, testShop))

			f.mu.Lock()
			defer f.mu.Unlock()
			assert.Len(t, f.queries, len(postgres.Resources), "one bulk operation per resource")
			ranged := 0
			for _, rg := range f.downloads {
				if rg != "" {
					ranged++
				}
			}
			assert.Equal(t, tc.ranged, ranged)
			failures := 0
			for _, fault := range tc.faults {
				if fault != faultNoRange {
					failures++
				}
			}
			assert.Len(t, f.downloads, len(postgres.Resources)+failures, "each failure costs one request more")
		})
	}

	t.Run("every attempt fails: the operation is kept for the next run", func(t *testing.T) {
		t.Parallel()
		db := pgtest.New(t)
		f := newFakeShopify(t)
		faults := make([]downloadFault, shopify.MaxDownloadAttempts)
		for i := range faults {
			faults[i] = faultHTTP500
		}
		f.failDownloads(faults...)
		err := f.syncer(db).SyncShop(ctx, testShop)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "HTTP 500")

		require.NoError(t, f.syncer(db).SyncShop(ctx, testShop))
		assert.Equal(t, want, dumpTables(t, db, testShop))
		f.mu.Lock()
		defer f.mu.Unlock()
		assert.Len(t, f.queries, len(postgres.Resources), "no new bulk operation while the result URL is valid")
	})

	t.Run("403 on a URL Shopify still vouches for starts no new operation", func(t *testing.T) {
		t.Parallel()
		db := pgtest.New(t)
		f := newFakeShopify(t)
		f.failDownloads(faultHTTP403)
		require.Error(t, f.syncer(db).SyncShop(ctx, testShop))
		require.NoError(t, f.syncer(db).SyncShop(ctx, testShop))
		assert.Equal(t, want, dumpTables(t, db, testShop))
		f.mu.Lock()
		defer f.mu.Unlock()
		assert.Len(t, f.queries, len(postgres.Resources))
	})
}
