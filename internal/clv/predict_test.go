package clv

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func findCustomer(t testing.TB, ds Dataset, id string) Summary {
	t.Helper()
	for i, s := range ds.Customers {
		if ds.IDs[i] == id {
			return s
		}
	}
	t.Fatalf("customer %s not found", id)
	return Summary{}
}

func TestFitCDNOWDefaultIsMBGNBD(t *testing.T) {
	ds := cdnowCalibration(t)
	f, err := Fit(ds, DefaultConfig())
	require.NoError(t, err)
	require.False(t, f.Fallback, f.Reason)
	require.False(t, f.SpendFallback, f.SpendReason)
	m, ok := f.Purchases.(MBGNBD)
	require.True(t, ok, "%T", f.Purchases)
	assert.Equal(t, 0.525, round(m.R, 3))
	assert.IsType(t, GammaGamma{}, f.Spend)
	assert.Equal(t, 2357, f.Customers)
	assert.Equal(t, 946, f.RepeatCustomers)

	bg, err := Fit(ds, Config{Model: ModelBGNBD})
	require.NoError(t, err)
	assert.Equal(t, ModelBGNBD, bg.Purchases.Kind())
	assert.Equal(t, 2.426, round(bg.Purchases.(BGNBD).B, 3))
}

// The CLV arithmetic spelled out for one customer: month k's expected
// orders are the increase of the cumulative conditional expectation over
// one average month (365.25/12 days = 4.348 weeks), discounted by 1.01^k.
func TestPredictionArithmetic(t *testing.T) {
	ds := cdnowCalibration(t)
	cfg := DefaultConfig()
	f, err := Fit(ds, cfg)
	require.NoError(t, err)
	s := findCustomer(t, ds, "1") // x=2, t_x=30.43, T=38.86, zbar=22.345
	p := f.Predict(s)

	month := 365.25 / 12 / 7
	var orders, discounted float64
	for k := 1; k <= 12; k++ {
		inc := f.Purchases.ConditionalExpected(float64(k)*month, 2, s.Tx, s.T) - f.Purchases.ConditionalExpected(float64(k-1)*month, 2, s.Tx, s.T)
		orders += inc
		discounted += inc / math.Pow(1.01, float64(k))
	}
	spend := f.Spend.ExpectedSpend(2, s.Monetary)
	assert.InEpsilon(t, f.Purchases.ConditionalExpected(12*month, 2, s.Tx, s.T), p.ExpectedOrders, 1e-12)
	assert.InEpsilon(t, orders, p.ExpectedOrders, 1e-12)
	assert.InEpsilon(t, spend, p.ExpectedOrderValue, 1e-12)
	assert.InEpsilon(t, orders*spend, p.ExpectedRevenue, 1e-12)
	assert.InEpsilon(t, discounted*spend, p.DiscountedRevenue, 1e-12)
	assert.InEpsilon(t, discounted*spend*0.3, p.CLV, 1e-12)
	assert.Less(t, p.CLV, p.ExpectedRevenue*0.3)
	assert.InEpsilon(t, f.Purchases.PAlive(2, s.Tx, s.T), p.PAlive, 1e-12)
	assert.InEpsilon(t, f.Purchases.ProbPurchaseWithin(12*month, 2, s.Tx, s.T), p.ProbOrderInHorizon, 1e-12)

	// Next order: the median waiting time, rounded up to whole days after
	// the as-of day.
	require.True(t, p.HasNextOrder)
	wait, ok := f.Purchases.TimeToPurchase(0.5, 2, s.Tx, s.T)
	require.True(t, ok)
	assert.InDelta(t, 0.5, f.Purchases.ProbPurchaseWithin(wait, 2, s.Tx, s.T), 1e-9)
	wantDate := cdnowCalibrationEnd.AddDate(0, 0, int(math.Ceil(wait*7)))
	assert.Equal(t, wantDate, p.NextOrder)

	// Customer 3 bought once on 1997-01-01: unlikely to return, no date.
	lapsed := f.Predict(findCustomer(t, ds, "3"))
	assert.Less(t, lapsed.PAlive, 0.5)
	assert.False(t, lapsed.HasNextOrder)
	assert.True(t, lapsed.NextOrder.IsZero())

	all := f.PredictAll(ds.Customers)
	require.Len(t, all, len(ds.Customers))
	for i, s := range ds.Customers {
		if i%97 == 0 {
			assert.Equal(t, f.Predict(s), all[i])
		}
	}

	// A Predictor reused over batches of every size, larger and smaller
	// than the one before, gives each batch what PredictAll gives it.
	predictor := f.NewPredictor()
	for from, size := 0, 1; from < len(ds.Customers); from, size = from+size, (size*7)%500+1 {
		batch := ds.Customers[from:min(from+size, len(ds.Customers))]
		require.Equal(t, f.PredictAll(batch), predictor.Predict(batch), "batch from %d", from)
	}
}

// Fitting in days instead of weeks changes α by a factor of 7 and nothing
// else: every prediction is the same.
func TestUnitsDoNotChangePredictions(t *testing.T) {
	purchases := loadCDNOW(t)
	weeks := Summarize(purchases, cdnowCalibrationEnd, time.UTC, Weeks)
	days := Summarize(purchases, cdnowCalibrationEnd, time.UTC, Days)
	fw, err := Fit(weeks, DefaultConfig())
	require.NoError(t, err)
	fd, err := Fit(days, DefaultConfig())
	require.NoError(t, err)
	mw, md := fw.Purchases.(MBGNBD), fd.Purchases.(MBGNBD)
	assert.InEpsilon(t, mw.R, md.R, 1e-5)
	assert.InEpsilon(t, 7*mw.Alpha, md.Alpha, 1e-5)
	assert.InEpsilon(t, mw.A, md.A, 1e-5)
	assert.InEpsilon(t, mw.B, md.B, 1e-5)
	pw, pd := fw.PredictAll(weeks.Customers), fd.PredictAll(days.Customers)
	for i := range pw {
		require.Equal(t, weeks.IDs[i], days.IDs[i])
		assert.InEpsilon(t, pw[i].CLV+1e-9, pd[i].CLV+1e-9, 1e-4, weeks.IDs[i])
		assert.InDelta(t, pw[i].PAlive, pd[i].PAlive, 1e-5)
		assert.Equal(t, pw[i].HasNextOrder, pd[i].HasNextOrder)
	}
}

func TestFitRejectsInvalidConfig(t *testing.T) {
	for _, cfg := range []Config{
		{Model: "pareto"},
		{HorizonMonths: -1},
		{MonthlyDiscountRate: -0.1},
		{MarginRate: 1.5},
		{NextOrderProbability: 1},
		{MinRepeatCustomers: -2},
	} {
		_, err := Fit(Dataset{}, cfg)
		assert.ErrorIs(t, err, ErrInvalidConfig, "%+v", cfg)
	}
}

// Degenerate shops must yield flagged fallbacks and finite predictions.
func TestFallbackOnDegenerateData(t *testing.T) {
	asOf := time.Date(2024, 6, 30, 0, 0, 0, 0, time.UTC)
	start := asOf.AddDate(-1, 0, 0)
	var (
		oneCustomer   = []Purchase{{"a", start, 10}, {"a", start.AddDate(0, 1, 0), 12}}
		oneTimeBuyers []Purchase
		oneDay        []Purchase
		fewRepeaters  []Purchase
		clockwork     []Purchase
	)
	// A BTYD-shaped shop in which every purchase is worth the same: the
	// purchase model fits, Gamma-Gamma cannot.
	sameSpend := simulatePurchases(42, 3000, bgFamily{0.5, 20, 0.8, 2.5, 1}, start, asOf,
		func(*rand.Rand, int) float64 { return 9.99 })
	for i := 0; i < 200; i++ {
		id := fmt.Sprint("c", i)
		oneTimeBuyers = append(oneTimeBuyers, Purchase{id, start.AddDate(0, 0, i), 20})
		oneDay = append(oneDay, Purchase{id, asOf.Add(time.Duration(i) * time.Minute), 20}, Purchase{id, asOf.Add(time.Hour), 5})
		fewRepeaters = append(fewRepeaters, Purchase{id, start.AddDate(0, 0, i), 20})
		if i < 5 {
			fewRepeaters = append(fewRepeaters, Purchase{id, start.AddDate(0, 0, i+30), 20})
		}
		// Everybody buys every 25 days like clockwork: no heterogeneity
		// and no dropout, so the BTYD likelihood runs off to infinity.
		for k := 0; k <= i%4; k++ {
			clockwork = append(clockwork, Purchase{id, start.AddDate(0, 0, i+25*k), 9.99})
		}
	}
	cases := []struct {
		name          string
		purchases     []Purchase
		fallback      bool
		spendFallback bool
	}{
		{"no customers", nil, true, true},
		{"one customer", oneCustomer, true, true},
		{"all one-time buyers", oneTimeBuyers, true, true},
		{"one day of history", oneDay, true, true},
		{"few repeaters", fewRepeaters, true, true},
		{"identical spends", sameSpend, false, true},
		{"diverging fit", clockwork, true, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, model := range []ModelKind{ModelMBGNBD, ModelBGNBD} {
				ds := Summarize(c.purchases, asOf, time.UTC, Days)
				f, err := Fit(ds, Config{Model: model})
				require.NoError(t, err)
				assert.Equal(t, c.fallback, f.Fallback, f.Reason)
				assert.Equal(t, c.fallback, f.Reason != "")
				assert.Equal(t, c.spendFallback, f.SpendFallback, f.SpendReason)
				assert.Equal(t, c.spendFallback, f.SpendReason != "")
				if c.fallback {
					assert.Equal(t, ModelEmpirical, f.Purchases.Kind())
				}
				probe := append(append([]Summary(nil), ds.Customers...), Summary{T: 0}, Summary{X: 3, Tx: 10, T: 400, Monetary: 50})
				for _, p := range f.PredictAll(probe) {
					for _, v := range []float64{p.PAlive, p.ExpectedOrders, p.ExpectedOrderValue, p.ExpectedRevenue, p.DiscountedRevenue, p.CLV, p.ProbOrderInHorizon} {
						require.True(t, isFinite(v) && v >= 0, "%+v", p)
					}
					require.LessOrEqual(t, p.PAlive, 1.0)
				}
			}
		})
	}
}

func TestEmpiricalFallbackModel(t *testing.T) {
	cs := []Summary{
		{X: 0, T: 100}, {X: 0, T: 50}, {X: 2, Tx: 40, T: 60}, {X: 1, Tx: 20, T: 30},
	}
	e := FitEmpirical(cs)
	assert.InDelta(t, 3.0/6, e.RepeatRate, 1e-12) // (2+1)/(4+2)
	assert.InDelta(t, 60.0/3, e.MeanGap, 1e-12)   // (40+20)/(2+1)
	// Own gap (40+20)/3 = 20, last purchase 20 ago: not overdue.
	assert.Equal(t, 1.0, e.PAlive(2, 40, 60))
	assert.InDelta(t, 30.0/20, e.ConditionalExpected(30, 2, 40, 60), 1e-12)
	// 50 overdue beyond a 20 gap: exp(-(70-20)/20).
	assert.InDelta(t, math.Exp(-2.5), e.PAlive(2, 40, 110), 1e-12)
	assert.InDelta(t, 0.5, e.PAlive(0, 0, 10), 1e-12)
	assert.InDelta(t, 0.5*math.Exp(-0.5), e.PAlive(0, 0, 30), 1e-12)
	w, ok := e.TimeToPurchase(0.5, 2, 40, 60)
	require.True(t, ok)
	assert.InDelta(t, 20*math.Ln2, w, 1e-12)

	none := FitEmpirical([]Summary{{X: 0, T: 3}})
	assert.Equal(t, 0.0, none.MeanGap)
	assert.Equal(t, 0.0, none.ConditionalExpected(30, 0, 0, 3))
	_, ok = none.TimeToPurchase(0.5, 0, 0, 3)
	assert.False(t, ok)

	sp := FitEmpiricalSpend([]Summary{{FirstValue: 10}, {FirstValue: 30, X: 2, Monetary: 20}})
	assert.InDelta(t, 20.0, sp.Mean, 1e-12) // (10 + 30 + 2×20)/4
	assert.InDelta(t, (20.0+2*50)/3, sp.ExpectedSpend(2, 50), 1e-12)
	assert.Equal(t, 20.0, sp.ExpectedSpend(0, 0))
}

// forecastByCalls is the forecast asked of the model one question at a
// time, each computing P(alive) afresh: what forecastWith must equal.
func forecastByCalls(f *Fitted, x int, tx, T float64) purchaseForecast {
	m := f.Purchases
	month := f.Unit.MonthsToUnits(1)
	fc := purchaseForecast{pAlive: m.PAlive(x, tx, T)}
	prev := 0.0
	for k := 1; k <= f.Config.HorizonMonths; k++ {
		cum := m.ConditionalExpected(float64(k)*month, x, tx, T)
		if cum < prev {
			cum = prev
		}
		fc.discountedOrders += (cum - prev) / math.Pow(1+f.Config.MonthlyDiscountRate, float64(k))
		prev = cum
	}
	fc.orders = prev
	fc.probInHorizon = m.ProbPurchaseWithin(float64(f.Config.HorizonMonths)*month, x, tx, T)
	fc.wait, fc.hasWait = m.TimeToPurchase(f.Config.NextOrderProbability, x, tx, T)
	return fc
}

func TestForecastSharesPAliveWithoutChangingANumber(t *testing.T) {
	models := []PurchaseModel{
		BGNBD{R: 0.24, Alpha: 4.41, A: 0.79, B: 2.43},
		MBGNBD{R: 0.52, Alpha: 6.18, A: 0.89, B: 1.61},
		MBGNBD{R: 3.1, Alpha: 0.4, A: 12, B: 0.2},
		BGNBD{R: 0.24, Alpha: 4.41, A: 1, B: 0.5},    // a = 1: the interpolated branch
		MBGNBD{R: 0.24, Alpha: -1, A: 0.79, B: 2.43}, // invalid: every answer 0
		FitEmpirical([]Summary{{X: 2, Tx: 10, T: 30}, {X: 0, T: 40}, {X: 5, Tx: 50, T: 52}}),
	}
	rng := rand.New(rand.NewPCG(3, 5))
	for _, m := range models {
		for _, unit := range []TimeUnit{Days, Weeks} {
			cfg, err := DefaultConfig().normalized()
			require.NoError(t, err)
			cfg.HorizonMonths = 1 + rng.IntN(24)
			cfg.NextOrderProbability = []float64{0.5, 0.2, 0.9}[rng.IntN(3)]
			f := &Fitted{Config: cfg, Unit: unit, Purchases: m}
			discounts := f.discounts()
			for range 2000 {
				x := rng.IntN(40) - 1
				T := math.Round(rng.Float64()*1500) / unit.DaysPer()
				tx := math.Round(rng.Float64()*T*1.1*unit.DaysPer()) / unit.DaysPer()
				want := forecastByCalls(f, x, tx, T)
				got := f.forecastWith(discounts, x, tx, T)
				require.Equal(t, fmt.Sprintf("%#v", want), fmt.Sprintf("%#v", got), "%T %+v, %s, x %d t_x %v T %v", m, m, unit, x, tx, T)
			}
		}
	}
}
