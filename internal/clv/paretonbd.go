package clv

import (
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/optimize"

	"github.com/cvo-app/cvo/internal/parallel"
)

// ModelParetoNBD names the Pareto/NBD purchase model.
const ModelParetoNBD ModelKind = "paretonbd"

// ParetoNBD holds the parameters of the Pareto/NBD model (Schmittlein,
// Morrison & Colombo 1987): while active a customer buys at rate
// λ ~ Gamma(R, Alpha) and stays active for an exponential lifetime of rate
// μ ~ Gamma(S, Beta), independent of λ; rates are per fitting unit.
//
// Unlike the BG/NBD family a customer can drop out at any moment, not only
// right after a purchase, so a long silence lowers P(alive) even for
// customers who bought once.
type ParetoNBD struct{ R, Alpha, S, Beta float64 }

func (m ParetoNBD) valid() bool {
	return m.R > 0 && m.Alpha > 0 && m.S > 0 && m.Beta > 0 &&
		isFinite(m.R) && isFinite(m.Alpha) && isFinite(m.S) && isFinite(m.Beta)
}

// logPowTail is log ∫_lo^∞ (a1+u)^-p1 (a2+u)^-p2 du for a1, a2 > 0, lo ≥ 0
// and p1+p2 > 1. Writing the smaller base as the larger one times 1-z,
// z = |a1-a2|/(max+lo), the integrand is a power series in z whose
// termwise integral is (max+lo)^-(k-1)/(k-1) 2F1(k-1, p; k; z) with
// k = p1+p2 and p the exponent of the smaller base. Euler's transformation
// turns that 2F1 into (1-z)^(1-p) 2F1(1, k-p; k; z), whose terms are
// positive and shrink at least by z each (k-p < k), so it converges fast
// and without cancellation even when p is large, where the plain series
// first grows by orders of magnitude.
func logPowTail(a1, p1, a2, p2, lo float64) float64 {
	if a1 < a2 {
		a1, p1, a2, p2 = a2, p2, a1, p1
	}
	k := p1 + p2
	z := (a1 - a2) / (a1 + lo)
	// log(1-z), exactly: 1-z = (a2+lo)/(a1+lo).
	log1mz := math.Log(a2+lo) - math.Log(a1+lo)
	var logH float64
	if z > 0.9 && k < 100 {
		// Near 1 the series needs thousands of terms; with parameters this
		// small the 1-z connection formulas lose nothing.
		logH = math.Log(hypNearOne(k-1, p2, k, z))
	} else {
		logH = (1-p2)*log1mz + math.Log(eulerSeries(p1, k, z))
	}
	return -(k-1)*math.Log(a1+lo) - math.Log(k-1) + logH
}

// eulerSeries is 2F1(1, b; c; z) for 0 ≤ z < 1 and 0 < b < c: positive
// terms with ratios (b+n)/(c+n) z < z.
func eulerSeries(b, c, z float64) float64 {
	sum, term := 1.0, 1.0
	for n := 0; n < hypMaxTerms; n++ {
		fn := float64(n)
		term *= (b + fn) / (c + fn) * z
		sum += term
		// The remaining terms shrink at least by z each.
		if term <= hypTol*sum*(1-z) {
			break
		}
	}
	return sum
}

// logPowIntegral is log ∫_lo^hi (a1+u)^-p1 (a2+u)^-p2 du, -Inf when hi ≤ lo.
func logPowIntegral(a1, p1, a2, p2, lo, hi float64) float64 {
	if !(hi > lo) {
		return math.Inf(-1)
	}
	l, h := logPowTail(a1, p1, a2, p2, lo), logPowTail(a1, p1, a2, p2, hi)
	d := h - l // < 0
	if !(d < 0) {
		return math.Inf(-1)
	}
	return l + math.Log(-math.Expm1(d))
}

// logLikelihoodParts are, for one customer, log of the two terms of the
// individual likelihood without the common factor Γ(r+x)/Γ(r) α^r β^s:
// alive at T, (α+T)^-(r+x) (β+T)^-s, and dropped out between t_x and T,
// s ∫_{t_x}^T (α+u)^-(r+x) (β+u)^-(s+1) du.
func (m ParetoNBD) logLikelihoodParts(x, tx, T float64) (alive, dead float64) {
	rx := m.R + x
	alive = -rx*math.Log(m.Alpha+T) - m.S*math.Log(m.Beta+T)
	dead = math.Log(m.S) + logPowIntegral(m.Alpha, rx, m.Beta, m.S+1, tx, T)
	return alive, dead
}

// individualLL is one customer's log-likelihood.
func (m ParetoNBD) individualLL(x, tx, T float64) float64 {
	alive, dead := m.logLikelihoodParts(x, tx, T)
	lse, _ := logSumExp2(alive, dead)
	return lgamma(m.R+x) - lgamma(m.R) + m.R*math.Log(m.Alpha) + m.S*math.Log(m.Beta) + lse
}

// LogLikelihood is the sum of the individual log-likelihoods.
func (m ParetoNBD) LogLikelihood(data []Triple) float64 {
	var ll float64
	for _, d := range data {
		x, tx, T := sanitize(d.X, d.Tx, d.T)
		ll += float64(d.Count) * m.individualLL(x, tx, T)
	}
	return ll
}

// Kind names the model.
func (ParetoNBD) Kind() ModelKind { return ModelParetoNBD }

// PAlive is the probability that the customer is still active at T.
func (m ParetoNBD) PAlive(xi int, tx, T float64) float64 {
	if !m.valid() {
		return 0
	}
	x, tx, T := sanitize(xi, tx, T)
	alive, dead := m.logLikelihoodParts(x, tx, T)
	if math.IsInf(dead, -1) {
		return 1
	}
	return clamp01(1 / (1 + math.Exp(dead-alive)))
}

// ProbPurchaseWithin is P(at least one transaction in (T, T+t]). Given
// activity at T, λ ~ Gamma(r+x, α+T) and μ ~ Gamma(s, β+T) (exponential
// lifetimes are memoryless); a customer with rates λ, μ buys before
// dropping out and within t with probability λ ∫_0^t e^-(λ+μ)u du, whose
// expectation over both rates is
//
//	(r+x) (α+T)^(r+x) (β+T)^s ∫_0^t (α+T+u)^-(r+x+1) (β+T+u)^-s du.
func (m ParetoNBD) ProbPurchaseWithin(t float64, xi int, tx, T float64) float64 {
	if !m.valid() || !(t > 0) {
		return 0
	}
	x, _, T := sanitize(xi, tx, T)
	pa := m.PAlive(xi, tx, T)
	if pa == 0 {
		return 0
	}
	rx := m.R + x
	A, B := m.Alpha+T, m.Beta+T
	l := math.Log(rx) + rx*math.Log(A) + m.S*math.Log(B) + logPowIntegral(A, rx+1, B, m.S, 0, t)
	return clamp01(pa * math.Exp(l))
}

// ConditionalExpected is the expected number of transactions in (T, T+t]:
// P(alive) (r+x)(β+T) / ((α+T)(s-1)) (1 - ((β+T)/(β+T+t))^(s-1)), with the
// limit (r+x)(β+T)/(α+T) log(1+t/(β+T)) at s = 1.
func (m ParetoNBD) ConditionalExpected(t float64, xi int, tx, T float64) float64 {
	if !m.valid() || !(t > 0) {
		return 0
	}
	x, _, T := sanitize(xi, tx, T)
	pa := m.PAlive(xi, tx, T)
	B := m.Beta + T
	rate := (m.R + x) / (m.Alpha + T)
	l := math.Log1p(t / B)
	var v float64
	if math.Abs(m.S-1) < 1e-9 {
		v = B * l
	} else {
		v = B / (m.S - 1) * -math.Expm1(-(m.S-1)*l)
	}
	return nonNegative(pa * rate * v)
}

// Bounds of the Pareto/NBD search: shapes, and scales relative to the mean
// customer age. A fit that runs into them has diverged.
const (
	paretoMinShape = 1e-3
	paretoMaxShape = 1e3
	paretoMinScale = 1e-3
	paretoMaxScale = 1e2
)

// FitParetoNBD fits Pareto/NBD by maximum likelihood (BFGS on the
// log-parameters with central-difference gradients: each evaluation needs
// two 2F1 per distinct (x, t_x, T), so callers with very many distinct
// triples fit on a sample).
func FitParetoNBD(data []Triple) (ParetoNBD, FitResult, error) {
	if err := validateTriples(data); err != nil {
		return ParetoNBD{}, FitResult{}, fmt.Errorf("%w: %v", ErrInsufficientData, err)
	}
	var n, repeat, sumT float64
	rows := make([]Triple, 0, len(data))
	for _, d := range data {
		if d.Count <= 0 {
			continue
		}
		rows = append(rows, d)
		n += float64(d.Count)
		sumT += float64(d.Count) * d.T
		if d.X > 0 {
			repeat += float64(d.Count)
		}
	}
	res := FitResult{Customers: int(n), Rows: len(rows)}
	switch {
	case n < 2:
		return ParetoNBD{}, res, fmt.Errorf("%w: %d customers", ErrInsufficientData, int(n))
	case repeat == 0:
		return ParetoNBD{}, res, fmt.Errorf("%w: no repeat purchases", ErrInsufficientData)
	case !(sumT > 0):
		return ParetoNBD{}, res, fmt.Errorf("%w: no observation time", ErrInsufficientData)
	}
	meanT := sumT / n
	at := func(th []float64) ParetoNBD {
		return ParetoNBD{math.Exp(th[0]), math.Exp(th[1]), math.Exp(th[2]), math.Exp(th[3])}
	}
	// The search stays inside bounds a usable fit lies well within: where
	// nobody seems to drop out the likelihood climbs towards s → 0 or
	// β → ∞, where every 2F1 sits next to its singularity and costs
	// thousands of terms, to report a divergence in the end anyway.
	lo := []float64{math.Log(paretoMinShape), math.Log(paretoMinScale * meanT), math.Log(paretoMinShape), math.Log(paretoMinScale * meanT)}
	hi := []float64{math.Log(paretoMaxShape), math.Log(paretoMaxScale * meanT), math.Log(paretoMaxShape), math.Log(paretoMaxScale * meanT)}
	atBound := func(th []float64) bool {
		for i := range th {
			if th[i] <= lo[i] || th[i] >= hi[i] {
				return true
			}
		}
		return false
	}
	f := func(th []float64) float64 {
		if atBound(th) {
			return math.Inf(1)
		}
		v := -at(th).LogLikelihood(rows) / n
		if !isFinite(v) {
			return math.Inf(1)
		}
		return v
	}
	const h = 1e-5
	var lastX, lastG []float64
	grad := func(g, th []float64) {
		if lastX != nil && slices.Equal(lastX, th) {
			copy(g, lastG)
			return
		}
		// The eight points are independent: evaluated side by side, each
		// gives the same number it gives alone, and the fit, whose cost
		// does not grow with the shop, takes half the time on two cores.
		parallel.Chunks(len(th), len(th), func(i, _, _ int) {
			p := slices.Clone(th)
			p[i] = th[i] + h
			up := f(p)
			p[i] = th[i] - h
			down := f(p)
			g[i] = (up - down) / (2 * h)
		})
		lastX, lastG = slices.Clone(th), slices.Clone(g)
	}
	settings := &optimize.Settings{
		// Central differences resolve the gradient to about 1e-9, so the
		// threshold sits above that.
		GradientThreshold: 1e-6,
		MajorIterations:   200,
		FuncEvaluations:   2000,
		Converger:         &optimize.FunctionConverge{Absolute: 1e-12, Relative: 1e-12, Iterations: 20},
	}
	start := []float64{0, math.Log(meanT), 0, math.Log(meanT)}
	result, err := optimize.Minimize(optimize.Problem{Func: f, Grad: grad}, start, settings, &optimize.BFGS{})
	if result == nil {
		return ParetoNBD{}, res, fmt.Errorf("%w: %v", ErrNotConverged, err)
	}
	m := at(result.X)
	if atBound(result.X) {
		return m, res, fmt.Errorf("%w: parameters diverged (r=%.3g α=%.3g s=%.3g β=%.3g)", ErrNotConverged, m.R, m.Alpha, m.S, m.Beta)
	}
	g := make([]float64, 4)
	grad(g, result.X)
	res.LogLikelihood = -f(result.X) * n
	res.Iterations = result.MajorIterations
	res.Evaluations = result.FuncEvaluations
	res.Status = result.Status.String()
	res.GradNorm = maxAbs(g)
	if res.GradNorm > 1e-4 || !isFinite(res.LogLikelihood) {
		return m, res, fmt.Errorf("%w: status %s, gradient %.2g (%v)", ErrNotConverged, res.Status, res.GradNorm, err)
	}
	return m, res, nil
}
