package activation_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/activation"
	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/rfm"
	"github.com/cvo-app/cvo/internal/simulator"
)

func TestMovingGroupSwapsOnlyTheAppTag(t *testing.T) {
	e := newEnv(t)
	ids := e.addCustomers(3, "VIP", "wholesale")

	rep := e.apply(tagsOnly(), scores(ids, all("soulmates")))
	assert.Equal(t, 3, rep.TagChanges)
	assert.Equal(t, 3, rep.TagsWritten)
	assert.Equal(t, "calls", rep.TagMode)
	for _, id := range ids {
		assert.Equal(t, []string{"VIP", "wholesale", "cvo-soulmates"}, e.tags(id))
	}

	// The merchant adds a tag of their own in between.
	_, err := e.sim.UpdateCustomer(context.Background(), testShop, ids[0], func(c *simulator.Customer) { c.Tags = append(c.Tags, "newsletter") })
	require.NoError(t, err)

	moved := scores(ids, func(i int) string {
		if i == 0 {
			return "about-to-dump-you"
		}
		return "soulmates"
	})
	e.sim.ResetCallLog(testShop)
	rep = e.apply(tagsOnly(), moved)
	assert.Equal(t, 1, rep.TagChanges)
	assert.Equal(t, []string{"VIP", "wholesale", "newsletter", "cvo-about-to-dump-you"}, e.tags(ids[0]))
	assert.Equal(t, []string{"cvo-about-to-dump-you"}, e.written(ids[0]))
	assert.Equal(t, []string{"VIP", "wholesale", "cvo-soulmates"}, e.tags(ids[1]))
	// One request: the stale tag removed and the new one added together.
	log := e.sim.CallLog(testShop)
	require.Len(t, log, 1)
	assert.Equal(t, "tagsRemove,tagsAdd", log[0].Operation)
	assert.Equal(t, 20, log[0].ActualCost)
}

func TestNothingChangedWritesNothing(t *testing.T) {
	e := newEnv(t)
	ids := e.addCustomers(5)
	s := cvo.DefaultSettings()
	s.ValueTags = cvo.ValueTags{PredictedValueTier: true, ChurnRisk: true}
	sc := scores(ids, all("lovers"))
	first := e.apply(s, sc)
	assert.Equal(t, 5, first.TagChanges)
	assert.Equal(t, 5, first.MetafieldChanges)
	assert.Empty(t, first.SetupError)

	e.sim.ResetCallLog(testShop)
	again := e.apply(s, sc)
	assert.Empty(t, e.sim.CallLog(testShop), "no request at all")
	assert.Zero(t, again.Calls)
	assert.Zero(t, again.TagChanges)
	assert.Zero(t, again.MetafieldChanges)
	assert.Equal(t, "none", again.TagMode)
}

func TestBulkRetriesExactlyTheFailedLines(t *testing.T) {
	e := newEnv(t, func(c *activation.Config) { c.BulkThreshold = 10 })
	ids := e.addCustomers(40, "keep-me")
	e.sim.FailNextBulkMutationLines(testShop, 3, 17, 39)

	rep := e.apply(tagsOnly(), scores(ids, all("flirting")))
	assert.Equal(t, "bulk", rep.TagMode)
	assert.Equal(t, 40, rep.TagsWritten)
	assert.Zero(t, rep.Failed)
	assert.Equal(t, 2, rep.BulkOperations)
	ops := e.sim.BulkMutations(testShop)
	require.Len(t, ops, 2)
	assert.EqualValues(t, 40, ops[0].Lines)
	assert.EqualValues(t, 3, ops[1].Lines, "only the failed lines go again")
	assert.Contains(t, ops[1].Mutation, "tagsAdd")
	e.carry(ids, "cvo-flirting", "keep-me")
	for _, c := range e.sim.CallLog(testShop) {
		assert.NotContains(t, c.Operation, "tagsAdd", "no per-customer calls in bulk mode")
	}
}

func TestBulkGivesUpAfterMaxAttemptsAndRecordsOnlySuccesses(t *testing.T) {
	e := newEnv(t, func(c *activation.Config) { c.BulkThreshold = 2; c.MaxAttempts = 1 })
	ids := e.addCustomers(4)
	e.sim.FailNextBulkMutationLines(testShop, 1)
	rep := e.apply(tagsOnly(), scores(ids, all("apprentice")))
	assert.Equal(t, 1, rep.Failed)
	assert.Equal(t, 3, rep.TagsWritten)
	assert.Empty(t, e.tags(ids[1]))
	assert.Empty(t, e.written(ids[1]), "a failed write is not recorded")

	// The next run sends exactly the missing one.
	rep = e.apply(tagsOnly(), scores(ids, all("apprentice")))
	assert.Equal(t, 1, rep.TagChanges)
	assert.Equal(t, "calls", rep.TagMode)
	assert.Equal(t, []string{"cvo-apprentice"}, e.tags(ids[1]))
}

func TestThrottlingAndServerErrorsStillApplyEachChangeOnce(t *testing.T) {
	e := newEnv(t)
	ids := e.addCustomers(150)

	// Drain the bucket with someone else's requests, so the writer's first
	// requests are refused with THROTTLED.
	drainBucket(t, e, ids[0], 8)
	e.sim.FailNextRequests(testShop, 2, http.StatusServiceUnavailable)
	e.sim.ResetCallLog(testShop)

	rep := e.apply(tagsOnly(), scores(ids, all("don-juan")))
	assert.Equal(t, 150, rep.TagsWritten)
	assert.Zero(t, rep.Failed)
	for _, id := range ids {
		assert.Equal(t, []string{"cvo-don-juan"}, e.tags(id))
	}
	log := e.sim.CallLog(testShop)
	throttled, injected := 0, 0
	for _, c := range log {
		if c.Throttled {
			throttled++
		}
		if c.Injected {
			injected++
		}
	}
	assert.Positive(t, throttled, "the bucket was empty")
	assert.Equal(t, 2, injected)
	assert.Equal(t, 150, executedFields(log, "tagsAdd"), "every tagsAdd ran exactly once")
}

// drainBucket spends the app's bucket on the shop with requests of 25
// tagsRemove fields that change nothing: 250 points each, actual as asked.
func drainBucket(t *testing.T, e *env, customer int64, requests int) {
	t.Helper()
	var fields []string
	for i := range 25 {
		fields = append(fields, fmt.Sprintf(`m%d: tagsRemove(id: "gid://shopify/Customer/%d", tags: ["nothing"]) { userErrors { message } }`, i, customer))
	}
	for range requests {
		status, body := e.gql(`mutation {` + strings.Join(fields, " ") + `}`)
		require.Equal(t, http.StatusOK, status)
		require.Nil(t, body["errors"])
	}
}

func TestPrefixChangeMovesTagsAndSegments(t *testing.T) {
	e := newEnv(t)
	ids := e.addCustomers(4, "merchant")
	s := cvo.DefaultSettings()
	s.Metafields = false
	s.ValueTags.PredictedValueTier = true
	sc := scores(ids, all("new-passion"))
	e.apply(s, sc)
	for _, id := range ids {
		assert.Contains(t, e.tags(id), "cvo-new-passion")
	}
	segs := e.sim.Segments(testShop)
	require.Len(t, segs, rfm.NumGroups)

	s.TagPrefix = "vip_"
	rep := e.apply(s, sc)
	assert.Equal(t, 4, rep.TagChanges)
	for _, id := range ids {
		tags := e.tags(id)
		assert.Equal(t, "merchant", tags[0])
		assert.Contains(t, tags, "vip_new-passion")
		for _, tag := range tags {
			assert.False(t, strings.HasPrefix(tag, "cvo-"), "old-prefix tag %q left on %d", tag, id)
		}
		assert.ElementsMatch(t, tags[1:], e.written(id))
	}
	after := e.sim.Segments(testShop)
	require.Len(t, after, rfm.NumGroups, "segments are updated, not duplicated")
	for i := range after {
		assert.Equal(t, segs[i].ID, after[i].ID)
		assert.True(t, strings.HasPrefix(after[i].Query, "customer_tags CONTAINS 'vip_"), after[i].Query)
	}
	// The webhooks the move causes are recognised as the app's own.
	own, err := e.w.OnlyOwnTagsChanged(context.Background(), testShop,
		[]string{"merchant", "cvo-new-passion", "cvo-value-low"}, []string{"merchant", "vip_new-passion", "vip_value-low"})
	require.NoError(t, err)
	assert.True(t, own)
}

func TestDisabledGroupLosesItsTags(t *testing.T) {
	e := newEnv(t)
	ids := e.addCustomers(4, "m")
	sc := scores(ids, func(i int) string { return []string{"soulmates", "lovers"}[i%2] })
	e.apply(tagsOnly(), sc)

	s := tagsOnly()
	s.GroupsEnabled = []string{"lovers"}
	rep := e.apply(s, sc)
	assert.Equal(t, 2, rep.TagChanges)
	assert.Equal(t, []string{"m"}, e.tags(ids[0]))
	assert.Empty(t, e.written(ids[0]))
	assert.Equal(t, []string{"m", "cvo-lovers"}, e.tags(ids[1]))
}

func TestCustomersNoLongerScoredLoseTheAppTags(t *testing.T) {
	e := newEnv(t)
	ids := e.addCustomers(3, "m")
	e.apply(tagsOnly(), scores(ids, all("platonic-friends")))
	rep := e.apply(tagsOnly(), scores(ids[:2], all("platonic-friends")))
	assert.Equal(t, 1, rep.TagChanges)
	assert.Equal(t, []string{"m"}, e.tags(ids[2]))
	assert.Equal(t, []string{"m", "cvo-platonic-friends"}, e.tags(ids[0]))
}

func TestMetafieldsOnlyWhenChanged(t *testing.T) {
	e := newEnv(t)
	ids := e.addCustomers(3)
	s := cvo.DefaultSettings()
	s.Segments = false
	sc := scores(ids, all("soulmates"))
	sc[0].NextOrderAt = time.Date(2026, 12, 24, 0, 0, 0, 0, time.UTC)
	rep := e.apply(s, sc)
	assert.Equal(t, 3, rep.MetafieldsWritten)
	defs := e.sim.MetafieldDefinitions(testShop)
	require.Len(t, defs, 10)
	ns := e.sim.AppNamespace("cvo")
	got := map[string]string{}
	for _, m := range e.sim.CustomerMetafields(testShop, ids[0]) {
		assert.Equal(t, ns, m.Namespace)
		got[m.Key] = m.Value
	}
	assert.Equal(t, map[string]string{"group": "soulmates", "r_score": "3", "f_score": "2", "m_score": "4",
		"historical_clv": "120.50", "predicted_clv": strconv.FormatFloat(sc[0].PredictedCLV, 'f', 2, 64), "p_alive": "0.8000", "next_order_date": "2026-12-24"}, got)

	// One customer's P(alive) moves; noise below the written precision does not count.
	sc[1].PAlive = 0.5
	sc[2].PAlive = 0.80001
	e.sim.ResetCallLog(testShop)
	rep = e.apply(s, sc)
	assert.Equal(t, 1, rep.MetafieldChanges)
	assert.Zero(t, rep.TagChanges)
	log := e.sim.CallLog(testShop)
	require.Len(t, log, 1, "definitions are not created again")
	assert.Equal(t, "metafieldsSet", log[0].Operation)
	assert.Equal(t, 1, log[0].Fields)
	for _, m := range e.sim.CustomerMetafields(testShop, ids[1]) {
		if m.Key == "p_alive" {
			assert.Equal(t, "0.5000", m.Value)
		}
	}

	// Metafields off: nothing of theirs is written.
	sc[1].PAlive = 0.1
	s.Metafields = false
	e.sim.ResetCallLog(testShop)
	rep = e.apply(s, sc)
	assert.Zero(t, rep.MetafieldChanges)
	assert.Empty(t, e.sim.CallLog(testShop))
}

func TestBulkMetafields(t *testing.T) {
	e := newEnv(t, func(c *activation.Config) { c.BulkThreshold = 5 })
	ids := e.addCustomers(12)
	s := cvo.DefaultSettings()
	s.Segments = false
	rep := e.apply(s, scores(ids, all("break-up")))
	assert.Equal(t, "bulk", rep.MetafieldMode)
	assert.Equal(t, 12, rep.MetafieldsWritten)
	assert.Len(t, e.sim.CustomerMetafields(testShop, ids[11]), 7, "no next order date")
	assert.Equal(t, 2, rep.BulkOperations)
}

func TestSegmentsCreatedOnceAndLinked(t *testing.T) {
	e := newEnv(t)
	s := cvo.DefaultSettings()
	require.NoError(t, e.w.EnsureSetup(context.Background(), testShop, s))
	require.Len(t, e.sim.Segments(testShop), rfm.NumGroups)
	e.sim.ResetCallLog(testShop)
	require.NoError(t, e.w.EnsureSetup(context.Background(), testShop, s))
	assert.Empty(t, e.sim.CallLog(testShop))

	links, err := e.w.Segments(context.Background(), testShop)
	require.NoError(t, err)
	require.Len(t, links, rfm.NumGroups)
	assert.Equal(t, rfm.Soulmates, links[0].Group)
	assert.Equal(t, "CVO · Soulmates", links[0].Name)
	assert.Equal(t, "customer_tags CONTAINS 'cvo-soulmates'", links[0].Query)
	assert.Equal(t, "https://admin.shopify.com/store/writeback/customers/segments/"+itoa(int(links[0].ID)), links[0].AdminURL)

	// A segment the merchant deleted is made again; one with our name is adopted.
	e2 := newEnv(t)
	_, body := e2.gql(`mutation { segmentCreate(name: "CVO · Lovers", query: "customer_tags CONTAINS 'x'") { segment { id } } }`)
	require.NotNil(t, body)
	require.NoError(t, e2.w.EnsureSetup(context.Background(), testShop, s))
	segs := e2.sim.Segments(testShop)
	require.Len(t, segs, rfm.NumGroups)
	assert.Equal(t, "CVO · Lovers", segs[0].Name)
	assert.Equal(t, "customer_tags CONTAINS 'cvo-lovers'", segs[0].Query)
}

func TestUninstallStopsWrites(t *testing.T) {
	e := newEnv(t)
	ids := e.addCustomers(2)
	require.NoError(t, e.shops.MarkUninstalled(context.Background(), testShop))
	e.sim.ResetCallLog(testShop)
	_, err := e.w.Apply(context.Background(), testShop, tagsOnly(), compact(scores(ids, all("lovers"))))
	assert.ErrorIs(t, err, activation.ErrUninstalled)
	assert.Empty(t, e.sim.CallLog(testShop))
	assert.Empty(t, e.tags(ids[0]))
}

func TestUninstallDuringBulkStops(t *testing.T) {
	e := newEnv(t, func(c *activation.Config) { c.BulkThreshold = 2 })
	ids := e.addCustomers(5)
	release := e.sim.HoldBulkOperations(testShop)
	defer release()
	done := make(chan error, 1)
	go func() {
		_, err := e.w.Apply(context.Background(), testShop, tagsOnly(), compact(scores(ids, all("lovers"))))
		done <- err
	}()
	require.Eventually(t, func() bool { return len(e.sim.BulkMutations(testShop)) == 1 }, 5*time.Second, time.Millisecond)
	require.NoError(t, e.shops.MarkUninstalled(context.Background(), testShop))
	_, err := e.sim.Uninstall(context.Background(), testShop)
	require.NoError(t, err)
	select {
	case err := <-done:
		assert.ErrorIs(t, err, activation.ErrUninstalled)
	case <-time.After(5 * time.Second):
		t.Fatal("write-back did not stop")
	}
	assert.Empty(t, e.tags(ids[0]))
	assert.Empty(t, e.written(ids[0]))
}

func TestWorkerDeathMidBulkConverges(t *testing.T) {
	e := newEnv(t, func(c *activation.Config) { c.BulkThreshold = 2 })
	ids := e.addCustomers(6, "m")
	e.apply(tagsOnly(), scores(ids, all("soulmates")))

	// The worker dies while its bulk operation runs.
	release := e.sim.HoldBulkOperations(testShop)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	moved := scores(ids, all("ex-lovers"))
	go func() {
		_, err := e.w.Apply(ctx, testShop, tagsOnly(), compact(moved))
		done <- err
	}()
	require.Eventually(t, func() bool { return len(e.sim.BulkMutations(testShop)) >= 2 }, 5*time.Second, time.Millisecond)
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
	release() // the orphaned operations finish on Shopify's side
	for _, id := range ids {
		assert.Equal(t, []string{"cvo-soulmates"}, e.written(id), "nothing recorded before the result was read")
	}

	rep := e.apply(tagsOnly(), moved)
	assert.Equal(t, 6, rep.TagChanges)
	assert.Zero(t, rep.Failed)
	e.carry(ids, "cvo-ex-lovers", "m")
}

func TestConcurrentApplyIsRefused(t *testing.T) {
	e := newEnv(t, func(c *activation.Config) { c.BulkThreshold = 2 })
	ids := e.addCustomers(3)
	release := e.sim.HoldBulkOperations(testShop)
	done := make(chan error, 1)
	go func() {
		_, err := e.w.Apply(context.Background(), testShop, tagsOnly(), compact(scores(ids, all("lovers"))))
		done <- err
	}()
	require.Eventually(t, func() bool { return len(e.sim.BulkMutations(testShop)) == 1 }, 5*time.Second, time.Millisecond)
	_, err := e.w.Apply(context.Background(), testShop, tagsOnly(), compact(scores(ids, all("lovers"))))
	assert.ErrorIs(t, err, activation.ErrBusy)
	release()
	require.NoError(t, <-done)
}

func TestApplyRejectsBadInput(t *testing.T) {
	e := newEnv(t)
	for name, sc := range map[string]cvo.CustomerScore{
		"not numeric":   {CustomerID: "gid://shopify/Customer/1", Group: "lovers"},
		"not positive":  {CustomerID: "0", Group: "lovers"},
		"unknown group": {CustomerID: "1", Group: "besties"},
		"churn risk":    {CustomerID: "1", Group: "lovers", ChurnRisk: "extreme"},
		"rfm score":     {CustomerID: "1", Group: "lovers", R: 300},
	} {
		_, err := activation.NewScore(sc)
		assert.Error(t, err, name)
		_, err = activation.Scores([]cvo.CustomerScore{score(2, "lovers"), sc})
		assert.Error(t, err, name)
	}
	_, err := e.w.Apply(context.Background(), testShop, tagsOnly(), compact([]cvo.CustomerScore{score(1, "lovers"), score(1, "lovers")}))
	assert.ErrorContains(t, err, "scored twice")
	bad := tagsOnly()
	bad.TagPrefix = "CVO "
	_, err = e.w.Apply(context.Background(), testShop, bad, nil)
	assert.Equal(t, cvo.EINVALID, cvo.ErrorCode(err))
	assert.False(t, errors.Is(err, activation.ErrBusy))
}
