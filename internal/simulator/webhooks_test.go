package simulator

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	goshopify "github.com/bold-commerce/go-shopify/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWebhookHeadersAndSignature(t *testing.T) {
	h := newHarness(t)
	status, err := h.sim.SendWebhook(context.Background(), testShop, "orders/updated", map[string]any{"id": 1})
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, status)

	hooks := h.receivedHooks()
	require.Len(t, hooks, 1)
	got := hooks[0]
	assert.Equal(t, "/webhooks", got.path)
	assert.JSONEq(t, `{"id":1}`, string(got.body))
	assert.Equal(t, "orders/updated", got.header.Get("X-Shopify-Topic"))
	assert.Equal(t, testShop, got.header.Get("X-Shopify-Shop-Domain"))
	assert.Equal(t, "2026-10", got.header.Get("X-Shopify-API-Version"))
	assert.NotEmpty(t, got.header.Get("X-Shopify-Webhook-Id"))
	assert.NotEmpty(t, got.header.Get("X-Shopify-Event-Id"))
	triggered, err := time.Parse(time.RFC3339Nano, got.header.Get("X-Shopify-Triggered-At"))
	require.NoError(t, err)
	assert.True(t, triggered.Equal(h.clock.Now()))

	// The pinned client library verifies the signature with the secret...
	req := httptest.NewRequest(http.MethodPost, "/webhooks", bytes.NewReader(got.body))
	req.Header = got.header
	app := goshopify.App{ApiSecret: testSecret}
	assert.True(t, app.VerifyWebhookRequest(req))
	// ...and rejects it with another secret or another body.
	req = httptest.NewRequest(http.MethodPost, "/webhooks", bytes.NewReader(got.body))
	req.Header = got.header
	assert.False(t, goshopify.App{ApiSecret: "other"}.VerifyWebhookRequest(req))
	req = httptest.NewRequest(http.MethodPost, "/webhooks", bytes.NewReader([]byte(`{"id":2}`)))
	req.Header = got.header
	assert.False(t, app.VerifyWebhookRequest(req))
}

func TestWebhookRetryReusesIDs(t *testing.T) {
	h := newHarness(t)
	h.appStatus = http.StatusInternalServerError
	d, err := h.sim.NewWebhook(testShop, "customers/update", []byte(`{"id":5}`))
	require.NoError(t, err)
	status, err := h.sim.Deliver(context.Background(), d)
	require.NoError(t, err)
	assert.Equal(t, http.StatusInternalServerError, status)
	h.appStatus = http.StatusOK
	status, err = h.sim.Deliver(context.Background(), d)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, status)

	hooks := h.receivedHooks()
	require.Len(t, hooks, 2)
	assert.Equal(t, hooks[0].header.Get("X-Shopify-Webhook-Id"), hooks[1].header.Get("X-Shopify-Webhook-Id"))
	assert.Equal(t, hooks[0].body, hooks[1].body)
	attempts := h.sim.WebhookAttempts()
	require.Len(t, attempts, 2)
	assert.Equal(t, []int{500, 200}, []int{attempts[0].Status, attempts[1].Status})

	other, err := h.sim.NewWebhook(testShop, "customers/update", []byte(`{"id":5}`))
	require.NoError(t, err)
	assert.NotEqual(t, d.WebhookID, other.WebhookID, "a new delivery gets a new id")
}

func TestWebhookTimeoutAndRedirect(t *testing.T) {
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/webhooks/compliance" {
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
			return
		}
		select {
		case <-r.Context().Done():
		case <-time.After(300 * time.Millisecond):
		}
	}))
	defer slow.Close()
	sim := New(Config{ClientID: testClientID, ClientSecret: testSecret, AppURL: slow.URL, BulkDir: t.TempDir()})
	defer sim.Close()
	sim.webhookTimeout = 50 * time.Millisecond
	require.NoError(t, sim.AddShop(testShop, ShopOptions{}))

	_, err := sim.SendWebhook(context.Background(), testShop, "orders/create", map[string]any{})
	assert.Error(t, err, "no answer within the limit is a failed delivery")

	status, err := sim.ShopRedact(context.Background(), testShop)
	require.NoError(t, err)
	assert.Equal(t, http.StatusFound, status, "a redirect is reported, not followed")
}

func TestComplianceAndUninstall(t *testing.T) {
	h := newHarness(t)
	seedTiny(t, h.sim, testShop)
	tok := h.token(testShop)
	ctx := context.Background()

	_, err := h.sim.CustomersDataRequest(ctx, testShop, 1, nil)
	require.NoError(t, err)
	_, err = h.sim.CustomersRedact(ctx, testShop, 1, []int64{2})
	require.NoError(t, err)
	status, err := h.sim.Uninstall(ctx, testShop)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, status)
	_, err = h.sim.ShopRedact(ctx, testShop)
	require.NoError(t, err)

	hooks := h.receivedHooks()
	require.Len(t, hooks, 4)
	decode := func(raw []byte) map[string]any {
		var m map[string]any
		require.NoError(t, json.Unmarshal(raw, &m))
		return m
	}
	sh, _ := h.sim.shop(testShop)

	assert.Equal(t, "customers/data_request", hooks[0].header.Get("X-Shopify-Topic"))
	assert.Equal(t, "/webhooks/compliance", hooks[0].path)
	dr := decode(hooks[0].body)
	assert.EqualValues(t, sh.id, dr["shop_id"])
	assert.Equal(t, testShop, dr["shop_domain"])
	assert.Equal(t, []any{1.0, 2.0}, dr["orders_requested"])
	assert.Equal(t, map[string]any{"id": 1.0, "email": "alice@example.com", "phone": nil}, dr["customer"])
	assert.NotNil(t, path(dr, "data_request", "id"))

	red := decode(hooks[1].body)
	assert.Equal(t, "customers/redact", hooks[1].header.Get("X-Shopify-Topic"))
	assert.Equal(t, []any{2.0}, red["orders_to_redact"])
	assert.EqualValues(t, 1, path(red, "customer", "id"))

	assert.Equal(t, "app/uninstalled", hooks[2].header.Get("X-Shopify-Topic"))
	assert.Equal(t, "/webhooks", hooks[2].path)
	assert.Equal(t, testShop, decode(hooks[2].body)["myshopify_domain"])

	assert.Equal(t, "shop/redact", hooks[3].header.Get("X-Shopify-Topic"))
	assert.Equal(t, map[string]any{"shop_id": float64(sh.id), "shop_domain": testShop}, decode(hooks[3].body))

	// Uninstalling revoked the tokens.
	assert.False(t, h.sim.Installed(testShop))
	assert.Zero(t, h.sim.ActiveTokens(testShop))
	status, _ = h.graphql(testShop, tok, `{ shop { name } }`, nil)
	assert.Equal(t, http.StatusUnauthorized, status)

	// Token exchange reinstalls.
	tok = h.token(testShop)
	status, _ = h.graphql(testShop, tok, `{ shop { name } }`, nil)
	assert.Equal(t, http.StatusOK, status)
}

func TestChangesSendWebhooksWhenAsked(t *testing.T) {
	h := newHarness(t)
	seedTiny(t, h.sim, testShop)
	h.token(testShop) // installs the app
	ctx := context.Background()

	_, err := h.sim.UpdateOrder(ctx, testShop, 1, func(o *Order) { o.SourceName = "pos" })
	require.NoError(t, err)
	assert.Empty(t, h.receivedHooks(), "no webhooks unless asked")

	created, err := h.sim.CreateOrder(ctx, testShop, Order{CustomerID: 2, Total: NewAmount(10),
		LineItems: []LineItem{{VariantID: 1, Quantity: 1, UnitPrice: NewAmount(10)}}}, WithWebhooks())
	require.NoError(t, err)
	assert.EqualValues(t, 1005, created.Number)
	hooks := h.receivedHooks()
	require.Len(t, hooks, 2)
	assert.Equal(t, "orders/create", hooks[0].header.Get("X-Shopify-Topic"))
	assert.Equal(t, "orders/paid", hooks[1].header.Get("X-Shopify-Topic"))
	assert.Equal(t, hooks[0].header.Get("X-Shopify-Event-Id"), hooks[1].header.Get("X-Shopify-Event-Id"), "one action, one event id")
	assert.NotEqual(t, hooks[0].header.Get("X-Shopify-Webhook-Id"), hooks[1].header.Get("X-Shopify-Webhook-Id"))
	var payload map[string]any
	require.NoError(t, json.Unmarshal(hooks[0].body, &payload))
	assert.Equal(t, "gid://shopify/Order/5", payload["admin_graphql_api_id"])
	assert.Equal(t, "10.0", payload["total_price"])
	assert.EqualValues(t, 2, path(payload, "customer", "id"))

	h.clock.Advance(time.Hour)
	_, err = h.sim.RefundOrder(ctx, testShop, 5, NewAmount(4), WithWebhooks())
	require.NoError(t, err)
	hooks = h.receivedHooks()[2:]
	require.Len(t, hooks, 2)
	assert.Equal(t, "orders/updated", hooks[0].header.Get("X-Shopify-Topic"))
	assert.Equal(t, "refunds/create", hooks[1].header.Get("X-Shopify-Topic"))
	require.NoError(t, json.Unmarshal(hooks[0].body, &payload))
	assert.Equal(t, "2026-10-01T13:00:00Z", payload["updated_at"])
	assert.Equal(t, "partially_refunded", payload["financial_status"])
	c, ok := h.sim.GetCustomer(testShop, 2)
	require.True(t, ok)
	o, _ := h.sim.GetOrder(testShop, 5)
	assert.Equal(t, NewAmount(4), o.Refunded())
	_ = c

	_, err = h.sim.CancelOrder(ctx, testShop, 5, "CUSTOMER", WithWebhooks())
	require.NoError(t, err)
	hooks = h.receivedHooks()[4:]
	require.Len(t, hooks, 2)
	assert.Equal(t, "orders/cancelled", hooks[1].header.Get("X-Shopify-Topic"))

	err = h.sim.DeleteCustomer(ctx, testShop, 1, WithWebhooks())
	assert.ErrorContains(t, err, "have orders")
	require.NoError(t, h.sim.DeleteCustomer(ctx, testShop, 3, WithWebhooks()))
	last := h.receivedHooks()[len(h.receivedHooks())-1]
	assert.Equal(t, "customers/delete", last.header.Get("X-Shopify-Topic"))
	_, ok = h.sim.GetCustomer(testShop, 3)
	assert.False(t, ok)

	upd, err := h.sim.UpdateCustomer(ctx, testShop, 2, func(c *Customer) { c.Tags = append(c.Tags, "cvo-soulmates") }, WithWebhooks())
	require.NoError(t, err)
	assert.Equal(t, []string{"cvo-soulmates"}, upd.Tags)
	last = h.receivedHooks()[len(h.receivedHooks())-1]
	assert.Equal(t, "customers/update", last.header.Get("X-Shopify-Topic"))
	body, _ := io.ReadAll(bytes.NewReader(last.body))
	mustContain(t, string(body), `"tags":"cvo-soulmates"`)
}
