package ledger

import (
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/cvo"
)

// randomCustomerID is one of a few IDs numbered by value (decimal, as
// Shopify's are) or by the string (the others), some of each alike; the
// rarer ones sit at the edges of the decimal ones.
func randomCustomerID(r *rand.Rand) string {
	if r.IntN(10) == 0 {
		return []string{"c1", "-7", "0", "9223372036854775808"}[r.IntN(4)]
	}
	return []string{"7", "07", "9223372036854775807"}[r.IntN(3)]
}

// randomOrders makes orders of a few customers bunched into a few seconds
// (so that ties at one second, with different nanoseconds, are common),
// with refunds that may or may not cancel an order, in random input order.
func randomOrders(r *rand.Rand, n int) []cvo.Order {
	base := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	orders := make([]cvo.Order, n)
	for i := range orders {
		created := base.Add(time.Duration(r.IntN(6))*time.Second + time.Duration(r.IntN(3))*300*time.Millisecond)
		if r.IntN(25) == 0 {
			created = time.Time{} // a data error the reports leave out
		}
		o := cvo.Order{
			ID:         fmt.Sprint(i),
			CustomerID: randomCustomerID(r),
			CreatedAt:  created,
			Total:      float64(r.IntN(4)) * 10,
			Cancelled:  r.IntN(10) == 0,
			Test:       r.IntN(12) == 0,
			SourceName: fmt.Sprintf("channel-%d", i),
			UTMSource:  []string{"", " Google "}[r.IntN(2)],
		}
		if r.IntN(8) == 0 {
			o.CustomerID = ""
		}
		if r.IntN(3) == 0 {
			o.DiscountCodes = []string{"WELCOME", fmt.Sprint("code-", i)}
		}
		for range r.IntN(3) {
			o.Refunds = append(o.Refunds, cvo.Refund{CreatedAt: created.Add(time.Duration(r.IntN(4)) * time.Second),
				Amount: float64(r.IntN(3)) * 10})
		}
		for range r.IntN(3) {
			// Lines differ in each field alone too, so that numbering by
			// one field would give two lines one number.
			o.Lines = append(o.Lines, cvo.LineItem{ProductID: fmt.Sprint("p", r.IntN(5)), Title: []string{"Tea", "Mug"}[r.IntN(2)],
				Vendor: []string{"V", "W"}[r.IntN(2)], ProductType: []string{"", "Kitchen"}[r.IntN(2)],
				Quantity: 1 + r.IntN(3), UnitPrice: float64(r.IntN(20)), UnitCost: float64(r.IntN(10)), CostKnown: r.IntN(2) == 0})
		}
		orders[i] = o
	}
	return orders
}

// TestLedgerDecidesAsOrdersDo holds the ledger to cvo.Order's own rules
// for every as-of instant around the orders and both refund datings:
// which orders count, their net value and known cost, and that every
// customer's first purchase, whatever the as-of date, kept its detail.
func TestLedgerDecidesAsOrdersDo(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	base := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	firstWithoutDetail := 0
	for trial := range 300 {
		orders := randomOrders(r, 1+r.IntN(30))
		l := FromOrders(orders)
		// kept[j] is the input position of the ledger's order j.
		var kept []int
		for i := range orders {
			if orders[i].MayBePurchase() {
				kept = append(kept, i)
			}
		}
		require.Equal(t, len(kept), l.Len(), "trial %d", trial)
		for j, i := range kept {
			o, lo := &orders[i], &l.Orders()[j]
			require.Equal(t, o.CustomerID, l.CustomerID(lo.Customer))
			require.True(t, o.CreatedAt.Equal(l.Created(lo)))
			c1, c2, c3 := pricingCost(o)
			k1, k2, k3 := l.KnownCost(lo)
			require.Equal(t, [3]float64{c1, c2, c3}, [3]float64{k1, k2, k3})
			require.Equal(t, len(o.DiscountCodes) > 0, lo.Discounted())
		}
		for step := -1; step <= 24; step++ {
			asOf := base.Add(time.Duration(step) * 250 * time.Millisecond)
			for _, dating := range []cvo.RefundDating{cvo.RefundAtRefundDate, cvo.RefundAtOrderDate} {
				rules := l.AsOf(asOf, dating)
				// Customer → ledger position of the first purchase, as the
				// scoring counts purchases and as the reports do (without
				// orders that have no date).
				first, firstDated := map[int32]int{}, map[int32]int{}
				for j, i := range kept {
					o, lo := &orders[i], &l.Orders()[j]
					counts := rules.Counts(lo)
					require.Equal(t, o.IsPurchaseAsOf(asOf, dating), counts, "trial %d order %d as of %v", trial, i, asOf)
					require.Equal(t, o.NetValueAsOf(asOf, dating), rules.Net(lo))
					require.Equal(t, o.CreatedAt.IsZero(), l.CreatedZero(lo))
					if !counts {
						continue
					}
					// First by second, then by input order: how the scoring
					// and the reports order a customer's purchases.
					if f, ok := first[lo.Customer]; !ok || lo.At < l.Orders()[f].At {
						first[lo.Customer] = j
					}
					if f, ok := firstDated[lo.Customer]; !l.CreatedZero(lo) && (!ok || lo.At < l.Orders()[f].At) {
						firstDated[lo.Customer] = j
					}
				}
				for _, j := range append(slices.Collect(maps.Values(first)), slices.Collect(maps.Values(firstDated))...) {
					lo := &l.Orders()[j]
					d, ok := l.Detail(lo)
					if !ok {
						firstWithoutDetail++
						continue
					}
					o := &orders[kept[j]]
					assert.Equal(t, o.SourceName, d.SourceName)
					assert.Equal(t, o.AcquisitionSource(), d.Acquisition)
					assert.Equal(t, o.DiscountCodes, d.DiscountCodes)
					require.Len(t, d.Lines, len(o.Lines))
					for k, n := range d.Lines {
						want := o.Lines[k]
						assert.Equal(t, Line{ProductID: want.ProductID, Title: want.Title, Vendor: want.Vendor, ProductType: want.ProductType}, *l.Line(n))
					}
				}
			}
		}
	}
	assert.Zero(t, firstWithoutDetail, "a first purchase lost its detail")
}

// TestLedgerKeepsFewDetails: a customer's later orders, once an order no
// refund can cancel came first, keep no strings or lines.
func TestLedgerKeepsFewDetails(t *testing.T) {
	base := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	var orders []cvo.Order
	for day := range 100 {
		orders = append(orders, cvo.Order{CustomerID: "c", CreatedAt: base.AddDate(0, 0, 99-day), Total: 10,
			SourceName: "web", DiscountCodes: []string{"WELCOME"}, Lines: []cvo.LineItem{{ProductID: "p", Quantity: 1, UnitPrice: 10}}})
	}
	// Added newest first, each order is the earliest so far: every one is
	// kept while building, and only the last survives.
	l := FromOrders(orders)
	withDetail := 0
	for i := range l.Orders() {
		if _, ok := l.Detail(&l.Orders()[i]); ok {
			withDetail++
			assert.Equal(t, base, l.Created(&l.Orders()[i]).UTC())
		}
	}
	assert.Equal(t, 1, withDetail)
	// The dropped details' codes and lines are let go with them.
	assert.Len(t, l.codes, 1)
	assert.Len(t, l.lineRefs, 1)
}

// TestLedgerOfPlainRowsHoldsNoDetails: rows with only a customer, a time
// and a total keep no detail, and the ledger lets go of the details'
// array its builder sized for them.
func TestLedgerOfPlainRowsHoldsNoDetails(t *testing.T) {
	b := NewBuilder(4000)
	base := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	for i := range 4000 {
		b.AddPlain(fmt.Sprint(i%1000), base.Add(time.Duration(i)*time.Hour), 10)
	}
	require.Positive(t, cap(b.l.details), "the builder sizes the details up front")
	l := b.Ledger()
	assert.Equal(t, 4000, l.Len())
	// Nil, not merely empty: an empty slice of the array would keep it.
	assert.Nil(t, l.details)
}

func TestLedgerFixesAmountsThatAreNotNumbers(t *testing.T) {
	at := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	l := FromOrders([]cvo.Order{
		{CustomerID: "a", CreatedAt: at, Total: math.NaN()},
		{CustomerID: "b", CreatedAt: at, Total: 5, Refunds: []cvo.Refund{{CreatedAt: at, Amount: math.Inf(1)}}},
		{CustomerID: "c", CreatedAt: at, Total: 5, Lines: []cvo.LineItem{{Quantity: 1, UnitPrice: math.Inf(-1), UnitCost: 1, CostKnown: true},
			{Quantity: 1, UnitPrice: 2, UnitCost: 1, CostKnown: true}}},
		{CustomerID: "d", CreatedAt: at, Total: 5},
	})
	assert.Equal(t, 3, l.Fixed())
	rules := l.AsOf(at, cvo.RefundAtRefundDate)
	o := l.Orders()
	assert.Equal(t, 0.0, o[0].Total)
	assert.Equal(t, 5.0, rules.Net(&o[1]), "an infinite refund counts as 0")
	cost, covered, revenue := l.KnownCost(&o[2])
	assert.Equal(t, [3]float64{2, 2, 2}, [3]float64{cost, covered, revenue}, "the infinite price counts as 0, its cost still counts")
}

// pricingCost is cvo.Order.KnownCost where it can price the order's
// margin, zeros elsewhere: what the ledger keeps.
func pricingCost(o *cvo.Order) (cost, covered, lineRevenue float64) {
	cost, covered, lineRevenue = o.KnownCost()
	if !(covered > 0 && lineRevenue > 0) {
		return 0, 0, 0
	}
	return cost, covered, lineRevenue
}

func TestLedgerKeepsOnlyCostsThatPriceAMargin(t *testing.T) {
	at := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	line := func(qty int, price, cost float64, known bool) cvo.LineItem {
		return cvo.LineItem{Quantity: qty, UnitPrice: price, UnitCost: cost, CostKnown: known}
	}
	tests := []struct {
		name  string
		lines []cvo.LineItem
		want  [3]float64
	}{
		{"no lines", nil, [3]float64{}},
		{"no unit cost known", []cvo.LineItem{line(2, 10, 4, false)}, [3]float64{}},
		{"a known cost on a free line", []cvo.LineItem{line(1, 0, 4, true), line(1, 10, 0, false)}, [3]float64{}},
		{"credit outweighs the lines", []cvo.LineItem{line(1, 10, 4, true), line(1, -30, 0, false)}, [3]float64{}},
		{"part known", []cvo.LineItem{line(2, 10, 4, true), line(1, 5, 0, false)}, [3]float64{8, 20, 25}},
		{"a known cost of nothing", []cvo.LineItem{line(1, 10, 0, true)}, [3]float64{0, 10, 10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := FromOrders([]cvo.Order{{CustomerID: "a", CreatedAt: at, Total: 25, Lines: tt.lines}})
			cost, covered, revenue := l.KnownCost(&l.Orders()[0])
			assert.Equal(t, tt.want, [3]float64{cost, covered, revenue})
			kept := 0
			if tt.want != ([3]float64{}) {
				kept = 1
			}
			assert.Equal(t, kept, l.costs.len())
		})
	}
}

func TestLedgerRowsAddingUpPastTheLargestNumberAreFixed(t *testing.T) {
	b := NewBuilder(0)
	at := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	i := b.AddPlain("a", at, 1e308)
	b.AddToTotal(i, 1e308)
	l := b.Ledger()
	assert.Equal(t, 0.0, l.Orders()[0].Total)
	assert.Equal(t, 1, l.Fixed())
}

func TestLedgerLatestSeesEveryOrder(t *testing.T) {
	at := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	l := FromOrders([]cvo.Order{
		{CustomerID: "a", CreatedAt: at, Total: 1},
		{CustomerID: "a", CreatedAt: at.Add(time.Hour), Total: 1, Test: true},
	})
	assert.Equal(t, 1, l.Len(), "a test order is not kept")
	assert.Equal(t, at.Add(time.Hour), l.Latest(), "but it still dates the history")
}

func TestStringBlocksKeepCopies(t *testing.T) {
	var b StringBlocks
	var all []string
	for i := range 200_000 {
		all = append(all, b.Keep(fmt.Sprintf("id-%d", i)))
	}
	for i, s := range all {
		require.Equal(t, fmt.Sprintf("id-%d", i), s, "a string changed when a later one was kept")
	}
	long := string(make([]byte, blockSize))
	assert.Equal(t, long, b.Keep(long))
}

// TestSummedOrdersMakeTheSameLedger holds a ledger filled with orders
// whose lines are summed (AddSummed), then with the details it still
// wants (AddDetail), to the ledger of the same orders read whole (Add):
// the same orders, costs, refunds and details, and the same count of
// fixed amounts, when storage summed every order, none, or some, and when
// a price or a total is not a number (storage cannot sum those). It also
// holds the orders wanted to exactly those a ledger needs: the first
// purchases it keeps, and the orders storage could not sum.
func TestSummedOrdersMakeTheSameLedger(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	wanted, orderCount := 0, 0
	for trial := range 400 {
		orders := randomOrders(r, 1+r.IntN(30))
		for i := range orders {
			if len(orders[i].Lines) > 0 && r.IntN(15) == 0 {
				orders[i].Lines[0].UnitPrice = math.NaN()
			}
			if r.IntN(20) == 0 {
				orders[i].Total = math.NaN()
			}
		}
		summedShare := []int{0, 1, 2}[trial%3] // none, all, half
		want := FromOrders(orders)

		b := NewBuilder(0)
		wantKeys := []int64{}
		kept := 0 // the ledger position of the next order kept
		for i := range orders {
			o := orders[i]
			sum := Summary{Key: int64(i), Discounted: len(o.DiscountCodes) > 0, Lines: len(o.Lines) > 0}
			cost, fixed := lineCost(o.Lines)
			if sum.Lines && !fixed && (summedShare == 1 || (summedShare == 2 && r.IntN(2) == 0)) {
				sum.Summed, sum.Cost = true, cost
			}
			if v, err := strconv.ParseInt(o.CustomerID, 10, 64); err == nil && v != 0 && o.CustomerID == strconv.FormatInt(v, 10) && r.IntN(2) == 0 {
				// Storage gives its customer IDs as numbers.
				sum.Customer, o.CustomerID = v, "ignored"
			}
			// What AddSummed must not read.
			o.Lines = []cvo.LineItem{{Title: "ignored", Quantity: 1, UnitPrice: 1e6}}
			o.SourceName, o.UTMSource, o.UTMCampaign, o.DiscountCodes = "ignored", "ignored", "ignored", []string{"IGNORED"}
			b.AddSummed(&o, sum)
			if !o.MayBePurchase() {
				continue
			}
			if _, detailed := want.Detail(&want.Orders()[kept]); (sum.Lines && !sum.Summed) || detailed {
				wantKeys = append(wantKeys, int64(i))
			}
			kept++
		}
		keys := b.Wanted()
		require.Equal(t, wantKeys, keys, "trial %d", trial)
		for _, k := range keys {
			b.AddDetail(k, &orders[k])
		}
		wanted += len(keys)
		orderCount += len(orders)
		got := b.Ledger()

		require.Equal(t, want.Len(), got.Len(), "trial %d", trial)
		require.Equal(t, want.Customers(), got.Customers())
		require.Equal(t, want.Latest(), got.Latest())
		require.Equal(t, want.Fixed(), got.Fixed(), "trial %d", trial)
		for j := range want.Orders() {
			w, g := &want.Orders()[j], &got.Orders()[j]
			require.Equal(t, w.At, g.At)
			require.Equal(t, want.nanos(w), got.nanos(g))
			require.Equal(t, w.Total, g.Total)
			require.Equal(t, want.CustomerID(w.Customer), got.CustomerID(g.Customer))
			require.Equal(t, w.Discounted(), g.Discounted())
			require.Equal(t, want.Refunds(w), got.Refunds(g))
			c1, c2, c3 := want.KnownCost(w)
			k1, k2, k3 := got.KnownCost(g)
			require.Equal(t, [3]float64{c1, c2, c3}, [3]float64{k1, k2, k3}, "trial %d order %d", trial, j)
			require.Equal(t, resolvedDetail(want, w), resolvedDetail(got, g), "trial %d order %d", trial, j)
		}
	}
	assert.Less(t, wanted, orderCount/2, "most orders were wanted")
}

// resolvedDetail is an order's detail with its lines' numbers resolved,
// which two ledgers may number differently.
func resolvedDetail(l *Ledger, o *Order) any {
	d, ok := l.Detail(o)
	if !ok {
		return nil
	}
	lines := make([]Line, len(d.Lines))
	for i, n := range d.Lines {
		lines[i] = *l.Line(n)
	}
	out := d
	out.Lines = nil
	return struct {
		Detail
		Lines []Line
	}{out, lines}
}

// A key out of order would lose its order's detail without a word, so
// AddSummed refuses it.
func TestSummedKeysMustGrow(t *testing.T) {
	b := NewBuilder(0)
	o := cvo.Order{CustomerID: "a", CreatedAt: time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), Total: 1}
	b.AddSummed(&o, Summary{Key: 5})
	assert.Panics(t, func() { b.AddSummed(&o, Summary{Key: 5}) })
	assert.Panics(t, func() { b.AddSummed(&o, Summary{Key: 4}) })
	assert.NotPanics(t, func() { b.AddSummed(&o, Summary{Key: 6}) })
}

// A customer's record gives the reports its location and the crosswalk
// its Shopify group, by the same number as the customer's orders.
func TestLedgerKeepsEachCustomersFirstRecord(t *testing.T) {
	at := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	b := NewBuilder(0)
	b.AddCustomer(&cvo.Customer{ID: "a", Country: "DE", City: "Berlin", ShopifyRFMGroup: "CHAMPIONS"})
	b.AddCustomer(&cvo.Customer{ID: "a", Country: "FR", City: "Paris"}) // a duplicate: the first record wins
	b.AddCustomer(&cvo.Customer{Country: "IT"})                         // no ID: left out
	b.Add(&cvo.Order{CustomerID: "b", CreatedAt: at, Total: 5})
	b.Add(&cvo.Order{CustomerID: "a", CreatedAt: at, Total: 5})
	b.Add(&cvo.Order{CustomerID: "c", CreatedAt: at, Total: 5})
	b.AddCustomer(&cvo.Customer{ID: "c", Country: "ES"}) // listed after its orders
	b.AddCustomer(&cvo.Customer{ID: "d", City: "Lyon"})  // listed, never ordered
	l := b.Ledger()

	profiles := map[string]Profile{}
	for c := range int32(l.Customers()) {
		if p, ok := l.Profile(c); ok {
			profiles[l.CustomerID(c)] = p
		}
	}
	assert.Equal(t, map[string]Profile{
		"a": {Country: "DE", City: "Berlin", ShopifyRFMGroup: "CHAMPIONS"},
		"c": {Country: "ES"},
		"d": {City: "Lyon"},
	}, profiles)
	assert.Equal(t, 4, l.Customers(), "a, b, c and d")
	for _, o := range l.Orders() {
		_, listed := l.Profile(o.Customer)
		assert.Equal(t, l.CustomerID(o.Customer) != "b", listed, l.CustomerID(o.Customer))
	}
}

// Decimal IDs are numbered by value and every other string by itself:
// an ID given as a number and as its decimal string is one customer, and
// strings that merely read as the same number (a leading zero, a sign)
// are others, each keeping its own name.
func TestNumberingByValueKeepsEachID(t *testing.T) {
	n := newNumbering(0)
	steps := []struct {
		id      string
		decimal int64 // given as a number instead, when id is ""
		want    int32
		name    string
	}{
		{id: "7", want: 0, name: "7"},
		{decimal: 7, want: 0, name: "7"},
		{id: "07", want: 1, name: "07"},
		{id: "+7", want: 2, name: "+7"},
		{decimal: -7, want: 3, name: "-7"},
		{id: "-7", want: 3, name: "-7"},
		{id: "0", want: 4, name: "0"},
		{decimal: 0, want: 4, name: "0"},
		{id: "9223372036854775807", want: 5, name: "9223372036854775807"},
		{decimal: math.MaxInt64, want: 5, name: "9223372036854775807"},
		{id: "9223372036854775808", want: 6, name: "9223372036854775808"},
		{id: "99999999999999999999", want: 7, name: "99999999999999999999"},
		{id: "c1", want: 8, name: "c1"},
		{id: "1 ", want: 9, name: "1 "},
		{decimal: 7234567890123, want: 10, name: "7234567890123"},
		{id: "7234567890123", want: 10, name: "7234567890123"},
	}
	for i, s := range steps {
		var got int32
		if s.id != "" {
			got = n.number(s.id)
		} else {
			got = n.numberDecimal(s.decimal)
		}
		require.Equal(t, s.want, got, "step %d", i)
		require.Equal(t, s.name, n.names[got], "step %d", i)
	}
	assert.Len(t, n.names, 11)
}

func TestCostsKeepTheirNumbersAcrossBlocks(t *testing.T) {
	var c blocks[Cost]
	const n = 2*entryBlock + 3
	for i := range n {
		require.EqualValues(t, i+1, c.add(Cost{Cost: float64(i)}))
	}
	for i := range n {
		require.Equal(t, float64(i), c.at(int32(i+1)).Cost, "cost %d", i+1)
	}
	require.Len(t, c.b, 3)
	for _, b := range c.b {
		assert.Equal(t, entryBlock, cap(b), "blocks hold no room past a block")
	}
}

func TestCostsReadBackToTheLastBit(t *testing.T) {
	price, quantity := 1.1, 3.0
	sum := price * quantity // not the float nearest 3.30
	require.NotEqual(t, 3.3, sum)
	tests := []struct {
		name string
		cost Cost
		form int32
	}{
		{"cents, all covered", Cost{Cost: 8.4, Covered: 19.99, LineRevenue: 19.99}, costCents},
		{"a negative cost in cents", Cost{Cost: -5.25, Covered: 10, LineRevenue: 10}, costCents},
		{"a sum that is no number of cents", Cost{Cost: 8.4, Covered: sum, LineRevenue: sum}, costCovered},
		{"a cost that is no number of cents", Cost{Cost: sum, Covered: 10, LineRevenue: 10}, costCovered},
		{"minus zero is not zero", Cost{Cost: math.Copysign(0, -1), Covered: 10, LineRevenue: 10}, costCovered},
		{"more cents than an int32 holds", Cost{Cost: 1, Covered: 3e7, LineRevenue: 3e7}, costCovered},
		{"the largest number of cents", Cost{Cost: 1, Covered: math.MaxInt32 / 100.0, LineRevenue: math.MaxInt32 / 100.0}, costCents},
		{"part covered", Cost{Cost: 8, Covered: 20, LineRevenue: 25}, costFull},
		{"part covered, by a hair", Cost{Cost: 8, Covered: 20, LineRevenue: math.Nextafter(20, 21)}, costFull},
	}
	var c costs
	refs := make([]costRef, len(tests))
	for i, tt := range tests {
		refs[i] = c.add(tt.cost)
		assert.Equal(t, tt.form, int32(refs[i]>>costFormShift), tt.name)
	}
	for i, tt := range tests {
		got := c.at(refs[i])
		for j, pair := range [][2]float64{{tt.cost.Cost, got.Cost}, {tt.cost.Covered, got.Covered}, {tt.cost.LineRevenue, got.LineRevenue}} {
			assert.Equal(t, math.Float64bits(pair[0]), math.Float64bits(pair[1]), "%s: number %d: %v read back as %v", tt.name, j, pair[0], pair[1])
		}
	}
	assert.Equal(t, len(tests), c.len())
}

func TestSubSecondTimesWithoutRefundsTakeFourBytes(t *testing.T) {
	at := time.Date(2024, 3, 1, 12, 0, 0, 123_000_000, time.UTC)
	refund := []cvo.Refund{{CreatedAt: at, Amount: 1}}
	l := FromOrders([]cvo.Order{
		{CustomerID: "a", CreatedAt: at, Total: 10},
		{CustomerID: "a", CreatedAt: at.Add(time.Second), Total: 10, Refunds: refund},
		{CustomerID: "a", CreatedAt: at.Truncate(time.Second), Total: 10},
	})
	assert.Len(t, l.subsecond, 1, "the time without refunds")
	assert.Len(t, l.extras, 1, "the time with its refunds")
	for i, want := range []time.Time{at, at.Add(time.Second), at.Truncate(time.Second)} {
		o := &l.Orders()[i]
		assert.True(t, want.Equal(l.Created(o)), "order %d", i)
		assert.Equal(t, i == 1, len(l.Refunds(o)) > 0, "order %d", i)
	}
}

func TestOrderStaysSmall(t *testing.T) {
	assert.EqualValues(t, 32, unsafe.Sizeof(Order{}), "five million of them are the bulk of a big shop's scoring at its peak")
}

func TestIDIndexKeepsEveryIDApart(t *testing.T) {
	ids := []string{"7", "07", "-7", "0", "00", "9223372036854775807", "9223372036854775808", "c1", "C-17", " 7"}
	x := NewIDIndex(4)
	buf := []byte("xxxxxxxxxxxxxxxxxxxxxxxx")
	for i, id := range ids {
		_, ok := x.Get(id)
		require.False(t, ok, "%q before it was put", id)
		// A reused buffer, as the CSV reader's record is: the index keeps
		// its own copy.
		n := copy(buf, id)
		x.Put(unsafe.String(&buf[0], n), int32(i))
		copy(buf, "zzzzzzzzzzzzzzzzzzzzzzzz")
	}
	for i, id := range ids {
		got, ok := x.Get(id)
		require.True(t, ok, "%q", id)
		assert.EqualValues(t, i, got, "%q", id)
	}
	assert.Len(t, x.decimal, 3, "7, 0 and the largest int64 by value")
}
