package scoring

import (
	"time"

	"github.com/cvo-app/cvo/internal/reports"
	"github.com/cvo-app/cvo/internal/rfm"
)

// Result is one scoring of a shop. Everything but Customers is the
// snapshot's aggregates and marshals to JSON (never NaN or Inf: JSON
// cannot carry them). Customers, a row per customer, is stored apart.
type Result struct {
	AsOf       time.Time  `json:"asOf"`
	Timezone   string     `json:"timezone"`
	Parameters Parameters `json:"parameters"`

	// Customers has one entry per customer with at least one purchase by
	// as-of, in no particular order.
	Customers []CustomerScore `json:"-"`

	Model  ModelFit         `json:"model"`
	RFM    RFMScales        `json:"rfm"`
	Groups []GroupAggregate `json:"groups"`
	Totals Totals           `json:"totals"`
	// ShopifyCrosswalk counts our groups against Shopify's own
	// Customer.statistics.rfmGroup.
	ShopifyCrosswalk []CrosswalkCell `json:"shopifyCrosswalk"`
	// Reports are internal/reports' analyses; Reports.RFM.Customers is
	// left empty since Customers carries the same scores.
	Reports  reports.Report `json:"reports"`
	Backtest *Backtest      `json:"backtest,omitempty"`
	// Prediction is how the chance to order within the window was chosen,
	// calibrated and backtested.
	Prediction *WindowPrediction `json:"prediction,omitempty"`
	// BacktestSkipped says why there is no backtest.
	BacktestSkipped string `json:"backtestSkipped,omitempty"`

	// Warnings are things the merchant's data or the computation got
	// wrong that did not stop the scoring (bad amounts, replaced NaNs).
	Warnings []string `json:"warnings,omitempty"`
	// Timings are the wall-clock seconds of each phase.
	Timings []Timing `json:"timings"`

	loc *time.Location // the shop's zone, for writing calendar days
}

// Location is the shop's time zone the scoring used.
func (r *Result) Location() *time.Location {
	if r.loc != nil {
		return r.loc
	}
	if loc, err := time.LoadLocation(r.Timezone); err == nil {
		return loc
	}
	return time.UTC
}

// Parameters are the settings the run used, defaults filled in.
type Parameters struct {
	Unit                  string             `json:"unit"`
	Model                 string             `json:"model"`
	HorizonMonths         int                `json:"horizonMonths"`
	ExpectedOrdersHorizon float64            `json:"expectedOrdersHorizon"` // in Unit
	MonthlyDiscountRate   float64            `json:"monthlyDiscountRate"`
	DefaultMarginRate     float64            `json:"defaultMarginRate"`
	CAC                   float64            `json:"cac"`
	CACBySource           map[string]float64 `json:"cacBySource,omitempty"`
	RefundsAtOrderDate    bool               `json:"refundsAtOrderDate"`
	MinRepeatCustomers    int                `json:"minRepeatCustomers"`
}

// CustomerScore is one customer's scoring.
type CustomerScore struct {
	CustomerID string `json:"customerId"`
	// Orders counts the purchases (cvo.Order.IsPurchase) created by as-of,
	// FirstOrder and LastOrder are the first's and the last's creation
	// times in Unix seconds. The times of a score are kept as seconds
	// rather than time.Time (24 bytes each, the location a pointer that
	// every score repeats): a million scores are held together while they
	// are assembled, aggregated and written.
	Orders int32 `json:"orders"`
	// Frequency is with the BTYD summary below; beside Orders, the two
	// take one word.
	Frequency  int32 `json:"frequency"`
	FirstOrder int64 `json:"firstOrder"`
	LastOrder  int64 `json:"lastOrder"`

	// BTYD summary in Parameters.Unit: Frequency is the number of repeat
	// purchase days (orders on one calendar day are one purchase), Recency
	// the time from the first to the last purchase day, T the time from the
	// first purchase day to the as-of day. Monetary is the mean value of
	// the repeat purchase days (0 without any), as Gamma-Gamma wants it.
	Recency  float64 `json:"recency"`
	T        float64 `json:"T"`
	Monetary float64 `json:"monetary"`

	// Revenue is the purchases' value net of the refunds known at as-of;
	// GrossMargin subtracts the cost of goods (known unit costs, the
	// default margin elsewhere); CostCoverage is the share of Revenue with
	// known costs. HistoricalCLV is GrossMargin minus CAC, the acquisition
	// cost of AcquisitionSource.
	Revenue           float64 `json:"revenue"`
	GrossMargin       float64 `json:"grossMargin"`
	CostCoverage      float64 `json:"costCoverage"`
	AcquisitionSource string  `json:"acquisitionSource"`
	CAC               float64 `json:"cac"`
	HistoricalCLV     float64 `json:"historicalClv"`

	R             uint8     `json:"r"`
	F             uint8     `json:"f"`
	M             uint8     `json:"m"`
	Group         rfm.Group `json:"group"`
	PreviousGroup rfm.Group `json:"previousGroup"`
	// HasNextOrder is false when ordering again is less likely than not
	// ever to happen; NextOrder is then 0. (Beside the bytes above, it
	// and ChurnRisk take no word of their own.)
	HasNextOrder bool `json:"hasNextOrder"`
	// ChurnRisk cuts POrderWindow by the shop's thresholds.
	ChurnRisk ChurnRisk `json:"churnRisk"`

	// POrderWindow is the headline: the calibrated probability of at least
	// one order within Result.Prediction.WindowDays after as-of, from the
	// model the shop's own backtest chose.
	POrderWindow float64 `json:"pOrderWindow"`

	// PAlive is the purchase model's probability that the customer has not
	// dropped out for good; a detail, not a forecast of ordering.
	PAlive float64 `json:"pAlive"`
	// ExpectedOrders is the expected number of purchase days within
	// Parameters.ExpectedOrdersHorizon.
	ExpectedOrders     float64 `json:"expectedOrders"`
	ExpectedOrderValue float64 `json:"expectedOrderValue"`
	// NextOrder is the day by which the customer has ordered again with
	// probability 1/2, as the Unix seconds of its midnight in the shop's
	// zone, when HasNextOrder.
	NextOrder int64 `json:"nextOrder"`
	// PredictedRevenue is the discounted expected revenue over the CLV
	// horizon; PredictedCLV is its margin at the customer's own realized
	// margin rate (the default rate for customers without revenue).
	PredictedRevenue float64 `json:"predictedRevenue"`
	PredictedCLV     float64 `json:"predictedClv"`
}

// ModelFit describes the fitted purchase and spend models.
type ModelFit struct {
	// Requested is the configured model, Used the one predictions come
	// from: the requested one, or "empirical" when Fallback is set.
	Requested string `json:"requested"`
	Used      string `json:"used"`
	Fallback  bool   `json:"fallback"`
	Reason    string `json:"reason,omitempty"`
	Unit      string `json:"unit"`
	// Purchase holds the BG/NBD or MBG/NBD parameters (α in Unit); nil
	// after a fallback. Empirical holds the fallback's statistics.
	Purchase        *PurchaseParams  `json:"purchase,omitempty"`
	Empirical       *EmpiricalParams `json:"empirical,omitempty"`
	Spend           SpendParams      `json:"spend"`
	Customers       int              `json:"customers"`
	RepeatCustomers int              `json:"repeatCustomers"`
}

// PurchaseParams are a fitted BG/NBD or MBG/NBD.
type PurchaseParams struct {
	R             float64 `json:"r"`
	Alpha         float64 `json:"alpha"`
	A             float64 `json:"a"`
	B             float64 `json:"b"`
	LogLikelihood float64 `json:"logLikelihood"`
	Rows          int     `json:"rows"` // distinct (x, t_x, T)
	Iterations    int     `json:"iterations"`
	Evaluations   int     `json:"evaluations"`
	GradNorm      float64 `json:"gradNorm"`
}

// EmpiricalParams are the fallback purchase model's statistics.
type EmpiricalParams struct {
	RepeatRate float64 `json:"repeatRate"`
	MeanGap    float64 `json:"meanGap"` // in Unit
}

// SpendParams describe the spend model: Gamma-Gamma (P, Q, Gamma) or, on
// fallback, the empirical mean order value.
type SpendParams struct {
	Model          string  `json:"model"` // gammagamma or empirical
	Fallback       bool    `json:"fallback"`
	Reason         string  `json:"reason,omitempty"`
	P              float64 `json:"p,omitempty"`
	Q              float64 `json:"q,omitempty"`
	Gamma          float64 `json:"gamma,omitempty"`
	LogLikelihood  float64 `json:"logLikelihood,omitempty"`
	Customers      int     `json:"customers"` // customers the model was fitted on
	PopulationMean float64 `json:"populationMean"`
}

// RFMScales say how recency, frequency and monetary value were cut into
// scores and why each has the levels it has.
type RFMScales struct {
	Cadence rfm.Cadence `json:"cadence"`
	R       rfm.Scale   `json:"r"`
	F       rfm.Scale   `json:"f"`
	M       rfm.Scale   `json:"m"`
}

// GroupAggregate summarizes one RFM group.
type GroupAggregate struct {
	Group        rfm.Group `json:"group"`
	Name         string    `json:"name"`
	Customers    int       `json:"customers"`
	Share        float64   `json:"share"` // of customers
	Orders       int       `json:"orders"`
	Revenue      float64   `json:"revenue"`
	RevenueShare float64   `json:"revenueShare"`
	AOV          float64   `json:"aov"` // revenue per order
	// AvgDaysBetweenOrders averages the own average gap of the group's
	// customers with two or more orders (RepeatCustomers of them).
	AvgDaysBetweenOrders float64 `json:"avgDaysBetweenOrders"`
	RepeatCustomers      int     `json:"repeatCustomers"`
	AvgHistoricalCLV     float64 `json:"avgHistoricalClv"`
	AvgPredictedCLV      float64 `json:"avgPredictedClv"`
	AvgPAlive            float64 `json:"avgPAlive"`
	// AvgPOrderWindow is the group's mean chance to order within the window.
	AvgPOrderWindow float64 `json:"avgPOrderWindow"`
	ExpectedOrders  float64 `json:"expectedOrders"`
	PredictedCLV    float64 `json:"predictedClv"`
}

// Totals are the shop's headline figures.
type Totals struct {
	Customers       int     `json:"customers"`
	RepeatCustomers int     `json:"repeatCustomers"`
	Orders          int     `json:"orders"`
	Revenue         float64 `json:"revenue"`
	GrossMargin     float64 `json:"grossMargin"`
	AOV             float64 `json:"aov"`
	// RetentionRate is the share of customers with more than one order
	// (the CVO definition); RepeatRate the share of orders that were not a
	// customer's first.
	RetentionRate    float64 `json:"retentionRate"`
	RepeatRate       float64 `json:"repeatRate"`
	AvgHistoricalCLV float64 `json:"avgHistoricalClv"`
	AvgPredictedCLV  float64 `json:"avgPredictedClv"`
	AvgCAC           float64 `json:"avgCac"`
	// CLVToCAC is lifetime value, the gross margin so far plus the
	// predicted CLV, over the acquisition cost; HistoricalCLVToCAC counts
	// the margin so far only. Both are 0 when no CAC is set.
	CLVToCAC           float64 `json:"clvToCac"`
	HistoricalCLVToCAC float64 `json:"historicalClvToCac"`
	ExpectedOrders     float64 `json:"expectedOrders"`
	PredictedCLV       float64 `json:"predictedClv"`
	AvgPAlive          float64 `json:"avgPAlive"`
	AvgPOrderWindow    float64 `json:"avgPOrderWindow"`
}

// Timing is the duration of one phase of a scoring run.
type Timing struct {
	Phase   string  `json:"phase"`
	Seconds float64 `json:"seconds"`
}
