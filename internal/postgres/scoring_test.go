package postgres_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/postgres"
	"github.com/cvo-app/cvo/internal/postgres/pgtest"
	"github.com/cvo-app/cvo/internal/rfm"
	"github.com/cvo-app/cvo/internal/scoring"
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
	require.NoError(t, store.Finish(ctx, shop, first, scores("soulmates", "lovers"), &scoring.Aggregates{Result: &scoring.Result{Totals: scoring.Totals{Customers: 2}}}))

	// A failed run leaves the last good scoring current.
	failed, err := store.Begin(ctx, shop, "nightly", time.Now())
	require.NoError(t, err)
	require.NoError(t, store.Fail(ctx, shop, failed, "fit diverged"))
	latest, agg, err := store.Latest(ctx, shop)
	require.NoError(t, err)
	assert.Equal(t, first, latest.ID)
	require.NotNil(t, agg)
	assert.Equal(t, 2, agg.Totals.Customers, "the aggregates come back typed")
	run, err := store.LastRun(ctx, shop)
	require.NoError(t, err)
	assert.Equal(t, "failed", run.State)
	assert.Equal(t, "fit diverged", run.Error)
	assert.Error(t, store.Finish(ctx, shop, failed, nil, nil), "a failed run cannot be finished later")

	second, err := store.Begin(ctx, shop, "orders", time.Now())
	require.NoError(t, err)
	require.NoError(t, store.Finish(ctx, shop, second, scores("ex-lovers", "lovers"), &scoring.Aggregates{Result: &scoring.Result{Totals: scoring.Totals{Customers: 2}}}))
	prev, _, err := store.Previous(ctx, shop)
	require.NoError(t, err)
	assert.Equal(t, first, prev.ID)
	groups := map[int64]rfm.Group{}
	require.NoError(t, store.EachGroup(ctx, shop, prev.ID, func(id int64, g rfm.Group) { groups[id] = g }))
	assert.Equal(t, map[int64]rfm.Group{1: rfm.Soulmates, 2: rfm.Lovers}, groups)

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

// Pruning keeps the rows of a shop's newest snapshots only, and never
// touches another shop's, however old.
func TestScoringSnapshotsArePruned(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	store := postgres.NewScoringStore(db)
	finish := func(shop string) int64 {
		id, err := store.Begin(ctx, shop, "nightly", time.Now())
		require.NoError(t, err)
		require.NoError(t, store.Finish(ctx, shop, id, scores("lovers"), nil))
		return id
	}
	other := finish("b.myshopify.com")
	var ids []int64
	for range postgres.KeepCustomerSnapshots + 3 {
		ids = append(ids, finish("a.myshopify.com"))
	}
	withRows := func(shop string) []int64 {
		rows, err := db.Pool.Query(ctx, `SELECT DISTINCT scoring_id FROM customer_scores WHERE shop = $1 ORDER BY 1`, shop)
		require.NoError(t, err)
		got, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		require.NoError(t, err)
		return got
	}
	assert.Equal(t, ids[3:], withRows("a.myshopify.com"))
	assert.Equal(t, []int64{other}, withRows("b.myshopify.com"))
	var runs int
	require.NoError(t, db.Pool.QueryRow(ctx, `SELECT count(*) FROM scorings`).Scan(&runs))
	assert.Equal(t, postgres.KeepCustomerSnapshots+4, runs, "aggregates of every run are kept")
}

func TestListCustomers(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	store := postgres.NewScoringStore(db)
	customers := postgres.NewCustomerStore(db)
	shop := "a.myshopify.com"
	people := []postgres.CustomerRow{
		{ID: 1, Email: "ada@example.com", FirstName: "Ada", LastName: "Lovelace"},
		{ID: 2, Email: "alan@example.com", FirstName: "Alan", LastName: "Turing"},
		{ID: 3, Email: "grace_h@example.com", FirstName: "Grace", LastName: "Hopper"},
	}
	for _, p := range people {
		p.UpdatedAt = time.Now()
		_, err := customers.Upsert(ctx, shop, p)
		require.NoError(t, err)
	}
	// Another shop's customer with a matching email never shows.
	_, err := customers.Upsert(ctx, "b.myshopify.com", postgres.CustomerRow{ID: 1, Email: "ada@example.com", UpdatedAt: time.Now()})
	require.NoError(t, err)

	id, err := store.Begin(ctx, shop, "sync", time.Now())
	require.NoError(t, err)
	sc := scores("soulmates", "lovers", "lovers")
	sc[0].PredictedCLV, sc[1].PredictedCLV, sc[2].PredictedCLV = 10, 30, 20
	require.NoError(t, store.Finish(ctx, shop, id, sc, nil))

	ids := func(ls []postgres.CustomerListing) []string {
		var out []string
		for _, l := range ls {
			out = append(out, l.CustomerID)
		}
		return out
	}
	cases := []struct {
		name      string
		q         postgres.CustomerQuery
		wantIDs   []string
		wantTotal int
	}{
		{"all by predicted value", postgres.CustomerQuery{Limit: 10, WantAll: true}, []string{"2", "3", "1"}, 3},
		{"one group", postgres.CustomerQuery{Group: "lovers", Limit: 10, WantAll: true}, []string{"2", "3"}, 2},
		{"second page", postgres.CustomerQuery{Limit: 1, Offset: 1, WantAll: true}, []string{"3"}, 3},
		{"second page of a group", postgres.CustomerQuery{Group: "lovers", Limit: 1, Offset: 1, WantAll: true}, []string{"3"}, 2},
		{"a group no one is in", postgres.CustomerQuery{Group: "ex-lovers", Limit: 10, WantAll: true}, nil, 0},
		{"email prefix", postgres.CustomerQuery{Search: "ADA@", Limit: 10}, []string{"1"}, 1},
		{"first name prefix", postgres.CustomerQuery{Search: "al", Limit: 10}, []string{"2"}, 1},
		{"last name prefix", postgres.CustomerQuery{Search: "hop", Limit: 10}, []string{"3"}, 1},
		{"customer id", postgres.CustomerQuery{Search: "3", Limit: 10}, []string{"3"}, 1},
		{"like wildcards are literal", postgres.CustomerQuery{Search: "grace%", Limit: 10}, nil, 0},
		{"underscore is literal", postgres.CustomerQuery{Search: "grace_", Limit: 10}, []string{"3"}, 1},
		{"search within a group", postgres.CustomerQuery{Search: "a", Group: "soulmates", Limit: 10}, []string{"1"}, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, total, err := store.ListCustomers(ctx, shop, id, tc.q)
			require.NoError(t, err)
			assert.Equal(t, tc.wantIDs, ids(got))
			assert.Equal(t, tc.wantTotal, total)
		})
	}
	for _, q := range []postgres.CustomerQuery{{Search: "ada", Limit: 10}, {Group: "soulmates", Limit: 10}} {
		got, _, err := store.ListCustomers(ctx, shop, id, q)
		require.NoError(t, err)
		require.Len(t, got, 1)
		assert.Equal(t, "Ada Lovelace", got[0].Name, "the page is joined to its customers")
		assert.Equal(t, "ada@example.com", got[0].Email)
	}
	// A later snapshot of the shop, and another shop's, stay apart.
	later, err := store.Begin(ctx, shop, "nightly", time.Now())
	require.NoError(t, err)
	require.NoError(t, store.Finish(ctx, shop, later, scores("lovers"), nil))
	got, total, err := store.ListCustomers(ctx, shop, id, postgres.CustomerQuery{Group: "lovers", Limit: 10, WantAll: true})
	require.NoError(t, err)
	assert.Equal(t, []string{"2", "3"}, ids(got))
	assert.Equal(t, 2, total)
}

// Reading a list page after page by its last key gives every customer
// once, in the list's order, ties in predicted value included.
func TestListCustomersAfterAKey(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	store := postgres.NewScoringStore(db)
	shop := "a.myshopify.com"
	groups := make([]string, 500)
	for i := range groups {
		groups[i] = []string{"lovers", "soulmates"}[i%2]
	}
	sc := scores(groups...)
	for i := range sc {
		// Few distinct values, so most pages start inside a tie.
		sc[i].PredictedCLV = float64((i * 7) % 5)
	}
	id, err := store.Begin(ctx, shop, "sync", time.Now())
	require.NoError(t, err)
	require.NoError(t, store.Finish(ctx, shop, id, sc, nil))
	other, err := store.Begin(ctx, shop, "nightly", time.Now())
	require.NoError(t, err)
	require.NoError(t, store.Finish(ctx, shop, other, scores("lovers", "lovers"), nil))

	for _, group := range []string{"", "lovers"} {
		whole, _, err := store.ListCustomers(ctx, shop, id, postgres.CustomerQuery{Group: group, Limit: 1000})
		require.NoError(t, err)
		var paged []postgres.CustomerListing
		var after *postgres.ListingKey
		for {
			page, _, err := store.ListCustomers(ctx, shop, id, postgres.CustomerQuery{Group: group, Limit: 7, After: after})
			require.NoError(t, err)
			paged = append(paged, page...)
			require.LessOrEqual(t, len(paged), len(whole), "pages that come back again would never end")
			if len(page) < 7 {
				break
			}
			key := page[len(page)-1].Key()
			after = &key
		}
		assert.Equal(t, whole, paged, "group %q", group)
		if group == "" {
			assert.Len(t, paged, 500)
		} else {
			assert.Len(t, paged, 250)
		}
	}
	_, _, err = store.ListCustomers(ctx, shop, id, postgres.CustomerQuery{Search: "1", Limit: 7, After: &postgres.ListingKey{}})
	assert.Equal(t, cvo.EINVALID, cvo.ErrorCode(err), "a search is not paged by key")
}

// The run records (Begin, Fail, FailRunning, LatestInfo, LastRun,
// Aggregates, the rescore requests) are read and written whole, per shop.
func TestScoringRunRecords(t *testing.T) {
	ctx := context.Background()
	store := postgres.NewScoringStore(pgtest.New(t))
	a, b := "a.myshopify.com", "b.myshopify.com"
	asOf := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

	_, err := store.LatestInfo(ctx, a)
	assert.Equal(t, cvo.ENOTFOUND, cvo.ErrorCode(err))
	_, err = store.LastRun(ctx, a)
	assert.Equal(t, cvo.ENOTFOUND, cvo.ErrorCode(err))

	good, err := store.Begin(ctx, a, "sync", asOf)
	require.NoError(t, err)
	run, err := store.LastRun(ctx, a)
	require.NoError(t, err)
	assert.Equal(t, cvo.Scoring{ID: good, Shop: a, Reason: "sync", AsOf: run.AsOf, StartedAt: run.StartedAt, State: "running"}, run)
	assert.True(t, asOf.Equal(run.AsOf))
	assert.False(t, run.StartedAt.IsZero(), "the table starts the run")
	_, err = store.LatestInfo(ctx, a)
	assert.Equal(t, cvo.ENOTFOUND, cvo.ErrorCode(err), "a running scoring is not the latest")

	require.NoError(t, store.Finish(ctx, a, good, scores("lovers", "lovers", "soulmates"), nil))
	require.NoError(t, store.Fail(ctx, a, good, "too late"), "failing a finished run is a no-op")
	info, err := store.LatestInfo(ctx, a)
	require.NoError(t, err)
	assert.Equal(t, good, info.ID)
	assert.Equal(t, "succeeded", info.State)
	assert.Equal(t, "", info.Error)
	assert.Equal(t, 3, info.Customers)
	assert.False(t, info.FinishedAt.IsZero())
	agg, err := store.Aggregates(ctx, a, good)
	require.NoError(t, err)
	assert.Nil(t, agg, "a scoring finished without aggregates has none")
	_, err = store.Aggregates(ctx, b, good)
	assert.Error(t, err, "another shop's scoring is not found")

	// Two runs left running by a dead worker, and one of another shop.
	for _, shop := range []string{a, a, b} {
		_, err := store.Begin(ctx, shop, "nightly", asOf)
		require.NoError(t, err)
	}
	n, err := store.FailRunning(ctx, a)
	require.NoError(t, err)
	assert.Equal(t, int64(2), n)
	run, err = store.LastRun(ctx, a)
	require.NoError(t, err)
	assert.Equal(t, "failed", run.State)
	assert.Equal(t, postgres.AbandonedReason, run.Error)
	assert.False(t, run.FinishedAt.IsZero())
	info, err = store.LatestInfo(ctx, a)
	require.NoError(t, err)
	assert.Equal(t, good, info.ID, "failed runs leave the last good scoring current")
	run, err = store.LastRun(ctx, b)
	require.NoError(t, err)
	assert.Equal(t, "running", run.State, "another shop's run is untouched")

	at, err := store.RescoreRequestedAt(ctx, a)
	require.NoError(t, err)
	assert.True(t, at.IsZero())
	for _, req := range []time.Time{asOf, asOf.Add(time.Hour), asOf.Add(-time.Hour)} {
		require.NoError(t, store.RequestRescore(ctx, a, req))
	}
	at, err = store.RescoreRequestedAt(ctx, a)
	require.NoError(t, err)
	assert.True(t, asOf.Add(time.Hour).Equal(at), "the newest request wins: %s", at)
	at, err = store.RescoreRequestedAt(ctx, b)
	require.NoError(t, err)
	assert.True(t, at.IsZero(), "requests are per shop")
}

// A snapshot's rows are stored only with their own running scoring, which
// the table no longer checks by reference: Finish does, and shop
// redaction deletes them after their scorings, so that a snapshot
// finished while it runs cannot leave its rows behind.
func TestSnapshotRowsNeedTheirRunningScoring(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	store := postgres.NewScoringStore(db)
	rows := func(shop string) int {
		var n int
		require.NoError(t, db.Pool.QueryRow(ctx, `SELECT count(*) FROM customer_scores WHERE shop = $1`, shop).Scan(&n))
		return n
	}
	other, err := store.Begin(ctx, "b.myshopify.com", "sync", time.Now())
	require.NoError(t, err)
	for name, id := range map[string]int64{"no such scoring": other + 1000, "another shop's scoring": other} {
		assert.Error(t, store.Finish(ctx, "a.myshopify.com", id, scores("lovers"), nil), name)
		assert.Zero(t, rows("a.myshopify.com"), name)
	}

	// redactWhile starts the shop's redaction while hold (an open
	// transaction) blocks it, waits until it does, then lets go with
	// release and returns the redaction's error.
	redactWhile := func(t *testing.T, shop string, hold pgx.Tx, release func()) error {
		redacted := make(chan error, 1)
		go func() { redacted <- postgres.NewPrivacyStore(db).DeleteShop(ctx, shop) }()
		require.Eventually(t, func() bool {
			var waiting int
			err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
				WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting)
			return err == nil && waiting > 0
		}, 10*time.Second, 20*time.Millisecond, "the redaction waits")
		release()
		require.NoError(t, hold.Commit(ctx))
		return <-redacted
	}

	t.Run("a snapshot committing while the redaction waits for its run", func(t *testing.T) {
		shop := "finishing.myshopify.com"
		id, err := store.Begin(ctx, shop, "sync", time.Now())
		require.NoError(t, err)
		// Finish's transaction, between marking its run and committing.
		tx, err := db.Pool.Begin(ctx)
		require.NoError(t, err)
		defer tx.Rollback(ctx) //nolint:errcheck
		_, err = tx.Exec(ctx, `INSERT INTO customer_scores (shop, scoring_id, customer_id, grp, r, f, m, orders, revenue, historical_clv,
			predicted_clv, p_alive, expected_orders) VALUES ($1, $2, 1, 'lovers', 5, 4, 3, 2, 10, 4, 7, 0.8, 1.2)`, shop, id)
		require.NoError(t, err)
		_, err = tx.Exec(ctx, `UPDATE scorings SET state = 'succeeded' WHERE shop = $1 AND id = $2`, shop, id)
		require.NoError(t, err)
		require.NoError(t, redactWhile(t, shop, tx, func() {}))
		assert.Zero(t, rows(shop), "no row of the redacted shop's snapshot is left")
	})

	t.Run("a scoring begun and finished while the redaction is midway", func(t *testing.T) {
		shop := "midway.myshopify.com"
		first, err := store.Begin(ctx, shop, "sync", time.Now())
		require.NoError(t, err)
		require.NoError(t, store.Finish(ctx, shop, first, scores("lovers"), nil))
		// A slow table between customer_scores and scorings in the
		// alphabet holds the redaction midway.
		tx, err := db.Pool.Begin(ctx)
		require.NoError(t, err)
		defer tx.Rollback(ctx) //nolint:errcheck
		_, err = tx.Exec(ctx, `LOCK TABLE customers IN EXCLUSIVE MODE`)
		require.NoError(t, err)
		err = redactWhile(t, shop, tx, func() {
			id, err := store.Begin(ctx, shop, "nightly", time.Now())
			require.NoError(t, err)
			require.NoError(t, store.Finish(ctx, shop, id, scores("lovers", "soulmates"), nil))
		})
		require.NoError(t, err)
		assert.Zero(t, rows(shop), "the snapshot finished midway goes with the rest")
	})
}

// TestFinishWritesEachRowsOwnValues reads back every column of a snapshot
// whose rows all differ, written through FinishRows' one reused set of
// values: a value left over from the row before, or a next-order day
// shifted by its zone's offset, fails it.
func TestFinishWritesEachRowsOwnValues(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	store := postgres.NewScoringStore(db)
	const shop = "rows.myshopify.com"
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	require.NoError(t, err)
	want := cvo.CustomerScores{
		// Midnight in Berlin and in Tokyo is the day before in UTC.
		{CustomerID: "11", Group: "champions", R: 5, F: 5, M: 4, Orders: 300, Revenue: 1234.5, HistoricalCLV: 400.25, PredictedCLV: 900.75,
			PAlive: 0.97, ExpectedOrders: 3.5, NextOrderAt: time.Date(2026, 12, 1, 0, 0, 0, 0, berlin), POrderWindow: 0.8, ChurnRisk: "low"},
		{CustomerID: "9007199254740993", Group: "at-risk", R: 2, F: 3, M: 1, Orders: 4, Revenue: 55, HistoricalCLV: -3, PredictedCLV: 12.5,
			PAlive: 0.4, ExpectedOrders: 0.25, POrderWindow: 0.2, ChurnRisk: "medium"},
		{CustomerID: "3", Group: "hibernating", R: 1, F: 1, M: 1, Orders: 1, Revenue: 0, HistoricalCLV: 0, PredictedCLV: 0.5,
			PAlive: 0.05, ExpectedOrders: 0.01, NextOrderAt: time.Date(2027, 3, 1, 0, 0, 0, 0, tokyo), POrderWindow: 0.01, ChurnRisk: "high"},
	}
	id, err := store.Begin(ctx, shop, "manual", time.Now())
	require.NoError(t, err)
	require.NoError(t, store.Finish(ctx, shop, id, want, &scoring.Aggregates{Result: &scoring.Result{}}))

	got := map[string]cvo.CustomerScore{}
	require.NoError(t, store.Customers(ctx, shop, id, func(c cvo.CustomerScore) error { got[c.CustomerID] = c; return nil }))
	require.Len(t, got, len(want))
	for _, w := range want {
		g := got[w.CustomerID]
		if w.NextOrderAt.IsZero() {
			assert.True(t, g.NextOrderAt.IsZero(), "customer %s has no next order", w.CustomerID)
		} else {
			y, m, d := w.NextOrderAt.Date()
			gy, gm, gd := g.NextOrderAt.Date()
			assert.Equal(t, [3]int{y, int(m), d}, [3]int{gy, int(gm), gd}, "customer %s: the day in the shop's zone", w.CustomerID)
		}
		g.NextOrderAt, w.NextOrderAt = time.Time{}, time.Time{}
		assert.Equal(t, w, g)
	}
}
