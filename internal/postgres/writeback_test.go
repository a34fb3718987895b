package postgres_test

import (
	"context"
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
