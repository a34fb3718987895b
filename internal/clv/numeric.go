package clv

import (
	"math"

	"github.com/cvo-app/cvo/internal/finite"
)

// The finite-number rules are internal/finite's, shared with scoring;
// short local names keep the formulas readable.
func isFinite(v float64) bool        { return finite.Is(v) }
func finiteOrZero(v float64) float64 { return finite.OrZero(v) }
func clamp01(v float64) float64      { return finite.Clamp01(v) }
func nonNegative(v float64) float64  { return finite.NonNegative(v) }

func lgamma(x float64) float64 {
	v, _ := math.Lgamma(x)
	return v
}

// isNonPositiveInt reports whether x is 0, -1, -2, ... where Γ has poles.
func isNonPositiveInt(x float64) bool {
	return x <= 0 && x == math.Floor(x)
}

// gammaRatio returns Π Γ(num_i) / Π Γ(den_i), evaluated through log-gamma
// with separate sign tracking so that large arguments do not overflow. A
// pole in the denominator makes the ratio 0; callers never put poles in the
// numerator.
func gammaRatio(num, den []float64) float64 {
	logv, sign := 0.0, 1
	for _, d := range den {
		if isNonPositiveInt(d) {
			return 0
		}
		l, s := math.Lgamma(d)
		logv -= l
		sign *= s
	}
	for _, n := range num {
		if isNonPositiveInt(n) {
			return math.Inf(sign)
		}
		l, s := math.Lgamma(n)
		logv += l
		sign *= s
	}
	return float64(sign) * math.Exp(logv)
}

// logSumExp2 returns log(e^u + e^v) and the weight e^u/(e^u+e^v).
func logSumExp2(u, v float64) (float64, float64) {
	if u >= v {
		e := math.Exp(v - u)
		return u + math.Log1p(e), 1 / (1 + e)
	}
	e := math.Exp(u - v)
	return v + math.Log1p(e), e / (1 + e)
}

// digamma is ψ(x) = d/dx ln Γ(x) to near machine precision (the asymptotic
// series is carried further than gonum's, whose ~1e-11 error shows up in
// the logarithmic case of 2F1).
func digamma(x float64) float64 {
	switch {
	case math.IsNaN(x) || math.IsInf(x, -1):
		return math.NaN()
	case math.IsInf(x, 1):
		return x
	case isNonPositiveInt(x):
		return math.NaN()
	case x < 0:
		// Reflection: ψ(x) = ψ(1-x) - π/tan(πx).
		return digamma(1-x) - math.Pi/math.Tan(math.Pi*x)
	}
	var acc float64
	for x < 10 {
		acc -= 1 / x
		x++
	}
	inv := 1 / x
	inv2 := inv * inv
	// -Σ B_2k / (2k x^2k), k = 1..7
	series := inv2 * (1.0/12 - inv2*(1.0/120-inv2*(1.0/252-inv2*(1.0/240-inv2*(1.0/132-inv2*(691.0/32760-inv2/12))))))
	return acc + math.Log(x) - 0.5*inv - series
}
