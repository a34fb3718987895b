package reports

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/finite"
	"github.com/cvo-app/cvo/internal/ledger"
	"github.com/cvo-app/cvo/internal/localtime"
	"github.com/cvo-app/cvo/internal/parallel"
	"github.com/cvo-app/cvo/internal/rfm"
)

// Dataset is a shop's purchase history indexed for the reports. Build it
// once with NewDataset; it is read-only afterwards and safe for
// concurrent use.
type Dataset struct {
	opts Options
	asOf int64

	// Customers with at least one purchase, by dense index, in ascending
	// order of their keys, and their numbers in the ledger.
	ids      []string
	ledgerID []int32
	country  []int32 // index into countries, -1 when unknown
	city     []int32 // index into cities, -1 when unknown
	countryM multi   // the same as rows, for the segment reports
	cityM    multi
	// start[i]..start[i+1] index customer i's purchases in p, oldest
	// first.
	start []int32
	p     []Purchase
	// undated counts the purchases left out for having no creation date,
	// tooOld those left out for being more than maxPurchaseSpan older
	// than the latest (cutoff is the earliest time allowed, the lowest
	// int64 when none is too old).
	undated, tooOld int
	cutoff          int64
	// earliest is the earliest purchase's time (as-of when none), which
	// every Purchase's time counts from.
	earliest int64

	months      int
	monthStarts []int64 // months+1 entries; the last is the first month after AsOf's
	// dayMonth is the month of each 24-hour span of time after earliest
	// (not a calendar day): a month lasts longer, so a purchase's month is
	// its span's or the next one (Dataset.month).
	dayMonth []int16
	zones    localtime.Zone

	// Attributes of each customer's first purchase.
	channel, source, campaign, code multi
	product, vendor, productType    multi
	channels, sources, campaigns    *dict
	codes, products, vendors, types *dict
	// acquisition is each customer's acquisition source
	// (cvo.Order.AcquisitionSource of the first purchase), which acquisition
	// costs are set by.
	acquisition  []int32
	acquisitions *dict
	// acquisitionSource is each customer's acquisition source as the
	// order gave it, for the models (the dictionary files "" and
	// "(none)" together).
	acquisitionSource []string
	countries, cities *dict

	rfmCustomers []rfm.Customer
	// previous is each customer's group in the previous scoring and
	// previousBefore that scoring's customers per group, when the ledger
	// carried them (ledger.Builder.AddPreviousGroup).
	previous       []rfm.Group
	previousBefore [rfm.NumGroups + 1]int
	cadence        rfm.Cadence
	window         Window
	eligible       []bool    // first purchase at least one window before AsOf
	repeated       []bool    // bought again within the window
	later          []float64 // net value bought after the first purchase, within the window
}

// Purchase is one purchase, laid out by customer. The models read the
// same records as the reports (scoring's index borrows the dataset's
// layout), so one record of 32 bytes serves both instead of a copy for
// each: what only one side reads is a few bytes here against a second
// array of every purchase. Its time is kept as seconds after the
// history's earliest purchase and its month is looked up when read
// (Dataset.month), which spares the 8 bytes a Unix time, a month and a
// flag would round it up by: 36 MB of a rescore's peak at five million
// purchases.
type Purchase struct {
	Net float64 // value net of the refunds known at as-of; 0 if that is not a number
	// Gross is the order's gross margin as historical CLV counts it (see
	// clv.HistoricalCLV): the known-cost lines' margin rate on the
	// known-cost share of the net value, the default margin rate on the
	// rest.
	Gross    float64
	Margin   float32 // net value − cost of goods, 0 when no cost known
	Coverage float32 // share of line revenue with a known unit cost
	Day      int32   // calendar day in the shop's zone, days since 1970-01-01
	// since is the creation time in seconds after the earliest purchase
	// (Dataset.Earliest), with discountFlag set when a discount code was
	// used.
	since uint32
}

// discountFlag marks, in Purchase.since, a purchase that used a discount
// code; the seconds below it span maxPurchaseSpan.
const discountFlag = 1 << 31

// maxPurchaseSpan is the most seconds a dataset's purchases span, 68
// years: older ones are left out as data errors (Dataset.TooOld).
const maxPurchaseSpan = discountFlag - 1

// Seconds is the purchase's creation time in seconds after the earliest
// purchase of its dataset (Dataset.Earliest).
func (p *Purchase) Seconds() int64 { return int64(p.since &^ discountFlag) }

// Discount says whether a discount code was used.
func (p *Purchase) Discount() bool { return p.since&discountFlag != 0 }

// PurchaseOf values the ledger's order as a purchase under rules, the
// default margin rate where no unit cost is known; earliest is the
// dataset's earliest purchase, at most maxPurchaseSpan before the order.
// Its Day is left to whoever lays it out.
func PurchaseOf(l *ledger.Ledger, rules ledger.AsOf, o *ledger.Order, defaultMarginRate float64, earliest int64) Purchase {
	net := finite.OrZero(rules.Net(o))
	cost, covered, lineRevenue := l.KnownCost(o)
	margin, cov := orderMargin(net, cost, covered, lineRevenue)
	after := o.At - earliest
	if after < 0 || after > maxPurchaseSpan {
		panic(fmt.Sprintf("reports: a purchase %d seconds after the earliest is outside the dataset's span", after))
	}
	since := uint32(after)
	if o.Discounted() {
		since |= discountFlag
	}
	return Purchase{Net: net, Gross: historicalMargin(net, cost, covered, lineRevenue, defaultMarginRate),
		Margin: float32(margin), Coverage: cov, since: since}
}

// unix is the purchase's creation time in Unix seconds.
func (d *Dataset) unix(p *Purchase) int64 { return d.earliest + p.Seconds() }

// month is the purchase's month, counted from the history's first: the
// last month start not after its time (monthOf), read from the month of
// its 24-hour span instead of searched for, as the reports read it for
// every purchase. From the time rather than the day, months never go
// back as time goes on, even where a clock falling back across midnight
// makes the day go back.
func (d *Dataset) month(p *Purchase) int16 {
	m := d.dayMonth[p.Seconds()/secondsPerDay]
	if d.unix(p) >= d.monthStarts[m+1] {
		m++
	}
	return m
}

// KnownCostShare is the share of the order's value its known unit costs
// cover, at most 1 (lines with a negative price can make the coverage of
// the line revenue exceed it).
func (p *Purchase) KnownCostShare() float32 { return min(p.Coverage, 1) }

// reportedGross is Gross as the LTV reports sum it: in single precision,
// as they did when the dataset kept it in a float32 array of its own, so
// that sharing the record with the models changed no report.
func (p *Purchase) reportedGross() float64 { return float64(float32(p.Gross)) }

// Window is the repeat window of the segment reports.
type Window struct {
	Days float64 `json:"days"`
	// EligibleCustomers first bought at least Days before AsOf, so their
	// whole window has been observed.
	EligibleCustomers int `json:"eligibleCustomers"`
	// WholeHistory is set when no customer is old enough for the window
	// (a young shop); every customer is then used with whatever history
	// they have, and repeat rates understate true repeat behaviour.
	WholeHistory bool `json:"wholeHistory"`
}

// NewDataset indexes the purchases (cvo.Order.IsPurchase) created at or
// before opts.AsOf (orders without a creation date are data errors and
// left out). Customers supply location; customers that appear
// only in orders are included with unknown location, and customers
// without a purchase are left out of every report.
//
// Customers are ordered by a 128-bit key derived from their ID (bucketed
// on the key's top bits, each small bucket sorted in cache), so the
// dataset's customer order is deterministic whatever the input order.
// Purchases are then laid out by the ledger's customer numbers, counted
// and placed in two passes on every core, with no sort of the purchases
// and nothing held per purchase beyond the dataset itself.
//
// The dataset keeps compact copies of what it needs (and the customer ID
// strings), not the orders: callers holding millions of orders should
// let go of them once it is built, so later garbage collections do not
// have to scan them.
func NewDataset(customers []cvo.Customer, orders []cvo.Order, opts Options) *Dataset {
	return FromLedger(ledger.FromHistory(customers, orders), opts)
}

// FromLedger is NewDataset on customers and orders already in a ledger.
func FromLedger(l *ledger.Ledger, opts Options) *Dataset { return LayOut(l, opts).Dataset(l) }

// Layout is a dataset whose purchases are laid out by customer, before the
// first purchases' attributes and the customers' records are read. It has
// read all it needs of the ledger's orders: a caller done with them may
// let them go (ledger.Ledger.ReleaseOrders) before the rest of the
// dataset is built beside them.
type Layout struct {
	d *Dataset
	// firstOrder is each customer's first purchase's position in the
	// ledger's orders, and firstDetail names its detail.
	firstOrder  []int32
	firstDetail []ledger.DetailRef
}

// Undated is Dataset.Undated.
func (lay *Layout) Undated() int { return lay.d.undated }

// TooOld is Dataset.TooOld.
func (lay *Layout) TooOld() int { return lay.d.tooOld }

// Dataset finishes the dataset from the ledger it was laid out from, whose
// orders may have been let go since. The Layout must not be used
// afterwards.
func (lay *Layout) Dataset(l *ledger.Ledger) *Dataset {
	d := lay.d
	d.sumInputs()
	d.buildFirstOrders(l, lay.firstOrder, lay.firstDetail)
	d.joinCustomers(l)
	d.joinPreviousGroups(l)
	d.buildWindow()
	lay.d, lay.firstOrder, lay.firstDetail = nil, nil, nil
	return d
}

// LayOut is the first half of FromLedger: the purchases counted, laid out
// by customer and put in time order.
func LayOut(l *ledger.Ledger, opts Options) *Layout {
	if opts.AsOf.IsZero() {
		opts.AsOf = l.Latest()
	}
	opts = opts.withDefaults()
	d := &Dataset{opts: opts, asOf: opts.AsOf.Unix(),
		countries: newDict(), cities: newDict(),
		channels: newDict(), sources: newDict(), campaigns: newDict(), codes: newDict(),
		products: newDict(), vendors: newDict(), types: newDict(), acquisitions: newDict()}

	orders := l.Orders()
	rules := l.AsOf(opts.AsOf, opts.RefundDating)
	w := parallel.Workers(len(orders), 50_000)
	d.cutoff = math.MinInt64
	counts, earliest, latest := d.countPurchases(l, rules, w)
	if latest-earliest > maxPurchaseSpan {
		// A purchase decades before the rest is a data error (a
		// placeholder date, say) that a purchase's time cannot count
		// from: such purchases are left out, counted (TooOld). The pass
		// counts again, undated ones included.
		d.cutoff = latest - maxPurchaseSpan
		counts, earliest, _ = d.countPurchases(l, rules, w)
	}
	d.earliest = earliest
	// The customers who bought, in the order of their keys: one sort of
	// the customers instead of one of the purchases.
	d.orderCustomers(l, counts)
	if len(d.ids) > 0 {
		d.buildCalendar(earliest)
	}
	// Pass 2, on every core: each chunk writes its purchases straight to
	// their place, in input order within each customer.
	cursor := d.layOut(counts)
	d.p = make([]Purchase, d.start[len(d.ids)])
	parallel.Chunks(len(orders), w, func(k, lo, hi int) {
		next := cursor[k]
		for i := lo; i < hi; i++ {
			o := &orders[i]
			if !d.laidOut(l, rules, o) {
				continue
			}
			at := next[o.Customer]
			next[o.Customer]++
			d.p[at] = PurchaseOf(l, rules, o, opts.DefaultMarginRate, earliest)
		}
	})
	cursor = nil
	d.sortPurchases()
	firstOrder := d.firstOrders(l, rules)
	firstDetail := make([]ledger.DetailRef, len(d.ids))
	for c, i := range firstOrder {
		firstDetail[c] = l.DetailRef(&orders[i])
	}
	return &Layout{d: d, firstOrder: firstOrder, firstDetail: firstDetail}
}

// countPurchases is the layout's first pass, on w cores: which orders
// count, counted per customer and chunk (counts[k] is chunk k's), and the
// earliest and the latest purchase (as-of for both when none). It counts
// the undated and the too old in d.
func (d *Dataset) countPurchases(l *ledger.Ledger, rules ledger.AsOf, w int) (counts [][]int32, earliest, latest int64) {
	orders := l.Orders()
	counts = make([][]int32, w)
	firsts, lasts := make([]int64, w), make([]int64, w)
	undated, tooOld := make([]int, w), make([]int, w)
	parallel.Chunks(len(orders), w, func(k, lo, hi int) {
		cnt := make([]int32, l.Customers())
		first, last := d.asOf, int64(math.MinInt64)
		for i := lo; i < hi; i++ {
			o := &orders[i]
			if !rules.Counts(o) {
				continue
			}
			if l.CreatedZero(o) {
				undated[k]++
				continue
			}
			if o.At < d.cutoff {
				tooOld[k]++
				continue
			}
			cnt[o.Customer]++
			first, last = min(first, o.At), max(last, o.At)
		}
		counts[k], firsts[k], lasts[k] = cnt, first, last
	})
	d.undated, d.tooOld = 0, 0
	for k := range w {
		d.undated += undated[k]
		d.tooOld += tooOld[k]
	}
	earliest = slices.Min(append(firsts, d.asOf))
	latest = slices.Max(lasts)
	if latest == math.MinInt64 {
		latest = earliest
	}
	return counts, earliest, latest
}

// laidOut says whether the order is one of the purchases laid out: counted
// at as-of, and dated (an undated one is only counted as left out), and
// not too old.
func (d *Dataset) laidOut(l *ledger.Ledger, rules ledger.AsOf, o *ledger.Order) bool {
	return rules.Counts(o) && !l.CreatedZero(o) && o.At >= d.cutoff
}

// firstOrders finds each customer's first purchase in the ledger: the
// first counted order, in the ledger's order, created when the customer's
// sorted purchases start. The sort keeps equal times in the ledger's
// order, so that is the purchase it put first. A purchase does not carry
// its ledger position: with its padding, eight bytes of every purchase for
// a lookup made once a customer.
func (d *Dataset) firstOrders(l *ledger.Ledger, rules ledger.AsOf) []int32 {
	dense := make([]int32, l.Customers()) // ledger number → dataset customer
	for i := range dense {
		dense[i] = -1
	}
	for c, n := range d.ledgerID {
		dense[n] = int32(c)
	}
	first := make([]int32, len(d.ids))
	for c := range first {
		first[c] = -1
	}
	orders := l.Orders()
	for i := range orders {
		o := &orders[i]
		c := dense[o.Customer]
		if c < 0 || first[c] >= 0 || o.At != d.unix(&d.p[d.start[c]]) || !d.laidOut(l, rules, o) {
			continue
		}
		first[c] = int32(i)
	}
	for c, i := range first {
		if i < 0 {
			// Every laid-out customer has a counted, dated order at its
			// first purchase's time: a miss is a bug in the layout.
			panic(fmt.Sprintf("reports: the first purchase of customer %d of %d is not in the ledger", c, len(first)))
		}
	}
	return first
}

// orderCustomers sets ids and ledgerID to the customers with a purchase (a
// count in some chunk), in ascending order of their keys. The keys are let
// go: a second join by key (previousGroups) makes them again from the
// IDs, which costs less than holding 24 bytes a customer through the
// scoring.
func (d *Dataset) orderCustomers(l *ledger.Ledger, counts [][]int32) {
	keys := make([]keyed, l.Customers())
	inChunks(len(keys), 50_000, func(lo, hi int) {
		for c := lo; c < hi; c++ {
			keys[c].pos = -1
			for _, cnt := range counts {
				if cnt[c] > 0 {
					keys[c].pos = int32(c)
					break
				}
			}
			if keys[c].pos >= 0 {
				keys[c].k1, keys[c].k2 = idKeys(l.CustomerID(int32(c)))
			}
		}
	})
	runs := bucketSort(keys, compareKeys)
	d.ids = make([]string, len(runs))
	d.ledgerID = make([]int32, len(runs))
	for c, r := range runs {
		d.ids[c], d.ledgerID[c] = l.CustomerID(r.pos), r.pos
	}
}

// layOut gives each customer, in dataset order, its range of p (start),
// and returns each chunk's write cursor by ledger customer: chunk k's
// purchases of a customer come after those of chunks before k.
func (d *Dataset) layOut(counts [][]int32) [][]int32 {
	d.start = make([]int32, len(d.ids)+1)
	at := int32(0)
	for c, pos := range d.ledgerID {
		for _, cnt := range counts {
			n := cnt[pos]
			cnt[pos] = at // becomes the chunk's cursor for the customer
			at += n
		}
		d.start[c+1] = at
	}
	return counts
}

// sortPurchases puts each customer's purchases in time order and gives
// them their day.
func (d *Dataset) sortPurchases() {
	inChunks(len(d.ids), 50_000, func(lo, hi int) {
		for c := lo; c < hi; c++ {
			seg := d.p[d.start[c]:d.start[c+1]]
			// Exports are usually chronological, so this rarely sorts.
			if !slices.IsSortedFunc(seg, ByTime) {
				// Stable: equal times keep the ledger's order, in which
				// the purchases were laid out.
				slices.SortStableFunc(seg, ByTime)
			}
			for i := range seg {
				seg[i].Day = d.zones.Day(d.unix(&seg[i]))
			}
		}
	})
}

// sumInputs sums each customer's purchases into the RFM inputs.
func (d *Dataset) sumInputs() {
	n := len(d.ids)
	d.rfmCustomers = make([]rfm.Customer, n)
	inChunks(n, 50_000, func(lo, hi int) {
		for c := lo; c < hi; c++ {
			seg := d.p[d.start[c]:d.start[c+1]]
			rc := rfm.Customer{Purchases: int32(len(seg)), FirstPurchase: d.unix(&seg[0]), LastPurchase: d.unix(&seg[len(seg)-1])}
			for i := range seg {
				rc.Revenue += seg[i].Net
				if seg[i].Discount() {
					rc.DiscountedPurchases++
				}
			}
			d.rfmCustomers[c] = rc
		}
	})
}

// joinCustomers attaches location from the customers' records, which the
// ledger keeps by the same numbers as their orders.
func (d *Dataset) joinCustomers(l *ledger.Ledger) {
	d.country = make([]int32, len(d.ids))
	d.city = make([]int32, len(d.ids))
	cityIndex := map[[2]string]int32{}
	for c, n := range d.ledgerID {
		d.country[c], d.city[c] = -1, -1
		if p, ok := l.Profile(n); ok {
			d.country[c] = d.countries.idOrUnknown(p.Country, p.Country)
			d.city[c] = d.cityID(cityIndex, p.Country, p.City)
		}
	}
	d.countryM, d.cityM = single(d.country), single(d.city)
}

// inChunks runs work over contiguous chunks of [0, n), one per core, when
// there are at least grain items per chunk.
func inChunks(n, grain int, work func(lo, hi int)) {
	parallel.Chunks(n, parallel.Workers(n, grain), func(_, lo, hi int) { work(lo, hi) })
}

// orderMargin estimates the order's margin as its net value minus the
// cost of goods. Lines without a unit cost are assumed to carry the same
// cost ratio as the lines with one; coverage says how much of the line
// revenue had a cost. Orders with no known cost report no margin.
func orderMargin(net, cost, covered, lineRevenue float64) (float64, float32) {
	// Written so that NaN sums (lines whose amounts overflow) count as no
	// known cost, as the models' historical margin counts them.
	if !(covered > 0 && lineRevenue > 0) {
		return 0, 0
	}
	return net - cost*lineRevenue/covered, float32(covered / lineRevenue)
}

// historicalMargin is historical CLV's margin of one order (see
// clv.HistoricalCLV): the known-cost lines' margin rate on the known-cost
// share of the net value, the default rate on the rest. The arguments are
// the order's net value and cvo.Order.KnownCost.
func historicalMargin(net, cost, covered, lineRevenue, defaultRate float64) float64 {
	share, knownRate := 0.0, 0.0
	if lineRevenue > 0 && covered > 0 {
		share = min(covered/lineRevenue, 1)
		knownRate = finite.OrZero((covered - cost) / covered)
	}
	return net*share*knownRate + net*(1-share)*defaultRate
}

func (d *Dataset) cityID(index map[[2]string]int32, country, city string) int32 {
	if city == "" {
		return -1
	}
	key := [2]string{country, city}
	if id, ok := index[key]; ok {
		return id
	}
	label := city
	if country != "" {
		label = city + ", " + country
	}
	id := d.cities.add(country+"/"+city, label)
	index[key] = id
	return id
}

// ByTime orders the purchases of one dataset by time; sorted stably, equal
// times keep their order.
func ByTime(a, b Purchase) int { return cmp.Compare(a.Seconds(), b.Seconds()) }

// buildCalendar lays out the month starts from the earliest purchase to
// AsOf in the shop's time zone.
func (d *Dataset) buildCalendar(earliest int64) {
	loc := d.opts.Location
	t := time.Unix(earliest, 0).In(loc)
	m := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, loc)
	for {
		d.monthStarts = append(d.monthStarts, m.Unix())
		if m.Unix() > d.asOf {
			break
		}
		m = m.AddDate(0, 1, 0)
	}
	d.months = len(d.monthStarts) - 1
	d.zones = localtime.NewZone(earliest, d.asOf, loc)
	d.dayMonth = make([]int16, (d.asOf-earliest)/secondsPerDay+1)
	for i := range d.dayMonth {
		d.dayMonth[i] = int16(d.monthOf(earliest + int64(i)*secondsPerDay))
	}
}

// monthOf is the month of an instant: the last month start not after it.
// A binary search over the few month starts, cheaper than a calendar
// conversion.
func (d *Dataset) monthOf(at int64) int {
	return sort.Search(len(d.monthStarts), func(m int) bool { return d.monthStarts[m] > at }) - 1
}

// monthTime is the first instant of month index m.
func (d *Dataset) monthTime(m int) time.Time {
	return time.Unix(d.monthStarts[m], 0).In(d.opts.Location)
}

// completeMonths is the number of months that ended at or before AsOf.
func (d *Dataset) completeMonths() int {
	if d.months == 0 {
		return 0
	}
	if d.monthStarts[d.months] <= d.asOf+1 {
		return d.months
	}
	return d.months - 1
}

// buildFirstOrders records every customer's ID and interns the
// attributes of their first purchase, named by firstDetail. The first
// orders are visited in the ledger's order (firstOrder is each customer's
// position there), not the customers', as they always were, so that the
// dictionaries number the attributes in the same order. Acquisition and
// product attributes go to separate dictionaries, so the two halves run
// concurrently.
func (d *Dataset) buildFirstOrders(l *ledger.Ledger, firstOrder []int32, firstDetail []ledger.DetailRef) {
	n := len(d.ids)
	// Each customer beside its first order's position, sorted: the
	// customers in the ledger's order of their first orders, in 8 bytes a
	// customer rather than a slot for each of the ledger's orders (20 MB
	// of the rescore's peak at five million orders).
	inLedgerOrder := make([]int64, n)
	for c, i := range firstOrder {
		inLedgerOrder[c] = int64(i)<<32 | int64(c)
	}
	slices.Sort(inLedgerOrder)
	channel := make([]int32, n)
	source := make([]int32, n)
	campaign := make([]int32, n)
	acquisition := make([]int32, n)
	d.acquisitionSource = make([]string, n)
	var codes pairs
	// A first purchase always has its detail in the ledger; an empty one
	// stands in should that ever not hold.
	detail := func(c int32) ledger.Detail {
		det, _ := l.DetailOf(firstDetail[c])
		return det
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		// Sized by a count first: grown by appending, the pairs held up to
		// twice their size where the rescore peaks.
		codesAtMost := 0
		for c := range firstDetail {
			codesAtMost += max(1, len(detail(int32(c)).DiscountCodes))
		}
		codes.grow(codesAtMost)
		for _, k := range inLedgerOrder {
			c := ledgerOrderCustomer(k)
			d.rfmCustomers[c].ID = d.ids[c]
			det := detail(c)
			channel[c] = d.channels.idOrNone(det.SourceName)
			source[c] = d.sources.idOrNone(det.UTMSource)
			campaign[c] = d.campaigns.idOrNone(det.UTMCampaign)
			acquisition[c] = d.acquisitions.idOrNone(det.Acquisition)
			d.acquisitionSource[c] = det.Acquisition
			if len(det.DiscountCodes) == 0 {
				codes.add(c, d.codes.idOrNone(""))
			}
			for _, code := range det.DiscountCodes {
				if code != "" {
					codes.add(c, d.codes.id(code, code))
				}
			}
		}
	})
	wg.Go(func() {
		d.product, d.vendor, d.productType = d.firstLines(l, inLedgerOrder, detail)
	})
	wg.Wait()
	d.channel, d.source, d.campaign = single(channel), single(source), single(campaign)
	d.acquisition = acquisition
	d.code = codes.multi(n)
}

// firstLines is the products, vendors and product types of each
// customer's first purchase, from the customers in the ledger's order of
// their first orders (buildFirstOrders' inLedgerOrder).
//
// The dictionaries number what they meet first, so they are filled in
// that order, once for each of the ledger's distinct lines: a line
// repeated over a million first purchases is looked up once, not a
// million times. The rows are then written customer by customer, straight
// into their place, each line's ids in its order and a repeat within a
// customer dropped, as (customer, id) pairs gathered and then sorted by
// customer gave them; those pairs held 24 bytes a line of first purchases
// beside the ledger.
func (d *Dataset) firstLines(l *ledger.Ledger, inLedgerOrder []int64, detail func(c int32) ledger.Detail) (products, vendors, types multi) {
	// Each distinct line's product, vendor and type ids, -1 for none.
	const unseen = -2
	ids := make([][3]int32, l.LineCount())
	for i := range ids {
		ids[i][0] = unseen
	}
	for _, k := range inLedgerOrder {
		for _, n := range detail(ledgerOrderCustomer(k)).Lines {
			if ids[n][0] != unseen {
				continue
			}
			line := l.Line(n)
			key := line.ProductID
			if key == "" {
				key = line.Title
			}
			ids[n] = [3]int32{d.products.idOrUnknown(key, line.Title), d.vendors.idOrUnknown(line.Vendor, line.Vendor),
				d.types.idOrUnknown(line.ProductType, line.ProductType)}
		}
	}
	// appendRows appends customer c's row of each column to rows.
	appendRows := func(c int, rows *[3][]int32) {
		var from [3]int
		for k := range rows {
			from[k] = len(rows[k])
		}
		for _, n := range detail(int32(c)).Lines {
			for k, id := range ids[n] {
				if id >= 0 && !slices.Contains(rows[k][from[k]:], id) {
					rows[k] = append(rows[k], id)
				}
			}
		}
	}
	// Counted first, so that each column is allocated at its size, never
	// grown.
	var size [3]int
	var row [3][]int32
	for c := range d.ids {
		row = [3][]int32{row[0][:0], row[1][:0], row[2][:0]}
		appendRows(c, &row)
		for k := range size {
			size[k] += len(row[k])
		}
	}
	var all [3][]int32
	var start [3][]int32
	for k := range all {
		all[k] = make([]int32, 0, size[k])
		start[k] = make([]int32, len(d.ids)+1)
	}
	for c := range d.ids {
		appendRows(c, &all)
		for k := range start {
			start[k][c+1] = int32(len(all[k]))
		}
	}
	return multi{start: start[0], ids: all[0]}, multi{start: start[1], ids: all[1]}, multi{start: start[2], ids: all[2]}
}

// ledgerOrderCustomer is the customer of one of buildFirstOrders' keys in
// the ledger's order (the first order's position above, the customer
// below).
func ledgerOrderCustomer(k int64) int32 { return int32(uint32(k)) }

// buildWindow measures the cadence and marks, per customer, whether the
// repeat window has been observed, whether they bought again within it
// and how much.
func (d *Dataset) buildWindow() {
	n := len(d.ids)
	d.cadence = rfm.ShopCadence(d.rfmCustomers, d.opts.RFM)

	w := d.opts.RepeatWindowDays
	if w <= 0 {
		w = d.cadence.HorizonDays
	}
	d.window = Window{Days: w}
	windowSec := int64(w * secondsPerDay)
	d.eligible = make([]bool, n)
	for c := range n {
		if d.unix(&d.p[d.start[c]]) <= d.asOf-windowSec {
			d.eligible[c] = true
			d.window.EligibleCustomers++
		}
	}
	if d.window.EligibleCustomers == 0 && n > 0 {
		d.window.WholeHistory = true
		d.window.EligibleCustomers = n
		for c := range d.eligible {
			d.eligible[c] = true
		}
	}
	d.repeated = make([]bool, n)
	d.later = make([]float64, n)
	for c := range n {
		lo, hi := d.start[c], d.start[c+1]
		limit := d.asOf
		if !d.window.WholeHistory {
			limit = d.unix(&d.p[lo]) + windowSec
		}
		for _, p := range d.p[lo+1 : hi] {
			if d.unix(&p) > limit {
				break
			}
			d.repeated[c] = true
			d.later[c] += p.Net
		}
	}
}

// LedgerCustomers returns the ledger's number of each of the dataset's
// customers, in the dataset's order. The slice is shared; do not modify it.
func (d *Dataset) LedgerCustomers() []int32 { return d.ledgerID }

// Customers is the number of customers with at least one purchase.
func (d *Dataset) Customers() int { return len(d.ids) }

// Purchases is the number of purchases indexed.
func (d *Dataset) Purchases() int { return len(d.p) }

// Layout is the dataset's purchases by customer: customer c (in the
// dataset's order, IDs in ids) made p[start[c]:start[c+1]], oldest first,
// equal times in the order given. The slices are shared; do not modify
// them.
func (d *Dataset) Layout() (ids []string, start []int32, p []Purchase) { return d.ids, d.start, d.p }

// AcquisitionSources is each customer's acquisition source
// (cvo.Order.AcquisitionSource of the first purchase, "" when none), in
// the dataset's order. The slice is shared; do not modify it.
func (d *Dataset) AcquisitionSources() []string { return d.acquisitionSource }

// Undated is the number of purchases left out for having no creation
// date (a data error): the dataset's layout is every purchase only when
// it and TooOld are 0.
func (d *Dataset) Undated() int { return d.undated }

// TooOld is the number of purchases left out for being more than 68 years
// (maxPurchaseSpan) older than the latest: a data error too, a placeholder
// date, say. The ledger, which cannot know the latest while it is filled,
// may have kept such a purchase's attribution and codes as its customer's
// first, and not the first purchase laid out: that customer then has no
// acquisition source. Before, such a purchase was counted, decades of
// history that the models fitted.
func (d *Dataset) TooOld() int { return d.tooOld }

// Earliest is the earliest purchase's time, as-of when there is none.
func (d *Dataset) Earliest() time.Time { return time.Unix(d.earliest, 0) }

// RFMCustomers returns the scoring inputs, parallel to the dataset's
// customers, so that rfm.Score's assignments line up with the ICP.
// The slice is shared; do not modify it.
func (d *Dataset) RFMCustomers() []rfm.Customer { return d.rfmCustomers }

// Cadence is the shop's buying rhythm as rfm measures it.
func (d *Dataset) Cadence() rfm.Cadence { return d.cadence }

// RepeatWindow describes the window used by the segment reports.
func (d *Dataset) RepeatWindow() Window { return d.window }

// Score runs RFM scoring on the dataset's customers; previous is the
// last scoring's groups by customer ID (nil: those the ledger carried, if
// any).
func (d *Dataset) Score(previous map[string]rfm.Group) rfm.Result {
	groups, _ := d.previousGroups(previous)
	return d.score(groups)
}

func (d *Dataset) score(previous []rfm.Group) rfm.Result {
	o := d.opts.RFM
	o.Previous = nil
	o.PreviousGroups = previous
	if o.PreviousGroups == nil {
		o.PreviousGroups = make([]rfm.Group, len(d.ids))
	}
	return rfm.Score(d.rfmCustomers, o)
}

// joinPreviousGroups takes the previous scoring's groups the ledger
// carries, by the customers' numbers.
func (d *Dataset) joinPreviousGroups(l *ledger.Ledger) {
	if !l.HasPreviousGroups() {
		return
	}
	d.previous = make([]rfm.Group, len(d.ids))
	for c, n := range d.ledgerID {
		if g := rfm.Group(l.PreviousGroup(n)); g.Valid() {
			d.previous[c] = g
		}
	}
	l.PreviousGroups(func(_ int32, group uint8) {
		if g := rfm.Group(group); g.Valid() {
			d.previousBefore[g]++
		}
	})
}

// previousGroups joins a previous scoring onto the dataset's customers
// (NoGroup where absent) and counts the previous scoring's customers per
// group: previous when not nil, else the groups the ledger carried. The join
// sorts the previous IDs by key and merges, which costs far less than a
// string-map probe per customer.
func (d *Dataset) previousGroups(previous map[string]rfm.Group) ([]rfm.Group, [rfm.NumGroups + 1]int) {
	var before [rfm.NumGroups + 1]int
	if previous == nil {
		return d.previous, d.previousBefore
	}
	if len(previous) == 0 {
		return nil, before
	}
	entries := make([]keyed, 0, len(previous))
	groups := make([]rfm.Group, 0, len(previous))
	for id, g := range previous {
		if !g.Valid() {
			continue
		}
		before[g]++
		k1, k2 := idKeys(id)
		entries = append(entries, keyed{k1: k1, k2: k2, pos: int32(len(groups))})
		groups = append(groups, g)
	}
	sorted := bucketSort(entries, compareKeys)
	out := make([]rfm.Group, len(d.ids))
	j := 0
	for c, id := range d.ids {
		var key keyed
		key.k1, key.k2 = idKeys(id)
		for j < len(sorted) && compareIDs(sorted[j], key) < 0 {
			j++
		}
		if j < len(sorted) && compareIDs(sorted[j], key) == 0 {
			out[c] = groups[sorted[j].pos]
		}
	}
	return out, before
}

const secondsPerDay = localtime.SecondsPerDay
