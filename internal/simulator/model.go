package simulator

import "time"

// Customer is a shop's customer as the simulator stores it. numberOfOrders
// and amountSpent are derived from the shop's orders, as on Shopify.
type Customer struct {
	ID        int64 // numeric part of gid://shopify/Customer/{ID}; 0 = assign one
	Email     string
	FirstName string
	LastName  string
	Phone     string
	Tags      []string
	CreatedAt time.Time
	UpdatedAt time.Time // zero = CreatedAt
	// DefaultAddress is nil when the customer has no address.
	DefaultAddress *Address
	// EmailMarketingState is a CustomerEmailAddressMarketingState value
	// (SUBSCRIBED, NOT_SUBSCRIBED, UNSUBSCRIBED, PENDING...); "" = NOT_SUBSCRIBED.
	EmailMarketingState string
	// RFMGroup and PredictedSpendTier feed Customer.statistics; "" = null.
	RFMGroup           string
	PredictedSpendTier string
}

// Address is a customer's default address, at the detail the app uses.
type Address struct {
	City        string
	Province    string
	Country     string // "United Kingdom"
	CountryCode string // ISO 3166-1 alpha-2, Shopify's countryCodeV2
	Zip         string
}

// Product is a product with its variants.
type Product struct {
	ID          int64 // 0 = assign one
	Title       string
	Handle      string // "" = derived from the title
	ProductType string
	Vendor      string
	Status      string // ACTIVE (default), ARCHIVED, DRAFT
	Tags        []string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	Variants    []Variant // at least one; a default variant is added when empty
}

// Variant is a product variant with its inventory item's unit cost.
type Variant struct {
	ID              int64 // 0 = assign one
	Title           string
	SKU             string
	Price           Amount
	InventoryItemID int64 // 0 = assign one
	// UnitCost is the inventory item's cost; nil when the merchant never
	// recorded one (Shopify returns unitCost: null then).
	UnitCost *Amount
}

// Order is an order in Shopify's shape, amounts in the shop's currency.
type Order struct {
	ID          int64 // 0 = assign one
	Number      int64 // name is "#{Number}"; 0 = next number (1001, 1002, ...)
	CustomerID  int64 // 0 = no customer
	Email       string
	CreatedAt   time.Time
	UpdatedAt   time.Time // zero = CreatedAt
	ProcessedAt time.Time // zero = CreatedAt
	CancelledAt time.Time // zero = not cancelled
	// CancelReason is an OrderCancelReason (CUSTOMER, FRAUD, INVENTORY,
	// DECLINED, STAFF, OTHER); only read when CancelledAt is set.
	CancelReason string
	Test         bool
	SourceName   string // "web", "pos", "shopify_draft_order", an app id...
	// PresentmentCurrency is the currency the customer paid in; "" = the
	// shop currency. PresentmentRate converts shop money to it (0 = 1).
	PresentmentCurrency string
	PresentmentRate     float64
	Subtotal            Amount // 0 = sum of line items
	Total               Amount // totalPriceSet.shopMoney
	DiscountCodes       []string
	Journey             *Journey // nil = customerJourneySummary null
	LineItems           []LineItem
	Refunds             []Refund
}

// Journey is an order's customerJourneySummary.
type Journey struct {
	CustomerOrderIndex int
	DaysToConversion   int
	FirstVisit         *Visit
	LastVisit          *Visit
}

// Visit is a storefront visit that led to an order.
type Visit struct {
	OccurredAt  time.Time
	LandingPage string
	ReferrerURL string
	Source      string // e.g. "google", "direct"
	UTMSource   string
	UTMMedium   string
	UTMCampaign string
	UTMContent  string
	UTMTerm     string
}

// LineItem is a product line on an order.
type LineItem struct {
	ID        int64 // 0 = assign one
	ProductID int64 // 0 = taken from the variant, or a custom line
	VariantID int64 // 0 = custom line item without a variant
	Title     string
	SKU       string
	Quantity  int
	UnitPrice Amount // originalUnitPriceSet.shopMoney
}

// Refund is money given back on an order.
type Refund struct {
	ID        int64 // 0 = assign one
	CreatedAt time.Time
	Amount    Amount
	Note      string
}

// Refunded is the sum of the order's refunds.
func (o Order) Refunded() Amount {
	var sum Amount
	for _, r := range o.Refunds {
		sum += r.Amount
	}
	return sum
}
