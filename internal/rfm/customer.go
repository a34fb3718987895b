package rfm

import (
	"math"
	"time"

	"github.com/cvo-app/cvo/internal/cvo"
)

// Customer is what scoring needs to know about one customer's purchases
// as of a date. Only orders that cvo.Order.IsPurchase accepts count.
//
// It is 48 bytes, its times Unix seconds: a big shop's reports and its
// backtest each hold one for every customer at once (88 bytes with
// time.Time and int counts).
type Customer struct {
	ID string
	// FirstPurchase and LastPurchase are the Unix seconds of the first
	// and the last purchase.
	FirstPurchase, LastPurchase int64
	// Revenue is the net value of the purchases (cvo.Order.NetValueAsOf).
	Revenue   float64
	Purchases int32
	// DiscountedPurchases counts purchases that used a discount code; the
	// Break-Up rule reads it as promotion hunting.
	DiscountedPurchases int32
}

// AvgOrderValue is the monetary input of the M score, rounded to cents so
// that customers who paid the same price tie exactly.
func (c Customer) AvgOrderValue() float64 {
	if c.Purchases == 0 {
		return 0
	}
	return roundCents(c.Revenue / float64(c.Purchases))
}

// Summarize folds orders into one Customer per customer who made at least
// one purchase created at or before asOf, in order of first appearance in
// orders. Callers that already hold an indexed order history (the reports
// package) build Customers themselves and skip this pass.
func Summarize(orders []cvo.Order, asOf time.Time, dating cvo.RefundDating) []Customer {
	index := make(map[string]int32, len(orders)/4)
	var out []Customer
	for i := range orders {
		o := &orders[i]
		if !o.IsPurchaseAsOf(asOf, dating) {
			continue
		}
		k, ok := index[o.CustomerID]
		if !ok {
			k = int32(len(out))
			index[o.CustomerID] = k
			at := o.CreatedAt.Unix()
			out = append(out, Customer{ID: o.CustomerID, FirstPurchase: at, LastPurchase: at})
		}
		c := &out[k]
		c.Purchases++
		c.Revenue += o.NetValueAsOf(asOf, dating)
		if len(o.DiscountCodes) > 0 {
			c.DiscountedPurchases++
		}
		at := o.CreatedAt.Unix()
		c.FirstPurchase = min(c.FirstPurchase, at)
		c.LastPurchase = max(c.LastPurchase, at)
	}
	return out
}

// Cadence is the shop's buying rhythm, the anchor for recency.
type Cadence struct {
	// AvgDaysBetweenOrders is the mean, over customers with two or more
	// purchases, of each customer's own average gap
	// (last − first) / (purchases − 1). Averaging per customer first keeps
	// a handful of very frequent buyers from dominating the figure.
	AvgDaysBetweenOrders float64 `json:"avgDaysBetweenOrders"`
	RepeatCustomers      int     `json:"repeatCustomers"`
	// Fallback is true when no customer has bought twice, so
	// AvgDaysBetweenOrders is Options.DefaultCadenceDays.
	Fallback bool `json:"fallback"`
	// HorizonDays is how long a customer may go without buying before
	// counting as inactive: HorizonMultiple × AvgDaysBetweenOrders,
	// clamped to [MinHorizonDays, MaxHorizonDays].
	HorizonDays float64 `json:"horizonDays"`
}

// ShopCadence measures the shop's buying rhythm from its customers.
func ShopCadence(customers []Customer, opts Options) Cadence {
	opts = opts.withDefaults()
	var sum float64
	var repeat int
	for i := range customers {
		c := &customers[i]
		if c.Purchases < 2 {
			continue
		}
		span := float64(c.LastPurchase-c.FirstPurchase) / secondsPerDay
		sum += span / float64(c.Purchases-1)
		repeat++
	}
	cad := Cadence{RepeatCustomers: repeat}
	if repeat == 0 {
		cad.AvgDaysBetweenOrders = opts.DefaultCadenceDays
		cad.Fallback = true
	} else {
		cad.AvgDaysBetweenOrders = sum / float64(repeat)
	}
	h := opts.HorizonMultiple * cad.AvgDaysBetweenOrders
	cad.HorizonDays = min(max(h, opts.MinHorizonDays), opts.MaxHorizonDays)
	return cad
}

const secondsPerDay = 86400

func roundCents(v float64) float64 {
	return math.Round(v*100) / 100
}
