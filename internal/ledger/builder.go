package ledger

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/finite"
)

// Builder fills a Ledger one order at a time, in one pass, without an
// allocation per order: identifiers are numbered and copied once, and an
// order's strings and lines are kept only while it can still be its
// customer's first purchase.
type Builder struct {
	l         Ledger
	customers *numbering
	strings   Interner
	// firstSolid is, per customer, the earliest second of an order that
	// no refund can ever cancel. An order later than that second can
	// never be the customer's first purchase, whatever the as-of date, so
	// its detail is not kept.
	firstSolid []int64
	// detailOrder is, per detail, the position of its order, whose
	// customer and second tell when a later-added, earlier solid order
	// made the detail useless.
	detailOrder []int32
	// lineNumbers numbers the distinct product lines, texts the details'
	// strings.
	lineNumbers map[Line]int32
	texts       *numbering
	// pending are the orders added by AddSummed that AddDetail must
	// still give, in the order they were added; next is where AddDetail
	// is.
	pending []pendingLines
	next    int
	lastKey int64 // the key AddSummed was given last
	keyed   bool  // AddSummed was called
}

// pendingLines is an order added by AddSummed that AddDetail must still
// give: it can be its customer's first purchase (the detail), or its
// lines could not be summed where they are stored (the cost).
type pendingLines struct {
	key   int64 // the caller's id of the order
	order int32 // its position in the ledger's orders
	cost  bool  // its cost waits for the lines
	fixed bool  // it is already counted in Ledger.fixed
}

// Summary is what a reader that keeps orders' lines summed gives of an
// order besides its customer, creation, total, flags and refunds: for the
// few orders that need more, it reads the rest afterwards (AddDetail).
type Summary struct {
	Key int64 // the reader's id of the order; keys grow from order to order
	// Customer, when not 0, is the order's customer ID as the number it
	// is (storage keeps Shopify's IDs as bigint); o.CustomerID is then not
	// read, and no string is made of it for every order.
	Customer   int64
	Discounted bool // a discount code was used
	Lines      bool // the order has product lines
	Summed     bool // Cost holds their sums; otherwise AddDetail must give the lines
	Cost       Cost
}

// NewBuilder sizes a Builder for an expected number of orders (0 if
// unknown).
func NewBuilder(orders int) *Builder {
	// A map's size hint is memory taken at once; shops have two to ten
	// orders a customer, and the map grows a table at a time beyond it.
	return newBuilder(orders/4, 0, orders)
}

// NewBuilderFor sizes a Builder for expected numbers of customers (their
// records included) and orders (0 if unknown).
func NewBuilderFor(customers, orders int) *Builder { return newBuilder(customers, customers, orders) }

// newBuilder sizes a Builder for an expected number of customers and of
// their records.
func newBuilder(customers, records, orders int) *Builder {
	b := &Builder{customers: newNumbering(customers), texts: newNumbering(16)}
	b.l.profiles = make([]storedProfile, 0, records)
	b.texts.number("") // number 0, the empty string
	b.l.orders = make([]Order, 0, orders)
	b.firstSolid = make([]int64, 0, customers)
	// Nearly every customer's first order keeps a detail (and, read with
	// AddSummed, waits for it): sized once, these are not copied as they
	// grow, which made 250 MB of garbage in a million-customer rescore.
	// A few more than one a customer: an order read after a later one of
	// its customer keeps a detail too (0.24% more on the bench shop,
	// whose details, pending orders and their positions were then copied
	// whole at a quarter more, 62 MB of garbage at the read's peak).
	room := customers + customers/16
	b.l.details = make([]storedDetail, 0, room)
	b.detailOrder = make([]int32, 0, room)
	return b
}

// Len is the number of orders kept so far.
func (b *Builder) Len() int { return len(b.l.orders) }

// customer numbers a customer ID.
func (b *Builder) customer(id string) int32 { return b.grown(b.customers.number(id)) }

// customerDecimal numbers the customer ID that is v's decimal form.
func (b *Builder) customerDecimal(v int64) int32 { return b.grown(b.customers.numberDecimal(v)) }

// grown makes room for customer c, numbered just now.
func (b *Builder) grown(c int32) int32 {
	if int(c) == len(b.firstSolid) {
		b.firstSolid = append(b.firstSolid, math.MaxInt64)
	}
	return c
}

func (b *Builder) seen(created time.Time) {
	if created.After(b.l.latest) {
		b.l.latest = created
	}
}

// AddPlain adds an order that has only a customer, a time and a total (a
// CSV row, say): no refunds, lines or attribution. customer may be a
// reused buffer; it is copied when new. It returns the order's position,
// for AddToTotal.
func (b *Builder) AddPlain(customer string, created time.Time, total float64) int {
	b.seen(created)
	if customer == "" {
		return -1
	}
	if !finite.Is(total) {
		total = 0
		b.l.fixed++
	}
	c := b.customer(customer)
	at := created.Unix()
	ord := Order{At: at, Total: total, Customer: c}
	b.addExtra(&ord, nil, created)
	if !created.IsZero() {
		b.firstSolid[c] = min(b.firstSolid[c], at)
	}
	b.l.orders = append(b.l.orders, ord)
	return len(b.l.orders) - 1
}

// AddCustomer adds a customer's record: its ID, location and Shopify's
// own RFM group (the rest of c is not read). The first record of an ID
// wins; a record without an ID is left out.
func (b *Builder) AddCustomer(c *cvo.Customer) {
	if c.ID == "" {
		return
	}
	n := b.customer(c.ID)
	b.l.profiles = reaching(b.l.profiles, n)
	if b.l.profiles[n].listed {
		return
	}
	b.l.profiles[n] = storedProfile{country: b.texts.number(c.Country), city: b.texts.number(c.City),
		shopifyRFMGroup: b.texts.number(c.ShopifyRFMGroup), listed: true}
}

// AddPreviousGroup records a customer's group in the shop's previous
// scoring, a byte (an rfm.Group; the ledger reads nothing into it), by the
// customer's number: a map of a million IDs would be held through the
// whole scoring. The last group given for an ID stands; 0 is none.
func (b *Builder) AddPreviousGroup(id string, group uint8) {
	if id == "" {
		return
	}
	b.setPrevious(b.customer(id), group)
}

// AddPreviousGroupDecimal is AddPreviousGroup for the customer whose ID is
// id's decimal form, as a store keeps it: no string is made of it.
func (b *Builder) AddPreviousGroupDecimal(id int64, group uint8) {
	b.setPrevious(b.customerDecimal(id), group)
}

func (b *Builder) setPrevious(n int32, group uint8) {
	if b.l.previous == nil {
		b.l.previous = make([]uint8, 0, cap(b.firstSolid))
	}
	b.l.previous = reaching(b.l.previous, n)
	b.l.previous[n] = group
}

// reaching returns s long enough to hold customer number n, zero values
// added as needed: the per-customer arrays are filled by number, and a
// customer may be numbered by an order before its record comes.
func reaching[T any](s []T, n int32) []T {
	if int(n) < len(s) {
		return s
	}
	return append(s, make([]T, int(n)+1-len(s))...)
}

// CustomerOf returns the customer ID of the order at position i.
func (b *Builder) CustomerOf(i int) string { return b.customers.names[b.l.orders[i].Customer] }

// AddToTotal adds an amount to the total of the order at position i (a
// further row of an export with a row per line item).
func (b *Builder) AddToTotal(i int, amount float64) {
	o := &b.l.orders[i]
	o.Total += finite.OrZero(amount)
	if !finite.Is(o.Total) {
		// Finite rows can still add up past the largest number.
		o.Total = 0
		b.l.fixed++
	}
}

// Add adds an order. Orders that can never be a purchase (tests,
// cancelled, without a customer) are only looked at for Latest.
func (b *Builder) Add(o *cvo.Order) { b.add(o, nil) }

// AddSummed adds an order as Add does, reading of o only its customer
// (when sum does not give it as a number), creation time, total, test and
// cancelled flags and refunds; sum gives the rest. Once every order is
// added, Wanted names the orders whose attribution, codes and lines the
// ledger still needs, and AddDetail gives them.
func (b *Builder) AddSummed(o *cvo.Order, sum Summary) {
	if b.keyed && sum.Key <= b.lastKey {
		// AddDetail finds orders by walking the keys in order: one out of
		// order would lose its detail without a word.
		panic(fmt.Sprintf("ledger: AddSummed got key %d after %d", sum.Key, b.lastKey))
	}
	if !b.keyed {
		b.pending = make([]pendingLines, 0, cap(b.detailOrder))
	}
	b.lastKey, b.keyed = sum.Key, true
	b.add(o, &sum)
}

func (b *Builder) add(o *cvo.Order, sums *Summary) {
	b.seen(o.CreatedAt)
	c, ok := b.purchaser(o, sums)
	if !ok {
		return
	}
	ord := Order{At: o.CreatedAt.Unix(), Total: o.Total, Customer: c}
	fixed := false
	if !finite.Is(ord.Total) {
		ord.Total, fixed = 0, true
	}
	refunded := 0.0 // positive refunds only: the most any as-of date can count
	var rs []cvo.Refund
	if len(o.Refunds) > 0 {
		rs = slices.Clone(o.Refunds)
		for i := range rs {
			if !finite.Is(rs[i].Amount) {
				rs[i].Amount, fixed = 0, true
			}
			refunded += max(rs[i].Amount, 0)
		}
	}
	b.addExtra(&ord, rs, o.CreatedAt)
	costPending := false
	switch {
	case sums == nil && len(o.Lines) > 0:
		cost, linesFixed := lineCost(o.Lines)
		fixed = fixed || linesFixed
		b.addCost(&ord, cost)
	case sums != nil && sums.Lines && sums.Summed:
		b.addCost(&ord, sums.Cost)
	case sums != nil && sums.Lines:
		costPending = true
	}
	if fixed {
		b.l.fixed++
	}
	solid := ord.Total <= 0 || refunded < ord.Total-0.005
	if ord.At <= b.firstSolid[c] {
		var d storedDetail // AddSummed's orders get theirs from AddDetail
		if sums == nil {
			d = b.detail(o)
		}
		b.l.details = append(b.l.details, d)
		b.detailOrder = append(b.detailOrder, int32(len(b.l.orders)))
		ord.detail = numbered(len(b.l.details), discountBit)
	}
	if (sums == nil && len(o.DiscountCodes) > 0) || (sums != nil && sums.Discounted) {
		ord.detail |= discountBit
	}
	if sums != nil && (costPending || ord.detailNumber() != 0) {
		b.pending = append(b.pending, pendingLines{key: sums.Key, order: int32(len(b.l.orders)), cost: costPending, fixed: fixed})
	}
	// An order without a creation date is left out by the reports, so it
	// must not stand as the first purchase that makes later orders'
	// details useless; it keeps its own, being the earliest of all.
	if solid && !o.CreatedAt.IsZero() {
		b.firstSolid[c] = min(b.firstSolid[c], ord.At)
	}
	b.l.orders = append(b.l.orders, ord)
}

// purchaser numbers the customer of an order that may be a purchase; ok
// is false for an order that never is (cvo.Order.MayBePurchase, with the
// number sums may give standing for the ID).
func (b *Builder) purchaser(o *cvo.Order, sums *Summary) (c int32, ok bool) {
	byNumber := sums != nil && sums.Customer != 0
	if !o.MayBePurchaseBy(byNumber || o.CustomerID != "") {
		return 0, false
	}
	if byNumber {
		return b.customerDecimal(sums.Customer), true
	}
	return b.customer(o.CustomerID), true
}

// lineCost sums an order's lines as cvo.Order.KnownCost does, in the same
// order; fixed says some amount was not a number and counted as 0.
//
// It must give, to the last bit, what the view order_line_totals gives
// PostgreSQL's float8 arithmetic, which rounds every product before the
// sum. Go may fuse a product and the sum it goes into into one rounding
// (it does on arm64, and on amd64 built with GOAMD64=v3); the explicit
// conversions forbid that.
func lineCost(lines []cvo.LineItem) (cost Cost, fixed bool) {
	for _, line := range lines {
		price, unitCost := line.UnitPrice, line.UnitCost
		if !finite.Is(price) || !finite.Is(unitCost) {
			price, unitCost, fixed = finite.OrZero(price), finite.OrZero(unitCost), true
		}
		rev := float64(price * float64(line.Quantity))
		cost.LineRevenue += rev
		if line.CostKnown {
			cost.Cost += float64(unitCost * float64(line.Quantity))
			cost.Covered += rev
		}
	}
	return cost, fixed
}

// addExtra keeps what few orders have: refunds, a creation time with
// nanoseconds.
func (b *Builder) addExtra(o *Order, refunds []cvo.Refund, created time.Time) {
	nanos := int32(created.Nanosecond())
	if len(refunds) == 0 && nanos == 0 {
		return
	}
	if len(refunds) == 0 {
		b.l.subsecond = append(b.l.subsecond, nanos)
		o.extra = numbered(len(b.l.subsecond), nanosOnly) | nanosOnly
		return
	}
	b.l.extras = append(b.l.extras, orderExtra{refunds: refunds, nanos: nanos})
	o.extra = numbered(len(b.l.extras), nanosOnly)
}

// numbered is n as a number below the flag bit that shares its field,
// and a panic past it: a wrong number would read another order's data.
func numbered[T ~int32](n int, flag T) T {
	if n >= int(flag) {
		panic(fmt.Sprintf("ledger: more than %d entries of one kind", int(flag)-1))
	}
	return T(n)
}

func (b *Builder) addCost(o *Order, cost Cost) {
	if !cost.prices() {
		return
	}
	o.cost = b.l.costs.add(cost)
}

// detailAlive says whether detail i can still be its customer's first
// purchase.
func (b *Builder) detailAlive(i int32) bool {
	o := &b.l.orders[b.detailOrder[i]]
	return o.At <= b.firstSolid[o.Customer]
}

// Wanted returns the keys, in the order they were added, of the orders
// added by AddSummed that AddDetail must give: those that can be their
// customer's first purchase, and those whose lines were not summed. Call
// it once, after the last order is added.
func (b *Builder) Wanted() []int64 {
	kept := b.pending[:0]
	for _, p := range b.pending {
		if d := b.l.orders[p.order].detailNumber(); p.cost || (d != 0 && b.detailAlive(d-1)) {
			kept = append(kept, p)
		}
	}
	b.pending = slices.Clip(kept)
	keys := make([]int64, len(b.pending))
	for i, p := range b.pending {
		keys[i] = p.key
	}
	return keys
}

// AddDetail gives an order Wanted named, in the order of the keys, with
// its attribution, discount codes and lines (o's other fields are not
// read). An order whose key is skipped keeps no detail. o's slices may be
// reused buffers.
func (b *Builder) AddDetail(key int64, o *cvo.Order) {
	for b.next < len(b.pending) && b.pending[b.next].key < key {
		b.next++
	}
	if b.next == len(b.pending) || b.pending[b.next].key != key {
		return
	}
	p := b.pending[b.next]
	b.next++
	ord := &b.l.orders[p.order]
	if p.cost {
		cost, fixed := lineCost(o.Lines)
		b.addCost(ord, cost)
		if fixed && !p.fixed {
			b.l.fixed++
		}
	}
	if d := ord.detailNumber(); d != 0 && b.detailAlive(d-1) {
		b.l.details[d-1] = b.detail(o)
	}
}

// detail is what the reports read of an order that may be its customer's
// first purchase.
func (b *Builder) detail(o *cvo.Order) storedDetail {
	d := storedDetail{sourceName: b.texts.number(o.SourceName), utmSource: b.texts.number(o.UTMSource),
		utmCampaign: b.texts.number(o.UTMCampaign), acquisition: b.texts.number(o.AcquisitionSource())}
	d.codes.from = int32(len(b.l.codes))
	for _, code := range o.DiscountCodes {
		b.l.codes = append(b.l.codes, b.strings.Intern(code))
	}
	d.codes.to = int32(len(b.l.codes))
	d.lines.from = int32(len(b.l.lineRefs))
	for _, line := range o.Lines {
		b.l.lineRefs = append(b.l.lineRefs, b.line(Line{ProductID: line.ProductID, Title: line.Title, Vendor: line.Vendor, ProductType: line.ProductType}))
	}
	d.lines.to = int32(len(b.l.lineRefs))
	return d
}

// line numbers a product line, keeping a copy of it when it is new.
func (b *Builder) line(line Line) int32 {
	if n, ok := b.lineNumbers[line]; ok {
		return n
	}
	if b.lineNumbers == nil {
		b.lineNumbers = map[Line]int32{}
	}
	line = Line{ProductID: b.strings.Intern(line.ProductID), Title: b.strings.Intern(line.Title),
		Vendor: b.strings.Intern(line.Vendor), ProductType: b.strings.Intern(line.ProductType)}
	n := int32(len(b.l.lines))
	b.l.lines = append(b.l.lines, line)
	b.lineNumbers[line] = n
	return n
}

// Ledger finishes the Ledger: details that can no longer be a first
// purchase are dropped. The Builder must not be used afterwards.
func (b *Builder) Ledger() *Ledger {
	l := &b.l
	kept := 0
	renumber := make([]int32, len(l.details))
	for i := range b.detailOrder {
		if b.detailAlive(int32(i)) {
			l.details[kept] = l.details[i]
			kept++
			renumber[i] = int32(kept)
		}
	}
	// Sized for every customer, the details may be fewer. A copy of those
	// kept would be written at the end of the read, the job's peak; the
	// rest of the array is never written, and takes no memory of the
	// process's when its pages came fresh from the system (a big job
	// returns its memory between its phases; the collector counts it all).
	l.details = slices.Clip(l.details[:kept])
	if kept == 0 {
		// An empty slice still holds its array: a CSV's ledger, which
		// keeps no detail, held rows/4 of them (18 MB at 2.13M rows)
		// through the scoring.
		l.details = nil
	}
	l.compactDetailRanges()
	if kept < len(renumber) {
		for i := range l.orders {
			o := &l.orders[i]
			if d := o.detailNumber(); d != 0 {
				o.detail = renumber[d-1] | (o.detail & discountBit)
			}
		}
	}
	// The map from IDs to numbers is not kept: the ledger's readers number
	// customers by their orders, and a million-entry map is the largest
	// thing a ledger would otherwise hold after its orders.
	l.customers = b.customers.names
	l.texts = b.texts.names
	b.firstSolid, b.detailOrder, b.customers, b.lineNumbers, b.pending, b.texts = nil, nil, nil, nil, nil, nil
	return l
}

// compactDetailRanges lets go of the codes and lines of the details that
// were dropped or replaced: orders added out of time order leave some.
func (l *Ledger) compactDetailRanges() {
	codes, lines := 0, 0
	for i := range l.details {
		codes += int(l.details[i].codes.to - l.details[i].codes.from)
		lines += int(l.details[i].lines.to - l.details[i].lines.from)
	}
	if codes == len(l.codes) && lines == len(l.lineRefs) {
		return
	}
	keptCodes, keptLines := make([]string, 0, codes), make([]int32, 0, lines)
	for i := range l.details {
		d := &l.details[i]
		from := int32(len(keptCodes))
		keptCodes = append(keptCodes, l.codes[d.codes.from:d.codes.to]...)
		d.codes = span{from, int32(len(keptCodes))}
		from = int32(len(keptLines))
		keptLines = append(keptLines, l.lineRefs[d.lines.from:d.lines.to]...)
		d.lines = span{from, int32(len(keptLines))}
	}
	l.codes, l.lineRefs = keptCodes, keptLines
}
