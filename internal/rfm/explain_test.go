package rfm

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestExplain(t *testing.T) {
	r := Scale{Levels: 5, Descending: true, Cuts: []float64{14, 40, 90, 200}, Shares: []float64{.2, .2, .2, .2, .2}}
	f := Scale{Levels: 5, Cuts: []float64{2, 3, 4, 6}, Shares: []float64{.6, .15, .1, .08, .07}}
	m := Scale{Levels: 5, Cuts: []float64{20, 35, 50, 80}, Shares: []float64{.2, .2, .2, .2, .2}}
	cases := []struct {
		name  string
		s     Scale
		dim   Dimension
		value float64
		score int
		want  string
	}{
		{"the issue's example", r, Recency, 12, 5, "R 5: last order 12 days ago, within the most recent 20% (R 5 is 0–14 days)"},
		{"a middle recency", r, Recency, 41, 3, "R 3: last order 41 days ago, within the most recent 60% (R 3 is 41–90 days)"},
		{"the oldest", r, Recency, 365, 1, "R 1: last order 365 days ago, within the least recent 20% (R 1 is more than 200 days)"},
		{"bought today", r, Recency, 0, 5, "R 5: last order today, within the most recent 20% (R 5 is 0–14 days)"},
		{"one-time buyers", f, Frequency, 1, 1, "F 1: 1 order, within the bottom 60% by number of orders (F 1 is 1 order)"},
		{"one value in a level", f, Frequency, 2, 2, "F 2: 2 orders, within the top 40% by number of orders (F 2 is 2 orders)"},
		{"two values in a level", f, Frequency, 5, 4, "F 4: 5 orders, within the top 15% by number of orders (F 4 is 4–5 orders)"},
		{"the most frequent", f, Frequency, 9, 5, "F 5: 9 orders, within the top 7% by number of orders (F 5 is 6 orders or more)"},
		{"a middle spend", m, Monetary, 42.5, 3, "M 3: average order 42.50, within the top 60% by average order (M 3 is from 35.00 to under 50.00)"},
		{"a small spend", m, Monetary, 9, 1, "M 1: average order 9.00, within the bottom 20% by average order (M 1 is under 20.00)"},
		{"one level", Scale{Levels: 1}, Frequency, 1, 1, "F 1: 1 order; every customer has the same number of orders, so F has one level"},
		{"no shares kept (older scorings)", Scale{Levels: 5, Descending: true, Cuts: []float64{14, 40, 90, 200}}, Recency, 3, 5,
			"R 5: last order 3 days ago (R 5 is 0–14 days)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, c.s.Explain(c.dim, c.value, c.score, nil))
		})
	}
}
