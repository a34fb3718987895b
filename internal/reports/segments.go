package reports

import (
	"cmp"
	"slices"
)

// Verdict says whether a segment's repeat rate differs from the rest of
// the shop after the multiple-comparison correction.
type Verdict string

const (
	// Neutral means no difference survived the correction.
	Neutral Verdict = ""
	// Above means customers in the segment come back more often than the rest
	// (a rockstar product, a sticky campaign, a loyal city).
	Above Verdict = "above"
	// Below means they come back less often (a toxic product, a campaign that
	// buys one-time customers, a disloyal city).
	Below Verdict = "below"
)

// Segment is the repeat behaviour of customers who share an attribute of
// their first purchase (product, campaign …) or of themselves (city).
type Segment struct {
	Dimension string `json:"dimension"`
	Key       string `json:"key"`
	Label     string `json:"label"`
	// Acquired counts every customer in the segment; Customers only those
	// whose whole repeat window has been observed, on which the rates and
	// the test are computed.
	Acquired   int     `json:"acquired"`
	Customers  int     `json:"customers"`
	Repeaters  int     `json:"repeaters"`
	RepeatRate float64 `json:"repeatRate"`
	// Baseline is the repeat rate of all eligible customers in the shop.
	Baseline float64 `json:"baseline"`
	// AvgLaterValue is the net value bought after the first purchase,
	// within the window, averaged over the segment's customers.
	AvgLaterValue float64 `json:"avgLaterValue"`
	// Tested is false when the segment or the rest of the shop is below
	// MinSegmentSize or has too few repeaters or non-repeaters for the
	// normal approximation; PValue and QValue are then 1.
	Tested bool    `json:"tested"`
	Z      float64 `json:"z"`
	// PValue is the two-sided two-proportion z-test of the segment against
	// the rest of the shop; QValue is its Benjamini-Hochberg adjustment
	// within the dimension.
	PValue  float64 `json:"pValue"`
	QValue  float64 `json:"qValue"`
	Verdict Verdict `json:"verdict"`
}

// segments tallies one dimension over the customers and tests every
// value against the rest of the shop.
func (d *Dataset) segments(dimension string, m multi, names *dict) []Segment {
	k := names.len()
	acquired := make([]int, k)
	customers := make([]int, k)
	repeaters := make([]int, k)
	later := make([]float64, k)
	total, totalRepeaters := 0, 0
	for c := range d.ids {
		ids := m.of(c)
		for _, id := range ids {
			acquired[id]++
		}
		if !d.eligible[c] {
			continue
		}
		total++
		if d.repeated[c] {
			totalRepeaters++
		}
		for _, id := range ids {
			customers[id]++
			later[id] += d.later[c]
			if d.repeated[c] {
				repeaters[id]++
			}
		}
	}
	baseline := ratio(totalRepeaters, total)

	var out []Segment
	var tested []int
	var pvalues []float64
	for id := range k {
		if acquired[id] == 0 {
			continue
		}
		s := Segment{Dimension: dimension, Key: names.keys[id], Label: names.labels[id],
			Acquired: acquired[id], Customers: customers[id], Repeaters: repeaters[id],
			RepeatRate: ratio(repeaters[id], customers[id]), Baseline: baseline,
			AvgLaterValue: safeDiv(later[id], float64(customers[id])), PValue: 1, QValue: 1}
		z, p, ok := twoProportionTest(repeaters[id], customers[id],
			totalRepeaters-repeaters[id], total-customers[id], d.opts.MinSegmentSize)
		if ok {
			s.Tested, s.Z, s.PValue = true, z, p
			tested = append(tested, len(out))
			pvalues = append(pvalues, p)
		}
		out = append(out, s)
	}
	for i, q := range benjaminiHochberg(pvalues) {
		s := &out[tested[i]]
		s.QValue = q
		if q < d.opts.Alpha {
			s.Verdict = Below
			if s.Z > 0 {
				s.Verdict = Above
			}
		}
	}
	slices.SortFunc(out, func(a, b Segment) int {
		if c := cmp.Compare(b.Acquired, a.Acquired); c != 0 {
			return c
		}
		return cmp.Compare(a.Key, b.Key)
	})
	return out
}

// Stickiness is "new customer stickiness": how well customers acquired
// through each channel, UTM source, UTM campaign and discount code of
// their first order come back.
type Stickiness struct {
	Window        Window    `json:"window"`
	Baseline      float64   `json:"baseline"`
	Channels      []Segment `json:"channels"`
	Sources       []Segment `json:"sources"`
	Campaigns     []Segment `json:"campaigns"`
	DiscountCodes []Segment `json:"discountCodes"`
}

// Stickiness compares acquisition segments; a first order without a
// value (no UTM campaign, no code) falls under "(none)".
func (d *Dataset) Stickiness() Stickiness {
	s := Stickiness{Window: d.window, Baseline: d.baseline(),
		Channels:      d.segments("channel", d.channel, d.channels),
		Sources:       d.segments("source", d.source, d.sources),
		Campaigns:     d.segments("campaign", d.campaign, d.campaigns),
		DiscountCodes: d.segments("discount_code", d.code, d.codes),
	}
	return s
}

// ProductRetention finds rockstar and toxic products: for each product,
// vendor and product type bought in customers' first orders, how often
// those customers came back. Verdict Above marks a rockstar, Below a
// toxic one; both only where the difference is significant.
type ProductRetention struct {
	Window       Window    `json:"window"`
	Baseline     float64   `json:"baseline"`
	Products     []Segment `json:"products"`
	Vendors      []Segment `json:"vendors"`
	ProductTypes []Segment `json:"productTypes"`
}

// ProductRetention runs the product, vendor and product-type tests.
func (d *Dataset) ProductRetention() ProductRetention {
	return ProductRetention{Window: d.window, Baseline: d.baseline(),
		Products:     d.segments("product", d.product, d.products),
		Vendors:      d.segments("vendor", d.vendor, d.vendors),
		ProductTypes: d.segments("product_type", d.productType, d.types),
	}
}

// Rockstars lists the products whose first buyers come back
// significantly more often than the rest.
func (p ProductRetention) Rockstars() []Segment { return withVerdict(p.Products, Above) }

// Toxic lists the products whose first buyers come back significantly
// less often than the rest.
func (p ProductRetention) Toxic() []Segment { return withVerdict(p.Products, Below) }

func withVerdict(segments []Segment, v Verdict) []Segment {
	var out []Segment
	for _, s := range segments {
		if s.Verdict == v {
			out = append(out, s)
		}
	}
	return out
}

func (d *Dataset) baseline() float64 {
	total, rep := 0, 0
	for c := range d.ids {
		if d.eligible[c] {
			total++
			if d.repeated[c] {
				rep++
			}
		}
	}
	return ratio(rep, total)
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func safeDiv(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}
