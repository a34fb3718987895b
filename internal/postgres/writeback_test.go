package postgres_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/postgres"
	"github.com/cvo-app/cvo/internal/postgres/pgtest"
)

func scanAll(t *testing.T, s *postgres.WritebackStore, shop string, withMetafields bool) []postgres.Writeback {
	t.Helper()
	var out []postgres.Writeback
	require.NoError(t, s.Scan(context.Background(), shop, withMetafields, func(w postgres.Writeback) error {
		out = append(out, w)
		return nil
	}))
	return out
}

func TestWritebackSaveScanAndDelete(t *testing.T) {
	ctx := context.Background()
	s := postgres.NewWritebackStore(pgtest.New(t))
	const shop = "a.myshopify.com"

	require.NoError(t, s.Save(ctx, shop, []postgres.Writeback{
		{CustomerID: 30, Tags: []string{"cvo-break-up"}},
		{CustomerID: 10, Tags: []string{"cvo-soulmates", "cvo-value-high"}, Metafields: map[string]string{"group": "soulmates", "r_score": "5"}},
		{CustomerID: 20, Metafields: map[string]string{"group": "lovers"}},
		{CustomerID: 30, Tags: []string{"cvo-ex-lovers"}}, // the last row for a customer wins
	}))
	require.NoError(t, s.Save(ctx, "b.myshopify.com", []postgres.Writeback{{CustomerID: 10, Tags: []string{"other-shop"}}}))

	got := scanAll(t, s, shop, true)
	require.Len(t, got, 3)
	assert.Equal(t, []int64{10, 20, 30}, []int64{got[0].CustomerID, got[1].CustomerID, got[2].CustomerID}, "id order")
	assert.Equal(t, []string{"cvo-soulmates", "cvo-value-high"}, got[0].Tags)
	assert.Equal(t, map[string]string{"group": "soulmates", "r_score": "5"}, got[0].Metafields)
	assert.Empty(t, got[1].Tags)
	assert.Equal(t, []string{"cvo-ex-lovers"}, got[2].Tags)
	assert.Equal(t, map[string]string{}, got[2].Metafields)
	assert.Nil(t, scanAll(t, s, shop, false)[0].Metafields, "metafields are not read unless asked")

	// Saving an empty row removes the customer's row; others are untouched.
	require.NoError(t, s.Save(ctx, shop, []postgres.Writeback{{CustomerID: 30}, {CustomerID: 10, Tags: []string{"cvo-lovers"}, Metafields: got[0].Metafields}}))
	w, ok, err := s.Get(ctx, shop, 10)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, []string{"cvo-lovers"}, w.Tags)
	_, ok, err = s.Get(ctx, shop, 30)
	require.NoError(t, err)
	assert.False(t, ok)
	n, err := s.Count(ctx, shop)
	require.NoError(t, err)
	assert.Equal(t, 2, n)

	require.NoError(t, s.DeleteCustomers(ctx, shop, []int64{20}))
	assert.Len(t, scanAll(t, s, shop, false), 1)
	require.NoError(t, s.DeleteShop(ctx, shop))
	assert.Empty(t, scanAll(t, s, shop, false))
	assert.Len(t, scanAll(t, s, "b.myshopify.com", false), 1, "other shops keep theirs")
}

// TestWritebackScanReadsEveryPage: a shop of several pages is read whole,
// in id order, each row once, pages ending exactly at a page's end
// included; fn may use the store meanwhile (no connection is held while
// it runs).
func TestWritebackScanReadsEveryPage(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	s := postgres.NewWritebackStore(db)
	const shop = "a.myshopify.com"
	for _, n := range []int{0, 1, 1999, 2000, 2001, 4000, 4500} {
		require.NoError(t, s.DeleteShop(ctx, shop))
		rows := make([]postgres.Writeback, n)
		for i := range rows {
			// Ids from far below zero to far above, out of order.
			rows[i] = postgres.Writeback{CustomerID: int64((i*7919)%n-n/2) * 1_000_003, Tags: []string{"cvo-lovers"}}
		}
		require.NoError(t, s.Save(ctx, shop, rows))
		var got []int64
		require.NoError(t, s.Scan(ctx, shop, true, func(w postgres.Writeback) error {
			got = append(got, w.CustomerID)
			if len(got)%1000 == 0 {
				// The store answers while a scan is under way.
				_, _, err := s.Get(ctx, shop, w.CustomerID)
				return err
			}
			return nil
		}))
		require.Len(t, got, n)
		assert.True(t, slices.IsSorted(got), "%d rows in id order", n)
		assert.Len(t, slices.Compact(got), n, "%d rows, each once", n)
	}
}

func TestWritebackSetupAndSegments(t *testing.T) {
	ctx := context.Background()
	s := postgres.NewWritebackStore(pgtest.New(t))
	const shop = "a.myshopify.com"

	setup, err := s.Setup(ctx, shop)
	require.NoError(t, err)
	assert.Equal(t, postgres.WritebackSetup{}, setup)

	require.NoError(t, s.AddTagPrefix(ctx, shop, "cvo-"))
	require.NoError(t, s.AddTagPrefix(ctx, shop, "vip_"))
	require.NoError(t, s.AddTagPrefix(ctx, shop, "cvo-"))
	require.NoError(t, s.SaveDefinitionsVersion(ctx, shop, 1))
	at := time.Date(2026, 11, 1, 3, 0, 0, 0, time.UTC)
	require.NoError(t, s.SaveReport(ctx, shop, at, map[string]int{"changed": 3}))
	setup, err = s.Setup(ctx, shop)
	require.NoError(t, err)
	assert.Equal(t, []string{"cvo-", "vip_"}, setup.TagPrefixes)
	assert.Equal(t, 1, setup.DefinitionsVersion)
	assert.True(t, at.Equal(setup.LastRunAt))
	assert.JSONEq(t, `{"changed": 3}`, string(setup.LastReport))

	require.NoError(t, s.SaveSegment(ctx, shop, postgres.SegmentRecord{Group: "soulmates", SegmentID: 7, Name: "CVO · Soulmates", Query: "q1"}))
	require.NoError(t, s.SaveSegment(ctx, shop, postgres.SegmentRecord{Group: "lovers", SegmentID: 8, Name: "CVO · Lovers", Query: "q2"}))
	require.NoError(t, s.SaveSegment(ctx, shop, postgres.SegmentRecord{Group: "soulmates", SegmentID: 7, Name: "CVO · Soulmates", Query: "q3"}))
	segs, err := s.Segments(ctx, shop)
	require.NoError(t, err)
	require.Len(t, segs, 2)
	assert.Equal(t, "lovers", segs[0].Group)
	assert.Equal(t, "q3", segs[1].Query)
}

// TestSettleBulkBatchRecordsConfirmedLinesOnce: settling records exactly
// the confirmed lines (all but the failed ones), relative to each customer's current row, deletes
// the batch with them, and a second settle of the same batch fails with
// ErrBulkBatchGone and changes nothing, as does recording a step of a
// batch that is gone. Other shops' rows and batches are untouched.
func TestSettleBulkBatchRecordsConfirmedLinesOnce(t *testing.T) {
	ctx := context.Background()
	s := postgres.NewWritebackStore(pgtest.New(t))
	const shop, other = "a.myshopify.com", "b.myshopify.com"
	now := time.Now().UTC().Truncate(time.Second)
	require.NoError(t, s.Save(ctx, shop, []postgres.Writeback{
		{CustomerID: 1, Tags: []string{"cvo-lovers", "cvo-value-low"}},
		{CustomerID: 2, Tags: []string{"cvo-lovers"}},
		{CustomerID: 3, Tags: []string{"cvo-lovers"}, Metafields: map[string]string{"group": "lovers", "r_score": "2"}},
	}))
	require.NoError(t, s.Save(ctx, other, []postgres.Writeback{{CustomerID: 2, Tags: []string{"cvo-lovers"}}}))
	batch := func(shop, kind, marker string, lines ...postgres.BulkLine) int64 {
		id, err := s.CreateBulkBatch(ctx, shop, postgres.BulkBatch{Kind: kind, Marker: marker, CreatedAt: now}, lines)
		require.NoError(t, err)
		return id
	}
	remove := batch(shop, postgres.BulkTagsRemove, "m1",
		postgres.BulkLine{CustomerID: 1, Tags: []string{"cvo-lovers"}},
		postgres.BulkLine{CustomerID: 2, Tags: []string{"cvo-lovers"}},
		postgres.BulkLine{CustomerID: 3, Tags: []string{"cvo-lovers"}})
	// The additions are stored in two parts: lines 1 and 2 follow line 0.
	add := batch(shop, postgres.BulkTagsAdd, "m2",
		postgres.BulkLine{CustomerID: 1, Tags: []string{"cvo-soulmates", "cvo-value-low"}})
	require.NoError(t, s.AddBulkLines(ctx, shop, add, []postgres.BulkLine{
		{CustomerID: 4, Tags: []string{"cvo-soulmates"}},
		{CustomerID: 5, Tags: []string{"cvo-soulmates"}}}))
	mf := batch(shop, postgres.BulkMetafields, "m3",
		postgres.BulkLine{CustomerID: 3, Metafields: map[string]string{"group": "soulmates"}},
		postgres.BulkLine{CustomerID: 6, Metafields: map[string]string{"group": "soulmates"}})
	otherBatch := batch(other, postgres.BulkTagsRemove, "m4", postgres.BulkLine{CustomerID: 2, Tags: []string{"cvo-lovers"}})

	got, err := s.BulkBatches(ctx, shop)
	require.NoError(t, err)
	require.Len(t, got, 3)
	assert.True(t, now.Equal(got[0].CreatedAt))
	got[0].CreatedAt = now
	assert.Equal(t, postgres.BulkBatch{ID: remove, Kind: postgres.BulkTagsRemove, Marker: "m1", Lines: 3, CreatedAt: now}, got[0])
	require.NoError(t, s.SetBulkStaged(ctx, shop, add, "tmp/1/bulk/x.jsonl"))
	require.NoError(t, s.SetBulkStarted(ctx, shop, add, "gid://shopify/BulkOperation/7", now))
	got, err = s.BulkBatches(ctx, shop)
	require.NoError(t, err)
	assert.Equal(t, "tmp/1/bulk/x.jsonl", got[1].StagedPath)
	assert.Equal(t, 3, got[1].Lines)
	assert.Equal(t, "gid://shopify/BulkOperation/7", got[1].OperationID)

	// Line 1 of the removal (customer 2) failed at Shopify; line 2 of the
	// additions (customer 5) too.
	failedCustomers, err := s.BulkLineCustomers(ctx, shop, add, []int32{2, 0})
	require.NoError(t, err)
	assert.Equal(t, []int64{1, 5}, failedCustomers)
	failedCustomers, err = s.BulkLineCustomers(ctx, other, add, []int32{2})
	require.NoError(t, err)
	assert.Empty(t, failedCustomers, "another shop's batch")
	require.NoError(t, s.SettleBulkBatch(ctx, shop, remove, []int32{1}))
	require.NoError(t, s.SettleBulkBatch(ctx, shop, add, []int32{2}))
	require.NoError(t, s.SettleBulkBatch(ctx, shop, mf, nil))
	for _, id := range []int64{remove, add, mf} {
		require.ErrorIs(t, s.SettleBulkBatch(ctx, shop, id, nil), postgres.ErrBulkBatchGone)
		require.ErrorIs(t, s.SetBulkStaged(ctx, shop, id, "tmp/1/bulk/y.jsonl"), postgres.ErrBulkBatchGone)
		require.ErrorIs(t, s.SetBulkStarted(ctx, shop, id, "gid://shopify/BulkOperation/8", now), postgres.ErrBulkBatchGone)
		require.ErrorIs(t, s.AddBulkLines(ctx, shop, id, []postgres.BulkLine{{CustomerID: 9, Tags: []string{"x"}}}), postgres.ErrBulkBatchGone)
	}
	require.ErrorIs(t, s.AddBulkLines(ctx, shop, otherBatch, []postgres.BulkLine{{CustomerID: 9, Tags: []string{"x"}}}),
		postgres.ErrBulkBatchGone)
	// Another shop's batch is not this shop's.
	require.ErrorIs(t, s.SettleBulkBatch(ctx, shop, otherBatch, nil), postgres.ErrBulkBatchGone)
	assert.Equal(t, []postgres.Writeback{
		{CustomerID: 1, Tags: []string{"cvo-value-low", "cvo-soulmates"}, Metafields: map[string]string{}},
		{CustomerID: 2, Tags: []string{"cvo-lovers"}, Metafields: map[string]string{}},
		{CustomerID: 3, Tags: []string{}, Metafields: map[string]string{"group": "soulmates", "r_score": "2"}},
		{CustomerID: 4, Tags: []string{"cvo-soulmates"}, Metafields: map[string]string{}},
		{CustomerID: 6, Tags: []string{}, Metafields: map[string]string{"group": "soulmates"}},
	}, scanAll(t, s, shop, true))
	got, err = s.BulkBatches(ctx, shop)
	require.NoError(t, err)
	assert.Empty(t, got)

	// A customer left with nothing of the app's loses the row.
	only := batch(shop, postgres.BulkTagsRemove, "m5", postgres.BulkLine{CustomerID: 4, Tags: []string{"cvo-soulmates"}})
	require.NoError(t, s.SettleBulkBatch(ctx, shop, only, nil))
	_, found, err := s.Get(ctx, shop, 4)
	require.NoError(t, err)
	assert.False(t, found)

	// metafieldsDelete lines take their keys off; a row left empty goes.
	require.NoError(t, s.Save(ctx, shop, []postgres.Writeback{
		{CustomerID: 7, Metafields: map[string]string{"survey_url_nps": "https://a/s/1"}},
		{CustomerID: 8, Tags: []string{"cvo-lovers"}, Metafields: map[string]string{"survey_url_nps": "https://a/s/2", "survey_url_why": "https://a/s/3"}},
	}))
	dels := batch(shop, postgres.BulkMetafieldsDelete, "m7",
		postgres.BulkLine{CustomerID: 7, Keys: []string{"survey_url_nps"}},
		postgres.BulkLine{CustomerID: 8, Keys: []string{"survey_url_nps"}},
		postgres.BulkLine{CustomerID: 99, Keys: []string{"survey_url_nps"}})
	require.NoError(t, s.SettleBulkBatch(ctx, shop, dels, nil))
	_, found, err = s.Get(ctx, shop, 7)
	require.NoError(t, err)
	assert.False(t, found)
	w8, _, err := s.Get(ctx, shop, 8)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"survey_url_why": "https://a/s/3"}, w8.Metafields)
	assert.Equal(t, []string{"cvo-lovers"}, w8.Tags)
	_, found, err = s.Get(ctx, shop, 99)
	require.NoError(t, err)
	assert.False(t, found, "deleting what was never written makes no row")
	require.NoError(t, s.Save(ctx, shop, []postgres.Writeback{{CustomerID: 8}}))

	// Dropping forgets a batch without recording anything.
	dropped := batch(shop, postgres.BulkTagsAdd, "m6", postgres.BulkLine{CustomerID: 9, Tags: []string{"x"}})
	require.NoError(t, s.DropBulkBatch(ctx, shop, dropped))
	require.ErrorIs(t, s.SettleBulkBatch(ctx, shop, dropped, nil), postgres.ErrBulkBatchGone)
	_, found, err = s.Get(ctx, shop, 9)
	require.NoError(t, err)
	assert.False(t, found)

	assert.Equal(t, []postgres.Writeback{{CustomerID: 2, Tags: []string{"cvo-lovers"}, Metafields: map[string]string{}}}, scanAll(t, s, other, true))
	left, err := s.BulkBatches(ctx, other)
	require.NoError(t, err)
	require.Len(t, left, 1)
	assert.Equal(t, otherBatch, left[0].ID)
}

// BenchmarkBulkBatchLifecycle measures what persisting a bulk write-back
// batch costs: storing the 99,126 lines of the issue 9 incident before the
// upload, then recording them all as confirmed and deleting the batch.
func BenchmarkBulkBatchLifecycle(b *testing.B) {
	const n = 99_126
	ctx := context.Background()
	s := postgres.NewWritebackStore(pgtest.New(b))
	const shop = "bench.myshopify.com"
	lines := make([]postgres.BulkLine, n)
	rows := make([]postgres.Writeback, n)
	for i := range lines {
		lines[i] = postgres.BulkLine{CustomerID: int64(i + 1), Tags: []string{"cvo-soulmates"}}
		rows[i] = postgres.Writeback{CustomerID: int64(i + 1), Tags: []string{"cvo-soulmates"}}
	}
	var stored, settled, saved time.Duration
	for it := range b.N {
		start := time.Now()
		id, err := s.CreateBulkBatch(ctx, shop, postgres.BulkBatch{Kind: postgres.BulkTagsAdd, Marker: fmt.Sprintf("bench%d", it), CreatedAt: start}, lines)
		if err != nil {
			b.Fatal(err)
		}
		mid := time.Now()
		if err := s.SettleBulkBatch(ctx, shop, id, nil); err != nil {
			b.Fatal(err)
		}
		stored += mid.Sub(start)
		settled += time.Since(mid)
		// For comparison: saving the same rows whole, as a write-back by
		// ordinary calls (and every bulk write-back before batches) does.
		start = time.Now()
		if err := s.Save(ctx, shop, rows); err != nil {
			b.Fatal(err)
		}
		saved += time.Since(start)
	}
	b.ReportMetric(float64(stored.Milliseconds())/float64(b.N), "store-ms/op")
	b.ReportMetric(float64(settled.Milliseconds())/float64(b.N), "settle-ms/op")
	b.ReportMetric(float64(saved.Milliseconds())/float64(b.N), "save-ms/op")
}
