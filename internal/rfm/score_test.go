package rfm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"
	"unsafe"

	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var asOf = time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC)

func daysAgo(d float64) time.Time { return asOf.Add(-time.Duration(d * 24 * float64(time.Hour))) }

func cust(id string, purchases int, aov float64, firstAgo, lastAgo float64, discounted int) Customer {
	return Customer{ID: id, Purchases: int32(purchases), Revenue: aov * float64(purchases),
		FirstPurchase: daysAgo(firstAgo).Unix(), LastPurchase: daysAgo(lastAgo).Unix(), DiscountedPurchases: int32(discounted)}
}

// TestScoreSmallShop is worked out by hand. The horizon is pinned to 60
// days. Purchases per customer: 1×6, 2×4, 3×3, 4×1: four distinct values,
// so four F levels (1 | 2 | 3 | 4), tiers low, mid, mid, high. Average
// order values 20×3, 50×3, 100×4, 200×2, 250, 300: six values, one pair
// merges; Σ(5·size − 14)² is 70 for 250+300, 120 for 200+250 and more
// for the others, so M cuts at 50, 100, 200, 250. Whole days since the
// last purchase 3, 5, 20×2, 40×3, 45, 90×2, 100×2, 150, 200: the best
// splits, {3,5}{20}{40}{45,90}{100,150,200} and {3,5,20}{40}{45,90}{100}
// {150,200}, both cost 70 and the lower cuts win: R5 ≤ 5 days, R4 ≤ 20,
// R3 ≤ 40, R2 ≤ 90. Inactive means more than 60 days, whatever R says.
func TestScoreSmallShop(t *testing.T) {
	customers := []Customer{
		cust("soulmate", 4, 200, 90, 5, 0),
		cust("lover", 3, 50, 200, 20, 0),
		cust("potential", 2, 200, 100, 40, 0),
		cust("new-passion", 2, 100, 25, 20, 0),
		cust("apprentice", 1, 100, 3, 3, 0),
		cust("don-juan", 1, 300, 40, 40, 0),
		cust("flirting", 2, 250, 50, 45, 0),
		cust("platonic", 1, 20, 40, 40, 0),
		cust("about-to-dump", 1, 100, 100, 100, 0),
		cust("break-up", 1, 20, 200, 200, 0),
		cust("ex-lover-inferred", 3, 50, 300, 90, 0),
		cust("ex-lover-history", 1, 20, 100, 100, 0),
		cust("was-flirting", 3, 50, 300, 90, 0),
		cust("promo-hunter", 2, 100, 160, 150, 2),
		{ID: "no-purchase"},
	}
	previous := map[string]Group{"ex-lover-history": Lovers, "was-flirting": Flirting}
	res := Score(customers, Options{AsOf: asOf, Previous: previous, MinHorizonDays: 60, MaxHorizonDays: 60})

	assert.Equal(t, 60.0, res.Cadence.HorizonDays)
	assert.Equal(t, 4, res.F.Levels)
	assert.Equal(t, []float64{2, 3, 4}, res.F.Cuts)
	assert.Equal(t, 5, res.R.Levels)
	assert.Equal(t, []float64{5, 20, 40, 90}, res.R.Cuts)
	assert.Equal(t, 5, res.M.Levels)
	assert.Equal(t, []float64{50, 100, 200, 250}, res.M.Cuts)

	want := map[string]struct {
		r, f, m uint8
		g       Group
	}{
		"soulmate":          {5, 4, 4, Soulmates},
		"lover":             {4, 3, 2, Lovers},
		"potential":         {3, 2, 4, PotentialLovers},
		"new-passion":       {4, 2, 3, NewPassion},
		"apprentice":        {5, 1, 3, Apprentice},
		"don-juan":          {3, 1, 5, DonJuan},
		"flirting":          {2, 2, 5, Flirting},
		"platonic":          {3, 1, 1, PlatonicFriends},
		"about-to-dump":     {1, 1, 3, AboutToDumpYou},
		"break-up":          {1, 1, 1, BreakUp},
		"ex-lover-inferred": {2, 3, 2, ExLovers},
		"ex-lover-history":  {1, 1, 1, ExLovers},
		"was-flirting":      {2, 3, 2, BreakUp},
		"promo-hunter":      {1, 2, 3, BreakUp},
		"no-purchase":       {0, 0, 0, NoGroup},
	}
	require.Len(t, res.Customers, len(customers))
	for i, a := range res.Customers {
		require.Equal(t, customers[i].ID, a.ID)
		w := want[a.ID]
		assert.Equal(t, w.g, a.Group, a.ID)
		assert.Equal(t, [3]uint8{w.r, w.f, w.m}, [3]uint8{a.R, a.F, a.M}, a.ID)
	}
	for _, g := range Groups() {
		assert.Positive(t, res.Counts[g], "no customer in %s", g)
	}
	assert.Equal(t, 1, res.Counts[NoGroup])

	p := res.Profile(customers[11])
	assert.Equal(t, Lovers, p.Previous, "Profile looks up history for explanations")
	assert.Equal(t, ExLovers, Classify(p))
}

func TestShopCadence(t *testing.T) {
	customers := []Customer{
		cust("a", 3, 10, 100, 20, 0), // own gap 40
		cust("b", 2, 10, 30, 10, 0),  // own gap 20
		cust("c", 1, 10, 5, 5, 0),    // ignored
	}
	cad := ShopCadence(customers, Options{})
	assert.InDelta(t, 30, cad.AvgDaysBetweenOrders, 1e-9)
	assert.Equal(t, 2, cad.RepeatCustomers)
	assert.False(t, cad.Fallback)
	assert.InDelta(t, 60, cad.HorizonDays, 1e-9)

	cad = ShopCadence(customers[2:], Options{})
	assert.True(t, cad.Fallback)
	assert.Equal(t, 90.0, cad.AvgDaysBetweenOrders)
	assert.Equal(t, 180.0, cad.HorizonDays, "the seeds' six months")

	fast := []Customer{cust("a", 11, 10, 10, 0, 0)} // one day between orders
	assert.Equal(t, 30.0, ShopCadence(fast, Options{}).HorizonDays, "clamped to the minimum")
	slow := []Customer{cust("a", 2, 10, 2000, 0, 0)}
	assert.Equal(t, 730.0, ShopCadence(slow, Options{}).HorizonDays, "clamped to the maximum")
}

func TestSummarize(t *testing.T) {
	at := func(d float64) time.Time { return daysAgo(d) }
	orders := []cvo.Order{
		{CustomerID: "a", CreatedAt: at(10), Total: 100, DiscountCodes: []string{"WELCOME"}},
		{CustomerID: "b", CreatedAt: at(50), Total: 30},
		{CustomerID: "a", CreatedAt: at(40), Total: 60, Refunds: []cvo.Refund{{CreatedAt: at(35), Amount: 20}}},
		{CustomerID: "a", CreatedAt: at(5), Total: 80, Test: true},
		{CustomerID: "a", CreatedAt: at(4), Total: 80, Cancelled: true},
		{CustomerID: "a", CreatedAt: at(3), Total: 80, Refunds: []cvo.Refund{{CreatedAt: at(2), Amount: 80}}},
		{CustomerID: "", CreatedAt: at(3), Total: 80},
		{CustomerID: "a", CreatedAt: asOf.Add(time.Hour), Total: 80},
		{CustomerID: "b", CreatedAt: at(20), Total: 50, Refunds: []cvo.Refund{{CreatedAt: asOf.Add(time.Hour), Amount: 10}}},
	}
	got := Summarize(orders, asOf, cvo.RefundAtRefundDate)
	require.Len(t, got, 2)
	assert.Equal(t, Customer{ID: "a", Purchases: 2, FirstPurchase: at(40).Unix(), LastPurchase: at(10).Unix(), Revenue: 140, DiscountedPurchases: 1}, got[0])
	assert.Equal(t, Customer{ID: "b", Purchases: 2, FirstPurchase: at(50).Unix(), LastPurchase: at(20).Unix(), Revenue: 80}, got[1])

	got = Summarize(orders, asOf, cvo.RefundAtOrderDate)
	assert.Equal(t, 70.0, got[1].Revenue, "a later refund is back-dated to its order")
	assert.Equal(t, 35.0, got[1].AvgOrderValue())
	assert.Equal(t, 0.0, Customer{}.AvgOrderValue())
}

// randomShop draws customers with mostly single purchases, lognormal
// order values with round prices (so ties happen) and purchase dates over
// up to three years.
func randomShop(rng *rand.Rand, n int) []Customer {
	customers := make([]Customer, n)
	history := 1 + rng.Float64()*1100
	for i := range customers {
		purchases := 1
		for purchases < 40 && rng.Float64() < 0.35 {
			purchases++
		}
		first := rng.Float64() * history
		last := first
		if purchases > 1 {
			last = rng.Float64() * first
		}
		aov := math.Round(math.Exp(3 + rng.NormFloat64())) // whole currency units
		customers[i] = cust(fmt.Sprintf("c%d", i), purchases, aov, first, last, rng.IntN(purchases+1))
	}
	return customers
}

func TestScorePropertiesOnRandomShops(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for iter := range 200 {
		n := 1 + rng.IntN(400)
		customers := randomShop(rng, n)
		previous := map[string]Group{}
		for i := range customers {
			if rng.Float64() < 0.3 {
				previous[customers[i].ID] = Group(rng.IntN(NumGroups + 1))
			}
		}
		res := Score(customers, Options{AsOf: asOf, Previous: previous})
		byIndex := make([]Group, n)
		for i, c := range customers {
			byIndex[i] = previous[c.ID]
		}
		same := Score(customers, Options{AsOf: asOf, PreviousGroups: byIndex, Previous: map[string]Group{"ignored": Lovers}})
		require.Equal(t, res.Customers, same.Customers, "PreviousGroups and Previous agree")

		total := 0
		for _, c := range res.Counts {
			total += c
		}
		require.Equal(t, n, total, "iteration %d", iter)
		distinct := func(value func(Customer) float64) int {
			seen := map[float64]bool{}
			for _, c := range customers {
				seen[value(c)] = true
			}
			return len(seen)
		}
		wantLevels := []int{
			min(5, distinct(func(c Customer) float64 { return recencyDays(c.LastPurchase, asOf.Unix()) })),
			min(5, distinct(func(c Customer) float64 { return float64(c.Purchases) })),
			min(5, distinct(Customer.AvgOrderValue)),
		}
		for k, s := range []Scale{res.R, res.F, res.M} {
			require.Equal(t, wantLevels[k], s.Levels, "iteration %d: every level populated when values allow", iter)
			require.GreaterOrEqual(t, s.Levels, 1)
			require.LessOrEqual(t, s.Levels, 5)
			require.Len(t, s.Cuts, s.Levels-1)
			require.NotEmpty(t, s.Reason)
		}
		var perLevel [3][6]int
		for i, a := range res.Customers {
			c := customers[i]
			require.True(t, a.Group.Valid(), "iteration %d customer %s", iter, a.ID)
			require.True(t, a.R >= 1 && int(a.R) <= res.R.Levels)
			require.True(t, a.F >= 1 && int(a.F) <= res.F.Levels)
			require.True(t, a.M >= 1 && int(a.M) <= res.M.Levels)
			perLevel[0][a.R]++
			perLevel[1][a.F]++
			perLevel[2][a.M]++

			// Exactly one group: the first matching rule, and no earlier one.
			p := res.Profile(c)
			for _, r := range Rules() {
				if r.Match(p) {
					require.Equal(t, r.Group, a.Group, "iteration %d customer %s", iter, a.ID)
					break
				}
			}
			// Inactive customers and only they land in inactive groups.
			inactive := a.Group == AboutToDumpYou || a.Group == ExLovers || a.Group == BreakUp
			require.Equal(t, p.RecencyDays > res.Cadence.HorizonDays, inactive, "iteration %d customer %s", iter, a.ID)
		}
		for k, s := range []Scale{res.R, res.F, res.M} {
			for level := 1; level <= s.Levels; level++ {
				require.Positive(t, perLevel[k][level], "iteration %d: scale %d level %d is empty", iter, k, level)
				require.InDelta(t, s.Shares[level-1], float64(perLevel[k][level])/float64(n), 1e-9)
			}
		}
		// Scores never decrease with the value they measure.
		for i := range customers {
			for j := range customers {
				if customers[i].Purchases < customers[j].Purchases {
					require.LessOrEqual(t, res.Customers[i].F, res.Customers[j].F)
				}
				if customers[i].AvgOrderValue() == customers[j].AvgOrderValue() {
					require.Equal(t, res.Customers[i].M, res.Customers[j].M, "ties share a score")
				}
			}
			if i > 30 {
				break
			}
		}
	}
}

func TestScoreDegenerateShops(t *testing.T) {
	t.Run("no customers", func(t *testing.T) {
		res := Score(nil, Options{AsOf: asOf})
		assert.Empty(t, res.Customers)
		assert.Equal(t, 1, res.F.Levels)
		assert.Equal(t, 1, res.M.Levels)
	})
	t.Run("one customer", func(t *testing.T) {
		res := Score([]Customer{cust("a", 1, 30, 2, 2, 0)}, Options{AsOf: asOf})
		assert.Equal(t, 1, res.F.Levels)
		assert.Equal(t, 1, res.M.Levels)
		assert.True(t, res.Cadence.Fallback)
		assert.Equal(t, 1, res.R.Levels)
		assert.Equal(t, Assignment{ID: "a", R: 1, F: 1, M: 1, Group: Apprentice}, res.Customers[0], "one level: scores run 1..Levels")
	})
	t.Run("all one-time buyers", func(t *testing.T) {
		var cs []Customer
		for i := range 50 {
			cs = append(cs, cust(fmt.Sprint(i), 1, float64(10+i), float64(i*5), float64(i*5), 0))
		}
		res := Score(cs, Options{AsOf: asOf})
		assert.Equal(t, 1, res.F.Levels)
		assert.Contains(t, res.F.Reason, "all 50 customers have the same number of purchases (1)")
		assert.Equal(t, 5, res.M.Levels)
		assert.Equal(t, 180.0, res.Cadence.HorizonDays)
		for _, a := range res.Customers {
			assert.NotContains(t, []Group{Soulmates, Lovers, NewPassion, PotentialLovers, Flirting, ExLovers}, a.Group)
		}
		assert.Positive(t, res.Counts[DonJuan])
		assert.Positive(t, res.Counts[Apprentice])
		assert.Positive(t, res.Counts[AboutToDumpYou]+res.Counts[BreakUp])
	})
	t.Run("one day of history", func(t *testing.T) {
		var cs []Customer
		for i := range 30 {
			cs = append(cs, cust(fmt.Sprint(i), 1+i%3, float64(10*(1+i%7)), 0.5, 0.1, 0))
		}
		res := Score(cs, Options{AsOf: asOf})
		assert.Equal(t, 30.0, res.Cadence.HorizonDays, "same-day repeats clamp to the minimum horizon")
		assert.Equal(t, 1, res.R.Levels, "everybody last bought on the same day")
		for _, a := range res.Customers {
			assert.Equal(t, uint8(1), a.R)
		}
		assert.Positive(t, res.Counts[Soulmates])
	})
	t.Run("identical spends", func(t *testing.T) {
		var cs []Customer
		for i := range 40 {
			cs = append(cs, cust(fmt.Sprint(i), 1+i%4, 25, float64(100+i), float64(i), 0))
		}
		res := Score(cs, Options{AsOf: asOf})
		assert.Equal(t, 1, res.M.Levels)
		assert.Contains(t, res.M.Reason, "same average order value (25.00)")
		assert.Zero(t, res.Counts[Soulmates]+res.Counts[DonJuan]+res.Counts[PotentialLovers]+res.Counts[Flirting],
			"with one M level nobody is a high spender")
	})
}

func TestScoreDefaultsAsOfToLatestPurchase(t *testing.T) {
	customers := []Customer{cust("a", 1, 10, 40, 40, 0), cust("b", 1, 10, 10, 10, 0)}
	res := Score(customers, Options{})
	assert.True(t, res.AsOf.Equal(daysAgo(10)))
	assert.Equal(t, [2]uint8{1, 2}, [2]uint8{res.Customers[0].R, res.Customers[1].R}, "two distinct days: two levels, the latest buyer on top")
}

func TestLatestPurchaseStandsInForAMissingDate(t *testing.T) {
	zero := time.Time{}.Unix()
	day := int64(secondsPerDay)
	tests := []struct {
		name string
		last []int64 // LastPurchase of customers with a purchase
		none []int64 // LastPurchase of customers without a purchase
		want time.Time
	}{
		{"the latest", []int64{asOf.Unix() - 5*day, asOf.Unix(), asOf.Unix() - day}, nil, asOf},
		{"customers without a purchase are left out", []int64{asOf.Unix() - day}, []int64{asOf.Unix()}, asOf.Add(-24 * time.Hour)},
		{"none after year 1 is none", []int64{zero - 3*day, zero, zero - 9*day}, nil, time.Time{}},
		{"no customers", nil, nil, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var customers []Customer
			for _, at := range tt.last {
				customers = append(customers, Customer{Purchases: 1, FirstPurchase: at, LastPurchase: at})
			}
			for _, at := range tt.none {
				customers = append(customers, Customer{LastPurchase: at})
			}
			got := latestPurchase(customers)
			assert.True(t, tt.want.Equal(got), "got %v", got)
			assert.Equal(t, tt.want.IsZero(), got.IsZero())
		})
	}
}

// TestCustomerStaysSmall holds the RFM input, of which a big shop's
// reports and its backtest each hold one a customer at once, to its
// measured size.
func TestCustomerStaysSmall(t *testing.T) {
	assert.Equal(t, uintptr(48), unsafe.Sizeof(Customer{}))
}
