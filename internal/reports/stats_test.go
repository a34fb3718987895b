package reports

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestTwoProportionTest(t *testing.T) {
	// 60/100 vs 40/100: pooled 0.5, se = sqrt(0.25 × 0.02), z = 2√2,
	// p = erfc(2) = 0.004678.
	z, p, ok := twoProportionTest(60, 100, 40, 100, 30)
	assert.True(t, ok)
	assert.InDelta(t, 2*math.Sqrt2, z, 1e-12)
	assert.InDelta(t, 0.0046777, p, 1e-7)

	z, _, _ = twoProportionTest(40, 100, 60, 100, 30)
	assert.Less(t, z, 0.0)

	_, p, ok = twoProportionTest(20, 29, 40, 100, 30)
	assert.False(t, ok, "segment below the minimum size")
	assert.Equal(t, 1.0, p)
	_, _, ok = twoProportionTest(2, 100, 1, 100, 30)
	assert.False(t, ok, "too few successes for the normal approximation")
	_, _, ok = twoProportionTest(0, 100, 0, 100, 30)
	assert.False(t, ok)
}

func TestBenjaminiHochberg(t *testing.T) {
	// Sorted: 0.005→0.02, 0.01→0.02, 0.03→0.04, 0.04→0.04, then the
	// running minimum from the top.
	q := benjaminiHochberg([]float64{0.01, 0.04, 0.03, 0.005})
	assert.InDeltaSlice(t, []float64{0.02, 0.04, 0.04, 0.02}, q, 1e-12)
	assert.Empty(t, benjaminiHochberg(nil))
	assert.Equal(t, []float64{1}, benjaminiHochberg([]float64{1}))
}

func TestRobustZ(t *testing.T) {
	// median 100, absolute deviations 0,10,10,0,5,5 → MAD 5.
	z, center := robustZ(300, []float64{100, 110, 90, 100, 105, 95})
	assert.Equal(t, 100.0, center)
	assert.InDelta(t, 200/(1.4826*5), z, 1e-9)

	// MAD 0 (most values equal): the mean absolute deviation stands in.
	z, _ = robustZ(20, []float64{10, 10, 10, 14})
	assert.InDelta(t, 10/(1.2533*1), z, 1e-9)

	z, _ = robustZ(11, []float64{10, 10, 10})
	assert.Equal(t, float64(maxZ), z)
	z, _ = robustZ(9, []float64{10, 10, 10})
	assert.Equal(t, -float64(maxZ), z)
	z, _ = robustZ(10, []float64{10, 10, 10})
	assert.Zero(t, z)
	assert.True(t, math.IsNaN(median(nil)))
	assert.Equal(t, 2.5, median([]float64{4, 1, 3, 2}))
}
