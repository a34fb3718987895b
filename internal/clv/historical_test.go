package clv

import (
	"testing"
	"time"

	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHistoricalCLV(t *testing.T) {
	at := func(m time.Month, d int) time.Time { return time.Date(2024, m, d, 10, 0, 0, 0, time.UTC) }
	asOf := at(6, 1)
	line := func(price float64, qty int, cost float64, known bool) cvo.LineItem {
		return cvo.LineItem{UnitPrice: price, Quantity: qty, UnitCost: cost, CostKnown: known}
	}
	orders := []cvo.Order{
		// a: acquired via a Facebook campaign. Lines 100 of which 60 have
		// a known cost of 24 (60% margin on them); no refunds.
		{ID: "1", CustomerID: "a", CreatedAt: at(1, 10), Total: 100, UTMSource: "Facebook", SourceName: "web",
			Lines: []cvo.LineItem{line(30, 2, 12, true), line(40, 1, 0, false)}},
		// a again, all costs known (cost 20 on 50), refunded 10 before as-of.
		{ID: "2", CustomerID: "a", CreatedAt: at(2, 10), Total: 50, SourceName: "pos",
			Lines:   []cvo.LineItem{line(50, 1, 20, true)},
			Refunds: []cvo.Refund{{CreatedAt: at(2, 20), Amount: 10}}},
		// a: cancelled, test, and after as-of: ignored.
		{ID: "3", CustomerID: "a", CreatedAt: at(3, 1), Total: 999, Cancelled: true},
		{ID: "4", CustomerID: "a", CreatedAt: at(3, 2), Total: 999, Test: true},
		{ID: "5", CustomerID: "a", CreatedAt: at(7, 1), Total: 999},
		// b: web order without any known cost, partly refunded after as-of.
		{ID: "6", CustomerID: "b", CreatedAt: at(4, 1), Total: 80, SourceName: "web",
			Lines:   []cvo.LineItem{line(80, 1, 0, false)},
			Refunds: []cvo.Refund{{CreatedAt: at(6, 15), Amount: 30}}},
		// d: fully refunded, so never a purchase (cvo.Order.IsPurchase).
		{ID: "9", CustomerID: "d", CreatedAt: at(4, 1), Total: 80,
			Refunds: []cvo.Refund{{CreatedAt: at(4, 2), Amount: 80}}},
		// c: a zero-cost line is a known cost of zero, not an unknown one.
		{ID: "7", CustomerID: "c", CreatedAt: at(5, 1), Total: 20, SourceName: "shopify_draft_order",
			Lines: []cvo.LineItem{line(20, 1, 0, true)}},
		// No customer: not part of any CLV.
		{ID: "8", CreatedAt: at(5, 2), Total: 500},
	}
	cfg := HistoricalConfig{
		AsOf:              asOf,
		RefundDating:      cvo.RefundAtRefundDate,
		DefaultMarginRate: 0.4,
		CAC:               25,
		CACBySource:       map[string]float64{"facebook": 50, "Shopify_Draft_Order": 0},
	}
	got := HistoricalCLV(orders, cfg)
	require.Len(t, got, 3)

	a := got[0]
	assert.Equal(t, "a", a.CustomerID)
	assert.Equal(t, 2, a.Orders)
	assert.Equal(t, at(1, 10), a.FirstOrder)
	assert.Equal(t, at(2, 10), a.LastOrder)
	assert.InDelta(t, 140.0, a.Revenue, 1e-9)
	// Order 1: 60% of 100 at (60-24)/60 = 60%, 40% at 40% → 36 + 16 = 52.
	// Order 2: net 40, all at (50-20)/50 = 60% → 24.
	assert.InDelta(t, 76.0, a.GrossMargin, 1e-9)
	assert.InDelta(t, (60.0+40)/140, a.CostCoverage, 1e-9)
	assert.Equal(t, "facebook", a.AcquisitionSource)
	assert.Equal(t, 50.0, a.CAC)
	assert.InDelta(t, 26.0, a.CLV, 1e-9)
	assert.InDelta(t, 76.0/50, a.CLVToCAC, 1e-9)
	assert.InDelta(t, 76.0/140, a.MarginRate(0.3), 1e-9)

	b := got[1]
	assert.InDelta(t, 80.0, b.Revenue, 1e-9) // the refund came after as-of
	assert.InDelta(t, 32.0, b.GrossMargin, 1e-9)
	assert.Equal(t, 0.0, b.CostCoverage)
	assert.Equal(t, "web", b.AcquisitionSource)
	assert.Equal(t, 25.0, b.CAC)
	assert.InDelta(t, 7.0, b.CLV, 1e-9)

	c := got[2]
	assert.InDelta(t, 20.0, c.GrossMargin, 1e-9)
	assert.Equal(t, 0.0, c.CAC)
	assert.Equal(t, 0.0, c.CLVToCAC) // undefined without a CAC
	assert.InDelta(t, 20.0, c.CLV, 1e-9)

	// Back-dating refunds to their order counts b's later refund.
	cfg.RefundDating = cvo.RefundAtOrderDate
	got = HistoricalCLV(orders, cfg)
	assert.InDelta(t, 50.0, got[1].Revenue, 1e-9)
	assert.InDelta(t, 0.4, got[1].MarginRate(0.3), 1e-9)
	assert.Equal(t, 0.3, Historical{}.MarginRate(0.3))

	// Zero default margin rate means the package default.
	cfg.DefaultMarginRate = 0
	got = HistoricalCLV(orders, cfg)
	assert.InDelta(t, 60*0.6+40*DefaultMarginRate+24, got[0].GrossMargin, 1e-9)
}

func TestAcquisitionSource(t *testing.T) {
	assert.Equal(t, "google", AcquisitionSource(cvo.Order{UTMSource: " Google ", SourceName: "web"}))
	assert.Equal(t, "web", AcquisitionSource(cvo.Order{SourceName: "Web"}))
	assert.Equal(t, "", AcquisitionSource(cvo.Order{}))
}
