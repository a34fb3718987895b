package reports

import "time"

// Retention is the shop's headline loyalty figures.
type Retention struct {
	Customers       int `json:"customers"`
	RepeatCustomers int `json:"repeatCustomers"`
	// RetentionRate is the share of customers with two or more purchases.
	RetentionRate float64 `json:"retentionRate"`
	Purchases     int     `json:"purchases"`
	// RepeatPurchases are purchases other than a customer's first;
	// RepeatPurchaseRate is their share of all purchases.
	RepeatPurchases    int     `json:"repeatPurchases"`
	RepeatPurchaseRate float64 `json:"repeatPurchaseRate"`
	// AvgDaysBetweenOrders is rfm's cadence: each repeat customer's own
	// average gap, averaged over repeat customers (0 without any).
	AvgDaysBetweenOrders float64 `json:"avgDaysBetweenOrders"`
	// Trend is each month's figures: the cumulative retention rate as of
	// the month's end, and the month's own returning customer rate (the
	// last, possibly partial, month as of AsOf).
	Trend []MonthRate `json:"trend"`
}

// MonthRate is one month of the retention trend.
type MonthRate struct {
	Month time.Time `json:"month"`
	// Customers, RepeatCustomers and Rate are cumulative: everyone acquired
	// by the month's end, those of them with a second purchase by then, and
	// the share. It climbs with time alone, as customers have longer to
	// return, so the page shows the month's own rate below.
	Customers       int     `json:"customers"`
	RepeatCustomers int     `json:"repeatCustomers"`
	Rate            float64 `json:"rate"`
	// Buyers are the customers with a purchase in the month; Returning
	// those of them who had bought in an earlier month; ReturningRate
	// their share (Shopify's returning customer rate for the month).
	Buyers        int     `json:"buyers"`
	Returning     int     `json:"returning"`
	ReturningRate float64 `json:"returningRate"`
	// Partial marks the month of AsOf when it has not ended.
	Partial bool `json:"partial,omitempty"`
}

// Retention computes the retention figures and their monthly trend.
func (d *Dataset) Retention() Retention {
	r := Retention{Customers: len(d.ids), Purchases: len(d.p)}
	newByMonth := make([]int, d.months)
	secondByMonth := make([]int, d.months)
	buyers := make([]int, d.months)
	returning := make([]int, d.months)
	for c := range d.ids {
		lo, hi := d.start[c], d.start[c+1]
		first := d.month(&d.p[lo])
		newByMonth[first]++
		if hi-lo >= 2 {
			r.RepeatCustomers++
			secondByMonth[d.month(&d.p[lo+1])]++
		}
		last := int16(-1)
		for p := lo; p < hi; p++ {
			if m := d.month(&d.p[p]); m != last { // purchases are time-sorted
				buyers[m]++
				if m != first {
					returning[m]++
				}
				last = m
			}
		}
	}
	r.RetentionRate = ratio(r.RepeatCustomers, r.Customers)
	r.RepeatPurchases = r.Purchases - r.Customers
	r.RepeatPurchaseRate = ratio(r.RepeatPurchases, r.Purchases)
	if !d.cadence.Fallback {
		r.AvgDaysBetweenOrders = d.cadence.AvgDaysBetweenOrders
	}
	customers, repeaters := 0, 0
	r.Trend = make([]MonthRate, d.months)
	for m := range d.months {
		customers += newByMonth[m]
		repeaters += secondByMonth[m]
		r.Trend[m] = MonthRate{Month: d.monthTime(m), Customers: customers, RepeatCustomers: repeaters,
			Rate: ratio(repeaters, customers), Buyers: buyers[m], Returning: returning[m],
			ReturningRate: ratio(returning[m], buyers[m]), Partial: m >= d.completeMonths()}
	}
	return r
}

// Cohort is the customers acquired in one month, followed month by
// month. Index k of the slices is k months after acquisition, up to the
// month of AsOf (so later cohorts have shorter rows).
type Cohort struct {
	Month     time.Time `json:"month"`
	Customers int       `json:"customers"`
	// Active[k] counts the cohort's customers with a purchase in month k;
	// ActiveShare[k] is that count over Customers (1 at k = 0).
	Active      []int     `json:"active"`
	ActiveShare []float64 `json:"activeShare"`
	// Revenue[k] is the cohort's net revenue in month k.
	Revenue []float64 `json:"revenue"`
}

// Cohorts follows every monthly acquisition cohort, oldest first.
func (d *Dataset) Cohorts() []Cohort {
	cohorts := make([]Cohort, d.months)
	for m := range cohorts {
		width := d.months - m
		cohorts[m] = Cohort{Month: d.monthTime(m), Active: make([]int, width),
			ActiveShare: make([]float64, width), Revenue: make([]float64, width)}
	}
	for c := range d.ids {
		lo, hi := d.start[c], d.start[c+1]
		first := d.month(&d.p[lo])
		co := &cohorts[first]
		co.Customers++
		last := int16(-1)
		for p := lo; p < hi; p++ {
			k := d.month(&d.p[p]) - first
			co.Revenue[k] += d.p[p].Net
			if k != last { // purchases are time-sorted, so months are too
				co.Active[k]++
				last = k
			}
		}
	}
	for m := range cohorts {
		co := &cohorts[m]
		for k, a := range co.Active {
			co.ActiveShare[k] = ratio(a, co.Customers)
		}
	}
	return cohorts
}
