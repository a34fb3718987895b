package shopgen

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/cvo-app/cvo/internal/simulator"
)

// Sink receives a shop in batches: products first, then customers before
// the orders that reference them. A sink may fill in or change the records
// of a batch (the simulator assigns ids) but must not keep the slice after
// the call returns, so producers may reuse their buffers.
type Sink interface {
	AddProducts(ps []simulator.Product) error
	AddCustomers(cs []simulator.Customer) error
	AddOrders(os []simulator.Order) error
}

// ShopStore is the part of the simulator a shop is loaded into; the
// simulator's methods take the shop domain on every call.
type ShopStore interface {
	AddProducts(shop string, ps []simulator.Product) error
	AddCustomers(shop string, cs []simulator.Customer) error
	AddOrders(shop string, os []simulator.Order) error
}

// ForShop binds a ShopStore (such as *simulator.Simulator) to one shop.
// The shop must have been added to the store already.
func ForShop(store ShopStore, shop string) Sink { return shopSink{store: store, shop: shop} }

type shopSink struct {
	store ShopStore
	shop  string
}

func (s shopSink) AddProducts(ps []simulator.Product) error { return s.store.AddProducts(s.shop, ps) }
func (s shopSink) AddCustomers(cs []simulator.Customer) error {
	return s.store.AddCustomers(s.shop, cs)
}
func (s shopSink) AddOrders(os []simulator.Order) error { return s.store.AddOrders(s.shop, os) }

// ShopInfo is what a simulator needs to know about a shop before its data
// arrives (simulator.ShopOptions takes these).
type ShopInfo struct {
	Name     string `json:"name"`
	Currency string `json:"currency"`
	Timezone string `json:"timezone"`
}

// OnlineRetailShop describes the demo shop LoadOnlineRetail produces: a UK
// gift-ware retailer trading in pounds on London time.
var OnlineRetailShop = ShopInfo{Name: "CVO Demo Gift Shop", Currency: "GBP", Timezone: "Europe/London"}

// BatchSize is how many records go to the sink per call: large enough to
// amortise per-call work in the simulator, small enough to keep a
// producer's buffers a few megabytes.
const BatchSize = 10000

// Stats counts what a load or a generation produced.
type Stats struct {
	Rows      int // input rows read (Online Retail, snapshots)
	Products  int
	Customers int
	Orders    int
	// GuestOrders have no customer; they count in Orders too.
	GuestOrders int
	LineItems   int
	Refunds     int
	// FullyRefundedOrders have refunds covering their whole total.
	FullyRefundedOrders int
	CancelledOrders     int
	TestOrders          int
	// RefundedRows are Online Retail cancellation rows turned into refunds,
	// PartlyMatchedRows those only part of whose quantity was found on
	// earlier orders of the customer.
	RefundedRows      int
	PartlyMatchedRows int
	// Skipped counts input rows left out, by reason.
	Skipped map[string]int
	// Rockstars and Toxic are the generator's product ids whose first-time
	// buyers come back more, respectively less, often than others.
	Rockstars []int64
	Toxic     []int64
}

func (s *Stats) skip(reason string) {
	if s.Skipped == nil {
		s.Skipped = map[string]int{}
	}
	s.Skipped[reason]++
}

// SkippedRows is the total of Skipped.
func (s Stats) SkippedRows() int {
	n := 0
	for _, v := range s.Skipped {
		n += v
	}
	return n
}

// String summarises the stats on one line, skipped reasons in name order.
func (s Stats) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "products=%d customers=%d orders=%d guest_orders=%d line_items=%d refunds=%d fully_refunded=%d cancelled=%d test=%d",
		s.Products, s.Customers, s.Orders, s.GuestOrders, s.LineItems, s.Refunds, s.FullyRefundedOrders, s.CancelledOrders, s.TestOrders)
	if s.Rows > 0 {
		fmt.Fprintf(&b, " rows=%d refunded_rows=%d partly_matched_rows=%d", s.Rows, s.RefundedRows, s.PartlyMatchedRows)
	}
	for _, k := range slices.Sorted(maps.Keys(s.Skipped)) {
		fmt.Fprintf(&b, " skipped_%s=%d", k, s.Skipped[k])
	}
	return b.String()
}

// countOrder adds an order's contribution to the stats.
func (s *Stats) countOrder(o *simulator.Order) {
	s.Orders++
	if o.CustomerID == 0 {
		s.GuestOrders++
	}
	s.LineItems += len(o.LineItems)
	s.Refunds += len(o.Refunds)
	if o.Total > 0 && o.Refunded() >= o.Total {
		s.FullyRefundedOrders++
	}
	if !o.CancelledAt.IsZero() {
		s.CancelledOrders++
	}
	if o.Test {
		s.TestOrders++
	}
}

// batcher collects records and hands them to a sink BatchSize at a time.
type batcher[T any] struct {
	buf  []T
	size int
	add  func([]T) error
	what string
}

func newBatcher[T any](size int, what string, add func([]T) error) *batcher[T] {
	return &batcher[T]{buf: make([]T, 0, size), size: size, add: add, what: what}
}

func (b *batcher[T]) push(v T) error {
	b.buf = append(b.buf, v)
	if len(b.buf) >= b.size {
		return b.flush()
	}
	return nil
}

func (b *batcher[T]) flush() error {
	if len(b.buf) == 0 {
		return nil
	}
	if err := b.add(b.buf); err != nil {
		return fmt.Errorf("add %d %s: %w", len(b.buf), b.what, err)
	}
	clear(b.buf)
	b.buf = b.buf[:0]
	return nil
}

// Tee sends every batch to each sink in turn.
func Tee(sinks ...Sink) Sink { return teeSink(sinks) }

type teeSink []Sink

func (t teeSink) AddProducts(ps []simulator.Product) error {
	for _, s := range t {
		if err := s.AddProducts(ps); err != nil {
			return err
		}
	}
	return nil
}

func (t teeSink) AddCustomers(cs []simulator.Customer) error {
	for _, s := range t {
		if err := s.AddCustomers(cs); err != nil {
			return err
		}
	}
	return nil
}

func (t teeSink) AddOrders(os []simulator.Order) error {
	for _, s := range t {
		if err := s.AddOrders(os); err != nil {
			return err
		}
	}
	return nil
}
