package reports

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/ledger"
	"github.com/cvo-app/cvo/internal/rfm"
)

// benchShop is generated once per test binary: 1,000,000 customers and
// about 5,000,000 orders over three years, in global time order as
// Shopify returns them.
var benchShop = sync.OnceValues(func() ([]cvo.Customer, []cvo.Order) {
	customers, orders := syntheticShop(1_000_000, benchAsOf, 42)
	// Collect the generator's garbage now, so no collection of it runs
	// inside a timed section.
	runtime.GC()
	return customers, orders
})

var benchAsOf = time.Date(2024, 12, 31, 0, 0, 0, 0, time.UTC)

// syntheticShop draws a shop with the shape of real ones: half the
// customers buy once, the others 2 + geometric(mean 7) times, so the
// average is about five orders per customer.
func syntheticShop(nCustomers int, asOf time.Time, seed uint64) ([]cvo.Customer, []cvo.Order) {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	const (
		products  = 5000
		vendors   = 200
		types     = 50
		countries = 30
		cities    = 500
		campaigns = 50
		sources   = 10
		codes     = 100
	)
	names := func(prefix string, n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("%s-%d", prefix, i)
		}
		return out
	}
	productIDs, titles := names("gid://shopify/Product", products), names("Product", products)
	vendorNames, typeNames := names("Vendor", vendors), names("Type", types)
	countryCodes, cityNames := names("C", countries), names("City", cities)
	campaignNames, sourceNames := names("campaign", campaigns), names("source", sources)
	codeLists := make([][]string, codes)
	for i := range codeLists {
		codeLists[i] = []string{fmt.Sprintf("CODE%d", i)}
	}
	zipf := rand.NewZipf(rng, 1.1, 10, products-1)

	customers := make([]cvo.Customer, nCustomers)
	type purchase struct {
		at   int64
		cust int32
	}
	purchases := make([]purchase, 0, 5*nCustomers+nCustomers/10)
	span := int64(3 * 365 * secondsPerDay)
	end := asOf.Unix()
	for c := range customers {
		city := rng.IntN(cities)
		customers[c] = cvo.Customer{ID: fmt.Sprintf("gid://shopify/Customer/%d", 1000000+c),
			Country: countryCodes[city%countries], City: cityNames[city]}
		first := end - rng.Int64N(span)
		purchases = append(purchases, purchase{first, int32(c)})
		if rng.IntN(2) == 0 {
			continue
		}
		extra := 1 + int(math.Floor(math.Log(1-rng.Float64())/math.Log(1-1.0/8)))
		for range extra {
			purchases = append(purchases, purchase{first + rng.Int64N(end-first+1), int32(c)})
		}
	}
	slices.SortFunc(purchases, func(a, b purchase) int { return int(a.at - b.at) })

	orders := make([]cvo.Order, len(purchases))
	lines := make([]cvo.LineItem, len(purchases))
	for i, p := range purchases {
		prod := int(zipf.Uint64())
		price := math.Round(math.Exp(3.7+0.6*rng.NormFloat64())*100) / 100
		lines[i] = cvo.LineItem{ProductID: productIDs[prod], Title: titles[prod], Vendor: vendorNames[prod%vendors],
			ProductType: typeNames[prod%types], Quantity: 1, UnitPrice: price}
		if prod%10 < 7 {
			lines[i].UnitCost, lines[i].CostKnown = math.Round(price*55)/100, true
		}
		created := time.Unix(p.at, 0).UTC()
		// Each order carries its own copy of the customer ID, as orders
		// decoded from the database or an API do.
		o := cvo.Order{CustomerID: strings.Clone(customers[p.cust].ID), CreatedAt: created, UpdatedAt: created, Total: price,
			Currency: "EUR", SourceName: "web", Lines: lines[i : i+1 : i+1]}
		if rng.IntN(10) == 0 {
			o.SourceName = "pos"
		}
		if rng.IntN(10) < 3 {
			o.UTMCampaign = campaignNames[rng.IntN(campaigns)]
			o.UTMSource = sourceNames[rng.IntN(sources)]
		}
		if rng.IntN(5) == 0 {
			o.DiscountCodes = codeLists[rng.IntN(codes)]
		}
		switch r := rng.IntN(200); {
		case r < 6:
			o.Refunds = []cvo.Refund{{CreatedAt: created.Add(72 * time.Hour), Amount: math.Round(price*30) / 100}}
		case r < 8:
			o.Cancelled = true
		case r < 9:
			o.Test = true
		}
		orders[i] = o
	}
	return customers, orders
}

func BenchmarkNewDataset(b *testing.B) {
	customers, orders := benchShop()
	b.ReportAllocs()
	b.ResetTimer()
	reportCPU(b, func() {
		for b.Loop() {
			NewDataset(customers, orders, Options{AsOf: benchAsOf})
		}
	})
}

// BenchmarkRFM is scoring and grouping of the million customers.
func BenchmarkRFM(b *testing.B) {
	customers, orders := benchShop()
	d := NewDataset(customers, orders, Options{AsOf: benchAsOf})
	previous := previousGroups(d)
	b.ReportAllocs()
	b.ResetTimer()
	reportCPU(b, func() {
		for b.Loop() {
			d.Score(previous)
		}
	})
}

// BenchmarkReports times each report on the indexed history, and all of
// them together (scoring included).
func BenchmarkReports(b *testing.B) {
	customers, orders := benchShop()
	d := NewDataset(customers, orders, Options{AsOf: benchAsOf})
	previous := previousGroups(d)
	scored := d.Score(previous)
	b.Logf("%d customers, %d purchases (%d orders in)", d.Customers(), d.Purchases(), len(orders))
	cases := []struct {
		name string
		run  func()
	}{
		{"Retention", func() { d.Retention() }},
		{"Cohorts", func() { d.Cohorts() }},
		{"Stickiness", func() { d.Stickiness() }},
		{"ProductRetention", func() { d.ProductRetention() }},
		{"Loyalty", func() { d.Loyalty() }},
		{"Pareto", func() { d.Pareto() }},
		{"LifetimeValue", func() { d.LifetimeValue() }},
		{"Transitions", func() { GroupTransitions(previous, scored.Customers) }},
		{"Anomalies", func() { d.Anomalies() }},
		{"ICP", func() { _, _ = d.IdealCustomerProfile(scored.Customers) }},
		{"All", func() { _, _ = d.Report(previous) }},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			reportCPU(b, func() {
				for b.Loop() {
					c.run()
				}
			})
		})
	}
}

// ltvShop100k is a shop of 100,000 customers (about 500,000 orders), the
// size the lifetime-value report's cost is quoted at.
var ltvShop100k = sync.OnceValues(func() ([]cvo.Customer, []cvo.Order) {
	customers, orders := syntheticShop(100_000, benchAsOf, 7)
	runtime.GC()
	return customers, orders
})

// BenchmarkLifetimeValue100k times the lifetime-value report on 100,000
// customers and reports what it adds to the dataset: a float64 of gross
// profit per purchase and an acquisition source per customer.
func BenchmarkLifetimeValue100k(b *testing.B) {
	customers, orders := ltvShop100k()
	d := NewDataset(customers, orders, Options{AsOf: benchAsOf, CAC: 25, CACBySource: map[string]float64{"source-1": 40}})
	b.ReportAllocs()
	b.ResetTimer()
	reportCPU(b, func() {
		for b.Loop() {
			d.LifetimeValue()
		}
	})
	b.ReportMetric(float64(8*len(d.p)+4*len(d.acquisition)), "index-bytes")
}

// BenchmarkRun is the whole job: index, score, every report.
func BenchmarkRun(b *testing.B) {
	customers, orders := benchShop()
	previous := previousGroups(NewDataset(customers, orders, Options{AsOf: benchAsOf}))
	b.ReportAllocs()
	b.ResetTimer()
	reportCPU(b, func() {
		for b.Loop() {
			if _, err := Run(customers, orders, previous, Options{AsOf: benchAsOf}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// previousGroups scores the shop a month earlier, as the last run would
// have.
func previousGroups(d *Dataset) map[string]rfm.Group {
	res := rfm.Score(d.RFMCustomers(), rfm.Options{AsOf: benchAsOf.AddDate(0, -1, 0)})
	prev := make(map[string]rfm.Group, len(res.Customers))
	for _, a := range res.Customers {
		prev[a.ID] = a.Group
	}
	return prev
}

// BenchmarkLayoutDataset times the dataset's second half alone, the first
// purchases' attributes and the customers' records read from the ledger:
// in the rescore it runs on the ledger the database filled.
func BenchmarkLayoutDataset(b *testing.B) {
	customers, orders := benchShop()
	l := ledger.FromHistory(customers, orders)
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		lay := LayOut(l, Options{AsOf: benchAsOf})
		b.StartTimer()
		lay.Dataset(l)
	}
}
