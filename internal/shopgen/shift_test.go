package shopgen

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/simulator"
)

type collectSink struct {
	orders    []simulator.Order
	customers []simulator.Customer
}

func (c *collectSink) AddProducts([]simulator.Product) error { return nil }
func (c *collectSink) AddCustomers(cs []simulator.Customer) error {
	c.customers = append(c.customers, cs...)
	return nil
}
func (c *collectSink) AddOrders(os []simulator.Order) error {
	c.orders = append(c.orders, os...)
	return nil
}

func TestShiftKeepsWeekdayAndHour(t *testing.T) {
	now := time.Date(2026, 11, 23, 18, 0, 0, 0, time.UTC)
	d := WeeksUntil(OnlineRetailLastDay, now)
	shifted := OnlineRetailLastDay.Add(d)
	assert.Equal(t, OnlineRetailLastDay.Weekday(), shifted.Weekday())
	assert.True(t, now.Sub(shifted) >= 0 && now.Sub(shifted) < 7*24*time.Hour, "the last day lands in the week before now")
	assert.Zero(t, WeeksUntil(now, OnlineRetailLastDay), "never shifts backwards")

	var got collectSink
	at := time.Date(2011, 3, 4, 10, 30, 0, 0, time.UTC)
	sink := Shift(&got, d)
	require.NoError(t, sink.AddCustomers([]simulator.Customer{{CreatedAt: at}}))
	require.NoError(t, sink.AddOrders([]simulator.Order{{CreatedAt: at, Refunds: []simulator.Refund{{CreatedAt: at.Add(time.Hour)}},
		Journey: &simulator.Journey{FirstVisit: &simulator.Visit{OccurredAt: at}}}}))
	o := got.orders[0]
	assert.Equal(t, at.Add(d), o.CreatedAt)
	assert.Equal(t, at.Weekday(), o.CreatedAt.Weekday())
	assert.Equal(t, at.Hour(), o.CreatedAt.Hour())
	assert.True(t, o.CancelledAt.IsZero(), "an unset time stays unset")
	assert.Equal(t, at.Add(time.Hour+d), o.Refunds[0].CreatedAt)
	assert.Equal(t, at.Add(d), o.Journey.FirstVisit.OccurredAt)
	assert.Equal(t, at.Add(d), got.customers[0].CreatedAt)
}
