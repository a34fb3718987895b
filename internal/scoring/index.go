package scoring

import (
	"sync"
	"time"

	"github.com/cvo-app/cvo/internal/localtime"
	"github.com/cvo-app/cvo/internal/parallel"
	"github.com/cvo-app/cvo/internal/reports"
)

// purchaseRec is one purchase (an order cvo.Order.IsPurchase accepts,
// created by as-of, with a creation date). The index shares the reports
// dataset's records (indexFromDataset): its own layout would be a second
// copy of every purchase beside the reports', and the largest array of
// the scoring. The models read its time (shopIndex.unix), Net, Gross,
// KnownCostShare, Day and Discount.
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
	// earliest is the earliest purchase's time in Unix seconds, which a
	// purchase's time counts from (reports.Dataset.Earliest).
	earliest int64
	// byID is built on the first lookup, which most scorings never make.
	byIDOnce sync.Once
	byID     map[string]int32

	loc     *time.Location
	zones   localtime.Zone
	asOfDay int32
	minDay  int32
	dayTime []time.Time // midnight of days minDay..asOfDay+1 outside UTC
}

// workers is how many goroutines the linear passes use.
func workers(n int) int { return parallel.Workers(n, 50_000) }

// indexFromDataset lays the index over the reports dataset's purchases,
// sharing its records, customer order and acquisition sources instead of
// building a second layout of every purchase from the ledger. The dataset
// leaves a purchase without a creation date out, a data error, and so do
// the models: a purchase dated year 1 would stretch its customer's history
// over two thousand years, and the model fit with it.
func indexFromDataset(d *reports.Dataset, s Settings) *shopIndex {
	ix := &shopIndex{loc: s.Location, source: d.AcquisitionSources(), ledgerID: d.LedgerCustomers()}
	ix.ids, ix.start, ix.p = d.Layout()
	ix.earliest = d.Earliest().Unix()
	ix.buildCalendar(ix.earliest, s)
	return ix
}

// unix is the purchase's creation time in Unix seconds.
func (ix *shopIndex) unix(p *purchaseRec) int64 { return ix.earliest + p.Seconds() }

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
		out[c] = purchaseSpan{first: ix.unix(&ps[0]), last: ix.unix(&ps[len(ps)-1])}
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
