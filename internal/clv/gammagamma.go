package clv

import (
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/optimize"
)

// SpendModel predicts the average value of a customer's future transactions.
type SpendModel interface {
	Kind() string
	// ExpectedSpend is the expected value of one future transaction given x
	// repeat transactions of mean value monetary.
	ExpectedSpend(x int, monetary float64) float64
}

// GammaGamma holds the parameters of the Gamma-Gamma spend model (Fader,
// Hardie & Lee 2005, "RFM and CLV"): transaction values z ~ Gamma(P, ν)
// with ν ~ Gamma(Q, Gamma) across customers, independent of the purchase
// process. Gamma is in money units.
type GammaGamma struct{ P, Q, Gamma float64 }

// Kind implements SpendModel.
func (GammaGamma) Kind() string { return "gammagamma" }

// PopulationMean is the expected transaction value of a customer about whom
// nothing is known: pγ/(q-1), finite only for q > 1 (fits require it).
func (g GammaGamma) PopulationMean() float64 {
	if !(g.Q > 1) {
		return 0
	}
	return nonNegative(g.P * g.Gamma / (g.Q - 1))
}

// ExpectedSpend is E[Z | x, z̄] = p(γ + x z̄)/(px + q - 1), a weighted mean of
// the population mean and the customer's own mean z̄ with weight
// px/(px+q-1) on the latter. Without repeat purchases it is the population
// mean.
func (g GammaGamma) ExpectedSpend(x int, monetary float64) float64 {
	if !(g.P > 0 && g.Q > 1 && g.Gamma > 0) {
		return 0
	}
	if x <= 0 || !(monetary > 0) || math.IsInf(monetary, 1) {
		if x <= 0 {
			return g.PopulationMean()
		}
		monetary = 0
	}
	fx := float64(x)
	return nonNegative(g.P * (g.Gamma + fx*monetary) / (g.P*fx + g.Q - 1))
}

// spendData holds the customers Gamma-Gamma is fitted on, grouped by x.
type spendData struct {
	xs      []float64 // distinct x
	xWeight []float64
	obsX    []int32   // index into xs per observation
	m       []float64 // mean repeat value per observation
	logM    []float64
	n       float64
	meanM   float64
}

func prepareSpend(customers []Summary) *spendData {
	d := &spendData{}
	idx := map[int]int32{}
	var sum float64
	for _, s := range customers {
		if s.X <= 0 || !(s.Monetary > 0) || !isFinite(s.Monetary) {
			continue
		}
		i, ok := idx[s.X]
		if !ok {
			i = int32(len(d.xs))
			idx[s.X] = i
			d.xs = append(d.xs, float64(s.X))
			d.xWeight = append(d.xWeight, 0)
		}
		d.xWeight[i]++
		d.obsX = append(d.obsX, i)
		d.m = append(d.m, s.Monetary)
		d.logM = append(d.logM, math.Log(s.Monetary))
		sum += s.Monetary
		d.n++
	}
	if d.n > 0 {
		d.meanM = sum / d.n
	}
	return d
}

// LogLikelihood is the Gamma-Gamma log-likelihood of the customers with
// x > 0 and a positive mean repeat value; z̄ | ν ~ Gamma(px, νx), so
//
//	LL_i = ln Γ(px+q) - ln Γ(px) - ln Γ(q) + q ln γ + (px-1) ln z̄ + px ln x
//	       - (px+q) ln(γ + x z̄)
func (g GammaGamma) LogLikelihood(customers []Summary) float64 {
	return g.logLikelihood(prepareSpend(customers), nil)
}

func (g GammaGamma) logLikelihood(d *spendData, grad []float64) float64 {
	p, q, gm := g.P, g.Q, g.Gamma
	lgQ, psiQ := lgamma(q), digamma(q)
	logG := math.Log(gm)
	type perX struct{ psiSum, psiPX, logX float64 }
	px := make([]perX, len(d.xs))
	var ll, gp, gq, gg float64
	for i, x := range d.xs {
		w := d.xWeight[i]
		lgSum, lgPX := lgamma(p*x+q), lgamma(p*x)
		px[i] = perX{logX: math.Log(x)}
		ll += w * (lgSum - lgPX - lgQ + q*logG + p*x*px[i].logX)
		if grad != nil {
			px[i].psiSum, px[i].psiPX = digamma(p*x+q), digamma(p*x)
			gp += w * x * (px[i].psiSum - px[i].psiPX + px[i].logX)
			gq += w * (px[i].psiSum - psiQ + logG)
			gg += w * q / gm
		}
	}
	for j, m := range d.m {
		x := d.xs[d.obsX[j]]
		denom := gm + x*m
		logD := math.Log(denom)
		ll += (p*x-1)*d.logM[j] - (p*x+q)*logD
		if grad != nil {
			gp += x * (d.logM[j] - logD)
			gq -= logD
			gg -= (p*x + q) / denom
		}
	}
	if grad != nil {
		grad[0], grad[1], grad[2] = gp, gq, gg
	}
	return ll
}

// FitGammaGamma fits Gamma-Gamma by maximum likelihood on the customers with
// repeat purchases of positive mean value. Identical values everywhere make
// the likelihood unbounded (p → ∞) and are reported as insufficient data;
// a fit with q ≤ 1 has no finite population mean and is rejected too.
func FitGammaGamma(customers []Summary) (GammaGamma, FitResult, error) {
	d := prepareSpend(customers)
	res := FitResult{Customers: int(d.n), Rows: len(d.m)}
	if d.n < 2 {
		return GammaGamma{}, res, fmt.Errorf("%w: %d customers with repeat spend", ErrInsufficientData, int(d.n))
	}
	if slices.Min(d.m) == slices.Max(d.m) {
		return GammaGamma{}, res, fmt.Errorf("%w: every repeat spend is identical", ErrInsufficientData)
	}
	at := func(theta []float64) GammaGamma {
		return GammaGamma{math.Exp(theta[0]), math.Exp(theta[1]), math.Exp(theta[2])}
	}
	var cacheX, cacheG []float64
	var cacheF float64
	g := make([]float64, 3)
	eval := func(theta []float64) {
		if cacheX != nil && slices.Equal(cacheX, theta) {
			return
		}
		m := at(theta)
		ll := m.logLikelihood(d, g)
		cacheF = -ll / d.n
		if !isFinite(cacheF) {
			cacheF = math.Inf(1)
		}
		cacheG = []float64{-g[0] * m.P / d.n, -g[1] * m.Q / d.n, -g[2] * m.Gamma / d.n}
		cacheX = append(cacheX[:0], theta...)
	}
	problem := optimize.Problem{
		Func: func(theta []float64) float64 { eval(theta); return cacheF },
		Grad: func(grad, theta []float64) { eval(theta); copy(grad, cacheG) },
	}
	settings := &optimize.Settings{
		GradientThreshold: 1e-8,
		MajorIterations:   500,
		Converger:         &optimize.FunctionConverge{Absolute: 1e-13, Relative: 1e-13, Iterations: 25},
	}
	// p = 1, q = 2 and γ = mean spend make the population mean equal the
	// observed mean, whatever the currency.
	start := []float64{0, math.Log(2), math.Log(d.meanM)}
	result, err := optimize.Minimize(problem, start, settings, &optimize.BFGS{})
	if result == nil {
		return GammaGamma{}, res, fmt.Errorf("%w: %v", ErrNotConverged, err)
	}
	fit := at(result.X)
	eval(result.X)
	res.LogLikelihood = -cacheF * d.n
	res.Iterations = result.MajorIterations
	res.Evaluations = result.FuncEvaluations
	res.Status = result.Status.String()
	res.GradNorm = maxAbs(cacheG)
	switch {
	case res.GradNorm > gradAccept || !isFinite(res.LogLikelihood):
		return fit, res, fmt.Errorf("%w: status %s, gradient %.2g (%v)", ErrNotConverged, res.Status, res.GradNorm, err)
	case fit.P < minShape || fit.P > maxShape || fit.Q > maxShape ||
		fit.Gamma < minShape*d.meanM || fit.Gamma > maxShape*d.meanM:
		return fit, res, fmt.Errorf("%w: parameters diverged (p=%.3g q=%.3g γ=%.3g)", ErrNotConverged, fit.P, fit.Q, fit.Gamma)
	case fit.Q <= 1:
		return fit, res, fmt.Errorf("%w: q=%.3g ≤ 1 leaves the mean spend undefined", ErrNotConverged, fit.Q)
	}
	return fit, res, nil
}
