package scoring

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/clv"
	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/rfm"
)

// checkInvariants holds every scoring to what the app relies on: each
// customer with a purchase has exactly one group and valid scores,
// probabilities are probabilities, nothing is NaN, the aggregates add up
// and the snapshot marshals.
func checkInvariants(t *testing.T, res *Result, orders []cvo.Order, s Settings) {
	t.Helper()
	want := map[string]bool{}
	for _, o := range orders {
		if o.IsPurchase() && !o.CreatedAt.After(s.AsOf) {
			want[o.CustomerID] = true
		}
	}
	require.Len(t, res.Customers, len(want), "one score per customer with a purchase")
	seen := map[string]bool{}
	perGroup := map[rfm.Group]int{}
	for _, c := range res.Customers {
		require.True(t, want[c.CustomerID], "unknown customer %q", c.CustomerID)
		require.False(t, seen[c.CustomerID], "customer %q twice", c.CustomerID)
		seen[c.CustomerID] = true
		require.True(t, c.Group.Valid(), "%s has group %v", c.CustomerID, c.Group)
		perGroup[c.Group]++
		require.True(t, c.R >= 1 && int(c.R) <= res.RFM.R.Levels, "R=%d", c.R)
		require.True(t, c.F >= 1 && int(c.F) <= res.RFM.F.Levels, "F=%d of %d", c.F, res.RFM.F.Levels)
		require.True(t, c.M >= 1 && int(c.M) <= res.RFM.M.Levels, "M=%d of %d", c.M, res.RFM.M.Levels)
		require.LessOrEqual(t, res.RFM.F.Levels, 5)
		require.True(t, c.PAlive >= 0 && c.PAlive <= 1, "P(alive)=%v", c.PAlive)
		require.GreaterOrEqual(t, c.ExpectedOrders, 0.0)
		require.GreaterOrEqual(t, c.PredictedRevenue, 0.0)
		require.GreaterOrEqual(t, c.ExpectedOrderValue, 0.0)
		require.GreaterOrEqual(t, c.Orders, int32(1))
		require.LessOrEqual(t, c.Frequency, c.Orders-1)
		require.True(t, c.Recency >= 0 && c.Recency <= c.T, "recency %v, T %v", c.Recency, c.T)
		require.LessOrEqual(t, c.FirstOrder, c.LastOrder)
		require.LessOrEqual(t, c.LastOrder, s.AsOf.Unix())
		if c.HasNextOrder {
			require.Greater(t, c.NextOrder, s.AsOf.Unix(), "next order before as-of")
		} else {
			require.Zero(t, c.NextOrder)
		}
		v := reflect.ValueOf(c)
		for i := range v.NumField() {
			if f := v.Field(i); f.Kind() == reflect.Float64 {
				require.False(t, math.IsNaN(f.Float()) || math.IsInf(f.Float(), 0), "%s.%s = %v", c.CustomerID, v.Type().Field(i).Name, f.Float())
			}
		}
	}
	total, share := 0, 0.0
	for _, g := range res.Groups {
		require.Equal(t, perGroup[g.Group], g.Customers, g.Name)
		total += g.Customers
		share += g.Share
	}
	require.Len(t, res.Groups, rfm.NumGroups)
	require.Equal(t, len(res.Customers), total)
	require.Equal(t, len(res.Customers), res.Totals.Customers)
	if total > 0 {
		require.InDelta(t, 1, share, 1e-9)
	}
	checkLifetimeValue(t, res)
	raw, err := json.Marshal(res)
	require.NoError(t, err, "the snapshot marshals")
	require.NotContains(t, string(raw), `"customers":[{`, "per-customer rows stay out of the aggregates")
	require.Equal(t, 0, scrubNonFinite(res), "no non-finite aggregate")
}

// checkLifetimeValue holds the lifetime-value report to the customers'
// scores: its cohorts hold every customer once, their last cumulative
// revenue and gross profit add up to the shop's (the same margin rules as
// historical CLV), and its acquisition costs are the customers'.
func checkLifetimeValue(t *testing.T, res *Result) {
	t.Helper()
	lv := res.Reports.LifetimeValue
	require.NotNil(t, lv)
	customers := 0
	var revenue, gross float64
	for _, co := range lv.Cohorts {
		customers += co.Customers
		require.Len(t, co.GrossProfit, len(co.Revenue))
		if n := len(co.Revenue); n > 0 {
			revenue += co.Revenue[n-1] * float64(co.Customers)
			gross += co.GrossProfit[n-1] * float64(co.Customers)
		}
	}
	var margin float64
	for _, c := range res.Customers {
		margin += c.GrossMargin
	}
	require.Equal(t, len(res.Customers), customers, "every customer in one cohort")
	tol := 1e-5*math.Abs(res.Totals.Revenue) + 1e-6
	require.InDelta(t, res.Totals.Revenue, revenue, tol)
	require.InDelta(t, margin, gross, tol, "gross profit is historical CLV's margin")
	require.InDelta(t, res.Totals.AvgCAC, lv.CAC, 1e-9)
	require.Equal(t, len(res.Customers), lv.Overall.Customers)
}

// randomShop perturbs a generated shop with what real shops contain:
// refunds larger than the order, zero totals, orders at the same instant,
// and customers who never bought.
func randomShop(seed uint64, n int, asOf time.Time) ([]cvo.Customer, []cvo.Order) {
	rng := rand.New(rand.NewPCG(seed, 99))
	customers, orders := synthShop(n, asOf, 0.5+rng.Float64()*3, seed)
	for i := range orders {
		switch rng.IntN(40) {
		case 0:
			orders[i].Total = 0
		case 1:
			orders[i].Refunds = []cvo.Refund{{CreatedAt: orders[i].CreatedAt.Add(time.Hour), Amount: orders[i].Total * 2}}
		case 2:
			if i > 0 && orders[i-1].CustomerID == orders[i].CustomerID {
				orders[i].CreatedAt = orders[i-1].CreatedAt
			}
		case 3:
			orders[i].CreatedAt = asOf.Add(time.Duration(rng.IntN(1000)) * time.Hour) // after as-of
		}
	}
	customers = append(customers, cvo.Customer{ID: "never-bought", Country: "DE"})
	return customers, orders
}

func TestScorePropertiesOnRandomShops(t *testing.T) {
	zones := []string{"UTC", "Europe/Berlin", "Pacific/Auckland", "America/Los_Angeles"}
	for seed := uint64(1); seed <= 12; seed++ {
		rng := rand.New(rand.NewPCG(seed, 7))
		asOf := time.Date(2024, time.Month(1+rng.IntN(12)), 1+rng.IntN(28), rng.IntN(24), 0, 0, 0, time.UTC)
		n := []int{1, 3, 40, 300, 1500}[seed%5]
		s := DefaultSettings(asOf)
		s.Location = mustZone(t, zones[rng.IntN(len(zones))])
		s.Unit = clv.TimeUnit(rng.IntN(2))
		s.Model = []clv.ModelKind{clv.ModelMBGNBD, clv.ModelBGNBD}[rng.IntN(2)]
		s.RefundDating = cvo.RefundDating(rng.IntN(2))
		s.CAC = float64(rng.IntN(3)) * 15
		if rng.IntN(2) == 0 {
			s.CACBySource = map[string]float64{"Web": 30, "google": 45}
		}
		s.MonthlyDiscountRate = rng.Float64() * 0.05
		s.ExpectedOrdersHorizon = float64(rng.IntN(3)) * 30
		t.Run(fmt.Sprintf("seed%d/%d/%s/%s/%s", seed, n, s.Location, s.Unit, s.Model), func(t *testing.T) {
			customers, orders := randomShop(seed, n, asOf)
			res, err := Score(t.Context(), customers, orders, s)
			require.NoError(t, err)
			checkInvariants(t, res, orders, s)
		})
	}
}

func TestScoreDegenerateShops(t *testing.T) {
	asOf := time.Date(2024, 6, 30, 23, 0, 0, 0, time.UTC)
	order := func(customer string, daysAgo int, total float64) cvo.Order {
		return cvo.Order{CustomerID: customer, CreatedAt: asOf.AddDate(0, 0, -daysAgo).Add(-time.Hour), Total: total}
	}
	many := func(n int, f func(i int) []cvo.Order) []cvo.Order {
		var out []cvo.Order
		for i := range n {
			out = append(out, f(i)...)
		}
		return out
	}
	cases := []struct {
		name      string
		orders    []cvo.Order
		customers []cvo.Customer
		check     func(t *testing.T, res *Result)
	}{
		{name: "no orders", customers: []cvo.Customer{{ID: "c1"}}, check: func(t *testing.T, res *Result) {
			assert.Empty(t, res.Customers)
			assert.True(t, res.Model.Fallback)
			assert.NotEmpty(t, res.BacktestSkipped)
		}},
		{name: "orders after as-of only", orders: []cvo.Order{order("c1", -3, 10)}, check: func(t *testing.T, res *Result) {
			assert.Empty(t, res.Customers)
		}},
		{name: "one customer, one order", orders: []cvo.Order{order("c1", 10, 25)}, check: func(t *testing.T, res *Result) {
			require.Len(t, res.Customers, 1)
			assert.True(t, res.Model.Fallback)
			assert.True(t, res.Model.Spend.Fallback)
		}},
		{name: "one customer, many orders", orders: many(20, func(i int) []cvo.Order { return []cvo.Order{order("c1", 15*i, 30+float64(i))} }),
			check: func(t *testing.T, res *Result) {
				require.Len(t, res.Customers, 1)
				assert.Equal(t, int32(19), res.Customers[0].Frequency)
			}},
		{name: "all one-time buyers", orders: many(2000, func(i int) []cvo.Order { return []cvo.Order{order(fmt.Sprint("c", i), i%700, float64(5+i%90))} }),
			check: func(t *testing.T, res *Result) {
				require.Len(t, res.Customers, 2000)
				assert.True(t, res.Model.Fallback)
				assert.Contains(t, res.Model.Reason, "0 customers with repeat purchases")
				assert.Equal(t, 0.0, res.Totals.RetentionRate)
				for _, c := range res.Customers {
					assert.Zero(t, c.ExpectedOrders, "nobody ever came back")
				}
			}},
		{name: "one day of history", orders: many(500, func(i int) []cvo.Order {
			return []cvo.Order{order(fmt.Sprint("c", i), 0, float64(10+i%7)), order(fmt.Sprint("c", i), 0, 3)}
		}), check: func(t *testing.T, res *Result) {
			require.Len(t, res.Customers, 500)
			for _, c := range res.Customers {
				assert.Equal(t, 0.0, c.T)
				assert.Equal(t, int32(0), c.Frequency, "same-day orders are one purchase")
				assert.Equal(t, int32(2), c.Orders)
			}
		}},
		{name: "identical spends", orders: many(300, func(i int) []cvo.Order {
			var out []cvo.Order
			for k := range 1 + i%4 {
				out = append(out, order(fmt.Sprint("c", i), (i*7+k*40)%600, 20))
			}
			return out
		}), check: func(t *testing.T, res *Result) {
			assert.True(t, res.Model.Spend.Fallback)
			assert.Contains(t, res.Model.Spend.Reason, "identical")
			for _, c := range res.Customers {
				assert.InDelta(t, 20, c.ExpectedOrderValue, 1e-9)
			}
			assert.Equal(t, 1, res.RFM.M.Levels)
		}},
		{name: "zero-value orders", orders: many(200, func(i int) []cvo.Order {
			return []cvo.Order{order(fmt.Sprint("c", i), i, 0), order(fmt.Sprint("c", i), i+50, 0)}
		}), check: func(t *testing.T, res *Result) {
			for _, c := range res.Customers {
				assert.Zero(t, c.PredictedCLV)
			}
		}},
		{name: "amounts that are not numbers", orders: []cvo.Order{
			order("c1", 5, math.NaN()), order("c1", 50, 10), order("c2", 8, math.Inf(1)),
			{CustomerID: "c3", CreatedAt: asOf.AddDate(0, 0, -3), Total: 10, Refunds: []cvo.Refund{{CreatedAt: asOf, Amount: math.NaN()}},
				Lines: []cvo.LineItem{{Quantity: 1, UnitPrice: math.Inf(-1), UnitCost: math.NaN(), CostKnown: true}}},
		}, check: func(t *testing.T, res *Result) {
			require.Len(t, res.Customers, 3)
			require.NotEmpty(t, res.Warnings)
			assert.Contains(t, res.Warnings[0], "3 orders")
		}},
		{name: "huge amounts", orders: many(100, func(i int) []cvo.Order {
			return []cvo.Order{order(fmt.Sprint("c", i), i, 1e12*float64(i+1)), order(fmt.Sprint("c", i), i+100, 1e13)}
		})},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := DefaultSettings(asOf)
			res, err := Score(t.Context(), tc.customers, tc.orders, s)
			require.NoError(t, err)
			checkInvariants(t, res, tc.orders, s)
			if tc.check != nil {
				tc.check(t, res)
			}
		})
	}
}

func TestPreviousGroupsKeepExLoversAndFeedTransitions(t *testing.T) {
	asOf := time.Date(2024, 6, 30, 12, 0, 0, 0, time.UTC)
	_, orders := synthShop(800, asOf, 2, 5)
	s := DefaultSettings(asOf)
	s.BacktestHoldoutMonths = -1
	first, err := Score(t.Context(), nil, orders, s)
	require.NoError(t, err)
	previous := map[string]rfm.Group{}
	var inactiveFlirt string
	for _, c := range first.Customers {
		previous[c.CustomerID] = c.Group
		if c.R == 1 && c.Group != rfm.ExLovers && inactiveFlirt == "" {
			inactiveFlirt = c.CustomerID
		}
	}
	require.NotEmpty(t, inactiveFlirt)
	// Pretend the inactive customer was a Soulmate last time: inactive
	// former Soulmates are Ex-Lovers.
	previous[inactiveFlirt] = rfm.Soulmates
	previous["gone-customer"] = rfm.Lovers
	s.Previous = previous
	second, err := Score(t.Context(), nil, orders, s)
	require.NoError(t, err)
	moved := 0
	for _, c := range second.Customers {
		assert.Equal(t, previous[c.CustomerID], c.PreviousGroup)
		if c.CustomerID == inactiveFlirt {
			assert.Equal(t, rfm.ExLovers, c.Group)
		}
		if c.Group != c.PreviousGroup {
			moved++
		}
	}
	tr := second.Reports.Transitions
	assert.Equal(t, moved, tr.Moved)
	assert.Equal(t, 1, tr.Gone)
	assert.Equal(t, 1, tr.Counts[rfm.Soulmates][rfm.ExLovers])
}

func TestBuilderScoresLikeTheSlices(t *testing.T) {
	asOf := time.Date(2024, 3, 31, 23, 0, 0, 0, time.UTC)
	customers, orders := randomShop(3, 600, asOf)
	for i := range customers {
		customers[i].ShopifyRFMGroup = ShopifyRFMGroups[i%len(ShopifyRFMGroups)]
	}
	s := DefaultSettings(asOf)
	want, err := Score(t.Context(), customers, orders, s)
	require.NoError(t, err)
	b := NewBuilder(0, 0)
	for _, c := range customers {
		b.AddCustomer(c)
	}
	for _, o := range orders {
		o.ID, o.LandingPage = "gid://shopify/Order/1", "https://example.com/landing"
		b.AddOrder(&o)
	}

	assert.Less(t, b.Orders(), len(orders), "non-purchases are dropped")
	got, err := b.Score(t.Context(), s)
	require.NoError(t, err)
	assert.Equal(t, want.Customers, got.Customers)
	assert.Equal(t, want.Model, got.Model)
	assert.Equal(t, want.Groups, got.Groups)
	require.NotEmpty(t, want.ShopifyCrosswalk)
	assert.Equal(t, want.ShopifyCrosswalk, got.ShopifyCrosswalk, "the builder keeps Shopify's groups")

	// Non-finite amounts are fixed as orders arrive, and reported.
	b = NewBuilder(0, 0)
	for i := range orders {
		b.AddOrder(&orders[i])
	}
	b.AddOrder(&cvo.Order{CustomerID: "nan", CreatedAt: asOf.Add(-time.Hour), Total: math.NaN(),
		Refunds: []cvo.Refund{{CreatedAt: asOf, Amount: math.Inf(1)}}})
	got, err = b.Score(t.Context(), s)
	require.NoError(t, err)
	require.Len(t, got.Warnings, 1)
	assert.Contains(t, got.Warnings[0], "1 orders")
	i := slices.IndexFunc(got.Customers, func(c CustomerScore) bool { return c.CustomerID == "nan" })
	require.GreaterOrEqual(t, i, 0)
	assert.Equal(t, 0.0, got.Customers[i].Revenue)
}

func TestScoreRejectsBadSettingsAndHonoursCancellation(t *testing.T) {
	asOf := time.Date(2024, 3, 31, 0, 0, 0, 0, time.UTC)
	_, orders := synthShop(50, asOf, 1, 9)
	for name, mutate := range map[string]func(*Settings){
		"no as-of":          func(s *Settings) { s.AsOf = time.Time{} },
		"unknown model":     func(s *Settings) { s.Model = "pareto" },
		"negative discount": func(s *Settings) { s.MonthlyDiscountRate = -0.1 },
		"margin above 1":    func(s *Settings) { s.DefaultMarginRate = 1.5 },
		"negative CAC":      func(s *Settings) { s.CACBySource = map[string]float64{"google": -1} },
		"NaN horizon":       func(s *Settings) { s.ExpectedOrdersHorizon = math.NaN() },
	} {
		t.Run(name, func(t *testing.T) {
			s := DefaultSettings(asOf)
			mutate(&s)
			_, err := Score(t.Context(), nil, orders, s)
			require.Error(t, err)
			assert.Equal(t, cvo.EINVALID, cvo.ErrorCode(err))
		})
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := Score(ctx, nil, orders, DefaultSettings(asOf))
	assert.ErrorIs(t, err, context.Canceled)
}

func TestScrubNonFiniteReplacesAndCounts(t *testing.T) {
	res := &Result{Totals: Totals{AOV: math.NaN(), CLVToCAC: math.Inf(1)},
		Parameters: Parameters{CACBySource: map[string]float64{"x": math.Inf(-1), "y": 2}},
		Groups:     []GroupAggregate{{AvgPAlive: math.NaN()}},
		Customers:  []CustomerScore{{PAlive: math.NaN()}}}
	res.Reports.Retention.RetentionRate = math.NaN()
	assert.Equal(t, 5, scrubNonFinite(res))
	_, err := json.Marshal(res)
	require.NoError(t, err)
	assert.Equal(t, 2.0, res.Parameters.CACBySource["y"])
	assert.True(t, math.IsNaN(res.Customers[0].PAlive), "customers are assembled finite, not scrubbed")
}

// The rescore hands the previous scoring's groups to the Builder, a byte a
// customer in its ledger, instead of Settings.Previous, a map of every ID:
// the scores, the transitions and the RFM groups must come out the same,
// with the index borrowed from the reports or (an undated order) its own.
func TestPreviousGroupsInTheLedgerScoreAsTheMap(t *testing.T) {
	asOf := time.Date(2024, 6, 30, 12, 0, 0, 0, time.UTC)
	for _, undated := range []bool{false, true} {
		customers, orders := shopMaybeUndated(8, 900, asOf, undated)
		s := DefaultSettings(asOf)
		first, err := Score(t.Context(), customers, orders, s)
		require.NoError(t, err)
		rng := rand.New(rand.NewPCG(8, 1))
		previous := map[string]rfm.Group{"gone-customer": rfm.Lovers, "another-gone": rfm.BreakUp, "not-a-group": rfm.Group(200)}
		for _, c := range first.Customers {
			if rng.IntN(10) > 0 { // some customers are new since
				previous[c.CustomerID] = rfm.Group(1 + rng.IntN(int(rfm.NumGroups)))
			}
		}

		s.Previous = previous
		want, err := Score(t.Context(), customers, orders, s)
		require.NoError(t, err)

		s.Previous = nil
		b := NewBuilder(len(customers), len(orders))
		for _, c := range customers {
			b.AddCustomer(c)
		}
		for id, g := range previous {
			b.AddPreviousGroup(id, g)
		}
		for i := range orders {
			b.AddOrder(&orders[i])
		}
		got, err := b.Score(t.Context(), s)
		require.NoError(t, err)

		want.Timings, got.Timings = nil, nil
		require.Equal(t, want, got, "undated %v", undated)
		assert.NotZero(t, got.Reports.Transitions.Moved)
		assert.Equal(t, 2, got.Reports.Transitions.Gone)
	}
}

// An empty Settings.Previous says there was no previous scoring, whatever
// groups the ledger carries, for the reports as for the scores.
func TestAnEmptyPreviousMapMeansNoPreviousScoring(t *testing.T) {
	asOf := time.Date(2024, 6, 30, 12, 0, 0, 0, time.UTC)
	customers, orders := randomShop(4, 300, asOf)
	score := func(s Settings, withLedgerGroups bool) *Result {
		b := NewBuilder(len(customers), len(orders))
		for _, c := range customers {
			b.AddCustomer(c)
			if withLedgerGroups {
				b.AddPreviousGroup(c.ID, rfm.Lovers)
			}
		}
		for i := range orders {
			b.AddOrder(&orders[i])
		}
		res, err := b.Score(t.Context(), s)
		require.NoError(t, err)
		res.Timings = nil
		return res
	}
	s := DefaultSettings(asOf)
	want := score(s, false)
	s.Previous = map[string]rfm.Group{}
	require.Equal(t, want, score(s, true))
}
