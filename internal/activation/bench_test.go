package activation_test

import (
	"context"
	"testing"

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
		rep, err := e.w.Apply(context.Background(), testShop, tagsOnly(), scores(ids, func(i int) string { return groups[group[i]].Slug() }))
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
