package scoring

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/clv"
	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/ledger"
)

// processShop draws a shop of n customers, first purchases uniform over
// the last `years`, whose later purchases come from next: given the
// customer's state and the time of the last purchase (unix seconds), the
// time of the next one, or false when there is none.
func processShop(n int, asOf time.Time, years float64, seed uint64,
	customer func(rng *rand.Rand) func(last int64) (int64, bool)) []cvo.Order {
	rng := rand.New(rand.NewPCG(seed, seed^0xc0ffee))
	end := asOf.Unix()
	span := int64(years * 365.25 * 86400)
	var orders []cvo.Order
	for c := range n {
		id := fmt.Sprintf("%d", 1000+c)
		next := customer(rng)
		at := end - rng.Int64N(span)
		for at <= end {
			orders = append(orders, cvo.Order{CustomerID: id, CreatedAt: time.Unix(at, 0).UTC(), Total: 20 + 60*rng.Float64()})
			t, ok := next(at)
			if !ok {
				break
			}
			at = t
		}
	}
	return orders
}

// bgnbdCustomer is the BG/NBD process: rate λ ~ Gamma(0.8, 1/30 per day),
// dropout after each purchase with p ~ Beta(1, 3).
func bgnbdCustomer(rng *rand.Rand) func(int64) (int64, bool) {
	lambda := gammaDraw(rng, 0.8) / 30
	p := betaDraw(rng, 1, 3)
	return func(last int64) (int64, bool) {
		if rng.Float64() < p || !(lambda > 0) {
			return 0, false
		}
		return last + int64(rng.ExpFloat64()/lambda*86400), true
	}
}

// burstCustomer never drops out, but buys in bursts: right after a purchase
// the rate is high and it decays back to a low base rate within weeks, so
// recency says much more than any stationary rate can.
func burstCustomer(rng *rand.Rand) func(int64) (int64, bool) {
	base := gammaDraw(rng, 2) / 2 / 200 // one order in 200 days on average
	const jump, tau = 1.0 / 12, 25.0    // per day, days
	return func(last int64) (int64, bool) {
		// Thinning under the maximum rate base+jump.
		maxRate := base + jump
		t := 0.0
		for {
			t += rng.ExpFloat64() / maxRate
			rate := base + jump*math.Exp(-t/tau)
			if rng.Float64()*maxRate <= rate {
				return last + int64(t*86400), true
			}
			if t > 3650 {
				return 0, false
			}
		}
	}
}

func TestWindowModelChoice(t *testing.T) {
	asOf := time.Date(2025, 6, 30, 23, 59, 59, 0, time.UTC)
	tests := []struct {
		name      string
		customer  func(*rand.Rand) func(int64) (int64, bool)
		wantOneOf []string
	}{
		{"BG/NBD data picks a BTYD model", bgnbdCustomer, []string{CandidateBGNBD, CandidateMBGNBD, CandidateParetoNBD}},
		{"no dropout, strong recency effect picks the feature model", burstCustomer, []string{CandidateFeatures}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			orders := processShop(6000, asOf, 3, 42, tc.customer)
			res, err := Score(context.Background(), nil, orders, DefaultSettings(asOf))
			require.NoError(t, err)
			wp := res.Prediction
			require.NotNil(t, wp)
			for _, c := range wp.Candidates {
				t.Logf("%-10s log loss %.4f Brier %.4f AUC %.4f %s", c.Name, c.LogLoss, c.Brier, c.AUC, c.Error)
			}
			assert.Contains(t, tc.wantOneOf, wp.Model, wp.Reason)
			assert.True(t, wp.BeatsBaselines, wp.Reason)
			assert.Len(t, wp.Candidates, 6)
			assert.Equal(t, 90, wp.WindowDays)
			// Calibration: on the holdout the mean prediction is the share
			// who ordered.
			assert.InDelta(t, wp.HoldoutShare, wp.MeanPredicted, 1e-9)
			// The deciles rise: the prediction ranks customers.
			require.Len(t, wp.Deciles, 10)
			assert.Less(t, wp.Deciles[0].Actual, wp.Deciles[9].Actual)
			var n int
			for _, g := range wp.Groups {
				n += g.Customers
			}
			assert.Equal(t, wp.HoldoutCustomers, n, "every holdout customer is in one group")
			var counts ChurnCounts
			for _, c := range res.Customers {
				require.GreaterOrEqual(t, c.POrderWindow, 0.0)
				require.LessOrEqual(t, c.POrderWindow, 1.0)
				require.Equal(t, DefaultChurnThresholds().Risk(c.POrderWindow), c.ChurnRisk)
				switch c.ChurnRisk {
				case ChurnHigh:
					counts.High++
				case ChurnMedium:
					counts.Medium++
				default:
					counts.Low++
				}
			}
			assert.Equal(t, counts, wp.ChurnCounts)
			drivers := res.Drivers(&res.Customers[0])
			require.Len(t, drivers, 4)
			assert.True(t, slices.IsSortedFunc(drivers, func(a, b Driver) int {
				return -cmp.Compare(math.Abs(a.Effect), math.Abs(b.Effect))
			}))
		})
	}
}

// When no model beats the baselines the headline is the better baseline,
// and the result says so: here every customer orders with the same chance
// whatever the history, so nothing can beat the average.
func TestWindowFallsBackToBaseline(t *testing.T) {
	asOf := time.Date(2025, 6, 30, 23, 59, 59, 0, time.UTC)
	memoryless := func(rng *rand.Rand) func(int64) (int64, bool) {
		return func(last int64) (int64, bool) { return last + int64(rng.ExpFloat64()*200*86400), true }
	}
	orders := processShop(3000, asOf, 3, 7, memoryless)
	res, err := Score(context.Background(), nil, orders, DefaultSettings(asOf))
	require.NoError(t, err)
	wp := res.Prediction
	require.NotNil(t, wp)
	for _, c := range wp.Candidates {
		t.Logf("%-10s log loss %.5f AUC %.4f %s", c.Name, c.LogLoss, c.AUC, c.Error)
	}
	require.False(t, wp.BeatsBaselines, wp.Reason)
	assert.Contains(t, []string{BaselineAverage, BaselineRecency}, wp.Model)
	assert.Contains(t, wp.Reason, "No model beat the baselines")
}

// Platt recalibration makes the mean prediction the share of positives,
// whatever the raw predictions' scale.
func TestPlattMatchesTheShare(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, scale := range []float64{0.1, 1, 3} {
		raw := make([]float64, 5000)
		y := make([]bool, len(raw))
		var pos float64
		for i := range raw {
			raw[i] = math.Min(0.99, rng.Float64()*scale)
			y[i] = rng.Float64() < 0.2+0.5*raw[i]/scale
			if y[i] {
				pos++
			}
		}
		p, err := plattFit(raw, y)
		require.NoError(t, err)
		var sum float64
		for _, q := range raw {
			sum += p.Apply(q)
		}
		assert.InDelta(t, pos/float64(len(raw)), sum/float64(len(raw)), 1e-9, "scale %v", scale)
	}
}

func TestAUC(t *testing.T) {
	tests := []struct {
		score []float64
		y     []bool
		want  float64
	}{
		{[]float64{0.1, 0.2, 0.3, 0.4}, []bool{false, false, true, true}, 1},
		{[]float64{0.4, 0.3, 0.2, 0.1}, []bool{false, false, true, true}, 0},
		{[]float64{0.5, 0.5, 0.5, 0.5}, []bool{false, true, false, true}, 0.5},
		{[]float64{0.1, 0.4, 0.35, 0.8}, []bool{false, false, true, true}, 0.75},
		{[]float64{0.2, 0.2, 0.3}, []bool{false, true, true}, 0.75},
	}
	for _, tc := range tests {
		assert.InDelta(t, tc.want, auc(tc.score, tc.y), 1e-12, "%v %v", tc.score, tc.y)
	}
}

// aucByRanks and decilesByPosition are the first, plain forms of auc and
// deciles: every customer ranked through a sort of positions. The faster
// forms must give the same numbers to the last bit.
func aucByRanks(score []float64, y []bool) float64 {
	idx := make([]int, len(score))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(score[a], score[b]) })
	var rankSum, pos float64
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && score[idx[j]] == score[idx[i]] {
			j++
		}
		mid := float64(i+j+1) / 2
		for k := i; k < j; k++ {
			if y[idx[k]] {
				rankSum += mid
				pos++
			}
		}
		i = j
	}
	neg := float64(len(score)) - pos
	if pos == 0 || neg == 0 {
		return 0.5
	}
	return (rankSum - pos*(pos+1)/2) / (pos * neg)
}

func decilesByPosition(p []float64, y []bool) []CalibrationBin {
	idx := make([]int, len(p))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(p[a], p[b]) })
	n := len(idx)
	var out []CalibrationBin
	for d := range 10 {
		lo, hi := n*d/10, n*(d+1)/10
		if hi == lo {
			continue
		}
		var b CalibrationBin
		for _, i := range idx[lo:hi] {
			b.Predicted += p[i]
			if y[i] {
				b.Actual++
			}
		}
		b.Customers = hi - lo
		b.Predicted /= float64(b.Customers)
		b.Actual /= float64(b.Customers)
		out = append(out, b)
	}
	return out
}

func TestAUCAndDecilesAgreeWithRanking(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for trial := range 300 {
		n := 1 + rng.IntN(3000)
		// Few distinct values make ties common; a coarse grid of many
		// makes them rare; both, with signed zeros, in one shop.
		levels := []int{2, 5, 40, 1 << 30}[trial%4]
		score := make([]float64, n)
		y := make([]bool, n)
		share := rng.Float64()
		for i := range n {
			score[i] = float64(rng.IntN(levels)) / float64(levels)
			if score[i] == 0 && rng.IntN(2) == 0 {
				score[i] = math.Copysign(0, -1)
			}
			y[i] = rng.Float64() < share
		}
		want := aucByRanks(score, y)
		got := auc(score, y)
		require.Equal(t, math.Float64bits(want), math.Float64bits(got), "trial %d: auc %v, by ranks %v", trial, got, want)
		require.Equal(t, decilesByPosition(score, y), deciles(score, y), "trial %d", trial)
	}
}

func TestChurnThresholds(t *testing.T) {
	th := ChurnThresholds{High: 0.1, Medium: 0.3}
	for p, want := range map[float64]ChurnRisk{0: ChurnHigh, 0.0999: ChurnHigh, 0.1: ChurnMedium, 0.2999: ChurnMedium, 0.3: ChurnLow, 1: ChurnLow} {
		assert.Equal(t, want, th.Risk(p), "%v", p)
	}
}

func TestWindowRefitTakesTheScoringsOwnFit(t *testing.T) {
	asOf := time.Date(2025, 6, 30, 23, 59, 59, 0, time.UTC)
	orders := processShop(3000, asOf, 3, 7, bgnbdCustomer)
	for _, model := range []clv.ModelKind{clv.ModelMBGNBD, clv.ModelBGNBD} {
		t.Run(string(model), func(t *testing.T) {
			settings := DefaultSettings(asOf)
			settings.Model = model
			s, err := settings.normalized()
			require.NoError(t, err)
			ix := buildIndex(nil, ledger.FromOrders(orders), s)
			sums, _ := ix.summaries(ix.asOfDay, s.Unit)
			ownFit := func(name string) windowModel {
				m, err := fitBTYD(name, sums, func() []clv.Triple { return clv.Compress(sums) }, s.MinRepeatCustomers)
				require.NoError(t, err)
				return m
			}
			calls := 0
			main := func() (*clv.Fitted, error) {
				calls++
				return clv.Fit(clv.Dataset{AsOf: ix.midnight(ix.asOfDay), Location: s.Location, Unit: s.Unit, Customers: sums}, s.clvConfig())
			}
			r := &windowRun{ix: ix, s: s, sums: sums, mainFit: main}

			got, err := r.refitBTYD(string(model))
			require.NoError(t, err)
			assert.Equal(t, ownFit(string(model)), got, "the scoring's fit is the candidate's own, to the last bit")
			assert.Equal(t, 1, calls, "the scoring's fit is taken")

			other := CandidateBGNBD
			if model == clv.ModelBGNBD {
				other = CandidateMBGNBD
			}
			got, err = r.refitBTYD(other)
			require.NoError(t, err)
			assert.Equal(t, ownFit(other), got)
			assert.Equal(t, 1, calls, "another candidate is fitted on its own")

			r.mainFit = func() (*clv.Fitted, error) {
				return &clv.Fitted{Fallback: true, Purchases: clv.FitEmpirical(sums)}, nil
			}
			got, err = r.refitBTYD(string(model))
			require.NoError(t, err)
			assert.Equal(t, ownFit(string(model)), got, "a fit that fell back is not taken")
		})
	}
}

// TestWindowBaselineRefitsItsOwnModel: the recency baseline's production
// model is its own one-column regression, not the shared four-column
// feature model fitted on the same holdout.
func TestWindowBaselineRefitsItsOwnModel(t *testing.T) {
	asOf := time.Date(2025, 6, 30, 23, 59, 59, 0, time.UTC)
	orders := processShop(3000, asOf, 3, 11, burstCustomer)
	s, err := DefaultSettings(asOf).normalized()
	require.NoError(t, err)
	ix := buildIndex(nil, ledger.FromOrders(orders), s)
	sums, _ := ix.summaries(ix.asOfDay, s.Unit)
	r := &windowRun{ix: ix, s: s, sums: sums, w: int32(s.WindowDays), perUnit: s.Unit.DaysPer()}
	r.cutoff = ix.asOfDay - r.w
	r.cal, r.calWho = ix.summaries(r.cutoff, s.Unit)
	r.featuresAtCutoff = func() (logisticFit, error) { return fitWindowLogistic(ix, r.cutoff, r.w, []int{0, 1, 2, 3}) }

	for _, tc := range []struct {
		name string
		cols []int
	}{{BaselineRecency, []int{0}}, {CandidateFeatures, []int{0, 1, 2, 3}}} {
		f, err := fitWindowLogistic(ix, r.cutoff, r.w, tc.cols)
		require.NoError(t, err)
		prod, hold, err := r.productionRaw(tc.name, 0.3)
		require.NoError(t, err)
		assert.Equal(t, applyLogistic(ix, &f, tc.cols, ix.asOfDay, nil, len(sums)), prod, tc.name)
		assert.Equal(t, applyLogistic(ix, &f, tc.cols, r.cutoff, r.calWho, len(r.cal)), hold, tc.name)
	}
}
