package rescore_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/jobs"
	"github.com/cvo-app/cvo/internal/postgres"
	"github.com/cvo-app/cvo/internal/rescore"
)

func TestMemoryBudgetAdmitsWhatFits(t *testing.T) {
	b := rescore.NewMemoryBudget(100)
	release60, err := b.Reserve("a", 60)
	require.NoError(t, err)
	_, err = b.Reserve("b", 50)
	assert.ErrorIs(t, err, rescore.ErrMemoryBusy, "50 more does not fit beside 60")
	release40, err := b.Reserve("b", 40)
	require.NoError(t, err, "40 fits exactly; b asking again for less takes its own kept room")
	assert.Equal(t, int64(100), b.InUse())

	var tooBig *rescore.TooBigError
	_, err = b.Reserve("c", 101)
	require.ErrorAs(t, err, &tooBig, "more than the whole budget never fits")
	assert.Equal(t, int64(101), tooBig.Need)

	release60()
	release60()
	assert.Equal(t, int64(40), b.InUse(), "a second release gives nothing back twice")
	release40()
	assert.Zero(t, b.InUse())

	var none *rescore.MemoryBudget
	release, err := none.Reserve("d", 1<<50)
	require.NoError(t, err, "no budget admits everything")
	release()
}

// TestMemoryBudgetKeepsRoomForTheLargestWaiting: small rescores coming and
// going cannot starve a large one turned away; room is kept for it, for a
// while after it last asked.
func TestMemoryBudgetKeepsRoomForTheLargestWaiting(t *testing.T) {
	now := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)
	b := rescore.NewMemoryBudget(100)
	b.SetClock(func() time.Time { return now })
	releaseSmall, err := b.Reserve("small-1", 30)
	require.NoError(t, err)
	_, err = b.Reserve("big", 80)
	require.ErrorIs(t, err, rescore.ErrMemoryBusy)

	_, err = b.Reserve("small-2", 30)
	assert.ErrorIs(t, err, rescore.ErrMemoryBusy, "30 would fit beside 30, but not beside the 80 kept for big")
	releaseSmall()
	_, err = b.Reserve("small-3", 30)
	assert.ErrorIs(t, err, rescore.ErrMemoryBusy, "the room stays kept for big")
	releaseBig, err := b.Reserve("big", 80)
	require.NoError(t, err, "big gets its turn")
	releaseSmall, err = b.Reserve("small-3", 20)
	require.NoError(t, err, "once big runs, what is left is anyone's")
	releaseSmall()
	releaseBig()

	_, _ = b.Reserve("hold", 90)
	_, err = b.Reserve("big-2", 80)
	require.ErrorIs(t, err, rescore.ErrMemoryBusy)
	now = now.Add(2 * time.Minute) // big-2 stopped asking
	b2, err := b.Reserve("small-4", 5)
	require.NoError(t, err, "a waiter that stopped asking is forgotten")
	b2()
}

func TestEstimateGrowsWithTheShop(t *testing.T) {
	small, big := rescore.EstimateBytes(10_000, 50_000), rescore.EstimateBytes(1_000_000, 5_000_000)
	assert.Less(t, small, big)
	assert.Equal(t, big-rescore.EstimateBytes(0, 0), 100*(small-rescore.EstimateBytes(0, 0)), "linear in customers and orders")
}

// TestEstimateKeepsRoomAboveTheMeasuredPeaks ties the estimate to the
// highest live heaps `cvodev bench-sync --rescore-only` measured on the
// bench shops (memory.go): a third above each, the room a shop of another
// shape needs. New measurements above these belong here, and in the
// constants.
func TestEstimateKeepsRoomAboveTheMeasuredPeaks(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		name              string
		customers, orders int64
		livePeak          int64
	}{
		{"10k", 10_000, 50_000, 18 * mib},
		{"100k", 100_000, 496_072, 62 * mib},
		{"1M", 1_000_000, 5_019_815, 514 * mib},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.GreaterOrEqual(t, rescore.EstimateBytes(tt.customers, tt.orders), tt.livePeak/3*4)
		})
	}
}

// budgetEnv is a rescore service whose history counts the shop (as the
// worker's does), so that its memory budget applies.
func budgetEnv(t *testing.T, budget int64) (*env, *rescore.MemoryBudget) {
	e := newEnv(t)
	history := struct {
		*postgres.OrderStore
		*postgres.CustomerStore
		*postgres.SyncStore
	}{postgres.NewOrderStore(e.db), postgres.NewCustomerStore(e.db), postgres.NewSyncStore(e.db)}
	e.svc = rescore.NewService(history, e.scoring, postgres.NewSettingsStore(e.db), e.shops, e.scorer, nil, e.log)
	b := rescore.NewMemoryBudget(budget)
	e.svc.SetMemoryBudget(b)
	return e, b
}

func TestRescoreTooBigForTheBudgetSaysWhy(t *testing.T) {
	e, _ := budgetEnv(t, rescore.EstimateBytes(0, 0)-1)
	_, err := e.svc.Rescore(context.Background(), e.shop, rescore.ReasonManual)
	var tooBig *rescore.TooBigError
	require.ErrorAs(t, err, &tooBig)
	assert.Contains(t, err.Error(), "WORKER_MEMORY_BUDGET")
	assert.Zero(t, e.scorer.runs.Load(), "nothing was scored")

	var state, reason string
	require.NoError(t, e.db.Pool.QueryRow(context.Background(),
		`SELECT state, error FROM scorings WHERE shop = $1`, e.shop).Scan(&state, &reason))
	assert.Equal(t, "failed", state)
	assert.Contains(t, reason, "more memory", "the page can tell the merchant why")
}

func TestRescoreWaitsForMemoryWithoutHoldingTheShop(t *testing.T) {
	e, b := budgetEnv(t, rescore.EstimateBytes(0, 0)+10)
	release, err := b.Reserve("another.myshopify.com", 20)
	require.NoError(t, err)

	_, err = e.svc.Rescore(context.Background(), e.shop, rescore.ReasonManual)
	require.ErrorIs(t, err, rescore.ErrMemoryBusy)
	assert.False(t, jobs.IsFailure(err), "a wait for memory is retried without counting as a failure")
	assert.Zero(t, e.scorer.runs.Load())
	var n int
	require.NoError(t, e.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM scorings WHERE shop = $1`, e.shop).Scan(&n))
	assert.Zero(t, n, "no scoring was begun")
	lock, ok, err := e.scoring.LockRescore(context.Background(), e.shop)
	require.NoError(t, err)
	require.True(t, ok, "the shop was not locked while memory was short")
	lock.Release()

	release()
	_, err = e.svc.Rescore(context.Background(), e.shop, rescore.ReasonManual)
	require.NoError(t, err)
	assert.Equal(t, int32(1), e.scorer.runs.Load())
	assert.Zero(t, b.InUse(), "the rescore gave its memory back")
}
