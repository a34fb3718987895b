package webhooks_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/jobs"
	"github.com/cvo-app/cvo/internal/jobs/jobstest"
	"github.com/cvo-app/cvo/internal/postgres"
	"github.com/cvo-app/cvo/internal/postgres/pgtest"
	"github.com/cvo-app/cvo/internal/secretbox"
	"github.com/cvo-app/cvo/webhooks"
)

const secret = "test-client-secret"

type fixture struct {
	db         *postgres.DB
	shops      *postgres.ShopStore
	deliveries *postgres.DeliveryStore
	privacy    *postgres.PrivacyStore
	queue      *jobs.Queue
	inspector  *asynq.Inspector
	handler    http.Handler
	receiver   *webhooks.Receiver
	shop       string
}

func newFixture(t testing.TB) *fixture {
	db := pgtest.New(t)
	redisOpt := jobstest.RedisOpt(t)
	ns := jobstest.Namespace(t)
	keys, err := secretbox.ParseKeyring("v1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
	require.NoError(t, err)
	f := &fixture{
		db:         db,
		shops:      postgres.NewShopStore(db, keys),
		deliveries: postgres.NewDeliveryStore(db),
		privacy:    postgres.NewPrivacyStore(db),
		queue:      jobs.NewQueue(redisOpt, ns),
		inspector:  asynq.NewInspector(redisOpt),
		// A shop of its own per test keeps task ids apart in the shared Redis.
		shop: fmt.Sprintf("t%d.myshopify.com", time.Now().UnixNano()),
	}
	t.Cleanup(func() { f.queue.Close(); f.inspector.Close() })
	r := webhooks.NewReceiver(secret, f.deliveries, f.shops, f.privacy, f.queue, slog.New(slog.NewTextHandler(io.Discard, nil)))
	e := echo.New()
	e.POST("/webhooks", r.Handle)
	f.handler, f.receiver = e, r
	require.NoError(t, f.shops.SaveInstall(context.Background(), f.shop, cvo.Token{AccessToken: "tok", RefreshToken: "ref"}))
	return f
}

func sign(body string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(body))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func (f *fixture) deliver(t testing.TB, topic, id, body string, hmacHeader *string) int {
	req := httptest.NewRequest(http.MethodPost, "/webhooks", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Shopify-Topic", topic)
	req.Header.Set("X-Shopify-Shop-Domain", f.shop)
	req.Header.Set("X-Shopify-Webhook-Id", id)
	req.Header.Set("X-Shopify-API-Version", "2026-10")
	if hmacHeader == nil {
		req.Header.Set("X-Shopify-Hmac-Sha256", sign(body))
	} else if *hmacHeader != "" {
		req.Header.Set("X-Shopify-Hmac-Sha256", *hmacHeader)
	}
	rec := httptest.NewRecorder()
	f.handler.ServeHTTP(rec, req)
	return rec.Code
}

func (f *fixture) deliveryCount(t *testing.T) int {
	var n int
	require.NoError(t, f.db.Pool.QueryRow(context.Background(), "SELECT count(*) FROM webhook_deliveries").Scan(&n))
	return n
}

func ptr(s string) *string { return &s }

func TestSignatureCheckedBeforeAnythingElse(t *testing.T) {
	f := newFixture(t)
	body := `{"id":1}`
	cases := []struct {
		name string
		hmac *string
	}{
		{"missing", ptr("")},
		{"not base64", ptr("%%%")},
		{"signed with another secret", ptr(base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef")))},
		{"signature of another body", ptr(sign(`{"id":2}`))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, http.StatusUnauthorized, f.deliver(t, "customers/redact", "wh-bad", body, tc.hmac))
		})
	}
	assert.Zero(t, f.deliveryCount(t), "an unsigned delivery must leave no trace")
	assert.Equal(t, http.StatusUnauthorized, f.deliver(t, "customers/redact", "wh-bad", `{"shop_domain":"x"}`+strings.Repeat(" ", webhooks.MaxBody), ptr("bad")),
		"an oversized unsigned body is still refused as unsigned")
}

func TestDuplicateDeliveriesAreHandledOnce(t *testing.T) {
	f := newFixture(t)
	body := `{"id":450789469,"admin_graphql_api_id":"gid://shopify/Order/450789469","updated_at":"2026-11-01T10:00:00Z"}`
	for range 3 {
		assert.Equal(t, http.StatusOK, f.deliver(t, "orders/create", "wh-dup", body, nil))
	}
	assert.Equal(t, 1, f.deliveryCount(t))
	info, err := f.inspector.GetTaskInfo(f.queue.Namespace().QueueName(jobs.QueueWebhooks), "webhook:"+f.shop+":wh-dup")
	require.NoError(t, err, "the delivery was handed to a job")
	assert.Equal(t, jobs.TypeApplyWebhook, info.Type)
	assert.NotContains(t, string(info.Payload), "450789469", "order data stays in Postgres, not Redis")
	d, err := f.deliveries.Get(context.Background(), f.shop, "wh-dup")
	require.NoError(t, err)
	assert.JSONEq(t, body, string(d.Payload), "the payload is kept for the job")
}

func TestUninstalledIsIdempotentAndKeepsData(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	require.NoError(t, f.queue.EnqueueSync(ctx, f.shop))
	for i := range 2 {
		assert.Equal(t, http.StatusOK, f.deliver(t, "app/uninstalled", fmt.Sprintf("wh-u%d", i), `{"id":1,"domain":"`+f.shop+`"}`, nil))
	}
	s, err := f.shops.Get(ctx, f.shop)
	require.NoError(t, err, "the shop's data stays until shop/redact")
	assert.False(t, s.Installed())
	assert.Empty(t, s.AccessToken)
	_, err = f.inspector.GetTaskInfo(f.queue.Namespace().QueueName(jobs.QueueDefault), "sync:"+f.shop)
	assert.ErrorIs(t, err, asynq.ErrTaskNotFound, "queued jobs of the shop are stopped")
}

func TestScopesUpdate(t *testing.T) {
	f := newFixture(t)
	assert.Equal(t, http.StatusOK, f.deliver(t, "app/scopes_update", "wh-s", `{"id":1,"previous":["read_orders"],"current":["read_orders","read_customers"],"updated_at":"2026-11-01T10:00:00Z"}`, nil))
	s, err := f.shops.Get(context.Background(), f.shop)
	require.NoError(t, err)
	assert.Equal(t, []string{"read_orders", "read_customers"}, s.Scopes)
}

func TestComplianceTopics(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	request := `{"shop_id":954889,"shop_domain":"` + f.shop + `","orders_requested":[299938,280263],"customer":{"id":191167,"email":"john@example.com","phone":"555-625-1199"},"data_request":{"id":9999}}`
	assert.Equal(t, http.StatusOK, f.deliver(t, "customers/data_request", "wh-dr", request, nil))
	export, err := f.privacy.DataRequest(ctx, f.shop, "9999")
	require.NoError(t, err)
	assert.Contains(t, string(export), `"customer_id": "191167"`)

	redact := `{"shop_id":954889,"shop_domain":"` + f.shop + `","customer":{"id":191167,"email":"john@example.com","phone":"555-625-1199"},"orders_to_redact":[299938]}`
	assert.Equal(t, http.StatusOK, f.deliver(t, "customers/redact", "wh-cr", redact, nil))
	_, err = f.privacy.DataRequest(ctx, f.shop, "9999")
	assert.Equal(t, cvo.ENOTFOUND, cvo.ErrorCode(err), "the redacted customer's export is gone")

	mismatch := `{"shop_id":954889,"shop_domain":"other.myshopify.com"}`
	assert.Equal(t, http.StatusBadRequest, f.deliver(t, "shop/redact", "wh-sr-bad", mismatch, nil), "refused, never applied")
	_, err = f.shops.Get(ctx, f.shop)
	require.NoError(t, err, "a payload naming another shop deletes nothing")

	assert.Equal(t, http.StatusOK, f.deliver(t, "shop/redact", "wh-sr", `{"shop_id":954889,"shop_domain":"`+f.shop+`"}`, nil))
	assert.Empty(t, pgtest.FindText(t, f.db, f.shop), "shop/redact removes everything of the shop")
}

func TestBadHeadersAreRefused(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct{ name, topic, id string }{{"no topic", "", "wh-1"}, {"no webhook id", "orders/create", ""}} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, http.StatusBadRequest, f.deliver(t, tc.topic, tc.id, `{}`, nil))
		})
	}
}

func FuzzReceiver(f *testing.F) {
	fx := newFixture(f)
	f.Add("customers/redact", `{"shop_domain":"x.myshopify.com","customer":{"id":1}}`, true)
	f.Add("customers/data_request", `{"customer":{"id":"abc"}}`, true)
	f.Add("app/scopes_update", `{"current":5}`, true)
	f.Add("orders/create", `not json`, false)
	f.Add("shop/redact", customerOfShopA, true)
	f.Add("app/uninstalled", `{"id":1,"domain":null,"myshopify_domain":7}`, true)
	f.Add("refunds/create", `{"id":1,"admin_graphql_api_id":"gid://shopify/Refund/1","order_id":-1}`, true)
	f.Fuzz(func(t *testing.T, topic, body string, signed bool) {
		h := ptr("")
		if signed {
			h = nil
		}
		id := fmt.Sprintf("fz-%d", time.Now().UnixNano())
		code := fx.deliver(t, topic, id, body, h)
		if !signed && code != http.StatusUnauthorized {
			t.Fatalf("unsigned delivery answered %d", code)
		}
		if code >= 500 {
			t.Fatalf("signed delivery %q answered %d", topic, code)
		}
		if code >= 400 {
			if _, err := fx.deliveries.Get(context.Background(), fx.shop, id); err == nil {
				t.Fatalf("refused delivery %q (%d) was recorded", topic, code)
			}
		}
	})
}
