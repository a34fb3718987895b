package clv

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"time"
)

// BacktestOptions configures Backtest.
type BacktestOptions struct {
	Location *time.Location // calendar days; nil means UTC
	Unit     TimeUnit
	Config   Config
	// HoldoutMonths is the holdout length in calendar months before the
	// as-of day; 0 means Config.HorizonMonths.
	HoldoutMonths int
	// Group assigns each calibration customer to a group (the app uses its
	// RFM group); nil reports the overall figures only.
	Group func(customerID string) string
}

// BacktestGroup compares predictions with what happened for one group of
// customers. Orders are purchase days, revenue the purchases' value.
type BacktestGroup struct {
	Key              string
	Customers        int
	PredictedOrders  float64
	ActualOrders     float64
	PredictedRevenue float64
	ActualRevenue    float64
	// Per-customer mean absolute errors.
	OrdersMAE  float64
	RevenueMAE float64
	// (predicted - actual) / actual of the group totals; 0 when the group
	// had no actual orders (compare the totals instead).
	OrdersRelError  float64
	RevenueRelError float64
	// Pearson correlation of predicted and actual values per customer; 0
	// when either side does not vary.
	OrdersCorrelation  float64
	RevenueCorrelation float64
}

// BacktestResult is the outcome of a holdout backtest.
type BacktestResult struct {
	Cutoff        time.Time // last day of the calibration period
	AsOf          time.Time // last day of the holdout period
	HoldoutLength float64   // in Unit
	Unit          TimeUnit
	Model         ModelKind
	Fallback      bool
	Reason        string
	SpendFallback bool
	SpendReason   string
	Overall       BacktestGroup
	Groups        []BacktestGroup // sorted by Key
	// Customers first seen in the holdout cannot be predicted one by one;
	// they are reported apart and excluded from every group.
	NewCustomers       int
	NewCustomerOrders  float64
	NewCustomerRevenue float64
}

// Backtest fits on the purchases up to as-of minus the holdout, predicts
// each calibration customer's orders and revenue in the holdout and
// compares with what they actually did.
func Backtest(purchases []Purchase, asOf time.Time, opts BacktestOptions) (BacktestResult, error) {
	loc := opts.Location
	if loc == nil {
		loc = time.UTC
	}
	cfg, err := opts.Config.normalized()
	if err != nil {
		return BacktestResult{}, err
	}
	months := opts.HoldoutMonths
	if months == 0 {
		months = cfg.HorizonMonths
	}
	if months < 1 {
		return BacktestResult{}, fmt.Errorf("%w: holdout %d months", ErrInvalidConfig, months)
	}
	asOfDay := civilDay(asOf, loc)
	end := dayStart(asOfDay, loc)
	cutoff := end.AddDate(0, -months, 0)
	cutoffDay := civilDay(cutoff, loc)

	cal := Summarize(purchases, cutoff, loc, opts.Unit)
	if len(cal.Customers) == 0 {
		return BacktestResult{}, fmt.Errorf("backtest to %s: %w: no customers before %s", end.Format(time.DateOnly), ErrInsufficientData, cutoff.Format(time.DateOnly))
	}
	fitted, err := Fit(cal, cfg)
	if err != nil {
		return BacktestResult{}, fmt.Errorf("backtest fit: %w", err)
	}
	res := BacktestResult{
		Cutoff:        cutoff,
		AsOf:          end,
		HoldoutLength: float64(asOfDay-cutoffDay) / opts.Unit.DaysPer(),
		Unit:          opts.Unit,
		Model:         fitted.Purchases.Kind(),
		Fallback:      fitted.Fallback,
		Reason:        fitted.Reason,
		SpendFallback: fitted.SpendFallback,
		SpendReason:   fitted.SpendReason,
	}

	actuals := holdoutActuals(purchases, loc, cutoffDay, asOfDay)
	preds := predictHoldout(cal.Customers, fitted, res.HoldoutLength)
	for id, a := range actuals {
		// Summarize gives its IDs in ascending order.
		if _, calibrated := slices.BinarySearch(cal.IDs, id); !calibrated {
			res.NewCustomers++
			res.NewCustomerOrders += float64(len(a.days))
			res.NewCustomerRevenue += a.revenue
		}
	}
	res.compare(cal.IDs, preds, actuals, opts.Group)
	return res, nil
}

// holdoutActual is one customer's behaviour in the holdout: the distinct
// days they bought on and the value.
type holdoutActual struct {
	days    map[int64]struct{}
	revenue float64
}

// holdoutActuals gathers what each customer did in the holdout, the civil
// days after cutoffDay up to asOfDay.
func holdoutActuals(purchases []Purchase, loc *time.Location, cutoffDay, asOfDay int64) map[string]*holdoutActual {
	actuals := map[string]*holdoutActual{}
	for _, p := range purchases {
		if p.CustomerID == "" {
			continue
		}
		d := civilDay(p.At, loc)
		if d <= cutoffDay || d > asOfDay {
			continue
		}
		a := actuals[p.CustomerID]
		if a == nil {
			a = &holdoutActual{days: map[int64]struct{}{}}
			actuals[p.CustomerID] = a
		}
		a.days[d] = struct{}{}
		a.revenue += finiteOrZero(p.Value)
	}
	return actuals
}

// holdoutPrediction is one calibration customer's predicted orders and
// revenue in the holdout.
type holdoutPrediction struct{ orders, revenue float64 }

// predictHoldout predicts every calibration customer over a holdout of the
// given length, computing each distinct (x, tx, T) once: preds[i] is
// customers[i]'s.
func predictHoldout(customers []Summary, fitted *Fitted, length float64) []holdoutPrediction {
	preds := make([]holdoutPrediction, len(customers))
	cache := map[[3]float64]float64{}
	for i, s := range customers {
		k := [3]float64{float64(s.X), s.Tx, s.T}
		orders, ok := cache[k]
		if !ok {
			orders = fitted.Purchases.ConditionalExpected(length, s.X, s.Tx, s.T)
			cache[k] = orders
		}
		preds[i] = holdoutPrediction{orders, orders * fitted.Spend.ExpectedSpend(s.X, s.Monetary)}
	}
	return preds
}

// compare sets the overall and the per-group accuracy of the calibration
// customers' predictions.
func (res *BacktestResult) compare(ids []string, preds []holdoutPrediction, actuals map[string]*holdoutActual, group func(string) string) {
	overall := newGroupAcc("")
	groups := map[string]*groupAcc{}
	for i, id := range ids {
		p := preds[i]
		var ao, ar float64
		if a := actuals[id]; a != nil {
			ao, ar = float64(len(a.days)), a.revenue
		}
		overall.add(p.orders, ao, p.revenue, ar)
		if group != nil {
			key := group(id)
			g := groups[key]
			if g == nil {
				g = newGroupAcc(key)
				groups[key] = g
			}
			g.add(p.orders, ao, p.revenue, ar)
		}
	}
	res.Overall = overall.result()
	for _, g := range groups {
		res.Groups = append(res.Groups, g.result())
	}
	sort.Slice(res.Groups, func(i, j int) bool { return res.Groups[i].Key < res.Groups[j].Key })
}

// BacktestAccumulator gathers one group's predicted and actual orders and
// revenue, customer by customer, into a BacktestGroup. Callers with their
// own index of the shop (internal/scoring) use it to report exactly as
// Backtest does.
type BacktestAccumulator struct {
	key             string
	orders, revenue pairStats
	n               float64
}

type groupAcc = BacktestAccumulator

func newGroupAcc(key string) *groupAcc { return &groupAcc{key: key} }

// Add records one customer's prediction and outcome.
func (g *BacktestAccumulator) Add(predOrders, actOrders, predRevenue, actRevenue float64) {
	g.add(predOrders, actOrders, predRevenue, actRevenue)
}

// Customers is how many customers were added.
func (g *BacktestAccumulator) Customers() int { return int(g.n) }

// Result is the group's accuracy so far, under key.
func (g *BacktestAccumulator) Result(key string) BacktestGroup {
	r := g.result()
	r.Key = key
	return r
}

func (g *groupAcc) add(predOrders, actOrders, predRevenue, actRevenue float64) {
	g.n++
	g.orders.add(predOrders, actOrders)
	g.revenue.add(predRevenue, actRevenue)
}

func (g *groupAcc) result() BacktestGroup {
	return BacktestGroup{
		Key:                g.key,
		Customers:          int(g.n),
		PredictedOrders:    g.orders.sumP,
		ActualOrders:       g.orders.sumA,
		PredictedRevenue:   g.revenue.sumP,
		ActualRevenue:      g.revenue.sumA,
		OrdersMAE:          g.orders.mae(),
		RevenueMAE:         g.revenue.mae(),
		OrdersRelError:     g.orders.relError(),
		RevenueRelError:    g.revenue.relError(),
		OrdersCorrelation:  g.orders.correlation(),
		RevenueCorrelation: g.revenue.correlation(),
	}
}

// pairStats accumulates predicted/actual pairs. Sums of squares are taken
// around the running means (Welford) so correlation stays accurate for
// large shops.
type pairStats struct {
	n, sumP, sumA, absErr float64
	meanP, meanA          float64
	m2P, m2A, cPA         float64
}

func (s *pairStats) add(p, a float64) {
	s.n++
	s.sumP += p
	s.sumA += a
	s.absErr += math.Abs(p - a)
	dp := p - s.meanP
	s.meanP += dp / s.n
	da := a - s.meanA
	s.meanA += da / s.n
	s.m2P += dp * (p - s.meanP)
	s.m2A += da * (a - s.meanA)
	s.cPA += dp * (a - s.meanA)
}

func (s *pairStats) mae() float64 {
	if s.n == 0 {
		return 0
	}
	return s.absErr / s.n
}

func (s *pairStats) relError() float64 {
	if !(s.sumA > 0) {
		return 0
	}
	return (s.sumP - s.sumA) / s.sumA
}

func (s *pairStats) correlation() float64 {
	if !(s.m2P > 0) || !(s.m2A > 0) {
		return 0
	}
	r := s.cPA / math.Sqrt(s.m2P*s.m2A)
	return math.Max(-1, math.Min(1, r))
}
