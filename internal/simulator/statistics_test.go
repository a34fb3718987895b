package simulator

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestShopifyGroupReadsTheDescriptions(t *testing.T) {
	cases := []struct {
		r, f, m int
		want    string
	}{
		{5, 5, 5, RFMChampions},
		{4, 4, 4, RFMLoyal},
		{5, 1, 1, RFMNew},
		{4, 2, 5, RFMPromising},
		{4, 3, 3, RFMActive},
		{3, 1, 1, RFMNeedsAttention},
		{2, 5, 4, RFMPreviouslyLoyal},
		{1, 3, 1, RFMAtRisk},
		{2, 1, 2, RFMAlmostLost},
		{1, 1, 1, RFMDormant},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, shopifyGroup(c.r, c.f, c.m), "R%d F%d M%d", c.r, c.f, c.m)
	}
	assert.Equal(t, "HIGH", spendTier(4, 5))
	assert.Equal(t, "LOW", spendTier(1, 5))
	assert.Equal(t, "MEDIUM", spendTier(3, 3))
}

func TestComputedStatistics(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	day := func(d int) int64 { return now.AddDate(0, 0, -d).Unix() }
	// Ten customers: customer i bought i+1 times, the last time 10·i days
	// ago, 50 each time; customer 10 only cancelled.
	var orders []orderRec
	id := int64(1)
	for c := range 10 {
		for k := 0; k <= c; k++ {
			orders = append(orders, orderRec{id: id, customer: int64(c + 1), created: day(10*c + k), total: 50 * amountScale})
			id++
		}
	}
	orders = append(orders, orderRec{id: id, customer: 11, created: day(1), total: 50 * amountScale, cancelled: day(1)})
	stats := computeStats(orders, now)
	assert.Len(t, stats, 10, "cancelled-only customers have no orders: prospects")
	// Customer 1 bought once, most recently: new. Customer 10 bought ten
	// times, long ago, spending the most: previously loyal.
	assert.Equal(t, customerStats{rfmGroup: RFMNew, spendTier: "LOW"}, stats[1])
	assert.Equal(t, RFMPreviouslyLoyal, stats[10].rfmGroup)
	for _, s := range stats {
		assert.Contains(t, []string{"HIGH", "MEDIUM", "LOW"}, s.spendTier)
	}
}
