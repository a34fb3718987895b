package ledger

import (
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/cvo-app/cvo/internal/cvo"
)

// BenchmarkAddSummed builds the ledger of 1M orders of 200k customers
// with Shopify-sized IDs, as the rescore's read does, with each order's
// customer given as a decimal string (formatted per order, as the reader
// did) and as the number storage holds.
func BenchmarkAddSummed(b *testing.B) {
	const orders, customers = 1_000_000, 200_000
	r := rand.New(rand.NewPCG(1, 2))
	ids := make([]int64, orders)
	for i := range ids {
		ids[i] = 7_000_000_000_000 + int64(r.IntN(customers))*7919
	}
	base := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, byValue := range []bool{false, true} {
		b.Run(map[bool]string{false: "by string", true: "by value"}[byValue], func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				lb := NewBuilderFor(customers, orders)
				for i, id := range ids {
					o := cvo.Order{CreatedAt: base.Add(time.Duration(i) * time.Minute), Total: 10}
					sum := Summary{Key: int64(i + 1)}
					if byValue {
						sum.Customer = id
					} else {
						o.CustomerID = strconv.FormatInt(id, 10)
					}
					lb.AddSummed(&o, sum)
				}
			}
		})
	}
}
