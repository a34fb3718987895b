package scoring

import (
	"fmt"
	"math"

	"github.com/cvo-app/cvo/internal/clv"
	"github.com/cvo-app/cvo/internal/parallel"
)

// forecast is the part of a clv.Prediction the scores keep.
type forecast struct {
	pAlive            float64
	expectedOrders    float64 // within Settings.ExpectedOrdersHorizon
	orderValue        float64
	discountedRevenue float64
	// next is clv.Prediction.NextOrder in Unix seconds, when hasNext: a
	// time.Time would make a forecast 64 bytes instead of 48, a million of
	// them held from the models to the scores.
	next    int64
	hasNext bool
}

// fitAndPredict fits the purchase and spend models on the summaries and
// forecasts every customer. Predictions run on every core: clv.Fitted is
// read-only once fitted.
func fitAndPredict(sums []clv.Summary, fit func() (*clv.Fitted, error), s Settings) (*clv.Fitted, []forecast, error) {
	fitted, err := fit()
	if err != nil {
		return nil, nil, fmt.Errorf("fit purchase and spend models: %w", err)
	}
	n := len(sums)
	out := make([]forecast, n)
	clvHorizon := s.Unit.MonthsToUnits(float64(s.HorizonMonths))
	ownHorizon := math.Abs(s.ExpectedOrdersHorizon-clvHorizon) > 1e-9*clvHorizon
	// Chunks small enough that the transient []clv.Prediction of a chunk
	// stays a few megabytes.
	const chunk = 65536
	chunks := (n + chunk - 1) / chunk
	parallel.Chunks(chunks, workers(n), func(_, lo, hi int) {
		oneTime := newDayCache()
		predictor := fitted.NewPredictor()
		for k := lo; k < hi; k++ {
			from, to := k*chunk, min((k+1)*chunk, n)
			preds := predictor.Predict(sums[from:to])
			for i, p := range preds {
				f := forecast{pAlive: p.PAlive, expectedOrders: p.ExpectedOrders, orderValue: p.ExpectedOrderValue,
					discountedRevenue: p.DiscountedRevenue, next: p.NextOrder.Unix(), hasNext: p.HasNextOrder}
				if ownHorizon {
					sm := &sums[from+i]
					if sm.X == 0 {
						f.expectedOrders = oneTime.get(sm.T*s.Unit.DaysPer(), func() float64 {
							return fitted.Purchases.ConditionalExpected(s.ExpectedOrdersHorizon, 0, 0, sm.T)
						})
					} else {
						f.expectedOrders = fitted.Purchases.ConditionalExpected(s.ExpectedOrdersHorizon, sm.X, sm.Tx, sm.T)
					}
				}
				out[from+i] = f
			}
		}
	})
	return fitted, out, nil
}

// modelFit describes a fit for the snapshot and the CLI's params.json.
func modelFit(f *clv.Fitted, requested clv.ModelKind) ModelFit {
	mf := ModelFit{
		Requested:       string(requested),
		Used:            string(f.Purchases.Kind()),
		Fallback:        f.Fallback,
		Reason:          f.Reason,
		Unit:            f.Unit.String(),
		Customers:       f.Customers,
		RepeatCustomers: f.RepeatCustomers,
	}
	params := func(r, alpha, a, b float64) *PurchaseParams {
		fr := f.PurchaseFit
		return &PurchaseParams{R: r, Alpha: alpha, A: a, B: b, LogLikelihood: fr.LogLikelihood, Rows: fr.Rows,
			Iterations: fr.Iterations, Evaluations: fr.Evaluations, GradNorm: fr.GradNorm}
	}
	switch m := f.Purchases.(type) {
	case clv.BGNBD:
		mf.Purchase = params(m.R, m.Alpha, m.A, m.B)
	case clv.MBGNBD:
		mf.Purchase = params(m.R, m.Alpha, m.A, m.B)
	case clv.Empirical:
		mf.Empirical = &EmpiricalParams{RepeatRate: m.RepeatRate, MeanGap: m.MeanGap}
	}
	mf.Spend = SpendParams{Model: f.Spend.Kind(), Fallback: f.SpendFallback, Reason: f.SpendReason}
	switch m := f.Spend.(type) {
	case clv.GammaGamma:
		mf.Spend.P, mf.Spend.Q, mf.Spend.Gamma = m.P, m.Q, m.Gamma
		mf.Spend.LogLikelihood = f.SpendFit.LogLikelihood
		mf.Spend.Customers = f.SpendFit.Customers
		mf.Spend.PopulationMean = m.PopulationMean()
	case clv.EmpiricalSpend:
		mf.Spend.PopulationMean = m.Mean
		mf.Spend.Customers = f.Customers
	}
	return mf
}
