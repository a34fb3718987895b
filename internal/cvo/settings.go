package cvo

import (
	"regexp"
	"strings"
)

// Settings are a shop's choices about scoring and write-back.
type Settings struct {
	TagPrefix string `json:"tag_prefix"`
	// GroupsEnabled lists the group slugs whose tags are written; nil means all.
	GroupsEnabled []string  `json:"groups_enabled"`
	ValueTags     ValueTags `json:"value_tags"`
	Metafields    bool      `json:"metafields"`
	Segments      bool      `json:"segments"`
	// CAC is the shop's average acquisition cost per customer, and
	// CACBySource the cost per acquisition source where the merchant knows it.
	CAC           float64            `json:"cac"`
	CACBySource   map[string]float64 `json:"cac_by_source"`
	DefaultMargin float64            `json:"default_margin"`
	RefundDating  RefundDating       `json:"-"`
	NightlyHour   int                `json:"nightly_hour"`
	// PredictionWindowDays is W of the headline prediction, the chance to
	// order within W days; ChurnRiskHigh and ChurnRiskMedium cut that
	// chance into churn risk: high below the first, medium below the
	// second, low from there up.
	PredictionWindowDays int     `json:"prediction_window_days"`
	ChurnRiskHigh        float64 `json:"churn_risk_high"`
	ChurnRiskMedium      float64 `json:"churn_risk_medium"`
	// ShareSurveyLinks also writes each survey link to the merchant-owned
	// namespace cvo_survey, which other apps (email tools) can read; off
	// by default because they can also overwrite it.
	ShareSurveyLinks bool `json:"share_survey_links"`
}

// Defaults of the prediction settings (the README documents them).
const (
	DefaultPredictionWindowDays = 90
	DefaultChurnRiskHigh        = 0.10
	DefaultChurnRiskMedium      = 0.30
)

// ValueTags are the optional tags beside the group tag.
type ValueTags struct {
	PredictedValueTier bool `json:"predicted_value_tier"`
	ChurnRisk          bool `json:"churn_risk"`
}

// DefaultMargin is the gross margin assumed where a shop records no unit
// costs: on the low side, since overstated value invites overspending on
// acquisition.
const DefaultMargin = 0.3

// DefaultSettings are what a newly installed shop gets.
func DefaultSettings() Settings {
	return Settings{TagPrefix: "cvo-", Metafields: true, Segments: true, DefaultMargin: DefaultMargin, NightlyHour: 3,
		RefundDating: RefundAtRefundDate, CACBySource: map[string]float64{},
		PredictionWindowDays: DefaultPredictionWindowDays, ChurnRiskHigh: DefaultChurnRiskHigh, ChurnRiskMedium: DefaultChurnRiskMedium}
}

// tagPrefixPattern keeps prefixes to what Shopify's segment editor and
// email tools' tag filters handle without quoting surprises.
var tagPrefixPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,19}$`)

// Validate reports the first setting a merchant got wrong, in words they
// can act on.
func (s Settings) Validate() error {
	switch {
	case !tagPrefixPattern.MatchString(s.TagPrefix):
		return FieldErrorf(EINVALID, "tag_prefix", "Tag prefix must be 1–20 lower-case letters, digits, '-' or '_', starting with a letter or digit.")
	case s.CAC < 0 || s.CAC > 1e7:
		return FieldErrorf(EINVALID, "cac", "Acquisition cost must be between 0 and 10,000,000.")
	case s.DefaultMargin <= 0 || s.DefaultMargin > 1:
		return FieldErrorf(EINVALID, "default_margin", "Default margin must be above 0 and at most 1 (e.g. 0.45 for 45%%).")
	case s.NightlyHour < 0 || s.NightlyHour > 23:
		return FieldErrorf(EINVALID, "schedule.nightly_hour", "Nightly hour must be between 0 and 23.")
	case s.PredictionWindowDays < 1 || s.PredictionWindowDays > 3660:
		return FieldErrorf(EINVALID, "prediction.window_days", "Prediction window must be 1 to 3660 days.")
	case !(s.ChurnRiskHigh > 0 && s.ChurnRiskHigh < 1):
		return FieldErrorf(EINVALID, "prediction.churn_risk_high", "Churn-risk thresholds must be chances between 0 and 1 (e.g. 0.1 for 10%%).")
	case !(s.ChurnRiskMedium > 0 && s.ChurnRiskMedium < 1):
		return FieldErrorf(EINVALID, "prediction.churn_risk_medium", "Churn-risk thresholds must be chances between 0 and 1 (e.g. 0.1 for 10%%).")
	case s.ChurnRiskHigh > s.ChurnRiskMedium:
		return FieldErrorf(EINVALID, "prediction.churn_risk_high", "The high churn-risk threshold must not be above the medium one.")
	}
	for src, v := range s.CACBySource {
		if strings.TrimSpace(src) == "" || v < 0 || v > 1e7 {
			return FieldErrorf(EINVALID, "cac_by_source", "Acquisition cost per source needs a source name and a cost between 0 and 10,000,000.")
		}
	}
	return nil
}

// GroupEnabled says whether the group's tag is written.
func (s Settings) GroupEnabled(slug string) bool {
	if s.GroupsEnabled == nil {
		return true
	}
	for _, g := range s.GroupsEnabled {
		if g == slug {
			return true
		}
	}
	return false
}
