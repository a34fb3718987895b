package clv

import (
	"sort"
	"strings"
	"time"

	"github.com/cvo-app/cvo/internal/cvo"
)

// HistoricalConfig configures HistoricalCLV.
type HistoricalConfig struct {
	AsOf         time.Time
	RefundDating cvo.RefundDating
	// DefaultMarginRate applies to the revenue of lines without a known
	// unit cost. Zero means DefaultMarginRate.
	DefaultMarginRate float64
	// CAC is the shop's acquisition cost per customer; CACBySource
	// overrides it per acquisition source (matched case-insensitively).
	CAC         float64
	CACBySource map[string]float64
}

// Historical is a customer's realized value up to the as-of time.
type Historical struct {
	CustomerID string
	Orders     int
	FirstOrder time.Time
	LastOrder  time.Time
	// Revenue is the orders' value net of the refunds known at as-of.
	Revenue float64
	// GrossMargin is Revenue minus the cost of goods: known unit costs where
	// recorded, DefaultMarginRate on the rest.
	GrossMargin float64
	// CostCoverage is the share of Revenue whose margin came from known
	// unit costs.
	CostCoverage      float64
	AcquisitionSource string
	CAC               float64
	// CLV is GrossMargin - CAC.
	CLV float64
	// CLVToCAC is GrossMargin / CAC; 0 when CAC is 0 (undefined).
	CLVToCAC float64
}

// AcquisitionSource names where an order came from for CAC purposes:
// cvo.Order.AcquisitionSource, the one rule the reports share.
func AcquisitionSource(o cvo.Order) string { return o.AcquisitionSource() }

// HistoricalCLV computes every customer's realized CLV from their orders,
// counting only purchases (cvo.Order.IsPurchase) created by as-of. The
// first such order fixes the acquisition source. Results are sorted by
// customer ID.
//
// Margin per order: the known-cost lines' margin rate
// (covered revenue - cost)/covered revenue applies to the known-cost share
// of the order's net value, DefaultMarginRate to the rest, so discounts,
// shipping and refunds are spread pro rata over the lines.
func HistoricalCLV(orders []cvo.Order, cfg HistoricalConfig) []Historical {
	defaultRate := cfg.DefaultMarginRate
	if defaultRate == 0 {
		defaultRate = DefaultMarginRate
	}
	cacBySource := make(map[string]float64, len(cfg.CACBySource))
	for k, v := range cfg.CACBySource {
		cacBySource[strings.ToLower(strings.TrimSpace(k))] = v
	}
	type acc struct {
		h       Historical
		covered float64
	}
	byCustomer := map[string]*acc{}
	for _, o := range orders {
		if !o.IsPurchaseAsOf(cfg.AsOf, cfg.RefundDating) {
			continue
		}
		a := byCustomer[o.CustomerID]
		if a == nil {
			a = &acc{h: Historical{CustomerID: o.CustomerID}}
			byCustomer[o.CustomerID] = a
		}
		net := finiteOrZero(o.NetValueAsOf(cfg.AsOf, cfg.RefundDating))
		cost, coveredRevenue, lineRevenue := o.KnownCost()
		share, knownRate := 0.0, 0.0
		if lineRevenue > 0 && coveredRevenue > 0 {
			share = min(coveredRevenue/lineRevenue, 1)
			knownRate = (coveredRevenue - cost) / coveredRevenue
		}
		a.h.Orders++
		a.h.Revenue += net
		a.h.GrossMargin += net*share*finiteOrZero(knownRate) + net*(1-share)*defaultRate
		a.covered += net * share
		if a.h.FirstOrder.IsZero() || o.CreatedAt.Before(a.h.FirstOrder) {
			a.h.FirstOrder = o.CreatedAt
			a.h.AcquisitionSource = AcquisitionSource(o)
		}
		if o.CreatedAt.After(a.h.LastOrder) {
			a.h.LastOrder = o.CreatedAt
		}
	}
	out := make([]Historical, 0, len(byCustomer))
	for _, a := range byCustomer {
		h := a.h
		if h.Revenue > 0 {
			h.CostCoverage = a.covered / h.Revenue
		}
		h.CAC = cfg.CAC
		if v, ok := cacBySource[h.AcquisitionSource]; ok && h.AcquisitionSource != "" {
			h.CAC = v
		}
		h.CLV = h.GrossMargin - h.CAC
		if h.CAC > 0 {
			h.CLVToCAC = h.GrossMargin / h.CAC
		}
		out = append(out, h)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CustomerID < out[j].CustomerID })
	return out
}

// MarginRate is the customer's realized gross margin rate, or def when the
// customer has no revenue; the app can feed it into predicted CLV.
func (h Historical) MarginRate(def float64) float64 {
	if h.Revenue > 0 {
		return h.GrossMargin / h.Revenue
	}
	return def
}
