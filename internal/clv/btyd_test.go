package clv

import (
	"bufio"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/integrate/quad"
)

// randomTriples draws summaries loosely shaped like a shop's: many one-time
// buyers, integer-day times.
func randomTriples(rng *rand.Rand, n int) []Triple {
	out := make([]Triple, 0, n)
	for i := 0; i < n; i++ {
		T := float64(rng.IntN(400))
		x := 0
		if rng.Float64() < 0.4 && T > 0 {
			x = 1 + rng.IntN(12)
		}
		tx := 0.0
		if x > 0 {
			tx = float64(1 + rng.IntN(int(T)))
		}
		out = append(out, Triple{X: x, Tx: tx, T: T, Count: 1 + rng.IntN(5)})
	}
	return out
}

// centralDiff approximates ∂f/∂θ_i with the five-point stencil. The step
// is relative and fairly large because a log-likelihood summed over
// thousands of customers carries ~1e-11 of rounding, which a small step
// would amplify; the stencil's O(h⁴) error keeps the large step accurate.
func centralDiff(f func([]float64) float64, theta []float64, i int) float64 {
	h := 1e-3 * math.Max(math.Abs(theta[i]), 1e-3)
	at := func(k float64) float64 {
		th := append([]float64(nil), theta...)
		th[i] += k * h
		return f(th)
	}
	return (-at(2) + 8*at(1) - 8*at(-1) + at(-2)) / (12 * h)
}

func TestBTYDGradientsMatchFiniteDifferences(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	datasets := map[string][]Triple{
		"cdnow":  Compress(cdnowCalibration(t).Customers),
		"random": randomTriples(rng, 300),
	}
	params := [][]float64{
		{0.243, 4.414, 0.793, 2.426},
		{0.525, 6.183, 0.891, 1.614},
		{1.7, 40, 0.2, 0.6},
		{0.05, 300, 3.5, 12},
		{2.5, 1.5, 1.0, 0.9}, // a = 1 exactly
	}
	for name, data := range datasets {
		p := prepare(data)
		for _, shift := range []float64{0, 1} {
			for _, theta := range params {
				ll := func(th []float64) float64 {
					return bgFamily{th[0], th[1], th[2], th[3], shift}.logLikelihood(p, nil)
				}
				grad := make([]float64, 4)
				bgFamily{theta[0], theta[1], theta[2], theta[3], shift}.logLikelihood(p, grad)
				for i := range theta {
					fd := centralDiff(ll, theta, i)
					assert.InDelta(t, fd, grad[i], 1e-6*math.Max(1, math.Abs(fd)),
						"%s shift=%v θ=%v ∂/∂θ%d", name, shift, theta, i)
				}
			}
		}
	}
}

func TestGammaGammaGradientMatchesFiniteDifferences(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	var cs []Summary
	for i := 0; i < 200; i++ {
		cs = append(cs, Summary{X: 1 + rng.IntN(8), Monetary: 5 + 100*rng.Float64()})
	}
	d := prepareSpend(cs)
	for _, theta := range [][]float64{{6.25, 3.74, 15.44}, {0.5, 1.2, 300}, {40, 20, 2}} {
		ll := func(th []float64) float64 { return GammaGamma{th[0], th[1], th[2]}.logLikelihood(d, nil) }
		grad := make([]float64, 3)
		GammaGamma{theta[0], theta[1], theta[2]}.logLikelihood(d, grad)
		for i := range theta {
			fd := centralDiff(ll, theta, i)
			assert.InDelta(t, fd, grad[i], 1e-6*math.Max(1, math.Abs(fd)), "θ=%v ∂/∂θ%d", theta, i)
		}
	}
}

// betaExpectation integrates g(p) against Beta(a, B) numerically, with the
// substitution p = s^(1/a) that removes the p^(a-1) endpoint singularity.
func betaExpectation(a, B float64, g func(p float64) float64) float64 {
	f := func(s float64) float64 {
		p := math.Pow(s, 1/a)
		return math.Pow(1-p, B-1) * g(p)
	}
	lbeta := lgamma(a) + lgamma(B) - lgamma(a+B)
	return quad.Fixed(f, 0, 1, 4000, nil, 0) / a / math.Exp(lbeta)
}

// P(alive) and the conditional expectation rebuilt from the individual-level
// model, independently of the closed forms and of 2F1: integrate λ out
// analytically (Gamma-Poisson) and p numerically.
//
// Given (λ, p): alive after x repeat purchases and no purchase in (t_x, T]
// has likelihood (1-p)^(x+s) λ^x e^(-λT); having dropped out right after
// the last purchase, p (1-p)^(x+s-1) λ^x e^(-λ t_x) (s = 1 for MBG/NBD,
// and for BG/NBD only when x > 0).
func TestPAliveAndExpectationFromFirstPrinciples(t *testing.T) {
	cases := []struct {
		x      int
		tx, T  float64
		params [4]float64
	}{
		{2, 30.43, 38.86, [4]float64{0.243, 4.414, 0.793, 2.426}},
		{0, 0, 38.86, [4]float64{0.525, 6.183, 0.891, 1.614}},
		{7, 35, 38.86, [4]float64{0.525, 6.183, 0.891, 1.614}},
		{1, 3, 200, [4]float64{1.3, 60, 1.6, 4}},
		{15, 180, 365, [4]float64{0.8, 25, 0.7, 3.5}},
	}
	for _, c := range cases {
		for _, shift := range []float64{0, 1} {
			r, alpha, a, b := c.params[0], c.params[1], c.params[2], c.params[3]
			x := float64(c.x)
			// ∫ λ^x e^(-λτ) Gamma(λ; r, α) dλ ∝ (α+τ)^-(r+x), common factors dropped.
			gammaPart := func(tau float64) float64 { return math.Pow(alpha+tau, -(r + x)) }
			alive := betaExpectation(a, b, func(p float64) float64 { return math.Pow(1-p, x+shift) }) * gammaPart(c.T)
			dead := 0.0
			if c.x > 0 || shift == 1 {
				dead = betaExpectation(a, b, func(p float64) float64 { return p * math.Pow(1-p, x+shift-1) }) * gammaPart(c.tx)
			}
			pAlive := alive / (alive + dead)
			m := bgFamily{r, alpha, a, b, shift}
			assert.InEpsilon(t, pAlive, m.pAlive(c.x, c.tx, c.T), 1e-8, "P(alive) %+v shift %v", c, shift)

			// Alive: λ ~ Gamma(r+x, α+T); p ∝ (1-p)^(x+s) Beta(a, b). The
			// expected purchases in (T, T+h] given (λ, p) are
			// (1 - e^(-λ p h))/p; λ integrates to 1 - ((α+T)/(α+T+ph))^(r+x).
			for _, h := range []float64{1, 39, 52, 400} {
				num := betaExpectation(a, b, func(p float64) float64 {
					return math.Pow(1-p, x+shift) * (1 - math.Pow((alpha+c.T)/(alpha+c.T+p*h), r+x)) / p
				})
				den := betaExpectation(a, b, func(p float64) float64 { return math.Pow(1-p, x+shift) })
				want := pAlive * num / den
				assert.InEpsilon(t, want, m.conditionalExpected(h, c.x, c.tx, c.T), 1e-7, "E[Y(%v)] %+v shift %v", h, c, shift)
			}
		}
	}
}

func TestPAliveHandChecked(t *testing.T) {
	// BG/NBD, published CDNOW parameters, x = 2, t_x = 30.43, T = 38.86:
	// 1/(1 + a/(b+x-1) ((α+T)/(α+t_x))^(r+x))
	// = 1/(1 + 0.793/3.426 × (43.274/34.844)^2.243)
	// = 1/(1 + 0.23146 × 1.62584) = 1/1.37632 = 0.7266.
	m := BGNBD{0.243, 4.414, 0.793, 2.426}
	assert.Equal(t, 0.7266, round(m.PAlive(2, 30.43, 38.86), 4))
	// A customer who just bought is as alive as can be: P = 1/(1 + a/(b+x-1)).
	assert.InDelta(t, 1/(1+0.793/3.426), m.PAlive(2, 38.86, 38.86), 1e-12)
}

// The two evaluation paths of expectedDraws meet at u = 1/2, and the
// interpolated bands around a = 1 and c = 0 join the plain formula.
func TestExpectedDrawsPathsAgree(t *testing.T) {
	for _, p := range [][3]float64{{0.3, 0.8, 2.4}, {2.2, 1.5, 0.3}, {12.3, 0.9, 14}, {0.25, 3, 0.4}} {
		A, a, B := p[0], p[1], p[2]
		series, _ := drawsSeries(A, a, a+B-1, 0.5)
		pfaff := drawsPfaff(A, a, B, 0.5)
		assert.InEpsilon(t, series, pfaff, 1e-10, "%v", p)
	}
	for _, u := range []float64{0.6, 3, 40} {
		ref := expectedDraws(1.2, 1+2e-5, 3, u)
		for _, a := range []float64{1 - 1e-5, 1 - 3e-6, 1, 1 + 7e-6} {
			assert.InEpsilon(t, ref, expectedDraws(1.2, a, 3, u), 1e-4, "a=%v u=%v", a, u)
		}
		// c = a + B - 1 = 0 at a = 0.4, B = 0.6.
		ref = expectedDraws(0.3, 0.4+2e-5, 0.6, u)
		for _, a := range []float64{0.4 - 1e-5, 0.4, 0.4 + 3e-6} {
			v := expectedDraws(0.3, a, 0.6, u)
			require.True(t, isFinite(v))
			assert.InEpsilon(t, ref, v, 1e-4, "a=%v u=%v", a, u)
		}
	}
}

// testdata/draws_golden.csv: E_{p~Beta(a,B)}[(1-(1+pu)^-A)/p] from mpmath
// at 50 digits, over extreme ranges (x up to 2000, u from 1e-4 to 1e6, a and b from
// 0.003 to 50).
func TestExpectedDrawsAgainstMpmath(t *testing.T) {
	f, err := os.Open("testdata/draws_golden.csv")
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Split(line, ",")
		require.Len(t, fields, 5)
		var v [5]float64
		for i := range v {
			v[i], err = strconv.ParseFloat(fields[i], 64)
			require.NoError(t, err)
		}
		assert.InEpsilon(t, v[4], expectedDraws(v[0], v[1], v[2], v[3]), 1e-7, "A=%v a=%v B=%v u=%v", v[0], v[1], v[2], v[3])
		n++
	}
	require.NoError(t, sc.Err())
	assert.Equal(t, 600, n)
}

// Data simulated from known parameters must give them back: 30,000
// customers over two years of daily data, merged per day as real data is.
func TestFitRecoversSimulatedParameters(t *testing.T) {
	for _, truth := range []bgFamily{
		{r: 0.25, alpha: 30, a: 0.8, b: 2.5, shift: 0},
		{r: 0.6, alpha: 60, a: 1.2, b: 3, shift: 1},
	} {
		customers := simulateSummaries(99, 30000, truth, 730)
		data := Compress(customers)
		var got bgFamily
		var err error
		if truth.shift == 0 {
			var m BGNBD
			m, _, err = FitBGNBD(data)
			got = m.family()
		} else {
			var m MBGNBD
			m, _, err = FitMBGNBD(data)
			got = m.family()
		}
		require.NoError(t, err)
		t.Logf("truth %+v fitted %+v", truth, got)
		assert.InEpsilon(t, truth.r, got.r, 0.15, "r %+v", got)
		assert.InEpsilon(t, truth.alpha, got.alpha, 0.2, "α %+v", got)
		assert.InEpsilon(t, truth.a, got.a, 0.25, "a %+v", got)
		assert.InEpsilon(t, truth.b, got.b, 0.3, "b %+v", got)
	}
}
