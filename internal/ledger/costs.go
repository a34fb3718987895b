package ledger

import "math"

// Cost is cvo.Order.KnownCost of an order with product lines.
type Cost struct {
	Cost, Covered, LineRevenue float64
}

// prices says whether the cost can price the order's margin: only revenue
// with a known cost, out of a positive line revenue, can (the margins of
// clv.HistoricalCLV and the reports read any other cost as none). Only
// such costs are kept: a shop that records no unit costs keeps none, not
// 24 bytes an order.
func (c Cost) prices() bool { return c.Covered > 0 && c.LineRevenue > 0 }

// costRef names a kept cost: its form in the top bits, its number among
// the costs of that form (from 1) in the rest; 0 when the order has none.
type costRef int32

// The forms a cost is kept in, the smallest that gives its three numbers
// back to the last bit. Most shops that record unit costs record them for
// every product, so an order's revenue is all covered; and a sum of a few
// prices is mostly the float nearest a whole number of cents. On the bench
// shop (5M orders), 60% of the costs take 8 bytes, 26% 16 and 14% 24.
const (
	costCents   = 1 // cost and covered revenue in whole cents, the revenue all covered
	costCovered = 2 // cost and covered revenue, the revenue all covered
	costFull    = 3 // the three numbers

	costFormShift = 29
	costNumberMax = 1<<costFormShift - 1
)

type centsCost struct{ cost, revenue int32 }

type coveredCost struct{ cost, revenue float64 }

// costs holds the orders' costs, each in the smallest form that keeps it
// exactly.
type costs struct {
	cents   blocks[centsCost]
	covered blocks[coveredCost]
	full    blocks[Cost]
}

// add keeps a cost and names it.
func (c *costs) add(cost Cost) costRef {
	if bitsEqual(cost.Covered, cost.LineRevenue) {
		if cc, ok := toCents(cost.Cost); ok {
			if cr, ok := toCents(cost.Covered); ok {
				return refOf(costCents, c.cents.add(centsCost{cost: cc, revenue: cr}))
			}
		}
		return refOf(costCovered, c.covered.add(coveredCost{cost: cost.Cost, revenue: cost.Covered}))
	}
	return refOf(costFull, c.full.add(cost))
}

// at is the cost r names.
func (c *costs) at(r costRef) Cost {
	n := int32(r) & costNumberMax
	switch r >> costFormShift {
	case costCents:
		e := c.cents.at(n)
		revenue := float64(e.revenue) / 100
		return Cost{Cost: float64(e.cost) / 100, Covered: revenue, LineRevenue: revenue}
	case costCovered:
		e := c.covered.at(n)
		return Cost{Cost: e.cost, Covered: e.revenue, LineRevenue: e.revenue}
	default:
		return *c.full.at(n)
	}
}

// len is the number of costs kept.
func (c *costs) len() int { return int(c.cents.n + c.covered.n + c.full.n) }

func refOf(form int32, n int32) costRef {
	return costRef(form)<<costFormShift | numbered(int(n), costRef(1)<<costFormShift)
}

// toCents is v as a whole number of cents when that number, divided by
// 100, is v to the last bit (a division rounds to the float nearest the
// decimal, the float a price of that many cents was read as).
func toCents(v float64) (int32, bool) {
	c := math.Round(v * 100)
	if !(c >= math.MinInt32 && c <= math.MaxInt32) {
		return 0, false
	}
	n := int32(c)
	return n, bitsEqual(float64(n)/100, v)
}

// bitsEqual tells 0 from -0, which == does not: a cost kept in another
// form must read back as the very number it was.
func bitsEqual(a, b float64) bool { return math.Float64bits(a) == math.Float64bits(b) }

// entryBlock is how many entries a block of a blocks holds.
const entryBlock = 1 << 16

// blocks holds entries in blocks filled one after another: they grow
// without copying what they hold, and without room reserved for entries
// that never come.
type blocks[T any] struct {
	b [][]T
	n int32
}

// add keeps an entry and returns its number, from 1.
func (s *blocks[T]) add(v T) int32 {
	if int(s.n)%entryBlock == 0 {
		s.b = append(s.b, nil)
	}
	last := &s.b[len(s.b)-1]
	if len(*last) == cap(*last) {
		// The first block grows as a small shop needs, by hand so as
		// never to pass a block; the others are made whole.
		size := entryBlock
		if len(s.b) == 1 {
			size = min(max(2*cap(*last), 16), entryBlock)
		}
		grown := make([]T, len(*last), size)
		copy(grown, *last)
		*last = grown
	}
	*last = append(*last, v)
	s.n++
	return s.n
}

// at is the entry numbered n (from 1).
func (s *blocks[T]) at(n int32) *T { return &s.b[(n-1)/entryBlock][(n-1)%entryBlock] }
