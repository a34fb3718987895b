package clv

import (
	"math"
)

// The Gaussian hypergeometric function 2F1(a,b;c;z) for real parameters and
// real z < 1, the only region the BTYD expectations need. The power series
// is used where it converges fast (-1/2 ≤ z ≤ 3/4); z < -1/2 is first mapped
// into (1/3, 1) by the Pfaff transformation; z > 3/4 goes through the
// connection formula in 1-z (Abramowitz & Stegun 15.3.6), whose degenerate
// case c-a-b = m ∈ ℤ uses the logarithmic series of A&S 15.3.10/15.3.11
// and whose near-degenerate case is interpolated from both sides (the plain
// formula loses digits to cancellation as c-a-b approaches an integer).

const (
	hypTol      = 1e-16
	hypMaxTerms = 100000
	// Within this distance of an integer c-a-b the connection formula's
	// cancellation costs more than interpolation: at ±hypNearInt it loses
	// about 4 digits, and quadratic interpolation errs by O(hypNearInt³).
	hypNearInt = 1e-4
	// Series budget near z = 1: enough for z ≲ 0.985 with moderate
	// parameters.
	hypNearOneTerms = 2500
)

// hyp2f1 returns 2F1(a,b;c;z), or NaN outside z < 1 and where c is a pole.
func hyp2f1(a, b, c, z float64) float64 {
	switch {
	case math.IsNaN(a) || math.IsNaN(b) || math.IsNaN(c) || math.IsNaN(z) || z >= 1:
		return math.NaN()
	case z == 0 || a == 0 || b == 0:
		return 1
	case isNonPositiveInt(a) || isNonPositiveInt(b):
		// A polynomial: the series terminates, whatever z is.
		v, _ := hypSeries(a, b, c, z, hypMaxTerms)
		return v
	case isNonPositiveInt(c):
		return math.NaN()
	case z < -0.5:
		// Pfaff: 2F1(a,b;c;z) = (1-z)^-a 2F1(a,c-b;c;z/(z-1)); choose the
		// variant whose series terminates, if any.
		w := z / (z - 1)
		if isNonPositiveInt(c-a) && !isNonPositiveInt(c-b) {
			return math.Exp(-b*math.Log1p(-z)) * hyp2f1(c-a, b, c, w)
		}
		return math.Exp(-a*math.Log1p(-z)) * hyp2f1(a, c-b, c, w)
	case z <= 0.75:
		v, _ := hypSeries(a, b, c, z, hypMaxTerms)
		return v
	}
	// Near 1 the connection formula cancels badly when the parameters are
	// large, while the series, slow as it is, loses nothing; so the series
	// is tried first with a bounded budget and the connection formula only
	// serves z so close to 1 that the budget runs out, where one of its two
	// terms dominates.
	budget := hypNearOneTerms + 4*int(math.Abs(a)+math.Abs(b)+math.Abs(c))
	if v, ok := hypSeries(a, b, c, z, budget); ok {
		return v
	}
	return hypNearOne(a, b, c, z)
}

// hypSeries sums the defining power series. It stops once the remaining
// tail, bounded by the current term and term ratio, is below the tolerance
// and the index is past every parameter (before that a factor a+n can
// still change sign or vanish, so a small term proves nothing).
func hypSeries(a, b, c, z float64, maxTerms int) (float64, bool) {
	sum, term := 1.0, 1.0
	past := math.Max(math.Abs(a), math.Max(math.Abs(b), math.Abs(c)))
	for n := 0; n < maxTerms; n++ {
		fn := float64(n)
		ratio := (a + fn) * (b + fn) / ((c + fn) * (fn + 1)) * z
		term *= ratio
		sum += term
		if term == 0 {
			return sum, true
		}
		if fn+1 > past {
			q := math.Abs((a + fn + 1) * (b + fn + 1) / ((c + fn + 1) * (fn + 2)) * z)
			if q < 1 && math.Abs(term)*q/(1-q) <= hypTol*math.Abs(sum) {
				return sum, true
			}
		}
		if math.IsInf(sum, 0) || math.IsNaN(sum) {
			return sum, false
		}
	}
	return sum, false
}

// hypNearOne evaluates 3/4 < z < 1 through the 1-z connection formulas.
func hypNearOne(a, b, c, z float64) float64 {
	s := c - a - b
	m := math.Round(s)
	eps := s - m
	switch {
	case eps == 0:
		return hypIntegerGap(a, b, c, z, int(m))
	case math.Abs(eps) < hypNearInt:
		// Quadratic through c0-h, c0 (exact integer case) and c0+h, where
		// c0 = a+b+m; the function is analytic in c there.
		h := hypNearInt
		c0 := a + b + m
		fm := hypConnection(a, b, c0-h, z)
		f0 := hypIntegerGap(a, b, c0, z, int(m))
		fp := hypConnection(a, b, c0+h, z)
		d1 := (fp - fm) / (2 * h)
		d2 := (fp - 2*f0 + fm) / (h * h)
		return f0 + eps*d1 + eps*eps*d2/2
	}
	return hypConnection(a, b, c, z)
}

// logGammaRatio returns log|Π Γ(num)/Π Γ(den)| and its sign; zero reports a
// pole in the denominator (the ratio is then exactly 0).
func logGammaRatio(num, den []float64) (logAbs float64, sign float64, zero bool) {
	sign = 1
	for _, d := range den {
		if isNonPositiveInt(d) {
			return 0, 0, true
		}
		l, s := math.Lgamma(d)
		logAbs -= l
		sign *= float64(s)
	}
	for _, n := range num {
		l, s := math.Lgamma(n)
		logAbs += l
		sign *= float64(s)
	}
	return logAbs, sign, false
}

// hypConnection is A&S 15.3.6, valid for non-integer c-a-b:
//
//	F(a,b;c;z) = Γ(c)Γ(c-a-b)/(Γ(c-a)Γ(c-b)) F(a,b;a+b-c+1;1-z)
//	           + (1-z)^(c-a-b) Γ(c)Γ(a+b-c)/(Γ(a)Γ(b)) F(c-a,c-b;c-a-b+1;1-z)
func hypConnection(a, b, c, z float64) float64 {
	y := 1 - z
	s := c - a - b
	var total float64
	if l, sg, zero := logGammaRatio([]float64{c, s}, []float64{c - a, c - b}); !zero {
		f, _ := hypSeries(a, b, 1-s, y, hypMaxTerms)
		total += sg * math.Exp(l) * f
	}
	if l, sg, zero := logGammaRatio([]float64{c, -s}, []float64{a, b}); !zero {
		f, _ := hypSeries(c-a, c-b, 1+s, y, hypMaxTerms)
		total += sg * math.Exp(l+s*math.Log(y)) * f
	}
	return total
}

// hypIntegerGap handles c = a+b+m with integer m (A&S 15.3.10, 15.3.11);
// negative m is first turned positive by Euler's transformation
// F(a,b;c;z) = (1-z)^(c-a-b) F(c-a,c-b;c;z).
func hypIntegerGap(a, b, c, z float64, m int) float64 {
	y := 1 - z
	if m < 0 {
		return math.Exp(float64(m)*math.Log(y)) * hypIntegerGap(c-a, c-b, c, z, -m)
	}
	fm := float64(m)
	ly := math.Log(y)
	var finite float64
	if m > 0 {
		// Γ(m)Γ(c)/(Γ(a+m)Γ(b+m)) Σ_{n<m} (a)_n (b)_n / (n! (1-m)_n) y^n
		if l, sg, zero := logGammaRatio([]float64{fm, c}, []float64{a + fm, b + fm}); !zero {
			sum, term := 1.0, 1.0
			for n := 0; n < m-1; n++ {
				fn := float64(n)
				term *= (a + fn) * (b + fn) / ((fn + 1) * (1 - fm + fn)) * y
				sum += term
			}
			finite = sg * math.Exp(l) * sum
		}
	}
	l, sg, zero := logGammaRatio([]float64{c}, []float64{a, b})
	if zero {
		return finite
	}
	// Σ (a+m)_n (b+m)_n / (n! (n+m)!) y^n [ln y - ψ(n+1) - ψ(n+m+1) + ψ(a+n+m) + ψ(b+n+m)]
	psi1 := -eulerGamma
	psiM := -eulerGamma
	for k := 1; k <= m; k++ {
		psiM += 1 / float64(k)
	}
	psiA := digamma(a + fm)
	psiB := digamma(b + fm)
	term := math.Exp(-lgamma(fm + 1)) // 1/m!
	var sum float64
	past := math.Max(math.Abs(a), math.Abs(b)) + fm
	for n := 0; n < hypMaxTerms; n++ {
		fn := float64(n)
		piece := term * (ly - psi1 - psiM + psiA + psiB)
		sum += piece
		if fn > past && math.Abs(piece) <= hypTol*math.Abs(sum) && math.Abs(term) <= hypTol*math.Abs(sum) {
			break
		}
		term *= (a + fm + fn) * (b + fm + fn) / ((fn + 1) * (fn + fm + 1)) * y
		psi1 += 1 / (fn + 1)
		psiM += 1 / (fn + fm + 1)
		psiA += 1 / (a + fm + fn)
		psiB += 1 / (b + fm + fn)
	}
	// (z-1)^m = (-1)^m y^m
	signM := 1.0
	if m%2 == 1 {
		signM = -1
	}
	return finite - signM*sg*math.Exp(l+fm*ly)*sum
}

const eulerGamma = 0.57721566490153286060651209008240243104215933593992
