// Package localtime turns instants into a shop's local calendar days,
// weekdays and hours fast: scoring a million customers converts millions
// of purchase times, and time.Time.In per purchase would dominate.
package localtime

import (
	"math"
	"time"
)

// SecondsPerDay is the length of a calendar day on the local wall clock.
const SecondsPerDay = 86400

// Zone maps unix seconds to a location's wall clock through the offset
// changes between two instants: the local wall clock is the instant plus
// the offset in force, so no calendar conversion is needed per instant.
type Zone struct {
	loc     *time.Location
	starts  []int64
	offsets []int64
	// until is where the table stops being valid (a zone with more changes
	// than the table holds); later instants are converted exactly.
	until int64
}

// maxChanges bounds the table; zones change offset twice a year at most.
const maxChanges = 100_000

// NewZone builds the table for instants between from and to (unix seconds).
// Instants outside that range are still converted, exactly and slowly.
func NewZone(from, to int64, loc *time.Location) Zone {
	if loc == nil {
		loc = time.UTC
	}
	z := Zone{loc: loc, until: math.MaxInt64}
	t := time.Unix(from, 0).In(loc)
	for range maxChanges {
		_, off := t.Zone()
		z.starts = append(z.starts, t.Unix())
		z.offsets = append(z.offsets, int64(off))
		_, end := t.ZoneBounds()
		if end.IsZero() {
			return z // the last offset holds for ever
		}
		if end.Unix() > to {
			// Past the table's last period the offset may change again.
			z.until = end.Unix()
			return z
		}
		t = end
	}
	z.until = t.Unix()
	return z
}

// Local is the local wall clock of at, in seconds since the epoch as if
// that wall clock were UTC.
func (z Zone) Local(at int64) int64 {
	if at >= z.until || len(z.starts) == 0 || at < z.starts[0] {
		_, off := time.Unix(at, 0).In(z.loc).Zone()
		return at + int64(off)
	}
	lo, hi := 1, len(z.starts)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if z.starts[mid] <= at {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return at + z.offsets[lo-1]
}

// Day is the local calendar day of at, in days since 1970-01-01.
func (z Zone) Day(at int64) int32 {
	return int32(FloorDiv(z.Local(at), SecondsPerDay))
}

// WeekdayHour returns the local time.Weekday (Sunday = 0) and hour of at.
func (z Zone) WeekdayHour(at int64) (int, int) {
	local := z.Local(at)
	days := FloorDiv(local, SecondsPerDay)
	secs := local - days*SecondsPerDay
	// 1970-01-01 was a Thursday.
	return int(FloorMod(days+4, 7)), int(secs / 3600)
}

// FloorDiv divides rounding towards negative infinity, so instants before
// 1970 fall on the right day.
func FloorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// FloorMod is the remainder that goes with FloorDiv.
func FloorMod(a, b int64) int64 { return a - FloorDiv(a, b)*b }
