package rescore_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/jobs"
	"github.com/cvo-app/cvo/internal/postgres"
	"github.com/cvo-app/cvo/internal/rescore"
)

func TestMemoryBudgetAdmitsWhatFits(t *testing.T) {
	b := rescore.NewMemoryBudget(100)
	release60, err := b.Reserve(60)
	require.NoError(t, err)
	_, err = b.Reserve(50)
	assert.ErrorIs(t, err, rescore.ErrMemoryBusy, "50 more does not fit beside 60")
	release40, err := b.Reserve(40)
	require.NoError(t, err, "40 fits exactly")
	assert.Equal(t, int64(100), b.InUse())

	var tooBig *rescore.TooBigError
	_, err = b.Reserve(101)
	require.ErrorAs(t, err, &tooBig, "more than the whole budget never fits")
	assert.Equal(t, int64(101), tooBig.Need)

	release60()
	release60()
	assert.Equal(t, int64(40), b.InUse(), "a second release gives nothing back twice")
	release40()
	assert.Zero(t, b.InUse())

	var none *rescore.MemoryBudget
	release, err := none.Reserve(1 << 50)
	require.NoError(t, err, "no budget admits everything")
	release()
}

func TestEstimateGrowsWithTheShop(t *testing.T) {
	small, big := rescore.EstimateBytes(10_000, 50_000), rescore.EstimateBytes(1_000_000, 5_000_000)
	assert.Less(t, small, big)
	assert.Equal(t, big-rescore.EstimateBytes(0, 0), 100*(small-rescore.EstimateBytes(0, 0)), "linear in customers and orders")
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
	release, err := b.Reserve(20) // another shop's rescore
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
	assert.False(t, errors.Is(err, rescore.ErrMemoryBusy))
}
