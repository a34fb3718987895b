package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/postgres"
	"github.com/cvo-app/cvo/internal/postgres/pgtest"
)

func withParam(url, param string) string {
	if strings.Contains(url, "?") {
		return url + "&" + param
	}
	return url + "?" + param
}

// openSized opens a second pool on the test's database.
func openSized(t *testing.T, url string, opts postgres.Options) *postgres.DB {
	t.Helper()
	db, err := postgres.OpenWith(context.Background(), url, opts)
	require.NoError(t, err)
	t.Cleanup(db.Close)
	return db
}

func TestPoolSizeComesFromTheURLOrTheOptions(t *testing.T) {
	_, url := pgtest.NewWithURL(t)
	tests := []struct {
		name    string
		url     string
		opts    postgres.Options
		wantMax int32
		wantErr bool
	}{
		{"default from the options", url, postgres.Options{MaxConns: 7}, 7, false},
		{"the URL wins", withParam(url, "pool_max_conns=9"), postgres.Options{MaxConns: 7, MinConns: 5}, 9, false},
		{"worker minimum from its concurrency", url, postgres.Options{MaxConns: postgres.WorkerPoolSize(3), MinConns: postgres.WorkerPoolSize(3)}, 11, false},
		{"below the worker's minimum is refused", withParam(url, "pool_max_conns=4"), postgres.Options{MinConns: postgres.WorkerPoolSize(1)}, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := postgres.OpenWith(context.Background(), tt.url, tt.opts)
			if tt.wantErr {
				require.Error(t, err)
				assert.Contains(t, err.Error(), "pool_max_conns=4")
				return
			}
			require.NoError(t, err)
			defer db.Close()
			assert.Equal(t, tt.wantMax, db.Stats().Max)
		})
	}
}

// cvo migrate used to hand pool_max_conns to the server as a run-time
// parameter, which the server refuses.
func TestEnsureDatabaseTakesPoolSettingsInTheURL(t *testing.T) {
	ctx := context.Background()
	name := fmt.Sprintf("cvo_t_ensure_%d", time.Now().UnixNano())
	url := withParam(pgtest.URL(name), "pool_max_conns=3")
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), pgtest.AdminURL())
		if err == nil {
			_, _ = c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			_ = c.Close(context.Background())
		}
	})
	require.NoError(t, postgres.EnsureDatabase(ctx, url))
	require.NoError(t, postgres.EnsureDatabase(ctx, url), "a second run finds it")
	db := openSized(t, url, postgres.Options{})
	assert.Equal(t, int32(3), db.Stats().Max)
}

func TestReserveFailsFastWhenThePoolIsTaken(t *testing.T) {
	ctx := context.Background()
	_, url := pgtest.NewWithURL(t)
	db := openSized(t, withParam(url, "pool_max_conns=4"), postgres.Options{AcquireWait: 200 * time.Millisecond})

	release, err := db.Reserve(ctx, 3)
	require.NoError(t, err)
	_, err = db.Reserve(ctx, 2)
	require.ErrorIs(t, err, postgres.ErrPoolExhausted)
	assert.Equal(t, int64(1), db.Stats().Refused)
	_, err = db.Reserve(ctx, 5)
	require.ErrorIs(t, err, postgres.ErrPoolExhausted, "more than the pool can ever hold")
	release()
	release() // twice is harmless
	again, err := db.Reserve(ctx, 4)
	require.NoError(t, err)
	again()
}

type rowSource struct {
	rows []postgres.StageRow
	i    int
}

func (s *rowSource) Next() bool             { s.i++; return s.i <= len(s.rows) }
func (s *rowSource) Row() postgres.StageRow { return s.rows[s.i-1] }
func (s *rowSource) Err() error             { return nil }

// TestSyncLockAndMergeFitTheBudget runs a sync's lock, COPY and merge (its
// two groups side by side) on a worker pool of the smallest size for one
// job whose reserve is taken by others: the sync needs no more than its
// SyncConns, and a second sync that cannot get its budget fails at once
// instead of waiting on connections the first one holds.
func TestSyncLockAndMergeFitTheBudget(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, url := pgtest.NewWithURL(t)
	size := postgres.WorkerPoolSize(1)
	// Long enough for a loaded machine to dial the connection the busy
	// shop's check needs; the other shop's refusal waits it out once.
	db := openSized(t, withParam(url, fmt.Sprintf("pool_max_conns=%d", size)), postgres.Options{AcquireWait: 2 * time.Second})
	for range postgres.ReserveConns {
		c, err := db.Pool.Acquire(ctx)
		require.NoError(t, err)
		defer c.Release()
	}

	const shop = "s.myshopify.com"
	store := postgres.NewSyncStore(db)
	held, ok, err := store.Lock(ctx, shop)
	require.NoError(t, err)
	require.True(t, ok)
	defer held.Release()

	_, _, err = store.Lock(ctx, "other.myshopify.com")
	require.ErrorIs(t, err, postgres.ErrPoolExhausted)
	// The same shop is busy, and says so rather than waiting for
	// connections it could not get (that would be ErrPoolExhausted).
	_, ok, err = store.Lock(ctx, shop)
	require.NoError(t, err)
	assert.False(t, ok)

	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	src := &rowSource{}
	for i := int64(1); i <= 50; i++ {
		src.rows = append(src.rows,
			postgres.StageRow{Order: &postgres.OrderRow{ID: i, CustomerID: 7, Name: "#", CreatedAt: at, UpdatedAt: at, Currency: "EUR", Total: "10", DiscountCodes: []string{}}},
			postgres.StageRow{Line: &postgres.LineRow{OrderID: i, ID: i * 10, Title: "Mug", Quantity: 1, UnitPrice: "10"}},
			postgres.StageRow{Refund: &postgres.RefundRow{OrderID: i, ID: i, CreatedAt: at, Amount: "1"}})
	}
	stage := store.Stage(shop, 1, postgres.ResourceOrders)
	require.NoError(t, stage.Reset(ctx))
	_, err = stage.Copy(ctx, src)
	require.NoError(t, err)
	changed, err := store.Merge(ctx, stage, postgres.SyncState{Shop: shop, RunID: 1, Mode: postgres.ModeFull, Phase: postgres.PhaseExporting})
	require.NoError(t, err)
	assert.Equal(t, int64(150), changed)
	require.NoError(t, stage.Drop(ctx))

	held.Release()
	// With the first sync done, its budget is free for the next.
	next, ok, err := store.Lock(ctx, "other.myshopify.com")
	require.NoError(t, err)
	require.True(t, ok)
	next.Release()
}

// A migration merged after higher-numbered ones were applied (00006 after
// 00008 and 00009) is applied, not refused as missing.
func TestMigrateAppliesALateLowerMigration(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	_, err := db.Pool.Exec(ctx, `DELETE FROM goose_db_version WHERE version_id = 6; DROP INDEX scorings_running`)
	require.NoError(t, err)
	require.NoError(t, db.Migrate(ctx))
	var exists bool
	require.NoError(t, db.Pool.QueryRow(ctx, `SELECT to_regclass('scorings_running') IS NOT NULL`).Scan(&exists))
	assert.True(t, exists)
}
