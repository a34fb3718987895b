package reports

import (
	"time"
)

// MonthlyPoint is one complete month of the shop's history.
type MonthlyPoint struct {
	Month        time.Time `json:"month"`
	Revenue      float64   `json:"revenue"`
	Margin       float64   `json:"margin"`
	NewCustomers int       `json:"newCustomers"`
	Buyers       int       `json:"buyers"`
	// ReturningShare is the month's retention: the share of the month's
	// buyers who had bought in an earlier month.
	ReturningShare float64 `json:"returningShare"`
	// RetentionRate is the cumulative retention rate at the month's end.
	RetentionRate float64 `json:"retentionRate"`
}

// Change is a month whose value departs sharply from the months before
// it.
type Change struct {
	Metric   string    `json:"metric"` // revenue, margin, new_customers, returning_share
	Month    time.Time `json:"month"`
	Value    float64   `json:"value"`
	Expected float64   `json:"expected"` // median of the trailing months
	Z        float64   `json:"z"`        // robust z-score, capped at ±99
}

// Anomalies gathers what stands out: sudden monthly changes and the
// countries, cities and vendors whose customers are significantly more
// or less loyal than the rest.
type Anomalies struct {
	Monthly  []MonthlyPoint `json:"monthly"`
	Changes  []Change       `json:"changes"`
	Segments []Segment      `json:"segments"`
}

// Loyalty is the repeat behaviour by customer country and city and by
// the vendor of the first purchase.
type Loyalty struct {
	Window    Window    `json:"window"`
	Baseline  float64   `json:"baseline"`
	Countries []Segment `json:"countries"`
	Cities    []Segment `json:"cities"`
	Vendors   []Segment `json:"vendors"`
}

// Loyalty tests every country, city and first-purchase vendor against
// the rest of the shop. Customers with an unknown location are left out
// of the location tables.
func (d *Dataset) Loyalty() Loyalty {
	return Loyalty{Window: d.window, Baseline: d.baseline(),
		Countries: d.segments("country", d.countryM, d.countries),
		Cities:    d.segments("city", d.cityM, d.cities),
		Vendors:   d.segments("vendor", d.vendor, d.vendors),
	}
}

// Monthly returns the complete months of the history; the month of AsOf
// is left out unless AsOf is its last instant, since a partial month
// would always look like a collapse.
func (d *Dataset) Monthly() []MonthlyPoint { return d.monthly(d.Retention().Trend) }

func (d *Dataset) monthly(trend []MonthRate) []MonthlyPoint {
	months := d.completeMonths()
	points := make([]MonthlyPoint, months)
	returning := make([]int, months)
	for c := range d.ids {
		lo, hi := d.start[c], d.start[c+1]
		first := d.month(&d.p[lo])
		if int(first) < months {
			points[first].NewCustomers++
		}
		last := int16(-1)
		for p := lo; p < hi; p++ {
			m := d.month(&d.p[p])
			if int(m) >= months {
				break
			}
			points[m].Revenue += d.p[p].Net
			points[m].Margin += float64(d.p[p].Margin)
			if m != last {
				points[m].Buyers++
				if m != first {
					returning[m]++
				}
				last = m
			}
		}
	}
	for m := range points {
		points[m].Month = d.monthTime(m)
		points[m].ReturningShare = ratio(returning[m], points[m].Buyers)
		points[m].RetentionRate = trend[m].Rate
	}
	return points
}

// Anomalies flags months whose revenue, margin, new customers or
// returning share lie more than AnomalyThreshold robust z-scores from the
// median of the trailing AnomalyWindow months (at least three needed),
// and lists the loyalty segments with a significant verdict.
func (d *Dataset) Anomalies() Anomalies {
	return d.anomalies(d.Monthly(), d.Loyalty())
}

func (d *Dataset) anomalies(monthly []MonthlyPoint, l Loyalty) Anomalies {
	a := Anomalies{Monthly: monthly}
	metrics := []struct {
		name  string
		value func(MonthlyPoint) float64
	}{
		{"revenue", func(p MonthlyPoint) float64 { return p.Revenue }},
		{"margin", func(p MonthlyPoint) float64 { return p.Margin }},
		{"new_customers", func(p MonthlyPoint) float64 { return float64(p.NewCustomers) }},
		{"returning_share", func(p MonthlyPoint) float64 { return p.ReturningShare }},
	}
	const minHistory = 3
	for _, metric := range metrics {
		series := make([]float64, len(a.Monthly))
		for i, p := range a.Monthly {
			series[i] = metric.value(p)
		}
		for m := minHistory; m < len(series); m++ {
			from := max(0, m-d.opts.AnomalyWindow)
			z, expected := robustZ(series[m], series[from:m])
			if z >= d.opts.AnomalyThreshold || z <= -d.opts.AnomalyThreshold {
				a.Changes = append(a.Changes, Change{Metric: metric.name, Month: a.Monthly[m].Month,
					Value: series[m], Expected: expected, Z: z})
			}
		}
	}
	for _, group := range [][]Segment{l.Countries, l.Cities, l.Vendors} {
		a.Segments = append(a.Segments, withVerdict(group, Above)...)
		a.Segments = append(a.Segments, withVerdict(group, Below)...)
	}
	return a
}
