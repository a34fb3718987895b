package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/postgres"
	"github.com/cvo-app/cvo/internal/postgres/pgtest"
)

func webhookFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "webhooks", name))
	require.NoError(t, err)
	return b
}

// edited returns the fixture with some top-level fields replaced.
func edited(t testing.TB, name string, set map[string]any) []byte {
	t.Helper()
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(webhookFixture(t, name)))
	d.UseNumber()
	require.NoError(t, d.Decode(&m))
	for k, v := range set {
		m[k] = v
	}
	b, err := json.Marshal(m)
	require.NoError(t, err)
	return b
}

func TestParseDocumentedWebhookPayloads(t *testing.T) {
	o, lines, refunds, err := parseOrderWebhook(webhookFixture(t, "orders_updated.json"))
	require.NoError(t, err)
	assert.Equal(t, postgres.OrderRow{
		ID: 820982911946154508, CustomerID: 115310627314723954, Name: "#9999",
		CreatedAt: ts("2024-05-01T14:12:00Z"), ProcessedAt: ts("2024-05-01T14:11:00Z"), UpdatedAt: ts("2024-05-02T12:00:00Z"),
		Currency: "GBP", Total: "95.40", Subtotal: "90.45", SourceName: "web",
		LandingPage: "/collections/teapots?utm_source=instagram&utm_medium=social&utm_campaign=may", ReferrerURL: "https://l.instagram.com/",
		UTMSource: "instagram", UTMMedium: "social", UTMCampaign: "may", DiscountCodes: []string{"SPRING"},
	}, o, "shop money from the *_set fields, never presentment money")
	assert.Equal(t, []postgres.LineRow{
		{OrderID: o.ID, ID: 866550311766439020, ProductID: 632910392, VariantID: 808950810, Title: "IPod Nano - 8GB", Quantity: 1, UnitPrice: "59.00"},
		{OrderID: o.ID, ID: 141249953214522974, Title: "Engraving", Quantity: 3, UnitPrice: "10.4833"},
	}, lines)
	// The refund was paid back in euros, so its shop-money value comes from
	// the refunded line (10 + 2 tax) and the refunded shipping (1.50).
	assert.Equal(t, []postgres.RefundRow{{OrderID: o.ID, ID: 509562969, CreatedAt: ts("2024-05-02T11:59:00Z"), Amount: "13.5"}}, refunds)

	r, err := parseRefundWebhook(webhookFixture(t, "refunds_create.json"))
	require.NoError(t, err)
	assert.Equal(t, postgres.RefundRow{OrderID: 820982911946154508, ID: 929361465, CreatedAt: ts("2024-05-03T16:00:00Z"), Amount: "20.0"}, r,
		"only the successful refund transaction counts")

	c, err := parseCustomerWebhook(webhookFixture(t, "customers_update.json"))
	require.NoError(t, err)
	assert.Equal(t, postgres.CustomerRow{ID: 706405506930370084, Email: "bob@biller.com", FirstName: "Bob", LastName: "Biller",
		City: "Ottawa", Country: "Canada", CountryCode: "CA", CreatedAt: ts("2024-01-10T16:00:00Z"), UpdatedAt: ts("2024-06-01T14:30:00Z")}, c)

	id, err := parseDeleteWebhook(webhookFixture(t, "customers_delete.json"))
	require.NoError(t, err)
	assert.Equal(t, int64(706405506930370084), id)

	fin, err := parseBulkFinishWebhook(webhookFixture(t, "bulk_operations_finish.json"))
	require.NoError(t, err)
	assert.Equal(t, "completed", fin.Status)

	for _, bad := range []string{`null`, `[]`, `{"id":0}`, `{"id":"x"}`, `"s"`, ``} {
		_, _, _, err := parseOrderWebhook([]byte(bad))
		assert.Error(t, err, bad)
		_, err = parseCustomerWebhook([]byte(bad))
		assert.Error(t, err, bad)
		_, err = parseDeleteWebhook([]byte(bad))
		assert.Error(t, err, bad)
		_, err = parseRefundWebhook([]byte(bad))
		assert.Error(t, err, bad)
	}
}

// webhookEnv records deliveries as the receiver would and applies them.
type webhookEnv struct {
	t          *testing.T
	db         *postgres.DB
	deliveries *postgres.DeliveryStore
	applier    *Applier
	applied    *postgres.DeliveryStore // the applier's
	seq        int
}

func newWebhookEnv(t *testing.T) *webhookEnv {
	db := pgtest.New(t)
	applied := postgres.NewDeliveryStore(db)
	// Waiting for a held lock is tested; waiting long for it is not.
	applied.LockWait = 300 * time.Millisecond
	return &webhookEnv{t: t, db: db, deliveries: postgres.NewDeliveryStore(db), applier: NewApplier(applied, nil, nil), applied: applied}
}

// deliver stores a delivery under a fresh webhook id and applies it.
func (e *webhookEnv) deliver(topic string, payload []byte) (string, error) {
	e.t.Helper()
	e.seq++
	id := fmt.Sprintf("wh-%d", e.seq)
	return id, e.redeliver(id, topic, payload)
}

// redeliver stores a delivery under a given webhook id (Shopify's retry)
// and applies it.
func (e *webhookEnv) redeliver(id, topic string, payload []byte) error {
	e.t.Helper()
	ctx := context.Background()
	_, err := e.deliveries.Record(ctx, cvo.WebhookDelivery{Shop: testShop, ID: id, Topic: topic, Payload: payload, TriggeredAt: time.Now()})
	require.NoError(e.t, err)
	require.NoError(e.t, e.deliveries.MarkHandled(ctx, testShop, id, true))
	return e.applier.ApplyWebhook(ctx, testShop, id)
}

func (e *webhookEnv) order(id int64) (postgres.OrderRow, []postgres.LineRow, []postgres.RefundRow) {
	e.t.Helper()
	o, lines, refunds, found, err := postgres.NewOrderStore(e.db).Get(context.Background(), testShop, id)
	require.NoError(e.t, err)
	require.True(e.t, found)
	return o, lines, refunds
}

func TestOrderWebhooksDuplicateOutOfOrderAndReplayed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newWebhookEnv(t)
	const id = 820982911946154508
	v2 := webhookFixture(t, "orders_updated.json") // updated 2024-05-02T12:00Z, two lines
	v1 := edited(t, "orders_updated.json", map[string]any{
		"updated_at": "2024-05-01T10:12:00-04:00", "total_price_set": nil, "total_price": "59.00",
		"line_items": []any{map[string]any{"id": 866550311766439020, "title": "IPod Nano - 8GB", "quantity": 1, "price": "59.00"}},
		"refunds":    []any{},
	})
	v3 := edited(t, "orders_updated.json", map[string]any{
		"updated_at": "2024-05-04T00:00:00Z", "cancelled_at": "2024-05-04T00:00:00Z",
		"line_items": []any{map[string]any{"id": 141249953214522974, "title": "Engraving", "quantity": 3, "price": "10.4833"}},
	})

	wid, err := e.deliver("orders/updated", v2)
	require.NoError(t, err)
	d, err := e.deliveries.Get(ctx, testShop, wid)
	require.NoError(t, err)
	assert.Nil(t, d.Payload, "an applied delivery's payload is dropped")
	want, wantLines, wantRefunds := e.order(id)
	assert.Equal(t, "95.4000", want.Total)
	assert.Len(t, wantLines, 2)
	assert.Len(t, wantRefunds, 1)

	// The older orders/create arrives late: nothing changes.
	_, err = e.deliver("orders/create", v1)
	require.NoError(t, err)
	got, gotLines, gotRefunds := e.order(id)
	assert.Equal(t, want, got)
	assert.Equal(t, wantLines, gotLines)
	assert.Equal(t, wantRefunds, gotRefunds)

	// The same delivery again (Shopify's retry, same webhook id) and the
	// same content under another id (orders/paid for the same change).
	require.NoError(t, e.redeliver(wid, "orders/updated", v2))
	_, err = e.deliver("orders/paid", v2)
	require.NoError(t, err)
	got, gotLines, gotRefunds = e.order(id)
	assert.Equal(t, want, got)
	assert.Equal(t, wantLines, gotLines)
	assert.Equal(t, wantRefunds, gotRefunds)

	// A newer version replaces the order and its lines.
	_, err = e.deliver("orders/cancelled", v3)
	require.NoError(t, err)
	got, gotLines, _ = e.order(id)
	assert.False(t, got.CancelledAt.IsZero())
	require.Len(t, gotLines, 1)
	assert.Equal(t, int64(141249953214522974), gotLines[0].ID)

	// And the late v1 still cannot undo it.
	_, err = e.deliver("orders/updated", v1)
	require.NoError(t, err)
	again, againLines, _ := e.order(id)
	assert.Equal(t, got, again)
	assert.Equal(t, gotLines, againLines)

	// refunds/create adds a refund once, however often it is delivered.
	rid, err := e.deliver("refunds/create", webhookFixture(t, "refunds_create.json"))
	require.NoError(t, err)
	require.NoError(t, e.redeliver(rid, "refunds/create", webhookFixture(t, "refunds_create.json")))
	_, err = e.deliver("refunds/create", webhookFixture(t, "refunds_create.json"))
	require.NoError(t, err)
	_, _, refunds := e.order(id)
	require.Len(t, refunds, 2)
	assert.Equal(t, "20.0000", refunds[1].Amount)
}

func TestCustomerWebhooksNeverGoBackInTime(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newWebhookEnv(t)
	const id = 706405506930370084
	customers := postgres.NewCustomerStore(e.db)
	get := func() postgres.CustomerRow {
		c, found, err := customers.Get(ctx, testShop, id)
		require.NoError(t, err)
		require.True(t, found)
		return c
	}
	update := webhookFixture(t, "customers_update.json")
	older := edited(t, "customers_update.json", map[string]any{"updated_at": "2024-03-01T00:00:00Z", "email": "old@biller.com"})
	newer := edited(t, "customers_update.json", map[string]any{"updated_at": "2024-07-01T00:00:00Z", "email": "new@biller.com"})

	_, err := e.deliver("customers/update", update)
	require.NoError(t, err)
	_, err = e.deliver("customers/create", older)
	require.NoError(t, err)
	assert.Equal(t, "bob@biller.com", get().Email, "a late, older delivery never wins")
	_, err = e.deliver("customers/update", newer)
	require.NoError(t, err)
	assert.Equal(t, "new@biller.com", get().Email)

	_, err = e.deliver("customers/delete", webhookFixture(t, "customers_delete.json"))
	require.NoError(t, err)
	c := get()
	assert.True(t, c.Deleted)
	assert.Empty(t, c.Email)
	later := edited(t, "customers_update.json", map[string]any{"updated_at": "2025-01-01T00:00:00Z"})
	_, err = e.deliver("customers/update", later)
	require.NoError(t, err)
	c = get()
	assert.True(t, c.Deleted, "an update racing the delete does not bring the customer back")
	assert.Empty(t, c.Email)
	assert.Empty(t, pgtest.FindText(t, e.db, "biller.com"))
}

func TestInvalidPayloadIsNotRetriedAndDropped(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newWebhookEnv(t)
	wid, err := e.deliver("orders/create", []byte(`{"id": 1, "created_at": "soon", "email": "x@example.com"}`))
	require.Error(t, err)
	assert.Equal(t, cvo.EINVALID, cvo.ErrorCode(err))
	d, err := e.deliveries.Get(ctx, testShop, wid)
	require.NoError(t, err)
	assert.Nil(t, d.Payload)
	assert.Empty(t, pgtest.FindText(t, e.db, "x@example.com"))

	_, err = e.deliver("products/create", []byte(`{}`))
	assert.Equal(t, cvo.EINVALID, cvo.ErrorCode(err))
}

func TestBulkFinishWebhookWakesTheWaitingSync(t *testing.T) {
	t.Parallel()
	e := newWebhookEnv(t)
	ch := e.applier.waker.Woken(testShop)
	_, err := e.deliver("bulk_operations/finish", webhookFixture(t, "bulk_operations_finish.json"))
	require.NoError(t, err)
	select {
	case <-ch:
	case <-time.After(time.Second):
		t.Fatal("the waiting sync was not woken")
	}
}

// FuzzWebhookPayloads feeds arbitrary payloads to every webhook parser:
// none may panic, and what they accept must be fit for the database.
func FuzzWebhookPayloads(f *testing.F) {
	for i, name := range []string{"orders_updated.json", "refunds_create.json", "customers_update.json", "customers_delete.json", "bulk_operations_finish.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", "webhooks", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(i), b)
	}
	f.Add(uint8(0), []byte(`{"id":1,"created_at":"2024-01-01T00:00:00Z","updated_at":"2024-01-01T00:00:00Z","total_price":"1","refunds":[{"id":2,"created_at":"2024-01-01T00:00:00Z","transactions":[{"kind":"refund","amount":"1"}]}]}`))
	f.Fuzz(func(t *testing.T, which uint8, payload []byte) {
		switch which % 5 {
		case 0:
			o, lines, refunds, err := parseOrderWebhook(payload)
			if err != nil {
				return
			}
			require.Positive(t, o.ID)
			require.NoError(t, checkDecimal("total", o.Total))
			require.False(t, o.UpdatedAt.IsZero())
			for _, l := range lines {
				require.Positive(t, l.ID)
				require.NoError(t, checkDecimal("price", l.UnitPrice))
			}
			for _, r := range refunds {
				require.Positive(t, r.ID)
			}
		case 1:
			r, err := parseRefundWebhook(payload)
			if err != nil {
				return
			}
			require.Positive(t, r.ID)
			require.Positive(t, r.OrderID)
			require.NotEmpty(t, r.Amount)
		case 2:
			c, err := parseCustomerWebhook(payload)
			if err != nil {
				return
			}
			require.Positive(t, c.ID)
			require.False(t, c.UpdatedAt.IsZero())
		case 3:
			id, err := parseDeleteWebhook(payload)
			if err != nil {
				return
			}
			require.Positive(t, id)
		case 4:
			_, _ = parseBulkFinishWebhook(payload)
		}
	})
}

// TestWebhookDuringAMergeIsRetriedLater holds the shop's data lock the way
// a running merge does: a webhook write does not wait for it (that would
// hold a worker slot other shops' deliveries need) but answers at once with
// a retryable error that uses up no attempt, keeps its payload, and applies
// once the merge is done.
func TestWebhookDuringAMergeIsRetriedLater(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newWebhookEnv(t)
	// Were the apply to wait for the merge, it would wait past the test's
	// timeout instead of answering busy.
	e.applied.LockWait = time.Hour
	tx, err := e.db.Pool.Begin(ctx)
	require.NoError(t, err)
	require.NoError(t, postgres.LockShopData(ctx, tx, testShop, true), "as a merge holds it")

	id, err := e.deliver("customers/update", webhookFixture(t, "customers_update.json"))
	require.ErrorIs(t, err, postgres.ErrShopBusy)
	assert.NotEqual(t, cvo.EINVALID, cvo.ErrorCode(err), "the job retries it")
	d, err := e.deliveries.Get(ctx, testShop, id)
	require.NoError(t, err)
	assert.NotNil(t, d.Payload, "the payload waits for the retry")
	info, err := e.deliveries.Info(ctx, testShop, id)
	require.NoError(t, err)
	assert.Equal(t, postgres.DeliveryInfo{Topic: "customers/update", State: postgres.DeliveryPending}, info, "waiting is no attempt")

	require.NoError(t, tx.Rollback(ctx))
	require.NoError(t, e.applier.ApplyWebhook(ctx, testShop, id))
	c, found, err := postgres.NewCustomerStore(e.db).Get(ctx, testShop, 706405506930370084)
	require.NoError(t, err)
	require.True(t, found)
	assert.Equal(t, "bob@biller.com", c.Email)
}
