package activation_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/activation"
	"github.com/cvo-app/cvo/internal/postgres"
)

// endWritebackLockSession ends, as a PostgreSQL restart or a cut
// connection would, the session holding the shop's write-back lock (the
// test's database is its own, so the one advisory lock of that namespace
// in it is the write-back's).
func (e *env) endWritebackLockSession() {
	e.t.Helper()
	ctx := context.Background()
	var ended bool
	require.NoError(e.t, e.db.Pool.QueryRow(ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks
		WHERE locktype = 'advisory' AND classid = 7284 AND granted
		AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&ended))
	require.True(e.t, ended)
}

// TestWriteBackWhoseLockDiedStopsBeforeSending: the session holding a
// bulk write-back's lock dies right after its first batch is stored, and
// another worker's write-back to another group takes the shop, drops the
// batch (never started) and moves every customer. The first write-back,
// still alive, must stop with ErrLockLost before staging or running
// anything: every customer ends with exactly the second write-back's group
// tag, as recorded, and Shopify ran only the second's operations.
func TestWriteBackWhoseLockDiedStopsBeforeSending(t *testing.T) {
	t.Parallel()
	const n = 30
	e := newEnv(t, func(c *activation.Config) { c.BulkThreshold = 5 })
	ids := e.addCustomers(n, "m")
	e.apply(tagsOnly(), scores(ids, all("soulmates")))
	require.Len(t, e.sim.BulkMutations(testShop), 1)

	var second activation.Report
	taken := false
	activation.SetAfterStep(e.w, func(step string) error {
		if step != activation.StepBatchStored || taken {
			return nil
		}
		taken = true
		e.endWritebackLockSession()
		other := activation.New(e.cfg)
		var err error
		// The lock is free once the server has ended the session.
		require.Eventually(t, func() bool {
			second, err = other.Apply(context.Background(), testShop, tagsOnly(), scores(ids, all("lovers")))
			return !errors.Is(err, activation.ErrBusy)
		}, 10*time.Second, 10*time.Millisecond)
		require.NoError(t, err)
		return nil
	})
	_, err := e.w.Apply(context.Background(), testShop, tagsOnly(), scores(ids, all("ex-lovers")))
	require.True(t, taken)
	require.ErrorIs(t, err, postgres.ErrLockLost)
	assert.Zero(t, second.Failed)

	for _, id := range ids {
		assert.Equal(t, []string{"m", "cvo-lovers"}, e.tags(id))
		assert.Equal(t, []string{"cvo-lovers"}, e.written(id))
	}
	ops := e.sim.BulkMutations(testShop)[1:]
	assert.Len(t, ops, 2, "the second write-back's remove and add, nothing of the first's")
	for _, op := range ops {
		assert.Equal(t, int64(n), op.Lines)
	}
	batches, err := e.store.BulkBatches(context.Background(), testShop)
	require.NoError(t, err)
	assert.Empty(t, batches)
}
