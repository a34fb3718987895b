package rescore_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/jobs"
	"github.com/cvo-app/cvo/internal/jobs/jobstest"
	"github.com/cvo-app/cvo/internal/postgres"
	"github.com/cvo-app/cvo/internal/postgres/pgtest"
	"github.com/cvo-app/cvo/internal/reports"
	"github.com/cvo-app/cvo/internal/rescore"
	"github.com/cvo-app/cvo/internal/rfm"
	"github.com/cvo-app/cvo/internal/scoring"
	"github.com/cvo-app/cvo/internal/secretbox"
)

// countingScorer scores every customer into one group and counts the runs;
// it takes a moment so that concurrent runs would overlap.
type countingScorer struct{ runs atomic.Int32 }

func (c *countingScorer) Score(ctx context.Context, in rescore.Input) (rescore.Scores, *scoring.Aggregates, error) {
	c.runs.Add(1)
	time.Sleep(300 * time.Millisecond)
	return cvo.CustomerScores{{CustomerID: "1", Group: "lovers", R: 5, F: 5, M: 5, Orders: 2}}, &scoring.Aggregates{Result: &scoring.Result{Timezone: "UTC"}}, nil
}

type env struct {
	db       *postgres.DB
	shops    *postgres.ShopStore
	scoring  *postgres.ScoringStore
	svc      *rescore.Service
	scorer   *countingScorer
	queue    *jobs.Queue
	redisOpt asynq.RedisClientOpt
	shop     string
	log      *slog.Logger
}

func newEnv(t *testing.T) *env {
	ctx := context.Background()
	// A namespace of the test's own: its workers never take another
	// test's tasks.
	ns := jobstest.Namespace(t)
	keys, err := secretbox.ParseKeyring("v1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
	require.NoError(t, err)
	// The pool two worker processes of workerConcurrency would each
	// have, shared: on a smaller one, rescores wait for each other's
	// connections (a rescore reserves RescoreConns) instead of meeting at
	// the shop's lock.
	_, url := pgtest.NewWithURL(t)
	db, err := postgres.OpenWith(ctx, url, postgres.Options{MaxConns: postgres.WorkerPoolSize(2 * workerConcurrency)})
	require.NoError(t, err)
	t.Cleanup(db.Close)
	e := &env{db: db, scorer: &countingScorer{}, shop: fmt.Sprintf("r%d.myshopify.com", time.Now().UnixNano()),
		log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	e.shops = postgres.NewShopStore(e.db, keys)
	e.scoring = postgres.NewScoringStore(e.db)
	history := struct {
		*postgres.OrderStore
		*postgres.CustomerStore
	}{postgres.NewOrderStore(e.db), postgres.NewCustomerStore(e.db)}
	e.svc = rescore.NewService(history, e.scoring, postgres.NewSettingsStore(e.db), e.shops, e.scorer, nil, e.log)
	e.redisOpt = jobstest.RedisOpt(t)
	e.queue = jobs.NewQueue(e.redisOpt, ns)
	t.Cleanup(func() { e.queue.Close() })
	require.NoError(t, e.shops.SaveInstall(ctx, e.shop, cvo.Token{AccessToken: "a", RefreshToken: "r"}))
	require.NoError(t, e.shops.UpdateDetails(ctx, e.shop, "Shop", "GBP", "Europe/London"))
	return e
}

// workerConcurrency is the concurrency of the env's worker processes.
const workerConcurrency = 3

// startWorkers runs n independent worker processes' worth of asynq servers.
func (e *env) startWorkers(t *testing.T, n int) {
	for range n {
		srv := asynq.NewServer(e.redisOpt, asynq.Config{Concurrency: workerConcurrency, Queues: e.queue.Namespace().Queues(), LogLevel: asynq.FatalLevel, DelayedTaskCheckInterval: 100 * time.Millisecond,
			RetryDelayFunc: func(int, error, *asynq.Task) time.Duration { return 200 * time.Millisecond }})
		h := jobs.Handlers{Installations: e.shops, Installed: e.shops, Rescorer: e.svc, Queue: e.queue, Log: e.log}
		require.NoError(t, srv.Start(h.Mux()))
		t.Cleanup(srv.Shutdown)
	}
}

func (e *env) runs(t *testing.T, reason string) int {
	var n int
	require.NoError(t, e.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM scorings WHERE shop = $1 AND reason = $2 AND state = 'succeeded'`, e.shop, reason).Scan(&n))
	return n
}

func TestBurstOfOrdersGivesOneRescore(t *testing.T) {
	e := newEnv(t)
	e.svc.SetDebounce(time.Second)
	e.startWorkers(t, 2)

	var wg sync.WaitGroup
	for range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			assert.NoError(t, e.svc.RequestAfterOrders(context.Background(), e.queue, e.shop))
		}()
	}
	wg.Wait()
	require.Eventually(t, func() bool { return e.runs(t, "orders") >= 1 }, 15*time.Second, 100*time.Millisecond)
	time.Sleep(2500 * time.Millisecond) // room for a duplicate to show up
	assert.Equal(t, 1, e.runs(t, "orders"))
	assert.Equal(t, int32(1), e.scorer.runs.Load())

	// An order after that rescore started asks for another one.
	require.NoError(t, e.svc.RequestAfterOrders(context.Background(), e.queue, e.shop))
	require.Eventually(t, func() bool { return e.runs(t, "orders") == 2 }, 15*time.Second, 100*time.Millisecond)
}

func TestTwoSchedulersAndTwoWorkersGiveOneNightlyRescore(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	s := postgres.NewSettingsStore(e.db)
	settings := cvo.DefaultSettings()
	settings.NightlyHour = 0 // due at any time of the day
	require.NoError(t, s.Save(ctx, e.shop, settings))
	e.startWorkers(t, 2)

	// Two scheduler processes sweep every second.
	for range 2 {
		s, err := jobs.NewScheduler(e.redisOpt, e.queue.Namespace(), nil, time.Second)
		require.NoError(t, err)
		require.NoError(t, s.Start())
		t.Cleanup(s.Shutdown)
	}
	require.Eventually(t, func() bool { return e.runs(t, "nightly") >= 1 }, 15*time.Second, 100*time.Millisecond)
	time.Sleep(3 * time.Second) // several more sweeps by both schedulers
	assert.Equal(t, 1, e.runs(t, "nightly"))
	assert.Equal(t, int32(1), e.scorer.runs.Load())
}

func TestConcurrentRescoresOfOneShopRunOneAtATime(t *testing.T) {
	e := newEnv(t)
	var wg sync.WaitGroup
	var busy atomic.Int32
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.svc.Rescore(context.Background(), e.shop, rescore.ReasonManual)
			if err != nil {
				assert.ErrorIs(t, err, rescore.ErrBusy)
				busy.Add(1)
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, int32(4), busy.Load()+e.scorer.runs.Load())
	assert.GreaterOrEqual(t, busy.Load(), int32(1), "overlapping rescores are refused, not run twice at once")
}

func TestUninstalledShopIsNotRescored(t *testing.T) {
	e := newEnv(t)
	require.NoError(t, e.shops.MarkUninstalled(context.Background(), e.shop))
	id, err := e.svc.Rescore(context.Background(), e.shop, rescore.ReasonManual)
	require.NoError(t, err)
	assert.Zero(t, id)
	assert.Zero(t, e.scorer.runs.Load())
}

// TestRescoreComparesWithThePreviousScoringsGroups holds the transitions a
// rescore reports to the two snapshots it compares: every customer's
// group in the previous scoring must reach the scoring, which reads them
// from the store itself.
func TestRescoreComparesWithThePreviousScoringsGroups(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	asOf := generateShop(t, e.db, e.shop, 7, 3000)
	history := struct {
		*postgres.OrderStore
		*postgres.CustomerStore
	}{postgres.NewOrderStore(e.db), postgres.NewCustomerStore(e.db)}
	svc := rescore.NewService(history, e.scoring, postgres.NewSettingsStore(e.db), e.shops, rescore.ShopScorer{}, nil, e.log)
	groupsOf := func(id int64) map[int64]rfm.Group {
		out := map[int64]rfm.Group{}
		require.NoError(t, e.scoring.EachGroup(ctx, e.shop, id, func(c int64, g rfm.Group) { out[c] = g }))
		return out
	}

	// Half a year apart, customers arrive and change groups.
	svc.SetClock(func() time.Time { return asOf.AddDate(0, -6, 0) })
	first, err := svc.Rescore(ctx, e.shop, rescore.ReasonManual)
	require.NoError(t, err)
	agg, err := e.scoring.Aggregates(ctx, e.shop, first)
	require.NoError(t, err)
	before := groupsOf(first)
	require.NotEmpty(t, before)
	assert.Equal(t, reports.Transitions{New: len(before), Counts: agg.Reports.Transitions.Counts}, agg.Reports.Transitions,
		"the first scoring has nothing to compare with")

	svc.SetClock(func() time.Time { return asOf })
	second, err := svc.Rescore(ctx, e.shop, rescore.ReasonManual)
	require.NoError(t, err)
	agg, err = e.scoring.Aggregates(ctx, e.shop, second)
	require.NoError(t, err)
	var want reports.Transitions
	after := groupsOf(second)
	for c, to := range after {
		from, ok := before[c]
		switch {
		case !ok:
			want.New++
			from = rfm.NoGroup
		case from == to:
			want.Stayed++
		default:
			want.Moved++
		}
		want.Counts[from][to]++
	}
	for c, from := range before {
		if _, ok := after[c]; !ok {
			want.Gone++
			want.Counts[from][rfm.NoGroup]++
		}
	}
	require.Positive(t, want.Moved, "the shop's customers changed groups")
	require.Positive(t, want.New, "the shop gained customers")
	assert.Equal(t, want, agg.Reports.Transitions)
}
