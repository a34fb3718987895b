package shopgen

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"hash"

	"github.com/cvo-app/cvo/internal/simulator"
)

type discardSink struct{}

func (discardSink) AddProducts([]simulator.Product) error   { return nil }
func (discardSink) AddCustomers([]simulator.Customer) error { return nil }
func (discardSink) AddOrders([]simulator.Order) error       { return nil }

// recordSink keeps everything it is given (the structs are copied; the
// producers never touch a record again once handed over).
type recordSink struct {
	products  []simulator.Product
	customers []simulator.Customer
	orders    []simulator.Order
	// calls records the kind of every call in order.
	calls []string
	// orphans counts orders handed over before their customer.
	orphans int
	known   map[int64]bool
}

func (r *recordSink) AddProducts(ps []simulator.Product) error {
	r.products = append(r.products, ps...)
	r.calls = append(r.calls, "products")
	return nil
}

func (r *recordSink) AddCustomers(cs []simulator.Customer) error {
	r.customers = append(r.customers, cs...)
	if r.known == nil {
		r.known = map[int64]bool{}
	}
	for _, c := range cs {
		r.known[c.ID] = true
	}
	r.calls = append(r.calls, "customers")
	return nil
}

func (r *recordSink) AddOrders(os []simulator.Order) error {
	r.orders = append(r.orders, os...)
	for _, o := range os {
		if o.CustomerID != 0 && !r.known[o.CustomerID] {
			r.orphans++
		}
	}
	r.calls = append(r.calls, "orders")
	return nil
}

func (r *recordSink) order(id int64) (simulator.Order, bool) {
	for _, o := range r.orders {
		if o.ID == id {
			return o, true
		}
	}
	return simulator.Order{}, false
}

func (r *recordSink) customer(id int64) (simulator.Customer, bool) {
	for _, c := range r.customers {
		if c.ID == id {
			return c, true
		}
	}
	return simulator.Customer{}, false
}

// hashSink digests everything it receives, in order, as JSON.
type hashSink struct{ h hash.Hash }

func newHashSink() *hashSink { return &hashSink{h: sha256.New()} }

func (s *hashSink) add(kind string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	fmt.Fprintf(s.h, "%s %d\n", kind, len(b))
	s.h.Write(b)
	return nil
}

func (s *hashSink) AddProducts(ps []simulator.Product) error   { return s.add("products", ps) }
func (s *hashSink) AddCustomers(cs []simulator.Customer) error { return s.add("customers", cs) }
func (s *hashSink) AddOrders(os []simulator.Order) error       { return s.add("orders", os) }
func (s *hashSink) sum() string                                { return fmt.Sprintf("%x", s.h.Sum(nil)) }

// failSink fails on the nth call.
type failSink struct {
	n     int
	calls int
}

func (f *failSink) call() error {
	f.calls++
	if f.calls >= f.n {
		return fmt.Errorf("sink full")
	}
	return nil
}

func (f *failSink) AddProducts([]simulator.Product) error   { return f.call() }
func (f *failSink) AddCustomers([]simulator.Customer) error { return f.call() }
func (f *failSink) AddOrders([]simulator.Order) error       { return f.call() }
