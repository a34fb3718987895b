package rescore_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/postgres"
	"github.com/cvo-app/cvo/internal/postgres/pgtest"
	"github.com/cvo-app/cvo/internal/rescore"
	"github.com/cvo-app/cvo/internal/scoring"
)

// sessionEndingScorer scores as the worker does, but first ends the
// session holding the shop's rescore lock, as a PostgreSQL restart or
// idle_session_timeout would while a long scoring runs.
type sessionEndingScorer struct {
	t  *testing.T
	db *postgres.DB
}

func (s sessionEndingScorer) Score(ctx context.Context, in rescore.Input) (rescore.Scores, *scoring.Aggregates, error) {
	var ended bool
	require.NoError(s.t, s.db.Pool.QueryRow(ctx, `SELECT bool_and(pg_terminate_backend(pid)) FROM pg_locks
		WHERE locktype = 'advisory' AND classid = 7282 AND granted
		AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&ended))
	require.True(s.t, ended)
	return rescore.ShopScorer{}.Score(ctx, in)
}

// TestRescoreWhoseLockDiedDoesNotBecomeCurrent: a rescore that lost its
// lock while scoring (so the sweep may fail its run, or a newer rescore
// take the shop) stops with ErrLockLost, its run is failed, and the
// last good scoring stays current.
func TestRescoreWhoseLockDiedDoesNotBecomeCurrent(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db := pgtest.New(t)
	good, shops, scorings := realService(t, db)
	const shop = "fenced.myshopify.com"
	seedShop(t, db, shops, shop)
	current, err := good.Rescore(ctx, shop, rescore.ReasonManual)
	require.NoError(t, err)

	history := struct {
		*postgres.OrderStore
		*postgres.CustomerStore
	}{postgres.NewOrderStore(db), postgres.NewCustomerStore(db)}
	svc := rescore.NewService(history, scorings, postgres.NewSettingsStore(db), shops, sessionEndingScorer{t: t, db: db}, nil,
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	_, err = svc.Rescore(ctx, shop, rescore.ReasonManual)
	require.ErrorIs(t, err, postgres.ErrLockLost)

	last, err := scorings.LatestInfo(ctx, shop)
	require.NoError(t, err)
	assert.Equal(t, current, last.ID, "the last good scoring stays current")
	run, err := scorings.LastRun(ctx, shop)
	require.NoError(t, err)
	assert.Equal(t, "failed", run.State)
	assert.Greater(t, run.ID, current)
}
