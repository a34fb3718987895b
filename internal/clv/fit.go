package clv

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/optimize"
)

var (
	// ErrInsufficientData means the data cannot identify the model.
	ErrInsufficientData = errors.New("clv: insufficient data")
	// ErrNotConverged means the optimizer failed or wandered off to
	// parameters that are not a usable maximum.
	ErrNotConverged = errors.New("clv: fit did not converge")
)

// FitResult describes a maximum-likelihood fit.
type FitResult struct {
	LogLikelihood float64
	Customers     int
	Rows          int // distinct (x, t_x, T) triples, or spend observations
	Iterations    int
	Evaluations   int
	Status        string
	GradNorm      float64 // max |∂(-LL/N)/∂log θ| at the optimum
}

// prepared indexes compressed data so that each likelihood evaluation does
// the expensive special functions once per distinct x and the logarithms
// once per distinct time value, leaving two transcendental calls per row.
type prepared struct {
	xs      []float64 // distinct x
	xWeight []float64 // customers per distinct x
	times   []float64 // distinct values of T and t_x together
	rows    []prepRow
	n       float64
	meanT   float64
	repeat  float64 // customers with x > 0
}

type prepRow struct {
	ix, iT, iTx int32
	w           float64
}

func prepare(data []Triple) *prepared {
	p := &prepared{rows: make([]prepRow, 0, len(data))}
	xIdx := map[int]int32{}
	tIdx := map[float64]int32{}
	timeIndex := func(v float64) int32 {
		if i, ok := tIdx[v]; ok {
			return i
		}
		i := int32(len(p.times))
		tIdx[v] = i
		p.times = append(p.times, v)
		return i
	}
	var sumT float64
	var lastX int
	var lastIx int32
	for _, d := range data {
		if d.Count <= 0 {
			continue
		}
		w := float64(d.Count)
		// Compressed data comes sorted by x: look the map up only when x
		// changes.
		ix, ok := lastIx, d.X == lastX && len(p.rows) > 0
		if !ok {
			ix, ok = xIdx[d.X]
		}
		if !ok {
			ix = int32(len(p.xs))
			xIdx[d.X] = ix
			p.xs = append(p.xs, float64(d.X))
			p.xWeight = append(p.xWeight, 0)
		}
		lastX, lastIx = d.X, ix
		p.xWeight[ix] += w
		tx := d.Tx
		if d.X == 0 {
			tx = 0
		}
		p.rows = append(p.rows, prepRow{ix: ix, iT: timeIndex(d.T), iTx: timeIndex(tx), w: w})
		p.n += w
		sumT += w * d.T
		if d.X > 0 {
			p.repeat += w
		}
	}
	if p.n > 0 {
		p.meanT = sumT / p.n
	}
	return p
}

// logLikelihood returns Σ LL_i and, when grad is non-nil, its gradient with
// respect to (r, α, a, b). With s = shift and B_x = b+x+s,
//
//	LL_i = ln Γ(r+x) - ln Γ(r) + r ln α + ln B(a, B_x) - ln B(a, b)
//	       + ln( (α+T)^-(r+x) + [x>0 or s=1] a/(B_x-1) (α+t_x)^-(r+x) )
//
// (Fader, Hardie & Lee 2005 eq. 6 for s = 0; Batislam et al. 2007 for s = 1).
func (m bgFamily) logLikelihood(p *prepared, grad []float64) float64 {
	r, alpha, a, b, s := m.r, m.alpha, m.a, m.b, m.shift
	logAlpha := math.Log(alpha)
	logA := math.Log(a)
	logAT := make([]float64, len(p.times))
	invAT := make([]float64, len(p.times))
	for i, t := range p.times {
		logAT[i] = math.Log(alpha + t)
		invAT[i] = 1 / (alpha + t)
	}
	lgR, psiR := lgamma(r), digamma(r)
	lgB, psiB := lgamma(b), digamma(b)
	lgAB, psiAB := lgamma(a+b), digamma(a+b)
	// Per distinct x: the second-term log-coefficient and 1/(B_x-1).
	coef := make([]float64, len(p.xs))
	invBx1 := make([]float64, len(p.xs))
	var ll, gr, gAlpha, gA, gB float64
	for i, x := range p.xs {
		w := p.xWeight[i]
		bx := b + x + s
		ll += w * (lgamma(r+x) - lgR + r*logAlpha + lgamma(bx) - lgamma(a+bx) - lgB + lgAB)
		if grad != nil {
			psiABx := digamma(a + bx)
			gr += w * (digamma(r+x) - psiR + logAlpha)
			gAlpha += w * r / alpha
			gA += w * (psiAB - psiABx)
			gB += w * (digamma(bx) - psiABx - psiB + psiAB)
		}
		if x > 0 || s == 1 {
			coef[i] = logA - math.Log(bx-1)
			invBx1[i] = 1 / (bx - 1)
		} else {
			coef[i] = math.Inf(-1)
		}
	}
	for _, row := range p.rows {
		x := p.xs[row.ix]
		rx := r + x
		u1 := -rx * logAT[row.iT]
		c := coef[row.ix]
		if math.IsInf(c, -1) {
			ll += row.w * u1
			if grad != nil {
				gr -= row.w * logAT[row.iT]
				gAlpha -= row.w * rx * invAT[row.iT]
			}
			continue
		}
		u2 := c - rx*logAT[row.iTx]
		lse, w1 := logSumExp2(u1, u2)
		ll += row.w * lse
		if grad != nil {
			w2 := 1 - w1
			gr -= row.w * (w1*logAT[row.iT] + w2*logAT[row.iTx])
			gAlpha -= row.w * rx * (w1*invAT[row.iT] + w2*invAT[row.iTx])
			gA += row.w * w2 / a
			gB -= row.w * w2 * invBx1[row.ix]
		}
	}
	if grad != nil {
		grad[0], grad[1], grad[2], grad[3] = gr, gAlpha, gA, gB
	}
	return ll
}

// FitBGNBD fits BG/NBD by maximum likelihood.
func FitBGNBD(data []Triple) (BGNBD, FitResult, error) {
	f, res, err := fitFamily(data, 0)
	return BGNBD{f.r, f.alpha, f.a, f.b}, res, err
}

// FitMBGNBD fits MBG/NBD by maximum likelihood.
func FitMBGNBD(data []Triple) (MBGNBD, FitResult, error) {
	f, res, err := fitFamily(data, 1)
	return MBGNBD{f.r, f.alpha, f.a, f.b}, res, err
}

// Parameter bounds outside of which a fit is treated as diverged: the
// likelihood is then flat along some direction (typically a, b → ∞ when
// nobody seems to drop out) and the numbers mean nothing.
const (
	minShape   = 1e-4
	maxShape   = 1e4
	gradAccept = 1e-5
)

func fitFamily(data []Triple, shift float64) (bgFamily, FitResult, error) {
	if err := validateTriples(data); err != nil {
		return bgFamily{}, FitResult{}, fmt.Errorf("%w: %v", ErrInsufficientData, err)
	}
	p := prepare(data)
	res := FitResult{Customers: int(p.n), Rows: len(p.rows)}
	switch {
	case p.n < 2:
		return bgFamily{}, res, fmt.Errorf("%w: %d customers", ErrInsufficientData, int(p.n))
	case p.repeat == 0:
		return bgFamily{}, res, fmt.Errorf("%w: no repeat purchases", ErrInsufficientData)
	case !(p.meanT > 0):
		return bgFamily{}, res, fmt.Errorf("%w: no observation time", ErrInsufficientData)
	}
	// Starts on the log scale; α is a time scale, so it starts at the mean
	// customer age whatever the unit. A second start is used only when the
	// first does not give a usable maximum.
	starts := [][]float64{
		{0, math.Log(p.meanT), 0, 0},
		{math.Log(0.5), math.Log(p.meanT / 4), math.Log(0.5), math.Log(2)},
	}
	var best bgFamily
	bestRes := res
	var lastErr error
	for _, start := range starts {
		f, r, err := optimizeFamily(p, shift, start)
		r.Customers, r.Rows = res.Customers, res.Rows
		if err != nil {
			lastErr = err
			continue
		}
		if best.r == 0 || r.LogLikelihood > bestRes.LogLikelihood {
			best, bestRes = f, r
		}
		break
	}
	if best.r == 0 {
		return bgFamily{}, bestRes, lastErr
	}
	return best, bestRes, nil
}

func optimizeFamily(p *prepared, shift float64, start []float64) (bgFamily, FitResult, error) {
	at := func(theta []float64) bgFamily {
		return bgFamily{math.Exp(theta[0]), math.Exp(theta[1]), math.Exp(theta[2]), math.Exp(theta[3]), shift}
	}
	var cacheX, cacheG []float64
	var cacheF float64
	g := make([]float64, 4)
	eval := func(theta []float64) {
		if cacheX != nil && slices.Equal(cacheX, theta) {
			return
		}
		m := at(theta)
		ll := m.logLikelihood(p, g)
		// Minimize the mean negative log-likelihood on the log scale, so the
		// tolerances do not depend on the number of customers or the unit.
		cacheF = -ll / p.n
		cacheG = []float64{-g[0] * m.r / p.n, -g[1] * m.alpha / p.n, -g[2] * m.a / p.n, -g[3] * m.b / p.n}
		if !isFinite(cacheF) {
			cacheF = math.Inf(1)
		}
		cacheX = append(cacheX[:0], theta...)
	}
	problem := optimize.Problem{
		Func: func(theta []float64) float64 { eval(theta); return cacheF },
		Grad: func(grad, theta []float64) { eval(theta); copy(grad, cacheG) },
	}
	settings := &optimize.Settings{
		// On the mean log-likelihood (≈ 4 to 10 for real shops) float64
		// resolves decreases of ~1e-15, which a line search can only find
		// while the gradient is above ~1e-8: demanding less ends in line
		// search failures and dozens of wasted evaluations. 1e-7 still
		// pins the log-parameters to ~1e-5.
		GradientThreshold: 1e-7,
		MajorIterations:   500,
		Converger:         &optimize.FunctionConverge{Absolute: 1e-13, Relative: 1e-13, Iterations: 25},
	}
	result, err := optimize.Minimize(problem, start, settings, &optimize.BFGS{})
	if result == nil {
		return bgFamily{}, FitResult{}, fmt.Errorf("%w: %v", ErrNotConverged, err)
	}
	m := at(result.X)
	eval(result.X)
	res := FitResult{
		LogLikelihood: -cacheF * p.n,
		Iterations:    result.MajorIterations,
		Evaluations:   result.FuncEvaluations,
		Status:        result.Status.String(),
		GradNorm:      maxAbs(cacheG),
	}
	// A line-search failure right at the optimum is common with tight
	// tolerances; what matters is whether the gradient vanished.
	if res.GradNorm > gradAccept || !isFinite(res.LogLikelihood) {
		return m, res, fmt.Errorf("%w: status %s, gradient %.2g (%v)", ErrNotConverged, res.Status, res.GradNorm, err)
	}
	if m.r < minShape || m.r > maxShape || m.a < minShape || m.a > maxShape || m.b < minShape || m.b > maxShape ||
		m.alpha < minShape*p.meanT || m.alpha > maxShape*p.meanT {
		return m, res, fmt.Errorf("%w: parameters diverged (r=%.3g α=%.3g a=%.3g b=%.3g)", ErrNotConverged, m.r, m.alpha, m.a, m.b)
	}
	return m, res, nil
}

func maxAbs(v []float64) float64 {
	var m float64
	for _, x := range v {
		m = math.Max(m, math.Abs(x))
	}
	return m
}
