package shopgen

import (
	"cmp"
	"compress/gzip"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"time"
	_ "time/tzdata" // the demo shop's Europe/London must load on hosts without zoneinfo

	"github.com/cvo-app/cvo/internal/simulator"
)

// Skip reasons of LoadOnlineRetail, the keys of Stats.Skipped.
const (
	SkipMalformed             = "malformed"                     // unreadable row
	SkipBadDebt               = "bad_debt_adjustment"           // A invoices (stock code B)
	SkipFee                   = "fee"                           // BANK CHARGES, AMAZONFEE, CRUK
	SkipStockAdjustment       = "stock_adjustment"              // quantity <= 0 on a sale invoice
	SkipStockNote             = "stock_note"                    // price 0, no customer ("check", "found", "damaged")
	SkipNegativePrice         = "negative_price"                // unit price below 0 on a sale
	SkipDiscountOnSale        = "discount_on_sale"              // a D row on a sale invoice
	SkipCustomerMismatch      = "customer_mismatch"             // a row whose customer differs from its invoice's
	SkipCancelNoCustomer      = "cancellation_without_customer" // C rows without CustomerID: nothing to match
	SkipCancelNotNegative     = "cancellation_not_negative"     // C rows with quantity >= 0
	SkipCancellationUnmatched = "cancellation_unmatched"        // no earlier order of the customer has the item
)

// LoadOnlineRetail turns the UCI Online Retail file (gzip CSV) into a shop
// and feeds it to sink: products, then customers, then orders, BatchSize
// at a time. The same file always gives the same shop with the same ids;
// see the package documentation for the mapping.
func LoadOnlineRetail(ctx context.Context, path string, sink Sink) (Stats, error) {
	f, err := os.Open(path)
	if err != nil {
		return Stats{}, fmt.Errorf("load online retail: %w", err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return Stats{}, fmt.Errorf("load online retail %s: %w", path, err)
	}
	defer gz.Close()
	st, err := ReadOnlineRetail(ctx, gz, sink)
	if err != nil {
		return st, fmt.Errorf("load online retail %s: %w", path, err)
	}
	return st, nil
}

// ReadOnlineRetail is LoadOnlineRetail on an uncompressed CSV stream.
func ReadOnlineRetail(ctx context.Context, r io.Reader, sink Sink) (Stats, error) {
	loc, err := time.LoadLocation(OnlineRetailShop.Timezone)
	if err != nil {
		return Stats{}, err
	}
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	cr.FieldsPerRecord = -1 // checked per row, so one bad row is skipped, not fatal
	head, err := cr.Read()
	if err != nil {
		return Stats{}, fmt.Errorf("read header: %w", err)
	}
	if !slices.Equal(head, retailHeader) {
		return Stats{}, fmt.Errorf("unexpected header %q", head)
	}
	b := newRetailBuilder(loc)
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return b.stats, fmt.Errorf("read row %d: %w", b.stats.Rows+1, err)
		}
		b.stats.Rows++
		if b.stats.Rows%65536 == 0 {
			if err := ctx.Err(); err != nil {
				return b.stats, err
			}
		}
		row, err := parseRetailRow(rec, loc)
		if err != nil {
			b.stats.skip(SkipMalformed)
			continue
		}
		b.add(row)
	}
	if err := b.resolve(); err != nil {
		return b.stats, err
	}
	if err := b.emit(ctx, sink); err != nil {
		return b.stats, err
	}
	return b.stats, nil
}

// retailCode is what the file says about one stock code.
type retailCode struct {
	code     string
	kind     lineKind
	descs    map[string]int32
	prices   map[simulator.Amount]int32
	minPrice simulator.Amount // smallest positive unit price; 0 = none
	first    int64            // unix seconds of the first sale
	id       int64            // product id; 0 for codes that are no products
	title    string
}

// retailLine is a kept sale row, compact because there are half a million.
type retailLine struct {
	code     int32 // index into retailBuilder.codes
	kind     lineKind
	qty      int32
	refunded int32 // units given back by cancellations so far
	price    simulator.Amount
}

type retailInvoice struct {
	no       int64
	customer int64
	at       int64 // unix seconds of the earliest row
	lines    []retailLine
	total    simulator.Amount
	refunded simulator.Amount
	refunds  []simulator.Refund
	index    int // the order's position among its customer's orders, from 1
}

type retailCancelRow struct {
	code  string
	kind  lineKind
	units int32
	price simulator.Amount
}

type retailCancel struct {
	no       int64
	customer int64
	at       int64
	rows     []retailCancelRow
}

type retailCustomer struct {
	first     int64
	countries map[string]int32
}

type retailBuilder struct {
	loc       *time.Location
	stats     Stats
	codeIndex map[string]int32
	codes     []retailCode
	invIndex  map[int64]int
	invoices  []retailInvoice
	cancIndex map[int64]int
	cancels   []retailCancel
	customers map[int64]*retailCustomer
	// byCustomer lists each customer's invoices (indices into invoices,
	// after resolve sorted them) in time order.
	byCustomer map[int64][]int
}

func newRetailBuilder(loc *time.Location) *retailBuilder {
	return &retailBuilder{loc: loc,
		codeIndex: map[string]int32{}, invIndex: map[int64]int{}, cancIndex: map[int64]int{},
		customers: map[int64]*retailCustomer{},
	}
}

func (b *retailBuilder) add(r retailRow) {
	at := r.at.Unix()
	if r.customer != 0 {
		c := b.customers[r.customer]
		if c == nil {
			c = &retailCustomer{first: at, countries: map[string]int32{}}
			b.customers[r.customer] = c
		}
		c.first = min(c.first, at)
		c.countries[r.country]++
	}
	kind := classifyCode(r.code)
	switch {
	case r.adjust || kind == kindBadDebt:
		b.stats.skip(SkipBadDebt)
		return
	case kind == kindFee:
		b.stats.skip(SkipFee)
		return
	case r.cancel:
		b.addCancel(r, kind, at)
		return
	case r.qty <= 0:
		b.stats.skip(SkipStockAdjustment)
		return
	case r.price < 0:
		b.stats.skip(SkipNegativePrice)
		return
	case r.price == 0 && r.customer == 0:
		b.stats.skip(SkipStockNote)
		return
	case kind == kindDiscount:
		b.stats.skip(SkipDiscountOnSale)
		return
	}
	i, ok := b.invIndex[r.invoice]
	if !ok {
		i = len(b.invoices)
		b.invIndex[r.invoice] = i
		b.invoices = append(b.invoices, retailInvoice{no: r.invoice, customer: r.customer, at: at})
	}
	inv := &b.invoices[i]
	if inv.customer != r.customer {
		b.stats.skip(SkipCustomerMismatch)
		return
	}
	inv.at = min(inv.at, at)
	ci := b.code(r.code, kind)
	c := &b.codes[ci]
	if r.desc != "" {
		c.descs[r.desc]++
	}
	if r.price > 0 {
		c.prices[r.price]++
		if c.minPrice == 0 || r.price < c.minPrice {
			c.minPrice = r.price
		}
	}
	c.first = min(c.first, at)
	inv.lines = append(inv.lines, retailLine{code: ci, kind: kind, qty: int32(r.qty), price: r.price})
}

func (b *retailBuilder) addCancel(r retailRow, kind lineKind, at int64) {
	if r.customer == 0 {
		b.stats.skip(SkipCancelNoCustomer)
		return
	}
	if r.qty >= 0 {
		b.stats.skip(SkipCancelNotNegative)
		return
	}
	i, ok := b.cancIndex[r.invoice]
	if !ok {
		i = len(b.cancels)
		b.cancIndex[r.invoice] = i
		b.cancels = append(b.cancels, retailCancel{no: r.invoice, customer: r.customer, at: at})
	}
	c := &b.cancels[i]
	if c.customer != r.customer {
		b.stats.skip(SkipCustomerMismatch)
		return
	}
	c.at = min(c.at, at)
	c.rows = append(c.rows, retailCancelRow{code: r.code, kind: kind, units: int32(-r.qty), price: r.price})
}

func (b *retailBuilder) code(code string, kind lineKind) int32 {
	if i, ok := b.codeIndex[code]; ok {
		return i
	}
	i := int32(len(b.codes))
	b.codeIndex[code] = i
	b.codes = append(b.codes, retailCode{
		code: code, kind: kind, descs: map[string]int32{}, prices: map[simulator.Amount]int32{}, first: 1<<63 - 1,
	})
	return i
}

// resolve orders the invoices in time, totals them and turns the
// cancellations into refunds.
func (b *retailBuilder) resolve() error {
	for i := range b.codes {
		c := &b.codes[i]
		c.title = mostCommon(c.descs, c.code)
	}
	slices.SortFunc(b.invoices, func(x, y retailInvoice) int {
		return cmp.Or(cmp.Compare(x.at, y.at), cmp.Compare(x.no, y.no))
	})
	b.byCustomer = map[int64][]int{}
	for i := range b.invoices {
		inv := &b.invoices[i]
		// An invoice of postage alone (postage billed separately) would be
		// an order without line items, which Shopify has not: its postage
		// becomes a custom line item.
		if !slices.ContainsFunc(inv.lines, func(l retailLine) bool { return l.kind != kindShipping }) {
			for j := range inv.lines {
				inv.lines[j].kind = kindCustom
			}
		}
		for _, l := range inv.lines {
			inv.total += l.price * simulator.Amount(l.qty)
		}
		if inv.customer != 0 {
			b.byCustomer[inv.customer] = append(b.byCustomer[inv.customer], i)
			inv.index = len(b.byCustomer[inv.customer])
		}
	}
	slices.SortFunc(b.cancels, func(x, y retailCancel) int {
		return cmp.Or(cmp.Compare(x.at, y.at), cmp.Compare(x.no, y.no))
	})
	for i := range b.cancels {
		if err := b.applyCancel(&b.cancels[i]); err != nil {
			return err
		}
	}
	return nil
}

// applyCancel matches a cancellation invoice's rows to the customer's
// orders placed no later than it, latest first, and books one refund per
// order touched, dated at the cancellation.
func (b *retailBuilder) applyCancel(c *retailCancel) error {
	orders := b.byCustomer[c.customer]
	// Orders at or before the cancellation: the same minute counts, since
	// some cancellations follow their order at once.
	n, _ := slices.BinarySearchFunc(orders, c.at+1, func(i int, at int64) int { return cmp.Compare(b.invoices[i].at, at) })
	earlier := orders[:n]
	pending := map[int]simulator.Amount{}
	var touched []int
	give := func(inv int, amt simulator.Amount) {
		if _, ok := pending[inv]; !ok {
			touched = append(touched, inv)
		}
		pending[inv] += amt
	}
	for _, row := range c.rows {
		if row.kind == kindDiscount {
			// A discount granted after the sale: money back on the latest
			// order that still has value left.
			want := row.price * simulator.Amount(row.units)
			matched := false
			for k := len(earlier) - 1; k >= 0 && want > 0; k-- {
				inv := &b.invoices[earlier[k]]
				left := inv.total - inv.refunded - pending[earlier[k]]
				if left > 0 {
					give(earlier[k], min(left, want))
					matched = true
					break
				}
			}
			if matched {
				b.stats.RefundedRows++
			} else {
				b.stats.skip(SkipCancellationUnmatched)
			}
			continue
		}
		ci, known := b.codeIndex[row.code]
		need := row.units
		for k := len(earlier) - 1; k >= 0 && need > 0 && known; k-- {
			inv := &b.invoices[earlier[k]]
			for li := range inv.lines {
				l := &inv.lines[li]
				if l.code != ci || l.refunded >= l.qty {
					continue
				}
				take := min(need, l.qty-l.refunded)
				l.refunded += take
				need -= take
				// The refund is what the customer paid on that order, even
				// where the cancellation row states another price.
				give(earlier[k], l.price*simulator.Amount(take))
				if need == 0 {
					break
				}
			}
		}
		switch {
		case need == row.units:
			b.stats.skip(SkipCancellationUnmatched)
		case need > 0:
			b.stats.RefundedRows++
			b.stats.PartlyMatchedRows++
		default:
			b.stats.RefundedRows++
		}
	}
	if len(touched) >= 1000 {
		return fmt.Errorf("cancellation C%d touches %d orders, more than refund ids allow", c.no, len(touched))
	}
	for k, i := range touched {
		inv := &b.invoices[i]
		amt := min(pending[i], inv.total-inv.refunded)
		if amt <= 0 {
			continue
		}
		inv.refunded += amt
		inv.refunds = append(inv.refunds, simulator.Refund{
			ID: c.no*1000 + int64(k), CreatedAt: time.Unix(c.at, 0).UTC(), Amount: amt,
			Note: "Cancellation invoice C" + strconv.FormatInt(c.no, 10),
		})
	}
	return nil
}

// mostCommon returns the most frequent key, the alphabetically first on a
// tie, so the choice does not depend on map order.
func mostCommon(counts map[string]int32, fallback string) string {
	best, bestN := "", int32(0)
	for k, n := range counts {
		if n > bestN || n == bestN && k < best {
			best, bestN = k, n
		}
	}
	if best == "" {
		return fallback
	}
	return best
}

// modalPrice is the most frequent positive unit price, the lowest on a tie.
func modalPrice(counts map[simulator.Amount]int32) simulator.Amount {
	var best simulator.Amount
	var bestN int32
	for p, n := range counts {
		if n > bestN || n == bestN && p < best {
			best, bestN = p, n
		}
	}
	return best
}

// retailUnitCost invents a unit cost, since the dataset records none: 40
// to 65 % of the lowest price the code sold at (its wholesale price),
// fixed by the code. About 15 % of products get no cost at all, so the
// reports' "cost unknown" path has data.
func retailUnitCost(code string, minPrice simulator.Amount) *simulator.Amount {
	if minPrice <= 0 || hash64("nocost", code)%100 < 15 {
		return nil
	}
	share := 0.40 + 0.25*unitFloat(hash64("cost", code))
	cost := max(simulator.NewAmount(minPrice.Float64()*share), 1)
	return &cost
}

func (b *retailBuilder) emit(ctx context.Context, sink Sink) error {
	// Products: ids 1..n in stock-code order.
	var productCodes []int32
	for i := range b.codes {
		if b.codes[i].kind == kindProduct {
			productCodes = append(productCodes, int32(i))
		}
	}
	slices.SortFunc(productCodes, func(x, y int32) int { return cmp.Compare(b.codes[x].code, b.codes[y].code) })
	products := newBatcher(BatchSize, "products", sink.AddProducts)
	for n, ci := range productCodes {
		c := &b.codes[ci]
		c.id = int64(n + 1)
		created := time.Unix(c.first, 0).UTC()
		p := simulator.Product{
			ID: c.id, Title: c.title, Handle: handleFor(c.title, c.code), ProductType: productType(c.title),
			Vendor: retailVendor(c.code), Status: "ACTIVE", CreatedAt: created, UpdatedAt: created,
			Variants: []simulator.Variant{{
				ID: c.id, InventoryItemID: c.id, Title: "Default Title", SKU: c.code,
				Price: modalPrice(c.prices), UnitCost: retailUnitCost(c.code, c.minPrice),
			}},
		}
		if err := products.push(p); err != nil {
			return err
		}
		b.stats.Products++
	}
	if err := products.flush(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}

	customerIDs := make([]int64, 0, len(b.customers))
	for id := range b.customers {
		customerIDs = append(customerIDs, id)
	}
	slices.Sort(customerIDs)
	customers := newBatcher(BatchSize, "customers", sink.AddCustomers)
	for _, id := range customerIDs {
		c := b.customers[id]
		created := time.Unix(c.first, 0).UTC()
		marketing := "NOT_SUBSCRIBED"
		if hashInt("subscribed", id)%100 < 45 {
			marketing = "SUBSCRIBED"
		}
		err := customers.push(simulator.Customer{
			ID: id, Email: retailEmail(id), FirstName: "Customer", LastName: strconv.FormatInt(id, 10),
			CreatedAt: created, UpdatedAt: created, DefaultAddress: retailAddress(mostCommon(c.countries, "")),
			EmailMarketingState: marketing,
		})
		if err != nil {
			return err
		}
		b.stats.Customers++
	}
	if err := customers.flush(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}

	// Orders in invoice-number order, which is nearly time order and keeps
	// the simulator's id-sorted store appending.
	idx := make([]int, len(b.invoices))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(x, y int) int { return cmp.Compare(b.invoices[x].no, b.invoices[y].no) })
	orders := newBatcher(BatchSize, "orders", sink.AddOrders)
	for n, i := range idx {
		o := b.order(&b.invoices[i])
		b.stats.countOrder(&o)
		if err := orders.push(o); err != nil {
			return err
		}
		if n%BatchSize == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
	}
	return orders.flush()
}

func retailEmail(customer int64) string {
	return "customer-" + strconv.FormatInt(customer, 10) + "@example.com"
}

// handleFor makes a product handle unique by suffixing the stock code:
// several codes share a description.
func handleFor(title, code string) string {
	return simulatorHandle(title + " " + code)
}

func simulatorHandle(s string) string {
	out := make([]byte, 0, len(s))
	dash := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
			out = append(out, c)
			dash = false
		} else if !dash && len(out) > 0 {
			out = append(out, '-')
			dash = true
		}
	}
	if n := len(out); n > 0 && out[n-1] == '-' {
		out = out[:n-1]
	}
	return string(out)
}

// order converts an invoice. Its marketing fields (source name, journey,
// discount codes) are synthetic labels fixed by the invoice number: they
// do not change the amounts, which are the file's.
func (b *retailBuilder) order(inv *retailInvoice) simulator.Order {
	created := time.Unix(inv.at, 0).UTC()
	o := simulator.Order{
		ID: inv.no, Number: inv.no, CustomerID: inv.customer, CreatedAt: created, UpdatedAt: created,
		SourceName: "web", Total: inv.total, Refunds: inv.refunds,
	}
	if inv.customer != 0 {
		o.Email = retailEmail(inv.customer)
	}
	o.LineItems = make([]simulator.LineItem, 0, len(inv.lines))
	for j, l := range inv.lines {
		c := &b.codes[l.code]
		if l.kind == kindShipping {
			continue
		}
		o.Subtotal += l.price * simulator.Amount(l.qty)
		o.LineItems = append(o.LineItems, simulator.LineItem{
			ID: inv.no*10000 + int64(j), ProductID: c.id, VariantID: c.id, Title: c.title, SKU: c.code,
			Quantity: int(l.qty), UnitPrice: l.price,
		})
	}
	for _, r := range inv.refunds {
		if r.CreatedAt.After(o.UpdatedAt) {
			o.UpdatedAt = r.CreatedAt
		}
	}

	h := func(tag string) uint64 { return hashInt(tag, inv.no) }
	var ch channel
	switch {
	case inv.customer == 0:
		ch = pickChannel(unitFloat(h("guest-channel")))
	case inv.index == 1:
		ch = pickChannel(unitFloat(hashInt("channel", inv.customer)))
	default:
		ch = repeatChannel(unitFloat(h("repeat-channel")), pickChannel(unitFloat(hashInt("channel", inv.customer))))
	}
	days := int(h("days") % 3)
	if inv.index <= 1 {
		days = int(h("days") % 10)
	}
	o.Journey = journey(ch, max(inv.index, 1), days, created, 5+int(h("minutes")%55))
	if inv.customer != 0 && h("draft")%100 < 7 {
		// Wholesale customers ordering by phone: entered as draft orders.
		o.SourceName = "shopify_draft_order"
	}
	local := created.In(b.loc)
	switch {
	case local.Year() == 2011 && local.Month() >= time.November && h("xmas")%100 < 10:
		o.DiscountCodes = []string{"XMAS2011"}
	case inv.index == 1 && h("welcome")%100 < 15:
		o.DiscountCodes = []string{"WELCOME10"}
	case h("trade")%100 < 2:
		o.DiscountCodes = []string{"TRADE5"}
	}
	return o
}
