package simulator

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// The store keeps each collection as a slice sorted by id, found by binary
// search: no per-record maps, so millions of orders stay cheap. Orders are
// held in a compact form (unix seconds, interned strings); repeated values
// such as source names, titles and UTM parameters are stored once.

type strtab struct {
	idx  map[string]uint32
	strs []string
}

func (t *strtab) init() {
	t.idx = map[string]uint32{"": 0}
	t.strs = []string{""}
}

func (t *strtab) id(s string) uint32 {
	if s == "" {
		return 0
	}
	if i, ok := t.idx[s]; ok {
		return i
	}
	i := uint32(len(t.strs))
	t.strs = append(t.strs, s)
	t.idx[s] = i
	return i
}

func (t *strtab) str(i uint32) string { return t.strs[i] }

type customerRec struct {
	id                                int64
	email, firstName, lastName, phone string
	tags                              []string
	created, updated                  int64
	addr                              *Address
	marketing, rfmGroup, spendTier    uint32
	orders                            int32
	spent                             Amount
	deleted                           bool
}

type productRec struct {
	p       Product
	deleted bool
}

type variantRef struct {
	id      int64
	product int32 // index into products
	variant int32 // index into the product's variants
}

type visitRec struct {
	at                                              int64
	landing, referrer, source, utmSource, utmMedium uint32
	utmCampaign, utmContent, utmTerm                uint32
}

type journeyRec struct {
	orderIndex, daysToConversion int32
	first, last                  *visitRec
}

type lineRec struct {
	id, product, variant int64
	title, sku           uint32
	qty                  int32
	price                Amount
}

type refundRec struct {
	id     int64
	at     int64
	amount Amount
	note   uint32
}

type orderRec struct {
	id, number, customer                   int64
	created, updated, processed, cancelled int64 // unix seconds, 0 = none
	total, subtotal                        Amount
	rate                                   float64
	email, source, presentment, cancelWhy  uint32
	test, deleted                          bool
	discounts                              []uint32
	journey                                *journeyRec
	lines                                  []lineRec
	refunds                                []refundRec
}

type store struct {
	strs      strtab
	customers []customerRec
	orders    []orderRec
	products  []productRec
	variants  []variantRef

	customersUnsorted, ordersUnsorted, productsUnsorted, variantsStale bool

	liveCustomers, liveOrders, liveProducts int

	next counters

	// version changes on every write to a collection; sort indexes built
	// for one version are rebuilt when it changes.
	customersVersion, ordersVersion, productsVersion uint64
	sorts                                            sortCache
	stats                                            statsCache
}

// counters hold the next id of each kind; a failed batch puts them back.
type counters struct {
	customer, order, orderNumber, product    int64
	variant, inventoryItem, lineItem, refund int64
}

type sortCacheKey struct {
	collection string
	key        string
	version    uint64
}

func (st *store) init() {
	st.strs.init()
	st.next = counters{customer: 1, order: 1, orderNumber: 1001, product: 1, variant: 1, inventoryItem: 1, lineItem: 1, refund: 1}
	st.sorts.m = map[sortCacheKey][]int32{}
}

func unixOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

func timeOrZero(s int64) time.Time {
	if s == 0 {
		return time.Time{}
	}
	return time.Unix(s, 0).UTC()
}

// ---- lookups -------------------------------------------------------------

func (st *store) sortCustomers() {
	if st.customersUnsorted {
		slices.SortFunc(st.customers, func(a, b customerRec) int { return cmp.Compare(a.id, b.id) })
		st.customersUnsorted = false
	}
}

func (st *store) sortOrders() {
	if st.ordersUnsorted {
		slices.SortFunc(st.orders, func(a, b orderRec) int { return cmp.Compare(a.id, b.id) })
		st.ordersUnsorted = false
	}
}

func (st *store) sortProducts() {
	if st.productsUnsorted {
		slices.SortFunc(st.products, func(a, b productRec) int { return cmp.Compare(a.p.ID, b.p.ID) })
		st.productsUnsorted = false
		st.variantsStale = true
	}
	if st.variantsStale {
		st.variants = st.variants[:0]
		for pi := range st.products {
			if st.products[pi].deleted {
				continue
			}
			for vi, v := range st.products[pi].p.Variants {
				st.variants = append(st.variants, variantRef{id: v.ID, product: int32(pi), variant: int32(vi)})
			}
		}
		slices.SortFunc(st.variants, func(a, b variantRef) int { return cmp.Compare(a.id, b.id) })
		st.variantsStale = false
	}
}

// The find functions need the write lock when the slices may be unsorted;
// callers holding only a read lock use them after ensureSorted ran under
// the write lock (every write path ends sorted, see sortAll).
func (st *store) sortAll() {
	st.sortCustomers()
	st.sortOrders()
	st.sortProducts()
}

func (st *store) customerIndex(id int64) int {
	i, ok := slices.BinarySearchFunc(st.customers, id, func(c customerRec, id int64) int { return cmp.Compare(c.id, id) })
	if !ok || st.customers[i].deleted {
		return -1
	}
	return i
}

func (st *store) orderIndex(id int64) int {
	i, ok := slices.BinarySearchFunc(st.orders, id, func(o orderRec, id int64) int { return cmp.Compare(o.id, id) })
	if !ok || st.orders[i].deleted {
		return -1
	}
	return i
}

func (st *store) productIndex(id int64) int {
	i, ok := slices.BinarySearchFunc(st.products, id, func(p productRec, id int64) int { return cmp.Compare(p.p.ID, id) })
	if !ok || st.products[i].deleted {
		return -1
	}
	return i
}

func (st *store) variantByID(id int64) (*Product, *Variant) {
	i, ok := slices.BinarySearchFunc(st.variants, id, func(v variantRef, id int64) int { return cmp.Compare(v.id, id) })
	if !ok {
		return nil, nil
	}
	ref := st.variants[i]
	p := &st.products[ref.product].p
	return p, &p.Variants[ref.variant]
}

// ---- conversions ---------------------------------------------------------

func (st *store) customerFromInput(c Customer) customerRec {
	created := unixOrZero(c.CreatedAt)
	updated := unixOrZero(c.UpdatedAt)
	if updated == 0 {
		updated = created
	}
	return customerRec{
		id: c.ID, email: c.Email, firstName: c.FirstName, lastName: c.LastName, phone: c.Phone,
		tags: slices.Clone(c.Tags), created: created, updated: updated, addr: c.DefaultAddress,
		marketing: st.strs.id(c.EmailMarketingState), rfmGroup: st.strs.id(c.RFMGroup),
		spendTier: st.strs.id(c.PredictedSpendTier),
	}
}

func (st *store) customerOut(r *customerRec) Customer {
	return Customer{
		ID: r.id, Email: r.email, FirstName: r.firstName, LastName: r.lastName, Phone: r.phone,
		Tags: slices.Clone(r.tags), CreatedAt: timeOrZero(r.created), UpdatedAt: timeOrZero(r.updated),
		DefaultAddress: r.addr, EmailMarketingState: st.strs.str(r.marketing),
		RFMGroup: st.strs.str(r.rfmGroup), PredictedSpendTier: st.strs.str(r.spendTier),
	}
}

func (st *store) visitFromInput(v *Visit) *visitRec {
	if v == nil {
		return nil
	}
	return &visitRec{
		at: unixOrZero(v.OccurredAt), landing: st.strs.id(v.LandingPage), referrer: st.strs.id(v.ReferrerURL),
		source: st.strs.id(v.Source), utmSource: st.strs.id(v.UTMSource), utmMedium: st.strs.id(v.UTMMedium),
		utmCampaign: st.strs.id(v.UTMCampaign), utmContent: st.strs.id(v.UTMContent), utmTerm: st.strs.id(v.UTMTerm),
	}
}

func (st *store) visitOut(v *visitRec) *Visit {
	if v == nil {
		return nil
	}
	s := st.strs.str
	return &Visit{
		OccurredAt: timeOrZero(v.at), LandingPage: s(v.landing), ReferrerURL: s(v.referrer), Source: s(v.source),
		UTMSource: s(v.utmSource), UTMMedium: s(v.utmMedium), UTMCampaign: s(v.utmCampaign),
		UTMContent: s(v.utmContent), UTMTerm: s(v.utmTerm),
	}
}

// orderFromInput converts an order whose ids are already assigned.
func (st *store) orderFromInput(o *Order) orderRec {
	created := unixOrZero(o.CreatedAt)
	r := orderRec{
		id: o.ID, number: o.Number, customer: o.CustomerID,
		created: created, updated: unixOrZero(o.UpdatedAt), processed: unixOrZero(o.ProcessedAt),
		cancelled: unixOrZero(o.CancelledAt), total: o.Total, subtotal: o.Subtotal, rate: o.PresentmentRate,
		email: st.strs.id(o.Email), source: st.strs.id(o.SourceName), presentment: st.strs.id(o.PresentmentCurrency),
		cancelWhy: st.strs.id(o.CancelReason), test: o.Test,
	}
	if r.updated == 0 {
		r.updated = created
	}
	if r.processed == 0 {
		r.processed = created
	}
	if len(o.DiscountCodes) > 0 {
		r.discounts = make([]uint32, len(o.DiscountCodes))
		for i, d := range o.DiscountCodes {
			r.discounts[i] = st.strs.id(d)
		}
	}
	if o.Journey != nil {
		r.journey = &journeyRec{
			orderIndex: int32(o.Journey.CustomerOrderIndex), daysToConversion: int32(o.Journey.DaysToConversion),
			first: st.visitFromInput(o.Journey.FirstVisit), last: st.visitFromInput(o.Journey.LastVisit),
		}
	}
	if len(o.LineItems) > 0 {
		r.lines = make([]lineRec, len(o.LineItems))
		for i, l := range o.LineItems {
			r.lines[i] = lineRec{
				id: l.ID, product: l.ProductID, variant: l.VariantID, title: st.strs.id(l.Title),
				sku: st.strs.id(l.SKU), qty: int32(l.Quantity), price: l.UnitPrice,
			}
		}
	}
	if len(o.Refunds) > 0 {
		r.refunds = make([]refundRec, len(o.Refunds))
		for i, rf := range o.Refunds {
			r.refunds[i] = refundRec{id: rf.ID, at: unixOrZero(rf.CreatedAt), amount: rf.Amount, note: st.strs.id(rf.Note)}
		}
	}
	return r
}

func (st *store) orderOut(r *orderRec) Order {
	s := st.strs.str
	o := Order{
		ID: r.id, Number: r.number, CustomerID: r.customer, Email: s(r.email),
		CreatedAt: timeOrZero(r.created), UpdatedAt: timeOrZero(r.updated), ProcessedAt: timeOrZero(r.processed),
		CancelledAt: timeOrZero(r.cancelled), CancelReason: s(r.cancelWhy), Test: r.test, SourceName: s(r.source),
		PresentmentCurrency: s(r.presentment), PresentmentRate: r.rate, Subtotal: r.subtotal, Total: r.total,
	}
	for _, d := range r.discounts {
		o.DiscountCodes = append(o.DiscountCodes, s(d))
	}
	if r.journey != nil {
		o.Journey = &Journey{
			CustomerOrderIndex: int(r.journey.orderIndex), DaysToConversion: int(r.journey.daysToConversion),
			FirstVisit: st.visitOut(r.journey.first), LastVisit: st.visitOut(r.journey.last),
		}
	}
	for _, l := range r.lines {
		o.LineItems = append(o.LineItems, LineItem{
			ID: l.id, ProductID: l.product, VariantID: l.variant, Title: s(l.title), SKU: s(l.sku),
			Quantity: int(l.qty), UnitPrice: l.price,
		})
	}
	for _, rf := range r.refunds {
		o.Refunds = append(o.Refunds, Refund{ID: rf.id, CreatedAt: timeOrZero(rf.at), Amount: rf.amount, Note: s(rf.note)})
	}
	return o
}

func (r *orderRec) refunded() Amount {
	var sum Amount
	for _, rf := range r.refunds {
		sum += rf.amount
	}
	return sum
}

// countsForCustomer says whether the order adds to the customer's
// numberOfOrders and amountSpent: test orders never do, cancelled orders
// keep counting as orders but spend nothing.
func (r *orderRec) countsForCustomer() bool { return !r.test }

func (r *orderRec) spent() Amount {
	if r.test || r.cancelled != 0 {
		return 0
	}
	net := r.total - r.refunded()
	if net < 0 {
		return 0
	}
	return net
}

func (st *store) applyOrderToCustomer(r *orderRec, sign int) {
	if r.customer == 0 || !r.countsForCustomer() {
		return
	}
	ci := st.customerIndex(r.customer)
	if ci < 0 {
		return
	}
	c := &st.customers[ci]
	c.orders += int32(sign)
	c.spent += Amount(sign) * r.spent()
}

// ---- writes --------------------------------------------------------------

func (st *store) prepareCustomer(c *Customer, now time.Time) error {
	if c.ID == 0 {
		c.ID = st.next.customer
	} else if c.ID < 0 {
		return fmt.Errorf("customer id %d: must be positive", c.ID)
	}
	if c.ID >= st.next.customer {
		st.next.customer = c.ID + 1
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = now
	}
	return nil
}

func (st *store) addCustomers(cs []Customer, now time.Time) (err error) {
	st.sortCustomers()
	saved := st.next
	defer func() {
		if err != nil {
			st.next = saved
		}
	}()
	ids := make([]int64, len(cs))
	for i := range cs {
		if err := st.prepareCustomer(&cs[i], now); err != nil {
			return err
		}
		ids[i] = cs[i].ID
	}
	var last int64
	if n := len(st.customers); n > 0 {
		last = st.customers[n-1].id
	}
	sorted, err := checkNewIDs(ids, last, func(id int64) bool { return st.customerIndexAny(id) >= 0 })
	if err != nil {
		return fmt.Errorf("add customers: %w", err)
	}
	st.customers = slices.Grow(st.customers, len(cs))
	for i := range cs {
		st.customers = append(st.customers, st.customerFromInput(cs[i]))
	}
	st.liveCustomers += len(cs)
	st.customersUnsorted = st.customersUnsorted || !sorted
	st.sortCustomers()
	st.customersVersion++
	return nil
}

// checkNewIDs rejects ids that exist already or repeat within the batch,
// and reports whether appending the batch keeps the collection sorted.
func checkNewIDs(batch []int64, last int64, exists func(int64) bool) (sorted bool, err error) {
	sorted = true
	maxSeen := last
	var seen map[int64]struct{}
	for i, id := range batch {
		if id > maxSeen {
			maxSeen = id
			if seen != nil {
				seen[id] = struct{}{}
			}
			continue
		}
		if sorted {
			sorted = false
			seen = make(map[int64]struct{}, len(batch))
			for _, prev := range batch[:i] {
				seen[prev] = struct{}{}
			}
		}
		if _, dup := seen[id]; dup || exists(id) {
			return false, fmt.Errorf("id %d: already exists", id)
		}
		seen[id] = struct{}{}
	}
	return sorted, nil
}

// customerIndexAny finds a customer record, deleted or not, in a sorted
// slice (used to reject duplicate ids).
func (st *store) customerIndexAny(id int64) int {
	i, ok := slices.BinarySearchFunc(st.customers, id, func(c customerRec, id int64) int { return cmp.Compare(c.id, id) })
	if !ok {
		return -1
	}
	return i
}

func (st *store) addProducts(ps []Product, now time.Time) (err error) {
	st.sortProducts()
	saved := st.next
	defer func() {
		if err != nil {
			st.next = saved
		}
	}()
	for i := range ps {
		p := &ps[i]
		if p.ID == 0 {
			p.ID = st.next.product
		}
		if p.ID >= st.next.product {
			st.next.product = p.ID + 1
		}
		if _, ok := slices.BinarySearchFunc(st.products, p.ID, func(r productRec, id int64) int { return cmp.Compare(r.p.ID, id) }); ok {
			return fmt.Errorf("product %d: already exists", p.ID)
		}
		if p.CreatedAt.IsZero() {
			p.CreatedAt = now
		}
		if p.UpdatedAt.IsZero() {
			p.UpdatedAt = p.CreatedAt
		}
		if p.Status == "" {
			p.Status = "ACTIVE"
		}
		if p.Handle == "" {
			p.Handle = handleize(p.Title)
		}
		if len(p.Variants) == 0 {
			p.Variants = []Variant{{Title: "Default Title"}}
		}
		for vi := range p.Variants {
			v := &p.Variants[vi]
			if v.ID == 0 {
				v.ID = st.next.variant
			}
			if v.ID >= st.next.variant {
				st.next.variant = v.ID + 1
			}
			if v.InventoryItemID == 0 {
				v.InventoryItemID = st.next.inventoryItem
			}
			if v.InventoryItemID >= st.next.inventoryItem {
				st.next.inventoryItem = v.InventoryItemID + 1
			}
			if v.Title == "" {
				v.Title = "Default Title"
			}
		}
		stored := *p
		stored.Variants = slices.Clone(p.Variants)
		stored.Tags = slices.Clone(p.Tags)
		if n := len(st.products); n > 0 && st.products[n-1].p.ID > p.ID {
			st.productsUnsorted = true
		}
		st.products = append(st.products, productRec{p: stored})
		st.liveProducts++
	}
	st.variantsStale = true
	st.sortProducts()
	st.productsVersion++
	return nil
}

func handleize(title string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(title) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

// prepareOrder assigns ids and checks references; it needs sorted slices.
func (st *store) prepareOrder(o *Order, now time.Time) error {
	if o.ID == 0 {
		o.ID = st.next.order
	} else if o.ID < 0 {
		return fmt.Errorf("order id %d: must be positive", o.ID)
	}
	if o.ID >= st.next.order {
		st.next.order = o.ID + 1
	}
	if o.Number == 0 {
		o.Number = st.next.orderNumber
	}
	if o.Number >= st.next.orderNumber {
		st.next.orderNumber = o.Number + 1
	}
	if o.CreatedAt.IsZero() {
		o.CreatedAt = now
	}
	if o.CustomerID != 0 && st.customerIndex(o.CustomerID) < 0 {
		return fmt.Errorf("order %d: unknown customer %d", o.ID, o.CustomerID)
	}
	var lineSum Amount
	for i := range o.LineItems {
		l := &o.LineItems[i]
		if l.ID == 0 {
			l.ID = st.next.lineItem
		}
		if l.ID >= st.next.lineItem {
			st.next.lineItem = l.ID + 1
		}
		if l.VariantID != 0 {
			p, v := st.variantByID(l.VariantID)
			if v == nil {
				return fmt.Errorf("order %d: unknown variant %d", o.ID, l.VariantID)
			}
			if l.ProductID == 0 {
				l.ProductID = p.ID
			} else if l.ProductID != p.ID {
				return fmt.Errorf("order %d: variant %d belongs to product %d, not %d", o.ID, l.VariantID, p.ID, l.ProductID)
			}
			if l.Title == "" {
				l.Title = p.Title
			}
		} else if l.ProductID != 0 && st.productIndex(l.ProductID) < 0 {
			return fmt.Errorf("order %d: unknown product %d", o.ID, l.ProductID)
		}
		if l.Quantity <= 0 {
			return fmt.Errorf("order %d: line item quantity %d must be positive", o.ID, l.Quantity)
		}
		lineSum += l.UnitPrice * Amount(l.Quantity)
	}
	if o.Subtotal == 0 {
		o.Subtotal = lineSum
	}
	for i := range o.Refunds {
		r := &o.Refunds[i]
		if r.ID == 0 {
			r.ID = st.next.refund
		}
		if r.ID >= st.next.refund {
			st.next.refund = r.ID + 1
		}
		if r.CreatedAt.IsZero() {
			r.CreatedAt = now
		}
	}
	return nil
}

func (st *store) addOrders(os []Order, now time.Time) (err error) {
	st.sortAll()
	saved := st.next
	defer func() {
		if err != nil {
			st.next = saved
		}
	}()
	ids := make([]int64, len(os))
	for i := range os {
		if err := st.prepareOrder(&os[i], now); err != nil {
			return err
		}
		ids[i] = os[i].ID
	}
	var last int64
	if n := len(st.orders); n > 0 {
		last = st.orders[n-1].id
	}
	sorted, err := checkNewIDs(ids, last, func(id int64) bool {
		_, ok := slices.BinarySearchFunc(st.orders, id, func(r orderRec, id int64) int { return cmp.Compare(r.id, id) })
		return ok
	})
	if err != nil {
		return fmt.Errorf("add orders: %w", err)
	}
	st.orders = slices.Grow(st.orders, len(os))
	for i := range os {
		st.orders = append(st.orders, st.orderFromInput(&os[i]))
		st.applyOrderToCustomer(&st.orders[len(st.orders)-1], 1)
	}
	st.liveOrders += len(os)
	st.ordersUnsorted = st.ordersUnsorted || !sorted
	st.sortOrders()
	st.ordersVersion++
	st.customersVersion++
	return nil
}
