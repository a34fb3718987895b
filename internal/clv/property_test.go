package clv

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// checkModel asserts the invariants every purchase model must keep for any
// input: probabilities in [0,1], expectations finite, non-negative and
// non-decreasing in the horizon, next-purchase times consistent with the
// probability they are defined by.
func checkModel(t testing.TB, m PurchaseModel, x int, tx, T float64, horizons []float64) {
	t.Helper()
	pa := m.PAlive(x, tx, T)
	require.True(t, pa >= 0 && pa <= 1, "%T%+v P(alive)(%d,%v,%v) = %v", m, m, x, tx, T, pa)
	prev := 0.0
	for _, h := range horizons {
		ce := m.ConditionalExpected(h, x, tx, T)
		require.True(t, isFinite(ce) && ce >= 0, "%T%+v E[Y(%v)|%d,%v,%v] = %v", m, m, h, x, tx, T, ce)
		require.GreaterOrEqual(t, ce, prev*(1-1e-9)-1e-12, "%T%+v E[Y] decreasing at %v (%d,%v,%v)", m, m, h, x, tx, T)
		prev = ce
		e := m.Expected(h)
		require.True(t, isFinite(e) && e >= 0, "%T%+v E[X(%v)] = %v", m, m, h, e)
		p := m.ProbPurchaseWithin(h, x, tx, T)
		require.True(t, p >= 0 && p <= pa+1e-12, "%T%+v P(purchase within %v) = %v, P(alive) %v", m, m, h, p, pa)
	}
	for _, q := range []float64{0.1, 0.5, 0.9} {
		w, ok := m.TimeToPurchase(q, x, tx, T)
		if !ok {
			require.True(t, pa <= q || w == 0, "%T%+v no time to reach %v with P(alive) %v", m, m, q, pa)
			continue
		}
		require.True(t, isFinite(w) && w >= 0)
		if w > 0 && w < 1e5 {
			require.InDelta(t, q, m.ProbPurchaseWithin(w, x, tx, T), 1e-6, "%T%+v q=%v w=%v", m, m, q, w)
		}
	}
}

func logUniform(rng *rand.Rand, lo, hi float64) float64 {
	return math.Exp(math.Log(lo) + rng.Float64()*(math.Log(hi)-math.Log(lo)))
}

func TestPurchaseModelInvariantsRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(2024, 6))
	horizons := []float64{0, 0.5, 1, 7, 30.4375, 91, 365.25, 3000}
	for i := 0; i < 3000; i++ {
		r, alpha := logUniform(rng, 1e-3, 50), logUniform(rng, 1e-2, 1e4)
		a, b := logUniform(rng, 1e-3, 50), logUniform(rng, 1e-3, 50)
		if i%10 == 0 {
			a = 1 + (rng.Float64()-0.5)*1e-5 // the removable singularity
		}
		T := math.Floor(logUniform(rng, 1, 5000)) - 1
		x := 0
		tx := 0.0
		if rng.IntN(3) > 0 {
			x = 1 + rng.IntN(200)
			tx = T * rng.Float64()
		}
		checkModel(t, BGNBD{r, alpha, a, b}, x, tx, T, horizons)
		checkModel(t, MBGNBD{r, alpha, a, b}, x, tx, T, horizons)
		checkModel(t, Empirical{RepeatRate: rng.Float64(), MeanGap: logUniform(rng, 0.1, 500)}, x, tx, T, horizons)
	}
	// Out-of-domain inputs are sanitized, never NaN.
	for _, m := range []PurchaseModel{BGNBD{0.2, 4, 0.8, 2.4}, MBGNBD{0.5, 6, 0.9, 1.6}, Empirical{0.3, 20}, Empirical{}, BGNBD{}} {
		checkModel(t, m, -3, -1, -5, horizons)
		checkModel(t, m, 4, 50, 10, horizons)
		checkModel(t, m, 2, math.NaN(), math.Inf(1), horizons)
		checkModel(t, m, 1, 1, 2, []float64{math.NaN(), math.Inf(1)})
	}
}

func TestSpendModelInvariantsRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 8))
	for i := 0; i < 2000; i++ {
		g := GammaGamma{logUniform(rng, 1e-3, 100), logUniform(rng, 0.5, 100), logUniform(rng, 1e-2, 1e5)}
		e := EmpiricalSpend{Mean: logUniform(rng, 1e-2, 1e4)}
		x := rng.IntN(50) - 2
		m := logUniform(rng, 1e-3, 1e5)
		for _, s := range []SpendModel{g, e} {
			v := s.ExpectedSpend(x, m)
			require.True(t, isFinite(v) && v >= 0, "%+v(%d, %v) = %v", s, x, m, v)
			v = s.ExpectedSpend(x, math.NaN())
			require.True(t, isFinite(v) && v >= 0)
		}
	}
}

// FuzzPurchaseModels drives the models with arbitrary parameters and
// customer histories: nothing may panic, go NaN or leave [0, 1].
func FuzzPurchaseModels(f *testing.F) {
	f.Add(0.243, 4.414, 0.793, 2.426, 2, 30.43, 38.86, 39.0)
	f.Add(0.525, 6.183, 0.891, 1.614, 0, 0.0, 38.86, 52.0)
	f.Add(1.0, 1.0, 1.0, 1.0, 1000, 700.0, 730.0, 365.0)
	f.Fuzz(func(t *testing.T, r, alpha, a, b float64, x int, tx, T, h float64) {
		if x > 1e6 {
			x = 1e6
		}
		for _, m := range []PurchaseModel{BGNBD{r, alpha, a, b}, MBGNBD{r, alpha, a, b}, Empirical{a, b}} {
			checkModel(t, m, x, tx, T, []float64{h})
		}
	})
}
