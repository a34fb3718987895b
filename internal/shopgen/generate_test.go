package shopgen

import (
	"context"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/simulator"
)

func generated(t *testing.T, opts GenOptions) (*recordSink, Stats) {
	t.Helper()
	rec := &recordSink{}
	st, err := Generate(context.Background(), opts, rec)
	require.NoError(t, err)
	return rec, st
}

func TestGenerateDeterministic(t *testing.T) {
	opts := GenOptions{Customers: 3000, Orders: 15000, Seed: 42, Products: 300}
	hash := func(o GenOptions) (string, Stats) {
		h := newHashSink()
		st, err := Generate(context.Background(), o, h)
		require.NoError(t, err)
		return h.sum(), st
	}
	a, stA := hash(opts)
	opts.Workers = 1
	b, stB := hash(opts)
	opts.Workers = 5
	c, _ := hash(opts)
	assert.Equal(t, a, b, "same seed, one worker")
	assert.Equal(t, a, c, "same seed, five workers")
	assert.Equal(t, stA, stB)
	opts.Seed = 43
	d, _ := hash(opts)
	assert.NotEqual(t, a, d, "another seed gives another shop")
}

func TestGenerateShop(t *testing.T) {
	opts := GenOptions{Customers: 5000, Orders: 25000, Seed: 7}
	rec, st := generated(t, opts)

	t.Run("sizes", func(t *testing.T) {
		assert.Equal(t, 5000, st.Customers)
		assert.Len(t, rec.customers, 5000)
		assert.Equal(t, 2000, st.Products)
		assert.Len(t, rec.orders, st.Orders)
		// The pilot holds every customer at this size, so the count lands
		// close; sampling error only enters above 50,000 customers.
		assert.InEpsilon(t, 25000, st.Orders, 0.01)
		assert.Equal(t, 1250, st.GuestOrders, "5 % of the requested orders")
		n := float64(st.Orders)
		assert.InDelta(t, 0.01, float64(st.CancelledOrders)/n, 0.004)
		assert.InDelta(t, 0.03+0.01*0.85, float64(st.Refunds)/n, 0.008, "returns plus refunds of cancelled orders")
		assert.Positive(t, st.TestOrders)
		assert.Less(t, st.TestOrders, 30)
		assert.Len(t, st.Rockstars, 5)
		assert.Len(t, st.Toxic, 5)
	})

	t.Run("order of calls and references", func(t *testing.T) {
		assert.Equal(t, "products", rec.calls[0])
		assert.NotContains(t, rec.calls[1:], "products")
		assert.Greater(t, slices.Index(rec.calls, "orders"), slices.Index(rec.calls, "customers"))
		assert.Zero(t, rec.orphans, "orders handed over before their customer")
		variants := map[int64]bool{}
		for _, p := range rec.products {
			for _, v := range p.Variants {
				variants[v.ID] = true
			}
		}
		ids := map[int64]bool{}
		for _, o := range rec.orders {
			require.False(t, ids[o.ID], "duplicate order id %d", o.ID)
			ids[o.ID] = true
			require.NotEmpty(t, o.LineItems)
			for _, l := range o.LineItems {
				require.True(t, variants[l.VariantID])
			}
			require.False(t, o.CreatedAt.Before(opts.withDefaults().Start))
			require.True(t, o.CreatedAt.Before(opts.withDefaults().End))
			require.LessOrEqual(t, o.Refunded(), o.Total)
			for _, r := range o.Refunds {
				require.False(t, r.CreatedAt.Before(o.CreatedAt))
				require.False(t, r.CreatedAt.After(opts.withDefaults().End))
			}
		}
		assert.True(t, slices.IsSortedFunc(rec.orders, func(a, b simulator.Order) int { return int(a.ID - b.ID) }))
	})

	// Repeat purchases as BG/NBD shapes them: many one-time buyers, a
	// long tail of loyal ones.
	t.Run("repeat purchases", func(t *testing.T) {
		perCustomer := map[int64]int{}
		for _, o := range rec.orders {
			if o.CustomerID != 0 {
				perCustomer[o.CustomerID]++
			}
		}
		require.Len(t, perCustomer, 5000, "every customer has a first order")
		one, many := 0, 0
		for _, n := range perCustomer {
			if n == 1 {
				one++
			}
			if n >= 10 {
				many++
			}
		}
		mean := float64(st.Orders-st.GuestOrders) / 5000
		assert.InDelta(t, 4.75, mean, 0.1)
		assert.InDelta(t, 0.42, float64(one)/5000, 0.08, "share of one-time buyers")
		assert.Greater(t, float64(many)/5000, 0.05, "a tail of frequent buyers")
	})

	t.Run("first-order products and channels change retention", func(t *testing.T) {
		repeat := map[int64]bool{}
		count := map[int64]int{}
		for _, o := range rec.orders {
			count[o.CustomerID]++
		}
		for id, n := range count {
			repeat[id] = n > 1
		}
		rate := func(match func(o simulator.Order) bool) float64 {
			n, r := 0, 0
			for _, o := range rec.orders {
				if o.CustomerID == 0 || o.Journey == nil || o.Journey.CustomerOrderIndex != 1 || !match(o) {
					continue
				}
				n++
				if repeat[o.CustomerID] {
					r++
				}
			}
			require.Positive(t, n)
			return float64(r) / float64(n)
		}
		buys := func(ids []int64) func(simulator.Order) bool {
			return func(o simulator.Order) bool {
				return slices.ContainsFunc(o.LineItems, func(l simulator.LineItem) bool { return slices.Contains(ids, l.ProductID) })
			}
		}
		all := rate(func(simulator.Order) bool { return true })
		assert.Greater(t, rate(buys(st.Rockstars)), all+0.08)
		assert.Less(t, rate(buys(st.Toxic)), all-0.15)
		source := func(s string) func(simulator.Order) bool {
			return func(o simulator.Order) bool { return o.Journey.FirstVisit.UTMSource == s }
		}
		assert.Greater(t, rate(source("newsletter")), rate(source("tiktok"))+0.08)
	})

	t.Run("spend", func(t *testing.T) {
		var sum float64
		costless := 0
		for _, o := range rec.orders {
			sum += o.Total.Float64()
		}
		assert.InDelta(t, 70, sum/float64(len(rec.orders)), 12, "mean order value")
		for _, p := range rec.products {
			if p.Variants[0].UnitCost == nil {
				costless++
			}
		}
		assert.InDelta(t, 0.12, float64(costless)/float64(len(rec.products)), 0.03)
	})
}

func TestGenerateLoadsIntoSimulator(t *testing.T) {
	sim := simulator.New(simulator.Config{ClientID: "id", ClientSecret: "secret", AppURL: "https://app.example.com"})
	defer sim.Close()
	opts := GenOptions{Customers: 2000, Orders: 9000, Seed: 3, Products: 200, Currency: "EUR", Timezone: "Europe/Berlin"}
	shop := opts.Shop()
	assert.Equal(t, ShopInfo{Name: "Generated Shop 3", Currency: "EUR", Timezone: "Europe/Berlin"}, shop)
	require.NoError(t, sim.AddShop("gen.myshopify.com", simulator.ShopOptions{Currency: shop.Currency, Timezone: shop.Timezone}))
	st, err := Generate(context.Background(), opts, ForShop(sim, "gen.myshopify.com"))
	require.NoError(t, err)
	customers, orders, products := sim.Counts("gen.myshopify.com")
	assert.Equal(t, []int{st.Customers, st.Orders, st.Products}, []int{customers, orders, products})
	c, ok := sim.GetCustomer("gen.myshopify.com", 1)
	require.True(t, ok)
	assert.Contains(t, []string{"DE", "FR", "NL", "IT", "ES", "BE", "AT"}, c.DefaultAddress.CountryCode)
}

func TestGenerateRejects(t *testing.T) {
	ctx := context.Background()
	for name, opts := range map[string]GenOptions{
		"no customers":           {Orders: 10},
		"fewer orders":           {Customers: 100, Orders: 100},
		"end before start":       {Customers: 1, Orders: 2, Start: time.Now(), End: time.Now().Add(-time.Hour)},
		"bad timezone":           {Customers: 1, Orders: 2, Timezone: "Mars/Olympus"},
		"impossible repeat rate": {Customers: 10, Orders: 10_000_000},
		"negative basket scale":  {Customers: 1, Orders: 2, BasketScale: -1},
		"NaN basket scale":       {Customers: 1, Orders: 2, BasketScale: math.NaN()},
	} {
		_, err := Generate(ctx, opts, discardSink{})
		assert.Error(t, err, name)
	}
}

func TestGenerateStops(t *testing.T) {
	opts := GenOptions{Customers: 20000, Orders: 100000, Seed: 1, Products: 100}
	_, err := Generate(context.Background(), opts, &failSink{n: 3})
	assert.ErrorContains(t, err, "sink full")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = Generate(ctx, opts, discardSink{})
	assert.ErrorIs(t, err, context.Canceled)
}

func TestGenerateWithoutGuests(t *testing.T) {
	_, st := generated(t, GenOptions{Customers: 500, Orders: 500, Seed: 9, Products: 50, GuestShare: -1})
	assert.Zero(t, st.GuestOrders)
	assert.Equal(t, 500, st.Orders, "one order each: the rate calibrates to zero repeats")
}

func TestStreamDistributions(t *testing.T) {
	s := newStream()
	s.reset(1, 99, 0)
	const n = 200000
	var g, gs, b float64
	for range n {
		x := s.gamma(0.5, 2) // mean 0.25, variance 0.125
		g += x
		gs += x * x
		b += s.beta(2, 6) // mean 0.25
	}
	mean := g / n
	assert.InDelta(t, 0.25, mean, 0.005)
	assert.InDelta(t, 0.125, gs/n-mean*mean, 0.006)
	assert.InDelta(t, 0.25, b/n, 0.003)
	geo := 0
	for range n {
		geo += s.geometric(0.2) // mean (1-p)/p = 4
	}
	assert.InDelta(t, 4, float64(geo)/n, 0.05)
}

func TestBasketScaleFillsBiggerBaskets(t *testing.T) {
	opts := GenOptions{Customers: 2000, Orders: 8000, Seed: 5, Products: 300}
	hash := func(o GenOptions) string {
		h := newHashSink()
		_, err := Generate(context.Background(), o, h)
		require.NoError(t, err)
		return h.sum()
	}
	plain := hash(opts)
	opts.BasketScale = 1
	assert.Equal(t, plain, hash(opts), "a scale of 1 is the default shop")

	linesPerOrder := func(scale float64) float64 {
		o := opts
		o.BasketScale = scale
		_, st := generated(t, o)
		return float64(st.LineItems) / float64(st.Orders)
	}
	one, eight := linesPerOrder(1), linesPerOrder(8)
	assert.Less(t, one, 4.0, "a default order has a few lines")
	assert.Greater(t, eight, 2*one, "a scale of 8 fills far bigger baskets")
	assert.LessOrEqual(t, eight, 12.0, "no basket passes 12 lines")
}
