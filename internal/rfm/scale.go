package rfm

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Scale says how one dimension was cut into scores and why it has the
// number of levels it has.
type Scale struct {
	// Levels is the number of distinct scores, 1..5; scores run 1..Levels.
	Levels int `json:"levels"`
	// Cuts are the Levels−1 ascending thresholds between scores. For an
	// ascending scale (F, M) Cuts[i] is the lowest value that scores i+2.
	// For a descending scale (R, in days) Cuts[i] is the largest value
	// that scores Levels−i.
	Cuts       []float64 `json:"cuts"`
	Descending bool      `json:"descending"`
	// Shares is the fraction of scored customers at each score, indexed by
	// score−1, so an explanation can say "within the most recent 20%".
	Shares []float64 `json:"shares"`
	Reason string    `json:"reason"`
}

// Score maps a value onto 1..Levels.
func (s Scale) Score(v float64) int {
	above := 0
	for _, c := range s.Cuts {
		if s.Descending {
			if v > c {
				above++
			}
		} else if v >= c {
			above++
		}
	}
	if s.Descending {
		return s.Levels - above
	}
	return 1 + above
}

// valueBlock is a run of customers who share one value.
type valueBlock struct {
	value float64
	count int
}

// blocksFromSorted collapses an ascending slice into runs of equal values.
func blocksFromSorted(sorted []float64) []valueBlock {
	var blocks []valueBlock
	for _, v := range sorted {
		if n := len(blocks); n > 0 && blocks[n-1].value == v {
			blocks[n-1].count++
			continue
		}
		blocks = append(blocks, valueBlock{value: v, count: 1})
	}
	return blocks
}

// quantileScale cuts a distribution into min(maxLevels, distinct values)
// scores, every one of them populated. Tied customers always share a
// score, so a cut can only go where the value changes; among all such
// placements the one whose level shares are closest to equal (the least
// sum of squared differences from 1/levels, which is 20% each with five
// levels) wins, and on an exact draw the one with lower cuts. A heavy tie
// (most customers with one purchase) therefore makes its own level as
// large as it must be, and the remaining customers still fill the others.
func quantileScale(blocks []valueBlock, maxLevels int, what string, format func(float64) string) Scale {
	n := 0
	for _, b := range blocks {
		n += b.count
	}
	if n == 0 {
		return Scale{Levels: 1, Reason: "1 level: no customers to score"}
	}
	if len(blocks) == 1 {
		return Scale{Levels: 1, Shares: []float64{1}, Reason: fmt.Sprintf("1 level: all %d customers have the same %s (%s)", n, what, format(blocks[0].value))}
	}
	levels := min(maxLevels, len(blocks))
	cuts := balancedCuts(blocks, n, levels)
	s := Scale{Levels: levels}
	prev := 0
	for _, c := range append(cuts, len(blocks)) {
		size := 0
		for _, b := range blocks[prev:c] {
			size += b.count
		}
		s.Shares = append(s.Shares, float64(size)/float64(n))
		prev = c
	}
	for _, c := range cuts {
		s.Cuts = append(s.Cuts, blocks[c].value)
	}
	s.Reason = levelReason(s, maxLevels, blocks, n, what, format)
	return s
}

// balancedCuts returns the levels−1 block indices at which levels start
// (ascending, each > 0 and < len(blocks)) that minimise Σ (size·levels −
// n)², the squared distance of every level's share from 1/levels.
//
// The cost of a level depends only on its size and is convex in it, and
// sizes are differences of the increasing running count, so the cost
// matrix is Monge: the best previous cut never moves left as the current
// cut moves right. Each layer of the dynamic programme is then solved by
// divide and conquer in O(B log B) rather than O(B²), which keeps the
// average order value of a million customers (nearly as many distinct
// values) in the tens of milliseconds.
func balancedCuts(blocks []valueBlock, n, levels int) []int {
	nb := len(blocks)
	if levels >= nb {
		cuts := make([]int, nb-1)
		for i := range cuts {
			cuts[i] = i + 1
		}
		return cuts
	}
	if levels <= 1 {
		return nil
	}
	cum := make([]int, nb+1)
	for i, b := range blocks {
		cum[i+1] = cum[i] + b.count
	}
	cost := func(a, b int) float64 {
		d := float64((cum[b]-cum[a])*levels - n)
		return d * d
	}
	// best[p] is the least cost of cutting blocks[0:p] into k levels; from
	// records, per layer, where the last of those k levels starts.
	best := make([]float64, nb+1)
	for p := 1; p <= nb; p++ {
		best[p] = cost(0, p)
	}
	from := make([][]int32, levels)
	next := make([]float64, nb+1)
	for k := 2; k <= levels; k++ {
		arg := make([]int32, nb+1)
		// Layer k ends at p in [k, nb−(levels−k)]; its last level starts at
		// q in [k−1, p−1].
		lo, hi := k, nb-(levels-k)
		if k == levels {
			lo = nb
		}
		var solve func(lo, hi, qlo, qhi int)
		solve = func(lo, hi, qlo, qhi int) {
			if lo > hi {
				return
			}
			mid := (lo + hi) / 2
			bestQ, bestV := -1, math.Inf(1)
			for q := max(qlo, k-1); q <= min(qhi, mid-1); q++ {
				if v := best[q] + cost(q, mid); v < bestV {
					bestQ, bestV = q, v
				}
			}
			next[mid], arg[mid] = bestV, int32(bestQ)
			solve(lo, mid-1, qlo, bestQ)
			solve(mid+1, hi, bestQ, qhi)
		}
		solve(lo, hi, k-1, nb-1)
		from[k-1] = arg
		for p := range next {
			if p < lo || p > hi {
				next[p] = math.Inf(1)
			}
		}
		best, next = next, best
	}
	cuts := make([]int, levels-1)
	p := nb
	for k := levels; k >= 2; k-- {
		p = int(from[k-1][p])
		cuts[k-2] = p
	}
	return cuts
}

func levelReason(s Scale, maxLevels int, blocks []valueBlock, n int, what string, format func(float64) string) string {
	shares := make([]string, len(s.Shares))
	for i, sh := range s.Shares {
		shares[i] = strconv.FormatFloat(100*sh, 'f', 0, 64) + "%"
	}
	if len(blocks) < maxLevels {
		return fmt.Sprintf("%d levels: only %d distinct values of %s (shares %s)", s.Levels, len(blocks), what, strings.Join(shares, " / "))
	}
	largest := blocks[0]
	for _, b := range blocks {
		if b.count > largest.count {
			largest = b
		}
	}
	why := fmt.Sprintf("%d levels: quantiles of %d customers, ties kept together (shares %s)", s.Levels, n, strings.Join(shares, " / "))
	if 2*largest.count*s.Levels > 3*n {
		why += fmt.Sprintf("; %.0f%% of customers share the %s %s", 100*float64(largest.count)/float64(n), what, format(largest.value))
	}
	return why
}

func formatCount(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) }

func formatMoney(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

// recencyScale cuts whole days since the last purchase into quantiles
// like F and M, most recent first: R5 is the most recent fifth of the
// shop's customers. Whether a customer is still active is a separate
// question, answered by the shop's cadence (Cadence.HorizonDays), so a
// shop where nobody has bought for a year has recent quantiles but no
// active customers.
func recencyScale(days []valueBlock, maxLevels int, cad Cadence) Scale {
	asc := quantileScale(days, maxLevels, "days since the last purchase", formatCount)
	s := Scale{Levels: asc.Levels, Descending: true}
	// Ascending over days, score i holds the (i)th most recent customers;
	// as a descending scale Cuts[i] is the last day of score Levels−i.
	for _, c := range asc.Cuts {
		i := slices.IndexFunc(days, func(b valueBlock) bool { return b.value == c })
		s.Cuts = append(s.Cuts, days[i-1].value)
	}
	for i := len(asc.Shares) - 1; i >= 0; i-- {
		s.Shares = append(s.Shares, asc.Shares[i])
	}
	source := fmt.Sprintf("average %.1f days between orders over %d repeat customers", cad.AvgDaysBetweenOrders, cad.RepeatCustomers)
	if cad.Fallback {
		source = fmt.Sprintf("no repeat customers yet, assumed %.0f days between orders", cad.AvgDaysBetweenOrders)
	}
	s.Reason = fmt.Sprintf("%s; inactive after %.0f days without a purchase (%s)", asc.Reason, cad.HorizonDays, source)
	return s
}
