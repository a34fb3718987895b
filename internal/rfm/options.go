package rfm

import "time"

// Options tune scoring. The zero value (plus AsOf) gives the documented
// defaults.
type Options struct {
	// AsOf is the scoring date; recency is measured back from it. Zero
	// means the latest purchase among the customers scored.
	AsOf time.Time
	// Previous holds each customer's group from the previous scoring, by
	// customer ID. It lets the Ex-Lovers rule recognise former Soulmates
	// and Lovers; nil means no history (see the Ex-Lovers rule).
	Previous map[string]Group
	// PreviousGroups is the same history as a slice parallel to the
	// customers being scored (NoGroup where unknown). Callers that can
	// join histories in bulk pass this and skip a map lookup per
	// customer; when set, Previous is ignored.
	PreviousGroups []Group
	// MaxLevels caps the number of score levels (default and maximum 5).
	MaxLevels int
	// DefaultCadenceDays stands in for the average days between orders
	// while no customer has bought twice (default 90, which puts the
	// inactivity horizon at the seeds' six months).
	DefaultCadenceDays float64
	// HorizonMultiple is how many average gaps without a purchase make a
	// customer inactive (default 2).
	HorizonMultiple float64
	// MinHorizonDays and MaxHorizonDays clamp the inactivity horizon
	// (defaults 30 and 730) so that shops with extreme cadences, or too
	// little history to measure one, still get a usable horizon.
	MinHorizonDays float64
	MaxHorizonDays float64
}

const maxLevels = 5

func (o Options) withDefaults() Options {
	if o.MaxLevels <= 0 || o.MaxLevels > maxLevels {
		o.MaxLevels = maxLevels
	}
	if o.DefaultCadenceDays <= 0 {
		o.DefaultCadenceDays = 90
	}
	if o.HorizonMultiple <= 0 {
		o.HorizonMultiple = 2
	}
	if o.MinHorizonDays <= 0 {
		o.MinHorizonDays = 30
	}
	if o.MaxHorizonDays <= 0 {
		o.MaxHorizonDays = 730
	}
	if o.MaxHorizonDays < o.MinHorizonDays {
		o.MaxHorizonDays = o.MinHorizonDays
	}
	return o
}
