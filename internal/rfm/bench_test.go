package rfm

import (
	"fmt"
	"math/rand/v2"
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
