package clv

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/integrate/quad"
	"gonum.org/v1/gonum/stat/distuv"
)

// Fader, Hardie & Lee (2005), "A Note on Deriving the Pareto/NBD Model and
// Related Expressions": on CDNOW's 39-week calibration period r = 0.55,
// α = 10.58, s = 0.61, β = 11.67 (weeks), LL = -9595.0.
func TestCDNOWParetoNBDReproducesPublished(t *testing.T) {
	data := Compress(cdnowCalibration(t).Customers)
	m, res, err := FitParetoNBD(data)
	require.NoError(t, err)
	assert.Equal(t, 0.55, round(m.R, 2))
	assert.Equal(t, 10.58, round(m.Alpha, 2))
	assert.Equal(t, 0.61, round(m.S, 2))
	assert.Equal(t, 11.67, round(m.Beta, 2))
	assert.Equal(t, -9595.0, round(res.LogLikelihood, 1))
}

// The closed forms of the integrals behind the Pareto/NBD likelihood and
// its probability of ordering, against numerical quadrature, on both sides
// of α = β.
func TestParetoIntegralsMatchQuadrature(t *testing.T) {
	for _, c := range []struct{ a1, p1, a2, p2, lo, hi float64 }{
		{10.58, 0.55, 11.67, 1.61, 0, 39},
		{30, 4.55, 12, 1.61, 3, 39},
		{2, 1.2, 40, 0.7, 0, 13},
		{5, 12.5, 5.5, 0.61, 20, 30},
		{62, 0.76, 12155, 1.002, 0, 300}, // z near 1: the connection formula
		{62, 3.76, 12155, 1.002, 120, 300},
		{12155, 1.002, 62, 3.76, 1, 300},
		{9332, 50.5, 50308, 1.003, 255, 320}, // many purchases: the plain series would grow first
		{50308, 1.003, 9332, 50.5, 0, 40},
	} {
		want := quad.Fixed(func(u float64) float64 {
			return math.Pow(c.a1+u, -c.p1) * math.Pow(c.a2+u, -c.p2)
		}, c.lo, c.hi, 200, nil, 0)
		got := math.Exp(logPowIntegral(c.a1, c.p1, c.a2, c.p2, c.lo, c.hi))
		assert.InDelta(t, want, got, 1e-9*want, "%+v", c)
	}
}

// simPareto draws one Pareto/NBD customer observed for T, and whether she
// bought in (T, T+t].
func simPareto(rng *rand.Rand, src rand.Source, m ParetoNBD, T, t float64) (x int, tx float64, bought bool) {
	lambda := distuv.Gamma{Alpha: m.R, Beta: m.Alpha, Src: src}.Rand()
	mu := distuv.Gamma{Alpha: m.S, Beta: m.Beta, Src: src}.Rand()
	life := rng.ExpFloat64() / mu
	at := 0.0
	for {
		at += rng.ExpFloat64() / lambda
		if at > life || at > T+t {
			return x, tx, false
		}
		if at > T {
			return x, tx, true
		}
		x++
		tx = at
	}
}

// simBG draws one (M)BG/NBD customer observed for T, and whether she bought
// in (T, T+t].
func simBG(rng *rand.Rand, src rand.Source, m bgFamily, T, t float64) (x int, tx float64, bought bool) {
	for _, at := range simCustomer(rng, src, m, T+t) {
		if at > T {
			return x, tx, true
		}
		x++
		tx = at
	}
	return x, tx, false
}

// The probability of at least one order within t, for each BTYD model,
// against simulation: customers are drawn from the model, and among those
// with a given history (x, t_x rounded, T) the share who bought within t
// must match the closed form averaged over the same customers.
func TestProbPurchaseWithinMatchesSimulation(t *testing.T) {
	const T, window, n = 52.0, 13.0, 200_000
	bg := bgFamily{r: 0.5, alpha: 6, a: 0.8, b: 2.5}
	mbg := bgFamily{r: 0.5, alpha: 6, a: 0.8, b: 2.5, shift: 1}
	models := []struct {
		name string
		draw func(rng *rand.Rand, src rand.Source) (int, float64, bool)
		prob func(x int, tx float64) float64
	}{
		{"bgnbd", func(rng *rand.Rand, src rand.Source) (int, float64, bool) { return simBG(rng, src, bg, T, window) },
			func(x int, tx float64) float64 { return BGNBD{0.5, 6, 0.8, 2.5}.ProbPurchaseWithin(window, x, tx, T) }},
		{"mbgnbd", func(rng *rand.Rand, src rand.Source) (int, float64, bool) { return simBG(rng, src, mbg, T, window) },
			func(x int, tx float64) float64 { return MBGNBD{0.5, 6, 0.8, 2.5}.ProbPurchaseWithin(window, x, tx, T) }},
		{"paretonbd", func(rng *rand.Rand, src rand.Source) (int, float64, bool) {
			return simPareto(rng, src, ParetoNBD{0.55, 10.58, 0.61, 11.67}, T, window)
		}, func(x int, tx float64) float64 {
			return ParetoNBD{0.55, 10.58, 0.61, 11.67}.ProbPurchaseWithin(window, x, tx, T)
		}},
	}
	for _, mc := range models {
		t.Run(mc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(7, 11))
			src := rand.NewPCG(13, 17)
			// Cells of the history: x capped at 3, recency in quarters of T.
			type cell struct{ x, q int }
			var bought, predicted, count [4][4]float64
			for range n {
				x, tx, b := mc.draw(rng, src)
				c := cell{min(x, 3), min(int(4*tx/T), 3)}
				count[c.x][c.q]++
				predicted[c.x][c.q] += mc.prob(x, tx)
				if b {
					bought[c.x][c.q]++
				}
			}
			checked := 0
			for x := range 4 {
				for q := range 4 {
					k := count[x][q]
					if k < 2000 {
						continue
					}
					p := predicted[x][q] / k
					se := math.Sqrt(p * (1 - p) / k)
					assert.InDelta(t, bought[x][q]/k, p, 4*se+1e-3, "x=%d quarter=%d (%v customers)", x, q, k)
					checked++
				}
			}
			assert.GreaterOrEqual(t, checked, 4)
		})
	}
}

// TestParetoFitIsTheSameEveryTime: the gradient's points are evaluated
// side by side; each must see its own point, so every run of the fit
// lands on the same parameters to the last bit.
func TestParetoFitIsTheSameEveryTime(t *testing.T) {
	data := Compress(cdnowCalibration(t).Customers)
	first, res, err := FitParetoNBD(data)
	require.NoError(t, err)
	for range 4 {
		m, r, err := FitParetoNBD(data)
		require.NoError(t, err)
		require.Equal(t, fmt.Sprintf("%#v %d %d", first, res.Iterations, res.Evaluations), fmt.Sprintf("%#v %d %d", m, r.Iterations, r.Evaluations))
	}
}
