package activation_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/activation"
	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/postgres"
)

// TestBulkFilesSplitAndStoredInPartsSurviveADeath: a first write of tags
// and metafields goes out through files cut at 1,500 bytes (so each kind
// takes several operations), their lines stored with their batches three
// at a time. The worker dies once its third operation started; a fresh
// writer settles the three started operations and sends only the rest.
// Every customer ends with exactly its tags and metafields, recorded as
// written, and Shopify ran every line once.
func TestBulkFilesSplitAndStoredInPartsSurviveADeath(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, func(c *activation.Config) { c.BulkThreshold = 5 })
	const n = 40
	ids := e.addCustomers(n, "m")
	s := cvo.DefaultSettings()
	s.Segments = false
	groups := []string{"soulmates", "lovers", "flirting"}
	sc := scores(ids, func(i int) string { return groups[i%3] })

	started := 0
	activation.SetBulkLimits(e.w, 1500, 3)
	activation.SetAfterStep(e.w, func(step string) error {
		if step == activation.StepStarted {
			if started++; started == 3 {
				return errKilled
			}
		}
		return nil
	})
	_, err := e.w.Apply(ctx, testShop, s, compact(sc))
	require.ErrorIs(t, err, errKilled)

	fresh := activation.New(e.cfg)
	activation.SetBulkLimits(fresh, 1500, 3)
	rep, err := fresh.Apply(ctx, testShop, s, compact(sc))
	require.NoError(t, err)
	assert.Zero(t, rep.Failed)
	assert.Equal(t, 3, rep.ResumedOperations)
	assert.Equal(t, rep.TagChanges, rep.TagsWritten)
	assert.Equal(t, rep.MetafieldChanges, rep.MetafieldsWritten)

	for i, id := range ids {
		want := "cvo-" + groups[i%3]
		assert.Equal(t, []string{"m", want}, e.tags(id))
		assert.Equal(t, []string{want}, e.written(id))
		got := map[string]string{}
		for _, m := range e.sim.CustomerMetafields(testShop, id) {
			got[m.Key] = m.Value
		}
		assert.Equal(t, groups[i%3], got["group"], "customer %d", id)
		assert.Equal(t, "120.50", got["historical_clv"], "customer %d", id)
		w, _, err := e.store.Get(ctx, testShop, id)
		require.NoError(t, err)
		assert.Equal(t, got, w.Metafields, "what was written is what is recorded")
	}
	batches, err := e.store.BulkBatches(ctx, testShop)
	require.NoError(t, err)
	assert.Empty(t, batches, "every batch settled")

	lines := map[string]int64{}
	ops := map[string]int{}
	for _, op := range e.sim.BulkMutations(testShop) {
		assert.Equal(t, "COMPLETED", op.Status)
		kind := "metafields"
		if strings.Contains(op.Mutation, "tagsAdd") {
			kind = "tags"
		}
		lines[kind] += op.Lines
		ops[kind]++
	}
	assert.Equal(t, map[string]int64{"tags": n, "metafields": n}, lines, "every line ran once")
	assert.Greater(t, ops["tags"], 1, "the tags file was split")
	assert.Greater(t, ops["metafields"], 3, "the metafields file was split")
}

// TestStaleBulkFilesAreRemoved: a write-back deletes the variables files
// a dead worker left (older than any job lives), never a recent one.
func TestStaleBulkFilesAreRemoved(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	stale, err := os.CreateTemp("", "cvo-write-back-*.jsonl")
	require.NoError(t, err)
	require.NoError(t, stale.Close())
	old := time.Now().Add(-7 * time.Hour)
	require.NoError(t, os.Chtimes(stale.Name(), old, old))
	recent, err := os.CreateTemp("", "cvo-write-back-*.jsonl")
	require.NoError(t, err)
	require.NoError(t, recent.Close())
	t.Cleanup(func() { os.Remove(recent.Name()) })

	e.apply(tagsOnly(), scores(e.addCustomers(1), all("lovers")))
	_, err = os.Stat(stale.Name())
	assert.ErrorIs(t, err, os.ErrNotExist, "%s", filepath.Base(stale.Name()))
	_, err = os.Stat(recent.Name())
	assert.NoError(t, err)
}

// scanFailing is the write-back store whose scan number failOn (from 1)
// breaks after its first row, as a connection lost on a later page would.
type scanFailing struct {
	*postgres.WritebackStore
	failOn int
	scans  atomic.Int32
}

var errPageLost = errors.New("page lost")

func (s *scanFailing) Scan(ctx context.Context, shop string, withMetafields bool, fn func(postgres.Writeback) error) error {
	n := int(s.scans.Add(1))
	if n != s.failOn {
		return s.WritebackStore.Scan(ctx, shop, withMetafields, fn)
	}
	first := true
	err := s.WritebackStore.Scan(ctx, shop, withMetafields, func(w postgres.Writeback) error {
		if !first {
			return errPageLost
		}
		first = false
		return fn(w)
	})
	return err
}

// TestWalkBrokenMidwayStopsCleanly: a walk that breaks after it kept
// some changes (the calls' walk, or the bulk walk with a batch already
// stored) ends the write-back with the error, counts nothing as written
// that was not, leaves no batch behind, and the next write-back
// finishes the job.
func TestWalkBrokenMidwayStopsCleanly(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		threshold int
	}{
		{name: "calls", threshold: 100},
		{name: "bulk", threshold: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			e := newEnv(t, func(c *activation.Config) { c.BulkThreshold = tc.threshold })
			ids := e.addCustomers(6, "m")
			e.apply(tagsOnly(), scores(ids, all("soulmates")))

			cfg := e.cfg
			cfg.Store = &scanFailing{WritebackStore: e.store, failOn: 2}
			broken := activation.New(cfg)
			activation.SetBulkLimits(broken, 1<<20, 1)
			rep, err := broken.Apply(ctx, testShop, tagsOnly(), compact(scores(ids, all("lovers"))))
			require.ErrorIs(t, err, errPageLost)
			assert.Equal(t, 6, rep.TagChanges)
			assert.Zero(t, rep.TagsWritten)
			assert.Equal(t, 6, rep.Failed)
			batches, err := e.store.BulkBatches(ctx, testShop)
			require.NoError(t, err)
			assert.Empty(t, batches, "a batch that was never sent is dropped")

			rep = e.apply(tagsOnly(), scores(ids, all("lovers")))
			assert.Equal(t, 6, rep.TagsWritten)
			assert.Zero(t, rep.Failed)
			e.carry(ids, "cvo-lovers", "m")
		})
	}
}

// TestMixedModesCountAndRetryWhatFailed: every customer's metafields go by
// bulk while two customers' tags go by calls, and two bulk lines fail. With
// one attempt the report counts exactly those two as failed and the rest
// as written; with a second, the retry walk sends only those two lines
// again and nothing fails. Either way what is recorded is what Shopify
// holds.
func TestMixedModesCountAndRetryWhatFailed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		attempts   int
		failed     int
		retryLines int64
	}{
		{attempts: 1, failed: 2},
		{attempts: 2, failed: 0, retryLines: 2},
	} {
		t.Run(strconv.Itoa(tc.attempts), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			e := newEnv(t, func(c *activation.Config) { c.BulkThreshold = 5; c.MaxAttempts = tc.attempts })
			const n = 20
			ids := e.addCustomers(n, "m")
			s := cvo.DefaultSettings()
			s.Segments = false
			sc := scores(ids, all("lovers"))
			e.apply(s, sc)
			before := len(e.sim.BulkMutations(testShop))

			for i := range sc {
				sc[i].HistoricalCLV = 999
			}
			sc[0].Group, sc[1].Group = "soulmates", "soulmates"
			e.sim.FailNextBulkMutationLines(testShop, 0, 5)
			rep, err := e.w.Apply(ctx, testShop, s, compact(sc))
			require.NoError(t, err)
			assert.Equal(t, "calls", rep.TagMode)
			assert.Equal(t, "bulk", rep.MetafieldMode)
			assert.Equal(t, 2, rep.TagsWritten)
			assert.Equal(t, n-tc.failed, rep.MetafieldsWritten)
			assert.Equal(t, tc.failed, rep.Failed)
			ops := e.sim.BulkMutations(testShop)[before:]
			require.Len(t, ops, tc.attempts)
			if tc.attempts > 1 {
				assert.Equal(t, tc.retryLines, ops[1].Lines, "the retry sends only the failed lines")
			}
			for _, id := range ids {
				w, _, err := e.store.Get(ctx, testShop, id)
				require.NoError(t, err)
				var app []string
				for _, tag := range e.tags(id) {
					if strings.HasPrefix(tag, "cvo-") {
						app = append(app, tag)
					}
				}
				assert.ElementsMatch(t, app, w.Tags, "tags of %d", id)
				got := map[string]string{}
				for _, m := range e.sim.CustomerMetafields(testShop, id) {
					got[m.Key] = m.Value
				}
				assert.Equal(t, got, w.Metafields, "metafields of %d", id)
			}
		})
	}
}
