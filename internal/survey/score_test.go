package survey_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/cvo-app/cvo/internal/survey"
)

func TestNPSOnHandComputedCases(t *testing.T) {
	cases := []struct {
		name   string
		scores []int
		want   float64
		ok     bool
	}{
		{"no answers is no data, not 0", nil, 0, false},
		{"one promoter", []int{10}, 100, true},
		{"one detractor", []int{0}, -100, true},
		{"passives only give 0 with data", []int{7, 8, 8}, 0, true},
		// 3 promoters, 1 passive, 1 detractor of 5: (3-1)/5 = 40%.
		{"mixed", []int{9, 10, 9, 7, 6}, 40, true},
		// Boundaries: 6 is a detractor, 7 passive, 9 promoter.
		{"boundaries", []int{6, 7, 8, 9}, 0, true},
		// 1 promoter, 2 detractors of 3: -33.3…%.
		{"thirds", []int{10, 3, 5}, -100.0 / 3, true},
		// 2 promoters, 4 passives, 4 detractors of 10: -20%.
		{"ten", []int{9, 10, 7, 7, 8, 8, 0, 1, 2, 6}, -20, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var n survey.NPS
			for _, s := range tc.scores {
				n.Add(s)
			}
			got, ok := n.Score()
			assert.Equal(t, tc.ok, ok)
			assert.InDelta(t, tc.want, got, 1e-9)
			assert.Equal(t, len(tc.scores), n.Responses())
		})
	}
	n := survey.NPS{Promoters: 1, Detractors: 2}
	r, ok := n.Rounded()
	assert.True(t, ok)
	assert.Equal(t, -33.3, r)
}

func TestCategories(t *testing.T) {
	want := map[int]survey.NPSCategory{0: survey.Detractor, 6: survey.Detractor, 7: survey.Passive, 8: survey.Passive, 9: survey.Promoter, 10: survey.Promoter}
	for score, cat := range want {
		assert.Equal(t, cat, survey.Categorize(score), "score %d", score)
	}
}

func TestCESMean(t *testing.T) {
	var c survey.CES
	_, ok := c.Mean()
	assert.False(t, ok, "no answers is no data")
	for _, s := range []int{7, 5, 1, 3} {
		c.Add(s)
	}
	m, ok := c.Mean()
	assert.True(t, ok)
	assert.Equal(t, 4.0, m)
	assert.Equal(t, 2, c.Easy)
}
