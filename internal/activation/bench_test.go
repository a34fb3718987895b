package activation_test

import (
	"context"
	"errors"
	"testing"

	"github.com/cvo-app/cvo/internal/activation"
	"github.com/cvo-app/cvo/internal/postgres"
	"github.com/cvo-app/cvo/internal/rfm"
)

// BenchmarkApplyTenPercentMove measures a write-back after 10% of a
// 100,000-customer shop changed group, every customer already tagged: one
// op is one Apply that gets 10,000 tag moves into the simulator. `cvo
// bench-writeback` runs the same at a million customers.
func BenchmarkApplyTenPercentMove(b *testing.B) {
	const n = 100_000
	e := newEnv(b)
	ids := e.addCustomers(n, "merchant")
	groups := rfm.Groups()
	group := make([]int, n)
	seed := make([]postgres.Writeback, n)
	for i, id := range ids {
		group[i] = i % len(groups)
		seed[i] = postgres.Writeback{CustomerID: id, Tags: []string{"cvo-" + groups[group[i]].Slug()}}
	}
	if err := e.store.Save(context.Background(), testShop, seed); err != nil {
		b.Fatal(err)
	}
	var calls, points, changed float64
	b.ResetTimer()
	for it := range b.N {
		for i := range ids {
			if (i+it)%10 == 0 {
				group[i] = (group[i] + 1) % len(groups)
			}
		}
		rep, err := e.w.Apply(context.Background(), testShop, tagsOnly(), compact(scores(ids, func(i int) string { return groups[group[i]].Slug() })))
		if err != nil {
			b.Fatal(err)
		}
		calls += float64(rep.Calls)
		points += rep.CostPoints
		changed += float64(rep.TagChanges)
	}
	b.ReportMetric(calls/float64(b.N), "calls/op")
	b.ReportMetric(points/float64(b.N), "points/op")
	b.ReportMetric(changed/float64(b.N), "changed/op")
}

// BenchmarkResumeKilledBulkWriteBack measures the incident of issue 9: a
// worker dies right after starting a 99,126-line tag bulk mutation (before
// storing the operation id), and a fresh worker runs the write-back again.
// One op is the fresh worker's Apply ("resumed"), or, to compare, an Apply
// of the same change by a worker nobody killed ("clean"): what each
// uploads, how many operations it starts, how many Admin API calls it
// makes, and how many lines Shopify ran in all. Run with -benchtime=1x.
func BenchmarkResumeKilledBulkWriteBack(b *testing.B) {
	for _, kill := range []bool{false, true} {
		name := "clean"
		if kill {
			name = "resumed"
		}
		b.Run(name, func(b *testing.B) { benchResume(b, kill) })
	}
}

func benchResume(b *testing.B, kill bool) {
	const n = 99_126
	ctx := context.Background()
	var calls, upBytes, ops, resumed, sent float64
	for range b.N {
		b.StopTimer()
		e := newEnv(b)
		ids := e.addCustomers(n, "merchant")
		sc := scores(ids, all("soulmates"))
		w := e.w
		if kill {
			killAt(e.w, activation.StepStarted)
			if _, err := e.w.Apply(ctx, testShop, tagsOnly(), compact(sc)); !errors.Is(err, errKilled) {
				b.Fatalf("killed run: %v", err)
			}
			w = activation.New(e.cfg)
		}
		b.StartTimer()
		rep, err := w.Apply(ctx, testShop, tagsOnly(), compact(sc))
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		if rep.Failed != 0 || rep.TagsWritten+rep.ResumedLines != n {
			b.Fatalf("%d written, %d resumed, %d failed", rep.TagsWritten, rep.ResumedLines, rep.Failed)
		}
		var lines int64
		for _, op := range e.sim.BulkMutations(testShop) {
			lines += op.Lines
		}
		calls += float64(rep.Calls)
		upBytes += float64(rep.UploadedBytes)
		ops += float64(rep.BulkOperations)
		resumed += float64(rep.ResumedLines)
		sent += float64(lines)
	}
	N := float64(b.N)
	b.ReportMetric(calls/N, "calls/op")
	b.ReportMetric(upBytes/N, "uploaded-B/op")
	b.ReportMetric(ops/N, "new-bulk-ops/op")
	b.ReportMetric(resumed/N, "resumed-lines/op")
	b.ReportMetric(sent/N, "lines-run-at-shopify/op")
}
