package reports

import (
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/cvo"
)

// TestMonthsFollowTimeWhereTheDayGoesBack lays out purchases across St.
// John's clocks falling back from 00:01 to 23:01 the day before: a later
// purchase then has an earlier calendar day, across a month's end in
// 2009. Months read from the days went back there and indexed reports out
// of range; read from the times they never go back, and every report runs.
func TestMonthsFollowTimeWhereTheDayGoesBack(t *testing.T) {
	loc, err := time.LoadLocation("America/St_Johns")
	require.NoError(t, err)
	tests := []struct {
		name   string
		before time.Time // before the clocks fall back; the earliest purchase
		after  time.Time // later, on the calendar day before
	}{
		{"within November 2010", time.Date(2010, 11, 7, 2, 30, 30, 0, time.UTC), time.Date(2010, 11, 7, 3, 0, 0, 0, time.UTC)},
		{"across October's end 2009", time.Date(2009, 11, 1, 2, 30, 30, 0, time.UTC), time.Date(2009, 11, 1, 3, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Less(t, tt.after.In(loc).Format(time.DateOnly), tt.before.In(loc).Format(time.DateOnly), "the later purchase's day is earlier")
			orders := []cvo.Order{
				{ID: "1", CustomerID: "a", CreatedAt: tt.before, Total: 10},
				{ID: "2", CustomerID: "a", CreatedAt: tt.after, Total: 20},
				{ID: "3", CustomerID: "b", CreatedAt: tt.after, Total: 30},
			}
			d := NewDataset(nil, orders, Options{Location: loc}) // as of the latest order
			require.Len(t, d.p, 3)
			for c := range d.ids {
				ps := d.p[d.start[c]:d.start[c+1]]
				for i := 1; i < len(ps); i++ {
					require.LessOrEqual(t, d.month(&ps[i-1]), d.month(&ps[i]), "months of customer %s", d.ids[c])
				}
			}
			require.NotPanics(t, func() {
				_, err := d.Report(nil)
				require.NoError(t, err)
			})
		})
	}
}

// TestMonthIsTheMonthStartsOwn holds a purchase's month, read from its
// 24-hour span's, to the last month start not after its time, at every
// half hour around month ends, in zones whose clocks change at midnight
// on the first (Asunción 2023, Havana 2012), fall back across it (St.
// John's) or skipped a day (Samoa).
func TestMonthIsTheMonthStartsOwn(t *testing.T) {
	tests := []struct {
		zone     string
		from, to string // days in UTC
	}{
		{"UTC", "2023-12-25", "2024-03-05"},
		{"America/Asuncion", "2023-09-28", "2023-10-03"},
		{"America/Havana", "2012-03-29", "2012-04-03"},
		{"America/St_Johns", "2009-10-29", "2009-11-03"},
		{"Pacific/Apia", "2011-12-25", "2012-01-03"},
	}
	for _, tt := range tests {
		t.Run(tt.zone+" "+tt.from, func(t *testing.T) {
			loc, err := time.LoadLocation(tt.zone)
			require.NoError(t, err)
			from, err := time.Parse(time.DateOnly, tt.from)
			require.NoError(t, err)
			to, err := time.Parse(time.DateOnly, tt.to)
			require.NoError(t, err)
			var orders []cvo.Order
			for at := from; at.Before(to); at = at.Add(30 * time.Minute) {
				orders = append(orders, cvo.Order{ID: fmt.Sprint(len(orders) + 1), CustomerID: fmt.Sprint(len(orders)%7 + 1),
					CreatedAt: at, Total: 10})
			}
			d := NewDataset(nil, orders, Options{AsOf: to, Location: loc})
			require.Len(t, d.p, len(orders))
			for i := range d.p {
				at := d.unix(&d.p[i])
				want := sort.Search(len(d.monthStarts), func(m int) bool { return d.monthStarts[m] > at }) - 1
				require.Equal(t, want, int(d.month(&d.p[i])), "purchase at %v", time.Unix(at, 0).In(loc))
			}
		})
	}
}
