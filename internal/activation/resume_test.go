package activation_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/activation"
)

var errKilled = errors.New("worker killed")

// killAt makes w fail, as a dying worker would, the first time it finishes
// step; it reports whether it did.
func killAt(w *activation.Writer, step string) *bool {
	killed := new(bool)
	activation.SetAfterStep(w, func(s string) error {
		if s == step && !*killed {
			*killed = true
			return errKilled
		}
		return nil
	})
	return killed
}

// TestRestartedBulkWriteBackNeverSendsAFileTwice kills a bulk write-back
// right after each step of its first batch (store the batch, stage, upload,
// start the operation, store its id, read its results, record them), then
// runs a fresh writer. Whatever the step, Shopify saw exactly one
// bulkOperationRunMutation per batch, ran every line once, and the tags end
// exact; no batch is left over.
func TestRestartedBulkWriteBackNeverSendsAFileTwice(t *testing.T) {
	t.Parallel()
	const n = 30
	for _, tc := range []struct {
		step string
		// after is the group of the fresh run: new scores may arrive
		// between the death and the restart.
		after string
		// resumed: operations the fresh run settles for the dead one.
		resumed int
	}{
		{step: activation.StepBatchStored, after: "ex-lovers"},
		{step: activation.StepStaged, after: "ex-lovers"},
		{step: activation.StepUploaded, after: "ex-lovers"},
		{step: activation.StepStarted, after: "ex-lovers", resumed: 1},
		{step: activation.StepIDStored, after: "ex-lovers", resumed: 1},
		{step: activation.StepResultRead, after: "ex-lovers", resumed: 2},
		{step: activation.StepSettled, after: "ex-lovers", resumed: 1},
		{step: activation.StepResultRead, after: "lovers", resumed: 2},
	} {
		t.Run(tc.step+"-then-"+tc.after, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, func(c *activation.Config) { c.BulkThreshold = 5 })
			ids := e.addCustomers(n, "m")
			e.apply(tagsOnly(), scores(ids, all("soulmates")))
			require.Len(t, e.sim.BulkMutations(testShop), 1)
			e.sim.ResetCallLog(testShop)

			// The move is two batches: remove cvo-soulmates, add cvo-ex-lovers.
			killed := killAt(e.w, tc.step)
			_, err := e.w.Apply(context.Background(), testShop, tagsOnly(), compact(scores(ids, all("ex-lovers"))))
			require.ErrorIs(t, err, errKilled)
			require.True(t, *killed)

			fresh := activation.New(e.cfg)
			rep, err := fresh.Apply(context.Background(), testShop, tagsOnly(), compact(scores(ids, all(tc.after))))
			require.NoError(t, err)
			assert.Zero(t, rep.Failed)
			assert.Equal(t, tc.resumed, rep.ResumedOperations)

			want := "cvo-" + tc.after
			e.carry(ids, want, "m")
			batches, err := e.store.BulkBatches(context.Background(), testShop)
			require.NoError(t, err)
			assert.Empty(t, batches, "every batch settled")

			// One operation per batch, every line run once.
			runs := 0
			for _, c := range e.sim.CallLog(testShop) {
				if c.Executed() && c.Operation == "bulkOperationRunMutation" {
					runs++
				}
			}
			ops := e.sim.BulkMutations(testShop)[1:]
			assert.Equal(t, len(ops), runs)
			lines := map[string]int64{}
			for _, op := range ops {
				assert.Equal(t, "COMPLETED", op.Status)
				switch {
				case strings.Contains(op.Mutation, "tagsRemove"):
					lines["remove"] += op.Lines
				default:
					lines["add"] += op.Lines
				}
			}
			wantLines := map[string]int64{"remove": n, "add": n}
			if tc.after != "ex-lovers" {
				// The dead run's two batches, then the move to the new group.
				wantLines = map[string]int64{"remove": 2 * n, "add": 2 * n}
			}
			assert.Equal(t, wantLines, lines)
		})
	}
}

// TestResumedOperationStillRunningIsAwaited: the worker dies while its
// operations run at Shopify; the next write-back waits for them, records
// their results and sends nothing again.
func TestResumedOperationStillRunningIsAwaited(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *activation.Config) { c.BulkThreshold = 2 })
	ids := e.addCustomers(8)
	release := e.sim.HoldBulkOperations(testShop)
	ctx, cancel := context.WithCancel(context.Background())
	activation.SetAfterStep(e.w, func(s string) error {
		if s == activation.StepIDStored {
			cancel() // the worker dies while the operation is held in CREATED
		}
		return ctx.Err()
	})
	_, err := e.w.Apply(ctx, testShop, tagsOnly(), compact(scores(ids, all("lovers"))))
	require.ErrorIs(t, err, context.Canceled)
	require.Len(t, e.sim.BulkMutations(testShop), 1)
	assert.Equal(t, "CREATED", e.sim.BulkMutations(testShop)[0].Status)

	done := make(chan activation.Report, 1)
	go func() {
		rep, err := activation.New(e.cfg).Apply(context.Background(), testShop, tagsOnly(), compact(scores(ids, all("lovers"))))
		assert.NoError(t, err)
		done <- rep
	}()
	release()
	rep := <-done
	assert.Equal(t, 1, rep.ResumedOperations)
	assert.Equal(t, 8, rep.ResumedLines)
	assert.Zero(t, rep.TagChanges, "nothing left to send")
	assert.Len(t, e.sim.BulkMutations(testShop), 1)
	e.carry(ids, "cvo-lovers")
}

// TestResumedFailedLinesAreSentAgain: lines of a resumed operation that
// failed at Shopify are planned and sent again, alone.
func TestResumedFailedLinesAreSentAgain(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *activation.Config) { c.BulkThreshold = 3 })
	ids := e.addCustomers(10, "m")
	e.sim.FailNextBulkMutationLines(testShop, 2, 7)
	killAt(e.w, activation.StepIDStored)
	_, err := e.w.Apply(context.Background(), testShop, tagsOnly(), compact(scores(ids, all("flirting"))))
	require.ErrorIs(t, err, errKilled)

	rep, err := activation.New(e.cfg).Apply(context.Background(), testShop, tagsOnly(), compact(scores(ids, all("flirting"))))
	require.NoError(t, err)
	assert.Equal(t, 8, rep.ResumedLines)
	assert.Equal(t, 2, rep.TagChanges, "only the failed lines")
	assert.Equal(t, "calls", rep.TagMode)
	assert.Len(t, e.sim.BulkMutations(testShop), 1)
	e.carry(ids, "cvo-flirting", "m")
}

// TestResumeBeforeAPI2026: without the bulkOperations query (API versions
// before 2026-01), an operation whose id was never stored is found as the
// shop's current bulk mutation.
func TestResumeBeforeAPI2026(t *testing.T) {
	t.Parallel()
	for _, step := range []string{activation.StepUploaded, activation.StepStarted} {
		t.Run(step, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, func(c *activation.Config) { c.BulkThreshold = 5; c.APIVersion = "2025-10" })
			ids := e.addCustomers(12, "m")
			killAt(e.w, step)
			_, err := e.w.Apply(context.Background(), testShop, tagsOnly(), compact(scores(ids, all("lovers"))))
			require.ErrorIs(t, err, errKilled)

			rep, err := activation.New(e.cfg).Apply(context.Background(), testShop, tagsOnly(), compact(scores(ids, all("lovers"))))
			require.NoError(t, err)
			require.Len(t, e.sim.BulkMutations(testShop), 1, "one operation in all")
			if step == activation.StepStarted {
				assert.Equal(t, 12, rep.ResumedLines)
			} else {
				assert.Zero(t, rep.ResumedLines)
				assert.Equal(t, 12, rep.TagsWritten)
			}
			e.carry(ids, "cvo-lovers", "m")
		})
	}
}
