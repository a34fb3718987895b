package reports

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/cvo"
)

// monthOf is the month of an instant as the month starts have it: the last
// that is not after it. A purchase's month used to be this, kept in the
// purchase; it now follows from the purchase's day (Dataset.month).
func (d *Dataset) monthOf(at int64) int {
	lo, hi := 0, len(d.monthStarts)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if d.monthStarts[mid] <= at {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo - 1
}

// TestMonthFollowsFromTheDay holds a purchase's month, read from its
// calendar day, to the month starts' own answer for its time, at every
// half hour around the first of the month in zones whose clocks change at
// midnight (São Paulo and Asunción spring forward at midnight, Havana falls
// back from one to midnight, Beirut changes at midnight both ways) and
// across the day Samoa skipped.
func TestMonthFollowsFromTheDay(t *testing.T) {
	tests := []struct {
		zone     string
		from, to string // RFC 3339 days in UTC
	}{
		{"UTC", "2023-12-25", "2024-03-05"},
		{"Europe/Berlin", "2024-03-25", "2024-04-05"},
		{"America/Sao_Paulo", "2018-10-28", "2018-11-06"},
		{"America/Sao_Paulo", "2019-01-28", "2019-03-03"},
		{"America/Asuncion", "2019-09-28", "2019-10-08"},
		{"America/Havana", "2020-10-28", "2020-11-03"},
		{"Asia/Beirut", "2021-03-26", "2021-04-03"},
		{"Asia/Beirut", "2021-10-28", "2021-11-03"},
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
				p := &d.p[i]
				at := d.unix(p)
				require.Equal(t, d.monthOf(at), int(d.month(p)), "purchase at %v", time.Unix(at, 0).In(loc))
			}
		})
	}
}
