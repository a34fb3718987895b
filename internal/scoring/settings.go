package scoring

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/cvo-app/cvo/internal/clv"
	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/rfm"
)

// Settings are the choices one scoring run is made with. Start from
// DefaultSettings: every zero field gets its documented default except
// MonthlyDiscountRate, where zero is a valid choice (no discounting).
type Settings struct {
	// AsOf is the scoring instant: orders created after it are ignored,
	// refunds after it too unless RefundDating back-dates them. BTYD
	// quantities count whole calendar days, so the as-of day is included.
	AsOf time.Time
	// Location is the shop's time zone, which decides calendar days and
	// months; nil means UTC.
	Location     *time.Location
	RefundDating cvo.RefundDating

	// CAC is the acquisition cost per customer; CACBySource overrides it
	// per acquisition source (clv.AcquisitionSource: UTM source, else sales
	// channel, case-insensitive).
	CAC         float64
	CACBySource map[string]float64
	// DefaultMarginRate is the gross margin rate of revenue whose unit
	// costs are unknown; 0 means clv.DefaultMarginRate.
	DefaultMarginRate float64

	// Unit is the time unit of the BTYD quantities (frequency aside:
	// recency, T, the fitted α, the expected-orders horizon).
	Unit clv.TimeUnit
	// Model is clv.ModelMBGNBD (default) or clv.ModelBGNBD.
	Model clv.ModelKind
	// HorizonMonths is the predicted-CLV horizon in average months
	// (365.25/12 days); 0 means 12.
	HorizonMonths int
	// ExpectedOrdersHorizon is the horizon of CustomerScore.ExpectedOrders
	// in Unit; 0 means the CLV horizon (12 months = 365.25 days = 52.18
	// weeks by default).
	ExpectedOrdersHorizon float64
	// MonthlyDiscountRate discounts month k of predicted CLV by (1+d)^k.
	MonthlyDiscountRate float64
	// MinRepeatCustomers is how many repeat customers a shop needs before a
	// BTYD model is fitted at all (0 means clv's default, 30).
	MinRepeatCustomers int

	// BacktestHoldoutMonths is the length of the backtest's holdout; 0
	// means HorizonMonths, shortened to a third of the shop's history
	// (at least one month) when the history is shorter than three times
	// that. Negative skips the backtest.
	BacktestHoldoutMonths int

	// WindowDays is W of the chance to order within W days after as-of
	// (CustomerScore.POrderWindow), 1 to 3660; 0 means DefaultWindowDays.
	WindowDays int
	// Churn are the churn-risk thresholds; zero means the defaults.
	Churn ChurnThresholds

	// Previous holds each customer's group from the previous scoring: it
	// keeps Ex-Lovers Ex-Lovers and feeds the transitions report. Nil
	// means the groups the ledger carries (Builder.AddPreviousGroup), if
	// any; an empty map means no previous scoring.
	Previous map[string]rfm.Group
}

// DefaultSettings are the app's defaults as of a given instant: UTC, refunds
// counted when given, MBG/NBD in days, 12-month CLV discounted at 1% a month.
func DefaultSettings(asOf time.Time) Settings {
	return Settings{
		AsOf:                asOf,
		Location:            time.UTC,
		RefundDating:        cvo.RefundAtRefundDate,
		DefaultMarginRate:   clv.DefaultMarginRate,
		Unit:                clv.Days,
		Model:               clv.ModelMBGNBD,
		HorizonMonths:       clv.DefaultHorizonMonths,
		MonthlyDiscountRate: clv.DefaultMonthlyDiscountRate,
		MinRepeatCustomers:  clv.DefaultMinRepeatCustomers,
	}
}

// normalized fills defaults and rejects settings no run can use, with a
// merchant-safe message.
func (s Settings) normalized() (Settings, error) {
	if s.AsOf.IsZero() {
		return s, cvo.Errorf(cvo.EINVALID, "Scoring needs an as-of date.")
	}
	if s.Location == nil {
		s.Location = time.UTC
	}
	if s.Model == "" {
		s.Model = clv.ModelMBGNBD
	}
	s.Model = clv.ModelKind(strings.ToLower(string(s.Model)))
	if s.HorizonMonths == 0 {
		s.HorizonMonths = clv.DefaultHorizonMonths
	}
	if s.DefaultMarginRate == 0 {
		s.DefaultMarginRate = clv.DefaultMarginRate
	}
	if s.MinRepeatCustomers == 0 {
		s.MinRepeatCustomers = clv.DefaultMinRepeatCustomers
	}
	if s.WindowDays == 0 {
		s.WindowDays = DefaultWindowDays
	}
	if s.Churn == (ChurnThresholds{}) {
		s.Churn = DefaultChurnThresholds()
	}
	if s.ExpectedOrdersHorizon == 0 {
		s.ExpectedOrdersHorizon = s.Unit.MonthsToUnits(float64(s.HorizonMonths))
	}
	switch {
	case s.Unit != clv.Days && s.Unit != clv.Weeks:
		return s, cvo.Errorf(cvo.EINVALID, "Unknown time unit %d.", s.Unit)
	case s.Model != clv.ModelMBGNBD && s.Model != clv.ModelBGNBD:
		return s, cvo.Errorf(cvo.EINVALID, "Unknown model %q: use mbgnbd or bgnbd.", s.Model)
	case s.HorizonMonths < 1 || s.HorizonMonths > 1200:
		return s, cvo.Errorf(cvo.EINVALID, "The CLV horizon must be 1 to 1200 months.")
	case !(s.ExpectedOrdersHorizon > 0) || math.IsInf(s.ExpectedOrdersHorizon, 0) || s.ExpectedOrdersHorizon > 1e6:
		return s, cvo.Errorf(cvo.EINVALID, "The expected-orders horizon must be positive and at most 1,000,000 %s.", s.Unit)
	case !(s.MonthlyDiscountRate >= 0 && s.MonthlyDiscountRate < 10):
		return s, cvo.Errorf(cvo.EINVALID, "The monthly discount rate must be between 0 and 10.")
	case !(s.DefaultMarginRate > 0 && s.DefaultMarginRate <= 1):
		return s, cvo.Errorf(cvo.EINVALID, "The default margin must be above 0 and at most 1.")
	case !(s.CAC >= 0) || math.IsInf(s.CAC, 0):
		return s, cvo.Errorf(cvo.EINVALID, "The acquisition cost must be a non-negative amount.")
	case s.MinRepeatCustomers < 1:
		return s, cvo.Errorf(cvo.EINVALID, "The minimum number of repeat customers must be positive.")
	}
	if err := s.checkWindow(); err != nil {
		return s, err
	}
	for src, v := range s.CACBySource {
		if !(v >= 0) || math.IsInf(v, 0) {
			return s, cvo.Errorf(cvo.EINVALID, "The acquisition cost of source %q must be a non-negative amount.", src)
		}
	}
	return s, nil
}

// checkWindow rejects a prediction window or churn thresholds no run can
// use.
func (s Settings) checkWindow() error {
	switch {
	case s.WindowDays < 1 || s.WindowDays > 3660:
		return cvo.Errorf(cvo.EINVALID, "The prediction window must be 1 to 3660 days.")
	case !(s.Churn.High > 0 && s.Churn.High <= s.Churn.Medium && s.Churn.Medium < 1):
		return cvo.Errorf(cvo.EINVALID, "Churn-risk thresholds must satisfy 0 < high ≤ medium < 1.")
	}
	return nil
}

// clvConfig is the clv configuration the settings imply.
func (s Settings) clvConfig() clv.Config {
	return clv.Config{
		Model:                s.Model,
		MinRepeatCustomers:   s.MinRepeatCustomers,
		HorizonMonths:        s.HorizonMonths,
		MonthlyDiscountRate:  s.MonthlyDiscountRate,
		MarginRate:           s.DefaultMarginRate,
		NextOrderProbability: clv.DefaultNextOrderProbability,
	}
}

// ParseTimeUnit reads "day"/"days" or "week"/"weeks".
func ParseTimeUnit(s string) (clv.TimeUnit, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "day", "days":
		return clv.Days, nil
	case "week", "weeks":
		return clv.Weeks, nil
	}
	return 0, fmt.Errorf("time unit %q: use day or week", s)
}
