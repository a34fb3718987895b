// Package ledger holds a shop's orders in the compact form scoring and the
// reports read, instead of cvo.Order: customers as dense numbers, times as
// Unix seconds, amounts as numbers, identifiers copied once into large
// blocks, and the strings and product lines of an order kept only where a
// report reads them, a customer's first purchase. An order is 32 bytes
// here (8 to 24 more when some of its lines have a known unit cost, whose
// sums are kept; 4 or 32 more for sub-second times or refunds) against
// about 300 and a slice of lines as a cvo.Order.
//
// A Ledger is filled once by a Builder (from a database stream, a CSV
// file or a slice of cvo.Order) and is read-only afterwards. Orders keep
// the order they were added in; ties between orders of one customer at
// the same second are settled by that order, as cvo.Order slices were.
package ledger

import (
	"time"

	"github.com/cvo-app/cvo/internal/cvo"
)

// Order is one order of a Ledger: 32 bytes, five million of which a big
// shop's scoring holds at its peak.
type Order struct {
	At       int64   // created_at, Unix seconds
	Total    float64 // what the customer paid, before refunds
	Customer int32   // the customer's number in the Ledger
	// extra names what few orders have: refunds, a creation time with
	// nanoseconds.
	extra extraRef
	cost  costRef // where its cost is kept (Ledger.costs), 0 when none
	// detail is 1 + the index into Ledger.details, 0 when not kept, with
	// discountBit set when a discount code was used.
	detail int32
}

// discountBit marks, in Order.detail, an order that used a discount code:
// a bool of its own would round the order up to 40 bytes.
const discountBit int32 = 1 << 30

// detailNumber is 1 + the index into Ledger.details of the order's
// detail, 0 when it has none.
func (o *Order) detailNumber() int32 { return o.detail &^ discountBit }

// extraRef names an order's entry in Ledger.extras, or, with nanosOnly
// set, in Ledger.subsecond; 0 when it has none. Both are numbered from 1.
type extraRef int32

// nanosOnly marks an extraRef into Ledger.subsecond: an order whose only extra
// is the nanoseconds of its creation time (every order of a CSV file whose
// times have milliseconds) takes 4 bytes there instead of an orderExtra's
// 32.
const nanosOnly extraRef = 1 << 30

// orderExtra is what an order has that few do: refunds, and the
// nanoseconds of its creation time beside them.
type orderExtra struct {
	refunds []cvo.Refund
	nanos   int32
}

// Detail is what the reports read of a customer's first purchase: its
// attribution, discount codes and product lines.
type Detail struct {
	SourceName, UTMSource, UTMCampaign string
	// Acquisition is cvo.Order.AcquisitionSource.
	Acquisition   string
	DiscountCodes []string
	// Lines are the order's product lines as numbers of the ledger's
	// distinct lines (Ledger.Line): a shop sells a few thousand products,
	// and its first purchases hold millions of lines.
	Lines []int32
}

// storedDetail is a Detail as the ledger keeps it, 32 bytes instead of
// 112 and no allocation of its own: its strings as numbers of the
// ledger's texts, its codes and lines as ranges of two arrays all details
// share. A shop keeps one for nearly every customer.
type storedDetail struct {
	sourceName, utmSource, utmCampaign, acquisition int32
	codes, lines                                    span
}

// span is the range [from, to) of a shared array.
type span struct{ from, to int32 }

// Line is a product line of a Detail.
type Line struct {
	ProductID, Title, Vendor, ProductType string
}

// Profile is what the scoring reads of a customer's record: location for
// the reports, and Shopify's own RFM group for the crosswalk.
type Profile struct {
	Country, City, ShopifyRFMGroup string
}

// storedProfile is a Profile as the ledger keeps it: its strings as
// numbers of the ledger's texts, 16 bytes a customer instead of a
// cvo.Customer's 104 and an ID string of its own.
type storedProfile struct {
	country, city, shopifyRFMGroup int32
	listed                         bool
}

// Ledger is a shop's orders. Orders that can never count as a purchase
// (tests, cancelled, without a customer) are not kept.
type Ledger struct {
	customers []string        // number → customer ID
	profiles  []storedProfile // by customer number; customers past its end have none
	// previous is each customer's group in the shop's previous scoring
	// (an rfm.Group, 0 when none), by customer number; nil when none was
	// added.
	previous  []uint8
	orders    []Order
	extras    []orderExtra
	subsecond []int32 // creation times' nanoseconds of orders without refunds
	costs     costs
	details   []storedDetail
	texts     []string  // the distinct strings the details number; texts[0] is ""
	codes     []string  // the details' discount codes, by range
	lineRefs  []int32   // the details' product lines, by range
	lines     []Line    // the distinct product lines the details number
	latest    time.Time // latest created_at of every order added, kept or not
	fixed     int       // orders whose non-finite amounts were set to 0
}

// Orders returns the orders, in the order they were added. The slice is
// shared; do not modify it.
func (l *Ledger) Orders() []Order {
	if l == nil {
		return nil
	}
	return l.orders
}

// Len is the number of orders kept; a nil Ledger has none.
func (l *Ledger) Len() int { return len(l.Orders()) }

// Customers is the number of distinct customers: those of the orders
// kept and those whose record or previous group was added.
func (l *Ledger) Customers() int { return len(l.customers) }

// Profile returns customer number c's record; ok is false when none was
// added (a customer known only from orders).
func (l *Ledger) Profile(c int32) (p Profile, ok bool) {
	if int(c) >= len(l.profiles) || !l.profiles[c].listed {
		return Profile{}, false
	}
	sp := &l.profiles[c]
	return Profile{Country: l.texts[sp.country], City: l.texts[sp.city], ShopifyRFMGroup: l.texts[sp.shopifyRFMGroup]}, true
}

// CustomerID returns the ID of customer number c.
func (l *Ledger) CustomerID(c int32) string { return l.customers[c] }

// Latest is the latest creation time of every order added, kept or not
// (zero when none).
func (l *Ledger) Latest() time.Time { return l.latest }

// Fixed is how many orders had amounts that are not numbers (NaN or
// infinite totals, refunds, prices or costs); they were set to 0.
func (l *Ledger) Fixed() int { return l.fixed }

// Created is the order's creation time. o must be one of l's orders, read
// before ReleaseOrders: its sub-second part is kept by the ledger.
func (l *Ledger) Created(o *Order) time.Time { return time.Unix(o.At, int64(l.nanos(o))) }

// CreatedZero says whether the order had no creation time (the zero
// time.Time), a data error the reports leave out.
func (l *Ledger) CreatedZero(o *Order) bool { return o.At == zeroUnix && l.nanos(o) == 0 }

var zeroUnix = time.Time{}.Unix()

// nanos is the nanoseconds of the order's creation time.
func (l *Ledger) nanos(o *Order) int32 {
	switch {
	case o.extra == 0:
		return 0
	case o.extra&nanosOnly != 0:
		return l.subsecond[o.extra&^nanosOnly-1]
	default:
		return l.extras[o.extra-1].nanos
	}
}

// Discounted says whether a discount code was used.
func (o *Order) Discounted() bool { return o.detail&discountBit != 0 }

// KnownCost is cvo.Order.KnownCost of the order when some of its revenue
// has a known cost and its line revenue is positive, and zeros otherwise,
// which every margin reads alike.
func (l *Ledger) KnownCost(o *Order) (cost, covered, lineRevenue float64) {
	if o.cost == 0 {
		return 0, 0, 0
	}
	c := l.costs.at(o.cost)
	return c.Cost, c.Covered, c.LineRevenue
}

// Detail returns the order's attribution and lines. It is kept for every
// order that can be a customer's first purchase for some as-of date; for
// any other order ok is false. The slices are shared; do not modify them.
func (l *Ledger) Detail(o *Order) (d Detail, ok bool) { return l.DetailOf(l.DetailRef(o)) }

// DetailRef names an order's detail (or its lack of one), so that it can
// be read once the orders are let go (ReleaseOrders).
type DetailRef int32

// DetailRef returns the name of the order's detail.
func (l *Ledger) DetailRef(o *Order) DetailRef { return DetailRef(o.detailNumber()) }

// DetailOf is Detail by the name DetailRef gave.
func (l *Ledger) DetailOf(r DetailRef) (d Detail, ok bool) {
	if r == 0 {
		return Detail{}, false
	}
	sd := &l.details[r-1]
	d = Detail{SourceName: l.texts[sd.sourceName], UTMSource: l.texts[sd.utmSource], UTMCampaign: l.texts[sd.utmCampaign],
		Acquisition: l.texts[sd.acquisition]}
	if sd.codes.to > sd.codes.from {
		d.DiscountCodes = l.codes[sd.codes.from:sd.codes.to:sd.codes.to]
	}
	if sd.lines.to > sd.lines.from {
		d.Lines = l.lineRefs[sd.lines.from:sd.lines.to:sd.lines.to]
	}
	return d, true
}

// Line returns the product line numbered n in a Detail's Lines.
func (l *Ledger) Line(n int32) *Line { return &l.lines[n] }

// LineCount is how many distinct product lines the details number: every
// number in a Detail's Lines is below it.
func (l *Ledger) LineCount() int { return len(l.lines) }

// PreviousGroup is customer number c's group in the previous scoring as
// AddPreviousGroup gave it (0: none).
func (l *Ledger) PreviousGroup(c int32) uint8 {
	if int(c) >= len(l.previous) {
		return 0
	}
	return l.previous[c]
}

// HasPreviousGroups says whether any previous group was added.
func (l *Ledger) HasPreviousGroups() bool { return l.previous != nil }

// PreviousGroups calls fn with every customer's previous group that was
// added (not 0), in customer number order.
func (l *Ledger) PreviousGroups(fn func(c int32, group uint8)) {
	for c, g := range l.previous {
		if g != 0 {
			fn(int32(c), g)
		}
	}
}

// ReleaseOrders lets go of the orders, their refunds and their costs, the
// bulk of a ledger, for a reader that has taken what it needs of them
// (reports.LayOut). Customers, their records (Profile) and the first
// purchases' details (DetailOf) stay; Orders is empty afterwards.
func (l *Ledger) ReleaseOrders() { l.orders, l.extras, l.subsecond, l.costs = nil, nil, nil, costs{} }

// Refunds returns the order's refunds.
func (l *Ledger) Refunds(o *Order) []cvo.Refund {
	if o.extra == 0 || o.extra&nanosOnly != 0 {
		return nil
	}
	return l.extras[o.extra-1].refunds
}

// AsOf decides which orders are purchases as of an instant, as
// cvo.Order.IsPurchaseAsOf and cvo.Order.NetValueAsOf do.
type AsOf struct {
	l      *Ledger
	sec    int64
	nanos  int32
	asOf   time.Time
	dating cvo.RefundDating
}

// AsOf returns the purchase rules at an instant under a refund dating.
func (l *Ledger) AsOf(asOf time.Time, dating cvo.RefundDating) AsOf {
	return AsOf{l: l, sec: asOf.Unix(), nanos: int32(asOf.Nanosecond()), asOf: asOf, dating: dating}
}

// Counts is cvo.Order.IsPurchaseAsOf: created by as-of and not fully
// refunded by then (kept orders are never tests, cancelled or without a
// customer).
func (a AsOf) Counts(o *Order) bool {
	if o.At > a.sec || (o.At == a.sec && a.l.nanos(o) > a.nanos) {
		return false
	}
	refunds := a.l.Refunds(o)
	if len(refunds) == 0 || o.Total <= 0 {
		return true
	}
	return a.refunded(refunds) < o.Total-0.005
}

// Net is cvo.Order.NetValueAsOf: the total less the refunds known at
// as-of, never below 0.
func (a AsOf) Net(o *Order) float64 {
	net := o.Total
	if refunds := a.l.Refunds(o); len(refunds) > 0 {
		net -= a.refunded(refunds)
	}
	if net < 0 {
		return 0
	}
	return net
}

func (a AsOf) refunded(refunds []cvo.Refund) float64 {
	var sum float64
	for _, r := range refunds {
		if a.dating == cvo.RefundAtOrderDate || !r.CreatedAt.After(a.asOf) {
			sum += r.Amount
		}
	}
	return sum
}

// FromOrders builds a Ledger from orders.
func FromOrders(orders []cvo.Order) *Ledger { return FromHistory(nil, orders) }

// FromHistory builds a Ledger from customer records and orders.
func FromHistory(customers []cvo.Customer, orders []cvo.Order) *Ledger {
	b := NewBuilder(len(orders))
	for i := range customers {
		b.AddCustomer(&customers[i])
	}
	for i := range orders {
		b.Add(&orders[i])
	}
	return b.Ledger()
}
