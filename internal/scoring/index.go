package scoring

import (
	"math"
	"slices"
	"sync"
	"time"

	"github.com/cvo-app/cvo/internal/ledger"
	"github.com/cvo-app/cvo/internal/localtime"
	"github.com/cvo-app/cvo/internal/parallel"
	"github.com/cvo-app/cvo/internal/reports"
)

// purchaseRec is one purchase (an order cvo.Order.IsPurchase accepts,
// created by as-of). The index shares the reports dataset's records when
// it can (indexFromDataset): its own layout would be a second copy of
// every purchase beside the reports', and the largest array of the
// scoring. The models read At, Net, Gross, KnownCostShare, Day and
// Discount.
type purchaseRec = reports.Purchase

// shopIndex is a shop's purchases laid out by customer, oldest first.
// Customers without a purchase are left out.
type shopIndex struct {
	ids []string
	// ledgerID is each customer's number in the ledger.
	ledgerID []int32
	start    []int32 // customer c's purchases are p[start[c]:start[c+1]]
	// source is the acquisition source (clv.AcquisitionSource) of each
	// customer's earliest purchase.
	source []string
	p      []purchaseRec
	// remap turns a customer's position before customers without a
	// purchase were dropped into the dense index (-1: no purchase).
	// byID is built on the first lookup, which most scorings never make.
	byIDOnce sync.Once
	byID     map[string]int32
	remap    []int32

	loc     *time.Location
	zones   localtime.Zone
	asOfDay int32
	minDay  int32
	dayTime []time.Time // midnight of days minDay..asOfDay+1 outside UTC
}

const (
	skipOrder       = -2 // not a purchase, or created after as-of
	unknownCustomer = -1 // a purchase by a customer missing from the customer list
)

// workers is how many goroutines the linear passes use.
func workers(n int) int { return parallel.Workers(n, 50_000) }

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
	counts := ix.layOut(custOf, w)
	ix.valuePurchases(l, custOf, counts, s, w)
	if len(ix.ids) == 0 {
		least = s.AsOf.Unix()
	}
	ix.buildCalendar(least, s)
	ix.sortPurchases()
	return ix
}

// indexFromDataset lays the index over the reports dataset's purchases,
// sharing its records, customer order and acquisition sources instead of
// building a second layout of every purchase from the ledger. The two hold
// the same purchases only when no purchase lacks a creation date: the
// dataset leaves such a data error out, the index counts it. ok is false
// then, and buildIndex must index the ledger.
func indexFromDataset(d *reports.Dataset, s Settings) (ix *shopIndex, ok bool) {
	if d.Undated() > 0 {
		return nil, false
	}
	ix = &shopIndex{loc: s.Location, source: d.AcquisitionSources(), ledgerID: d.LedgerCustomers()}
	ix.ids, ix.start, ix.p = d.Layout()
	ix.buildCalendar(d.Earliest().Unix(), s)
	return ix, true
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
// Customers without a purchase are dropped (remap), the rest get their
// range of ix.p (start). It returns each chunk's write cursor per customer.
func (ix *shopIndex) layOut(custOf []int32, w int) [][]int32 {
	n, m := len(custOf), len(ix.ids)
	counts := make([][]int32, w)
	parallel.Chunks(n, w, func(k, lo, hi int) {
		cnt := make([]int32, m)
		for _, c := range custOf[lo:hi] {
			if c >= 0 {
				cnt[c]++
			}
		}
		counts[k] = cnt
	})
	ix.remap = make([]int32, m)
	kept := int32(0)
	for c := range m {
		total := int32(0)
		for k := range w {
			total += counts[k][c]
		}
		if total == 0 {
			ix.remap[c] = -1
			continue
		}
		ix.remap[c] = kept
		ix.ids[kept], ix.ledgerID[kept] = ix.ids[c], ix.ledgerID[c]
		kept++
	}
	ix.ids, ix.ledgerID = ix.ids[:kept:kept], ix.ledgerID[:kept:kept]
	ix.start = make([]int32, kept+1)
	for c := range m {
		d := ix.remap[c]
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
	return counts
}

// valuePurchases is pass 3: value the purchases, and note the acquisition
// source of each customer's earliest order while the order is at hand
// (looking it up later would be a cache miss per customer).
func (ix *shopIndex) valuePurchases(l *ledger.Ledger, custOf []int32, counts [][]int32, s Settings, w int) {
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
			ix.p[cursor[c]] = reports.PurchaseOf(l, rules, o, s.DefaultMarginRate)
			cursor[c]++
			// Orders come in input order within a chunk, so a tie keeps
			// the earlier one, as clv.HistoricalCLV does.
			if d := ix.remap[c]; o.At < earliest[d] {
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

// buildCalendar sets the days from the earliest purchase (at least, in
// Unix seconds) to as-of in the shop's zone.
func (ix *shopIndex) buildCalendar(least int64, s Settings) {
	asOf := s.AsOf
	ix.zones = localtime.NewZone(least, asOf.Unix(), s.Location)
	ix.asOfDay = ix.zones.Day(asOf.Unix())
	ix.minDay = ix.zones.Day(least)
	if s.Location != time.UTC && ix.asOfDay >= ix.minDay && ix.asOfDay-ix.minDay < 200_000 {
		ix.dayTime = make([]time.Time, ix.asOfDay-ix.minDay+2)
		for i := range ix.dayTime {
			ix.dayTime[i] = civilMidnight(ix.minDay+int32(i), s.Location)
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
				seg[j].Day = ix.zones.Day(seg[j].At)
			}
		}
	})
}

// customers is the number of indexed customers.
func (ix *shopIndex) customers() int { return len(ix.ids) }

// purchases returns customer c's purchases, oldest first.
func (ix *shopIndex) purchases(c int) []purchaseRec { return ix.p[ix.start[c]:ix.start[c+1]] }

// purchaseSpan is what the scores read of a customer's purchases once the
// models are done, besides how many there are (start): when the first
// and the last were made, in Unix seconds.
type purchaseSpan struct{ first, last int64 }

// releasePurchases returns every customer's purchaseSpan and lets go of
// the purchases, which must not be read afterwards. They are the largest
// array of the scoring (187 MB for a million customers with five million
// orders); held while the scores are assembled, they set its peak.
func (ix *shopIndex) releasePurchases() []purchaseSpan {
	out := make([]purchaseSpan, ix.customers())
	for c := range out {
		ps := ix.purchases(c)
		out[c] = purchaseSpan{first: ps[0].At, last: ps[len(ps)-1].At}
	}
	ix.p = nil
	return out
}

// lookup finds a customer's dense index.
func (ix *shopIndex) lookup(id string) (int, bool) {
	ix.byIDOnce.Do(func() {
		ix.byID = make(map[string]int32, len(ix.ids))
		for c, id := range ix.ids {
			ix.byID[id] = int32(c)
		}
	})
	c, ok := ix.byID[id]
	return int(c), ok
}

// midnight is the first instant of calendar day d in the shop's zone.
func (ix *shopIndex) midnight(d int32) time.Time {
	if ix.loc == time.UTC {
		return time.Unix(int64(d)*secondsPerDay, 0).UTC()
	}
	if i := int(d - ix.minDay); i >= 0 && i < len(ix.dayTime) {
		return ix.dayTime[i]
	}
	return civilMidnight(d, ix.loc)
}

func civilMidnight(d int32, loc *time.Location) time.Time {
	u := time.Unix(int64(d)*secondsPerDay, 0).UTC()
	return time.Date(u.Year(), u.Month(), u.Day(), 0, 0, 0, 0, loc)
}

const secondsPerDay = localtime.SecondsPerDay
