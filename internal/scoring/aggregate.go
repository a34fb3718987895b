package scoring

import (
	"time"

	"github.com/cvo-app/cvo/internal/rfm"
)

// aggregate sums the customers up per RFM group (all eleven, in display
// order) and for the shop.
func aggregate(customers []CustomerScore) ([]GroupAggregate, Totals) {
	type acc struct {
		customers, orders, repeat               int
		revenue, gapDays, hist, pred, pAl, pWin float64
		expected                                float64
	}
	var byGroup [rfm.NumGroups + 1]acc
	var all acc
	var margin, cac float64
	for i := range customers {
		c := &customers[i]
		for _, a := range []*acc{&byGroup[c.Group], &all} {
			a.customers++
			a.orders += int(c.Orders)
			a.revenue += c.Revenue
			a.hist += c.HistoricalCLV
			a.pred += c.PredictedCLV
			a.pAl += c.PAlive
			a.pWin += c.POrderWindow
			a.expected += c.ExpectedOrders
			if c.Orders > 1 {
				a.repeat++
				a.gapDays += time.Duration((c.LastOrder-c.FirstOrder)*int64(time.Second)).Hours() / 24 / float64(c.Orders-1)
			}
		}
		margin += c.GrossMargin
		cac += c.CAC
	}
	groups := make([]GroupAggregate, 0, rfm.NumGroups)
	for _, g := range rfm.Groups() {
		a := &byGroup[g]
		n := float64(a.customers)
		groups = append(groups, GroupAggregate{
			Group:                g,
			Name:                 g.Name(),
			Customers:            a.customers,
			Share:                ratio(n, float64(all.customers)),
			Orders:               a.orders,
			Revenue:              finite(a.revenue),
			RevenueShare:         ratio(a.revenue, all.revenue),
			AOV:                  ratio(a.revenue, float64(a.orders)),
			AvgDaysBetweenOrders: ratio(a.gapDays, float64(a.repeat)),
			RepeatCustomers:      a.repeat,
			AvgHistoricalCLV:     ratio(a.hist, n),
			AvgPredictedCLV:      ratio(a.pred, n),
			AvgPAlive:            ratio(a.pAl, n),
			AvgPOrderWindow:      ratio(a.pWin, n),
			ExpectedOrders:       finite(a.expected),
			PredictedCLV:         finite(a.pred),
		})
	}
	n := float64(all.customers)
	t := Totals{
		Customers:        all.customers,
		RepeatCustomers:  all.repeat,
		Orders:           all.orders,
		Revenue:          finite(all.revenue),
		GrossMargin:      finite(margin),
		AOV:              ratio(all.revenue, float64(all.orders)),
		RetentionRate:    ratio(float64(all.repeat), n),
		RepeatRate:       ratio(float64(all.orders-all.customers), float64(all.orders)),
		AvgHistoricalCLV: ratio(all.hist, n),
		AvgPredictedCLV:  ratio(all.pred, n),
		AvgCAC:           ratio(cac, n),
		ExpectedOrders:   finite(all.expected),
		PredictedCLV:     finite(all.pred),
		AvgPAlive:        ratio(all.pAl, n),
		AvgPOrderWindow:  ratio(all.pWin, n),
	}
	if cac > 0 {
		t.CLVToCAC = ratio(margin+all.pred, cac)
		t.HistoricalCLVToCAC = ratio(margin, cac)
	}
	return groups, t
}

// ratio is a/b, 0 when b is 0 or the result is not finite.
func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return finite(a / b)
}
