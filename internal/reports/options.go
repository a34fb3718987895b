package reports

import (
	"time"

	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/rfm"
)

// Options tune the reports. The zero value plus AsOf gives the documented
// defaults.
type Options struct {
	// AsOf is the report date; later orders are ignored. Zero means the
	// creation time of the newest order.
	AsOf time.Time
	// Location is the shop's time zone for months, weekdays and hours
	// (default UTC).
	Location *time.Location
	// RefundDating decides when refunds reduce an order's value.
	RefundDating cvo.RefundDating
	// RFM carries the scoring options; its cadence sets the default
	// repeat window. AsOf is filled in from Options.AsOf.
	RFM rfm.Options
	// RepeatWindowDays is how long after the first purchase a second one
	// counts as a repeat in the segment reports (stickiness, products,
	// loyalty). Comparing segments over one fixed window keeps recently
	// acquired customers from looking disloyal just because they have had
	// less time. Default: the RFM inactivity horizon.
	RepeatWindowDays float64
	// MinSegmentSize is the fewest customers, in a segment and in the rest
	// of the shop, before a segment is tested (default 30).
	MinSegmentSize int
	// Alpha is the false discovery rate for the Benjamini-Hochberg
	// correction (default 0.05).
	Alpha float64
	// AnomalyWindow is the number of trailing months a month is compared
	// with (default 6); AnomalyThreshold the robust z-score that flags it
	// (default 3.5).
	AnomalyWindow    int
	AnomalyThreshold float64
	// TopN bounds the lists of the ideal customer profile (default 10).
	TopN int
	// DefaultMarginRate is the gross margin rate of revenue without a known
	// unit cost in the lifetime-value report (default cvo.DefaultMargin),
	// as historical CLV counts it.
	DefaultMarginRate float64
	// CAC is the acquisition cost per customer and CACBySource the cost of
	// each acquisition source (cvo.Order.AcquisitionSource, matched
	// case-insensitively) for the lifetime-value report's payback.
	CAC         float64
	CACBySource map[string]float64
	// LTVTopN bounds the lifetime-value curves of each dimension (first
	// product, discount code, source) to the largest (default 20).
	LTVTopN int
}

func (o Options) withDefaults() Options {
	if o.Location == nil {
		o.Location = time.UTC
	}
	o.RFM.AsOf = o.AsOf
	if o.MinSegmentSize <= 0 {
		o.MinSegmentSize = 30
	}
	if o.Alpha <= 0 || o.Alpha >= 1 {
		o.Alpha = 0.05
	}
	if o.AnomalyWindow <= 0 {
		o.AnomalyWindow = 6
	}
	if o.AnomalyThreshold <= 0 {
		o.AnomalyThreshold = 3.5
	}
	if o.TopN <= 0 {
		o.TopN = 10
	}
	if !(o.DefaultMarginRate > 0 && o.DefaultMarginRate <= 1) {
		o.DefaultMarginRate = cvo.DefaultMargin
	}
	if o.LTVTopN <= 0 {
		o.LTVTopN = 20
	}
	return o
}
