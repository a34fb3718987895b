package activation_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/activation"
	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/postgres"
	"github.com/cvo-app/cvo/internal/postgres/pgtest"
	"github.com/cvo-app/cvo/internal/secretbox"
	"github.com/cvo-app/cvo/internal/shopify"
	"github.com/cvo-app/cvo/internal/simulator"
)

const (
	testShop     = "writeback.myshopify.com"
	testClientID = "wb-client"
	testSecret   = "wb-secret"
	testKey      = "v1:YWN0aXZhdGlvbi10ZXN0LWtleS0zMi1ieXRlcy1vayE="
	apiVersion   = "2026-10"
)

// fakeClock is shared by the simulator (its rate-limit bucket) and the
// Admin client (its waits), so throttling plays out without wall time.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
	return ctx.Err()
}

type staticTokens struct{ token string }

func (s staticTokens) AccessToken(context.Context, string) (string, error) { return s.token, nil }

type env struct {
	t     testing.TB
	sim   *simulator.Simulator
	srv   *httptest.Server
	db    *postgres.DB
	shops *postgres.ShopStore
	store *postgres.WritebackStore
	w     *activation.Writer
	cfg   activation.Config
	clock *fakeClock
	hc    *http.Client
	token string
}

// newEnv runs the simulator over HTTP with one installed shop, a fresh
// database with the shop installed, and a Writer between them.
func newEnv(t testing.TB, tune ...func(*activation.Config)) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{t: t, clock: &fakeClock{t: time.Now().UTC().Truncate(time.Second)}}
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }))
	t.Cleanup(app.Close)
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { e.sim.Handler().ServeHTTP(w, r) }))
	t.Cleanup(e.srv.Close)
	e.sim = simulator.New(simulator.Config{
		ClientID: testClientID, ClientSecret: testSecret, AppURL: app.URL, PublicURL: e.srv.URL,
		APIVersion: apiVersion, Clock: e.clock.Now, BulkDir: t.TempDir(),
	})
	t.Cleanup(e.sim.Close)
	require.NoError(t, e.sim.AddShop(testShop, simulator.ShopOptions{Installed: true}))

	hc, err := shopify.NewHTTPClient(e.srv.URL, 30*time.Second)
	require.NoError(t, err)
	e.hc = hc
	st, err := e.sim.SessionToken(testShop, 1)
	require.NoError(t, err)
	tok, err := shopify.NewOAuth(testClientID, testSecret, hc).ExchangeSessionToken(ctx, testShop, st)
	require.NoError(t, err)
	e.token = tok.AccessToken

	e.db = pgtest.New(t)
	keys, err := secretbox.ParseKeyring(testKey)
	require.NoError(t, err)
	e.shops = postgres.NewShopStore(e.db, keys)
	require.NoError(t, e.shops.SaveInstall(ctx, testShop, tok))
	e.store = postgres.NewWritebackStore(e.db)

	cfg := activation.Config{
		Store: e.store, Shops: e.shops, Tokens: staticTokens{e.token}, HTTPClient: hc, APIVersion: apiVersion,
		PollMin: 2 * time.Millisecond, PollMax: 20 * time.Millisecond,
		ClientOptions: []shopify.AdminOption{shopify.WithClock(e.clock.Now, e.clock.Sleep), shopify.WithJitter(func() float64 { return 0 })},
	}
	for _, f := range tune {
		f(&cfg)
	}
	e.cfg = cfg
	e.w = activation.New(cfg)
	return e
}

// addCustomers adds customers carrying the given merchant tags.
func (e *env) addCustomers(n int, merchantTags ...string) []int64 {
	e.t.Helper()
	cs := make([]simulator.Customer, n)
	for i := range cs {
		cs[i] = simulator.Customer{Email: fmt.Sprintf("c%d@example.com", i), Tags: slices.Clone(merchantTags)}
	}
	require.NoError(e.t, e.sim.AddCustomers(testShop, cs))
	ids := make([]int64, n)
	for i, c := range cs {
		ids[i] = c.ID
	}
	return ids
}

func (e *env) tags(id int64) []string {
	e.t.Helper()
	c, ok := e.sim.GetCustomer(testShop, id)
	require.True(e.t, ok)
	return c.Tags
}

func (e *env) written(id int64) []string {
	e.t.Helper()
	w, _, err := e.store.Get(context.Background(), testShop, id)
	require.NoError(e.t, err)
	return w.Tags
}

// carry asserts that each customer holds its merchant tags then appTag at
// Shopify, and that appTag alone is recorded as written to it.
func (e *env) carry(ids []int64, appTag string, merchantTags ...string) {
	e.t.Helper()
	for _, id := range ids {
		assert.Equal(e.t, append(slices.Clone(merchantTags), appTag), e.tags(id), "customer %d", id)
		assert.Equal(e.t, []string{appTag}, e.written(id), "customer %d", id)
	}
}

func (e *env) apply(s cvo.Settings, scores []cvo.CustomerScore) activation.Report {
	e.t.Helper()
	rep, err := e.w.Apply(context.Background(), testShop, s, compact(scores))
	require.NoError(e.t, err)
	return rep
}

// score builds a customer's score in a group.
func score(id int64, group string) cvo.CustomerScore {
	return cvo.CustomerScore{CustomerID: strconv.FormatInt(id, 10), Group: group, R: 3, F: 2, M: 4,
		HistoricalCLV: 120.5, PredictedCLV: float64(id%7) * 10, PAlive: 0.8}
}

func scores(ids []int64, group func(i int) string) []cvo.CustomerScore {
	out := make([]cvo.CustomerScore, len(ids))
	for i, id := range ids {
		out[i] = score(id, group(i))
	}
	return out
}

// compact is activation.Scores of scores the tests made valid.
func compact(scores []cvo.CustomerScore) []activation.Score {
	out, err := activation.Scores(scores)
	if err != nil {
		panic(err)
	}
	return out
}

func all(group string) func(int) string { return func(int) string { return group } }

// tagsOnly writes group tags alone: no metafields, value tags or segments.
func tagsOnly() cvo.Settings {
	s := cvo.DefaultSettings()
	s.Metafields, s.Segments = false, false
	return s
}

// executedFields sums the top-level fields of the requests that ran and
// whose operation names contain op.
func executedFields(log []simulator.CallRecord, op string) int {
	n := 0
	for _, c := range log {
		if c.Executed() && strings.Contains(c.Operation, op) {
			n += c.Fields
		}
	}
	return n
}

func itoa(n int) string { return strconv.Itoa(n) }

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// gql sends a GraphQL request to the shop with the app's token.
func (e *env) gql(query string) (int, map[string]any) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, "https://"+testShop+"/admin/api/"+apiVersion+"/graphql.json",
		strings.NewReader(`{"query":`+quote(query)+`}`))
	require.NoError(e.t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Shopify-Access-Token", e.token)
	resp, err := e.hc.Do(req)
	require.NoError(e.t, err)
	defer resp.Body.Close()
	var out map[string]any
	require.NoError(e.t, json.NewDecoder(resp.Body).Decode(&out))
	return resp.StatusCode, out
}
