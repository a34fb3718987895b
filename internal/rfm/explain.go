package rfm

import (
	"fmt"
	"strconv"
)

// Dimension names one of the three scores.
type Dimension string

// The three scores.
const (
	Recency   Dimension = "r"
	Frequency Dimension = "f"
	Monetary  Dimension = "m"
)

// Explain says in a merchant's words why a customer's value got its score
// on this scale, with the shop's cut-offs: "R 5: last order 12 days ago,
// within the most recent 20% (R 5 is 0–14 days)". value is whole days
// since the last purchase for R, purchases for F, the average order value
// for M; money is formatted by the caller's formatter.
func (s Scale) Explain(dim Dimension, value float64, score int, money func(float64) string) string {
	if money == nil {
		money = formatMoney
	}
	label := fmt.Sprintf("%s %d", map[Dimension]string{Recency: "R", Frequency: "F", Monetary: "M"}[dim], score)
	if s.Levels <= 1 {
		switch dim {
		case Recency:
			return fmt.Sprintf("%s: last order %s; every customer last bought on the same day, so R has one level", label, sinceText(value))
		case Frequency:
			return fmt.Sprintf("%s: %s; every customer has the same number of orders, so F has one level", label, orders(value))
		}
		return fmt.Sprintf("%s: average order %s; every customer has the same average order, so M has one level", label, money(value))
	}
	top := ""
	if score >= 1 && score <= len(s.Shares) {
		// The lowest level reads from the bottom; the others say how far
		// from the top the customer is.
		share, end := 0.0, "top"
		if score == 1 {
			share, end = s.Shares[0], "bottom"
		} else {
			for _, sh := range s.Shares[score-1:] {
				share += sh
			}
		}
		pct := strconv.FormatFloat(100*share, 'f', 0, 64) + "%"
		switch {
		case dim == Recency && end == "top":
			top = ", within the most recent " + pct
		case dim == Recency:
			top = ", within the least recent " + pct
		case dim == Frequency:
			top = ", within the " + end + " " + pct + " by number of orders"
		default:
			top = ", within the " + end + " " + pct + " by average order"
		}
	}
	var what, band string
	switch dim {
	case Recency:
		what = "last order " + sinceText(value)
		band = s.recencyBand(score)
	case Frequency:
		what = orders(value)
		band = s.ascendingBand(score, func(v float64) string { return formatCount(v) }, " orders", true)
	default:
		what = "average order " + money(value)
		band = s.ascendingBand(score, money, "", false)
	}
	return fmt.Sprintf("%s: %s%s (%s is %s)", label, what, top, label, band)
}

func sinceText(d float64) string {
	switch d {
	case 0:
		return "today"
	case 1:
		return "1 day ago"
	}
	return formatCount(d) + " days ago"
}

func orders(n float64) string {
	if n == 1 {
		return "1 order"
	}
	return formatCount(n) + " orders"
}

// recencyBand is the range of whole days a descending score covers:
// Cuts[i] is the last day that scores Levels−i.
func (s Scale) recencyBand(score int) string {
	i := s.Levels - score // index of this score's upper cut
	switch {
	case score >= s.Levels:
		return "0–" + formatCount(s.Cuts[0]) + " days"
	case score <= 1:
		return "more than " + formatCount(s.Cuts[len(s.Cuts)-1]) + " days"
	}
	return formatCount(s.Cuts[i-1]+1) + "–" + formatCount(s.Cuts[i]) + " days"
}

// ascendingBand is the range an ascending score covers: Cuts[i] is the
// lowest value that scores i+2. Whole counts read "2–3 orders"; money
// reads "from 20.00 to under 35.00".
func (s Scale) ascendingBand(score int, format func(float64) string, unit string, whole bool) string {
	switch {
	case score <= 1:
		if whole && s.Cuts[0]-1 <= 1 {
			return orders(s.Cuts[0] - 1)
		}
		if whole {
			return "1–" + format(s.Cuts[0]-1) + unit
		}
		return "under " + format(s.Cuts[0]) + unit
	case score >= s.Levels:
		return format(s.Cuts[len(s.Cuts)-1]) + unit + " or more"
	}
	lo, hi := s.Cuts[score-2], s.Cuts[score-1]
	if whole {
		if hi-1 == lo {
			return format(lo) + unit
		}
		return format(lo) + "–" + format(hi-1) + unit
	}
	return "from " + format(lo) + " to under " + format(hi) + unit
}
