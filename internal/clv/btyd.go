package clv

import (
	"math"
)

// ModelKind names a purchase model.
type ModelKind string

// The purchase models.
const (
	ModelMBGNBD    ModelKind = "mbgnbd"
	ModelBGNBD     ModelKind = "bgnbd"
	ModelEmpirical ModelKind = "empirical"
)

// PurchaseModel predicts a customer's future transactions from (x, t_x, T).
// Times are in the unit the model was fitted in. Every method returns a
// finite, non-negative value for any finite input with 0 ≤ t_x ≤ T.
type PurchaseModel interface {
	Kind() ModelKind
	// PAlive is the probability that the customer is still active at T.
	PAlive(x int, tx, T float64) float64
	// ConditionalExpected is the expected number of transactions in (T, T+t].
	ConditionalExpected(t float64, x int, tx, T float64) float64
	// Expected is E[X(t)], the expected number of repeat transactions of a
	// new customer in the first t after the first purchase.
	Expected(t float64) float64
	// ProbPurchaseWithin is P(at least one transaction in (T, T+t]).
	ProbPurchaseWithin(t float64, x int, tx, T float64) float64
	// TimeToPurchase is the t at which ProbPurchaseWithin reaches q, and
	// false when it never does (the customer is too unlikely to be active).
	TimeToPurchase(q float64, x int, tx, T float64) (float64, bool)
}

// BGNBD holds the parameters of the BG/NBD model (Fader, Hardie & Lee
// 2005): purchase rate λ ~ Gamma(R, Alpha) (Alpha in the fitting unit),
// after every repeat purchase the customer drops out with p ~ Beta(A, B).
type BGNBD struct{ R, Alpha, A, B float64 }

// MBGNBD holds the parameters of the modified BG/NBD (Batislam, Denizel &
// Filiztekin 2007; Hoppe & Wagner 2007): like BG/NBD but a customer can
// also drop out right after the first purchase, so P(alive) < 1 for
// one-time buyers.
type MBGNBD struct{ R, Alpha, A, B float64 }

// bgFamily is the arithmetic both models share: shift is 0 for BG/NBD and
// 1 for MBG/NBD, where the first purchase is one more dropout opportunity.
// Given x repeat purchases an alive customer has survived x+shift of them,
// so p | alive ~ Beta(a, b+x+shift).
type bgFamily struct {
	r, alpha, a, b float64
	shift          float64
}

func (m BGNBD) family() bgFamily  { return bgFamily{m.R, m.Alpha, m.A, m.B, 0} }
func (m MBGNBD) family() bgFamily { return bgFamily{m.R, m.Alpha, m.A, m.B, 1} }

// Kind implements PurchaseModel.
func (BGNBD) Kind() ModelKind { return ModelBGNBD }

// Kind implements PurchaseModel.
func (MBGNBD) Kind() ModelKind { return ModelMBGNBD }

// PAlive implements PurchaseModel.
func (m BGNBD) PAlive(x int, tx, T float64) float64 { return m.family().pAlive(x, tx, T) }

// PAlive implements PurchaseModel.
func (m MBGNBD) PAlive(x int, tx, T float64) float64 {
	return m.family().pAlive(x, tx, T)
}

// ConditionalExpected implements PurchaseModel.
func (m BGNBD) ConditionalExpected(t float64, x int, tx, T float64) float64 {
	return m.family().conditionalExpected(t, x, tx, T)
}

// ConditionalExpected implements PurchaseModel.
func (m MBGNBD) ConditionalExpected(t float64, x int, tx, T float64) float64 {
	return m.family().conditionalExpected(t, x, tx, T)
}

// Expected implements PurchaseModel.
func (m BGNBD) Expected(t float64) float64 { return m.family().expected(t) }

// Expected implements PurchaseModel.
func (m MBGNBD) Expected(t float64) float64 { return m.family().expected(t) }

// ProbPurchaseWithin implements PurchaseModel.
func (m BGNBD) ProbPurchaseWithin(t float64, x int, tx, T float64) float64 {
	return m.family().probPurchaseWithin(t, x, tx, T)
}

// ProbPurchaseWithin implements PurchaseModel.
func (m MBGNBD) ProbPurchaseWithin(t float64, x int, tx, T float64) float64 {
	return m.family().probPurchaseWithin(t, x, tx, T)
}

// TimeToPurchase implements PurchaseModel.
func (m BGNBD) TimeToPurchase(q float64, x int, tx, T float64) (float64, bool) {
	return m.family().timeToPurchase(q, x, tx, T)
}

// TimeToPurchase implements PurchaseModel.
func (m MBGNBD) TimeToPurchase(q float64, x int, tx, T float64) (float64, bool) {
	return m.family().timeToPurchase(q, x, tx, T)
}

// LogLikelihood is the sum of the individual log-likelihoods.
func (m BGNBD) LogLikelihood(data []Triple) float64 {
	return m.family().logLikelihood(prepare(data), nil)
}

// LogLikelihood is the sum of the individual log-likelihoods.
func (m MBGNBD) LogLikelihood(data []Triple) float64 {
	return m.family().logLikelihood(prepare(data), nil)
}

func (m bgFamily) valid() bool {
	return m.r > 0 && m.alpha > 0 && m.a > 0 && m.b > 0 &&
		isFinite(m.r) && isFinite(m.alpha) && isFinite(m.a) && isFinite(m.b)
}

// sanitize maps inputs into the model's domain: negative counts and times
// become 0, t_x is capped at T and is 0 without repeat purchases.
func sanitize(x int, tx, T float64) (float64, float64, float64) {
	if x < 0 {
		x = 0
	}
	if !(T > 0) || math.IsInf(T, 1) {
		if math.IsInf(T, 1) {
			T = math.MaxFloat64 / 4
		} else {
			T = 0
		}
	}
	if !(tx > 0) || x == 0 {
		tx = 0
	}
	if tx > T {
		tx = T
	}
	return float64(x), tx, T
}

// logOddsDead is log(P(dead)/P(alive)); dead is impossible for a BG/NBD
// customer without repeat purchases.
func (m bgFamily) logOddsDead(x, tx, T float64) (float64, bool) {
	if x == 0 && m.shift == 0 {
		return math.Inf(-1), false
	}
	return math.Log(m.a) - math.Log(m.b+x+m.shift-1) +
		(m.r+x)*(math.Log(m.alpha+T)-math.Log(m.alpha+tx)), true
}

func (m bgFamily) pAlive(xi int, tx, T float64) float64 {
	if !m.valid() {
		return 0
	}
	x, tx, T := sanitize(xi, tx, T)
	l, ok := m.logOddsDead(x, tx, T)
	if !ok {
		return 1
	}
	return clamp01(1 / (1 + math.Exp(l)))
}

func (m bgFamily) conditionalExpected(t float64, xi int, tx, T float64) float64 {
	if !m.valid() || !(t > 0) {
		return 0
	}
	return m.conditionalExpectedAlive(m.pAlive(xi, tx, T), t, xi, tx, T)
}

// conditionalExpectedAlive is conditionalExpected given pa = pAlive(x,
// t_x, T) of a valid model and t > 0: a forecast over several horizons
// computes P(alive) once instead of once a horizon.
func (m bgFamily) conditionalExpectedAlive(pa, t float64, xi int, tx, T float64) float64 {
	x, _, T := sanitize(xi, tx, T)
	if pa == 0 {
		return 0
	}
	return nonNegative(pa * expectedDraws(m.r+x, m.a, m.b+x+m.shift, t/(m.alpha+T)))
}

// expected is E[X(t)]: E over p ~ Beta(a,b) of (1/p)(1-(α/(α+pt))^r) for
// BG/NBD; under MBG/NBD a customer dropping at time 0 (probability p)
// contributes nothing, which weights by (1-p): b/(a+b) E_{Beta(a,b+1)}[...].
func (m bgFamily) expected(t float64) float64 {
	if !m.valid() || !(t > 0) {
		return 0
	}
	v := expectedDraws(m.r, m.a, m.b+m.shift, t/m.alpha)
	if m.shift == 1 {
		v *= m.b / (m.a + m.b)
	}
	return nonNegative(v)
}

// probPurchaseWithin: an active customer at T does not drop out before the
// next purchase (dropout happens only right after purchases), and given
// activity λ ~ Gamma(r+x, α+T), so P(no purchase in t) = ((α+T)/(α+T+t))^(r+x).
func (m bgFamily) probPurchaseWithin(t float64, xi int, tx, T float64) float64 {
	if !m.valid() || !(t > 0) {
		return 0
	}
	return m.probPurchaseWithinAlive(m.pAlive(xi, tx, T), t, xi, tx, T)
}

// probPurchaseWithinAlive is probPurchaseWithin given pa, as
// conditionalExpectedAlive.
func (m bgFamily) probPurchaseWithinAlive(pa, t float64, xi int, tx, T float64) float64 {
	x, _, T := sanitize(xi, tx, T)
	return clamp01(pa * -math.Expm1(-(m.r+x)*math.Log1p(t/(m.alpha+T))))
}

// maxWaitUnits caps TimeToPurchase: beyond it the answer is "never" in any
// business sense, and it keeps date arithmetic away from overflow.
const maxWaitUnits = 1e6

func (m bgFamily) timeToPurchase(q float64, xi int, tx, T float64) (float64, bool) {
	if !m.valid() || !(q > 0 && q < 1) {
		return 0, false
	}
	return m.timeToPurchaseAlive(m.pAlive(xi, tx, T), q, xi, tx, T)
}

// timeToPurchaseAlive is timeToPurchase given pa, as
// conditionalExpectedAlive.
func (m bgFamily) timeToPurchaseAlive(pa, q float64, xi int, tx, T float64) (float64, bool) {
	x, _, T := sanitize(xi, tx, T)
	if pa <= q {
		return 0, false
	}
	// ((α+T)/(α+T+t))^(r+x) = 1 - q/pa
	k := -math.Log1p(-q/pa) / (m.r + x)
	t := (m.alpha + T) * math.Expm1(k)
	if !isFinite(t) || t > maxWaitUnits {
		return 0, false
	}
	return math.Max(t, 0), true
}

// expectedDraws is E over p ~ Beta(a, B) of (1 - (1+p·u)^-A) / p: the
// expected number of transactions of an active customer with activity
// λ ~ Gamma(A, β) over a horizon t = u·β, with dropout probability p after
// each of them. In closed form it is c/(a-1) (1 - 2F1(A, a-1; c; -u)),
// c = a+B-1, which has removable singularities at a = 1 and c = 0.
func expectedDraws(A, a, B, u float64) float64 {
	if !(u > 0) {
		return 0
	}
	c := a + B - 1
	if u <= 0.5 {
		// With many purchases and a large a the alternating terms can dwarf
		// their sum; then the transformed form, whose series has terms of
		// one sign, is the accurate one.
		if v, growth := drawsSeries(A, a, c, u); growth < 1e3 {
			return v
		}
	}
	const delta = 1e-5
	switch {
	case math.Abs(a-1) < delta:
		lo := drawsPfaff(A, 1-delta, B, u)
		hi := drawsPfaff(A, 1+delta, B, u)
		return lo + (hi-lo)*(a-(1-delta))/(2*delta)
	case math.Abs(c) < delta:
		// Move a (and with it c) across c = 0.
		lo := drawsPfaff(A, a-c-delta, B, u)
		hi := drawsPfaff(A, a-c+delta, B, u)
		return lo + (hi-lo)*(c+delta)/(2*delta)
	}
	return drawsPfaff(A, a, B, u)
}

// drawsSeries sums c/(a-1) (1 - 2F1(A, a-1; c; w)), w = -u, termwise with
// the factors (a-1) and c cancelled analytically:
//
//	-Σ_{n≥1} (A)_n (a)_{n-1} / ((c+1)_{n-1} n!) w^n
//
// so it has no singularity at a = 1 or c = 0, and no cancellation against
// the leading 1. It converges geometrically for u ≤ 1/2. growth is the
// largest term over the sum: the digits lost to the alternating signs.
func drawsSeries(A, a, c, u float64) (sum, growth float64) {
	w := -u
	term := A * w
	sum = term
	largest := math.Abs(term)
	// A, a > 0 and c > -1, so for n ≥ 1 no factor changes sign: the terms
	// alternate, and once their ratio is below 1 the next term bounds the
	// remaining tail.
	for n := 1; n < hypMaxTerms; n++ {
		fn := float64(n)
		ratio := (A + fn) * (a + fn - 1) / ((c + fn) * (fn + 1)) * w
		term *= ratio
		sum += term
		largest = math.Max(largest, math.Abs(term))
		if term == 0 || (math.Abs(ratio) < 1 && math.Abs(term) <= hypTol*math.Abs(sum)) {
			break
		}
	}
	if sum == 0 {
		return 0, math.Inf(1)
	}
	return -sum, largest / math.Abs(sum)
}

// drawsPfaff evaluates the closed form for u > 1/2 through Pfaff's and
// then Euler's transformation,
//
//	2F1(A, a-1; c; -u) = (1+u)^-A 2F1(A, B; c; z)
//	                   = (1+u)^(1-a) 2F1(c-A, a-1; c; z),   z = u/(1+u),
//
// the last form because its parameters c-A = a+b+s-1-r and a-1 do not grow
// with x: the middle form overflows for customers with many purchases.
func drawsPfaff(A, a, B, u float64) float64 {
	c := a + B - 1
	g := math.Exp((1-a)*math.Log1p(u)) * hyp2f1(c-A, a-1, c, u/(1+u))
	return c / (a - 1) * (1 - g)
}
