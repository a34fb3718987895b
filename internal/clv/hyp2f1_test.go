package clv

import (
	"bufio"
	"errors"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testdata/hyp2f1_golden.csv holds 2F1 values computed with mpmath at 40
// digits. Rows with z < 0 and c well below a+b are excluded from the
// accuracy check: there the true value is many orders of magnitude smaller
// than the series terms (ill-conditioned), a regime BTYD never calls.
func TestHyp2F1AgainstMpmath(t *testing.T) {
	f, err := os.Open("testdata/hyp2f1_golden.csv")
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	checked := 0
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Split(line, ",")
		require.Len(t, fields, 6)
		var v [5]float64
		for i := range v {
			v[i], err = strconv.ParseFloat(fields[i+1], 64)
			if i == 4 && errors.Is(err, strconv.ErrRange) {
				err = nil // beyond float64; skipped below
			}
			require.NoError(t, err, line)
		}
		a, b, c, z, want := v[0], v[1], v[2], v[3], v[4]
		if math.IsInf(want, 0) || (fields[0] == "random" && z < 0) {
			continue
		}
		tol := 1e-9
		if strings.HasPrefix(fields[0], "btyd") {
			tol = 1e-11
		}
		got := hyp2f1(a, b, c, z)
		assert.InEpsilon(t, want, got, tol, "%s 2F1(%v,%v;%v;%v)", fields[0], a, b, c, z)
		checked++
	}
	require.NoError(t, sc.Err())
	assert.Greater(t, checked, 1000)
}

func TestHyp2F1ClosedForms(t *testing.T) {
	zs := []float64{-40, -3, -0.9, -0.3, 0.1, 0.5, 0.74, 0.76, 0.9, 0.99, 0.999, 0.999999}
	forms := []struct {
		name    string
		a, b, c float64
		f       func(z float64) float64
	}{
		// c-a-b = 0: logarithmic case of the connection formula.
		{"1,1;2", 1, 1, 2, func(z float64) float64 { return -math.Log1p(-z) / z }},
		{"1,2;3", 1, 2, 3, func(z float64) float64 { return -2 * (z + math.Log1p(-z)) / (z * z) }},
		// c-a-b = 1.
		{"1,1;3", 1, 1, 3, func(z float64) float64 { return 2 * ((1-z)*math.Log1p(-z) + z) / (z * z) }},
		// c-a-b = -1 and -2: Euler's transformation into the positive case.
		{"1,1;1", 1, 1, 1, func(z float64) float64 { return 1 / (1 - z) }},
		{"2,1;1", 2, 1, 1, func(z float64) float64 { return math.Pow(1-z, -2) }},
		// non-integer gap.
		{"a,b;b", 0.37, 2.5, 2.5, func(z float64) float64 { return math.Pow(1-z, -0.37) }},
		{"terminating", -3, 1.5, 2.25, func(z float64) float64 {
			return 1 - 3*1.5/2.25*z + 3*1.5*2.5/(2.25*3.25)*z*z - 1.5*2.5*3.5/(2.25*3.25*4.25)*z*z*z
		}},
	}
	for _, fm := range forms {
		for _, z := range zs {
			want := fm.f(z)
			got := hyp2f1(fm.a, fm.b, fm.c, z)
			assert.InEpsilon(t, want, got, 1e-11, "%s z=%v", fm.name, z)
		}
	}
	assert.Equal(t, 1.0, hyp2f1(2, 3, 4, 0))
	assert.True(t, math.IsNaN(hyp2f1(1, 1, 2, 1)), "z=1 is outside the supported domain")
	assert.True(t, math.IsNaN(hyp2f1(1, 1, -2, 0.5)), "c at a pole")
}

// Around an integer c-a-b the evaluation switches between the connection
// formula, the interpolated band and the exact logarithmic series; the
// result must be continuous across the switches.
func TestHyp2F1ContinuousAcrossIntegerGap(t *testing.T) {
	a, b, z := 1.7, 2.2, 0.9995
	for _, m := range []float64{-2, 0, 1, 3} {
		var prev float64
		for i, eps := range []float64{-3e-4, -1.0001e-4, -0.9999e-4, -1e-9, 0, 1e-9, 0.9999e-4, 1.0001e-4, 3e-4} {
			got := hyp2f1(a, b, a+b+m+eps, z)
			require.False(t, math.IsNaN(got))
			if i > 0 {
				// 2F1 changes smoothly with c; steps of ≤2e-4 move it by far
				// less than 1%.
				assert.InEpsilon(t, prev, got, 1e-2, "m=%v eps=%v", m, eps)
			}
			prev = got
		}
	}
}
