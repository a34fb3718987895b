package simulator

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const (
	testClientID = "test-client-id"
	testSecret   = "test-client-secret"
	testShop     = "demo.myshopify.com"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type receivedHook struct {
	header http.Header
	body   []byte
	path   string
}

// harness runs the simulator and a stand-in app that records webhooks.
type harness struct {
	t      *testing.T
	sim    *Simulator
	clock  *fakeClock
	srv    *httptest.Server
	app    *httptest.Server
	client *http.Client

	mu        sync.Mutex
	hooks     []receivedHook
	appStatus int // status the stand-in app answers webhooks with
}

func newHarness(t *testing.T, mutate ...func(*Config)) *harness {
	t.Helper()
	h := &harness{t: t, clock: &fakeClock{t: time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)}, appStatus: http.StatusOK}
	h.app = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.hooks = append(h.hooks, receivedHook{header: r.Header.Clone(), body: body, path: r.URL.Path})
		status := h.appStatus
		h.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(h.app.Close)
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.sim.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(h.srv.Close)
	cfg := Config{
		ClientID: testClientID, ClientSecret: testSecret, AppURL: h.app.URL, PublicURL: h.srv.URL,
		APIVersion: "2026-10", Clock: h.clock.Now, BulkDir: t.TempDir(),
	}
	for _, m := range mutate {
		m(&cfg)
	}
	h.sim = New(cfg)
	t.Cleanup(h.sim.Close)
	h.client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	require.NoError(t, h.sim.AddShop(testShop, ShopOptions{Currency: "GBP", Timezone: "Europe/London"}))
	return h
}

func (h *harness) receivedHooks() []receivedHook {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]receivedHook, len(h.hooks))
	copy(out, h.hooks)
	return out
}

// do sends a request to the simulator as if to https://{shop}{path}.
func (h *harness) do(method, shop, path string, body io.Reader, header map[string]string) *http.Response {
	h.t.Helper()
	req, err := http.NewRequest(method, h.srv.URL+path, body)
	require.NoError(h.t, err)
	req.Host = shop
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := h.client.Do(req)
	require.NoError(h.t, err)
	h.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func decodeBody(t *testing.T, resp *http.Response) map[string]any {
	t.Helper()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var out map[string]any
	require.NoError(t, json.Unmarshal(raw, &out), "body: %s", raw)
	return out
}

func (h *harness) postToken(shop string, params map[string]any) (*http.Response, map[string]any) {
	h.t.Helper()
	raw, err := json.Marshal(params)
	require.NoError(h.t, err)
	resp := h.do(http.MethodPost, shop, "/admin/oauth/access_token", bytes.NewReader(raw), map[string]string{"Content-Type": "application/json"})
	return resp, decodeBody(h.t, resp)
}

func (h *harness) exchange(shop, sessionToken, tokenType string, expiring bool) (*http.Response, map[string]any) {
	params := map[string]any{
		"client_id": testClientID, "client_secret": testSecret, "grant_type": grantTokenExchange,
		"subject_token": sessionToken, "subject_token_type": tokenTypeIDToken, "requested_token_type": tokenType,
	}
	if expiring {
		params["expiring"] = "1"
	}
	return h.postToken(shop, params)
}

// token gets an expiring offline token through token exchange.
func (h *harness) token(shop string) string {
	h.t.Helper()
	return h.tokenOf(shop, true)
}

// longToken gets a non-expiring offline token, for tests that move the
// clock by days.
func (h *harness) longToken(shop string) string {
	h.t.Helper()
	return h.tokenOf(shop, false)
}

func (h *harness) tokenOf(shop string, expiring bool) string {
	h.t.Helper()
	st, err := h.sim.SessionToken(shop, 1)
	require.NoError(h.t, err)
	resp, body := h.exchange(shop, st, tokenTypeOfflineAccess, expiring)
	require.Equal(h.t, http.StatusOK, resp.StatusCode, body)
	return body["access_token"].(string)
}

// graphql posts a query and returns the status and decoded body.
func (h *harness) graphql(shop, token, query string, vars map[string]any) (int, map[string]any) {
	h.t.Helper()
	raw, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	require.NoError(h.t, err)
	resp := h.do(http.MethodPost, shop, "/admin/api/2026-10/graphql.json", bytes.NewReader(raw),
		map[string]string{"Content-Type": "application/json", "X-Shopify-Access-Token": token})
	return resp.StatusCode, decodeBody(h.t, resp)
}

// path walks decoded JSON by keys and indexes.
func path(v any, keys ...any) any {
	for _, k := range keys {
		switch kk := k.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[kk]
		case int:
			l, ok := v.([]any)
			if !ok || kk >= len(l) {
				return nil
			}
			v = l[kk]
		}
	}
	return v
}

func costOf(body map[string]any) (requested, actual any, available float64) {
	c := path(body, "extensions", "cost")
	a, _ := path(c, "throttleStatus", "currentlyAvailable").(float64)
	return path(c, "requestedQueryCost"), path(c, "actualQueryCost"), a
}

func queryValues(t *testing.T, raw string) url.Values {
	t.Helper()
	u, err := url.Parse(raw)
	require.NoError(t, err)
	return u.Query()
}

func mustContain(t *testing.T, s, sub string) {
	t.Helper()
	require.True(t, strings.Contains(s, sub), "%q does not contain %q", s, sub)
}
