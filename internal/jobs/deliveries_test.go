package jobs_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/ingest"
	"github.com/cvo-app/cvo/internal/jobs"
	"github.com/cvo-app/cvo/internal/jobs/jobstest"
	"github.com/cvo-app/cvo/internal/postgres"
	"github.com/cvo-app/cvo/internal/postgres/pgtest"
)

const shop = "deliveries-test.myshopify.com"

// installed says every shop has the app.
type installed struct{}

func (installed) Get(_ context.Context, shop string) (cvo.Shop, error) {
	return cvo.Shop{Domain: shop, AccessToken: "t"}, nil
}

// noReconcile stands for the reconciliation's fetch, which is not under test.
type noReconcile struct{}

func (noReconcile) ReconcileShop(context.Context, string) error { return nil }

// deliveryEnv is a real Postgres, a real Redis in a namespace of the
// test's own, the real applier and the task handlers.
type deliveryEnv struct {
	t       testing.TB
	db      *postgres.DB
	store   *postgres.DeliveryStore
	queue   *jobs.Queue
	insp    *asynq.Inspector
	opt     asynq.RedisClientOpt
	mux     *asynq.ServeMux
	queueOf func(string) string
}

func newDeliveryEnv(t testing.TB) *deliveryEnv {
	t.Helper()
	ns := jobstest.Namespace(t) // first, so it is removed after the workers stop
	opt := jobstest.RedisOpt(t)
	db := pgtest.New(t)
	_, err := db.Pool.Exec(context.Background(), `INSERT INTO shops (shop, installed_at) VALUES ($1, now())`, shop)
	require.NoError(t, err)
	q := jobs.NewQueue(opt, ns)
	t.Cleanup(func() { _ = q.Close() })
	insp := asynq.NewInspector(opt)
	t.Cleanup(func() { _ = insp.Close() })
	applier := ingest.NewApplier(postgres.NewDeliveryStore(db), nil, slog.New(slog.DiscardHandler))
	h := jobs.Handlers{Installations: installed{}, Webhooks: applier, Deliveries: applier, Reconciler: noReconcile{},
		Queue: q, Log: slog.New(slog.DiscardHandler)}
	return &deliveryEnv{t: t, db: db, store: postgres.NewDeliveryStore(db), queue: q, insp: insp, opt: opt, mux: h.Mux(),
		queueOf: ns.QueueName}
}

// record stores a customers/update delivery as the receiver does, received
// age ago, without queueing it.
func (e *deliveryEnv) record(id string, customer int64, age time.Duration) cvo.WebhookDelivery {
	e.t.Helper()
	ctx := context.Background()
	d := cvo.WebhookDelivery{Shop: shop, ID: id, Topic: "customers/update",
		Payload: fmt.Appendf(nil, `{"id":%d,"email":"c%d@example.com","updated_at":"2024-06-01T14:30:00Z"}`, customer, customer)}
	_, err := e.store.Record(ctx, d)
	require.NoError(e.t, err)
	require.NoError(e.t, e.store.MarkHandled(ctx, shop, id, true))
	_, err = e.db.Pool.Exec(ctx, `UPDATE webhook_deliveries SET received_at = now() - make_interval(secs => $2) WHERE webhook_id = $1`,
		id, age.Seconds())
	require.NoError(e.t, err)
	return d
}

// startWorker runs a worker with the production retry rules until the test ends.
func (e *deliveryEnv) startWorker() {
	e.t.Helper()
	srv := asynq.NewServer(e.opt, asynq.Config{Concurrency: 4, Queues: e.queue.Namespace().Queues(), LogLevel: asynq.FatalLevel,
		IsFailure: jobs.IsFailure, RetryDelayFunc: jobs.RetryDelay, DelayedTaskCheckInterval: 100 * time.Millisecond})
	require.NoError(e.t, srv.Start(e.mux))
	e.t.Cleanup(srv.Shutdown)
}

func (e *deliveryEnv) run(taskType string, payload any) error {
	e.t.Helper()
	var b []byte
	if payload != nil {
		var err error
		b, err = json.Marshal(payload)
		require.NoError(e.t, err)
	}
	return e.mux.ProcessTask(context.Background(), asynq.NewTask(taskType, b))
}

func (e *deliveryEnv) state(id string) string {
	e.t.Helper()
	in, err := e.store.Info(context.Background(), shop, id)
	require.NoError(e.t, err)
	return in.State
}

func (e *deliveryEnv) queued() int {
	e.t.Helper()
	info, err := e.insp.GetQueueInfo(e.queueOf(jobs.QueueWebhooks))
	if errors.Is(err, asynq.ErrQueueNotFound) {
		return 0
	}
	require.NoError(e.t, err)
	return info.Pending + info.Scheduled + info.Retry + info.Active
}

// TestSweeperAppliesDeliveriesRedisLost: deliveries stored and answered
// 200 whose tasks never reached Redis, or were lost with its queue, are
// queued again by the sweeper once a minute old and applied by a worker;
// a second sweep queues nothing twice, and a fresh delivery waits.
func TestSweeperAppliesDeliveriesRedisLost(t *testing.T) {
	ctx := context.Background()
	e := newDeliveryEnv(t)
	var stale []string
	for i := range 10 {
		id := fmt.Sprintf("never-queued-%d", i)
		e.record(id, int64(100+i), 2*time.Minute)
		stale = append(stale, id)
	}
	for i := range 5 {
		id := fmt.Sprintf("queue-lost-%d", i)
		d := e.record(id, int64(200+i), 2*time.Minute)
		require.NoError(t, e.queue.EnqueueWebhook(ctx, d))
		stale = append(stale, id)
	}
	e.record("fresh", 300, time.Second)
	require.Equal(t, 5, e.queued())
	_, err := e.insp.DeleteAllPendingTasks(e.queueOf(jobs.QueueWebhooks))
	require.NoError(t, err)
	require.Equal(t, 0, e.queued(), "Redis lost the queue")

	require.NoError(t, e.run(jobs.TypeDeliverySweep, nil))
	assert.Equal(t, len(stale), e.queued(), "every stale delivery is queued again, the fresh one is not")
	require.NoError(t, e.run(jobs.TypeDeliverySweep, nil))
	assert.Equal(t, len(stale), e.queued(), "a second sweep queues nothing twice")

	e.startWorker()
	require.Eventually(t, func() bool {
		for _, id := range stale {
			if e.state(id) != postgres.DeliveryApplied {
				return false
			}
		}
		return true
	}, 30*time.Second, 50*time.Millisecond)
	assert.Equal(t, postgres.DeliveryPending, e.state("fresh"))
	var customers int
	require.NoError(t, e.db.Pool.QueryRow(ctx, `SELECT count(*) FROM customers WHERE shop = $1`, shop).Scan(&customers))
	assert.Equal(t, len(stale), customers)
}

// TestDeadDeliveryIsRevivedByReconcile: a delivery whose last allowed try
// fails ends dead, and its task is not retried; the shop's reconciliation
// puts it back to pending and queues it, and a worker applies it.
func TestDeadDeliveryIsRevivedByReconcile(t *testing.T) {
	ctx := context.Background()
	e := newDeliveryEnv(t)
	_, err := e.db.Pool.Exec(ctx, `CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN RAISE EXCEPTION 'customer write refused'; END $$;
		CREATE TRIGGER refuse BEFORE INSERT OR UPDATE ON customers FOR EACH ROW EXECUTE FUNCTION refuse();`)
	require.NoError(t, err)
	d := e.record("doomed", 42, 0)
	// Nine tries failed before; the worker's is the last one allowed.
	_, err = e.db.Pool.Exec(ctx, `UPDATE webhook_deliveries SET attempts = $1 WHERE webhook_id = 'doomed'`, postgres.DefaultMaxAttempts-1)
	require.NoError(t, err)
	e.startWorker()
	require.NoError(t, e.queue.EnqueueWebhook(ctx, d))
	require.Eventually(t, func() bool { return e.state("doomed") == postgres.DeliveryDead }, 30*time.Second, 50*time.Millisecond)
	require.Eventually(t, func() bool { return e.queued() == 0 }, 10*time.Second, 50*time.Millisecond, "a dead delivery's task is not retried")
	counts, err := e.store.Counts(ctx, shop)
	require.NoError(t, err)
	assert.Equal(t, postgres.DeliveryCounts{Dead: 1}, counts)

	_, err = e.db.Pool.Exec(ctx, `DROP TRIGGER refuse ON customers`)
	require.NoError(t, err)
	require.NoError(t, e.run(jobs.TypeReconcileShop, jobs.ShopPayload{Shop: shop}))
	require.Eventually(t, func() bool { return e.state("doomed") == postgres.DeliveryApplied }, 30*time.Second, 50*time.Millisecond)
	counts, err = e.store.Counts(ctx, shop)
	require.NoError(t, err)
	assert.Equal(t, postgres.DeliveryCounts{}, counts)
}

// TestRetentionJob deletes what is older than the configured retention.
func TestRetentionJob(t *testing.T) {
	ctx := context.Background()
	e := newDeliveryEnv(t)
	e.record("old", 1, 49*time.Hour)
	e.record("new", 2, 47*time.Hour)
	h := jobs.Handlers{Deliveries: ingest.NewApplier(postgres.NewDeliveryStore(e.db), nil, nil), Retention: 48 * time.Hour, Log: slog.New(slog.DiscardHandler)}
	require.NoError(t, h.Mux().ProcessTask(ctx, asynq.NewTask(jobs.TypeRetention, nil)))
	_, err := e.store.Info(ctx, shop, "old")
	assert.Equal(t, cvo.ENOTFOUND, cvo.ErrorCode(err))
	assert.Equal(t, postgres.DeliveryPending, e.state("new"))
}

func TestBusyIsNoFailure(t *testing.T) {
	task := asynq.NewTask(jobs.TypeApplyWebhook, nil)
	tests := []struct {
		name    string
		err     error
		failure bool
	}{
		{"shop busy", postgres.ErrShopBusy, false},
		{"shop busy, wrapped", fmt.Errorf("apply orders/create for x: %w", postgres.ErrShopBusy), false},
		{"other error", errors.New("connection refused"), true},
		{"dead delivery", ingest.ErrDeliveryDead, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.failure, jobs.IsFailure(tt.err))
			delay := jobs.RetryDelay(8, tt.err, task)
			if tt.failure {
				assert.Greater(t, delay, time.Hour, "a failure backs off as asynq does")
			} else {
				assert.LessOrEqual(t, delay, 10*time.Second, "a busy shop is tried again soon, whatever the retry count")
			}
		})
	}
}

// BenchmarkWorkerAppliesOneShopBurst queues b.N deliveries of one shop at
// once and lets a production-configured worker (4 at a time) apply them;
// it reports the tries beyond the first (0 when applies wait for each
// other instead of failing).
func BenchmarkWorkerAppliesOneShopBurst(b *testing.B) {
	ctx := context.Background()
	e := newDeliveryEnv(b)
	ds := make([]cvo.WebhookDelivery, b.N)
	for i := range b.N {
		ds[i] = e.record(fmt.Sprintf("burst-%d", i), int64(i+1), 0)
	}
	b.ResetTimer()
	for _, d := range ds {
		require.NoError(b, e.queue.EnqueueWebhook(ctx, d))
	}
	e.startWorker()
	require.Eventually(b, func() bool {
		var pending int
		require.NoError(b, e.db.Pool.QueryRow(ctx, `SELECT count(*) FROM webhook_deliveries WHERE state <> 'applied'`).Scan(&pending))
		return pending == 0
	}, 10*time.Minute, 20*time.Millisecond)
	b.StopTimer()
	var retries int
	require.NoError(b, e.db.Pool.QueryRow(ctx, `SELECT coalesce(sum(attempts - 1), 0) FROM webhook_deliveries`).Scan(&retries))
	b.ReportMetric(float64(retries), "retries")
}
