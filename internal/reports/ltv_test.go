package reports

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/goldenjson"
)

// ltvShop is testdata/ltv_shop.json: the input of the golden test.
type ltvShop struct {
	AsOf        time.Time          `json:"asOf"`
	CAC         float64            `json:"cac"`
	CACBySource map[string]float64 `json:"cacBySource"`
	Orders      []cvo.Order        `json:"orders"`
}

func loadLTVShop(t *testing.T) ltvShop {
	t.Helper()
	raw, err := os.ReadFile("testdata/ltv_shop.json")
	require.NoError(t, err)
	var shop ltvShop
	require.NoError(t, json.Unmarshal(raw, &shop))
	return shop
}

func (s ltvShop) options() Options {
	return Options{AsOf: s.AsOf, CAC: s.CAC, CACBySource: s.CACBySource}
}

// TestLifetimeValueGolden checks every figure of the report on the small
// shop worked out by hand in testdata/ltv_shop.md.
func TestLifetimeValueGolden(t *testing.T) {
	shop := loadLTVShop(t)
	got := NewDataset(nil, shop.Orders, shop.options()).LifetimeValue()
	want, err := os.ReadFile("testdata/ltv_shop.golden.json")
	require.NoError(t, err)
	goldenjson.AssertClose(t, want, got)
}

// TestLifetimeValueRefundsDatedToTheOrder moves D's late refund into the
// picture: with refunds dated back to their order, D's order is worth 30
// (gross 9), so the web source still has not paid back and the Feb
// cohort's first month falls by 5 a customer.
func TestLifetimeValueRefundsDatedToTheOrder(t *testing.T) {
	shop := loadLTVShop(t)
	opts := shop.options()
	opts.RefundDating = cvo.RefundAtOrderDate
	got := NewDataset(nil, shop.Orders, opts).LifetimeValue()
	feb := got.Cohorts[1]
	assert.InDeltaSlice(t, []float64{115, 115, 140}, feb.Revenue, 1e-4)
	assert.InDeltaSlice(t, []float64{40.5, 40.5, 48}, feb.GrossProfit, 1e-4)
	web := got.BySource[0]
	require.Equal(t, "web", web.Key)
	assert.InDeltaSlice(t, []float64{9, 9}, web.GrossProfit, 1e-4)
	assert.Equal(t, Payback{State: PaybackNotYet}, web.Payback)
}

func TestLifetimeValueWithoutCAC(t *testing.T) {
	shop := loadLTVShop(t)
	got := NewDataset(nil, shop.Orders, Options{AsOf: shop.AsOf}).LifetimeValue()
	assert.Zero(t, got.CAC)
	for _, co := range got.Cohorts {
		assert.Equal(t, Payback{State: PaybackNoCAC}, co.Payback)
	}
	assert.Equal(t, Payback{State: PaybackNoCAC}, got.Overall.Payback)
}

// TestLifetimeValueCompleteMonth has the as-of instant at a month's very
// end: nothing is partial and the curves reach that month.
func TestLifetimeValueCompleteMonth(t *testing.T) {
	shop := loadLTVShop(t)
	opts := shop.options()
	opts.AsOf = time.Date(2024, 4, 30, 23, 59, 59, 0, time.UTC)
	got := NewDataset(nil, shop.Orders, opts).LifetimeValue()
	assert.False(t, got.PartialMonth)
	for _, co := range got.Cohorts {
		assert.False(t, co.Partial)
	}
	// E is observed for month 0 now; A and B for four months.
	assert.Equal(t, []int{5, 4, 4, 2}, got.Overall.Observed)
}

// TestLifetimeValueTopN keeps only the largest values of a dimension and
// counts the rest.
func TestLifetimeValueTopN(t *testing.T) {
	shop := loadLTVShop(t)
	opts := shop.options()
	opts.LTVTopN = 1
	got := NewDataset(nil, shop.Orders, opts).LifetimeValue()
	require.Len(t, got.ByFirstProduct, 1)
	assert.Equal(t, "P2", got.ByFirstProduct[0].Key)
	assert.Equal(t, 3, got.FirstProducts)
	require.Len(t, got.BySource, 1)
	assert.Equal(t, 4, got.Sources)
}

func TestLifetimeValueEmptyShop(t *testing.T) {
	got := NewDataset(nil, nil, Options{AsOf: asOf}).LifetimeValue()
	assert.Empty(t, got.Cohorts)
	assert.Empty(t, got.Overall.Revenue)
	assert.Zero(t, got.Steady.Customers)
}

// TestSteadyRule flags one customer at a time: each case is one
// customer's purchase days, as of 2024-06-30.
func TestSteadyRule(t *testing.T) {
	at := func(days ...string) []cvo.Order {
		var out []cvo.Order
		for i, d := range days {
			out = append(out, cvo.Order{ID: fmt.Sprint(i), CustomerID: "X", CreatedAt: day(d + " 12:00"), Total: 10})
		}
		return out
	}
	cases := []struct {
		name             string
		orders           []cvo.Order
		steady, onTime   bool
		wantAvgGap, tolr float64
	}{
		{"monthly, on schedule", at("2024-03-01", "2024-04-01", "2024-05-01", "2024-06-01"), true, true, 30.667, 1e-3},
		{"two purchase days are too few", at("2024-05-01", "2024-06-01"), false, false, 0, 0},
		{"same-day orders are one purchase", at("2024-04-01", "2024-05-01", "2024-05-01"), false, false, 0, 0},
		{"weekly, overdue", at("2024-01-01", "2024-01-08", "2024-01-15", "2024-01-22"), true, false, 7, 1e-9},
		{"irregular", at("2024-01-01", "2024-01-11", "2024-03-24"), false, false, 0, 0},
		{"daily is not a subscription", at("2024-06-27", "2024-06-28", "2024-06-29", "2024-06-30"), false, false, 0, 0},
		{"yearly is not either", at("2021-06-01", "2022-06-01", "2023-06-01"), false, false, 0, 0},
		// Gaps 30, 40: mean 35, deviation 5, variation 0.143.
		{"a little jitter", at("2024-04-01", "2024-05-01", "2024-06-10"), true, true, 35, 1e-9},
		// Gaps 20, 40: mean 30, deviation 10, variation 0.333.
		{"too much jitter", at("2024-04-01", "2024-04-21", "2024-05-31"), false, false, 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lv := NewDataset(nil, tc.orders, Options{AsOf: day("2024-06-30 23:00")}).LifetimeValue()
			want := 0
			if tc.steady {
				want = 1
			}
			assert.Equal(t, want, lv.Steady.Customers)
			assert.Equal(t, want, lv.Overall.Steady)
			onTime := 0
			if tc.onTime {
				onTime = 1
			}
			assert.Equal(t, onTime, lv.Steady.OnSchedule)
			assert.InDelta(t, tc.wantAvgGap, lv.Steady.AvgGapDays, tc.tolr+1e-12)
			var cohortSteady int
			for _, co := range lv.Cohorts {
				cohortSteady += co.Steady
			}
			assert.Equal(t, want, cohortSteady, "counted in its cohort")
		})
	}
}

// TestLifetimeValueInTheShopZone puts an order on the first of a month
// in Bucharest that is still the previous month in UTC.
func TestLifetimeValueInTheShopZone(t *testing.T) {
	loc, err := time.LoadLocation("Europe/Bucharest")
	require.NoError(t, err)
	orders := []cvo.Order{
		{CustomerID: "X", CreatedAt: day("2024-01-31 23:30"), Total: 10}, // Feb 1, 01:30 in Bucharest
		{CustomerID: "X", CreatedAt: day("2024-02-20 10:00"), Total: 20},
	}
	lv := NewDataset(nil, orders, Options{AsOf: day("2024-03-15 00:00"), Location: loc}).LifetimeValue()
	require.Len(t, lv.Cohorts, 2)
	assert.Equal(t, time.Date(2024, 2, 1, 0, 0, 0, 0, loc), lv.Cohorts[0].Month)
	assert.InDeltaSlice(t, []float64{30, 30}, lv.Cohorts[0].Revenue, 1e-9)
}

func TestPayback(t *testing.T) {
	cases := []struct {
		gross []float64
		cac   float64
		want  Payback
	}{
		{[]float64{5, 10, 20}, 0, Payback{State: PaybackNoCAC}},
		{[]float64{5, 10, 20}, 10, Payback{State: PaybackReached, Month: 1}},
		{[]float64{5, 9.999, 20}, 10, Payback{State: PaybackReached, Month: 1}},
		{[]float64{5, 9.99, 20}, 10, Payback{State: PaybackReached, Month: 2}},
		{[]float64{5, 10, 20}, 21, Payback{State: PaybackNotYet}},
		{nil, 10, Payback{State: PaybackNotYet}},
		{[]float64{30, -5, 40}, 20, Payback{State: PaybackReached, Month: 0}},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, payback(tc.gross, tc.cac), "%v against %v", tc.gross, tc.cac)
	}
}
