package rfm

import (
	"fmt"
	"sort"
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
	Reason     string    `json:"reason"`
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

// quantileScale cuts a distribution into at most maxLevels scores of
// roughly equal size. Ties are never split: each ideal quantile boundary
// snaps to the nearest place where the value changes, boundaries that
// snap to the same place merge, and levels left with fewer than
// minPerLevel customers merge into their smaller neighbour. Heavy ties
// (most customers with one purchase) and small shops therefore yield
// fewer levels rather than arbitrary splits of identical customers.
func quantileScale(blocks []valueBlock, maxLevels, minPerLevel int, what string, format func(float64) string) Scale {
	n := 0
	for _, b := range blocks {
		n += b.count
	}
	if n == 0 {
		return Scale{Levels: 1, Reason: "1 level: no customers to score"}
	}
	if len(blocks) == 1 {
		return Scale{Levels: 1, Reason: fmt.Sprintf("1 level: all %d customers have the same %s (%s)", n, what, format(blocks[0].value))}
	}
	target := min(maxLevels, len(blocks), max(1, n/minPerLevel))

	// cum[i] is the number of customers in blocks[0..i]; a boundary after
	// block i (i < len−1) is the only place a cut may go.
	cum := make([]int, len(blocks)-1)
	running := 0
	for i := range cum {
		running += blocks[i].count
		cum[i] = running
	}
	var bounds []int // indices into cum, ascending, distinct
	for k := 1; k < target; k++ {
		ideal := float64(k) * float64(n) / float64(target)
		best := nearestBoundary(cum, ideal)
		if len(bounds) == 0 || bounds[len(bounds)-1] < best {
			bounds = append(bounds, best)
		}
	}
	bounds = mergeSmallLevels(bounds, cum, n, minPerLevel)

	s := Scale{Levels: len(bounds) + 1}
	for _, b := range bounds {
		s.Cuts = append(s.Cuts, blocks[b+1].value)
	}
	s.Reason = levelReason(s.Levels, maxLevels, target, blocks, n, minPerLevel, what, format)
	return s
}

// nearestBoundary picks the boundary closest to the ideal position; on
// an exact tie the lower one wins.
func nearestBoundary(cum []int, ideal float64) int {
	i := sort.Search(len(cum), func(i int) bool { return float64(cum[i]) >= ideal })
	if i == len(cum) {
		return i - 1
	}
	if i > 0 && ideal-float64(cum[i-1]) <= float64(cum[i])-ideal {
		return i - 1
	}
	return i
}

func mergeSmallLevels(bounds, cum []int, n, minPerLevel int) []int {
	for len(bounds) > 0 {
		sizes := levelSizes(bounds, cum, n)
		smallest := 0
		for i, sz := range sizes {
			if sz < sizes[smallest] {
				smallest = i
			}
		}
		if sizes[smallest] >= minPerLevel {
			break
		}
		// Remove the boundary that joins the small level to its smaller
		// neighbour, so the merged level stays as balanced as possible.
		var drop int
		switch {
		case smallest == 0:
			drop = 0
		case smallest == len(sizes)-1:
			drop = len(bounds) - 1
		case sizes[smallest-1] <= sizes[smallest+1]:
			drop = smallest - 1
		default:
			drop = smallest
		}
		bounds = append(bounds[:drop], bounds[drop+1:]...)
	}
	return bounds
}

func levelSizes(bounds, cum []int, n int) []int {
	sizes := make([]int, 0, len(bounds)+1)
	prev := 0
	for _, b := range bounds {
		sizes = append(sizes, cum[b]-prev)
		prev = cum[b]
	}
	return append(sizes, n-prev)
}

func levelReason(levels, maxLevels, target int, blocks []valueBlock, n, minPerLevel int, what string, format func(float64) string) string {
	var why []string
	if len(blocks) < maxLevels {
		why = append(why, fmt.Sprintf("only %d distinct values of %s", len(blocks), what))
	}
	if n/minPerLevel < maxLevels {
		why = append(why, fmt.Sprintf("small shop: %d customers, at least %d per level", n, minPerLevel))
	}
	if levels < target || len(why) == 0 && levels < maxLevels {
		largest := blocks[0]
		for _, b := range blocks {
			if b.count > largest.count {
				largest = b
			}
		}
		why = append(why, fmt.Sprintf("ties: %.0f%% of customers share the %s %s", 100*float64(largest.count)/float64(n), what, format(largest.value)))
	}
	if len(why) == 0 {
		return fmt.Sprintf("%d levels: quantiles of %d customers, ties kept together", levels, n)
	}
	return fmt.Sprintf("%d levels: %s", levels, strings.Join(why, "; "))
}

func formatCount(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) }

func formatMoney(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

// recencyScale anchors recency on the shop's own cadence: the inactivity
// horizon H is split into quarters, so R5 means "bought within half a
// typical gap", R4 "within one gap", R3 and R2 "overdue but still
// active", and R1 "inactive". Quantile cuts would call the most recent
// fifth "recent" even in a shop where nobody has bought for a year.
func recencyScale(cad Cadence) Scale {
	h := cad.HorizonDays
	s := Scale{Levels: 5, Descending: true, Cuts: []float64{h / 4, h / 2, 3 * h / 4, h}}
	source := fmt.Sprintf("average %.1f days between orders over %d repeat customers", cad.AvgDaysBetweenOrders, cad.RepeatCustomers)
	if cad.Fallback {
		source = fmt.Sprintf("no repeat customers yet, assumed %.0f days between orders", cad.AvgDaysBetweenOrders)
	}
	s.Reason = fmt.Sprintf("5 levels anchored on the shop's cadence (%s): inactive after %.0f days; cuts at %.0f/%.0f/%.0f/%.0f days",
		source, h, h/4, h/2, 3*h/4, h)
	return s
}
