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
	f.handler = e
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

// A data delivery is stored before it is queued; the queue losing it (or
// never getting it) must not lose it: Shopify's retry of a delivery still
// waiting to be applied queues it again, and a retry of one applied or
// redacted changes nothing.
func TestDataDeliveryIsQueuedAgainWhileUnapplied(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	body := `{"id":450789469,"admin_graphql_api_id":"gid://shopify/Order/450789469","updated_at":"2026-11-01T10:00:00Z"}`
	queueName := f.queue.Namespace().QueueName(jobs.QueueWebhooks)
	queued := func(id string) bool {
		_, err := f.inspector.GetTaskInfo(queueName, "webhook:"+f.shop+":"+id)
		return err == nil
	}
	cases := []struct {
		name      string
		update    string // what happened to the stored delivery since
		requeued  bool
		wantState string
	}{
		{"pending, its task lost", "", true, postgres.DeliveryPending},
		{"applied", `UPDATE webhook_deliveries SET state = 'applied', payload = NULL WHERE shop = $1 AND webhook_id = $2`, false, postgres.DeliveryApplied},
		{"redacted", `UPDATE webhook_deliveries SET payload = NULL, error = 'redacted' WHERE shop = $1 AND webhook_id = $2`, false, postgres.DeliveryPending},
		{"dead", `UPDATE webhook_deliveries SET state = 'dead' WHERE shop = $1 AND webhook_id = $2`, false, postgres.DeliveryDead},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id := fmt.Sprintf("wh-lost-%d", i)
			require.Equal(t, http.StatusOK, f.deliver(t, "orders/create", id, body, nil))
			require.True(t, queued(id))
			require.NoError(t, f.inspector.DeleteTask(queueName, "webhook:"+f.shop+":"+id))
			if tc.update != "" {
				_, err := f.db.Pool.Exec(ctx, tc.update, f.shop, id)
				require.NoError(t, err)
			}
			require.Equal(t, http.StatusOK, f.deliver(t, "orders/create", id, body, nil), "a retry is answered 200")
			assert.Equal(t, tc.requeued, queued(id))
			info, err := f.deliveries.Info(ctx, f.shop, id)
			require.NoError(t, err)
			assert.Equal(t, tc.wantState, info.State)
			assert.Equal(t, 1, f.deliveryCount(t)-i, "a retry adds no row")
		})
	}
}

// Redis refusing the task after the delivery is stored answers 5xx, so
// Shopify retries, and leaves the delivery stored and pending, where the
// sweeper finds it.
func TestDataDeliveryStoredWhenQueueFails(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	// Nothing listens on port 1: a real connection failure, not a stand-in.
	down := jobs.NewQueue(asynq.RedisClientOpt{Addr: "127.0.0.1:1", DialTimeout: 200 * time.Millisecond}, f.queue.Namespace())
	t.Cleanup(func() { down.Close() })
	e := echo.New()
	e.POST("/webhooks", webhooks.NewReceiver(secret, f.deliveries, f.shops, f.privacy, down, slog.New(slog.NewTextHandler(io.Discard, nil))).Handle)
	broken := *f
	broken.handler = e

	body := `{"id":7001,"admin_graphql_api_id":"gid://shopify/Customer/7001","updated_at":"2026-11-01T10:00:00Z"}`
	assert.Equal(t, http.StatusInternalServerError, broken.deliver(t, "customers/update", "wh-q", body, nil))
	d, err := f.deliveries.Get(ctx, f.shop, "wh-q")
	require.NoError(t, err, "stored before queueing")
	assert.JSONEq(t, body, string(d.Payload))
	info, err := f.deliveries.Info(ctx, f.shop, "wh-q")
	require.NoError(t, err)
	assert.Equal(t, postgres.DeliveryPending, info.State, "left for the sweeper")

	assert.Equal(t, http.StatusOK, f.deliver(t, "customers/update", "wh-q", body, nil), "Shopify's retry")
	_, err = f.inspector.GetTaskInfo(f.queue.Namespace().QueueName(jobs.QueueWebhooks), "webhook:"+f.shop+":wh-q")
	assert.NoError(t, err, "the retry queued it")
}
