package clv

import (
	"testing"
	"time"
	_ "time/tzdata" // the shop-calendar test needs America/New_York everywhere

	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func day(y int, m time.Month, d, h int, loc *time.Location) time.Time {
	return time.Date(y, m, d, h, 0, 0, 0, loc)
}

func TestSummarize(t *testing.T) {
	utc := time.UTC
	purchases := []Purchase{
		{"a", day(2024, 1, 1, 9, utc), 10},
		{"a", day(2024, 1, 1, 18, utc), 5}, // same day: merged into the first transaction
		{"a", day(2024, 1, 8, 12, utc), 20},
		{"a", day(2024, 1, 15, 12, utc), 40},
		{"a", day(2024, 1, 15, 13, utc), 2},
		{"a", day(2024, 3, 1, 0, utc), 999}, // after as-of: ignored
		{"b", day(2024, 1, 29, 23, utc), 7},
		{"", day(2024, 1, 2, 0, utc), 100}, // no customer
	}
	asOf := day(2024, 1, 29, 8, utc) // the as-of day counts in full
	ds := Summarize(purchases, asOf, utc, Days)
	require.Len(t, ds.Customers, 2)
	assert.Equal(t, day(2024, 1, 29, 0, utc), ds.AsOf)

	assert.Equal(t, []string{"a", "b"}, ds.IDs)
	a := ds.Customers[0]
	assert.Equal(t, 2, a.X)
	assert.Equal(t, 14.0, a.Tx)
	assert.Equal(t, 28.0, a.T)
	assert.Equal(t, 15.0, a.FirstValue)
	assert.Equal(t, 31.0, a.Monetary) // (20 + 42) / 2
	assert.Equal(t, 77.0, a.Revenue)

	b := ds.Customers[1]
	assert.Equal(t, Summary{FirstValue: 7, Revenue: 7}, b)

	weeks := Summarize(purchases, asOf, utc, Weeks)
	assert.Equal(t, 2.0, weeks.Customers[0].Tx)
	assert.Equal(t, 4.0, weeks.Customers[0].T)
}

// Calendar days are the shop's: two orders 2 hours apart in UTC can be on
// different days in New York, and a DST change does not create fractional
// days.
func TestSummarizeUsesShopCalendar(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	purchases := []Purchase{
		{"a", time.Date(2024, 3, 9, 3, 0, 0, 0, time.UTC), 1},  // 8 March 22:00 in New York
		{"a", time.Date(2024, 3, 9, 5, 0, 0, 0, time.UTC), 1},  // 9 March 00:00
		{"a", time.Date(2024, 3, 11, 5, 0, 0, 0, time.UTC), 1}, // after the DST switch
	}
	ds := Summarize(purchases, time.Date(2024, 3, 12, 12, 0, 0, 0, ny), ny, Days)
	require.Len(t, ds.Customers, 1)
	s := ds.Customers[0]
	assert.Equal(t, 2, s.X)
	assert.Equal(t, 3.0, s.Tx) // 8 → 11 March
	assert.Equal(t, 4.0, s.T)

	inUTC := Summarize(purchases, time.Date(2024, 3, 12, 12, 0, 0, 0, time.UTC), nil, Days)
	assert.Equal(t, 1, inUTC.Customers[0].X)
}

func TestCompress(t *testing.T) {
	cs := []Summary{
		{X: 1, Tx: 2, T: 5}, {X: 0, T: 5}, {X: 1, Tx: 2, T: 5}, {X: 0, T: 5}, {X: 0, T: 3},
	}
	assert.Equal(t, []Triple{
		{X: 0, T: 3, Count: 1}, {X: 0, T: 5, Count: 2}, {X: 1, Tx: 2, T: 5, Count: 2},
	}, Compress(cs))
}

func TestPurchasesFromOrders(t *testing.T) {
	asOf := day(2024, 6, 1, 0, time.UTC)
	orders := []cvo.Order{
		{ID: "1", CustomerID: "c", CreatedAt: day(2024, 1, 1, 0, time.UTC), Total: 100,
			Refunds: []cvo.Refund{{CreatedAt: day(2024, 2, 1, 0, time.UTC), Amount: 30}, {CreatedAt: day(2024, 7, 1, 0, time.UTC), Amount: 10}}},
		{ID: "2", CustomerID: "c", CreatedAt: day(2024, 1, 2, 0, time.UTC), Total: 50, Cancelled: true},
		{ID: "3", CustomerID: "c", CreatedAt: day(2024, 1, 3, 0, time.UTC), Total: 50, Test: true},
		{ID: "4", CustomerID: "", CreatedAt: day(2024, 1, 4, 0, time.UTC), Total: 50},
		{ID: "5", CustomerID: "c", CreatedAt: day(2024, 7, 4, 0, time.UTC), Total: 50},
		{ID: "6", CustomerID: "c", CreatedAt: day(2024, 3, 4, 0, time.UTC), Total: 40, Refunds: []cvo.Refund{{CreatedAt: day(2024, 3, 5, 0, time.UTC), Amount: 40}}},
	}
	got := PurchasesFromOrders(orders, asOf, cvo.RefundAtRefundDate)
	assert.Equal(t, []Purchase{{CustomerID: "c", At: day(2024, 1, 1, 0, time.UTC), Value: 70}}, got)
	got = PurchasesFromOrders(orders, asOf, cvo.RefundAtOrderDate)
	assert.Equal(t, 60.0, got[0].Value)
}

func TestTimeUnit(t *testing.T) {
	assert.Equal(t, 1.0, Days.DaysPer())
	assert.Equal(t, 7.0, Weeks.DaysPer())
	assert.InDelta(t, 365.25, Days.MonthsToUnits(12), 1e-12)
	assert.InDelta(t, 365.25/7, Weeks.MonthsToUnits(12), 1e-12)
	assert.Equal(t, "weeks", Weeks.String())
}
