package rfm

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
)

// benchCustomers is a million customers drawn once with a fixed seed,
// with a previous scoring for a third of them.
var benchCustomers = sync.OnceValues(func() ([]Customer, map[string]Group) {
	rng := rand.New(rand.NewPCG(7, 11))
	customers := randomShop(rng, 1_000_000)
	previous := make(map[string]Group, len(customers)/3)
	for i := 0; i < len(customers); i += 3 {
		previous[customers[i].ID] = Group(1 + rng.IntN(NumGroups))
	}
	return customers, previous
})

func BenchmarkScore(b *testing.B) {
	customers, previous := benchCustomers()
	b.ReportAllocs()
	b.ResetTimer()
	reportCPU(b, func() {
		for b.Loop() {
			res := Score(customers, Options{AsOf: asOf, Previous: previous})
			if res.Counts[NoGroup] != 0 {
				b.Fatal(fmt.Sprint("unscored customers: ", res.Counts[NoGroup]))
			}
		}
	})
}

// BenchmarkQuantileScaleDistinct is the tie rule's worst case: a million
// customers with nearly as many distinct average order values.
func BenchmarkQuantileScaleDistinct(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 8))
	values := make([]float64, 1_000_000)
	for i := range values {
		values[i] = roundCents(rng.ExpFloat64() * 80)
	}
	slices.Sort(values)
	blocks := blocksFromSorted(values)
	b.ResetTimer()
	for b.Loop() {
		s := quantileScale(blocks, 5, "average order value", formatMoney)
		if s.Levels != 5 {
			b.Fatal(s.Reason)
		}
	}
	b.ReportMetric(float64(len(blocks)), "distinct-values")
}
