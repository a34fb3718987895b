package scoring

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/cvo-app/cvo/internal/cvo"
)

// synthShop draws a shop from a BG/NBD-like process so that the purchase
// models have something real to fit: each customer's first purchase is
// uniform over the history, purchases then follow a Poisson process with a
// Gamma-distributed rate, and after each repeat purchase the customer drops
// out with a Beta-distributed probability. Orders carry the attributes the
// reports read (products with and without costs, sources, campaigns,
// discount codes, refunds, cancellations, test orders).
//
// Strings and line slices are shared between orders, as a database driver
// would not share them but a generator can, so that a million customers fit
// in memory next to the benchmark's own allocations.
func synthShop(nCustomers int, asOf time.Time, years float64, seed uint64) ([]cvo.Customer, []cvo.Order) {
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
	const (
		products  = 2000
		countries = 25
		cities    = 400
		campaigns = 40
		codes     = 60
	)
	names := func(prefix string, n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("%s%d", prefix, i)
		}
		return out
	}
	countryNames, cityNames := names("C", countries), names("City ", cities)
	campaignNames, codeNames := names("campaign-", campaigns), names("CODE", codes)
	sources := []string{"web", "web", "web", "pos", "shopify_draft_order"}
	utmSources := []string{"google", "facebook", "newsletter", "tiktok"}
	codeLists := make([][]string, codes)
	for i := range codeLists {
		codeLists[i] = []string{codeNames[i]}
	}
	catalog := make([][]cvo.LineItem, products)
	prices := make([]float64, products)
	for p := range catalog {
		prices[p] = math.Round(math.Exp(3.4+0.7*rng.NormFloat64())*100) / 100
		line := cvo.LineItem{ProductID: fmt.Sprintf("gid://shopify/Product/%d", 7000+p), Title: fmt.Sprintf("Product %d", p),
			Vendor: fmt.Sprintf("Vendor %d", p%90), ProductType: fmt.Sprintf("Type %d", p%30), Quantity: 1, UnitPrice: prices[p]}
		if p%10 < 6 {
			line.UnitCost, line.CostKnown = math.Round(prices[p]*(40+float64(p%30)))/100, true
		}
		catalog[p] = []cvo.LineItem{line}
	}
	zipf := rand.NewZipf(rng, 1.2, 8, products-1)

	end := asOf.Unix()
	span := int64(years * 365.25 * 86400)
	customers := make([]cvo.Customer, nCustomers)
	orders := make([]cvo.Order, 0, nCustomers*5)
	for c := range customers {
		city := rng.IntN(cities)
		customers[c] = cvo.Customer{ID: fmt.Sprintf("gid://shopify/Customer/%d", 5000000+c),
			Country: countryNames[city%countries], City: cityNames[city]}
		// λ ~ Gamma(0.9, 1/25 per day): a purchase every month or so while
		// active; p ~ Beta(0.5, 0.8), U-shaped, so that many customers
		// never come back and many stay loyal. The customer may drop out
		// after every purchase, the first included (MBG/NBD-like): about
		// 45% buy once, the average is 5.4 orders.
		lambda := gammaDraw(rng, 0.9) / 25
		p := betaDraw(rng, 0.5, 0.8)
		at := end - rng.Int64N(span)
		base := 0.6 + rng.Float64()*1.2
		for k := 0; at <= end; k++ {
			prod := int(zipf.Uint64())
			total := math.Round(prices[prod]*base*100) / 100
			created := time.Unix(at, 0).UTC()
			o := cvo.Order{ID: "", CustomerID: customers[c].ID, CreatedAt: created, Total: total,
				SourceName: sources[rng.IntN(len(sources))], Lines: catalog[prod]}
			if rng.IntN(4) == 0 {
				o.UTMSource = utmSources[rng.IntN(len(utmSources))]
				o.UTMCampaign = campaignNames[rng.IntN(campaigns)]
			}
			if rng.IntN(6) == 0 {
				o.DiscountCodes = codeLists[rng.IntN(codes)]
			}
			switch r := rng.IntN(200); {
			case r < 6:
				o.Refunds = []cvo.Refund{{CreatedAt: created.Add(96 * time.Hour), Amount: math.Round(total*40) / 100}}
			case r < 8:
				o.Cancelled = true
			case r < 9:
				o.Test = true
			}
			orders = append(orders, o)
			if rng.Float64() < p {
				break
			}
			if !(lambda > 0) {
				break
			}
			gap := rng.ExpFloat64() / lambda * 86400
			if gap > float64(span) {
				break
			}
			at += int64(gap)
		}
	}
	return customers, orders
}

// gammaDraw draws Gamma(shape, 1) (Marsaglia and Tsang, boosted below 1).
func gammaDraw(rng *rand.Rand, shape float64) float64 {
	if shape < 1 {
		return gammaDraw(rng, shape+1) * math.Pow(rng.Float64(), 1/shape)
	}
	d := shape - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := rng.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := rng.Float64()
		if math.Log(u) < 0.5*x*x+d-d*v+d*math.Log(v) {
			return d * v
		}
	}
}

func betaDraw(rng *rand.Rand, a, b float64) float64 {
	x := gammaDraw(rng, a)
	return x / (x + gammaDraw(rng, b))
}
