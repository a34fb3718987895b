package reports

import (
	"time"
	_ "time/tzdata" // the tests use Europe/Bucharest whatever the host has

	"github.com/cvo-app/cvo/internal/cvo"
)

var asOf = time.Date(2024, 4, 15, 0, 0, 0, 0, time.UTC)

func day(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		panic(err)
	}
	return t
}

func line(product, vendor, typ string, price float64, cost float64) cvo.LineItem {
	l := cvo.LineItem{ProductID: product, Title: "Title " + product, Vendor: vendor, ProductType: typ, Quantity: 1, UnitPrice: price}
	if cost >= 0 {
		l.UnitCost, l.CostKnown = cost, true
	}
	return l
}

// smallShop is worked out by hand in the tests:
//
//	A (RO, Bucharest): Jan 10 100 (P1, cost 60, winter/google/WELCOME),
//	                   Feb 10 50 (P2, no cost), Mar 5 70 (P1, cost 42)
//	B (RO, Cluj):      Jan 20 40 (P2), Mar 25 60 (P1, cost 30) refunded 20 on Mar 28
//	C (DE, Berlin):    Feb 1 200 (P1, cost 120, spring)
//	D (DE, Berlin):    Feb 14 80 (P3 50 cost 20 + P4 30 no cost)
//	E (not a known customer): Apr 2 21:30 UTC 30 (P2)
//
// plus orders that must be ignored: a test order, a cancelled one, a
// fully refunded one, a guest order and one after AsOf.
func smallShop() ([]cvo.Customer, []cvo.Order) {
	customers := []cvo.Customer{
		{ID: "A", Country: "RO", City: "Bucharest"},
		{ID: "B", Country: "RO", City: "Cluj"},
		{ID: "C", Country: "DE", City: "Berlin"},
		{ID: "D", Country: "DE", City: "Berlin"},
		{ID: "F", Country: "FR", City: "Paris"}, // never bought
	}
	orders := []cvo.Order{
		// Deliberately not in time order.
		{CustomerID: "A", CreatedAt: day("2024-03-05 12:00"), Total: 70, SourceName: "web", Lines: []cvo.LineItem{line("P1", "V1", "T1", 70, 42)}},
		{CustomerID: "A", CreatedAt: day("2024-01-10 10:00"), Total: 100, SourceName: "web", UTMSource: "google", UTMCampaign: "winter",
			DiscountCodes: []string{"WELCOME"}, Lines: []cvo.LineItem{line("P1", "V1", "T1", 100, 60)}},
		{CustomerID: "A", CreatedAt: day("2024-02-10 18:00"), Total: 50, SourceName: "web", Lines: []cvo.LineItem{line("P2", "V2", "T2", 50, -1)}},
		{CustomerID: "B", CreatedAt: day("2024-01-20 10:00"), Total: 40, SourceName: "pos", Lines: []cvo.LineItem{line("P2", "V2", "T2", 40, -1)}},
		{CustomerID: "B", CreatedAt: day("2024-03-25 10:00"), Total: 60, SourceName: "pos",
			Refunds: []cvo.Refund{{CreatedAt: day("2024-03-28 10:00"), Amount: 20}}, Lines: []cvo.LineItem{line("P1", "V1", "T1", 60, 30)}},
		{CustomerID: "C", CreatedAt: day("2024-02-01 09:00"), Total: 200, SourceName: "web", UTMSource: "facebook", UTMCampaign: "spring",
			Lines: []cvo.LineItem{line("P1", "V1", "T1", 200, 120)}},
		{CustomerID: "D", CreatedAt: day("2024-02-14 20:00"), Total: 80, SourceName: "web",
			Lines: []cvo.LineItem{line("P3", "V1", "T3", 50, 20), line("P4", "V2", "", 30, -1)}},
		{CustomerID: "E", CreatedAt: day("2024-04-02 21:30"), Total: 30, SourceName: "web", Lines: []cvo.LineItem{line("P2", "V2", "T2", 30, -1)}},

		{CustomerID: "D", CreatedAt: day("2024-02-16 10:00"), Total: 999, Test: true},
		{CustomerID: "D", CreatedAt: day("2024-02-17 10:00"), Total: 999, Cancelled: true},
		{CustomerID: "C", CreatedAt: day("2024-03-01 10:00"), Total: 999, Refunds: []cvo.Refund{{CreatedAt: day("2024-03-02 10:00"), Amount: 999}}},
		{CustomerID: "", CreatedAt: day("2024-03-01 10:00"), Total: 999},
		{CustomerID: "A", CreatedAt: day("2024-04-20 10:00"), Total: 999},
	}
	return customers, orders
}
