package reports

import (
	"fmt"
	"testing"
	"time"

	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/rfm"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// segmentedShop gives each product a known repeat rate: the first order
// of every customer holds one product, and repeaters buy again 30 days
// later. Customers who start with R live in NL, the rest in RO.
func segmentedShop() ([]cvo.Customer, []cvo.Order, time.Time) {
	end := time.Date(2024, 12, 31, 0, 0, 0, 0, time.UTC)
	groups := []struct {
		product   string
		customers int
		repeaters int
	}{
		{"R", 200, 120}, // 60%: rockstar
		{"N", 400, 120}, // 30%: close to the rest, not significant
		{"T", 200, 10},  // 5%: toxic
		{"S", 20, 20},   // 100% but only 20 customers: untested
	}
	var customers []cvo.Customer
	var orders []cvo.Order
	i := 0
	for _, g := range groups {
		for k := range g.customers {
			id := fmt.Sprintf("c%d", i)
			country := "RO"
			if g.product == "R" {
				country = "NL"
			}
			customers = append(customers, cvo.Customer{ID: id, Country: country})
			first := time.Date(2024, 1, 1+i%150, 12, 0, 0, 0, time.UTC)
			orders = append(orders, cvo.Order{CustomerID: id, CreatedAt: first, Total: 50,
				Lines: []cvo.LineItem{{ProductID: g.product, Title: g.product, Vendor: "vendor-" + g.product, Quantity: 1, UnitPrice: 50}}})
			if k < g.repeaters {
				orders = append(orders, cvo.Order{CustomerID: id, CreatedAt: first.AddDate(0, 0, 30), Total: 40,
					Lines: []cvo.LineItem{{ProductID: "X", Title: "X", Quantity: 1, UnitPrice: 40}}})
			}
			i++
		}
	}
	return customers, orders, end
}

func TestProductRetentionFlagsOnlySignificantDifferences(t *testing.T) {
	customers, orders, end := segmentedShop()
	d := NewDataset(customers, orders, Options{AsOf: end, RepeatWindowDays: 90})
	p := d.ProductRetention()
	assert.InDelta(t, 270.0/820, p.Baseline, 1e-12)

	byKey := map[string]Segment{}
	for _, s := range p.Products {
		byKey[s.Key] = s
	}
	r := byKey["R"]
	assert.True(t, r.Tested)
	assert.Equal(t, Above, r.Verdict)
	assert.InDelta(t, 0.6, r.RepeatRate, 1e-12)
	assert.InDelta(t, 0.6*40, r.AvgLaterValue, 1e-9)
	assert.Less(t, r.QValue, 0.05)

	assert.Equal(t, Below, byKey["T"].Verdict)
	n := byKey["N"]
	assert.True(t, n.Tested)
	assert.Greater(t, n.QValue, 0.05)
	assert.Equal(t, Neutral, n.Verdict, "30%% vs 36%% of the rest is within noise")
	assert.False(t, byKey["S"].Tested, "20 customers is below the minimum sample")
	assert.Equal(t, Neutral, byKey["S"].Verdict)

	assert.Equal(t, []string{"R"}, keys(p.Rockstars()))
	assert.Equal(t, []string{"T"}, keys(p.Toxic()))
	assert.Equal(t, "vendor-R", keys(withVerdict(p.Vendors, Above))[0])

	// Q-values are never below p-values and keep their order.
	for _, s := range p.Products {
		assert.GreaterOrEqual(t, s.QValue, s.PValue)
	}
	assert.LessOrEqual(t, byKey["R"].QValue, byKey["N"].QValue)

	a := d.Anomalies()
	var flagged []string
	for _, s := range a.Segments {
		flagged = append(flagged, s.Dimension+":"+s.Key+":"+string(s.Verdict))
	}
	assert.Contains(t, flagged, "country:NL:above")
	assert.Contains(t, flagged, "country:RO:below")
	assert.Contains(t, flagged, "vendor:vendor-T:below")
}

func TestAnomaliesFlagSuddenMonthlyChange(t *testing.T) {
	revenue := []float64{100, 110, 90, 100, 105, 95, 300}
	var orders []cvo.Order
	for m, v := range revenue {
		orders = append(orders, cvo.Order{CustomerID: fmt.Sprint("m", m), Total: v,
			CreatedAt: time.Date(2023, time.Month(m+1), 10, 0, 0, 0, 0, time.UTC)})
	}
	end := time.Date(2023, 8, 1, 0, 0, 0, 0, time.UTC).Add(-time.Second)
	a := NewDataset(nil, orders, Options{AsOf: end}).Anomalies()
	require.Len(t, a.Monthly, 7, "July is complete at its last second")
	require.Len(t, a.Changes, 1)
	c := a.Changes[0]
	assert.Equal(t, "revenue", c.Metric)
	assert.True(t, c.Month.Equal(time.Date(2023, 7, 1, 0, 0, 0, 0, time.UTC)))
	assert.Equal(t, 300.0, c.Value)
	assert.Equal(t, 100.0, c.Expected)
	assert.InDelta(t, 200/(1.4826*5), c.Z, 1e-9)

	// The same history seen mid-July leaves the partial month out.
	a = NewDataset(nil, orders, Options{AsOf: time.Date(2023, 7, 15, 0, 0, 0, 0, time.UTC)}).Anomalies()
	assert.Len(t, a.Monthly, 6)
	assert.Empty(t, a.Changes)
}

func TestDegenerateShops(t *testing.T) {
	at := time.Date(2024, 6, 1, 9, 0, 0, 0, time.UTC)
	cases := []struct {
		name   string
		orders []cvo.Order
		asOf   time.Time
		check  func(t *testing.T, r Report, d *Dataset)
	}{
		{"no orders", nil, at, func(t *testing.T, r Report, d *Dataset) {
			assert.Zero(t, r.Retention.Customers)
			assert.Empty(t, r.Retention.Trend)
			assert.Empty(t, r.Cohorts)
			assert.Nil(t, r.Pareto.RevenueCurve)
			assert.Empty(t, r.Anomalies.Monthly)
			assert.Zero(t, r.ICP.Top.Customers+r.ICP.Rest.Customers)
			assert.Equal(t, Window{Days: 180}, d.RepeatWindow())
		}},
		{"one customer, one order", []cvo.Order{{CustomerID: "a", CreatedAt: at, Total: 10}}, at.Add(time.Hour),
			func(t *testing.T, r Report, d *Dataset) {
				assert.Equal(t, 1, r.Retention.Customers)
				assert.Zero(t, r.Retention.RetentionRate)
				assert.Zero(t, r.Retention.AvgDaysBetweenOrders, "no repeat customers, no cadence to report")
				assert.Equal(t, 1.0, r.Pareto.RevenueShareTop20)
				assert.Nil(t, r.Pareto.MarginCurve, "no known costs")
				assert.Equal(t, rfm.Apprentice, r.RFM.Customers[0].Group)
				assert.True(t, d.RepeatWindow().WholeHistory)
				require.Len(t, r.Cohorts, 1)
				assert.Equal(t, []float64{1}, r.Cohorts[0].ActiveShare)
			}},
		{"all one-time buyers", func() []cvo.Order {
			var os []cvo.Order
			for i := range 50 {
				os = append(os, cvo.Order{CustomerID: fmt.Sprint(i), CreatedAt: at.AddDate(0, 0, -i*7), Total: float64(10 + i)})
			}
			return os
		}(), at.Add(time.Hour), func(t *testing.T, r Report, d *Dataset) {
			assert.Equal(t, 50, r.Retention.Customers)
			assert.Zero(t, r.Retention.RepeatCustomers)
			assert.Zero(t, r.Retention.RepeatPurchaseRate)
			assert.True(t, r.RFM.Cadence.Fallback)
			for _, c := range r.Cohorts {
				for k := 1; k < len(c.Active); k++ {
					assert.Zero(t, c.Active[k])
				}
			}
			assert.Zero(t, r.Stickiness.Baseline)
			assert.Zero(t, r.Transitions.Moved)
		}},
		{"one day of history", func() []cvo.Order {
			var os []cvo.Order
			for i := range 40 {
				os = append(os, cvo.Order{CustomerID: fmt.Sprint(i % 25), CreatedAt: at.Add(time.Duration(i) * time.Minute), Total: 20})
			}
			return os
		}(), at.Add(12 * time.Hour), func(t *testing.T, r Report, d *Dataset) {
			assert.Equal(t, 25, r.Retention.Customers)
			assert.Equal(t, 15, r.Retention.RepeatCustomers)
			assert.Len(t, r.Retention.Trend, 1)
			assert.Empty(t, r.Anomalies.Monthly, "June is not complete")
			assert.True(t, d.RepeatWindow().WholeHistory)
			assert.InDelta(t, 0.6, r.Stickiness.Baseline, 1e-12)
			assert.Equal(t, 1, r.RFM.M.Levels, "identical spends")
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := NewDataset(nil, c.orders, Options{AsOf: c.asOf})
			r, err := d.Report(nil)
			require.NoError(t, err)
			c.check(t, r, d)
		})
	}
}
