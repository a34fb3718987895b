package shopgen

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/cvo-app/cvo/internal/simulator"
)

// OrderCSVHeader are the columns OrderCSVWriter writes: the four that
// `cvo score` reads, then what a reader needs to filter to purchases
// (cancelled, test, refunded) and the order's source name and UTM source.
var OrderCSVHeader = []string{
	"customer_id", "order_id", "created_at", "total", "refunded", "cancelled", "test", "source_name", "utm_source",
}

// OrderCSVWriter is a Sink that writes every order with a customer as one
// CSV row, cancelled, test and refunded ones included, so that readers
// apply the inclusion rules themselves. Products, customers and guest
// orders are dropped. Amounts are decimals in the shop currency,
// created_at is RFC 3339 in UTC. Call Flush at the end.
type OrderCSVWriter struct {
	// PurchasesOnly leaves out the orders that are no purchase for
	// customer scores (test, cancelled, fully refunded), for readers such
	// as `cvo score` that take every row.
	PurchasesOnly bool

	w   *bufio.Writer
	buf []byte
	err error
}

// NewOrderCSVWriter writes the header to w.
func NewOrderCSVWriter(w io.Writer) *OrderCSVWriter {
	c := &OrderCSVWriter{w: bufio.NewWriterSize(w, 1<<16)}
	for i, h := range OrderCSVHeader {
		if i > 0 {
			c.buf = append(c.buf, ',')
		}
		c.buf = append(c.buf, h...)
	}
	c.buf = append(c.buf, '\n')
	_, c.err = c.w.Write(c.buf)
	return c
}

// AddProducts writes nothing: an orders CSV has no product rows.
func (c *OrderCSVWriter) AddProducts([]simulator.Product) error { return c.err }

// AddCustomers writes nothing: an orders CSV has no customer rows.
func (c *OrderCSVWriter) AddCustomers([]simulator.Customer) error { return c.err }

// AddOrders writes the orders that have a customer. No field can hold a
// comma or a quote (ids, numbers, timestamps, source names from a fixed
// set), so rows are built without a CSV encoder; sourceField guards that.
func (c *OrderCSVWriter) AddOrders(os []simulator.Order) error {
	for i := range os {
		if c.err != nil {
			return c.err
		}
		o := &os[i]
		if o.CustomerID == 0 || c.PurchasesOnly && !isPurchase(o) {
			continue
		}
		b := c.buf[:0]
		b = strconv.AppendInt(b, o.CustomerID, 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, o.ID, 10)
		b = append(b, ',')
		b = o.CreatedAt.UTC().AppendFormat(b, time.RFC3339)
		b = append(b, ',')
		b = append(b, o.Total.String()...)
		b = append(b, ',')
		b = append(b, o.Refunded().String()...)
		b = append(b, ',')
		b = strconv.AppendBool(b, !o.CancelledAt.IsZero())
		b = append(b, ',')
		b = strconv.AppendBool(b, o.Test)
		b = append(b, ',')
		b = append(b, sourceField(o.SourceName)...)
		b = append(b, ',')
		if o.Journey != nil && o.Journey.FirstVisit != nil {
			b = append(b, sourceField(o.Journey.FirstVisit.UTMSource)...)
		}
		b = append(b, '\n')
		c.buf = b
		if _, err := c.w.Write(b); err != nil {
			c.err = fmt.Errorf("write orders csv: %w", err)
		}
	}
	return c.err
}

// isPurchase mirrors cvo.Order.IsPurchase for a customer's order.
func isPurchase(o *simulator.Order) bool {
	return !o.Test && o.CancelledAt.IsZero() && (o.Total <= 0 || o.Refunded() < o.Total)
}

// sourceField drops characters that would need CSV quoting.
func sourceField(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r' {
			out := make([]byte, 0, len(s))
			for j := 0; j < len(s); j++ {
				if c := s[j]; c != ',' && c != '"' && c != '\n' && c != '\r' {
					out = append(out, c)
				}
			}
			return string(out)
		}
	}
	return s
}

// Flush writes buffered rows out.
func (c *OrderCSVWriter) Flush() error {
	if c.err != nil {
		return c.err
	}
	if err := c.w.Flush(); err != nil {
		return fmt.Errorf("write orders csv: %w", err)
	}
	return nil
}
