package ingest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/postgres"
	"github.com/cvo-app/cvo/internal/postgres/pgtest"
)

// TestSyncWhoseLockDiedMergesNothing: the session holding a sync's lock
// ends while an export streams in (a PostgreSQL restart, a cut
// connection), so another worker may be syncing the shop. The sync stops
// with ErrLockLost before merging, records nothing in the shop's sync
// state, and the next sync resumes the run to the tables a clean sync
// leaves.
func TestSyncWhoseLockDiedMergesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newSimShop(t)
	s.populate(t, 2, 120, 300)
	clean := pgtest.New(t)
	require.NoError(t, s.syncer(clean).SyncShop(ctx, testShop))
	want := dumpTables(t, clean, testShop)

	db := pgtest.New(t)
	syncer := s.syncer(db)
	ended := false
	syncer.streamHook = func(r postgres.Resource, n int64) error {
		if r != postgres.ResourceOrders || n != 150 || ended {
			return nil
		}
		ended = true
		require.NoError(t, db.Pool.QueryRow(ctx, `SELECT bool_and(pg_terminate_backend(pid)) FROM pg_locks
			WHERE locktype = 'advisory' AND classid = 7281 AND granted
			AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&ended))
		require.True(t, ended)
		return nil
	}
	before, _, err := postgres.NewSyncStore(db).Get(ctx, testShop)
	require.NoError(t, err)
	err = syncer.SyncShop(ctx, testShop)
	require.ErrorIs(t, err, postgres.ErrLockLost)
	assert.Zero(t, countRows(t, db, "orders", testShop), "nothing merged after the lock was lost")
	st, _, err := postgres.NewSyncStore(db).Get(ctx, testShop)
	require.NoError(t, err)
	assert.Empty(t, st.LastError, "the state, maybe another worker's now, is left alone")
	assert.NotEqual(t, before.RunID, st.RunID)

	syncer.streamHook = nil
	require.NoError(t, syncer.SyncShop(ctx, testShop))
	assert.Equal(t, want, dumpTables(t, db, testShop))
}
