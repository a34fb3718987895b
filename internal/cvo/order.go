package cvo

import "time"

// Order is one order of a shop, with amounts in the shop's currency
// (Shopify's shopMoney, never presentment money).
type Order struct {
	ID         string // Shopify GID or an external identifier
	CustomerID string // empty when the order has no customer
	CreatedAt  time.Time
	UpdatedAt  time.Time
	// Total is what the customer paid for the order before refunds
	// (Shopify's totalPriceSet.shopMoney).
	Total     float64
	Currency  string
	Cancelled bool
	Test      bool
	Refunds   []Refund
	Lines     []LineItem

	SourceName    string
	LandingPage   string
	Referrer      string
	UTMSource     string
	UTMMedium     string
	UTMCampaign   string
	DiscountCodes []string
}

// Refund is money given back on an order.
type Refund struct {
	CreatedAt time.Time
	Amount    float64
}

// LineItem is one product line of an order.
type LineItem struct {
	ProductID   string
	VariantID   string
	Title       string
	Vendor      string
	ProductType string
	Quantity    int
	UnitPrice   float64
	// UnitCost is the variant's inventory unit cost; CostKnown says whether
	// the shop recorded one, since a zero cost and an unknown cost differ.
	UnitCost  float64
	CostKnown bool
}

// Customer is a shop's customer, without personal data beyond what the
// reports need (location at country and city level).
type Customer struct {
	ID        string
	CreatedAt time.Time
	Country   string
	City      string
	// ShopifyRFMGroup and ShopifySpendTier are Shopify's own
	// Customer.statistics.rfmGroup and predictedSpendTier (empty when
	// unknown), compared with the app's groups, never used to score.
	ShopifyRFMGroup  string
	ShopifySpendTier string
}
