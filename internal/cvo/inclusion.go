package cvo

import "time"

// RefundDating decides when a refund reduces value: on the day it was
// given, or back-dated to the order it belongs to.
type RefundDating int

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

// IsPurchase is the one place that decides whether an order counts as a
// purchase for customer scores: test orders never count, cancelled and
// fully refunded orders do not count, and orders without a customer are
// kept for product analytics only.
func (o Order) IsPurchase() bool {
	return !o.Test && !o.Cancelled && !o.FullyRefunded() && o.CustomerID != ""
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
func (o Order) KnownCost() (cost, coveredRevenue, lineRevenue float64) {
	for _, l := range o.Lines {
		rev := l.UnitPrice * float64(l.Quantity)
		lineRevenue += rev
		if l.CostKnown {
			cost += l.UnitCost * float64(l.Quantity)
			coveredRevenue += rev
		}
	}
	return cost, coveredRevenue, lineRevenue
}
