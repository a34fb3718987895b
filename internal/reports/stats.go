package reports

import (
	"math"
	"slices"
	"sort"
)

// twoProportionTest compares x1/n1 with x2/n2 under the pooled normal
// approximation and returns the two-sided p-value. ok is false when the
// approximation is not trustworthy: a sample below minN, or fewer than 5
// expected successes or failures in either sample.
func twoProportionTest(x1, n1, x2, n2, minN int) (z, p float64, ok bool) {
	if n1 < minN || n2 < minN || n1 == 0 || n2 == 0 {
		return 0, 1, false
	}
	pooled := float64(x1+x2) / float64(n1+n2)
	for _, n := range []int{n1, n2} {
		if pooled*float64(n) < 5 || (1-pooled)*float64(n) < 5 {
			return 0, 1, false
		}
	}
	se := math.Sqrt(pooled * (1 - pooled) * (1/float64(n1) + 1/float64(n2)))
	z = (float64(x1)/float64(n1) - float64(x2)/float64(n2)) / se
	return z, math.Erfc(math.Abs(z) / math.Sqrt2), true
}

// benjaminiHochberg returns the adjusted p-values (q-values) of a family
// of tests, in the input order. Comparing q with a level α controls the
// expected share of false discoveries among the flagged results at α.
func benjaminiHochberg(p []float64) []float64 {
	m := len(p)
	order := make([]int, m)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return p[order[a]] < p[order[b]] })
	q := make([]float64, m)
	running := 1.0
	for rank := m; rank >= 1; rank-- {
		i := order[rank-1]
		running = math.Min(running, p[i]*float64(m)/float64(rank))
		q[i] = running
	}
	return q
}

// median of a copy of values; NaN for none.
func median(values []float64) float64 {
	if len(values) == 0 {
		return math.NaN()
	}
	s := slices.Clone(values)
	slices.Sort(s)
	mid := len(s) / 2
	if len(s)%2 == 1 {
		return s[mid]
	}
	return (s[mid-1] + s[mid]) / 2
}

// robustZ scores x against a reference sample: (x − median) divided by
// the MAD scaled to a normal standard deviation. When the MAD is zero
// (more than half the sample identical) the mean absolute deviation
// stands in; when that is zero too, any change is reported as ±maxZ.
func robustZ(x float64, reference []float64) (z, center float64) {
	center = median(reference)
	dev := make([]float64, len(reference))
	var sumAbs float64
	for i, v := range reference {
		dev[i] = math.Abs(v - center)
		sumAbs += dev[i]
	}
	scale := 1.4826 * median(dev)
	if scale == 0 {
		scale = 1.2533 * sumAbs / float64(len(reference))
	}
	switch {
	case scale > 0:
		z = (x - center) / scale
	case x > center:
		z = maxZ
	case x < center:
		z = -maxZ
	}
	return math.Max(-maxZ, math.Min(maxZ, z)), center
}

// maxZ caps reported scores so that JSON never sees an infinity.
const maxZ = 99
