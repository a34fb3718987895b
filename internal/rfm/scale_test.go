package rfm

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func blocksOf(pairs ...float64) []valueBlock {
	var out []valueBlock
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, valueBlock{value: pairs[i], count: int(pairs[i+1])})
	}
	return out
}

func TestQuantileScale(t *testing.T) {
	cases := []struct {
		name   string
		blocks []valueBlock
		levels int
		cuts   []float64
		shares []float64
		reason string
	}{
		{
			// 25 customers, values 1..25: five levels of five.
			name: "distinct values give quintiles",
			blocks: func() []valueBlock {
				var b []valueBlock
				for v := 1; v <= 25; v++ {
					b = append(b, valueBlock{float64(v), 1})
				}
				return b
			}(),
			levels: 5, cuts: []float64{6, 11, 16, 21}, shares: []float64{.2, .2, .2, .2, .2},
			reason: "5 levels: quantiles of 25 customers, ties kept together (shares 20% / 20% / 20% / 20% / 20%)",
		},
		{
			// Sizes 70, 15, 8, 4, 2, 1: one pair must merge. Squared
			// differences from 20 (in points): merging 2+1 gives
			// 50²+5²+12²+16²+17² = 3214, 4+2 gives 3226, 8+4 gives 3274,
			// 15+8 and 70+15 far more. The old nearest-quantile rule gave
			// three levels here.
			name:   "most customers bought once: still five levels",
			blocks: blocksOf(1, 70, 2, 15, 3, 8, 4, 4, 5, 2, 6, 1),
			levels: 5, cuts: []float64{2, 3, 4, 5}, shares: []float64{.70, .15, .08, .04, .03},
			reason: "5 levels: quantiles of 100 customers, ties kept together (shares 70% / 15% / 8% / 4% / 3%); 70% of customers share the number of purchases 1",
		},
		{
			// Sizes 10, 10, 30, 10, 20, 20: merging 10+10 gives
			// 0+10²+10²+0+0 = 200; 10+20 gives 400; 30+10 or 10+30 give 600.
			name:   "the tie goes where the shares stay closest to 20%",
			blocks: blocksOf(1, 10, 2, 10, 3, 30, 4, 10, 5, 20, 6, 20),
			levels: 5, cuts: []float64{3, 4, 5, 6}, shares: []float64{.2, .3, .1, .2, .2},
			reason: "5 levels: quantiles of 100 customers, ties kept together (shares 20% / 30% / 10% / 20% / 20%)",
		},
		{
			// Sizes 20, 20, 20, 20, 10, 10: only the last pair can merge
			// without moving a share off 20%.
			name:   "a heavy tie at the top",
			blocks: blocksOf(1, 20, 2, 20, 3, 20, 4, 20, 5, 10, 6, 10),
			levels: 5, cuts: []float64{2, 3, 4, 5}, shares: []float64{.2, .2, .2, .2, .2},
			reason: "5 levels: quantiles of 100 customers, ties kept together (shares 20% / 20% / 20% / 20% / 20%)",
		},
		{
			// Exact draw: sizes 1, 2, 2, 2, 2, 1 (n = 10); merging the first
			// pair or the last pair both cost the same, and the lower cuts win.
			name:   "an exact draw takes the lower cuts",
			blocks: blocksOf(1, 1, 2, 2, 3, 2, 4, 2, 5, 2, 6, 1),
			levels: 5, cuts: []float64{2, 3, 4, 5}, shares: []float64{.1, .2, .2, .2, .3},
			reason: "5 levels: quantiles of 10 customers, ties kept together (shares 10% / 20% / 20% / 20% / 30%)",
		},
		{
			name:   "fewer than five distinct values: one level each",
			blocks: blocksOf(1, 50, 2, 48, 3, 2),
			levels: 3, cuts: []float64{2, 3}, shares: []float64{.5, .48, .02},
			reason: "3 levels: only 3 distinct values of number of purchases (shares 50% / 48% / 2%)",
		},
		{
			name:   "small shop: five distinct values fill five levels",
			blocks: blocksOf(1, 2, 2, 2, 3, 2, 4, 2, 5, 3),
			levels: 5, cuts: []float64{2, 3, 4, 5}, shares: []float64{2. / 11, 2. / 11, 2. / 11, 2. / 11, 3. / 11},
			reason: "5 levels: quantiles of 11 customers, ties kept together (shares 18% / 18% / 18% / 18% / 27%)",
		},
		{
			name:   "identical values",
			blocks: blocksOf(42, 30),
			levels: 1, shares: []float64{1},
			reason: "1 level: all 30 customers have the same number of purchases (42)",
		},
		{
			name:   "no customers",
			blocks: nil,
			levels: 1,
			reason: "1 level: no customers to score",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := quantileScale(c.blocks, 5, "number of purchases", formatCount)
			assert.Equal(t, c.levels, s.Levels)
			assert.Equal(t, c.cuts, s.Cuts)
			assert.InDeltaSlice(t, c.shares, s.Shares, 1e-12)
			assert.Equal(t, c.reason, s.Reason)
			for _, b := range c.blocks {
				score := s.Score(b.value)
				assert.GreaterOrEqual(t, score, 1)
				assert.LessOrEqual(t, score, s.Levels)
			}
		})
	}
}

// bruteCuts tries every placement of levels−1 cuts and keeps the first
// with the least cost, the rule balancedCuts must follow exactly.
func bruteCuts(blocks []valueBlock, n, levels int) []int {
	var best []int
	bestCost := math.Inf(1)
	cur := make([]int, 0, levels-1)
	var walk func(from int)
	walk = func(from int) {
		if len(cur) == levels-1 {
			cost, prev, size := 0.0, 0, 0
			for _, c := range append(append([]int{}, cur...), len(blocks)) {
				size = 0
				for _, b := range blocks[prev:c] {
					size += b.count
				}
				d := float64(size*levels - n)
				cost += d * d
				prev = c
			}
			if cost < bestCost {
				bestCost, best = cost, append([]int{}, cur...)
			}
			return
		}
		for c := from; c < len(blocks); c++ {
			cur = append(cur, c)
			walk(c + 1)
			cur = cur[:len(cur)-1]
		}
	}
	walk(1)
	return best
}

func TestBalancedCutsMatchesExhaustiveSearch(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	for iter := range 3000 {
		nb := 5 + rng.IntN(12)
		blocks := make([]valueBlock, nb)
		n := 0
		for i := range blocks {
			// Skewed sizes make heavy ties common; small ones make exact
			// draws common.
			count := 1 + rng.IntN(4)
			if rng.IntN(4) == 0 {
				count += rng.IntN(60)
			}
			blocks[i] = valueBlock{value: float64(i + 1), count: count}
			n += count
		}
		levels := 2 + rng.IntN(4)
		require.Equal(t, bruteCuts(blocks, n, levels), balancedCuts(blocks, n, levels), "iteration %d: %v into %d", iter, blocks, levels)
	}
}

func TestScaleScore(t *testing.T) {
	asc := Scale{Levels: 3, Cuts: []float64{2, 3}}
	assert.Equal(t, 1, asc.Score(1))
	assert.Equal(t, 2, asc.Score(2))
	assert.Equal(t, 3, asc.Score(3))
	assert.Equal(t, 3, asc.Score(40))

	// Ten customers a day ago for each of 0..9 days, then ten more 30 days
	// ago: quintiles of whole days, most recent = 5.
	var days []valueBlock
	for d := range 10 {
		days = append(days, valueBlock{value: float64(d), count: 10})
	}
	days = append(days, valueBlock{value: 30, count: 10})
	r := recencyScale(days, 5, Cadence{AvgDaysBetweenOrders: 30, RepeatCustomers: 10, HorizonDays: 60})
	require.True(t, r.Descending)
	assert.Equal(t, 5, r.Levels)
	// Sizes 10 each over 11 days: 22 customers a level is ideal; the best
	// splits all cost the same, and the lower cuts put 20, 20, 20, 20 and
	// 30 customers at R5…R1.
	assert.Equal(t, []float64{1, 3, 5, 7}, r.Cuts)
	assert.InDeltaSlice(t, []float64{30. / 110, 20. / 110, 20. / 110, 20. / 110, 20. / 110}, r.Shares, 1e-12, "indexed by score: R1 first")
	for _, c := range []struct {
		days  float64
		score int
	}{{0, 5}, {1, 5}, {2, 4}, {3, 4}, {4, 3}, {5, 3}, {6, 2}, {7, 2}, {8, 1}, {30, 1}, {900, 1}} {
		assert.Equal(t, c.score, r.Score(c.days), "recency %v days", c.days)
	}
	assert.Contains(t, r.Reason, "average 30.0 days between orders over 10 repeat customers")
	assert.Contains(t, r.Reason, "inactive after 60 days")

	fallback := recencyScale(days, 5, Cadence{AvgDaysBetweenOrders: 90, Fallback: true, HorizonDays: 180})
	assert.Contains(t, fallback.Reason, "no repeat customers yet, assumed 90 days")
	assert.Contains(t, fallback.Reason, "inactive after 180 days")
}

func TestTierOf(t *testing.T) {
	cases := []struct {
		score, levels int
		tier          Tier
	}{
		{1, 1, TierMid},
		{1, 2, TierLow}, {2, 2, TierHigh},
		{1, 3, TierLow}, {2, 3, TierMid}, {3, 3, TierHigh},
		{1, 4, TierLow}, {2, 4, TierMid}, {3, 4, TierMid}, {4, 4, TierHigh},
		{1, 5, TierLow}, {2, 5, TierLow}, {3, 5, TierMid}, {4, 5, TierHigh}, {5, 5, TierHigh},
	}
	for _, c := range cases {
		assert.Equal(t, c.tier, TierOf(c.score, c.levels), "score %d of %d", c.score, c.levels)
	}
	assert.Equal(t, "high", TierHigh.String())
}
