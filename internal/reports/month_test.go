package reports

import (
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
