package finite

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestRules(t *testing.T) {
	inf, nan := math.Inf(1), math.NaN()
	tests := []struct {
		in                         float64
		is                         bool
		orZero, clamp, nonNegative float64
	}{
		{in: 0.5, is: true, orZero: 0.5, clamp: 0.5, nonNegative: 0.5},
		{in: 2, is: true, orZero: 2, clamp: 1, nonNegative: 2},
		{in: -3, is: true, orZero: -3, clamp: 0, nonNegative: 0},
		{in: 0, is: true, orZero: 0, clamp: 0, nonNegative: 0},
		{in: math.MaxFloat64, is: true, orZero: math.MaxFloat64, clamp: 1, nonNegative: math.MaxFloat64},
		{in: inf, is: false, orZero: 0, clamp: 1, nonNegative: 0},
		{in: -inf, is: false, orZero: 0, clamp: 0, nonNegative: 0},
		{in: nan, is: false, orZero: 0, clamp: 0, nonNegative: 0},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.is, Is(tc.in), "Is(%v)", tc.in)
		assert.Equal(t, tc.orZero, OrZero(tc.in), "OrZero(%v)", tc.in)
		assert.Equal(t, tc.clamp, Clamp01(tc.in), "Clamp01(%v)", tc.in)
		assert.Equal(t, tc.nonNegative, NonNegative(tc.in), "NonNegative(%v)", tc.in)
	}
}
