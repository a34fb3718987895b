package ingest

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/postgres"
	"github.com/cvo-app/cvo/internal/shopify"
	"github.com/cvo-app/cvo/internal/simulator"
)

const (
	testShop     = "ingest-test.myshopify.com"
	testClientID = "ingest-client"
	testSecret   = "ingest-secret"
	testVersion  = "2026-10"
)

// staticTokens hands out one token.
type staticTokens string

func (t staticTokens) AccessToken(context.Context, string) (string, error) { return string(t), nil }

// simShop is the simulator playing one installed shop, with an app-side
// endpoint that wakes the syncer on bulk_operations/finish.
type simShop struct {
	sim    *simulator.Simulator
	srv    *httptest.Server
	hc     *http.Client
	tokens Tokens
	waker  *shopify.BulkWaker
}

func newSimShop(t *testing.T) *simShop {
	t.Helper()
	s := &simShop{waker: shopify.NewBulkWaker()}
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if r.Header.Get("X-Shopify-Topic") == "bulk_operations/finish" {
			s.waker.Wake(r.Header.Get("X-Shopify-Shop-Domain"))
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(app.Close)
	// Result URLs must name the simulator's own address, as the demo's
	// PublicURL does, since requests to it carry the shop's Host.
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.sim.Handler().ServeHTTP(w, r) }))
	t.Cleanup(s.srv.Close)
	s.sim = simulator.New(simulator.Config{ClientID: testClientID, ClientSecret: testSecret, AppURL: app.URL,
		APIVersion: testVersion, BulkDir: t.TempDir(), PublicURL: s.srv.URL})
	t.Cleanup(s.sim.Close)
	require.NoError(t, s.sim.AddShop(testShop, simulator.ShopOptions{Currency: "GBP", Timezone: "Europe/London"}))
	var err error
	s.hc, err = shopify.NewHTTPClient(s.srv.URL, 30*time.Second)
	require.NoError(t, err)
	session, err := s.sim.SessionToken(testShop, 1)
	require.NoError(t, err)
	tok, err := shopify.NewOAuth(testClientID, testSecret, s.hc).ExchangeSessionToken(context.Background(), testShop, session)
	require.NoError(t, err)
	s.tokens = staticTokens(tok.AccessToken)
	return s
}

func (s *simShop) syncer(db *postgres.DB) *Syncer {
	return NewSyncer(SyncerConfig{Store: postgres.NewSyncStore(db), Deliveries: postgres.NewDeliveryStore(db), Tokens: s.tokens, HTTPClient: s.hc, APIVersion: testVersion, Waker: s.waker,
		PollMin: 10 * time.Millisecond, PollMax: 200 * time.Millisecond})
}

// populate fills the simulator shop with a small but varied history:
// customers with and without addresses, products with and without unit
// costs, orders with several lines, refunds, cancellations, test orders,
// discount codes, journeys and orders without a customer.
func (s *simShop) populate(t *testing.T, seed uint64, customers, orders int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	base := time.Date(2024, 1, 1, 9, 0, 0, 0, time.UTC)
	cs := make([]simulator.Customer, customers)
	for i := range cs {
		c := simulator.Customer{
			Email: fmt.Sprintf("person%04d@example.com", i), FirstName: fmt.Sprintf("First%04d", i), LastName: fmt.Sprintf("Last%04d", i),
			CreatedAt: base.Add(time.Duration(i) * time.Hour),
		}
		if i%4 != 0 {
			c.DefaultAddress = &simulator.Address{City: []string{"London", "Leeds", "Paris"}[i%3], Country: []string{"United Kingdom", "United Kingdom", "France"}[i%3],
				CountryCode: []string{"GB", "GB", "FR"}[i%3]}
		}
		cs[i] = c
	}
	require.NoError(t, s.sim.AddCustomers(testShop, cs))
	ps := make([]simulator.Product, 30)
	for i := range ps {
		p := simulator.Product{Title: fmt.Sprintf("Product %d", i), ProductType: []string{"Mugs", "Cards", ""}[i%3],
			Vendor: []string{"Acme", "Globex"}[i%2], CreatedAt: base, UpdatedAt: base.Add(time.Duration(i) * time.Minute)}
		for v := 0; v <= i%3; v++ {
			vr := simulator.Variant{Title: fmt.Sprintf("V%d", v), SKU: fmt.Sprintf("SKU-%d-%d", i, v), Price: simulator.NewAmount(5 + float64(i))}
			if (i+v)%4 != 0 {
				cost := simulator.NewAmount(1.25 + float64(i)/10)
				vr.UnitCost = &cost
			}
			p.Variants = append(p.Variants, vr)
		}
		ps[i] = p
	}
	require.NoError(t, s.sim.AddProducts(testShop, ps))
	os := make([]simulator.Order, orders)
	for i := range os {
		at := base.Add(time.Duration(i)*7*time.Hour + time.Duration(rng.IntN(3600))*time.Second)
		o := simulator.Order{CreatedAt: at, UpdatedAt: at.Add(time.Hour), SourceName: []string{"web", "pos"}[i%2]}
		if i%10 != 9 {
			o.CustomerID = cs[rng.IntN(len(cs))].ID
		}
		var total simulator.Amount
		for l := 0; l < 1+rng.IntN(4); l++ {
			p := ps[rng.IntN(len(ps))]
			v := p.Variants[rng.IntN(len(p.Variants))]
			q := 1 + rng.IntN(3)
			o.LineItems = append(o.LineItems, simulator.LineItem{VariantID: v.ID, Quantity: q, UnitPrice: v.Price})
			total += v.Price * simulator.Amount(q)
		}
		if i%7 == 3 {
			o.LineItems = append(o.LineItems, simulator.LineItem{Title: "Gift wrap", Quantity: 1, UnitPrice: simulator.NewAmount(2.5)})
			total += simulator.NewAmount(2.5)
		}
		o.Total = total + simulator.NewAmount(3.95)
		if i%5 == 0 {
			o.DiscountCodes = []string{"WELCOME10"}
		}
		if i%6 == 0 {
			o.Journey = &simulator.Journey{CustomerOrderIndex: 1, FirstVisit: &simulator.Visit{OccurredAt: at.Add(-time.Hour),
				LandingPage: "/products/mug?utm_source=google", ReferrerURL: "https://www.google.com/", Source: "google",
				UTMSource: "google", UTMMedium: "cpc", UTMCampaign: "autumn"}}
		}
		switch i % 13 {
		case 4:
			o.Refunds = []simulator.Refund{{CreatedAt: at.Add(48 * time.Hour), Amount: simulator.NewAmount(3.5)}}
		case 8:
			o.Refunds = []simulator.Refund{{CreatedAt: at.Add(24 * time.Hour), Amount: o.Total / 2}, {CreatedAt: at.Add(72 * time.Hour), Amount: o.Total - o.Total/2}}
		case 11:
			o.CancelledAt = at.Add(2 * time.Hour)
			o.CancelReason = "CUSTOMER"
		case 12:
			o.Test = true
		}
		os[i] = o
	}
	require.NoError(t, s.sim.AddOrders(testShop, os))
}

// dumpTables renders every data table of a shop as text, ordered, so two
// databases can be compared row for row.
func dumpTables(t *testing.T, db *postgres.DB, shop string) map[string]string {
	t.Helper()
	queries := map[string]string{
		"customers": `SELECT id, email, first_name, last_name, city, country, country_code, created_at, updated_at, deleted_at,
			shopify_rfm_group, shopify_predicted_spend_tier FROM customers WHERE shop = $1 ORDER BY id`,
		"orders":      `SELECT id, customer_id, name, created_at, processed_at, updated_at, cancelled_at, test, currency, total, subtotal, source_name, landing_page, referrer_url, utm_source, utm_medium, utm_campaign, discount_codes FROM orders WHERE shop = $1 ORDER BY id`,
		"order_lines": `SELECT order_id, id, product_id, variant_id, title, quantity, unit_price FROM order_lines WHERE shop = $1 ORDER BY order_id, id`,
		"refunds":     `SELECT id, order_id, created_at, amount FROM refunds WHERE shop = $1 ORDER BY id`,
		"products":    `SELECT id, title, product_type, vendor, created_at, updated_at FROM products WHERE shop = $1 ORDER BY id`,
		"variants":    `SELECT id, product_id, title, sku, price, unit_cost FROM variants WHERE shop = $1 ORDER BY id`,
	}
	out := map[string]string{}
	for table, q := range queries {
		rows, err := db.Pool.Query(context.Background(), q, shop)
		require.NoError(t, err)
		var b strings.Builder
		for rows.Next() {
			vals, err := rows.Values()
			require.NoError(t, err)
			fmt.Fprintln(&b, vals...)
		}
		require.NoError(t, rows.Err())
		out[table] = b.String()
	}
	return out
}

func countRows(t *testing.T, db *postgres.DB, table, shop string) int {
	t.Helper()
	var n int
	require.NoError(t, db.Pool.QueryRow(context.Background(), "SELECT count(*) FROM "+pgx.Identifier{table}.Sanitize()+" WHERE shop = $1", shop).Scan(&n))
	return n
}
