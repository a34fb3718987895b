package postgres_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/postgres"
	"github.com/cvo-app/cvo/internal/postgres/pgtest"
)

type shopLock func(ctx context.Context, shop string) (lock *postgres.ShopLock, ok bool, err error)

// jobLocks are the per-shop job locks and their connection budgets.
func jobLocks(db *postgres.DB) []struct {
	name  string
	conns int
	lock  shopLock
} {
	return []struct {
		name  string
		conns int
		lock  shopLock
	}{
		{"sync", postgres.SyncConns, postgres.NewSyncStore(db).Lock},
		{"rescore", postgres.RescoreConns, postgres.NewScoringStore(db).LockRescore},
		{"write-back", postgres.WritebackConns, postgres.NewWritebackStore(db).Lock},
	}
}

// TestShopLocks: each job lock admits one job per shop across processes
// (pools), reserves the job's whole budget with it, tells a job whose
// shop is busy so at once even when the pool has no room, and leaves the
// other kinds of lock of the same shop free.
func TestShopLocks(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, url := pgtest.NewWithURL(t)
	const shop, other = "s.myshopify.com", "other.myshopify.com"

	for i, tc := range jobLocks(nil) {
		t.Run(tc.name, func(t *testing.T) {
			// Room for the lock's budget and one connection more.
			// The acquire wait is short enough to keep the test quick where
			// it must run out, and long enough for a loaded machine (with
			// -race) to dial a connection where it must not.
			db := openSized(t, withParam(url, fmt.Sprintf("pool_max_conns=%d", tc.conns+1)), postgres.Options{AcquireWait: 2 * time.Second})
			lock := jobLocks(db)[i].lock
			held, ok, err := lock(ctx, shop)
			require.NoError(t, err)
			require.True(t, ok)
			// A failed check must not leave the lock's connection out, or
			// closing the pool would wait for it forever.
			t.Cleanup(held.Release)

			_, err = db.Reserve(ctx, 2)
			require.ErrorIs(t, err, postgres.ErrPoolExhausted, "the whole budget is reserved with the lock")
			_, ok, err = lock(ctx, shop)
			require.NoError(t, err, "a busy shop is told so, not made to wait for connections")
			assert.False(t, ok)
			_, _, err = lock(ctx, other)
			require.ErrorIs(t, err, postgres.ErrPoolExhausted)

			// Another process (pool) is refused the shop too.
			second := openSized(t, url, postgres.Options{})
			_, ok, err = jobLocks(second)[i].lock(ctx, shop)
			require.NoError(t, err)
			assert.False(t, ok)
			// The other kinds of lock of the shop stay free.
			for j, k := range jobLocks(second) {
				if j == i {
					continue
				}
				rel, ok, err := k.lock(ctx, shop)
				require.NoError(t, err)
				assert.True(t, ok, k.name)
				rel.Release()
			}

			held.Release()
			held.Release() // twice is harmless
			again, ok, err := jobLocks(second)[i].lock(ctx, shop)
			require.NoError(t, err)
			require.True(t, ok, "released with its connection")
			again.Release()
			fits, err := db.Reserve(ctx, tc.conns+1)
			require.NoError(t, err, "the budget is given back")
			fits()
		})
	}
}

// TestShopLockCheck: Check vouches for the lock while its session holds
// it, and reports ErrLockLost, for good, once the session is gone (ended
// by the server, as a PostgreSQL restart or idle_session_timeout would),
// even after another worker has taken the lock: "someone holds it" is not
// "I hold it". Releasing a lost lock returns its budget.
func TestShopLockCheck(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, url := pgtest.NewWithURL(t)
	const shop = "s.myshopify.com"

	for i, tc := range jobLocks(db) {
		t.Run(tc.name, func(t *testing.T) {
			held, ok, err := tc.lock(ctx, shop)
			require.NoError(t, err)
			require.True(t, ok)
			require.NoError(t, held.Check(ctx))
			require.NoError(t, held.Check(ctx), "checking does not use the lock up")

			var ended bool
			require.NoError(t, db.Pool.QueryRow(ctx, `SELECT pg_terminate_backend($1)`, int32(held.PID())).Scan(&ended))
			require.True(t, ended)
			// The session's end frees the lock; another process takes it.
			second := openSized(t, url, postgres.Options{})
			var taker *postgres.ShopLock
			require.Eventually(t, func() bool {
				taker, ok, err = jobLocks(second)[i].lock(ctx, shop)
				return err == nil && ok
			}, 10*time.Second, 20*time.Millisecond)
			require.NoError(t, taker.Check(ctx))

			require.ErrorIs(t, held.Check(ctx), postgres.ErrLockLost)
			require.ErrorIs(t, held.Check(ctx), postgres.ErrLockLost, "a lost lock stays lost")
			held.Release()
			require.NoError(t, taker.Check(ctx), "releasing the lost lock leaves the taker's alone")
			taker.Release()
			fits, err := db.Reserve(ctx, tc.conns)
			require.NoError(t, err, "the lost lock's budget is given back")
			fits()
		})
	}
}
