package ingest

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/postgres"
	"github.com/cvo-app/cvo/internal/postgres/pgtest"
)

func customerPayload(t testing.TB, id int64) []byte {
	return edited(t, "customers_update.json", map[string]any{"id": id})
}

// record stores a delivery as the receiver does for a data topic, without
// applying it.
func (e *webhookEnv) record(id, topic string, payload []byte) {
	e.t.Helper()
	ctx := context.Background()
	fresh, err := e.deliveries.Record(ctx, cvo.WebhookDelivery{Shop: testShop, ID: id, Topic: topic, Payload: payload, TriggeredAt: time.Now()})
	require.NoError(e.t, err)
	require.True(e.t, fresh)
	require.NoError(e.t, e.deliveries.MarkHandled(ctx, testShop, id, true))
}

func (e *webhookEnv) info(id string) postgres.DeliveryInfo {
	e.t.Helper()
	in, err := e.deliveries.Info(context.Background(), testShop, id)
	require.NoError(e.t, err)
	return in
}

// failCustomer makes every write of customer id fail in the database, as
// a broken constraint or a full disk would, until the returned func runs.
func (e *webhookEnv) failCustomer(id int64) (heal func()) {
	e.t.Helper()
	ctx := context.Background()
	_, err := e.db.Pool.Exec(ctx, fmt.Sprintf(`CREATE FUNCTION fail_customer() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN IF NEW.id = %d THEN RAISE EXCEPTION 'customer write refused'; END IF; RETURN NEW; END $$;
		CREATE TRIGGER fail_customer BEFORE INSERT OR UPDATE ON customers FOR EACH ROW EXECUTE FUNCTION fail_customer();`, id))
	require.NoError(e.t, err)
	return func() {
		_, err := e.db.Pool.Exec(ctx, `DROP TRIGGER fail_customer ON customers; DROP FUNCTION fail_customer()`)
		require.NoError(e.t, err)
	}
}

// TestConcurrentAppliesOfOneShopAllSucceedFirstTime applies 50 deliveries
// of one shop at once, with the production lock wait: they wait for each
// other instead of failing, each applies on its first try, exactly once.
func TestConcurrentAppliesOfOneShopAllSucceedFirstTime(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newWebhookEnv(t)
	e.applied.LockWait = postgres.WebhookLockWait
	const n = 50
	for i := range n {
		topic, payload := "customers/update", customerPayload(t, int64(1000+i))
		if i%2 == 1 {
			topic = "orders/updated"
			payload = edited(t, "orders_updated.json", map[string]any{"id": 5000 + i})
		}
		e.record(fmt.Sprintf("c-%d", i), topic, payload)
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = e.applier.ApplyWebhook(ctx, testShop, fmt.Sprintf("c-%d", i))
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err, "delivery %d", i)
		in := e.info(fmt.Sprintf("c-%d", i))
		assert.Equal(t, postgres.DeliveryApplied, in.State)
		assert.Equal(t, 1, in.Attempts, "applied on the first try")
	}
	var customers, orders int
	require.NoError(t, e.db.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM customers WHERE shop = $1),
		(SELECT count(*) FROM orders WHERE shop = $1)`, testShop).Scan(&customers, &orders))
	assert.Equal(t, n/2, customers)
	assert.Equal(t, n/2, orders)
	var payloads int
	require.NoError(t, e.db.Pool.QueryRow(ctx, `SELECT count(*) FROM webhook_deliveries WHERE payload IS NOT NULL`).Scan(&payloads))
	assert.Zero(t, payloads, "applied payloads are dropped with the applied mark")
}

// TestAppliedMarkCommitsWithTheData makes the applied mark fail after the
// data was written: nothing of the delivery is committed, and the next try
// applies it once.
func TestAppliedMarkCommitsWithTheData(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newWebhookEnv(t)
	e.record("m-1", "customers/update", customerPayload(t, 77))
	_, err := e.db.Pool.Exec(ctx, `CREATE FUNCTION fail_mark() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN IF NEW.state = 'applied' THEN RAISE EXCEPTION 'process died'; END IF; RETURN NEW; END $$;
		CREATE TRIGGER fail_mark BEFORE UPDATE ON webhook_deliveries FOR EACH ROW EXECUTE FUNCTION fail_mark();`)
	require.NoError(t, err)

	require.Error(t, e.applier.ApplyWebhook(ctx, testShop, "m-1"))
	_, found, err := postgres.NewCustomerStore(e.db).Get(ctx, testShop, 77)
	require.NoError(t, err)
	assert.False(t, found, "the data is not committed without the mark")
	assert.Equal(t, postgres.DeliveryPending, e.info("m-1").State)

	_, err = e.db.Pool.Exec(ctx, `DROP TRIGGER fail_mark ON webhook_deliveries`)
	require.NoError(t, err)
	require.NoError(t, e.applier.ApplyWebhook(ctx, testShop, "m-1"))
	require.NoError(t, e.applier.ApplyWebhook(ctx, testShop, "m-1"), "a second run of the job changes nothing")
	in := e.info("m-1")
	assert.Equal(t, postgres.DeliveryApplied, in.State)
	assert.Equal(t, 2, in.Attempts, "one failed try, one applied; the rerun was no try")
	_, found, err = postgres.NewCustomerStore(e.db).Get(ctx, testShop, 77)
	require.NoError(t, err)
	assert.True(t, found)
}

// TestDeliveryFailingEndsDeadVisibleAndRevivable fails a delivery until it
// is dead: it is logged at error level without personal data, counted in
// the shop's status, kept with its payload, and revived to pending.
func TestDeliveryFailingEndsDeadVisibleAndRevivable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newWebhookEnv(t)
	logs := &bytes.Buffer{} // one goroutine logs
	e.applier.log = slog.New(slog.NewJSONHandler(logs, nil))
	e.applied.MaxAttempts = 3
	heal := e.failCustomer(42)
	e.record("d-1", "customers/update", customerPayload(t, 42))

	for try := 1; try <= 3; try++ {
		err := e.applier.ApplyWebhook(ctx, testShop, "d-1")
		require.Error(t, err)
		in := e.info("d-1")
		assert.Equal(t, try, in.Attempts)
		assert.Equal(t, "internal error", in.Error, "the stored reason shows no database text")
		if try < 3 {
			assert.Equal(t, postgres.DeliveryPending, in.State)
			assert.NotErrorIs(t, err, ErrDeliveryDead)
		} else {
			assert.Equal(t, postgres.DeliveryDead, in.State)
			assert.ErrorIs(t, err, ErrDeliveryDead)
			var f interface{ Final() bool }
			require.ErrorAs(t, err, &f, "the job does not retry a dead delivery")
		}
	}
	require.NoError(t, e.applier.ApplyWebhook(ctx, testShop, "d-1"), "a stale task of a dead delivery does nothing")
	assert.Equal(t, 3, e.info("d-1").Attempts)

	out := logs.String()
	require.Contains(t, out, `"level":"ERROR"`)
	for _, want := range []string{testShop, "customers/update", `"webhook_id":"d-1"`, `"attempts":3`} {
		assert.Contains(t, out, want)
	}
	assert.NotContains(t, out, "bob@biller.com", "no personal data in the logs")

	syncer := NewSyncer(SyncerConfig{Store: postgres.NewSyncStore(e.db), Deliveries: postgres.NewDeliveryStore(e.db)})
	status, err := syncer.Status(ctx, testShop)
	require.NoError(t, err)
	assert.Equal(t, postgres.DeliveryCounts{Dead: 1}, status["deliveries"])
	d, err := e.deliveries.Get(ctx, testShop, "d-1")
	require.NoError(t, err)
	assert.NotNil(t, d.Payload, "a dead delivery keeps its payload for the reconciliation")

	heal()
	revived, err := e.applier.ReviveDead(ctx, testShop)
	require.NoError(t, err)
	assert.Equal(t, []cvo.WebhookDelivery{{Shop: testShop, ID: "d-1", Topic: "customers/update"}}, revived)
	assert.Equal(t, postgres.DeliveryInfo{Topic: "customers/update", State: postgres.DeliveryPending, Error: "internal error"}, e.info("d-1"))
	require.NoError(t, e.applier.ApplyWebhook(ctx, testShop, "d-1"))
	assert.Equal(t, postgres.DeliveryApplied, e.info("d-1").State)
	status, err = syncer.Status(ctx, testShop)
	require.NoError(t, err)
	assert.Equal(t, postgres.DeliveryCounts{}, status["deliveries"])
}

// TestDeliveryOutcomes covers each state a try can leave a delivery in.
func TestDeliveryOutcomes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name    string
		topic   string
		payload []byte
		wantErr string // cvo code, "" for none
		want    string
	}{
		{name: "applied", topic: "customers/update", payload: []byte(`{"id":5,"updated_at":"2024-01-01T00:00:00Z"}`), want: postgres.DeliveryApplied},
		{name: "unparsable payload is rejected and dropped", topic: "orders/create", payload: []byte(`{"id":"x"}`),
			wantErr: cvo.EINVALID, want: postgres.DeliveryRejected},
		{name: "unknown topic is rejected", topic: "products/create", payload: []byte(`{}`), wantErr: cvo.EINVALID,
			want: postgres.DeliveryRejected},
		{name: "redacted payload is done", topic: "customers/update", payload: nil, want: postgres.DeliveryApplied},
	}
	e := newWebhookEnv(t)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := fmt.Sprintf("o-%d", i)
			e.t = t
			e.record(id, tt.topic, tt.payload)
			err := e.applier.ApplyWebhook(ctx, testShop, id)
			if tt.wantErr == "" {
				require.NoError(t, err)
			} else {
				require.Equal(t, tt.wantErr, cvo.ErrorCode(err))
			}
			assert.Equal(t, tt.want, e.info(id).State)
			d, err := e.deliveries.Get(ctx, testShop, id)
			require.NoError(t, err)
			assert.Nil(t, d.Payload, "no payload outlives its try but a failed one")
		})
	}
	e.t = t
	err := e.applier.ApplyWebhook(ctx, testShop, "never-stored")
	assert.Equal(t, cvo.ENOTFOUND, cvo.ErrorCode(err))
	counts, err := e.deliveries.Counts(ctx, testShop)
	require.NoError(t, err)
	assert.Equal(t, postgres.DeliveryCounts{Rejected: 2}, counts)
}

// TestReceiverRetryOfAnAppliedDeliveryIsADuplicate: Shopify resending a
// delivery the app applied changes nothing, not even the stored payload.
func TestReceiverRetryOfAnAppliedDeliveryIsADuplicate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newWebhookEnv(t)
	d := cvo.WebhookDelivery{Shop: testShop, ID: "r-1", Topic: "customers/update", Payload: customerPayload(t, 9)}
	fresh, err := e.deliveries.Record(ctx, d)
	require.NoError(t, err)
	require.True(t, fresh)
	// The receiver failed to queue it (Redis down) and answered 500 ...
	require.NoError(t, e.deliveries.MarkFailed(ctx, testShop, "r-1", "internal error"))
	// ... and the sweeper applied it before Shopify's retry came.
	require.NoError(t, e.applier.ApplyWebhook(ctx, testShop, "r-1"))
	fresh, err = e.deliveries.Record(ctx, d)
	require.NoError(t, err)
	assert.False(t, fresh)
	got, err := e.deliveries.Get(ctx, testShop, "r-1")
	require.NoError(t, err)
	assert.Nil(t, got.Payload)
}

func installShop(t *testing.T, db *postgres.DB, shop string, installed bool) {
	t.Helper()
	uninstalled := any(nil)
	if !installed {
		uninstalled = time.Now()
	}
	_, err := db.Pool.Exec(context.Background(), `INSERT INTO shops (shop, installed_at, uninstalled_at) VALUES ($1, now(), $2)`, shop, uninstalled)
	require.NoError(t, err)
}

// TestStaleDeliveriesForTheSweeper lists what the sweeper queues again:
// pending deliveries of applied topics and installed shops, older than the
// cutoff, oldest first, with a bound per shop.
func TestStaleDeliveriesForTheSweeper(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	a := NewApplier(postgres.NewDeliveryStore(db), nil, nil)
	store := postgres.NewDeliveryStore(db)
	installShop(t, db, "a.myshopify.com", true)
	installShop(t, db, "b.myshopify.com", true)
	installShop(t, db, "gone.myshopify.com", false)
	rows := []struct {
		shop, id, topic, state string
		age                    time.Duration
	}{
		{"a.myshopify.com", "a1", "orders/create", "pending", 10 * time.Minute},
		{"a.myshopify.com", "a2", "orders/create", "pending", 9 * time.Minute},
		{"a.myshopify.com", "a3", "orders/create", "pending", 8 * time.Minute},
		{"b.myshopify.com", "b1", "customers/update", "pending", 5 * time.Minute},
		{"b.myshopify.com", "b-fresh", "customers/update", "pending", 10 * time.Second},
		{"b.myshopify.com", "b-applied", "customers/update", "applied", time.Hour},
		{"b.myshopify.com", "b-dead", "customers/update", "dead", time.Hour},
		{"b.myshopify.com", "b-redact", "customers/redact", "pending", time.Hour},
		{"gone.myshopify.com", "g1", "orders/create", "pending", time.Hour},
	}
	for _, r := range rows {
		_, err := store.Record(ctx, cvo.WebhookDelivery{Shop: r.shop, ID: r.id, Topic: r.topic, Payload: []byte(`{}`)})
		require.NoError(t, err)
		_, err = db.Pool.Exec(ctx, `UPDATE webhook_deliveries SET state = $3, received_at = now() - $4::interval WHERE shop = $1 AND webhook_id = $2`,
			r.shop, r.id, r.state, fmt.Sprintf("%d seconds", int(r.age.Seconds())))
		require.NoError(t, err)
	}
	ids := func(ds []cvo.WebhookDelivery) []string {
		var out []string
		for _, d := range ds {
			out = append(out, d.ID)
		}
		return out
	}
	tests := []struct {
		limit, perShop int
		want           []string
	}{
		{limit: 100, perShop: 100, want: []string{"a1", "a2", "a3", "b1"}},
		{limit: 100, perShop: 2, want: []string{"a1", "a2", "b1"}},
		{limit: 2, perShop: 100, want: []string{"a1", "a2"}},
	}
	for _, tt := range tests {
		got, err := a.StaleDeliveries(ctx, time.Now().Add(-time.Minute), tt.limit, tt.perShop)
		require.NoError(t, err)
		assert.Equal(t, tt.want, ids(got), "limit %d, per shop %d", tt.limit, tt.perShop)
	}
	got, err := a.StaleDeliveries(ctx, time.Now().Add(-time.Minute), 1, 1)
	require.NoError(t, err)
	assert.Equal(t, []cvo.WebhookDelivery{{Shop: "a.myshopify.com", ID: "a1", Topic: "orders/create"}}, got)
}

// TestRetentionExpiresOldDeliveriesAndExports runs the retention at 30 days:
// older deliveries in every state and older exports go, newer ones stay,
// and an export past its retention is unreadable even before the job runs.
func TestRetentionExpiresOldDeliveriesAndExports(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	a := NewApplier(postgres.NewDeliveryStore(db), nil, nil)
	const retention = 30 * 24 * time.Hour
	exports := postgres.NewExportStore(db, retention)
	for _, r := range []struct {
		id, state string
		days      int
	}{
		{"old-applied", "applied", 31}, {"old-rejected", "rejected", 31}, {"old-dead", "dead", 40}, {"old-pending", "pending", 31},
		{"new-applied", "applied", 29}, {"new-rejected", "rejected", 1}, {"new-pending", "pending", 0},
	} {
		_, err := db.Pool.Exec(ctx, `INSERT INTO webhook_deliveries (shop, webhook_id, topic, payload, state, received_at)
			VALUES ($1, $2, 'orders/create', '{"email":"x@example.com"}', $3, now() - make_interval(days => $4))`, testShop, r.id, r.state, r.days)
		require.NoError(t, err)
	}
	for _, r := range []struct {
		id   string
		days int
	}{{"req-old", 31}, {"req-new", 29}} {
		_, err := db.Pool.Exec(ctx, `INSERT INTO data_requests (shop, request_id, customer_id, export, created_at)
			VALUES ($1, $2, '7', '{"customer_id":"7"}', now() - make_interval(days => $3))`, testShop, r.id, r.days)
		require.NoError(t, err)
	}
	_, err := exports.Get(ctx, testShop, "req-old")
	assert.Equal(t, cvo.ENOTFOUND, cvo.ErrorCode(err), "expired exports are not served while they wait for the job")
	list, err := exports.List(ctx, testShop)
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, "req-new", list[0].RequestID)
	assert.WithinDuration(t, list[0].CreatedAt.Add(retention), list[0].ExpiresAt, 0)

	n, err := a.ExpireBefore(ctx, time.Now().Add(-retention))
	require.NoError(t, err)
	assert.Equal(t, map[string]int64{"deliveries": 4, "unapplied_deliveries": 3, "data_requests": 1}, n)
	rows, err := db.Pool.Query(ctx, `SELECT webhook_id FROM webhook_deliveries ORDER BY webhook_id`)
	require.NoError(t, err)
	var left []string
	for rows.Next() {
		var id string
		require.NoError(t, rows.Scan(&id))
		left = append(left, id)
	}
	require.NoError(t, rows.Err())
	assert.Equal(t, []string{"new-applied", "new-pending", "new-rejected"}, left)
	body, err := exports.Get(ctx, testShop, "req-new")
	require.NoError(t, err)
	assert.JSONEq(t, `{"customer_id":"7"}`, string(body))
	n, err = a.ExpireBefore(ctx, time.Now().Add(-retention))
	require.NoError(t, err)
	assert.Equal(t, map[string]int64{"deliveries": 0, "unapplied_deliveries": 0, "data_requests": 0}, n, "a second run finds nothing")
}

// TestRedactionsAndAppliesOfOneShopNeverDeadlock runs customers/redact
// requests while the deliveries naming those customers are applied: each
// side takes the delivery rows before the shop's data lock, so every apply
// and every redaction ends without a deadlock or a busy wait, and no
// redacted customer's email is stored again.
func TestRedactionsAndAppliesOfOneShopNeverDeadlock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newWebhookEnv(t)
	e.applied.LockWait = postgres.WebhookLockWait
	privacy := postgres.NewPrivacyStore(e.db)
	const n = 20
	for i := range n {
		e.record(fmt.Sprintf("x-%d", i), "customers/update", []byte(fmt.Sprintf(
			`{"id":%d,"email":"person%d@example.com","updated_at":"2024-06-01T14:30:00Z"}`, 3000+i, i)))
	}
	errs := make(chan error, 2*n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs <- e.applier.ApplyWebhook(ctx, testShop, fmt.Sprintf("x-%d", i)) })
		wg.Go(func() {
			errs <- privacy.RedactCustomer(ctx, testShop, cvo.CustomerRef{ID: fmt.Sprint(3000 + i), Email: fmt.Sprintf("person%d@example.com", i)})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	for i := range n {
		assert.Equal(t, postgres.DeliveryApplied, e.info(fmt.Sprintf("x-%d", i)).State)
		assert.Empty(t, pgtest.FindText(t, e.db, fmt.Sprintf("person%d@example.com", i)))
	}
}

// BenchmarkApplyOneShop applies deliveries of one shop from as many
// goroutines as a worker runs tasks (4): how fast serialized applies go.
func BenchmarkApplyOneShop(b *testing.B) {
	ctx := context.Background()
	db := pgtest.New(b)
	a := NewApplier(postgres.NewDeliveryStore(db), nil, nil)
	store := postgres.NewDeliveryStore(db)
	ids := make(chan string, b.N)
	for i := range b.N {
		id := fmt.Sprintf("b-%d", i)
		_, err := store.Record(ctx, cvo.WebhookDelivery{Shop: testShop, ID: id, Topic: "customers/update",
			Payload: fmt.Appendf(nil, `{"id":%d,"updated_at":"2024-06-01T14:30:00Z"}`, i+1)})
		require.NoError(b, err)
		ids <- id
	}
	close(ids)
	b.ResetTimer()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for id := range ids {
				if err := a.ApplyWebhook(ctx, testShop, id); err != nil {
					b.Error(err)
				}
			}
		})
	}
	wg.Wait()
}
