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

type shopLock func(ctx context.Context, shop string) (release func(), ok bool, err error)

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
			db := openSized(t, withParam(url, fmt.Sprintf("pool_max_conns=%d", tc.conns+1)), postgres.Options{AcquireWait: 300 * time.Millisecond})
			lock := jobLocks(db)[i].lock
			release, ok, err := lock(ctx, shop)
			require.NoError(t, err)
			require.True(t, ok)

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
				rel()
			}

			release()
			release() // twice is harmless
			again, ok, err := jobLocks(second)[i].lock(ctx, shop)
			require.NoError(t, err)
			require.True(t, ok, "released with its connection")
			again()
			fits, err := db.Reserve(ctx, tc.conns+1)
			require.NoError(t, err, "the budget is given back")
			fits()
		})
	}
}
