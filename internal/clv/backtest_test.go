package clv

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// CDNOW: fit on the 39 calibration weeks, predict the 39 holdout weeks
// (1997-10-01 … 1998-06-30), grouped by calibration frequency.
func TestBacktestCDNOW(t *testing.T) {
	purchases := loadCDNOW(t)
	cal := Summarize(purchases, cdnowCalibrationEnd, time.UTC, Weeks)
	freq := map[string]int{}
	for i, s := range cal.Customers {
		freq[cal.IDs[i]] = s.X
	}
	group := func(id string) string {
		switch freq[id] {
		case 0:
			return "x=0"
		case 1:
			return "x=1"
		default:
			return "x≥2"
		}
	}
	asOf := time.Date(1998, 6, 30, 15, 0, 0, 0, time.UTC)
	for _, model := range []ModelKind{ModelBGNBD, ModelMBGNBD} {
		res, err := Backtest(purchases, asOf, BacktestOptions{
			Unit: Weeks, Config: Config{Model: model}, HoldoutMonths: 9, Group: group,
		})
		require.NoError(t, err)
		assert.Equal(t, cdnowCalibrationEnd, res.Cutoff)
		assert.Equal(t, 39.0, res.HoldoutLength)
		assert.Equal(t, model, res.Model)
		assert.False(t, res.Fallback, res.Reason)
		assert.Zero(t, res.NewCustomers) // the cohort was acquired in 1997Q1

		o := res.Overall
		assert.Equal(t, 2357, o.Customers)
		// Actual holdout transactions: distinct purchase days after the cutoff.
		days := map[string]bool{}
		var revenue float64
		for _, p := range purchases {
			if p.At.After(cdnowCalibrationEnd) {
				days[p.CustomerID+p.At.Format(time.DateOnly)] = true
				revenue += p.Value
			}
		}
		assert.Equal(t, float64(len(days)), o.ActualOrders)
		assert.InDelta(t, revenue, o.ActualRevenue, 1e-6)

		// Predicted = Σ E[Y(39) | x, t_x, T] with the calibration fit.
		fitted, err := Fit(cal, Config{Model: model})
		require.NoError(t, err)
		var want float64
		for _, s := range cal.Customers {
			want += fitted.Purchases.ConditionalExpected(39, s.X, s.Tx, s.T)
		}
		assert.InEpsilon(t, want, o.PredictedOrders, 1e-9)

		// Measured: 1,882 actual holdout transactions against 1,653 predicted
		// by BG/NBD (-12%) and 1,577 by MBG/NBD (-16%); revenue -16% and
		// -20%. The bounds catch a broken pipeline, not model quality.
		assert.Less(t, math.Abs(o.OrdersRelError), 0.2, "%+v", o)
		assert.Less(t, math.Abs(o.RevenueRelError), 0.25, "%+v", o)
		assert.Greater(t, o.OrdersCorrelation, 0.5)
		assert.Greater(t, o.RevenueCorrelation, 0.4)
		assert.Greater(t, o.OrdersMAE, 0.0)

		require.Len(t, res.Groups, 3)
		var sumCustomers int
		var sumPred, sumAct float64
		for _, g := range res.Groups {
			sumCustomers += g.Customers
			sumPred += g.PredictedOrders
			sumAct += g.ActualOrders
		}
		assert.Equal(t, []string{"x=0", "x=1", "x≥2"}, []string{res.Groups[0].Key, res.Groups[1].Key, res.Groups[2].Key})
		assert.Equal(t, o.Customers, sumCustomers)
		assert.InEpsilon(t, o.PredictedOrders, sumPred, 1e-9)
		assert.Equal(t, o.ActualOrders, sumAct)
		t.Logf("%s: predicted %.1f orders, actual %.0f; revenue %.0f vs %.0f; corr %.3f", model,
			o.PredictedOrders, o.ActualOrders, o.PredictedRevenue, o.ActualRevenue, o.OrdersCorrelation)
	}
}

// A hand-checkable backtest on the fallback model: two customers, no fit.
func TestBacktestSmallShop(t *testing.T) {
	d := func(m time.Month, day int) time.Time { return time.Date(2024, m, day, 12, 0, 0, 0, time.UTC) }
	purchases := []Purchase{
		{"a", d(1, 1), 10}, {"a", d(1, 11), 10}, {"a", d(1, 21), 10}, // gap 10 days
		{"b", d(1, 5), 30},
		{"a", d(3, 5), 50}, {"a", d(3, 5), 5}, // one holdout day, 55
		{"c", d(3, 10), 70}, // new in the holdout
	}
	res, err := Backtest(purchases, d(3, 31), BacktestOptions{Unit: Days, HoldoutMonths: 2, Group: func(id string) string { return "g-" + id }})
	require.NoError(t, err)
	assert.True(t, res.Fallback)
	assert.NotEmpty(t, res.Reason)
	assert.Equal(t, ModelEmpirical, res.Model)
	assert.Equal(t, time.Date(2024, 1, 31, 0, 0, 0, 0, time.UTC), res.Cutoff)
	assert.Equal(t, 60.0, res.HoldoutLength) // 31 Jan → 31 Mar 2024
	assert.Equal(t, 1, res.NewCustomers)
	assert.Equal(t, 70.0, res.NewCustomerRevenue)

	// Empirical: repeat rate (1+1)/(2+2) = 1/2, pooled gap 20/2 = 10 days.
	// a: own gap (20+10)/3 = 10, last purchase 10 days before the cutoff:
	// not overdue, P(alive) = 1, 60/10 = 6 orders.
	// b: 26 days since the only purchase, 16 overdue: ½·exp(-1.6) alive,
	// 6 × that orders.
	pb := 0.5 * math.Exp(-1.6)
	o := res.Overall
	assert.Equal(t, 2, o.Customers)
	assert.InDelta(t, 6+6*pb, o.PredictedOrders, 1e-9)
	assert.Equal(t, 1.0, o.ActualOrders)
	assert.Equal(t, 55.0, o.ActualRevenue)
	assert.InDelta(t, ((6-1)+6*pb)/2, o.OrdersMAE, 1e-9)
	assert.InDelta(t, (6+6*pb-1)/1, o.OrdersRelError, 1e-9)
	assert.InDelta(t, 1.0, o.OrdersCorrelation, 1e-9) // two points always line up
	require.Len(t, res.Groups, 2)
	assert.Equal(t, "g-a", res.Groups[0].Key)
	assert.InDelta(t, 6.0, res.Groups[0].PredictedOrders, 1e-9)
	assert.Equal(t, 0.0, res.Groups[0].OrdersCorrelation) // one customer: undefined, reported as 0
	// Spend fallback: mean of all four calibration transactions is 15; a's
	// own repeat mean 10 over x = 2: (15 + 2×10)/3.
	assert.InDelta(t, 6*(15.0+20)/3, res.Groups[0].PredictedRevenue, 1e-9)

	// Pure: the same input gives the same output.
	again, err := Backtest(purchases, d(3, 31), BacktestOptions{Unit: Days, HoldoutMonths: 2, Group: func(id string) string { return "g-" + id }})
	require.NoError(t, err)
	assert.Equal(t, res, again)
}

func TestBacktestErrors(t *testing.T) {
	_, err := Backtest(nil, time.Now(), BacktestOptions{})
	assert.ErrorIs(t, err, ErrInsufficientData)
	_, err = Backtest(nil, time.Now(), BacktestOptions{HoldoutMonths: -1})
	assert.ErrorIs(t, err, ErrInvalidConfig)
	_, err = Backtest(nil, time.Now(), BacktestOptions{Config: Config{Model: "x"}})
	assert.ErrorIs(t, err, ErrInvalidConfig)
}

func TestPairStatsCorrelation(t *testing.T) {
	var s pairStats
	xs := []float64{1, 2, 3, 4, 5}
	ys := []float64{2, 4.1, 5.9, 8.2, 9.8}
	for i := range xs {
		s.add(xs[i], ys[i])
	}
	// Pearson r computed directly.
	var mx, my float64
	for i := range xs {
		mx += xs[i] / 5
		my += ys[i] / 5
	}
	var sxy, sxx, syy float64
	for i := range xs {
		sxy += (xs[i] - mx) * (ys[i] - my)
		sxx += (xs[i] - mx) * (xs[i] - mx)
		syy += (ys[i] - my) * (ys[i] - my)
	}
	assert.InDelta(t, sxy/math.Sqrt(sxx*syy), s.correlation(), 1e-12)
	assert.Equal(t, 0.0, new(pairStats).correlation())
}
