package scoring

import (
	"math"
	"slices"

	"github.com/cvo-app/cvo/internal/ledger"
	"github.com/cvo-app/cvo/internal/parallel"
	"github.com/cvo-app/cvo/internal/reports"
)

// This file indexes a ledger's purchases directly, as the scoring did
// before it borrowed the reports' layout (indexFromDataset): the tests'
// independent reference for that layout, and a quick index of a slice of
// orders. Unlike the scoring it would count a purchase without a creation
// date, but a purchase's time spans 68 years (reports.PurchaseOf panics
// past them), so it must not be given one.

const (
	skipOrder       = -2 // not a purchase, or created after as-of
	unknownCustomer = -1 // a purchase by a customer missing from the customer list
)

// buildIndex indexes the purchases of orders created at or before s.AsOf.
// Customers are numbered in the order of first (ledger customer numbers),
// then customers known only from orders in order of appearance; customers
// without a purchase are dropped. Score passes the reports' customer
// order, so that the RFM assignments line up without a lookup (alignRFM
// checks it).
func buildIndex(first []int32, l *ledger.Ledger, s Settings) *shopIndex {
	ix := &shopIndex{loc: s.Location}
	w := workers(l.Len())
	custOf, least := ix.assignOrders(first, l, s, w)
	counts, remap := ix.layOut(custOf, w)
	if len(ix.ids) == 0 {
		least = s.AsOf.Unix()
	}
	ix.earliest = least
	ix.valuePurchases(l, custOf, counts, remap, s, w)
	ix.buildCalendar(least, s)
	ix.sortPurchases()
	return ix
}

// assignOrders numbers the customers and decides, on every core, which
// orders count and for whom (skipOrder for those that do not). Customers
// are numbered in the order of first, then customers known only from
// orders in order of appearance. It returns the customer of each order and
// the earliest purchase's time (math.MaxInt64 when none counts).
func (ix *shopIndex) assignOrders(first []int32, l *ledger.Ledger, s Settings, w int) ([]int32, int64) {
	// number maps the ledger's customer numbers to the index's, with no
	// string lookup at all.
	number := make([]int32, l.Customers())
	for c := range number {
		number[c] = unknownCustomer
	}
	ix.ids = make([]string, 0, l.Customers())
	ix.ledgerID = make([]int32, 0, l.Customers())
	for _, c := range first {
		if c >= 0 && int(c) < len(number) && number[c] == unknownCustomer {
			number[c] = int32(len(ix.ids))
			ix.ids = append(ix.ids, l.CustomerID(c))
			ix.ledgerID = append(ix.ledgerID, c)
		}
	}
	orders := l.Orders()
	n := len(orders)
	custOf := make([]int32, n)
	minAt := make([]int64, w)
	rules := l.AsOf(s.AsOf, s.RefundDating)
	parallel.Chunks(n, w, func(k, lo, hi int) {
		least := int64(math.MaxInt64)
		for i := lo; i < hi; i++ {
			o := &orders[i]
			if !rules.Counts(o) {
				custOf[i] = skipOrder
				continue
			}
			custOf[i] = number[o.Customer]
			least = min(least, o.At)
		}
		minAt[k] = least
	})
	for i, c := range custOf {
		if c != unknownCustomer {
			continue
		}
		lc := orders[i].Customer
		if number[lc] == unknownCustomer {
			number[lc] = int32(len(ix.ids))
			ix.ids = append(ix.ids, l.CustomerID(lc))
			ix.ledgerID = append(ix.ledgerID, lc)
		}
		custOf[i] = number[lc]
	}
	least := int64(math.MaxInt64)
	for _, v := range minAt {
		least = min(least, v)
	}
	return custOf, least
}

// layOut is pass 2: purchases per customer and chunk, so that pass 3 can
// write each chunk's purchases straight to their place, in input order.
// Customers without a purchase are dropped, the rest get their range of
// ix.p (start). It returns each chunk's write cursor per customer, and
// remap, which turns a customer's position before the drop into the dense
// index (-1: no purchase).
func (ix *shopIndex) layOut(custOf []int32, w int) (counts [][]int32, remap []int32) {
	n, m := len(custOf), len(ix.ids)
	counts = make([][]int32, w)
	parallel.Chunks(n, w, func(k, lo, hi int) {
		cnt := make([]int32, m)
		for _, c := range custOf[lo:hi] {
			if c >= 0 {
				cnt[c]++
			}
		}
		counts[k] = cnt
	})
	remap = make([]int32, m)
	kept := int32(0)
	for c := range m {
		total := int32(0)
		for k := range w {
			total += counts[k][c]
		}
		if total == 0 {
			remap[c] = -1
			continue
		}
		remap[c] = kept
		ix.ids[kept], ix.ledgerID[kept] = ix.ids[c], ix.ledgerID[c]
		kept++
	}
	ix.ids, ix.ledgerID = ix.ids[:kept:kept], ix.ledgerID[:kept:kept]
	ix.start = make([]int32, kept+1)
	for c := range m {
		d := remap[c]
		if d < 0 {
			continue
		}
		at := ix.start[d]
		for k := range w {
			cnt := counts[k][c]
			counts[k][c] = at // becomes chunk k's write cursor for c
			at += cnt
		}
		ix.start[d+1] = at
	}
	return counts, remap
}

// valuePurchases is pass 3: value the purchases, and note the acquisition
// source of each customer's earliest order while the order is at hand
// (looking it up later would be a cache miss per customer).
func (ix *shopIndex) valuePurchases(l *ledger.Ledger, custOf []int32, counts [][]int32, remap []int32, s Settings, w int) {
	orders := l.Orders()
	n, kept := len(orders), len(ix.ids)
	ix.p = make([]purchaseRec, ix.start[kept])
	rules := l.AsOf(s.AsOf, s.RefundDating)
	firstAt := make([][]int64, w)
	firstSource := make([][]string, w)
	parallel.Chunks(n, w, func(k, lo, hi int) {
		cursor := counts[k]
		earliest := make([]int64, kept)
		for c := range earliest {
			earliest[c] = math.MaxInt64
		}
		source := make([]string, kept)
		for i := lo; i < hi; i++ {
			c := custOf[i]
			if c < 0 {
				continue
			}
			o := &orders[i]
			ix.p[cursor[c]] = reports.PurchaseOf(l, rules, o, s.DefaultMarginRate, ix.earliest)
			cursor[c]++
			// Orders come in input order within a chunk, so a tie keeps
			// the earlier one, as clv.HistoricalCLV does.
			if d := remap[c]; o.At < earliest[d] {
				earliest[d] = o.At
				source[d] = ""
				if det, ok := l.Detail(o); ok {
					source[d] = det.Acquisition
				}
			}
		}
		firstAt[k], firstSource[k] = earliest, source
	})
	ix.source = firstSource[0]
	for k := 1; k < w; k++ {
		for c, at := range firstAt[k] {
			// Later chunks win only with a strictly earlier order.
			if at < firstAt[0][c] {
				firstAt[0][c] = at
				ix.source[c] = firstSource[k][c]
			}
		}
	}
}

// sortPurchases puts each customer's purchases in time order and gives
// each its day.
func (ix *shopIndex) sortPurchases() {
	kept := len(ix.ids)
	parallel.Chunks(kept, workers(kept), func(_, lo, hi int) {
		for c := lo; c < hi; c++ {
			seg := ix.p[ix.start[c]:ix.start[c+1]]
			if !slices.IsSortedFunc(seg, reports.ByTime) {
				// Equal timestamps keep input order, so the first order of a
				// customer is the one clv.HistoricalCLV would pick.
				slices.SortStableFunc(seg, reports.ByTime)
			}
			for j := range seg {
				seg[j].Day = ix.zones.Day(ix.unix(&seg[j]))
			}
		}
	})
}
