package ingest

import (
	"fmt"
	"time"

	"github.com/cvo-app/cvo/internal/postgres"
)

// The bulk queries, one per resource. Each respects Shopify's bulk rules
// (one top-level field, at most five connections, nested at most two
// levels), which is why the catalogue is a query of its own rather than
// nested under line items. Refunds are a list field, not a connection, so
// they arrive inside their order's line. %s is the connection's arguments
// (a search query for a reconciliation, nothing for a full sync).
const (
	customersBulkQuery = `{
  customers%s {
    edges {
      node {
        id
        firstName
        lastName
        defaultEmailAddress { emailAddress }
        createdAt
        updatedAt
        defaultAddress { city country countryCodeV2 }
        statistics { rfmGroup predictedSpendTier }
      }
    }
  }
}`
	ordersBulkQuery = `{
  orders%s {
    edges {
      node {
        id
        name
        createdAt
        processedAt
        updatedAt
        cancelledAt
        test
        sourceName
        currencyCode
        discountCodes
        customer { id }
        totalPriceSet { shopMoney { amount currencyCode } }
        subtotalPriceSet { shopMoney { amount } }
        refunds { id createdAt totalRefundedSet { shopMoney { amount } } }
        customerJourneySummary {
          firstVisit { landingPage referrerUrl utmParameters { source medium campaign } }
        }
        lineItems {
          edges {
            node {
              id
              title
              quantity
              originalUnitPriceSet { shopMoney { amount } }
              product { id }
              variant { id }
            }
          }
        }
      }
    }
  }
}`
	productsBulkQuery = `{
  products%s {
    edges {
      node {
        id
        title
        productType
        vendor
        createdAt
        updatedAt
        variants {
          edges {
            node {
              id
              title
              sku
              price
              inventoryItem { unitCost { amount } }
            }
          }
        }
      }
    }
  }
}`
)

// bulkQuery returns the bulk query for a resource; a non-zero since limits
// it to records updated after that time.
func bulkQuery(r postgres.Resource, since time.Time) string {
	args := ""
	if !since.IsZero() {
		args = fmt.Sprintf(`(query: "updated_at:>'%s'")`, since.UTC().Format(time.RFC3339))
	}
	switch r {
	case postgres.ResourceCustomers:
		return fmt.Sprintf(customersBulkQuery, args)
	case postgres.ResourceOrders:
		return fmt.Sprintf(ordersBulkQuery, args)
	default:
		return fmt.Sprintf(productsBulkQuery, "")
	}
}

// bulkFields are the fields any line of our bulk files may carry, as raw
// bytes of the line (no copies); which ones are set depends on the object,
// told by its GID once the whole line is read (JSON does not order keys).
type bulkFields struct {
	id, parentID                          []byte
	firstName, lastName, email            []byte
	city, country, countryCode            []byte
	rfmGroup, spendTier                   []byte
	createdAt, updatedAt, title           []byte
	name, processedAt, cancelledAt        []byte
	test                                  bool
	sourceName, currencyCode              []byte
	discountCodes                         [][]byte
	customerID                            []byte
	total, totalCurrency, subtotal        []byte
	refunds                               []refundFields
	landingPage, referrerURL              []byte
	utmSource, utmMedium, utmCampaign     []byte
	quantity                              int64
	unitPrice, productID, variantID       []byte
	productType, vendor, sku, price, cost []byte
	hasTotal, hasUnitPrice                bool
}

type refundFields struct {
	id, createdAt, amount []byte
	hasAmount             bool
}

func (f *bulkFields) reset() {
	codes, refunds := f.discountCodes[:0], f.refunds[:0]
	*f = bulkFields{discountCodes: codes, refunds: refunds}
}

// rowBuf holds the rows one bulk line turns into (an order and its
// refunds), reused from line to line.
type rowBuf struct {
	rows     []postgres.StageRow
	customer postgres.CustomerRow
	order    postgres.OrderRow
	line     postgres.LineRow
	refunds  []postgres.RefundRow
	product  postgres.ProductRow
	variant  postgres.VariantRow
	f        bulkFields
	r        jsonReader
}

// parseBulkLine turns one JSONL line of a resource's bulk file into staged
// rows. Lines of object types the resource does not expect are errors: a
// changed query and a stale parser must not silently drop data.
func parseBulkLine(r postgres.Resource, line []byte, b *rowBuf) error {
	b.rows = b.rows[:0]
	b.f.reset()
	b.r = jsonReader{b: line}
	if b.r.peek() != '{' {
		return fmt.Errorf("not a JSON object: %w", b.r.fail("an object"))
	}
	if err := b.r.object(b.field); err != nil {
		return fmt.Errorf("not a JSON object: %w", err)
	}
	if err := b.r.end(); err != nil {
		return fmt.Errorf("not a JSON object: %w", err)
	}
	d := &b.f
	kind := gidKind(string(d.id))
	switch {
	case r == postgres.ResourceCustomers && kind == "Customer":
		return b.parseCustomer(d)
	case r == postgres.ResourceOrders && kind == "Order":
		return b.parseOrder(d)
	case r == postgres.ResourceOrders && kind == "LineItem":
		return b.parseLineItem(d)
	case r == postgres.ResourceProducts && kind == "Product":
		return b.parseProduct(d)
	case r == postgres.ResourceProducts && kind == "ProductVariant":
		return b.parseVariant(d)
	case d.id == nil:
		return fmt.Errorf("object without id")
	default:
		return fmt.Errorf("unexpected object %q in the %s export", d.id, r)
	}
}

// field reads one top-level member of a line: the members every object
// type has, then (through the chain below) those of orders, of line items,
// products and variants, and of customers; anything else is skipped.
func (b *rowBuf) field(key []byte) error {
	r, d := &b.r, &b.f
	var err error
	switch string(key) {
	case "id":
		d.id, err = r.strBytes()
	case "__parentId":
		d.parentID, err = r.strBytes()
	case "createdAt":
		d.createdAt, err = r.strBytes()
	case "updatedAt":
		d.updatedAt, err = r.strBytes()
	case "title":
		d.title, err = r.strBytes()
	case "name":
		d.name, err = r.strBytes()
	default:
		return b.orderField(key)
	}
	return err
}

// orderField reads a member of an order.
func (b *rowBuf) orderField(key []byte) error {
	r, d := &b.r, &b.f
	var err error
	switch string(key) {
	case "processedAt":
		d.processedAt, err = r.strBytes()
	case "cancelledAt":
		d.cancelledAt, err = r.strBytes()
	case "test":
		d.test, err = r.boolean()
	case "sourceName":
		d.sourceName, err = r.strBytes()
	case "currencyCode":
		d.currencyCode, err = r.strBytes()
	case "discountCodes":
		err = b.discountCodes()
	case "customer":
		err = r.objectOrNull(func(k []byte) error { return b.member(k, "id", &d.customerID) })
	case "totalPriceSet":
		err = b.money(&d.total, &d.totalCurrency, &d.hasTotal)
	case "subtotalPriceSet":
		err = b.money(&d.subtotal, nil, nil)
	case "refunds":
		err = b.refundList()
	case "customerJourneySummary":
		err = r.objectOrNull(func(k []byte) error {
			if string(k) != "firstVisit" {
				return r.skip()
			}
			return r.objectOrNull(b.firstVisit)
		})
	default:
		return b.itemField(key)
	}
	return err
}

// itemField reads a member of a line item, a product or a variant.
func (b *rowBuf) itemField(key []byte) error {
	r, d := &b.r, &b.f
	var err error
	switch string(key) {
	case "originalUnitPriceSet":
		err = b.money(&d.unitPrice, nil, &d.hasUnitPrice)
	case "quantity":
		d.quantity, err = r.integer()
	case "product":
		err = r.objectOrNull(func(k []byte) error { return b.member(k, "id", &d.productID) })
	case "variant":
		err = r.objectOrNull(func(k []byte) error { return b.member(k, "id", &d.variantID) })
	case "productType":
		d.productType, err = r.strBytes()
	case "vendor":
		d.vendor, err = r.strBytes()
	case "sku":
		d.sku, err = r.strBytes()
	case "price":
		d.price, err = r.strBytes()
	case "inventoryItem":
		err = r.objectOrNull(func(k []byte) error {
			if string(k) != "unitCost" {
				return r.skip()
			}
			return r.objectOrNull(func(k []byte) error { return b.member(k, "amount", &d.cost) })
		})
	default:
		return b.customerField(key)
	}
	return err
}

// customerField reads a member of a customer.
func (b *rowBuf) customerField(key []byte) error {
	r, d := &b.r, &b.f
	var err error
	switch string(key) {
	case "firstName":
		d.firstName, err = r.strBytes()
	case "lastName":
		d.lastName, err = r.strBytes()
	case "defaultEmailAddress":
		err = r.objectOrNull(func(k []byte) error { return b.member(k, "emailAddress", &d.email) })
	case "defaultAddress":
		err = r.objectOrNull(b.address)
	case "statistics":
		err = r.objectOrNull(func(k []byte) error {
			switch string(k) {
			case "rfmGroup":
				d.rfmGroup, err = r.strBytes()
				return err
			case "predictedSpendTier":
				d.spendTier, err = r.strBytes()
				return err
			}
			return r.skip()
		})
	default:
		return r.skip()
	}
	return err
}

// shopifyEnum keeps a value shaped like a GraphQL enum (upper-case letters
// and underscores, at most 64) and drops anything else: the value is shown
// on the page and counted, so it must be one of a small set of names.
func shopifyEnum(v []byte) string {
	if len(v) == 0 || len(v) > 64 {
		return ""
	}
	for _, c := range v {
		if (c < 'A' || c > 'Z') && c != '_' {
			return ""
		}
	}
	return string(v)
}

// address reads a customer's defaultAddress member.
func (b *rowBuf) address(k []byte) error {
	r, d := &b.r, &b.f
	var err error
	switch string(k) {
	case "city":
		d.city, err = r.strBytes()
	case "country":
		d.country, err = r.strBytes()
	case "countryCodeV2":
		d.countryCode, err = r.strBytes()
	default:
		return r.skip()
	}
	return err
}

// discountCodes reads an order's discount codes (null or an array).
func (b *rowBuf) discountCodes() error {
	r, d := &b.r, &b.f
	if isNull, err := r.null(); isNull || err != nil {
		return err
	}
	return r.array(func() error {
		c, err := r.strBytes()
		if c != nil {
			d.discountCodes = append(d.discountCodes, c)
		}
		return err
	})
}

// refundList reads an order's refunds (null or an array).
func (b *rowBuf) refundList() error {
	r, d := &b.r, &b.f
	if isNull, err := r.null(); isNull || err != nil {
		return err
	}
	return r.array(func() error {
		var f refundFields
		err := r.object(func(k []byte) error {
			var err error
			switch string(k) {
			case "id":
				f.id, err = r.strBytes()
			case "createdAt":
				f.createdAt, err = r.strBytes()
			case "totalRefundedSet":
				err = b.money(&f.amount, nil, &f.hasAmount)
			default:
				return r.skip()
			}
			return err
		})
		d.refunds = append(d.refunds, f)
		return err
	})
}

// firstVisit reads a member of an order's customerJourneySummary.firstVisit.
func (b *rowBuf) firstVisit(k []byte) error {
	r, d := &b.r, &b.f
	var err error
	switch string(k) {
	case "landingPage":
		d.landingPage, err = r.strBytes()
	case "referrerUrl":
		d.referrerURL, err = r.strBytes()
	case "utmParameters":
		err = r.objectOrNull(func(k []byte) error {
			var err error
			switch string(k) {
			case "source":
				d.utmSource, err = r.strBytes()
			case "medium":
				d.utmMedium, err = r.strBytes()
			case "campaign":
				d.utmCampaign, err = r.strBytes()
			default:
				return r.skip()
			}
			return err
		})
	default:
		return r.skip()
	}
	return err
}

// member reads the member named want into dst and skips the others.
func (b *rowBuf) member(key []byte, want string, dst *[]byte) error {
	if string(key) != want {
		return b.r.skip()
	}
	v, err := b.r.strBytes()
	*dst = v
	return err
}

// money reads a MoneyBag's shopMoney (never presentmentMoney).
func (b *rowBuf) money(amount, currency *[]byte, present *bool) error {
	r := &b.r
	return r.objectOrNull(func(k []byte) error {
		if string(k) != "shopMoney" {
			return r.skip()
		}
		return r.objectOrNull(func(k []byte) error {
			switch string(k) {
			case "amount":
				v, err := r.strBytes()
				*amount = v
				if present != nil && v != nil {
					*present = true
				}
				return err
			case "currencyCode":
				if currency == nil {
					return r.skip()
				}
				v, err := r.strBytes()
				*currency = v
				return err
			default:
				return r.skip()
			}
		})
	})
}

func bstr(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return string(b)
}

func gidOf(b []byte, kind string) (int64, error) { return parseGID(string(b), kind) }

func optionalGIDOf(b []byte, kind string) (int64, error) {
	if b == nil {
		return 0, nil
	}
	return parseGID(string(b), kind)
}

func timeOf(field string, b []byte) (time.Time, error) { return parseTimeBytes(field, b) }

func optionalTimeOf(field string, b []byte) (time.Time, error) {
	if b == nil {
		return time.Time{}, nil
	}
	return parseTimeBytes(field, b)
}

func (b *rowBuf) parseCustomer(d *bulkFields) error {
	c := &b.customer
	*c = postgres.CustomerRow{FirstName: bstr(d.firstName), LastName: bstr(d.lastName), Email: bstr(d.email),
		City: bstr(d.city), Country: bstr(d.country), CountryCode: bstr(d.countryCode),
		ShopifyRFMGroup: shopifyEnum(d.rfmGroup), ShopifyPredictedSpendTier: shopifyEnum(d.spendTier)}
	var err error
	if c.ID, err = gidOf(d.id, "Customer"); err != nil {
		return err
	}
	if c.CreatedAt, err = optionalTimeOf("createdAt", d.createdAt); err != nil {
		return err
	}
	if c.UpdatedAt, err = timeOf("updatedAt", d.updatedAt); err != nil {
		return err
	}
	b.rows = append(b.rows, postgres.StageRow{Customer: c})
	return nil
}

func (b *rowBuf) parseOrder(d *bulkFields) error {
	o := &b.order
	*o = postgres.OrderRow{Name: bstr(d.name), Test: d.test, SourceName: bstr(d.sourceName), Currency: bstr(d.currencyCode),
		LandingPage: bstr(d.landingPage), ReferrerURL: bstr(d.referrerURL),
		UTMSource: bstr(d.utmSource), UTMMedium: bstr(d.utmMedium), UTMCampaign: bstr(d.utmCampaign),
		DiscountCodes: make([]string, len(d.discountCodes))}
	for i, c := range d.discountCodes {
		o.DiscountCodes[i] = string(c)
	}
	var err error
	if o.ID, err = gidOf(d.id, "Order"); err != nil {
		return err
	}
	if o.CustomerID, err = optionalGIDOf(d.customerID, "Customer"); err != nil {
		return err
	}
	if o.CreatedAt, err = timeOf("createdAt", d.createdAt); err != nil {
		return err
	}
	if o.UpdatedAt, err = timeOf("updatedAt", d.updatedAt); err != nil {
		return err
	}
	if o.ProcessedAt, err = optionalTimeOf("processedAt", d.processedAt); err != nil {
		return err
	}
	if o.CancelledAt, err = optionalTimeOf("cancelledAt", d.cancelledAt); err != nil {
		return err
	}
	if !d.hasTotal {
		return fmt.Errorf("order %s has no totalPriceSet", d.id)
	}
	o.Total = string(d.total)
	if err := checkDecimal("totalPriceSet", o.Total); err != nil {
		return err
	}
	if o.Currency == "" {
		o.Currency = bstr(d.totalCurrency)
	}
	o.Subtotal = bstr(d.subtotal)
	if err := optionalDecimal("subtotalPriceSet", o.Subtotal); err != nil {
		return err
	}
	b.rows = append(b.rows, postgres.StageRow{Order: o})
	b.refunds = b.refunds[:0]
	for _, r := range d.refunds {
		f := postgres.RefundRow{OrderID: o.ID}
		if f.ID, err = gidOf(r.id, "Refund"); err != nil {
			return err
		}
		if f.CreatedAt, err = timeOf("refund createdAt", r.createdAt); err != nil {
			return err
		}
		if !r.hasAmount {
			return fmt.Errorf("refund %s has no totalRefundedSet", r.id)
		}
		f.Amount = string(r.amount)
		if err := checkDecimal("refund totalRefundedSet", f.Amount); err != nil {
			return err
		}
		b.refunds = append(b.refunds, f)
	}
	for i := range b.refunds {
		b.rows = append(b.rows, postgres.StageRow{Refund: &b.refunds[i]})
	}
	return nil
}

func (b *rowBuf) parseLineItem(d *bulkFields) error {
	if d.quantity < -1<<31 || d.quantity > 1<<31-1 {
		return fmt.Errorf("line item %s: quantity %d out of range", d.id, d.quantity)
	}
	l := &b.line
	*l = postgres.LineRow{Title: bstr(d.title), Quantity: int32(d.quantity)}
	var err error
	if l.ID, err = gidOf(d.id, "LineItem"); err != nil {
		return err
	}
	if l.OrderID, err = gidOf(d.parentID, "Order"); err != nil {
		return fmt.Errorf("line item %s: __parentId: %w", d.id, err)
	}
	if l.ProductID, err = optionalGIDOf(d.productID, "Product"); err != nil {
		return err
	}
	if l.VariantID, err = optionalGIDOf(d.variantID, "ProductVariant"); err != nil {
		return err
	}
	if !d.hasUnitPrice {
		return fmt.Errorf("line item %s has no originalUnitPriceSet", d.id)
	}
	l.UnitPrice = string(d.unitPrice)
	if err := checkDecimal("originalUnitPriceSet", l.UnitPrice); err != nil {
		return err
	}
	b.rows = append(b.rows, postgres.StageRow{Line: l})
	return nil
}

func (b *rowBuf) parseProduct(d *bulkFields) error {
	p := &b.product
	*p = postgres.ProductRow{Title: bstr(d.title), ProductType: bstr(d.productType), Vendor: bstr(d.vendor)}
	var err error
	if p.ID, err = gidOf(d.id, "Product"); err != nil {
		return err
	}
	if p.CreatedAt, err = optionalTimeOf("createdAt", d.createdAt); err != nil {
		return err
	}
	if p.UpdatedAt, err = timeOf("updatedAt", d.updatedAt); err != nil {
		return err
	}
	b.rows = append(b.rows, postgres.StageRow{Product: p})
	return nil
}

func (b *rowBuf) parseVariant(d *bulkFields) error {
	v := &b.variant
	*v = postgres.VariantRow{Title: bstr(d.title), SKU: bstr(d.sku), Price: bstr(d.price), UnitCost: bstr(d.cost)}
	var err error
	if v.ID, err = gidOf(d.id, "ProductVariant"); err != nil {
		return err
	}
	if v.ProductID, err = gidOf(d.parentID, "Product"); err != nil {
		return fmt.Errorf("variant %s: __parentId: %w", d.id, err)
	}
	if err := optionalDecimal("price", v.Price); err != nil {
		return err
	}
	if d.cost != nil {
		if err := checkDecimal("unitCost", v.UnitCost); err != nil {
			return err
		}
	}
	b.rows = append(b.rows, postgres.StageRow{Variant: v})
	return nil
}
