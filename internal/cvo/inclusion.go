package cvo

import (
	"strings"
	"time"
)

// RefundDating decides when a refund reduces value: on the day it was
// given, or back-dated to the order it belongs to.
type RefundDating int

// The two refund datings.
const (
	RefundAtRefundDate RefundDating = iota
	RefundAtOrderDate
)

// Refunded is the sum of all refunds on the order.
func (o Order) Refunded() float64 {
	var sum float64
	for _, r := range o.Refunds {
		sum += r.Amount
	}
	return sum
}

// FullyRefunded is true when refunds cover the whole order total. A cent of
// tolerance absorbs rounding in the shop's currency.
func (o Order) FullyRefunded() bool {
	return o.Total > 0 && o.Refunded() >= o.Total-0.005
}

// fullyRefundedAsOf is FullyRefunded counting only the refunds known at
// asOf under the refund dating rule.
func (o Order) fullyRefundedAsOf(asOf time.Time, dating RefundDating) bool {
	if o.Total <= 0 {
		return false
	}
	var refunded float64
	for _, r := range o.Refunds {
		if dating == RefundAtOrderDate || !r.CreatedAt.After(asOf) {
			refunded += r.Amount
		}
	}
	return refunded >= o.Total-0.005
}

// IsPurchase is the one place that decides whether an order counts as a
// purchase for customer scores: test orders never count, cancelled and
// fully refunded orders do not count, and orders without a customer are
// kept for product analytics only.
func (o Order) IsPurchase() bool {
	return !o.Test && !o.Cancelled && !o.FullyRefunded() && o.CustomerID != ""
}

// IsPurchaseAsOf is IsPurchase as seen at asOf: the order existed by then,
// and a refund given later does not yet undo it (unless refunds are dated
// back to their order). Scorings of the past, such as a backtest's
// calibration period, use it.
func (o Order) IsPurchaseAsOf(asOf time.Time, dating RefundDating) bool {
	return !o.Test && !o.Cancelled && o.CustomerID != "" && !o.CreatedAt.After(asOf) && !o.fullyRefundedAsOf(asOf, dating)
}

// MayBePurchase keeps the orders that count as a purchase at some as-of
// date: everything but tests, cancellations and orders without a customer.
func (o Order) MayBePurchase() bool { return o.MayBePurchaseBy(o.CustomerID != "") }

// MayBePurchaseBy is MayBePurchase for a reader that knows whether the
// order has a customer other than by o.CustomerID (storage's number).
func (o Order) MayBePurchaseBy(hasCustomer bool) bool {
	return !o.Test && !o.Cancelled && hasCustomer
}

// CountsForProducts says whether the order belongs in product analytics:
// every real order, with or without a customer.
func (o Order) CountsForProducts() bool {
	return !o.Test && !o.Cancelled && !o.FullyRefunded()
}

// NetValueAsOf is the order's value net of the refunds known at asOf. With
// RefundAtOrderDate every refund counts against the order whenever it came;
// with RefundAtRefundDate only refunds given by asOf do.
func (o Order) NetValueAsOf(asOf time.Time, dating RefundDating) float64 {
	net := o.Total
	for _, r := range o.Refunds {
		if dating == RefundAtOrderDate || !r.CreatedAt.After(asOf) {
			net -= r.Amount
		}
	}
	if net < 0 {
		return 0
	}
	return net
}

// KnownCost is the cost of the goods on the order where the shop recorded
// unit costs, and the share of the order's line revenue those lines cover.
//
// Each product is rounded before it is added (the conversions forbid a
// fused multiply-add), as the ledger and the stored line sums do.
func (o Order) KnownCost() (cost, coveredRevenue, lineRevenue float64) {
	for _, l := range o.Lines {
		rev := float64(l.UnitPrice * float64(l.Quantity))
		lineRevenue += rev
		if l.CostKnown {
			cost += float64(l.UnitCost * float64(l.Quantity))
			coveredRevenue += rev
		}
	}
	return cost, coveredRevenue, lineRevenue
}

// AcquisitionSource names where a customer's first order came from, for
// acquisition costs and the reports by source: its UTM source when present,
// its sales channel (SourceName) otherwise, lower-cased so that a setting
// "Google" matches utm_source=google.
func (o Order) AcquisitionSource() string {
	src := strings.TrimSpace(o.UTMSource)
	if src == "" {
		src = strings.TrimSpace(o.SourceName)
	}
	return strings.ToLower(src)
}
