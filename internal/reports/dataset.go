package reports

import (
	"sort"
	"time"

	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/rfm"
)

// Dataset is a shop's purchase history indexed for the reports. Build it
// once with NewDataset; it is read-only afterwards and safe for
// concurrent use.
type Dataset struct {
	opts Options
	asOf int64

	// Customers with at least one purchase, by dense index.
	ids     []string
	country []int32 // index into countries, -1 when unknown
	city    []int32 // index into cities, -1 when unknown
	// start[i]..start[i+1] are customer i's purchases, oldest first.
	start []int32

	// Per purchase, customer-major.
	at       []int64   // unix seconds
	net      []float64 // value net of refunds
	margin   []float64 // net value − cost of goods, 0 when no cost known
	coverage []float32 // share of line revenue with a known unit cost
	month    []int32   // months since the first month of the history
	discount []bool    // a discount code was used

	months      int
	monthStarts []int64 // months+1 entries; the last is the first month after AsOf's
	zones       zoneTable

	// Attributes of each customer's first purchase.
	channel, source, campaign, code multi
	product, vendor, productType    multi
	channels, sources, campaigns    *dict
	codes, products, vendors, types *dict
	countries, cities               *dict

	rfmCustomers []rfm.Customer
	cadence      rfm.Cadence
	window       Window
	eligible     []bool    // first purchase at least one window before AsOf
	repeated     []bool    // bought again within the window
	later        []float64 // net value bought after the first purchase, within the window
}

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
// before opts.AsOf. Customers supply location; customers that appear
// only in orders are included with unknown location, and customers
// without a purchase are left out of every report.
func NewDataset(customers []cvo.Customer, orders []cvo.Order, opts Options) *Dataset {
	opts = opts.withDefaults()
	d := &Dataset{opts: opts, asOf: opts.AsOf.Unix(),
		countries: newDict(), cities: newDict(),
		channels: newDict(), sources: newDict(), campaigns: newDict(), codes: newDict(),
		products: newDict(), vendors: newDict(), types: newDict()}

	index := make(map[string]int32, len(customers)+len(orders)/4)
	var ids []string
	var country, city []int32
	cityIndex := map[[2]string]int32{}
	for i := range customers {
		c := &customers[i]
		if c.ID == "" {
			continue
		}
		if _, dup := index[c.ID]; dup {
			continue
		}
		index[c.ID] = int32(len(ids))
		ids = append(ids, c.ID)
		country = append(country, d.countries.idOrUnknown(c.Country, c.Country))
		city = append(city, d.cityID(cityIndex, c.Country, c.City))
	}

	// One sequential pass over the orders: the Order structs are large, so
	// everything the reports need is copied into flat slices here.
	n := len(orders)
	tCust := make([]int32, 0, n)
	tAt := make([]int64, 0, n)
	tNet := make([]float64, 0, n)
	tMargin := make([]float64, 0, n)
	tCov := make([]float32, 0, n)
	tDisc := make([]bool, 0, n)
	tOrd := make([]int32, 0, n)
	counts := make([]int32, len(ids), len(ids)+n/4)
	for i := range orders {
		o := &orders[i]
		if !o.IsPurchase() || o.CreatedAt.After(opts.AsOf) {
			continue
		}
		c, ok := index[o.CustomerID]
		if !ok {
			c = int32(len(ids))
			index[o.CustomerID] = c
			ids = append(ids, o.CustomerID)
			country = append(country, -1)
			city = append(city, -1)
			counts = append(counts, 0)
		}
		counts[c]++
		net := o.NetValueAsOf(opts.AsOf, opts.RefundDating)
		margin, cov := orderMargin(o, net)
		tCust = append(tCust, c)
		tAt = append(tAt, o.CreatedAt.Unix())
		tNet = append(tNet, net)
		tMargin = append(tMargin, margin)
		tCov = append(tCov, cov)
		tDisc = append(tDisc, len(o.DiscountCodes) > 0)
		tOrd = append(tOrd, int32(i))
	}
	index = nil

	// Keep only customers with purchases, then lay purchases out by
	// customer.
	remap := make([]int32, len(ids))
	kept := int32(0)
	for c, cnt := range counts {
		if cnt == 0 {
			remap[c] = -1
			continue
		}
		remap[c] = kept
		ids[kept], country[kept], city[kept], counts[kept] = ids[c], country[c], city[c], cnt
		kept++
	}
	d.ids, d.country, d.city = ids[:kept:kept], country[:kept:kept], city[:kept:kept]
	d.start = make([]int32, kept+1)
	for c := range kept {
		d.start[c+1] = d.start[c] + counts[c]
	}
	next := counts[:kept]
	copy(next, d.start[:kept])
	np := len(tCust)
	d.at, d.net, d.margin = make([]int64, np), make([]float64, np), make([]float64, np)
	d.coverage, d.discount = make([]float32, np), make([]bool, np)
	ord := make([]int32, np)
	for j, c := range tCust {
		k := remap[c]
		p := next[k]
		next[k]++
		d.at[p], d.net[p], d.margin[p], d.coverage[p], d.discount[p], ord[p] = tAt[j], tNet[j], tMargin[j], tCov[j], tDisc[j], tOrd[j]
	}
	tCust, tAt, tNet, tMargin, tCov, tDisc, tOrd, remap = nil, nil, nil, nil, nil, nil, nil, nil
	d.sortPurchases(ord)

	d.buildCalendar()
	d.buildFirstOrders(orders, ord)
	d.buildCustomers()
	return d
}

// orderMargin estimates the order's margin as its net value minus the
// cost of goods. Lines without a unit cost are assumed to carry the same
// cost ratio as the lines with one; coverage says how much of the line
// revenue had a cost. Orders with no known cost report no margin.
func orderMargin(o *cvo.Order, net float64) (float64, float32) {
	cost, covered, lineRevenue := o.KnownCost()
	if covered <= 0 || lineRevenue <= 0 {
		return 0, 0
	}
	return net - cost*lineRevenue/covered, float32(covered / lineRevenue)
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

// sortPurchases puts each customer's purchases in time order; exports
// usually are already, so the check is cheap and sorting rare.
func (d *Dataset) sortPurchases(ord []int32) {
	for c := range len(d.ids) {
		lo, hi := int(d.start[c]), int(d.start[c+1])
		sorted := true
		for p := lo + 1; p < hi; p++ {
			if d.at[p] < d.at[p-1] || d.at[p] == d.at[p-1] && ord[p] < ord[p-1] {
				sorted = false
				break
			}
		}
		if !sorted {
			sort.Sort(purchaseRange{d: d, ord: ord, lo: lo, n: hi - lo})
		}
	}
}

type purchaseRange struct {
	d     *Dataset
	ord   []int32
	lo, n int
}

func (r purchaseRange) Len() int { return r.n }
func (r purchaseRange) Less(i, j int) bool {
	i, j = i+r.lo, j+r.lo
	if r.d.at[i] != r.d.at[j] {
		return r.d.at[i] < r.d.at[j]
	}
	return r.ord[i] < r.ord[j]
}
func (r purchaseRange) Swap(i, j int) {
	i, j = i+r.lo, j+r.lo
	d := r.d
	d.at[i], d.at[j] = d.at[j], d.at[i]
	d.net[i], d.net[j] = d.net[j], d.net[i]
	d.margin[i], d.margin[j] = d.margin[j], d.margin[i]
	d.coverage[i], d.coverage[j] = d.coverage[j], d.coverage[i]
	d.discount[i], d.discount[j] = d.discount[j], d.discount[i]
	r.ord[i], r.ord[j] = r.ord[j], r.ord[i]
}

// buildCalendar finds each purchase's month in the shop's time zone by
// binary search over month starts, cheaper than converting every
// timestamp to a calendar date.
func (d *Dataset) buildCalendar() {
	d.month = make([]int32, len(d.at))
	if len(d.at) == 0 {
		return
	}
	loc := d.opts.Location
	first := d.at[0]
	for c := range len(d.ids) {
		first = min(first, d.at[d.start[c]])
	}
	t := time.Unix(first, 0).In(loc)
	m := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, loc)
	for {
		d.monthStarts = append(d.monthStarts, m.Unix())
		if m.Unix() > d.asOf {
			break
		}
		m = m.AddDate(0, 1, 0)
	}
	d.months = len(d.monthStarts) - 1
	for p, at := range d.at {
		d.month[p] = int32(d.monthOf(at))
	}
	d.zones = newZoneTable(first, d.asOf, loc)
}

func (d *Dataset) monthOf(at int64) int {
	starts := d.monthStarts
	lo, hi := 0, len(starts)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if starts[mid] <= at {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo - 1
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

func (d *Dataset) buildFirstOrders(orders []cvo.Order, ord []int32) {
	n := len(d.ids)
	for _, m := range []*multi{&d.channel, &d.source, &d.campaign, &d.code, &d.product, &d.vendor, &d.productType} {
		m.start = make([]int32, 1, n+1)
	}
	for c := range n {
		o := &orders[ord[d.start[c]]]
		d.channel.addOne(d.channels.idOrNone(o.SourceName))
		d.source.addOne(d.sources.idOrNone(o.UTMSource))
		d.campaign.addOne(d.campaigns.idOrNone(o.UTMCampaign))
		if len(o.DiscountCodes) == 0 {
			d.code.add(d.codes.idOrNone(""))
		}
		for _, code := range o.DiscountCodes {
			if code != "" {
				d.code.addDistinct(d.codes.id(code, code))
			}
		}
		d.code.close()
		for i := range o.Lines {
			l := &o.Lines[i]
			key := l.ProductID
			if key == "" {
				key = l.Title
			}
			if key != "" {
				d.product.addDistinct(d.products.id(key, l.Title))
			}
			if l.Vendor != "" {
				d.vendor.addDistinct(d.vendors.id(l.Vendor, l.Vendor))
			}
			if l.ProductType != "" {
				d.productType.addDistinct(d.types.id(l.ProductType, l.ProductType))
			}
		}
		d.product.close()
		d.vendor.close()
		d.productType.close()
	}
}

func (d *Dataset) buildCustomers() {
	n := len(d.ids)
	d.rfmCustomers = make([]rfm.Customer, n)
	for c := range n {
		lo, hi := d.start[c], d.start[c+1]
		rc := &d.rfmCustomers[c]
		rc.ID = d.ids[c]
		rc.Purchases = int(hi - lo)
		rc.FirstPurchase = time.Unix(d.at[lo], 0).UTC()
		rc.LastPurchase = time.Unix(d.at[hi-1], 0).UTC()
		for p := lo; p < hi; p++ {
			rc.Revenue += d.net[p]
			if d.discount[p] {
				rc.DiscountedPurchases++
			}
		}
	}
	d.cadence = rfm.ShopCadence(d.rfmCustomers, d.opts.RFM)

	w := d.opts.RepeatWindowDays
	if w <= 0 {
		w = d.cadence.HorizonDays
	}
	d.window = Window{Days: w}
	windowSec := int64(w * secondsPerDay)
	d.eligible = make([]bool, n)
	for c := range n {
		if d.at[d.start[c]] <= d.asOf-windowSec {
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
			limit = d.at[lo] + windowSec
		}
		for p := lo + 1; p < hi && d.at[p] <= limit; p++ {
			d.repeated[c] = true
			d.later[c] += d.net[p]
		}
	}
}

// Customers is the number of customers with at least one purchase.
func (d *Dataset) Customers() int { return len(d.ids) }

// Purchases is the number of purchases indexed.
func (d *Dataset) Purchases() int { return len(d.at) }

// RFMCustomers returns the scoring inputs, parallel to the dataset's
// customers, so that rfm.Score's assignments line up with the ICP.
// The slice is shared; do not modify it.
func (d *Dataset) RFMCustomers() []rfm.Customer { return d.rfmCustomers }

// Cadence is the shop's buying rhythm as rfm measures it.
func (d *Dataset) Cadence() rfm.Cadence { return d.cadence }

// RepeatWindow describes the window used by the segment reports.
func (d *Dataset) RepeatWindow() Window { return d.window }

// Score runs RFM scoring on the dataset's customers.
func (d *Dataset) Score(previous map[string]rfm.Group) rfm.Result {
	o := d.opts.RFM
	o.Previous = previous
	return rfm.Score(d.rfmCustomers, o)
}

const secondsPerDay = 86400
