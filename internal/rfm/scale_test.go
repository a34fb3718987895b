package rfm

import (
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
		name        string
		blocks      []valueBlock
		minPerLevel int
		levels      int
		cuts        []float64
		reason      string
	}{
		{
			// 25 customers, values 1..25: ideal boundaries at 5,10,15,20.
			name: "distinct values give quintiles",
			blocks: func() []valueBlock {
				var b []valueBlock
				for v := 1; v <= 25; v++ {
					b = append(b, valueBlock{float64(v), 1})
				}
				return b
			}(),
			minPerLevel: 5, levels: 5, cuts: []float64{6, 11, 16, 21},
			reason: "5 levels: quantiles of 25 customers, ties kept together",
		},
		{
			// cum = 70, 85, 93, 97; ideals 20, 40, 60 snap to 70, 80 snaps to 85.
			name:        "most customers bought once",
			blocks:      blocksOf(1, 70, 2, 15, 3, 8, 4, 4, 5, 3),
			minPerLevel: 5, levels: 3, cuts: []float64{2, 3},
			reason: "3 levels: ties: 70% of customers share the number of purchases 1",
		},
		{
			// cum = 50, 98: ideals snap to 50 and 98, leaving a level of 2
			// customers that merges into its neighbour.
			name:        "tiny top level merges",
			blocks:      blocksOf(1, 50, 2, 48, 3, 2),
			minPerLevel: 5, levels: 2, cuts: []float64{2},
			reason: "2 levels: only 3 distinct values of number of purchases; ties: 50% of customers share the number of purchases 1",
		},
		{
			name:        "identical values",
			blocks:      blocksOf(42, 30),
			minPerLevel: 5, levels: 1,
			reason: "1 level: all 30 customers have the same number of purchases (42)",
		},
		{
			// cum = 2,4,6,8; the ideal 5.5 snaps to 6, so 1–3 and 4–5.
			name:        "small shop",
			blocks:      blocksOf(1, 2, 2, 2, 3, 2, 4, 2, 5, 3),
			minPerLevel: 5, levels: 2, cuts: []float64{4},
			reason: "2 levels: small shop: 11 customers, at least 5 per level",
		},
		{
			name:        "no customers",
			blocks:      nil,
			minPerLevel: 5, levels: 1,
			reason: "1 level: no customers to score",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := quantileScale(c.blocks, 5, c.minPerLevel, "number of purchases", formatCount)
			assert.Equal(t, c.levels, s.Levels)
			assert.Equal(t, c.cuts, s.Cuts)
			assert.Equal(t, c.reason, s.Reason)
			for _, b := range c.blocks {
				score := s.Score(b.value)
				assert.GreaterOrEqual(t, score, 1)
				assert.LessOrEqual(t, score, s.Levels)
			}
		})
	}
}

func TestScaleScore(t *testing.T) {
	asc := Scale{Levels: 3, Cuts: []float64{2, 3}}
	assert.Equal(t, 1, asc.Score(1))
	assert.Equal(t, 2, asc.Score(2))
	assert.Equal(t, 3, asc.Score(3))
	assert.Equal(t, 3, asc.Score(40))

	r := recencyScale(Cadence{AvgDaysBetweenOrders: 30, RepeatCustomers: 10, HorizonDays: 60})
	require.True(t, r.Descending)
	assert.Equal(t, []float64{15, 30, 45, 60}, r.Cuts)
	for _, c := range []struct {
		days  float64
		score int
	}{{0, 5}, {15, 5}, {15.01, 4}, {30, 4}, {31, 3}, {45, 3}, {50, 2}, {60, 2}, {60.5, 1}, {900, 1}} {
		assert.Equal(t, c.score, r.Score(c.days), "recency %v days", c.days)
	}
	assert.Contains(t, r.Reason, "average 30.0 days between orders over 10 repeat customers")

	fallback := recencyScale(Cadence{AvgDaysBetweenOrders: 90, Fallback: true, HorizonDays: 180})
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
