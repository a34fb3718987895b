package ingest

import (
	"encoding/json"
	"fmt"
	"strings"
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

type idRef struct {
	ID string `json:"id"`
}

type shopMoney struct {
	ShopMoney struct {
		Amount       string `json:"amount"`
		CurrencyCode string `json:"currencyCode"`
	} `json:"shopMoney"`
}

// bulkLine is the union of the fields any line of our bulk files carries;
// which ones are set depends on the object (told by its GID).
type bulkLine struct {
	ID       string `json:"id"`
	ParentID string `json:"__parentId"`

	// Customer
	FirstName           string `json:"firstName"`
	LastName            string `json:"lastName"`
	DefaultEmailAddress *struct {
		EmailAddress string `json:"emailAddress"`
	} `json:"defaultEmailAddress"`
	DefaultAddress *struct {
		City          string `json:"city"`
		Country       string `json:"country"`
		CountryCodeV2 string `json:"countryCodeV2"`
	} `json:"defaultAddress"`

	// Shared
	CreatedAt string `json:"createdAt"`
	UpdatedAt string `json:"updatedAt"`
	Title     string `json:"title"`

	// Order
	Name             string     `json:"name"`
	ProcessedAt      string     `json:"processedAt"`
	CancelledAt      string     `json:"cancelledAt"`
	Test             bool       `json:"test"`
	SourceName       string     `json:"sourceName"`
	CurrencyCode     string     `json:"currencyCode"`
	DiscountCodes    []string   `json:"discountCodes"`
	Customer         *idRef     `json:"customer"`
	TotalPriceSet    *shopMoney `json:"totalPriceSet"`
	SubtotalPriceSet *shopMoney `json:"subtotalPriceSet"`
	Refunds          []struct {
		ID               string     `json:"id"`
		CreatedAt        string     `json:"createdAt"`
		TotalRefundedSet *shopMoney `json:"totalRefundedSet"`
	} `json:"refunds"`
	CustomerJourneySummary *struct {
		FirstVisit *struct {
			LandingPage   string `json:"landingPage"`
			ReferrerURL   string `json:"referrerUrl"`
			UTMParameters *struct {
				Source   string `json:"source"`
				Medium   string `json:"medium"`
				Campaign string `json:"campaign"`
			} `json:"utmParameters"`
		} `json:"firstVisit"`
	} `json:"customerJourneySummary"`

	// Line item
	Quantity             int32      `json:"quantity"`
	OriginalUnitPriceSet *shopMoney `json:"originalUnitPriceSet"`
	Product              *idRef     `json:"product"`
	Variant              *idRef     `json:"variant"`

	// Product and variant
	ProductType   string `json:"productType"`
	Vendor        string `json:"vendor"`
	SKU           string `json:"sku"`
	Price         string `json:"price"`
	InventoryItem *struct {
		UnitCost *struct {
			Amount string `json:"amount"`
		} `json:"unitCost"`
	} `json:"inventoryItem"`
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
	decoded  bulkLine
}

// parseBulkLine turns one JSONL line of a resource's bulk file into staged
// rows. Lines of object types the resource does not expect are errors: a
// changed query and a stale parser must not silently drop data.
func parseBulkLine(r postgres.Resource, line []byte, b *rowBuf) error {
	b.rows = b.rows[:0]
	b.decoded = bulkLine{}
	d := &b.decoded
	if err := json.Unmarshal(line, d); err != nil {
		return fmt.Errorf("not a JSON object: %w", err)
	}
	kind := gidKind(d.ID)
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
	case d.ID == "":
		return fmt.Errorf("object without id")
	default:
		return fmt.Errorf("unexpected object %q in the %s export", d.ID, r)
	}
}

func (b *rowBuf) parseCustomer(d *bulkLine) error {
	c := &b.customer
	*c = postgres.CustomerRow{FirstName: d.FirstName, LastName: d.LastName}
	var err error
	if c.ID, err = parseGID(d.ID, "Customer"); err != nil {
		return err
	}
	if d.DefaultEmailAddress != nil {
		c.Email = d.DefaultEmailAddress.EmailAddress
	}
	if a := d.DefaultAddress; a != nil {
		c.City, c.Country, c.CountryCode = a.City, a.Country, a.CountryCodeV2
	}
	if c.CreatedAt, err = optionalTime("createdAt", d.CreatedAt); err != nil {
		return err
	}
	if c.UpdatedAt, err = parseTime("updatedAt", d.UpdatedAt); err != nil {
		return err
	}
	b.rows = append(b.rows, postgres.StageRow{Customer: c})
	return nil
}

func (b *rowBuf) parseOrder(d *bulkLine) error {
	o := &b.order
	*o = postgres.OrderRow{Name: d.Name, Test: d.Test, SourceName: d.SourceName, Currency: d.CurrencyCode, DiscountCodes: d.DiscountCodes}
	if o.DiscountCodes == nil {
		o.DiscountCodes = []string{}
	}
	var err error
	if o.ID, err = parseGID(d.ID, "Order"); err != nil {
		return err
	}
	if d.Customer != nil {
		if o.CustomerID, err = optionalGID(d.Customer.ID, "Customer"); err != nil {
			return err
		}
	}
	if o.CreatedAt, err = parseTime("createdAt", d.CreatedAt); err != nil {
		return err
	}
	if o.UpdatedAt, err = parseTime("updatedAt", d.UpdatedAt); err != nil {
		return err
	}
	if o.ProcessedAt, err = optionalTime("processedAt", d.ProcessedAt); err != nil {
		return err
	}
	if o.CancelledAt, err = optionalTime("cancelledAt", d.CancelledAt); err != nil {
		return err
	}
	if d.TotalPriceSet == nil {
		return fmt.Errorf("order %s has no totalPriceSet", d.ID)
	}
	o.Total = d.TotalPriceSet.ShopMoney.Amount
	if err := checkDecimal("totalPriceSet", o.Total); err != nil {
		return err
	}
	if o.Currency == "" {
		o.Currency = d.TotalPriceSet.ShopMoney.CurrencyCode
	}
	if d.SubtotalPriceSet != nil {
		o.Subtotal = d.SubtotalPriceSet.ShopMoney.Amount
		if err := optionalDecimal("subtotalPriceSet", o.Subtotal); err != nil {
			return err
		}
	}
	if j := d.CustomerJourneySummary; j != nil && j.FirstVisit != nil {
		v := j.FirstVisit
		o.LandingPage, o.ReferrerURL = v.LandingPage, v.ReferrerURL
		if u := v.UTMParameters; u != nil {
			o.UTMSource, o.UTMMedium, o.UTMCampaign = u.Source, u.Medium, u.Campaign
		}
	}
	b.rows = append(b.rows, postgres.StageRow{Order: o})
	b.refunds = b.refunds[:0]
	for _, r := range d.Refunds {
		f := postgres.RefundRow{OrderID: o.ID}
		if f.ID, err = parseGID(r.ID, "Refund"); err != nil {
			return err
		}
		if f.CreatedAt, err = parseTime("refund createdAt", r.CreatedAt); err != nil {
			return err
		}
		if r.TotalRefundedSet == nil {
			return fmt.Errorf("refund %s has no totalRefundedSet", r.ID)
		}
		f.Amount = r.TotalRefundedSet.ShopMoney.Amount
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

func (b *rowBuf) parseLineItem(d *bulkLine) error {
	l := &b.line
	*l = postgres.LineRow{Title: d.Title, Quantity: d.Quantity}
	var err error
	if l.ID, err = parseGID(d.ID, "LineItem"); err != nil {
		return err
	}
	if l.OrderID, err = parseGID(d.ParentID, "Order"); err != nil {
		return fmt.Errorf("line item %s: __parentId: %w", d.ID, err)
	}
	if d.Product != nil {
		if l.ProductID, err = optionalGID(d.Product.ID, "Product"); err != nil {
			return err
		}
	}
	if d.Variant != nil {
		if l.VariantID, err = optionalGID(d.Variant.ID, "ProductVariant"); err != nil {
			return err
		}
	}
	if d.OriginalUnitPriceSet == nil {
		return fmt.Errorf("line item %s has no originalUnitPriceSet", d.ID)
	}
	l.UnitPrice = d.OriginalUnitPriceSet.ShopMoney.Amount
	if err := checkDecimal("originalUnitPriceSet", l.UnitPrice); err != nil {
		return err
	}
	b.rows = append(b.rows, postgres.StageRow{Line: l})
	return nil
}

func (b *rowBuf) parseProduct(d *bulkLine) error {
	p := &b.product
	*p = postgres.ProductRow{Title: d.Title, ProductType: d.ProductType, Vendor: d.Vendor}
	var err error
	if p.ID, err = parseGID(d.ID, "Product"); err != nil {
		return err
	}
	if p.CreatedAt, err = optionalTime("createdAt", d.CreatedAt); err != nil {
		return err
	}
	if p.UpdatedAt, err = parseTime("updatedAt", d.UpdatedAt); err != nil {
		return err
	}
	b.rows = append(b.rows, postgres.StageRow{Product: p})
	return nil
}

func (b *rowBuf) parseVariant(d *bulkLine) error {
	v := &b.variant
	*v = postgres.VariantRow{Title: d.Title, SKU: d.SKU, Price: strings.TrimSpace(d.Price)}
	var err error
	if v.ID, err = parseGID(d.ID, "ProductVariant"); err != nil {
		return err
	}
	if v.ProductID, err = parseGID(d.ParentID, "Product"); err != nil {
		return fmt.Errorf("variant %s: __parentId: %w", d.ID, err)
	}
	if err := optionalDecimal("price", v.Price); err != nil {
		return err
	}
	if i := d.InventoryItem; i != nil && i.UnitCost != nil {
		v.UnitCost = i.UnitCost.Amount
		if err := checkDecimal("unitCost", v.UnitCost); err != nil {
			return err
		}
	}
	b.rows = append(b.rows, postgres.StageRow{Variant: v})
	return nil
}
