package clv

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// Defaults of Config.
const (
	DefaultMinRepeatCustomers   = 30
	DefaultHorizonMonths        = 12
	DefaultMonthlyDiscountRate  = 0.01
	DefaultMarginRate           = 0.3
	DefaultNextOrderProbability = 0.5
)

// Config chooses the model and the CLV arithmetic.
type Config struct {
	// Model is ModelMBGNBD (default) or ModelBGNBD.
	Model ModelKind
	// MinRepeatCustomers is how many customers with a repeat purchase the
	// shop needs before a BTYD model is fitted at all.
	MinRepeatCustomers int
	// HorizonMonths is the predicted-CLV horizon in average months
	// (365.25/12 days each).
	HorizonMonths int
	// MonthlyDiscountRate d discounts month k's margin by (1+d)^k.
	MonthlyDiscountRate float64
	// MarginRate turns predicted revenue into margin.
	MarginRate float64
	// NextOrderProbability q defines the expected next order date as the
	// day by which the customer has ordered again with probability q.
	NextOrderProbability float64
}

// DefaultConfig returns the app's defaults: MBG/NBD, 12 months, 1% a month,
// 30% margin, median next order date.
func DefaultConfig() Config {
	return Config{
		Model:                ModelMBGNBD,
		MinRepeatCustomers:   DefaultMinRepeatCustomers,
		HorizonMonths:        DefaultHorizonMonths,
		MonthlyDiscountRate:  DefaultMonthlyDiscountRate,
		MarginRate:           DefaultMarginRate,
		NextOrderProbability: DefaultNextOrderProbability,
	}
}

// ErrInvalidConfig reports a Config that cannot be used.
var ErrInvalidConfig = errors.New("clv: invalid config")

// normalized fills the fields whose zero value is meaningless and rejects
// impossible values. A zero discount rate is valid and kept.
func (c Config) normalized() (Config, error) {
	if c.Model == "" {
		c.Model = ModelMBGNBD
	}
	if c.MinRepeatCustomers == 0 {
		c.MinRepeatCustomers = DefaultMinRepeatCustomers
	}
	if c.HorizonMonths == 0 {
		c.HorizonMonths = DefaultHorizonMonths
	}
	if c.MarginRate == 0 {
		c.MarginRate = DefaultMarginRate
	}
	if c.NextOrderProbability == 0 {
		c.NextOrderProbability = DefaultNextOrderProbability
	}
	switch {
	case c.Model != ModelMBGNBD && c.Model != ModelBGNBD:
		return c, fmt.Errorf("%w: model %q", ErrInvalidConfig, c.Model)
	case c.MinRepeatCustomers < 1:
		return c, fmt.Errorf("%w: min repeat customers %d", ErrInvalidConfig, c.MinRepeatCustomers)
	case c.HorizonMonths < 1 || c.HorizonMonths > 1200:
		return c, fmt.Errorf("%w: horizon %d months", ErrInvalidConfig, c.HorizonMonths)
	case !(c.MonthlyDiscountRate >= 0 && c.MonthlyDiscountRate < 10):
		return c, fmt.Errorf("%w: monthly discount rate %v", ErrInvalidConfig, c.MonthlyDiscountRate)
	case !(c.MarginRate > 0 && c.MarginRate <= 1):
		return c, fmt.Errorf("%w: margin rate %v", ErrInvalidConfig, c.MarginRate)
	case !(c.NextOrderProbability > 0 && c.NextOrderProbability < 1):
		return c, fmt.Errorf("%w: next order probability %v", ErrInvalidConfig, c.NextOrderProbability)
	}
	return c, nil
}

// Fitted is a shop's fitted purchase and spend models, ready to predict.
type Fitted struct {
	Config   Config // normalized
	Unit     TimeUnit
	AsOf     time.Time
	Location *time.Location

	Purchases PurchaseModel
	// Fallback is true when Purchases is the Empirical fallback instead of
	// the configured BTYD model; Reason says why.
	Fallback    bool
	Reason      string
	PurchaseFit FitResult

	Spend         SpendModel
	SpendFallback bool
	SpendReason   string
	SpendFit      FitResult

	Customers       int
	RepeatCustomers int
}

// Fit fits the configured purchase model and Gamma-Gamma to a dataset.
// Whenever the data cannot support a fit it falls back to the empirical
// models and says why; it only errs on an invalid Config.
func Fit(ds Dataset, cfg Config) (*Fitted, error) {
	cfg, err := cfg.normalized()
	if err != nil {
		return nil, err
	}
	loc := ds.Location
	if loc == nil {
		loc = time.UTC
	}
	f := &Fitted{Config: cfg, Unit: ds.Unit, AsOf: ds.AsOf, Location: loc, Customers: len(ds.Customers)}
	spendRepeaters := 0
	for _, s := range ds.Customers {
		if s.X > 0 {
			f.RepeatCustomers++
			if s.Monetary > 0 {
				spendRepeaters++
			}
		}
	}
	f.Purchases, f.PurchaseFit, err = fitPurchases(ds, cfg, f.RepeatCustomers)
	if err != nil {
		f.Fallback = true
		f.Reason = err.Error()
		f.Purchases = FitEmpirical(ds.Customers)
	}
	if spendRepeaters < cfg.MinRepeatCustomers {
		err = fmt.Errorf("%w: %d customers with repeat spend, need %d", ErrInsufficientData, spendRepeaters, cfg.MinRepeatCustomers)
	} else {
		var gg GammaGamma
		gg, f.SpendFit, err = FitGammaGamma(ds.Customers)
		f.Spend = gg
	}
	if err != nil {
		f.SpendFallback = true
		f.SpendReason = err.Error()
		f.Spend = FitEmpiricalSpend(ds.Customers)
	}
	return f, nil
}

// calibrationTolerance bounds how far a fitted model's expected number of
// calibration-period repeat purchases may stray from the observed number
// before the fit is distrusted.
const calibrationTolerance = 2.0

func fitPurchases(ds Dataset, cfg Config, repeaters int) (PurchaseModel, FitResult, error) {
	if repeaters < cfg.MinRepeatCustomers {
		return nil, FitResult{}, fmt.Errorf("%w: %d customers with repeat purchases, need %d", ErrInsufficientData, repeaters, cfg.MinRepeatCustomers)
	}
	data := Compress(ds.Customers)
	var (
		model PurchaseModel
		res   FitResult
		err   error
	)
	if cfg.Model == ModelBGNBD {
		model, res, err = FitBGNBD(data)
	} else {
		model, res, err = FitMBGNBD(data)
	}
	if err != nil {
		return nil, res, fmt.Errorf("fit %s: %w", cfg.Model, err)
	}
	// A maximum of the likelihood can still describe the shop badly (for
	// example when the data violate the model's assumptions); the total
	// number of calibration purchases is a cheap check against garbage.
	var observed, expected float64
	byT := map[float64]float64{}
	for _, d := range data {
		observed += float64(d.X * d.Count)
		byT[d.T] += float64(d.Count)
	}
	for T, n := range byT {
		expected += n * model.Expected(T)
	}
	if observed > 0 && !(expected/observed <= calibrationTolerance && observed/expected <= calibrationTolerance) {
		return nil, res, fmt.Errorf("fit %s: %w: model expects %.0f calibration repeat purchases, observed %.0f", cfg.Model, ErrNotConverged, expected, observed)
	}
	return model, res, nil
}

// Prediction is one customer's forward-looking value. Orders are counted
// per calendar day, like the transactions they are fitted on; money is in
// the shop's currency.
type Prediction struct {
	// PAlive is the probability that the customer is still active.
	PAlive float64
	// ExpectedOrders is the expected number of orders within the horizon.
	ExpectedOrders float64
	// ExpectedOrderValue is the expected value of each future order.
	ExpectedOrderValue float64
	// ExpectedRevenue is ExpectedOrders × ExpectedOrderValue, undiscounted.
	ExpectedRevenue float64
	// DiscountedRevenue is Σ_k E[orders in month k] × ExpectedOrderValue
	// / (1+d)^k over the horizon's months k = 1..H.
	DiscountedRevenue float64
	// CLV is the predicted CLV: DiscountedRevenue × Config.MarginRate (the
	// app may apply a customer's own margin rate to DiscountedRevenue).
	CLV float64
	// ProbOrderInHorizon is P(at least one order within the horizon).
	ProbOrderInHorizon float64
	// NextOrder is the day by which the customer has ordered again with
	// probability Config.NextOrderProbability; HasNextOrder is false when
	// the chance of ever ordering again is below that probability.
	NextOrder    time.Time
	HasNextOrder bool
}

// purchaseForecast is the part of a prediction that depends only on
// (x, t_x, T), shared by every customer with the same triple.
type purchaseForecast struct {
	pAlive, orders, discountedOrders, probInHorizon float64
	wait                                            float64
	hasWait                                         bool
}

func (f *Fitted) forecast(x int, tx, T float64) purchaseForecast {
	return f.forecastWith(f.discounts(), x, tx, T)
}

// discounts are the horizon's monthly discount factors (1+d)^k, k = 1..H.
func (f *Fitted) discounts() []float64 {
	out := make([]float64, f.Config.HorizonMonths)
	for k := range out {
		out[k] = math.Pow(1+f.Config.MonthlyDiscountRate, float64(k+1))
	}
	return out
}

// forecastWith is forecast with the discount factors computed once for
// many customers. The BG family's P(alive) enters every horizon's
// expectation, the chance to buy and the wait: computed once, it halves
// the cost of a forecast, with the same numbers.
func (f *Fitted) forecastWith(discounts []float64, x int, tx, T float64) purchaseForecast {
	m := f.Purchases
	month := f.Unit.MonthsToUnits(1)
	fam, isFamily := familyOf(m)
	pa := m.PAlive(x, tx, T)
	fc := purchaseForecast{pAlive: pa}
	prev := 0.0
	for k := 1; k <= f.Config.HorizonMonths; k++ {
		t := float64(k) * month
		var cum float64
		switch {
		case !isFamily:
			cum = m.ConditionalExpected(t, x, tx, T)
		case t > 0:
			cum = fam.conditionalExpectedAlive(pa, t, x, tx, T)
		}
		if cum < prev {
			cum = prev // cumulative expectations never decrease; ignore rounding
		}
		fc.discountedOrders += (cum - prev) / discounts[k-1]
		prev = cum
	}
	fc.orders = prev
	horizon, q := float64(f.Config.HorizonMonths)*month, f.Config.NextOrderProbability
	switch {
	case !isFamily:
		fc.probInHorizon = m.ProbPurchaseWithin(horizon, x, tx, T)
		fc.wait, fc.hasWait = m.TimeToPurchase(q, x, tx, T)
	default:
		if horizon > 0 {
			fc.probInHorizon = fam.probPurchaseWithinAlive(pa, horizon, x, tx, T)
		}
		if q > 0 && q < 1 {
			fc.wait, fc.hasWait = fam.timeToPurchaseAlive(pa, q, x, tx, T)
		}
	}
	return fc
}

// familyOf is the arithmetic behind a valid BG/NBD or MBG/NBD model.
func familyOf(m PurchaseModel) (bgFamily, bool) {
	var fam bgFamily
	switch bg := m.(type) {
	case BGNBD:
		fam = bg.family()
	case MBGNBD:
		fam = bg.family()
	default:
		return fam, false
	}
	return fam, fam.valid()
}

func (f *Fitted) assemble(s Summary, fc purchaseForecast) Prediction {
	p := Prediction{
		PAlive:             fc.pAlive,
		ExpectedOrders:     fc.orders,
		ExpectedOrderValue: f.Spend.ExpectedSpend(s.X, s.Monetary),
		ProbOrderInHorizon: fc.probInHorizon,
	}
	p.ExpectedRevenue = p.ExpectedOrders * p.ExpectedOrderValue
	p.DiscountedRevenue = fc.discountedOrders * p.ExpectedOrderValue
	p.CLV = p.DiscountedRevenue * f.Config.MarginRate
	if fc.hasWait {
		// Whole days after the as-of day, at least the next day.
		days := math.Max(1, math.Ceil(fc.wait*f.Unit.DaysPer()-1e-9))
		p.NextOrder = f.AsOf.AddDate(0, 0, int(days))
		p.HasNextOrder = true
	}
	return p
}

// Predict forecasts one customer summarized at the dataset's as-of day.
func (f *Fitted) Predict(s Summary) Prediction {
	return f.assemble(s, f.forecast(s.X, s.Tx, s.T))
}

// PredictAll forecasts many customers, computing each distinct (x, t_x, T)
// once. out[i] is customers[i]'s: a Prediction carries no ID, so callers
// name it by position.
func (f *Fitted) PredictAll(customers []Summary) []Prediction {
	return f.NewPredictor().Predict(customers)
}

// Predictor forecasts customers a batch at a time as PredictAll does,
// reusing its memo and its output from batch to batch: a million
// customers predicted in batches of 65,536 made a new memo and output for
// each, 166 MB of garbage where a rescore then peaked. Not safe for
// concurrent use.
type Predictor struct {
	f         *Fitted
	discounts []float64
	memo      map[predictKey]purchaseForecast
	out       []Prediction
}

type predictKey struct {
	x     int
	tx, t float64
}

// NewPredictor returns a Predictor of the fitted models.
func (f *Fitted) NewPredictor() *Predictor {
	return &Predictor{f: f, discounts: f.discounts(), memo: map[predictKey]purchaseForecast{}}
}

// Predict forecasts customers as PredictAll does. The result is valid
// until the next call.
func (p *Predictor) Predict(customers []Summary) []Prediction {
	// The memo is emptied, keeping its room, so that it holds at most a
	// batch's distinct histories.
	clear(p.memo)
	p.out = slices.Grow(p.out[:0], len(customers))[:len(customers)]
	for i, s := range customers {
		k := predictKey{s.X, s.Tx, s.T}
		fc, ok := p.memo[k]
		if !ok {
			fc = p.f.forecastWith(p.discounts, s.X, s.Tx, s.T)
			p.memo[k] = fc
		}
		p.out[i] = p.f.assemble(s, fc)
	}
	return p.out
}
