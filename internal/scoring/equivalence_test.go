package scoring

import (
	"fmt"
	"math"
	"runtime"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/clv"
	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/ledger"
	"github.com/cvo-app/cvo/internal/rfm"
)

// The index re-implements, for speed, computations internal/clv offers for
// slices of purchases. These tests hold the two to the same answers.

// indexInCustomerOrder indexes orders with the customers numbered in the
// order of the customer list, as Score numbers them in the reports' order.
func indexInCustomerOrder(customers []cvo.Customer, orders []cvo.Order, s Settings) *shopIndex {
	l := ledger.FromOrders(orders)
	number := make(map[string]int32, l.Customers())
	for c := range int32(l.Customers()) {
		number[l.CustomerID(c)] = c
	}
	var first []int32
	for _, c := range customers {
		if k, ok := number[c.ID]; ok {
			first = append(first, k)
		}
	}
	return buildIndex(first, l, s)
}

func mustZone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	require.NoError(t, err)
	return loc
}

// equivalenceCases cover UTC, a zone with DST changes at 02:00 and one
// that used to change at midnight, both units and both refund datings.
func equivalenceCases(t *testing.T) []Settings {
	asOf := time.Date(2024, 11, 5, 15, 30, 0, 0, time.UTC)
	var out []Settings
	for _, zone := range []string{"UTC", "Europe/Berlin", "America/Sao_Paulo"} {
		for _, unit := range []clv.TimeUnit{clv.Days, clv.Weeks} {
			s := DefaultSettings(asOf)
			s.Location = mustZone(t, zone)
			s.Unit = unit
			if unit == clv.Weeks {
				s.RefundDating = cvo.RefundAtOrderDate
			}
			out = append(out, s)
		}
	}
	return out
}

func TestSummariesMatchClv(t *testing.T) {
	customers, orders := synthShop(3000, time.Date(2024, 12, 31, 0, 0, 0, 0, time.UTC), 7, 11)
	for _, s := range equivalenceCases(t) {
		t.Run(s.Location.String()+"/"+s.Unit.String(), func(t *testing.T) {
			s, err := s.normalized()
			require.NoError(t, err)
			ix := indexInCustomerOrder(customers, orders, s)
			got, who := ix.summaries(ix.asOfDay, s.Unit)
			require.Nil(t, who)
			want := clv.Summarize(clv.PurchasesFromOrders(orders, s.AsOf, s.RefundDating), s.AsOf, s.Location, s.Unit)
			require.Len(t, got, len(want.Customers))
			gotByID := summariesByID(ix, got, who)
			for i, w := range want.Customers {
				id := want.IDs[i]
				g, ok := gotByID[id]
				require.True(t, ok, id)
				require.Equal(t, w.X, g.X, id)
				require.Equal(t, w.Tx, g.Tx, id)
				require.Equal(t, w.T, g.T, id)
				require.InDelta(t, w.Monetary, g.Monetary, 1e-9*(1+w.Monetary), id)
				require.InDelta(t, w.FirstValue, g.FirstValue, 1e-9*(1+w.FirstValue), id)
				require.InDelta(t, w.Revenue, g.Revenue, 1e-9*(1+w.Revenue), id)
			}
			// The calibration summaries at an earlier day, too.
			cut := s.AsOf.AddDate(-1, 0, 0)
			cal, who := ix.summaries(ix.zones.Day(cut.Unix()), s.Unit)
			wantCal := clv.Summarize(clv.PurchasesFromOrders(orders, s.AsOf, s.RefundDating), cut, s.Location, s.Unit)
			require.NotNil(t, who)
			require.Len(t, cal, len(wantCal.Customers))
			calByID := summariesByID(ix, cal, who)
			for i, w := range wantCal.Customers {
				g, ok := calByID[wantCal.IDs[i]]
				require.True(t, ok, wantCal.IDs[i])
				require.Equal(t, [3]float64{float64(w.X), w.Tx, w.T}, [3]float64{float64(g.X), g.Tx, g.T})
			}
		})
	}
}

func TestHistoricalMatchesClv(t *testing.T) {
	customers, orders := synthShop(3000, time.Date(2024, 12, 31, 0, 0, 0, 0, time.UTC), 3, 12)
	for _, s := range equivalenceCases(t)[:2] {
		s.CAC = 12
		s.CACBySource = map[string]float64{" Google ": 30, "pos": 5}
		s.DefaultMarginRate = 0.42
		s.BacktestHoldoutMonths = -1
		res, err := Score(t.Context(), customers, orders, s)
		require.NoError(t, err)
		want := clv.HistoricalCLV(orders, clv.HistoricalConfig{AsOf: s.AsOf, RefundDating: s.RefundDating,
			DefaultMarginRate: s.DefaultMarginRate, CAC: s.CAC, CACBySource: s.CACBySource})
		got := append([]CustomerScore(nil), res.Customers...)
		sort.Slice(got, func(i, j int) bool { return got[i].CustomerID < got[j].CustomerID })
		require.Len(t, got, len(want))
		for i, w := range want {
			g := got[i]
			require.Equal(t, w.CustomerID, g.CustomerID)
			assert.Equal(t, w.Orders, int(g.Orders))
			assert.True(t, w.FirstOrder.Equal(time.Unix(g.FirstOrder, 0)))
			assert.True(t, w.LastOrder.Equal(time.Unix(g.LastOrder, 0)))
			assert.InDelta(t, w.Revenue, g.Revenue, 1e-9*(1+w.Revenue))
			assert.InDelta(t, w.GrossMargin, g.GrossMargin, 1e-9*(1+math.Abs(w.GrossMargin)))
			assert.InDelta(t, w.CostCoverage, g.CostCoverage, 1e-6)
			assert.Equal(t, w.AcquisitionSource, g.AcquisitionSource)
			assert.Equal(t, w.CAC, g.CAC)
			assert.InDelta(t, w.CLV, g.HistoricalCLV, 1e-9*(1+math.Abs(w.CLV)))
		}
	}
}

func TestPredictionsMatchClv(t *testing.T) {
	customers, orders := synthShop(4000, time.Date(2024, 12, 31, 0, 0, 0, 0, time.UTC), 3, 13)
	for _, horizon := range []float64{0, 90} {
		s := DefaultSettings(time.Date(2024, 12, 31, 12, 0, 0, 0, time.UTC))
		s.ExpectedOrdersHorizon = horizon
		s.BacktestHoldoutMonths = -1
		res, err := Score(t.Context(), customers, orders, s)
		require.NoError(t, err)
		require.False(t, res.Model.Fallback, res.Model.Reason)
		ds := clv.Summarize(clv.PurchasesFromOrders(orders, s.AsOf, s.RefundDating), s.AsOf, s.Location, s.Unit)
		f, err := clv.Fit(ds, clv.DefaultConfig())
		require.NoError(t, err)
		byID := map[string]clv.Summary{}
		for i, sm := range ds.Customers {
			byID[ds.IDs[i]] = sm
		}
		for _, g := range res.Customers {
			sm, ok := byID[g.CustomerID]
			require.True(t, ok, g.CustomerID)
			p := f.Predict(sm)
			require.InDelta(t, p.PAlive, g.PAlive, 1e-9)
			if horizon == 0 {
				require.InDelta(t, p.ExpectedOrders, g.ExpectedOrders, 1e-9*(1+p.ExpectedOrders))
			} else {
				want := f.Purchases.ConditionalExpected(horizon, sm.X, sm.Tx, sm.T)
				require.InDelta(t, want, g.ExpectedOrders, 1e-9*(1+want))
			}
			require.InDelta(t, p.ExpectedOrderValue, g.ExpectedOrderValue, 1e-6*(1+p.ExpectedOrderValue))
			require.InDelta(t, p.DiscountedRevenue, g.PredictedRevenue, 1e-6*(1+p.DiscountedRevenue))
			require.Equal(t, p.HasNextOrder, g.HasNextOrder)
			if p.HasNextOrder {
				require.True(t, p.NextOrder.Equal(time.Unix(g.NextOrder, 0)))
			} else {
				require.Zero(t, g.NextOrder)
			}
		}
	}
}

func TestBacktestMatchesClv(t *testing.T) {
	customers, orders := synthShop(3000, time.Date(2024, 12, 31, 0, 0, 0, 0, time.UTC), 3, 14)
	for _, s := range equivalenceCases(t)[:4] {
		s, err := s.normalized()
		require.NoError(t, err)
		ix := indexInCustomerOrder(customers, orders, s)
		got, err := runBacktest(ix, s, 6)
		require.NoError(t, err)

		cutoffDay := ix.zones.Day(got.Cutoff.Unix())
		cal, who := ix.summaries(cutoffDay, s.Unit)
		groups := ix.groupsAt(cutoffDay, cal, who)
		groupOf := map[string]string{}
		for i := range cal {
			groupOf[ix.ids[summaryCustomer(who, i)]] = groups[i].Slug()
		}
		want, err := clv.Backtest(clv.PurchasesFromOrders(orders, s.AsOf, s.RefundDating), s.AsOf, clv.BacktestOptions{
			Location: s.Location, Unit: s.Unit, Config: s.clvConfig(), HoldoutMonths: 6,
			Group: func(id string) string { return groupOf[id] },
		})
		require.NoError(t, err)
		assert.True(t, want.Cutoff.Equal(got.Cutoff))
		assert.True(t, want.AsOf.Equal(got.AsOf))
		assert.Equal(t, want.HoldoutLength, got.HoldoutLength)
		assert.Equal(t, string(want.Model), got.Model)
		assert.Equal(t, want.NewCustomers, got.NewCustomers)
		assert.Equal(t, want.NewCustomerOrders, got.NewCustomerOrders)
		assert.InDelta(t, want.NewCustomerRevenue, got.NewCustomerRevenue, 1e-6)
		sameGroup := func(w clv.BacktestGroup, g BacktestGroup) {
			assert.Equal(t, w.Customers, g.Customers, w.Key)
			for _, pair := range [][2]float64{
				{w.PredictedOrders, g.PredictedOrders}, {w.ActualOrders, g.ActualOrders},
				{w.PredictedRevenue, g.PredictedRevenue}, {w.ActualRevenue, g.ActualRevenue},
				{w.OrdersMAE, g.OrdersMAE}, {w.RevenueMAE, g.RevenueMAE},
				{w.OrdersRelError, g.OrdersRelError}, {w.RevenueRelError, g.RevenueRelError},
				{w.OrdersCorrelation, g.OrdersCorrelation}, {w.RevenueCorrelation, g.RevenueCorrelation},
			} {
				assert.InDelta(t, pair[0], pair[1], 1e-7*(1+math.Abs(pair[0])), w.Key)
			}
		}
		sameGroup(want.Overall, got.Overall)
		require.Len(t, got.Groups, len(want.Groups))
		for _, g := range got.Groups {
			i := sort.Search(len(want.Groups), func(i int) bool { return want.Groups[i].Key >= g.Group.Slug() })
			require.Less(t, i, len(want.Groups))
			sameGroup(want.Groups[i], g)
		}
	}
}

func TestRFMMatchesRfmPackage(t *testing.T) {
	customers, orders := synthShop(2000, time.Date(2024, 12, 31, 0, 0, 0, 0, time.UTC), 3, 15)
	s := DefaultSettings(time.Date(2024, 12, 31, 23, 0, 0, 0, time.UTC))
	s.BacktestHoldoutMonths = -1
	// Customers missing from the list and a shuffled list exercise the
	// alignment by ID.
	shuffled := append([]cvo.Customer(nil), customers[1000:]...)
	shuffled = append(shuffled, customers[10:1000]...)
	res, err := Score(t.Context(), shuffled, orders, s)
	require.NoError(t, err)
	scored := rfm.Score(rfm.Summarize(orders, s.AsOf, s.RefundDating), rfm.Options{AsOf: s.AsOf})
	want := map[string]rfm.Assignment{}
	for _, a := range scored.Customers {
		want[a.ID] = a
	}
	require.Len(t, res.Customers, len(want))
	for _, c := range res.Customers {
		w := want[c.CustomerID]
		require.Equal(t, [4]uint8{w.R, w.F, w.M, uint8(w.Group)}, [4]uint8{c.R, c.F, c.M, uint8(c.Group)}, c.CustomerID)
	}
}

// The index's passes split the orders into one chunk per core; the first
// order of a customer must be the same whichever chunk it falls in.
func TestIndexFirstOrderAcrossChunks(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	asOf := time.Date(2024, 1, 31, 0, 0, 0, 0, time.UTC)
	at := time.Date(2024, 1, 10, 12, 0, 0, 0, time.UTC)
	orders := make([]cvo.Order, 120_000)
	for i := range orders {
		orders[i] = cvo.Order{CustomerID: fmt.Sprint("filler", i%5000), CreatedAt: at.Add(time.Duration(i) * time.Second), Total: 1, SourceName: "web"}
	}
	// tie: same instant in both chunks, the earlier position wins.
	orders[10] = cvo.Order{CustomerID: "tie", CreatedAt: at, Total: 1, SourceName: "first"}
	orders[110_000] = cvo.Order{CustomerID: "tie", CreatedAt: at, Total: 1, SourceName: "second"}
	// later: the second chunk holds the earlier order.
	orders[20] = cvo.Order{CustomerID: "later", CreatedAt: at, Total: 1, UTMSource: "Newsletter"}
	orders[115_000] = cvo.Order{CustomerID: "later", CreatedAt: at.Add(-time.Hour), Total: 1, SourceName: "POS "}
	s := DefaultSettings(asOf)
	ix := buildIndex(nil, ledger.FromOrders(orders), s)
	require.Greater(t, workers(len(orders)), 1, "the test needs two chunks")
	for id, want := range map[string]string{"tie": "first", "later": "pos"} {
		c, ok := ix.lookup(id)
		require.True(t, ok)
		assert.Equal(t, want, ix.source[c], id)
	}
	want := clv.HistoricalCLV(orders, clv.HistoricalConfig{AsOf: asOf})
	for _, h := range want {
		c, ok := ix.lookup(h.CustomerID)
		require.True(t, ok)
		require.Equal(t, h.AcquisitionSource, ix.source[c], h.CustomerID)
	}
}

// summariesByID files the index's summaries by their customers' IDs.
func summariesByID(ix *shopIndex, sums []clv.Summary, who []int32) map[string]clv.Summary {
	out := make(map[string]clv.Summary, len(sums))
	for i, s := range sums {
		out[ix.ids[summaryCustomer(who, i)]] = s
	}
	return out
}
