package webhooks_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/jobs"
	"github.com/cvo-app/cvo/webhooks"
)

const otherShop = "shop-a.myshopify.com"

// A customers/update body Shopify signed for another shop: the body of the
// replay attacks.
const customerOfShopA = `{"id":7001,"admin_graphql_api_id":"gid://shopify/Customer/7001","email":"ann@example.com","first_name":"Ann","updated_at":"2026-11-01T10:00:00Z","tags":""}`

func TestPayloadMustBeOfItsTopicAndShop(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	order := `{"id":450789469,"admin_graphql_api_id":"gid://shopify/Order/450789469","updated_at":"2026-11-01T10:00:00Z","customer":{"id":7,"admin_graphql_api_id":"gid://shopify/Customer/7"}}`
	refund := `{"id":509562969,"admin_graphql_api_id":"gid://shopify/Refund/509562969","order_id":450789469,"created_at":"2026-11-01T10:00:00Z"}`
	bulk := `{"admin_graphql_api_id":"gid://shopify/BulkOperation/147595010","completed_at":"2026-11-01T10:00:00Z","created_at":"2026-11-01T09:00:00Z","error_code":null,"status":"completed","type":"query"}`
	shopObj := func(myshopify, domain string) string {
		return fmt.Sprintf(`{"id":548380009,"name":"Super Toys","myshopify_domain":%s,"domain":%s}`, myshopify, domain)
	}
	q := func(s string) string { return `"` + s + `"` }
	redact := `{"shop_id":954889,"shop_domain":"` + f.shop + `","customer":{"id":191167,"email":"john@example.com","phone":"555-625-1199"},"orders_to_redact":[299938]}`
	request := `{"shop_id":954889,"shop_domain":"` + f.shop + `","orders_requested":[299938],"customer":{"id":191167,"email":"john@example.com","phone":null},"data_request":{"id":9999}}`

	cases := []struct {
		name, topic, body string
		want              int
	}{
		// The replay attacks: a signed customers/update of shop A resent
		// with shop B (this fixture's shop) in the header.
		{"customer body as shop/redact", "shop/redact", customerOfShopA, 400},
		{"customer body as app/uninstalled", "app/uninstalled", customerOfShopA, 400},
		{"customer body as customers/redact", "customers/redact", customerOfShopA, 400},

		{"shop/redact of this shop", "shop/redact", `{"shop_id":954889,"shop_domain":"` + f.shop + `"}`, 200},
		{"shop/redact of another shop", "shop/redact", `{"shop_id":954889,"shop_domain":"` + otherShop + `"}`, 400},
		{"shop/redact without shop_id", "shop/redact", `{"shop_domain":"` + f.shop + `"}`, 400},
		{"shop/redact without shop_domain", "shop/redact", `{"shop_id":954889}`, 400},
		{"shop/redact not an object", "shop/redact", `[{"shop_id":954889,"shop_domain":"` + f.shop + `"}]`, 400},
		// Every compliance body carries shop_id and shop_domain of the same
		// shop: a captured customer request must not erase the whole shop.
		{"customers/redact body as shop/redact", "shop/redact", redact, 400},
		{"customers/data_request body as shop/redact", "shop/redact", request, 400},
		{"shop/redact naming a resource id", "shop/redact", `{"id":1,"shop_id":954889,"shop_domain":"` + f.shop + `"}`, 400},

		{"app/uninstalled by myshopify_domain", "app/uninstalled", shopObj(q(f.shop), q("toys.example.com")), 200},
		{"app/uninstalled by domain", "app/uninstalled", shopObj("null", q(f.shop)), 200},
		{"app/uninstalled of another shop", "app/uninstalled", shopObj(q(otherShop), q(otherShop)), 400},
		{"app/uninstalled naming no shop", "app/uninstalled", shopObj("null", "null"), 400},
		{"app/uninstalled custom domain only", "app/uninstalled", shopObj("null", q("toys.example.com")), 400},
		{"app/uninstalled domain of another shop", "app/uninstalled", shopObj(q(f.shop), q(otherShop)), 400},
		{"app/uninstalled without id", "app/uninstalled", `{"myshopify_domain":"` + f.shop + `"}`, 400},

		{"customers/redact", "customers/redact", redact, 200},
		{"customers/redact of another shop", "customers/redact", strings.Replace(redact, f.shop, otherShop, 1), 400},
		{"customers/redact without customer id", "customers/redact", strings.Replace(redact, `"id":191167,`, "", 1), 400},
		{"customers/redact with a text id", "customers/redact", strings.Replace(redact, `"id":191167`, `"id":"abc"`, 1), 400},
		{"customers/redact without orders", "customers/redact", strings.Replace(redact, `,"orders_to_redact":[299938]`, "", 1), 400},
		{"data request body as customers/redact", "customers/redact", request, 400},
		{"customers/data_request", "customers/data_request", request, 200},
		{"customers/data_request of another shop", "customers/data_request", strings.Replace(request, f.shop, otherShop, 1), 400},
		{"customers/data_request without request id", "customers/data_request", strings.Replace(request, `,"data_request":{"id":9999}`, "", 1), 400},
		{"redact body as customers/data_request", "customers/data_request", redact, 400},

		{"orders/create", "orders/create", order, 200},
		{"orders/updated", "orders/updated", order, 200},
		{"orders/paid", "orders/paid", order, 200},
		{"orders/cancelled guest order", "orders/cancelled", strings.Replace(order, `{"id":7,"admin_graphql_api_id":"gid://shopify/Customer/7"}`, "null", 1), 200},
		{"order with a wrong gid", "orders/create", strings.Replace(order, "Order/450789469", "Order/1", 1), 400},
		{"order without gid", "orders/create", `{"id":450789469}`, 400},
		{"order naming another shop", "orders/create", strings.Replace(order, `{"id":450789469,`, `{"id":450789469,"shop_domain":"`+otherShop+`",`, 1), 400},
		{"order with a text customer", "orders/create", strings.Replace(order, `{"id":7,"admin_graphql_api_id":"gid://shopify/Customer/7"}`, `"7"`, 1), 400},
		{"customer body as orders/create", "orders/create", customerOfShopA, 400},
		{"refunds/create", "refunds/create", refund, 200},
		{"refund without order_id", "refunds/create", strings.Replace(refund, `"order_id":450789469,`, "", 1), 400},
		{"order body as refunds/create", "refunds/create", order, 400},
		{"customers/update", "customers/update", customerOfShopA, 200},
		{"customers/create", "customers/create", customerOfShopA, 200},
		{"customers/delete", "customers/delete", `{"id":7001,"admin_graphql_api_id":"gid://shopify/Customer/7001"}`, 200},
		{"order body as customers/delete", "customers/delete", order, 400},
		{"bulk_operations/finish", "bulk_operations/finish", bulk, 200},
		{"bulk_operations/finish of another type", "bulk_operations/finish", strings.Replace(bulk, "BulkOperation/", "Order/", 1), 400},
		{"bulk_operations/finish without status", "bulk_operations/finish", strings.Replace(bulk, `"status":"completed",`, "", 1), 400},
		{"app/scopes_update", "app/scopes_update", `{"id":1,"previous":["read_orders"],"current":["read_orders"],"updated_at":"2026-11-01T10:00:00Z"}`, 200},
		{"app/scopes_update without current", "app/scopes_update", `{"id":1,"previous":["read_orders"]}`, 400},
		{"app/scopes_update with text current", "app/scopes_update", `{"id":1,"current":"read_orders"}`, 400},
		{"app/scopes_update naming another shop", "app/scopes_update", `{"id":1,"current":[],"shop_domain":"` + otherShop + `"}`, 400},
		{"unknown topic", "products/create", `{"id":1}`, 400},
		{"two JSON values", "orders/create", order + order, 400},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// Each case gets an installed shop, so a wrongly accepted
			// destructive delivery shows in the next check.
			require.NoError(t, f.shops.SaveInstall(ctx, f.shop, cvo.Token{AccessToken: "tok", RefreshToken: "ref"}))
			id := fmt.Sprintf("wh-shape-%d", i)
			require.Equal(t, tc.want, f.deliver(t, tc.topic, id, tc.body, nil))
			if tc.want == http.StatusOK {
				return
			}
			_, err := f.deliveries.Get(ctx, f.shop, id)
			assert.Error(t, err, "a refused delivery is not recorded")
			s, err := f.shops.Get(ctx, f.shop)
			require.NoError(t, err, "a refused delivery deletes nothing")
			assert.True(t, s.Installed(), "a refused delivery uninstalls nothing")
			assert.NotEmpty(t, s.AccessToken)
			_, err = f.inspector.GetTaskInfo(f.queue.Namespace().QueueName(jobs.QueueWebhooks), "webhook:"+f.shop+":"+id)
			assert.Error(t, err, "a refused delivery starts no job")
		})
	}
}

func TestReplayedCustomerBodyLeavesTheOtherShopWhole(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	require.Equal(t, http.StatusOK, f.deliver(t, "orders/create", "wh-own", `{"id":1,"admin_graphql_api_id":"gid://shopify/Order/1"}`, nil))
	before := f.deliveryCount(t)

	assert.Equal(t, http.StatusBadRequest, f.deliver(t, "shop/redact", "wh-replay-1", customerOfShopA, nil))
	assert.Equal(t, http.StatusBadRequest, f.deliver(t, "app/uninstalled", "wh-replay-2", customerOfShopA, nil))

	s, err := f.shops.Get(ctx, f.shop)
	require.NoError(t, err, "shop B's rows are all there")
	assert.True(t, s.Installed())
	assert.Equal(t, "tok", s.AccessToken, "shop B keeps its tokens")
	assert.Equal(t, before, f.deliveryCount(t), "nothing recorded")
}

func TestUnsignedOversizedBodyIsNotKept(t *testing.T) {
	f := newFixture(t)
	size := int64(3 * webhooks.MaxBody)
	cases := []struct {
		name          string
		contentLength int64
		maxAlloc      uint64
	}{
		// Declared too long: only hashed, never kept.
		{"declared length", size, 512 << 10},
		// Chunked: kept only until it passes MaxBody, then dropped.
		{"chunked", -1, webhooks.MaxBody + 512<<10},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/webhooks", io.LimitReader(spaces{}, size))
			req.ContentLength = tc.contentLength
			req.Header.Set("X-Shopify-Topic", "orders/create")
			req.Header.Set("X-Shopify-Shop-Domain", f.shop)
			req.Header.Set("X-Shopify-Webhook-Id", "wh-big")
			req.Header.Set("X-Shopify-Hmac-Sha256", sign("something else"))
			rec := httptest.NewRecorder()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			f.handler.ServeHTTP(rec, req)
			runtime.ReadMemStats(&after)
			assert.Equal(t, http.StatusUnauthorized, rec.Code)
			t.Logf("%d-byte unsigned body, %s: %d bytes allocated", size, tc.name, after.TotalAlloc-before.TotalAlloc)
			assert.Less(t, after.TotalAlloc-before.TotalAlloc, tc.maxAlloc, "bytes allocated for an unsigned %d-byte body", size)
		})
	}
	assert.Zero(t, f.deliveryCount(t))

	body := `{"id":1,"admin_graphql_api_id":"gid://shopify/Order/1","note":"` + strings.Repeat("x", webhooks.MaxBody) + `"}`
	assert.Equal(t, http.StatusRequestEntityTooLarge, f.deliver(t, "orders/create", "wh-big-signed", body, nil), "a signed body over the cap")
	assert.Equal(t, http.StatusUnauthorized, f.deliver(t, "orders/create", "wh-big-unsigned", body, ptr(sign("x"))))
}

func TestLargeSignedBodyIsKeptWhole(t *testing.T) {
	f := newFixture(t)
	// Several of the receiver's buffer blocks, with a seam inside a value.
	body := `{"id":1,"admin_graphql_api_id":"gid://shopify/Order/1","note":"` + strings.Repeat("0123456789", 30_000) + `"}`
	require.Equal(t, http.StatusOK, f.deliver(t, "orders/create", "wh-large", body, nil))
	d, err := f.deliveries.Get(context.Background(), f.shop, "wh-large")
	require.NoError(t, err)
	assert.Equal(t, body, string(d.Payload))
}

type spaces struct{}

func (spaces) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	return len(p), nil
}
