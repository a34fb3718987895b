package rescore_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/postgres"
	"github.com/cvo-app/cvo/internal/postgres/pgtest"
	"github.com/cvo-app/cvo/internal/rescore"
	"github.com/cvo-app/cvo/internal/secretbox"
)

// realService wires the rescore service as the worker does: real stores
// on db, the real scorer.
func realService(t *testing.T, db *postgres.DB) (*rescore.Service, *postgres.ShopStore, *postgres.ScoringStore) {
	t.Helper()
	keys, err := secretbox.ParseKeyring("v1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
	require.NoError(t, err)
	shops := postgres.NewShopStore(db, keys)
	scorings := postgres.NewScoringStore(db)
	history := struct {
		*postgres.OrderStore
		*postgres.CustomerStore
		*postgres.SyncStore
	}{postgres.NewOrderStore(db), postgres.NewCustomerStore(db), postgres.NewSyncStore(db)}
	svc := rescore.NewService(history, scorings, postgres.NewSettingsStore(db), shops, rescore.ShopScorer{}, nil,
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	return svc, shops, scorings
}

// seedShop installs a small shop: 30 customers with 90 orders over a year.
func seedShop(t *testing.T, db *postgres.DB, shops *postgres.ShopStore, shop string) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, shops.SaveInstall(ctx, shop, cvo.Token{AccessToken: "a", RefreshToken: "r"}))
	require.NoError(t, shops.UpdateDetails(ctx, shop, "Shop", "EUR", "Europe/Paris"))
	_, err := db.Pool.Exec(ctx, `INSERT INTO customers (shop, id, created_at, updated_at)
		SELECT $1, i, now() - interval '400 days', now() FROM generate_series(1, 30) i`, shop)
	require.NoError(t, err)
	_, err = db.Pool.Exec(ctx, `INSERT INTO orders (shop, id, customer_id, name, created_at, updated_at, test, currency, total, discount_codes)
		SELECT $1, i, 1 + i % 30, '#' || i, now() - (i * 4) * interval '1 day', now(), false, 'EUR', 10 + i % 17, '{}'
		FROM generate_series(1, 90) i`, shop)
	require.NoError(t, err)
	_, err = db.Pool.Exec(ctx, `INSERT INTO order_lines (shop, order_id, id, title, quantity, unit_price)
		SELECT $1, i, i, 'Mug', 1, 10 + i % 17 FROM generate_series(1, 90) i`, shop)
	require.NoError(t, err)
	pgtest.SumLines(t, db, shop)
}

// TestConcurrencyPlusTwoRescoresFinishOnTheSmallestPool runs more rescores
// of different shops at once than the worker's concurrency, on the
// smallest pool a worker of that concurrency may have. Each rescore holds
// its shop's lock; none may wait for connections another holds, so all
// finish.
func TestConcurrencyPlusTwoRescoresFinishOnTheSmallestPool(t *testing.T) {
	for _, concurrency := range []int{1, 2, 4} {
		t.Run(fmt.Sprintf("concurrency %d", concurrency), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			_, url := pgtest.NewWithURL(t)
			size := postgres.WorkerPoolSize(concurrency)
			sep := "?"
			if strings.Contains(url, "?") {
				sep = "&"
			}
			db, err := postgres.OpenWith(ctx, fmt.Sprintf("%s%spool_max_conns=%d", url, sep, size), postgres.Options{MinConns: size})
			require.NoError(t, err)
			defer db.Close()
			require.Equal(t, size, db.Stats().Max)
			svc, shops, scorings := realService(t, db)

			n := concurrency + 2
			names := make([]string, n)
			for i := range names {
				names[i] = fmt.Sprintf("p%d.myshopify.com", i)
				seedShop(t, db, shops, names[i])
			}
			var wg sync.WaitGroup
			errs := make([]error, n)
			ids := make([]int64, n)
			for i, shop := range names {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ids[i], errs[i] = svc.Rescore(ctx, shop, rescore.ReasonManual)
				}()
			}
			wg.Wait()
			for i, shop := range names {
				require.NoError(t, errs[i], shop)
				require.NotZero(t, ids[i], shop)
				last, err := scorings.LatestInfo(ctx, shop)
				require.NoError(t, err)
				assert.Equal(t, ids[i], last.ID)
				assert.Equal(t, 30, last.Customers, shop)
			}
		})
	}
}

func TestRescoreFailsARunLeftRunningByADeadWorker(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	svc, shops, scorings := realService(t, db)
	const shop = "dead.myshopify.com"
	seedShop(t, db, shops, shop)
	// A worker died after recording its run: the row stays running.
	stale, err := scorings.Begin(ctx, shop, string(rescore.ReasonNightly), time.Now())
	require.NoError(t, err)

	id, err := svc.Rescore(ctx, shop, rescore.ReasonManual)
	require.NoError(t, err)
	var state, reason string
	require.NoError(t, db.Pool.QueryRow(ctx, `SELECT state, error FROM scorings WHERE id = $1`, stale).Scan(&state, &reason))
	assert.Equal(t, "failed", state)
	assert.Equal(t, postgres.AbandonedReason, reason)
	last, err := scorings.LastRun(ctx, shop)
	require.NoError(t, err)
	assert.Equal(t, id, last.ID)
	assert.Equal(t, "succeeded", last.State)
}

type recordingQueue struct {
	mu   sync.Mutex
	jobs []string
}

func (q *recordingQueue) EnqueueRescore(_ context.Context, shop, reason string, due rescore.Due) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.jobs = append(q.jobs, shop+" "+reason+" "+due.Key)
	return nil
}

// TestSweepRequeuesARescoreWhoseWorkerDied kills the connection of a
// worker that holds a shop's rescore lock mid-run (as a killed process
// would lose it): the sweep marks its run failed and queues the rescore
// again, once, and never touches a run whose worker is alive.
func TestSweepRequeuesARescoreWhoseWorkerDied(t *testing.T) {
	ctx := context.Background()
	db, url := pgtest.NewWithURL(t)
	svc, shops, scorings := realService(t, db)
	const shop, other = "killed.myshopify.com", "alive.myshopify.com"
	seedShop(t, db, shops, shop)
	seedShop(t, db, shops, other)

	// Two worker processes, each with a pool of its own, mid-rescore.
	start := func(shop string) (*postgres.DB, int64) {
		w, err := postgres.Open(ctx, url)
		require.NoError(t, err)
		t.Cleanup(w.Close)
		store := postgres.NewScoringStore(w)
		held, ok, err := store.LockRescore(ctx, shop)
		require.NoError(t, err)
		require.True(t, ok)
		t.Cleanup(held.Release)
		id, err := store.Begin(ctx, shop, string(rescore.ReasonSync), time.Now())
		require.NoError(t, err)
		return w, id
	}
	_, killedRun := start(shop)
	_, aliveRun := start(other)

	q := &recordingQueue{}
	n, err := svc.RecoverAbandoned(ctx, scorings, q)
	require.NoError(t, err)
	assert.Zero(t, n, "both workers are alive")

	// The first worker dies: its session, and so its lock, ends.
	var killed bool
	require.NoError(t, db.Pool.QueryRow(ctx, `SELECT bool_and(pg_terminate_backend(pid)) FROM pg_locks
		WHERE locktype = 'advisory' AND objid::bigint = (hashtext($1)::bigint & 4294967295)
		  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`, shop).Scan(&killed))
	require.True(t, killed)
	require.Eventually(t, func() bool {
		n, err = svc.RecoverAbandoned(ctx, scorings, q)
		require.NoError(t, err)
		return n == 1
	}, 10*time.Second, 50*time.Millisecond)
	assert.Equal(t, []string{fmt.Sprintf("%s sync recover:%d", shop, killedRun)}, q.jobs)

	states := map[int64]string{}
	rows, err := db.Pool.Query(ctx, `SELECT id, state FROM scorings WHERE id = ANY($1)`, []int64{killedRun, aliveRun})
	require.NoError(t, err)
	for rows.Next() {
		var id int64
		var st string
		require.NoError(t, rows.Scan(&id, &st))
		states[id] = st
	}
	require.NoError(t, rows.Err())
	assert.Equal(t, map[int64]string{killedRun: "failed", aliveRun: "running"}, states)

	n, err = svc.RecoverAbandoned(ctx, scorings, q)
	require.NoError(t, err)
	assert.Zero(t, n, "a run is recovered once")
}
