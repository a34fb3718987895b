package scoring

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/ledger"
	"github.com/cvo-app/cvo/internal/reports"
)

// The scoring borrows the reports dataset's purchases as its index
// (indexFromDataset) instead of indexing the ledger a second time
// (buildIndex). The models must find the same index either way.
func TestIndexFromDatasetIsTheLedgersIndex(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	asOf := time.Date(2024, 11, 5, 15, 30, 0, 0, time.UTC)
	chunked := false
	for seed := range uint64(6) {
		customers, orders := randomShop(seed, []int{300, 2_000, 40_000}[seed%3], asOf)
		rng := rand.New(rand.NewPCG(seed, 7))
		for i := range orders {
			switch rng.IntN(40) {
			case 0: // a credit line of unknown cost: the known costs cover more than the line revenue
				orders[i].Lines = append(orders[i].Lines[:len(orders[i].Lines):len(orders[i].Lines)],
					cvo.LineItem{ProductID: "credit", Quantity: 1, UnitPrice: -1})
			case 1: // lines without any known cost
				orders[i].Lines = []cvo.LineItem{{ProductID: "free", Quantity: 2, UnitPrice: 10}}
			case 2:
				orders[i].DiscountCodes = []string{"SAVE"}
			case 3: // lines whose sums overflow: the line revenue is NaN
				orders[i].Lines = []cvo.LineItem{{ProductID: "big", Quantity: 2, UnitPrice: 1e308, UnitCost: 1, CostKnown: true},
					{ProductID: "credit", Quantity: 2, UnitPrice: -1e308}}
			case 4: // a refund that takes the net value past the largest number
				orders[i].Total = math.MaxFloat64
				orders[i].Refunds = []cvo.Refund{{CreatedAt: orders[i].CreatedAt, Amount: -math.MaxFloat64}}
			}
		}
		// Orders of one customer at the same second, one in each half of
		// the orders, so in different chunks when there are two.
		for range 50 {
			i, j := rng.IntN(len(orders)/2), len(orders)/2+rng.IntN(len(orders)-len(orders)/2)
			orders[j].CustomerID, orders[j].CreatedAt = orders[i].CustomerID, orders[i].CreatedAt
		}
		l := ledger.FromHistory(customers, orders)
		require.Greater(t, l.Len(), 0)
		chunked = chunked || workers(l.Len()) > 1
		for _, s := range equivalenceCases(t) {
			s.DefaultMarginRate = 0.35
			s, err := s.normalized()
			require.NoError(t, err)
			d := reports.FromLedger(l, reports.Options{AsOf: s.AsOf, Location: s.Location, RefundDating: s.RefundDating,
				DefaultMarginRate: s.DefaultMarginRate})
			shared := indexFromDataset(d, s)
			own := buildIndex(d.LedgerCustomers(), l, s)
			name := s.Location.String()
			require.Equal(t, own.ids, shared.ids, name)
			require.Equal(t, own.ledgerID, shared.ledgerID, name)
			require.Equal(t, own.start, shared.start, name)
			require.Equal(t, own.source, shared.source, name)
			require.Equal(t, len(own.p), len(shared.p), name)
			for i := range own.p {
				a, b := &own.p[i], &shared.p[i]
				require.Equal(t, [2]int64{own.unix(a), int64(a.Day)}, [2]int64{shared.unix(b), int64(b.Day)}, "%s purchase %d", name, i)
				require.Equal(t, math.Float64bits(a.Net), math.Float64bits(b.Net), "%s purchase %d net", name, i)
				require.Equal(t, math.Float64bits(a.Gross), math.Float64bits(b.Gross), "%s purchase %d gross", name, i)
				require.Equal(t, math.Float32bits(a.KnownCostShare()), math.Float32bits(b.KnownCostShare()), "%s purchase %d share", name, i)
				require.Equal(t, a.Discount(), b.Discount(), "%s purchase %d", name, i)
			}
			assert.Equal(t, [2]int32{own.minDay, own.asOfDay}, [2]int32{shared.minDay, shared.asOfDay}, name)
			assert.Equal(t, own.dayTime, shared.dayTime, name)
			assert.Equal(t, own.zones, shared.zones, name)
		}
	}
	require.True(t, chunked, "a shop large enough for two chunks")
}

// An order without a creation date (a data error) is left out by the
// models as by the reports, and the scoring says so: a customer whose
// orders all lack one gets no score, where one such customer used to fail
// the whole shop's scoring ("rfm scored N customers, the models N+1"),
// and a customer with a dated order is scored from its dated orders, where
// the undated one used to stretch its history back to year 1.
func TestUndatedOrdersAreLeftOut(t *testing.T) {
	asOf := time.Date(2024, 11, 5, 15, 30, 0, 0, time.UTC)
	customers, orders := randomShop(3, 200, asOf)
	want, err := Score(t.Context(), customers, orders, DefaultSettings(asOf))
	require.NoError(t, err)
	// Dated 1950, 74 years before the rest: a purchase's time counts
	// seconds from the earliest in 31 bits, 68 years. (A dated customer's
	// such order is left out too, but may have taken the ledger's record
	// of the customer's first purchase: see reports.Dataset.TooOld.)
	placeholder := time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC)
	const tooOld = "%d orders are dated more than 68 years before the latest; they were left out"
	for _, tc := range []struct {
		name    string
		undated []cvo.Order
		warning string
	}{
		{"a customer with only an undated order", []cvo.Order{{CustomerID: "undated-only", Total: 40}}, ""},
		{"a customer with only undated orders", []cvo.Order{{CustomerID: "undated-only", Total: 40}, {CustomerID: "undated-only", Total: 400_000}}, ""},
		{"a dated customer's undated order", []cvo.Order{{CustomerID: customers[0].ID, Total: 40}}, ""},
		{"a customer with only an order 74 years old", []cvo.Order{{CustomerID: "old-only", CreatedAt: placeholder, Total: 40}}, tooOld},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Score(t.Context(), customers, append(slices.Clone(orders), tc.undated...), DefaultSettings(asOf))
			require.NoError(t, err)
			warning := cmp.Or(tc.warning, "%d orders have no creation date; they were left out")
			assert.Equal(t, []string{fmt.Sprintf(warning, len(tc.undated))}, got.Warnings)
			want.Timings, got.Timings, got.Warnings = nil, nil, want.Warnings
			require.Equal(t, want, got, "the scores of the shop without them")
		})
	}
}

// ScoreReleasing lets the ledger's orders go once the reports have laid
// them out, and scores exactly as ScoreLedger does.
func TestScoreReleasingScoresAsScoreLedger(t *testing.T) {
	asOf := time.Date(2024, 11, 5, 15, 30, 0, 0, time.UTC)
	for _, undated := range []bool{false, true} {
		customers, orders := shopMaybeUndated(5, 1_500, asOf, undated)
		s := DefaultSettings(asOf)
		s.Location = mustZone(t, "Europe/Berlin")
		want, err := ScoreLedger(t.Context(), ledger.FromHistory(customers, orders), s)
		require.NoError(t, err)
		l := ledger.FromHistory(customers, orders)
		got, err := ScoreReleasing(t.Context(), l, s)
		require.NoError(t, err)
		want.Timings, got.Timings = nil, nil
		require.Equal(t, want, got, "undated %v", undated)
		assert.Zero(t, l.Len(), "the orders are let go")
	}
}

// A big shop's scoring collects its garbage at each step and runs its
// reports before its models (returnMemoryFrom): the same scores, taken
// here on a small shop by lowering the threshold.
func TestTheBigShopsPathScoresAlike(t *testing.T) {
	asOf := time.Date(2024, 11, 5, 15, 30, 0, 0, time.UTC)
	customers, orders := randomShop(9, 1_200, asOf)
	s := DefaultSettings(asOf)
	s.Location = mustZone(t, "America/Sao_Paulo")
	want, err := ScoreLedger(t.Context(), ledger.FromHistory(customers, orders), s)
	require.NoError(t, err)

	defer func(v int) { returnMemoryFrom = v }(returnMemoryFrom)
	returnMemoryFrom = 0
	got, err := ScoreReleasing(t.Context(), ledger.FromHistory(customers, orders), s)
	require.NoError(t, err)
	want.Timings, got.Timings = nil, nil
	require.Equal(t, want, got)
}

// shopMaybeUndated is randomShop with, when undated, one more order of a
// listed customer without a creation date: a data error the models count
// and the reports leave out, so that the models index the ledger.
func shopMaybeUndated(seed uint64, n int, asOf time.Time, undated bool) ([]cvo.Customer, []cvo.Order) {
	customers, orders := randomShop(seed, n, asOf)
	if undated {
		orders = append(orders, cvo.Order{CustomerID: customers[1].ID, Total: 40})
	}
	return customers, orders
}
