package scoring

import (
	"fmt"
	"time"

	"github.com/cvo-app/cvo/internal/rfm"
)

// The chance to order soon: the contract the API, the pages, the write-back
// and `cvo score` read. The computation is in windowpredict.go.

// Defaults of the window and the churn-risk thresholds.
const (
	DefaultWindowDays = 90
	// A customer's churn risk is high below DefaultChurnHigh chance to
	// order within the window, medium below DefaultChurnMedium, low from
	// there up.
	DefaultChurnHigh   = 0.10
	DefaultChurnMedium = 0.30
)

// ChurnRisk is low, medium or high, from the calibrated chance to order
// within the window (CustomerScore.POrderWindow) and the shop's thresholds;
// the zero value is none. A byte, not its name: a million scores are held
// together, and a string took 16 bytes of each.
type ChurnRisk uint8

// The churn-risk levels.
const (
	ChurnLow ChurnRisk = iota + 1
	ChurnMedium
	ChurnHigh
)

var churnNames = [...]string{"", "low", "medium", "high"}

// String is the level's name: low, medium or high ("" for none).
func (c ChurnRisk) String() string {
	if int(c) < len(churnNames) {
		return churnNames[c]
	}
	return ""
}

// MarshalText writes the level's name, so that JSON carries it as before.
func (c ChurnRisk) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText reads a level's name ("" for none).
func (c *ChurnRisk) UnmarshalText(b []byte) error {
	for i, name := range churnNames {
		if string(b) == name {
			*c = ChurnRisk(i)
			return nil
		}
	}
	return fmt.Errorf("churn risk %q is not low, medium or high", b)
}

// ChurnThresholds cut the chance to order into churn risk: below High is
// high risk, below Medium medium, the rest low. 0 < High ≤ Medium < 1.
type ChurnThresholds struct {
	High   float64 `json:"high"`
	Medium float64 `json:"medium"`
}

// DefaultChurnThresholds are the README's defaults.
func DefaultChurnThresholds() ChurnThresholds {
	return ChurnThresholds{High: DefaultChurnHigh, Medium: DefaultChurnMedium}
}

// Risk is the churn risk of a chance to order p.
func (t ChurnThresholds) Risk(p float64) ChurnRisk {
	switch {
	case p < t.High:
		return ChurnHigh
	case p < t.Medium:
		return ChurnMedium
	}
	return ChurnLow
}

// Candidate names of the window prediction: three BTYD models, the
// feature model and the two baselines.
const (
	CandidateBGNBD     = "bgnbd"
	CandidateMBGNBD    = "mbgnbd"
	CandidateParetoNBD = "paretonbd"
	CandidateFeatures  = "features" // logistic regression on recency, frequency, age, spend
	BaselineAverage    = "average"  // everyone gets the holdout's share
	BaselineRecency    = "recency"  // logistic regression on recency alone
)

// WindowPrediction is how the chance to order within the window was
// chosen, calibrated and checked; it is part of the snapshot's aggregates.
type WindowPrediction struct {
	// WindowDays is W: the chance is of at least one order in the W days
	// after as-of.
	WindowDays int `json:"windowDays"`
	// Model is the candidate the headline comes from (a baseline when no
	// model beat the baselines: then BeatsBaselines is false).
	Model          string `json:"model"`
	BeatsBaselines bool   `json:"beatsBaselines"`
	// Reason says in a sentence why Model won.
	Reason string `json:"reason"`
	// Cutoff is the start of the backtest's holdout (as-of − W); the
	// holdout is (Cutoff, AsOf].
	Cutoff time.Time `json:"cutoff"`
	AsOf   time.Time `json:"asOf"`
	// Candidates are every candidate's out-of-sample scores on the holdout,
	// failures included (Error set, no scores), models first, baselines last.
	Candidates []CandidateScore `json:"candidates"`
	// Calibration maps the chosen model's raw probability q to
	// 1/(1+exp(-(A + B·logit q))): for a BTYD model fitted on the holdout so
	// that the mean calibrated prediction there equals the actual share; the
	// identity (A 0, B 1) for the regressions and the average, which are
	// refitted on the holdout itself and match its share by construction.
	Calibration Platt `json:"calibration"`
	// HoldoutCustomers bought by the cutoff; HoldoutShare of them ordered
	// in the holdout; MeanPredicted is the chosen model's mean calibrated
	// prediction for them.
	HoldoutCustomers int     `json:"holdoutCustomers"`
	HoldoutShare     float64 `json:"holdoutShare"`
	MeanPredicted    float64 `json:"meanPredicted"`
	// Deciles are the holdout customers in ten equal groups by the chosen
	// model's out-of-sample prediction (the backtest's, recalibrated on the
	// other half of the holdout), lowest first: predicted vs actual share.
	Deciles []CalibrationBin `json:"deciles"`
	// Groups compare the same predictions with the actual share per RFM
	// group at the cutoff.
	Groups []GroupCalibration `json:"groups"`
	// Features are the fitted feature model (also used to explain a
	// customer's chance, whichever model won); nil when it failed.
	Features *FeatureModel `json:"features,omitempty"`
	// Thresholds are the churn-risk thresholds the run used; ChurnCounts
	// counts customers per risk level.
	Thresholds  ChurnThresholds `json:"thresholds"`
	ChurnCounts ChurnCounts     `json:"churnCounts"`
}

// CandidateScore is one candidate's backtest on the holdout. Scores are of
// the calibrated predictions, calibrated and scored on alternate halves of
// the holdout (cross-fitted), so a candidate cannot win by calibration alone.
type CandidateScore struct {
	Name     string  `json:"name"`
	Baseline bool    `json:"baseline"`
	LogLoss  float64 `json:"logLoss"`
	Brier    float64 `json:"brier"`
	AUC      float64 `json:"auc"`
	// MeanRaw is the mean raw (uncalibrated) prediction: far from the
	// holdout share, the model was miscalibrated before recalibration.
	MeanRaw float64 `json:"meanRaw"`
	// Error is why the candidate could not be scored (a fit that did not
	// converge, too little data); its scores are then 0.
	Error string `json:"error,omitempty"`
}

// Platt is a logistic recalibration of a probability.
type Platt struct {
	A float64 `json:"a"`
	B float64 `json:"b"`
}

// CalibrationBin is predicted vs actual share ordering in one bin.
type CalibrationBin struct {
	Customers int     `json:"customers"`
	Predicted float64 `json:"predicted"`
	Actual    float64 `json:"actual"`
}

// GroupCalibration is predicted vs actual share ordering in one RFM group.
type GroupCalibration struct {
	Group     rfm.Group `json:"group"`
	Customers int       `json:"customers"`
	Predicted float64   `json:"predicted"`
	Actual    float64   `json:"actual"`
}

// ChurnCounts counts customers per churn risk.
type ChurnCounts struct {
	Low    int `json:"low"`
	Medium int `json:"medium"`
	High   int `json:"high"`
}

// FeatureModel is a logistic regression on standardized log features:
// recency (days since the last purchase), frequency (purchase days), age
// (days since the first purchase) and spend (mean value of a purchase day).
type FeatureModel struct {
	Names     []string  `json:"names"`
	Mean      []float64 `json:"mean"`
	Scale     []float64 `json:"scale"`
	Coef      []float64 `json:"coef"` // per standardized feature
	Intercept float64   `json:"intercept"`
}

// Driver is one feature's pull on a customer's chance to order: Effect is
// the change of the log-odds (in the feature model) from the shop's typical
// value to the customer's, positive when it raises the chance.
type Driver struct {
	Feature string  `json:"feature"` // recency, frequency, age or spend
	Value   float64 `json:"value"`   // the customer's (days, purchase days, money)
	Typical float64 `json:"typical"` // the shop's typical customer's
	Effect  float64 `json:"effect"`
}
