package scoring

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/cvo-app/cvo/internal/clv"
	"github.com/cvo-app/cvo/internal/parallel"
	"github.com/cvo-app/cvo/internal/rfm"
)

// Backtest compares what the models, fitted on the history up to a cutoff,
// predicted for the holdout period from the cutoff to as-of with what the
// customers did. Orders are purchase days, revenue their net value.
type Backtest struct {
	Cutoff        time.Time     `json:"cutoff"` // last day of the calibration period
	AsOf          time.Time     `json:"asOf"`   // last day of the holdout
	HoldoutMonths int           `json:"holdoutMonths"`
	HoldoutLength float64       `json:"holdoutLength"` // in Unit
	Unit          string        `json:"unit"`
	Model         string        `json:"model"`
	Fallback      bool          `json:"fallback"`
	Reason        string        `json:"reason,omitempty"`
	SpendFallback bool          `json:"spendFallback"`
	SpendReason   string        `json:"spendReason,omitempty"`
	Overall       BacktestGroup `json:"overall"`
	// Groups split the calibration customers by the RFM group they had at
	// the cutoff, in display order; groups without customers are left out.
	Groups []BacktestGroup `json:"groups"`
	// Customers first seen in the holdout cannot be predicted one by one;
	// they are counted apart.
	NewCustomers       int     `json:"newCustomers"`
	NewCustomerOrders  float64 `json:"newCustomerOrders"`
	NewCustomerRevenue float64 `json:"newCustomerRevenue"`
}

// BacktestGroup is clv.BacktestGroup for one RFM group (empty Group: all).
type BacktestGroup struct {
	Group              rfm.Group `json:"group"`
	Customers          int       `json:"customers"`
	PredictedOrders    float64   `json:"predictedOrders"`
	ActualOrders       float64   `json:"actualOrders"`
	PredictedRevenue   float64   `json:"predictedRevenue"`
	ActualRevenue      float64   `json:"actualRevenue"`
	OrdersMAE          float64   `json:"ordersMae"`
	RevenueMAE         float64   `json:"revenueMae"`
	OrdersRelError     float64   `json:"ordersRelError"`
	RevenueRelError    float64   `json:"revenueRelError"`
	OrdersCorrelation  float64   `json:"ordersCorrelation"`
	RevenueCorrelation float64   `json:"revenueCorrelation"`
}

var errNoCalibration = errors.New("no customer bought before the cutoff")

// holdoutMonths is the backtest's holdout: the setting, or the CLV horizon
// shortened to a third of the history when the history is short.
func holdoutMonths(s Settings, ix *shopIndex) int {
	if s.BacktestHoldoutMonths != 0 {
		return s.BacktestHoldoutMonths
	}
	months := s.HorizonMonths
	historyMonths := float64(ix.asOfDay-ix.minDay) / (365.25 / 12)
	if historyMonths < 3*float64(months) {
		months = max(1, int(math.Round(historyMonths/3)))
	}
	return months
}

// runBacktest is clv.Backtest on the index: the same calendar, fit and
// metrics, without a map per customer. Calibration customers are grouped
// by their RFM group at the cutoff.
func runBacktest(ix *shopIndex, s Settings, months int) (*Backtest, error) {
	if months < 1 {
		return nil, fmt.Errorf("holdout of %d months", months)
	}
	end := ix.midnight(ix.asOfDay)
	cutoff := end.AddDate(0, -months, 0)
	cutoffDay := ix.zones.Day(cutoff.Unix())
	cal, calWho := ix.summaries(cutoffDay, s.Unit)
	if len(cal) == 0 {
		return nil, fmt.Errorf("backtest to %s: %w (%s)", end.Format(time.DateOnly), errNoCalibration, cutoff.Format(time.DateOnly))
	}
	fitted, err := clv.Fit(clv.Dataset{AsOf: cutoff, Location: ix.loc, Unit: s.Unit, Customers: cal}, s.clvConfig())
	if err != nil {
		return nil, fmt.Errorf("backtest fit: %w", err)
	}
	bt := &Backtest{
		Cutoff:        cutoff,
		AsOf:          end,
		HoldoutMonths: months,
		HoldoutLength: float64(ix.asOfDay-cutoffDay) / s.Unit.DaysPer(),
		Unit:          s.Unit.String(),
		Model:         string(fitted.Purchases.Kind()),
		Fallback:      fitted.Fallback,
		Reason:        fitted.Reason,
		SpendFallback: fitted.SpendFallback,
		SpendReason:   fitted.SpendReason,
	}
	customerOf := func(i int) int {
		if calWho == nil {
			return i
		}
		return int(calWho[i])
	}

	// Predicted and actual holdout orders and revenue per calibration
	// customer, on every core.
	m := len(cal)
	predO, predR := make([]float64, m), make([]float64, m)
	actO, actR := make([]float64, m), make([]float64, m)
	perUnit := s.Unit.DaysPer()
	parallel.Chunks(m, workers(m), func(_, lo, hi int) {
		// Customers without a repeat purchase differ only in T, a whole
		// number of days; the others hardly ever share (x, t_x, T).
		oneTime := newDayCache()
		for i := lo; i < hi; i++ {
			sm := &cal[i]
			var orders float64
			if sm.X == 0 {
				orders = oneTime.get(sm.T*perUnit, func() float64 {
					return fitted.Purchases.ConditionalExpected(bt.HoldoutLength, 0, 0, sm.T)
				})
			} else {
				orders = fitted.Purchases.ConditionalExpected(bt.HoldoutLength, sm.X, sm.Tx, sm.T)
			}
			predO[i] = orders
			predR[i] = orders * fitted.Spend.ExpectedSpend(sm.X, sm.Monetary)
			actO[i], actR[i] = holdoutActivity(ix.purchases(customerOf(i)), cutoffDay, ix.asOfDay)
		}
	})
	// Customers whose first purchase falls in the holdout.
	inCal := make([]bool, ix.customers())
	for i := range m {
		inCal[customerOf(i)] = true
	}
	for c := range ix.customers() {
		if inCal[c] {
			continue
		}
		o, r := holdoutActivity(ix.purchases(c), cutoffDay, ix.asOfDay)
		if o > 0 {
			bt.NewCustomers++
			bt.NewCustomerOrders += o
			bt.NewCustomerRevenue += r
		}
	}

	groups := ix.groupsAt(cutoffDay, cal, calWho)
	var overall groupAcc
	var byGroup [rfm.NumGroups + 1]groupAcc
	for i := range m {
		overall.add(predO[i], actO[i], predR[i], actR[i])
		byGroup[groups[i]].add(predO[i], actO[i], predR[i], actR[i])
	}
	bt.Overall = overall.result(rfm.NoGroup)
	for _, g := range rfm.Groups() {
		if byGroup[g].Customers() > 0 {
			bt.Groups = append(bt.Groups, byGroup[g].result(g))
		}
	}
	if byGroup[rfm.NoGroup].Customers() > 0 {
		bt.Groups = append(bt.Groups, byGroup[rfm.NoGroup].result(rfm.NoGroup))
	}
	return bt, nil
}

// holdoutActivity counts the distinct purchase days in (cutoff, asOf] and
// their value.
func holdoutActivity(ps []purchaseRec, cutoffDay, asOfDay int32) (orders, revenue float64) {
	last := int32(math.MinInt32)
	for i := range ps {
		d := ps[i].Day
		if d <= cutoffDay || d > asOfDay {
			continue
		}
		if d != last {
			orders++
			last = d
		}
		revenue += ps[i].Net
	}
	return orders, revenue
}

// groupsAt scores the calibration customers with RFM as of the end of the
// cutoff day, from their purchases up to then.
func (ix *shopIndex) groupsAt(cutoffDay int32, cal []clv.Summary, who []int32) []rfm.Group {
	asOf := ix.midnight(cutoffDay + 1).Add(-time.Second)
	customers := make([]rfm.Customer, len(cal))
	for i := range cal {
		c := summaryCustomer(who, i)
		// Filled in place, and without IDs (the groups are read by
		// position): a struct with pointers copied in would go through
		// the collector's write barriers, a third of this pass.
		rc := &customers[i]
		var last int64
		for _, p := range ix.purchases(c) {
			if p.Day > cutoffDay {
				break
			}
			rc.Purchases++
			rc.Revenue += p.Net
			if p.Discount() {
				rc.DiscountedPurchases++
			}
			if rc.Purchases == 1 {
				rc.FirstPurchase = ix.unix(&p)
			}
			last = ix.unix(&p)
		}
		if rc.Purchases > 0 {
			rc.LastPurchase = last
		}
	}
	res := rfm.Score(customers, rfm.Options{AsOf: asOf})
	out := make([]rfm.Group, len(cal))
	for i, a := range res.Customers {
		out[i] = a.Group
	}
	return out
}

// groupAcc accumulates one RFM group's predictions and outcomes with clv's
// own accumulator, so the figures match clv.Backtest's.
type groupAcc struct{ clv.BacktestAccumulator }

func (g *groupAcc) add(predOrders, actOrders, predRevenue, actRevenue float64) {
	g.Add(predOrders, actOrders, predRevenue, actRevenue)
}

func (g *groupAcc) result(group rfm.Group) BacktestGroup {
	r := g.Result("")
	return BacktestGroup{
		Group:              group,
		Customers:          r.Customers,
		PredictedOrders:    r.PredictedOrders,
		ActualOrders:       r.ActualOrders,
		PredictedRevenue:   r.PredictedRevenue,
		ActualRevenue:      r.ActualRevenue,
		OrdersMAE:          r.OrdersMAE,
		RevenueMAE:         r.RevenueMAE,
		OrdersRelError:     r.OrdersRelError,
		RevenueRelError:    r.RevenueRelError,
		OrdersCorrelation:  r.OrdersCorrelation,
		RevenueCorrelation: r.RevenueCorrelation,
	}
}

// dayCache memoizes a function of a whole number of days.
type dayCache struct {
	v   []float64
	set []bool
}

func newDayCache() *dayCache { return &dayCache{} }

func (c *dayCache) get(days float64, compute func() float64) float64 {
	d := int(math.Round(days))
	if d < 0 || d > 1_000_000 {
		return compute()
	}
	if d >= len(c.v) {
		n := max(d+1, 2*len(c.v))
		c.v = append(c.v, make([]float64, n-len(c.v))...)
		c.set = append(c.set, make([]bool, n-len(c.set))...)
	}
	if !c.set[d] {
		c.v[d], c.set[d] = compute(), true
	}
	return c.v[d]
}
