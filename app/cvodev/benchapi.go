package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sort"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/jackc/pgx/v5"

	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/postgres"
	"github.com/cvo-app/cvo/internal/rescore"
	"github.com/cvo-app/cvo/internal/shopgen"
	"github.com/cvo-app/cvo/internal/simulator"
	"github.com/cvo-app/cvo/internal/web"
)

// runBenchAPI is `cvodev bench-api`: the admin page's API on a generated shop
// of N customers. It generates the shop, scores it as the rescoring job
// does, stores the snapshot and the customers, then times every route the
// pages call and prints p50/p95/max per route.
func runBenchAPI(ctx context.Context, log *slog.Logger, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("bench-api", flag.ContinueOnError)
	customers := fs.Int("customers", 1_000_000, "customers to generate")
	orders := fs.Int("orders", 5_000_000, "orders to generate")
	requests := fs.Int("requests", 200, "requests per route")
	dbURL := fs.String("database", "postgres://postgres@127.0.0.1:5432/cvo_bench_api?sslmode=disable", "database to fill (created if missing; its shop data is replaced)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	const shop = "bench-api.myshopify.com"
	if err := postgres.EnsureDatabase(ctx, *dbURL); err != nil {
		return err
	}
	db, err := postgres.Open(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return err
	}
	if err := postgres.NewPrivacyStore(db).DeleteShop(ctx, shop); err != nil {
		return err
	}

	// 1. Generate and score, as the rescoring job would.
	started := time.Now()
	now := time.Now().UTC().Truncate(24 * time.Hour)
	sink := &cvoSink{db: db, shop: shop, products: map[int64]simulator.Product{}}
	opts := shopgen.GenOptions{Customers: *customers, Orders: *orders, Seed: 42, Start: now.AddDate(-3, 0, 0), End: now}
	if _, err := shopgen.Generate(ctx, opts, sink); err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	if err := sink.flushCustomers(ctx); err != nil {
		return err
	}
	fmt.Fprintf(out, "generated %d customers, %d orders in %.1fs\n", sink.customerCount, sink.orderCount, time.Since(started).Seconds())
	history := &memoryHistory{customers: sink.cvoCustomers, orders: sink.cvoOrders}
	scoreStart := time.Now()
	scores, agg, err := rescore.ShopScorer{}.Score(ctx, rescore.Input{
		Shop: cvo.Shop{Domain: shop, Timezone: "UTC"}, Settings: cvo.DefaultSettings(), AsOf: now, History: history,
	})
	if err != nil {
		return fmt.Errorf("score: %w", err)
	}
	sink.cvoOrders, history.orders = nil, nil
	runtime.GC()
	fmt.Fprintf(out, "scored %d customers in %.1fs\n", scores.Len(), time.Since(scoreStart).Seconds())
	snaps := postgres.NewScoringStore(db)
	id, err := snaps.Begin(ctx, shop, "bench", now)
	if err != nil {
		return err
	}
	if err := snaps.FinishRows(ctx, shop, id, scores, agg); err != nil {
		return err
	}
	if _, err := db.Pool.Exec(ctx, "ANALYZE customers; ANALYZE customer_scores"); err != nil {
		return err
	}

	// 2. The API, in process, behind real session tokens.
	const clientID, secret = "bench-client", "bench-secret"
	srv := web.NewServer(web.Config{ClientID: clientID, ClientSecret: secret, AppURL: "http://bench",
		AdminBaseURL: func(s string) string { return "https://" + s }},
		web.Deps{Installer: benchInstaller{}, Log: slog.New(slog.DiscardHandler),
			Pages: &web.PagesDeps{Snapshots: snaps, Settings: postgres.NewSettingsStore(db), Actions: nil}})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	token := func() string {
		t := time.Now()
		tok, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
			"iss": "https://" + shop + "/admin", "dest": "https://" + shop, "aud": clientID, "sub": "1",
			"exp": t.Add(time.Minute).Unix(), "nbf": t.Add(-time.Second).Unix(), "iat": t.Unix(), "jti": strconv.FormatInt(t.UnixNano(), 10), "sid": "s",
		}).SignedString([]byte(secret))
		return tok
	}
	routes := []string{
		"/api/overview", "/api/segments", "/api/cohorts", "/api/lifetime-value", "/api/products", "/api/insights", "/api/settings",
		"/api/customers", "/api/customers?page=50", "/api/customers?group=lovers", "/api/customers?q=customer-12", "/api/customers?q=smith",
	}
	fmt.Fprintf(out, "%-34s %8s %8s %8s %8s\n", "route", "p50 ms", "p95 ms", "max ms", "bytes")
	for _, route := range routes {
		var lat []time.Duration
		var size int
		for i := 0; i < *requests; i++ {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ts.URL+route, nil)
			req.Header.Set("Authorization", "Bearer "+token())
			t0 := time.Now()
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				return err
			}
			n, _ := io.Copy(io.Discard, res.Body)
			res.Body.Close()
			lat = append(lat, time.Since(t0))
			if res.StatusCode != http.StatusOK {
				return fmt.Errorf("%s: HTTP %d", route, res.StatusCode)
			}
			size = int(n)
		}
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
		fmt.Fprintf(out, "%-34s %8.1f %8.1f %8.1f %8d\n", route, ms(lat[len(lat)/2]), ms(lat[len(lat)*95/100]), ms(lat[len(lat)-1]), size)
	}
	return nil
}

// benchInstaller answers /api/shop without Shopify.
type benchInstaller struct{}

func (benchInstaller) InstallWithSessionToken(_ context.Context, shop, _ string) (cvo.Shop, error) {
	return cvo.Shop{Domain: shop}, nil
}
func (benchInstaller) InstallWithCode(_ context.Context, shop, _ string) (cvo.Shop, error) {
	return cvo.Shop{Domain: shop}, nil
}

// cvoSink turns a generated shop into domain orders for scoring and stores
// its customers (with the search fields) by COPY.
type cvoSink struct {
	db            *postgres.DB
	shop          string
	products      map[int64]simulator.Product
	cvoOrders     []cvo.Order
	cvoCustomers  []cvo.Customer
	pending       [][]any
	customerCount int
	orderCount    int
}

func (s *cvoSink) AddProducts(ps []simulator.Product) error {
	for _, p := range ps {
		s.products[p.ID] = p
	}
	return nil
}

func (s *cvoSink) AddCustomers(cs []simulator.Customer) error {
	for _, c := range cs {
		country, city := "", ""
		if c.DefaultAddress != nil {
			country, city = c.DefaultAddress.Country, c.DefaultAddress.City
		}
		id := strconv.FormatInt(c.ID, 10)
		s.cvoCustomers = append(s.cvoCustomers, cvo.Customer{ID: id, CreatedAt: c.CreatedAt, Country: country, City: city})
		s.pending = append(s.pending, []any{s.shop, c.ID, c.Email, c.FirstName, c.LastName, city, country, c.CreatedAt, c.CreatedAt})
		s.customerCount++
	}
	if len(s.pending) >= 50_000 {
		return s.flushCustomers(context.Background())
	}
	return nil
}

func (s *cvoSink) flushCustomers(ctx context.Context) error {
	if len(s.pending) == 0 {
		return nil
	}
	_, err := s.db.Pool.CopyFrom(ctx, pgx.Identifier{"customers"},
		[]string{"shop", "id", "email", "first_name", "last_name", "city", "country", "created_at", "updated_at"}, pgx.CopyFromRows(s.pending))
	s.pending = s.pending[:0]
	return err
}

func (s *cvoSink) AddOrders(os []simulator.Order) error {
	for _, o := range os {
		co := cvo.Order{ID: strconv.FormatInt(o.ID, 10), CreatedAt: o.CreatedAt, Total: o.Total.Float64(),
			Cancelled: !o.CancelledAt.IsZero(), Test: o.Test, SourceName: o.SourceName, DiscountCodes: o.DiscountCodes}
		if !o.ProcessedAt.IsZero() {
			co.CreatedAt = o.ProcessedAt
		}
		if o.CustomerID != 0 {
			co.CustomerID = strconv.FormatInt(o.CustomerID, 10)
		}
		if j := o.Journey; j != nil && j.FirstVisit != nil {
			co.UTMSource, co.UTMCampaign = j.FirstVisit.UTMSource, j.FirstVisit.UTMCampaign
		}
		for _, r := range o.Refunds {
			co.Refunds = append(co.Refunds, cvo.Refund{CreatedAt: r.CreatedAt, Amount: r.Amount.Float64()})
		}
		for _, l := range o.LineItems {
			p := s.products[l.ProductID]
			li := cvo.LineItem{ProductID: strconv.FormatInt(l.ProductID, 10), Title: p.Title, Vendor: p.Vendor, ProductType: p.ProductType,
				Quantity: l.Quantity, UnitPrice: l.UnitPrice.Float64()}
			for _, v := range p.Variants {
				if v.ID == l.VariantID && v.UnitCost != nil {
					li.UnitCost, li.CostKnown = v.UnitCost.Float64(), true
				}
			}
			co.Lines = append(co.Lines, li)
		}
		s.cvoOrders = append(s.cvoOrders, co)
		s.orderCount++
	}
	return nil
}

// memoryHistory serves generated orders to the scorer as storage would.
type memoryHistory struct {
	customers []cvo.Customer
	orders    []cvo.Order
}

func (h *memoryHistory) ShopOrders(_ context.Context, _ string, fn func(cvo.Order) error) error {
	for _, o := range h.orders {
		if err := fn(o); err != nil {
			return err
		}
	}
	return nil
}

func (h *memoryHistory) Counts(context.Context, string) (int64, int64, error) {
	return int64(len(h.customers)), int64(len(h.orders)), nil
}

func (h *memoryHistory) ShopCustomers(_ context.Context, _ string, fn func(cvo.Customer) error) error {
	for _, c := range h.customers {
		if err := fn(c); err != nil {
			return err
		}
	}
	return nil
}
