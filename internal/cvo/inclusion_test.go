package cvo_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/cvo-app/cvo/internal/cvo"
)

func day(d int) time.Time { return time.Date(2026, 3, d, 12, 0, 0, 0, time.UTC) }

func TestInclusionRules(t *testing.T) {
	base := cvo.Order{CustomerID: "1", CreatedAt: day(1), Total: 100}
	with := func(f func(*cvo.Order)) cvo.Order { o := base; f(&o); return o }
	cases := []struct {
		name        string
		order       cvo.Order
		purchase    bool
		forProducts bool
	}{
		{"an ordinary order", base, true, true},
		{"a test order", with(func(o *cvo.Order) { o.Test = true }), false, false},
		{"a cancelled order", with(func(o *cvo.Order) { o.Cancelled = true }), false, false},
		{"fully refunded", with(func(o *cvo.Order) {
			o.Refunds = []cvo.Refund{{CreatedAt: day(2), Amount: 60}, {CreatedAt: day(3), Amount: 40}}
		}), false, false},
		{"refunded but for rounding", with(func(o *cvo.Order) { o.Refunds = []cvo.Refund{{CreatedAt: day(2), Amount: 99.996}} }), false, false},
		{"partly refunded", with(func(o *cvo.Order) { o.Refunds = []cvo.Refund{{CreatedAt: day(2), Amount: 30}} }), true, true},
		{"no customer", with(func(o *cvo.Order) { o.CustomerID = "" }), false, true},
		{"a free order", with(func(o *cvo.Order) { o.Total = 0 }), true, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.purchase, tc.order.IsPurchase())
			assert.Equal(t, tc.forProducts, tc.order.CountsForProducts())
			assert.Equal(t, tc.purchase, tc.order.IsPurchaseAsOf(day(20), cvo.RefundAtRefundDate), "as of a later day")
		})
	}
}

func TestIsPurchaseAsOf(t *testing.T) {
	refundedLater := cvo.Order{CustomerID: "1", CreatedAt: day(1), Total: 50, Refunds: []cvo.Refund{{CreatedAt: day(10), Amount: 50}}}
	cases := []struct {
		name   string
		asOf   time.Time
		dating cvo.RefundDating
		want   bool
	}{
		{"before the order existed", day(1).Add(-time.Hour), cvo.RefundAtRefundDate, false},
		{"before the refund, refunds dated when given", day(5), cvo.RefundAtRefundDate, true},
		{"after the refund", day(10), cvo.RefundAtRefundDate, false},
		{"before the refund, refunds dated back to the order", day(5), cvo.RefundAtOrderDate, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, refundedLater.IsPurchaseAsOf(tc.asOf, tc.dating))
		})
	}
	assert.True(t, refundedLater.MayBePurchase(), "kept for scorings of the past")
}

func TestNetValueAsOf(t *testing.T) {
	o := cvo.Order{Total: 100, CreatedAt: day(1), Refunds: []cvo.Refund{{CreatedAt: day(5), Amount: 30}, {CreatedAt: day(9), Amount: 90}}}
	assert.InDelta(t, 100, o.NetValueAsOf(day(2), cvo.RefundAtRefundDate), 1e-9)
	assert.InDelta(t, 70, o.NetValueAsOf(day(6), cvo.RefundAtRefundDate), 1e-9)
	assert.InDelta(t, 0, o.NetValueAsOf(day(10), cvo.RefundAtRefundDate), 1e-9, "never below zero")
	assert.InDelta(t, 0, o.NetValueAsOf(day(2), cvo.RefundAtOrderDate), 1e-9)
}

func TestKnownCost(t *testing.T) {
	o := cvo.Order{Lines: []cvo.LineItem{
		{Quantity: 2, UnitPrice: 10, UnitCost: 4, CostKnown: true},
		{Quantity: 1, UnitPrice: 30},
		{Quantity: 1, UnitPrice: 5, UnitCost: 0, CostKnown: true},
	}}
	cost, covered, revenue := o.KnownCost()
	assert.InDelta(t, 8, cost, 1e-9)
	assert.InDelta(t, 25, covered, 1e-9, "a zero cost that was recorded is known")
	assert.InDelta(t, 55, revenue, 1e-9)
}
