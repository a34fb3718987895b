// Package simulator plays Shopify for the app: an in-process Admin API for
// many shops on one HTTP server (the shop comes from the Host header), with
// OAuth and token exchange, expiring offline tokens and their refresh, App
// Bridge session tokens, the GraphQL Admin API with calculated query cost
// and the leaky-bucket throttle, bulk query operations, and signed webhook
// deliveries to the app. It follows Shopify's documentation; where it has
// to guess, the guess is named in a comment.
package simulator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultScopes are granted when neither Config nor ShopOptions name any:
// what a customer-scoring app declares in shopify.app.toml.
var DefaultScopes = []string{
	"read_customers", "write_customers", "read_orders", "read_all_orders",
	"read_products", "read_inventory",
}

// Config configures a Simulator.
type Config struct {
	ClientID     string
	ClientSecret string
	// AppURL is the app's base URL. OAuth redirect_uris must lie under it
	// and webhooks are POSTed to AppURL + the subscription URI.
	AppURL string
	// APIVersion is the version webhooks are sent with (the
	// [webhooks] api_version of shopify.app.toml), e.g. "2026-10". Requests
	// naming an unsupported version fall forward to the oldest supported.
	APIVersion string
	Clock      func() time.Time // nil = time.Now
	Logger     *slog.Logger     // nil = discard
	// Scopes the app declares; nil = DefaultScopes.
	Scopes []string
	// Webhooks are the app-specific subscriptions, as in shopify.app.toml;
	// nil = DefaultWebhookSubscriptions.
	Webhooks []WebhookSubscription
	// HTTPClient delivers webhooks; nil = a client with Shopify's 5 s limit.
	HTTPClient *http.Client
	// BulkDir holds bulk operation result files; "" = a temporary directory.
	BulkDir string
	// PublicURL is the simulator's own base URL (e.g.
	// "http://127.0.0.1:8090"), used in bulk operation result URLs so the
	// app can download them; "" = scheme and Host of each request, which
	// is the shop's domain when the app keeps the Host header.
	PublicURL string
}

// Simulator is an in-process Shopify for tests and the demo.
type Simulator struct {
	cfg    Config
	clock  func() time.Time
	log    *slog.Logger
	client *http.Client

	mu      sync.RWMutex
	shops   map[string]*shopState
	shopSeq int64

	tokens *tokenStore
	hooks  webhookLog
	bulk   *bulkRunner
	writes writeState   // phase 3: write-back mutations, call log, faults
	seq    atomic.Int64 // ids for compliance requests and the like
	fleet  fleetState   // injected faults and the token audit

	// webhookTimeout is Shopify's 5 s delivery limit; tests shorten it.
	webhookTimeout time.Duration
}

// New creates a simulator. It plays no shop until AddShop is called.
func New(cfg Config) *Simulator {
	if cfg.APIVersion == "" {
		cfg.APIVersion = latestStableVersion
	}
	if cfg.Scopes == nil {
		cfg.Scopes = DefaultScopes
	}
	if cfg.Webhooks == nil {
		cfg.Webhooks = DefaultWebhookSubscriptions
	}
	cfg.AppURL = strings.TrimRight(cfg.AppURL, "/")
	s := &Simulator{
		cfg:    cfg,
		clock:  cfg.Clock,
		log:    cfg.Logger,
		client: cfg.HTTPClient,
		shops:  map[string]*shopState{},

		webhookTimeout: 5 * time.Second,
	}
	if s.clock == nil {
		s.clock = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.client == nil {
		s.client = &http.Client{
			Timeout: 5 * time.Second,
			Transport: &http.Transport{
				DialContext: (&net.Dialer{Timeout: time.Second}).DialContext,
			},
			// Shopify counts a redirect as a failed delivery.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	s.tokens = newTokenStore()
	s.bulk = newBulkRunner(s)
	return s
}

func (s *Simulator) now() time.Time { return s.clock().UTC() }

// Handler serves Shopify's endpoints for every shop, chosen by the Host
// header, and the simulator's own endpoints under /simulator/.
func (s *Simulator) Handler() http.Handler {
	return http.HandlerFunc(s.serveHTTP)
}

func (s *Simulator) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/simulator/") {
		s.serveSimulator(w, r)
		return
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	sh, ok := s.shop(host)
	if !ok {
		// Shopify answers an unknown myshopify.com host with a 404 page.
		http.Error(w, "Not Found", http.StatusNotFound)
		return
	}
	switch {
	case r.URL.Path == "/admin/oauth/authorize":
		s.serveAuthorize(w, r, sh)
	case r.URL.Path == "/admin/oauth/access_token":
		s.serveAccessToken(w, r, sh)
	case strings.HasPrefix(r.URL.Path, "/admin/api/") && strings.HasSuffix(r.URL.Path, "/graphql.json"):
		if s.interceptGraphQL(w, r, sh) {
			return
		}
		version := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/admin/api/"), "/graphql.json")
		s.serveGraphQLLogged(w, r, sh, version)
	default:
		http.Error(w, "Not Found", http.StatusNotFound)
	}
}

func (s *Simulator) serveSimulator(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/simulator/session-token":
		s.serveSessionToken(w, r)
	case strings.HasPrefix(r.URL.Path, "/simulator/bulk/"):
		s.serveBulkFile(w, r)
	case r.URL.Path == uploadPath:
		s.serveUpload(w, r)
	default:
		http.Error(w, "Not Found", http.StatusNotFound)
	}
}

// ListenAndServe serves the simulator on addr until ctx ends.
func ListenAndServe(ctx context.Context, addr string, sim *Simulator) error {
	srv := &http.Server{Addr: addr, Handler: sim.Handler(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		return fmt.Errorf("simulator listen on %s: %w", addr, err)
	case <-ctx.Done():
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := srv.Shutdown(shutdownCtx)
		sim.Close()
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("simulator shutdown: %w", err)
		}
		return nil
	}
}

// Close stops running bulk operations and removes their files.
func (s *Simulator) Close() {
	s.bulk.close()
}

// ---- store access --------------------------------------------------------

// AddCustomers adds customers in one batch and fills in the ids it assigns.
// It sends no webhooks: it is for loading a shop.
func (s *Simulator) AddCustomers(shop string, cs []Customer) error {
	sh, err := s.mustShop(shop)
	if err != nil {
		return err
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if err := sh.store.addCustomers(cs, s.now()); err != nil {
		return fmt.Errorf("%s: %w", shop, err)
	}
	return nil
}

// AddProducts adds products with their variants and fills in the ids it
// assigns. It sends no webhooks.
func (s *Simulator) AddProducts(shop string, ps []Product) error {
	sh, err := s.mustShop(shop)
	if err != nil {
		return err
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if err := sh.store.addProducts(ps, s.now()); err != nil {
		return fmt.Errorf("%s: %w", shop, err)
	}
	return nil
}

// AddOrders adds orders in one batch, fills in the ids and numbers it
// assigns, and updates the customers' numberOfOrders and amountSpent. Their
// customers and variants must exist. It sends no webhooks.
func (s *Simulator) AddOrders(shop string, os []Order) error {
	sh, err := s.mustShop(shop)
	if err != nil {
		return err
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if err := sh.store.addOrders(os, s.now()); err != nil {
		return fmt.Errorf("%s: %w", shop, err)
	}
	return nil
}

// GetCustomer returns a stored customer.
func (s *Simulator) GetCustomer(shop string, id int64) (Customer, bool) {
	sh, ok := s.shop(shop)
	if !ok {
		return Customer{}, false
	}
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	i := sh.store.customerIndex(id)
	if i < 0 {
		return Customer{}, false
	}
	return sh.store.customerOut(&sh.store.customers[i]), true
}

// GetOrder returns a stored order.
func (s *Simulator) GetOrder(shop string, id int64) (Order, bool) {
	sh, ok := s.shop(shop)
	if !ok {
		return Order{}, false
	}
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	i := sh.store.orderIndex(id)
	if i < 0 {
		return Order{}, false
	}
	return sh.store.orderOut(&sh.store.orders[i]), true
}

// Counts reports how many customers, orders and products a shop holds.
func (s *Simulator) Counts(shop string) (customers, orders, products int) {
	sh, ok := s.shop(shop)
	if !ok {
		return 0, 0, 0
	}
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	return sh.store.liveCustomers, sh.store.liveOrders, sh.store.liveProducts
}
