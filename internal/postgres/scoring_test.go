package postgres_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/postgres"
	"github.com/cvo-app/cvo/internal/postgres/pgtest"
)

func scores(groups ...string) []cvo.CustomerScore {
	out := make([]cvo.CustomerScore, len(groups))
	for i, g := range groups {
		out[i] = cvo.CustomerScore{CustomerID: strconv.Itoa(i + 1), Group: g, R: 5, F: 4, M: 3, Orders: 2, Revenue: 10.5,
			HistoricalCLV: 4, PredictedCLV: 7.25, PAlive: 0.8, ExpectedOrders: 1.2, NextOrderAt: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	}
	return out
}

func TestScoringSnapshots(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	store := postgres.NewScoringStore(db)
	shop := "a.myshopify.com"

	_, _, err := store.Latest(ctx, shop)
	assert.Equal(t, cvo.ENOTFOUND, cvo.ErrorCode(err))

	first, err := store.Begin(ctx, shop, "sync", time.Now())
	require.NoError(t, err)
	require.NoError(t, store.Finish(ctx, shop, first, scores("soulmates", "lovers"), map[string]int{"customers": 2}))

	// A failed run leaves the last good scoring current.
	failed, err := store.Begin(ctx, shop, "nightly", time.Now())
	require.NoError(t, err)
	require.NoError(t, store.Fail(ctx, shop, failed, "fit diverged"))
	latest, agg, err := store.Latest(ctx, shop)
	require.NoError(t, err)
	assert.Equal(t, first, latest.ID)
	assert.JSONEq(t, `{"customers":2}`, string(agg))
	run, err := store.LastRun(ctx, shop)
	require.NoError(t, err)
	assert.Equal(t, "failed", run.State)
	assert.Equal(t, "fit diverged", run.Error)
	assert.Error(t, store.Finish(ctx, shop, failed, nil, nil), "a failed run cannot be finished later")

	second, err := store.Begin(ctx, shop, "orders", time.Now())
	require.NoError(t, err)
	require.NoError(t, store.Finish(ctx, shop, second, scores("ex-lovers", "lovers"), map[string]int{"customers": 2}))
	prev, _, err := store.Previous(ctx, shop)
	require.NoError(t, err)
	assert.Equal(t, first, prev.ID)
	groups, err := store.Groups(ctx, shop, prev.ID)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"1": "soulmates", "2": "lovers"}, groups)

	var got []cvo.CustomerScore
	require.NoError(t, store.Customers(ctx, shop, second, func(c cvo.CustomerScore) error { got = append(got, c); return nil }))
	want := scores("ex-lovers", "lovers")
	for i := range want {
		assert.True(t, want[i].NextOrderAt.Equal(got[i].NextOrderAt))
		got[i].NextOrderAt = want[i].NextOrderAt
	}
	assert.Equal(t, want, got)

	// Another shop sees none of it.
	_, _, err = store.Latest(ctx, "b.myshopify.com")
	assert.Equal(t, cvo.ENOTFOUND, cvo.ErrorCode(err))
}

func TestScoringSnapshotsArePruned(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	store := postgres.NewScoringStore(db)
	for range postgres.KeepCustomerSnapshots + 3 {
		id, err := store.Begin(ctx, "a.myshopify.com", "nightly", time.Now())
		require.NoError(t, err)
		require.NoError(t, store.Finish(ctx, "a.myshopify.com", id, scores("lovers"), nil))
	}
	var withRows, runs int
	require.NoError(t, db.Pool.QueryRow(ctx, `SELECT count(DISTINCT scoring_id) FROM customer_scores`).Scan(&withRows))
	require.NoError(t, db.Pool.QueryRow(ctx, `SELECT count(*) FROM scorings`).Scan(&runs))
	assert.Equal(t, postgres.KeepCustomerSnapshots, withRows)
	assert.Equal(t, postgres.KeepCustomerSnapshots+3, runs, "aggregates of every run are kept")
}
