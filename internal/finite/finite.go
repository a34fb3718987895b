// Package finite holds the rules for numbers that must stay finite on their
// way out of the models: what a NaN, an infinity or a negative becomes. The
// pure packages (clv, scoring) share these rules so a customer's numbers mean
// the same wherever they were computed; the package imports nothing but math.
//
// One rule for everything that is not a finite number: it becomes 0. An
// infinity is not "very large" here: it comes from a model that broke down
// for a customer (a degenerate fit, an overflow), and every consumer of
// these numbers (sums in aggregates, JSON, PostgreSQL numeric columns, value
// tiers) is better served by "no prediction" than by a huge stand-in that
// overflows the next sum.
package finite

import "math"

// Is reports whether v is neither NaN nor an infinity.
func Is(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// OrZero is v when finite, else 0.
func OrZero(v float64) float64 {
	if Is(v) {
		return v
	}
	return 0
}

// Clamp01 is v limited to [0, 1]; NaN is 0, +Inf is 1 (a probability that
// overflowed upward is certain, not unknown).
func Clamp01(v float64) float64 {
	switch {
	case !(v > 0): // also NaN
		return 0
	case v > 1:
		return 1
	}
	return v
}

// NonNegative is v when finite and positive, else 0.
func NonNegative(v float64) float64 {
	if !(v > 0) || math.IsInf(v, 1) {
		return 0
	}
	return v
}
