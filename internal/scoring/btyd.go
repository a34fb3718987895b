package scoring

import (
	"github.com/cvo-app/cvo/internal/clv"
	"github.com/cvo-app/cvo/internal/parallel"
)

// history is what a customer's purchases add up to beyond the BTYD
// summary, gathered in the same pass.
type history struct {
	margin  float64 // gross margin
	covered float64 // net value with known unit costs
}

// summaries builds the BTYD summaries of the customers who had bought by
// calendar day upTo, counting their purchases up to and including that
// day, exactly as clv.Summarize does from the same purchases: one
// transaction per calendar day with the day's summed value. who[i] is the
// customer of summary i (nil when every customer has one, in order).
func (ix *shopIndex) summaries(upTo int32, unit clv.TimeUnit) (sums []clv.Summary, who []int32) {
	return ix.summariesWith(upTo, unit, nil)
}

// summariesWith is summaries that also fills hist, when given, for every
// customer (upTo must then be the as-of day).
func (ix *shopIndex) summariesWith(upTo int32, unit clv.TimeUnit, hist []history) (sums []clv.Summary, who []int32) {
	n := ix.customers()
	perUnit := unit.DaysPer()
	all := true
	for c := range n {
		if ix.p[ix.start[c]].Day > upTo {
			all = false
			break
		}
	}
	if all {
		sums = make([]clv.Summary, n)
		parallel.Chunks(n, workers(n), func(_, lo, hi int) {
			for c := lo; c < hi; c++ {
				sums[c] = ix.summary(c, upTo, perUnit)
				if hist != nil {
					h := &hist[c]
					for _, p := range ix.purchases(c) {
						h.margin += p.Gross
						h.covered += p.Net * float64(p.KnownCostShare())
					}
				}
			}
		})
		return sums, nil
	}
	for c := range n {
		if ix.p[ix.start[c]].Day <= upTo {
			who = append(who, int32(c))
		}
	}
	sums = make([]clv.Summary, len(who))
	parallel.Chunks(len(who), workers(len(who)), func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			sums[i] = ix.summary(int(who[i]), upTo, perUnit)
		}
	})
	return sums, who
}

// summaryCustomer is the customer of summary i of summaries' result (who
// as they returned it).
func summaryCustomer(who []int32, i int) int {
	if who == nil {
		return i
	}
	return int(who[i])
}

// summary is customer c's BTYD summary at day upTo; the customer must have
// bought by then.
func (ix *shopIndex) summary(c int, upTo int32, perUnit float64) clv.Summary {
	ps := ix.purchases(c)
	var s clv.Summary
	first := ps[0].Day
	current := first
	var daySum, repeatSum float64
	flush := func() {
		if current == first {
			s.FirstValue = daySum
		} else {
			s.X++
			repeatSum += daySum
		}
		s.Revenue += daySum
	}
	for i := range ps {
		p := &ps[i]
		if p.Day > upTo {
			break
		}
		if p.Day != current {
			flush()
			current, daySum = p.Day, 0
		}
		daySum += p.Net
	}
	flush()
	s.Tx = float64(current-first) / perUnit
	s.T = float64(upTo-first) / perUnit
	if s.X > 0 {
		s.Monetary = repeatSum / float64(s.X)
	}
	return s
}
