package reports

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/ledger"
	"github.com/cvo-app/cvo/internal/rfm"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func smallDataset(t *testing.T, edit ...func(*Options)) *Dataset {
	t.Helper()
	customers, orders := smallShop()
	opts := Options{AsOf: asOf, RepeatWindowDays: 60}
	for _, e := range edit {
		e(&opts)
	}
	return NewDataset(customers, orders, opts)
}

func TestDatasetIndexesPurchases(t *testing.T) {
	d := smallDataset(t)
	require.Equal(t, 5, d.Customers(), "F never bought; E bought without a customer record")
	assert.Equal(t, 8, d.Purchases())
	assert.ElementsMatch(t, []string{"A", "B", "C", "D", "E"}, d.ids)

	in := d.RFMCustomers()
	assert.Equal(t, rfm.Customer{ID: "A", Purchases: 3, FirstPurchase: day("2024-01-10 10:00").Unix(),
		LastPurchase: day("2024-03-05 12:00").Unix(), Revenue: 220, DiscountedPurchases: 1}, in[indexOf(d, "A")])
	assert.Equal(t, 80.0, in[indexOf(d, "B")].Revenue, "refund of 20 given before AsOf")
	assert.Equal(t, int32(-1), d.country[indexOf(d, "E")], "E has no customer record")
	assert.Equal(t, "DE", d.countries.keys[d.country[indexOf(d, "D")]])

	cad := d.Cadence()
	assert.InDelta(t, (55.0+2.0/24)/2/2+65.0/2, cad.AvgDaysBetweenOrders, 1e-9)
	assert.Equal(t, Window{Days: 60, EligibleCustomers: 4}, d.RepeatWindow())
}

func TestRetention(t *testing.T) {
	r := smallDataset(t).Retention()
	assert.Equal(t, 5, r.Customers)
	assert.Equal(t, 2, r.RepeatCustomers)
	assert.InDelta(t, 0.4, r.RetentionRate, 1e-12)
	assert.Equal(t, 8, r.Purchases)
	assert.Equal(t, 3, r.RepeatPurchases)
	assert.InDelta(t, 0.375, r.RepeatPurchaseRate, 1e-12)
	assert.InDelta(t, 46.2708, r.AvgDaysBetweenOrders, 1e-4)

	require.Len(t, r.Trend, 4)
	want := []MonthRate{
		// Jan: A and B's first purchases. Feb: A again, C and D first.
		// Mar: A and B again. Apr (to AsOf, the 15th): E first.
		{Month: day("2024-01-01 00:00"), Customers: 2, RepeatCustomers: 0, Rate: 0, Buyers: 2, Returning: 0, ReturningRate: 0},
		{Month: day("2024-02-01 00:00"), Customers: 4, RepeatCustomers: 1, Rate: 0.25, Buyers: 3, Returning: 1, ReturningRate: 1.0 / 3},
		{Month: day("2024-03-01 00:00"), Customers: 4, RepeatCustomers: 2, Rate: 0.5, Buyers: 2, Returning: 2, ReturningRate: 1},
		{Month: day("2024-04-01 00:00"), Customers: 5, RepeatCustomers: 2, Rate: 0.4, Buyers: 1, Returning: 0, ReturningRate: 0, Partial: true},
	}
	for i := range want {
		assert.True(t, want[i].Month.Equal(r.Trend[i].Month), "month %d: %v", i, r.Trend[i].Month)
		r.Trend[i].Month = want[i].Month
	}
	assert.Equal(t, want, r.Trend)

	// A month that ended at AsOf's last instant is complete.
	endOfMarch := smallDataset(t, func(o *Options) { o.AsOf = day("2024-03-31 23:59").Add(59 * time.Second) }).Retention()
	require.Len(t, endOfMarch.Trend, 3)
	assert.False(t, endOfMarch.Trend[2].Partial)
}

func TestCohorts(t *testing.T) {
	cohorts := smallDataset(t).Cohorts()
	require.Len(t, cohorts, 4)
	jan := cohorts[0]
	assert.Equal(t, 2, jan.Customers)
	assert.Equal(t, []int{2, 1, 2, 0}, jan.Active)
	assert.Equal(t, []float64{1, 0.5, 1, 0}, jan.ActiveShare)
	assert.Equal(t, []float64{140, 50, 110, 0}, jan.Revenue)

	assert.Equal(t, 2, cohorts[1].Customers)
	assert.Equal(t, []int{2, 0, 0}, cohorts[1].Active)
	assert.Equal(t, []float64{280, 0, 0}, cohorts[1].Revenue)

	assert.Equal(t, 0, cohorts[2].Customers, "nobody was acquired in March")
	assert.Equal(t, []float64{0, 0}, cohorts[2].ActiveShare)

	assert.Equal(t, []int{1}, cohorts[3].Active)
	assert.True(t, cohorts[3].Month.Equal(day("2024-04-01 00:00")))
}

func TestPareto(t *testing.T) {
	p := smallDataset(t).Pareto()
	assert.Equal(t, 5, p.Customers)
	assert.Equal(t, 1, p.TopCustomers)
	assert.InDelta(t, 220.0/610, p.RevenueShareTop20, 1e-12)
	assert.InDelta(t, 80.0/206, p.MarginShareTop20, 1e-12)
	assert.InDelta(t, 460.0/610, p.MarginCoverage, 1e-12)

	require.Len(t, p.RevenueCurve, 101)
	assert.Equal(t, CurvePoint{0, 0}, p.RevenueCurve[0])
	assert.InDelta(t, 220.0/610, p.RevenueCurve[20].ValueShare, 1e-12)
	assert.InDelta(t, 420.0/610, p.RevenueCurve[40].ValueShare, 1e-12)
	assert.InDelta(t, 1, p.RevenueCurve[100].ValueShare, 1e-12)
	assert.InDelta(t, (80.0+68)/206, p.MarginCurve[40].ValueShare, 1e-12)
	for i := 1; i < 101; i++ {
		assert.GreaterOrEqual(t, p.RevenueCurve[i].ValueShare, p.RevenueCurve[i-1].ValueShare)
	}
}

func TestStickiness(t *testing.T) {
	s := smallDataset(t).Stickiness()
	assert.InDelta(t, 0.25, s.Baseline, 1e-12)
	assert.Equal(t, Window{Days: 60, EligibleCustomers: 4}, s.Window)

	assert.Equal(t, []Segment{
		{Dimension: "campaign", Key: "(none)", Label: "(none)", Acquired: 3, Customers: 2, Repeaters: 0, RepeatRate: 0, Baseline: 0.25, PValue: 1, QValue: 1},
		{Dimension: "campaign", Key: "spring", Label: "spring", Acquired: 1, Customers: 1, Repeaters: 0, RepeatRate: 0, Baseline: 0.25, PValue: 1, QValue: 1},
		{Dimension: "campaign", Key: "winter", Label: "winter", Acquired: 1, Customers: 1, Repeaters: 1, RepeatRate: 1, Baseline: 0.25, AvgLaterValue: 120, PValue: 1, QValue: 1},
	}, s.Campaigns)

	require.Len(t, s.Channels, 2)
	web := s.Channels[0]
	assert.Equal(t, "web", web.Key)
	assert.Equal(t, [3]int{4, 3, 1}, [3]int{web.Acquired, web.Customers, web.Repeaters})
	assert.InDelta(t, 40, web.AvgLaterValue, 1e-12)
	assert.Equal(t, []string{"(none)", "facebook", "google"}, keys(s.Sources))
	assert.Equal(t, []string{"(none)", "WELCOME"}, keys(s.DiscountCodes))
	assert.Equal(t, 4, s.DiscountCodes[0].Acquired)
}

func TestProductRetentionTallies(t *testing.T) {
	p := smallDataset(t).ProductRetention()
	assert.Equal(t, []string{"P1", "P2", "P3", "P4"}, keys(p.Products))
	p1 := p.Products[0]
	assert.Equal(t, "Title P1", p1.Label)
	assert.Equal(t, [3]int{2, 2, 1}, [3]int{p1.Acquired, p1.Customers, p1.Repeaters})
	assert.InDelta(t, 0.5, p1.RepeatRate, 1e-12)
	assert.InDelta(t, 60, p1.AvgLaterValue, 1e-12)
	assert.Equal(t, [3]int{2, 1, 0}, [3]int{p.Products[1].Acquired, p.Products[1].Customers, p.Products[1].Repeaters})
	for _, s := range p.Products {
		assert.False(t, s.Tested, "%s is far below the minimum sample", s.Key)
		assert.Equal(t, Neutral, s.Verdict)
	}
	assert.Equal(t, []string{"V1", "V2"}, keys(p.Vendors))
	assert.Equal(t, [3]int{3, 3, 1}, [3]int{p.Vendors[0].Acquired, p.Vendors[0].Customers, p.Vendors[0].Repeaters})
	assert.Equal(t, [3]int{3, 2, 0}, [3]int{p.Vendors[1].Acquired, p.Vendors[1].Customers, p.Vendors[1].Repeaters})
	assert.Equal(t, []string{"T1", "T2", "T3"}, keys(p.ProductTypes))
	assert.Empty(t, p.Rockstars())
	assert.Empty(t, p.Toxic())
}

func TestLoyaltyTallies(t *testing.T) {
	l := smallDataset(t).Loyalty()
	assert.Equal(t, []string{"DE", "RO"}, keys(l.Countries))
	assert.Equal(t, [3]int{2, 2, 1}, [3]int{l.Countries[1].Acquired, l.Countries[1].Customers, l.Countries[1].Repeaters})
	assert.Equal(t, []string{"DE/Berlin", "RO/Bucharest", "RO/Cluj"}, keys(l.Cities))
	assert.Equal(t, "Berlin, DE", l.Cities[0].Label)
	assert.Equal(t, 2, l.Cities[0].Acquired)
	assert.Equal(t, []string{"V1", "V2"}, keys(l.Vendors))
}

func TestMonthly(t *testing.T) {
	m := smallDataset(t).Monthly()
	require.Len(t, m, 3, "April is incomplete on April 15")
	for i := range m {
		m[i].Month = time.Time{}
	}
	assert.Equal(t, []MonthlyPoint{
		{Revenue: 140, Margin: 40, NewCustomers: 2, Buyers: 2, ReturningShare: 0, RetentionRate: 0},
		{Revenue: 330, Margin: 128, NewCustomers: 2, Buyers: 3, ReturningShare: 1.0 / 3, RetentionRate: 0.25},
		{Revenue: 110, Margin: 38, NewCustomers: 0, Buyers: 2, ReturningShare: 1, RetentionRate: 0.5},
	}, m)
}

func TestIdealCustomerProfile(t *testing.T) {
	bucharest, err := time.LoadLocation("Europe/Bucharest")
	require.NoError(t, err)
	d := smallDataset(t, func(o *Options) { o.Location = bucharest })
	groups := map[string]rfm.Group{"A": rfm.Soulmates, "B": rfm.PlatonicFriends, "C": rfm.Lovers, "D": rfm.DonJuan, "E": rfm.Apprentice}
	assignments := make([]rfm.Assignment, d.Customers())
	for i, id := range d.ids {
		assignments[i] = rfm.Assignment{ID: id, Group: groups[id]}
	}
	icp, err := d.IdealCustomerProfile(assignments)
	require.NoError(t, err)

	assert.Equal(t, 2, icp.Top.Customers)
	assert.Equal(t, 4, icp.Top.Purchases)
	assert.Equal(t, 3, icp.Rest.Customers)
	assert.Equal(t, 4, icp.Rest.Purchases)
	assert.Equal(t, []Share{
		{Key: "DE", Label: "DE", Customers: 1, Share: 0.5, OtherShare: 1.0 / 3},
		{Key: "RO", Label: "RO", Customers: 1, Share: 0.5, OtherShare: 1.0 / 3},
	}, icp.Top.Countries)
	assert.Equal(t, []Share{{Key: "P1", Label: "Title P1", Customers: 2, Share: 1, OtherShare: 0}}, icp.Top.FirstProducts)
	assert.Equal(t, "P2", icp.Rest.FirstProducts[0].Key)
	assert.InDelta(t, 2.0/3, icp.Rest.FirstProducts[0].Share, 1e-12)

	// Top purchases in Bucharest time (UTC+2 in winter): Wed Jan 10 12:00,
	// Sat Feb 10 20:00, Tue Mar 5 14:00, Thu Feb 1 11:00.
	assert.Equal(t, [7]float64{0, 0, 0.25, 0.25, 0.25, 0, 0.25}, icp.Top.Weekdays)
	for h, share := range icp.Top.Hours {
		switch h {
		case 11, 12, 14, 20:
			assert.Equal(t, 0.25, share, "hour %d", h)
		default:
			assert.Zero(t, share, "hour %d", h)
		}
	}
	// E's purchase, Tue Apr 2 21:30 UTC, is Wed 00:30 in Bucharest summer
	// time (UTC+3, from March 31); D's, Feb 14 20:00 UTC, is Wed 22:00.
	assert.Equal(t, 0.25, icp.Rest.Hours[0])
	assert.Equal(t, 0.25, icp.Rest.Hours[22])
	assert.Equal(t, 0.5, icp.Rest.Weekdays[time.Wednesday])

	_, err = d.IdealCustomerProfile(assignments[:2])
	assert.ErrorContains(t, err, "2 assignments for 5 customers")
}

func TestGroupTransitions(t *testing.T) {
	previous := map[string]rfm.Group{"a": rfm.Lovers, "b": rfm.Soulmates, "c": rfm.Apprentice, "gone": rfm.BreakUp, "x": rfm.NoGroup}
	current := []rfm.Assignment{
		{ID: "a", Group: rfm.Lovers}, {ID: "b", Group: rfm.ExLovers}, {ID: "c", Group: rfm.Lovers},
		{ID: "new", Group: rfm.DonJuan}, {ID: "x", Group: rfm.Apprentice},
	}
	tr := GroupTransitions(previous, current)
	var want [rfm.NumGroups + 1][rfm.NumGroups + 1]int
	want[rfm.Lovers][rfm.Lovers] = 1
	want[rfm.Soulmates][rfm.ExLovers] = 1
	want[rfm.Apprentice][rfm.Lovers] = 1
	want[rfm.NoGroup][rfm.DonJuan] = 1
	want[rfm.NoGroup][rfm.Apprentice] = 1
	want[rfm.BreakUp][rfm.NoGroup] = 1
	assert.Equal(t, want, tr.Counts)
	assert.Equal(t, 1, tr.Stayed)
	assert.Equal(t, 2, tr.Moved)
	assert.Equal(t, 2, tr.New)
	assert.Equal(t, 1, tr.Gone)

	empty := GroupTransitions(nil, nil)
	assert.Zero(t, empty.New+empty.Gone+empty.Moved+empty.Stayed)
}

func TestRunSmallShop(t *testing.T) {
	customers, orders := smallShop()
	r, err := Run(customers, orders, map[string]rfm.Group{"A": rfm.Lovers}, Options{AsOf: asOf})
	require.NoError(t, err)
	assert.Equal(t, 5, r.Retention.Customers)
	total := 0
	for _, n := range r.RFM.Counts {
		total += n
	}
	assert.Equal(t, 5, total)
	a := r.RFM.Customers[slices.IndexFunc(r.RFM.Customers, func(a rfm.Assignment) bool { return a.ID == "A" })]
	assert.Equal(t, 1, r.Transitions.Counts[rfm.Lovers][a.Group])
	assert.Equal(t, 4, r.Transitions.New)
	assert.Equal(t, r.ICP.Top.Customers+r.ICP.Rest.Customers, 5)
}

func indexOf(d *Dataset, id string) int { return slices.Index(d.ids, id) }

func keys(segments []Segment) []string {
	out := make([]string, len(segments))
	for i, s := range segments {
		out[i] = s.Key
	}
	return out
}

func TestPreviousGroupsJoinMatchesMapLookups(t *testing.T) {
	customers, orders, end := segmentedShop()
	d := NewDataset(customers, orders, Options{AsOf: end})
	previous := map[string]rfm.Group{"not-a-customer": rfm.Lovers, "c4": rfm.NoGroup}
	for i := 0; i < len(customers); i += 3 {
		previous[customers[i].ID] = rfm.Group(1 + i%rfm.NumGroups)
	}
	groups, before := d.previousGroups(previous)
	for c, id := range d.ids {
		assert.Equal(t, previous[id], groups[c], id)
	}
	total := 0
	for _, n := range before {
		total += n
	}
	assert.Equal(t, len(previous)-1, total, "NoGroup entries are not part of the previous scoring")

	r, err := d.Report(previous)
	require.NoError(t, err)
	assert.Equal(t, GroupTransitions(previous, r.RFM.Customers), r.Transitions)
	assert.Equal(t, rfm.Score(d.RFMCustomers(), rfm.Options{AsOf: end, Previous: previous}).Customers, r.RFM.Customers)
	assert.Equal(t, 1, r.Transitions.Counts[rfm.Lovers][rfm.NoGroup], "the unknown customer is gone")
}

func TestDatasetDefaultsAsOfToNewestOrder(t *testing.T) {
	customers, orders := smallShop()
	d := NewDataset(customers, orders, Options{})
	assert.Equal(t, day("2024-04-20 10:00").Unix(), d.asOf)
	assert.EqualValues(t, 3+1, d.RFMCustomers()[indexOf(d, "A")].Purchases, "the order of April 20 now counts")
}

// TestDatasetDoesNotDependOnInputOrder: the reports (the lifetime value
// with its gross profit per purchase included) come out the same whatever
// order the orders arrive in, so that purchases laid out by customer, and
// sorted in time where they arrived out of it, carry their own figures.
func TestDatasetDoesNotDependOnInputOrder(t *testing.T) {
	customers, orders := syntheticShop(3_000, time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC), 11)
	// Two orders of one customer in the same second are ordered by input,
	// as documented, so reversing the input would rightly change which is
	// first: the shop must have none.
	seen := map[string]bool{}
	for _, o := range orders {
		key := fmt.Sprint(o.CustomerID, o.CreatedAt.Unix())
		require.False(t, seen[key], "customer %s has two orders in one second", o.CustomerID)
		seen[key] = true
	}
	opts := Options{AsOf: time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC), CAC: 20}
	want := NewDataset(customers, orders, opts)
	wantReport, err := want.Report(nil)
	require.NoError(t, err)

	reversed := slices.Clone(orders)
	slices.Reverse(reversed)
	got := NewDataset(customers, reversed, opts)
	gotReport, err := got.Report(nil)
	require.NoError(t, err)

	assert.Equal(t, want.Customers(), got.Customers())
	assert.Equal(t, want.Purchases(), got.Purchases())
	assert.Equal(t, want.RFMCustomers(), got.RFMCustomers())
	assert.Equal(t, want.LifetimeValue(), got.LifetimeValue())
	assert.Equal(t, wantReport, gotReport)
}

// A caller done with the ledger's orders lets them go between LayOut and
// Dataset: the dataset must not read them again, and must come out as
// FromLedger builds it.
func TestDatasetBuiltAfterTheOrdersAreLetGo(t *testing.T) {
	customers, orders := syntheticShop(3_000, time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC), 12)
	opts := Options{AsOf: time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC), CAC: 20}
	want := FromLedger(ledger.FromHistory(customers, orders), opts)
	wantReport, err := want.Report(nil)
	require.NoError(t, err)

	l := ledger.FromHistory(customers, orders)
	layout := LayOut(l, opts)
	require.Zero(t, layout.Undated())
	l.ReleaseOrders()
	require.Zero(t, l.Len())
	got := layout.Dataset(l)
	gotReport, err := got.Report(nil)
	require.NoError(t, err)

	assert.Equal(t, want.RFMCustomers(), got.RFMCustomers())
	assert.Equal(t, want.AcquisitionSources(), got.AcquisitionSources())
	assert.Equal(t, want.LifetimeValue(), got.LifetimeValue())
	assert.Equal(t, wantReport, gotReport)
}

// TestFirstPurchaseLines: a first purchase counts once towards each
// product, vendor and type it holds, however many of its lines share one;
// a product's label is the title on the first of the first purchases as
// the orders arrived, whichever customer sorts first.
func TestFirstPurchaseLines(t *testing.T) {
	titled := func(product, title, vendor, typ string) cvo.LineItem {
		l := line(product, vendor, typ, 10, -1)
		l.Title = title
		return l
	}
	acquired := func(segments []Segment) map[string]int {
		out := map[string]int{}
		for _, s := range segments {
			out[s.Key] = s.Acquired
		}
		return out
	}
	customers := []cvo.Customer{{ID: "A"}, {ID: "B"}}
	for _, first := range []string{"A", "B"} {
		second := map[string]string{"A": "B", "B": "A"}[first]
		orders := []cvo.Order{
			{CustomerID: first, CreatedAt: day("2024-01-05 10:00"), Total: 20,
				Lines: []cvo.LineItem{titled("P1", "Mug (old name)", "V1", "T1"), titled("P2", "Plate", "V1", "T1")}},
			{CustomerID: second, CreatedAt: day("2024-01-10 10:00"), Total: 40,
				Lines: []cvo.LineItem{titled("P1", "Mug", "V1", "T1"), titled("P1", "Mug", "V1", "T1"), titled("P3", "Bowl", "V2", ""),
					titled("", "Gift wrap", "", "")}},
			{CustomerID: second, CreatedAt: day("2024-02-10 10:00"), Total: 10, Lines: []cvo.LineItem{titled("P4", "Cup", "V3", "T3")}},
		}
		p := NewDataset(customers, orders, Options{AsOf: day("2024-06-01 00:00")}).ProductRetention()
		assert.Equal(t, map[string]int{"P1": 2, "P2": 1, "P3": 1, "Gift wrap": 1}, acquired(p.Products),
			"a line without a product is known by its title; a repeat purchase's product is no first-purchase product")
		assert.Equal(t, map[string]int{"V1": 2, "V2": 1}, acquired(p.Vendors))
		assert.Equal(t, map[string]int{"T1": 2}, acquired(p.ProductTypes), "a line without a type adds none")
		require.Equal(t, "P1", p.Products[0].Key)
		assert.Equal(t, "Mug (old name)", p.Products[0].Label, "%s's first purchase came first", first)
	}
}
