package reports

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/cvo-app/cvo/internal/rfm"
)

// TopGroups are the groups that make up the ideal customer.
var TopGroups = []rfm.Group{rfm.Soulmates, rfm.Lovers}

// ICP contrasts the best customers (TopGroups) with everyone else.
type ICP struct {
	TopGroups []rfm.Group `json:"topGroups"`
	Top       ProfileSide `json:"top"`
	Rest      ProfileSide `json:"rest"`
}

// ProfileSide describes one side of the comparison.
type ProfileSide struct {
	Customers     int     `json:"customers"`
	Purchases     int     `json:"purchases"`
	Countries     []Share `json:"countries"`
	Cities        []Share `json:"cities"`
	FirstProducts []Share `json:"firstProducts"`
	// Weekdays (Sunday = 0) and Hours are shares of the side's purchases,
	// in the shop's time zone.
	Weekdays [7]float64  `json:"weekdays"`
	Hours    [24]float64 `json:"hours"`
}

// Share is how common a value is on one side, next to how common it is
// on the other, so "12% of Soulmates vs 4% of the rest" reads directly.
type Share struct {
	Key        string  `json:"key"`
	Label      string  `json:"label"`
	Customers  int     `json:"customers"`
	Share      float64 `json:"share"`
	OtherShare float64 `json:"otherShare"`
}

// IdealCustomerProfile needs the assignments of Score, parallel to the
// dataset's customers.
func (d *Dataset) IdealCustomerProfile(assignments []rfm.Assignment) (ICP, error) {
	if len(assignments) != len(d.ids) {
		return ICP{}, fmt.Errorf("ideal customer profile: %d assignments for %d customers", len(assignments), len(d.ids))
	}
	top := make([]bool, len(d.ids))
	var icp ICP
	icp.TopGroups = TopGroups
	for c, a := range assignments {
		top[c] = slices.Contains(TopGroups, a.Group)
		side := &icp.Rest
		if top[c] {
			side = &icp.Top
		}
		side.Customers++
		for p := d.start[c]; p < d.start[c+1]; p++ {
			wd, h := d.zones.WeekdayHour(d.unix(&d.p[p]))
			side.Weekdays[wd]++
			side.Hours[h]++
			side.Purchases++
		}
	}
	for _, side := range []*ProfileSide{&icp.Top, &icp.Rest} {
		for i := range side.Weekdays {
			side.Weekdays[i] = safeDiv(side.Weekdays[i], float64(side.Purchases))
		}
		for i := range side.Hours {
			side.Hours[i] = safeDiv(side.Hours[i], float64(side.Purchases))
		}
	}
	n := d.opts.TopN
	icp.Top.Countries, icp.Rest.Countries = d.topShares(d.countryM, d.countries, top, icp.Top.Customers, icp.Rest.Customers, n)
	icp.Top.Cities, icp.Rest.Cities = d.topShares(d.cityM, d.cities, top, icp.Top.Customers, icp.Rest.Customers, n)
	icp.Top.FirstProducts, icp.Rest.FirstProducts = d.topShares(d.product, d.products, top, icp.Top.Customers, icp.Rest.Customers, n)
	return icp, nil
}

func (d *Dataset) topShares(m multi, names *dict, top []bool, nTop, nRest, limit int) ([]Share, []Share) {
	k := names.len()
	countTop := make([]int, k)
	countRest := make([]int, k)
	for c := range d.ids {
		counts := countRest
		if top[c] {
			counts = countTop
		}
		for _, id := range m.of(c) {
			counts[id]++
		}
	}
	pick := func(mine, other []int, nMine, nOther int) []Share {
		var ids []int
		for id, cnt := range mine {
			if cnt > 0 {
				ids = append(ids, id)
			}
		}
		slices.SortFunc(ids, func(a, b int) int {
			if c := cmp.Compare(mine[b], mine[a]); c != 0 {
				return c
			}
			return cmp.Compare(names.keys[a], names.keys[b])
		})
		ids = ids[:min(limit, len(ids))]
		out := make([]Share, len(ids))
		for i, id := range ids {
			out[i] = Share{Key: names.keys[id], Label: names.labels[id], Customers: mine[id],
				Share: ratio(mine[id], nMine), OtherShare: ratio(other[id], nOther)}
		}
		return out
	}
	return pick(countTop, countRest, nTop, nRest), pick(countRest, countTop, nRest, nTop)
}
