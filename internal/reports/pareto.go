package reports

import (
	"math"
	"slices"
)

// Pareto shows how concentrated revenue and margin are.
type Pareto struct {
	Customers int `json:"customers"`
	// TopCustomers is the top 20% of customers, rounded up.
	TopCustomers int `json:"topCustomers"`
	// RevenueShareTop20 is the share of net revenue from the top 20% of
	// customers ranked by revenue; MarginShareTop20 the share of margin
	// from the top 20% ranked by margin.
	RevenueShareTop20 float64 `json:"revenueShareTop20"`
	MarginShareTop20  float64 `json:"marginShareTop20"`
	// MarginCoverage is the share of net revenue whose cost of goods is
	// known; margin figures describe that part only.
	MarginCoverage float64 `json:"marginCoverage"`
	// Curves have 101 points: the share of value from the top 0%, 1%, …,
	// 100% of customers. Loss-making customers can push the margin curve
	// above 1 before it returns to 1. Empty when the total is not
	// positive.
	RevenueCurve []CurvePoint `json:"revenueCurve"`
	MarginCurve  []CurvePoint `json:"marginCurve"`
}

// CurvePoint is one point of a cumulative concentration curve.
type CurvePoint struct {
	CustomerShare float64 `json:"customerShare"`
	ValueShare    float64 `json:"valueShare"`
}

// Pareto computes the concentration of revenue and margin.
func (d *Dataset) Pareto() Pareto {
	n := len(d.ids)
	p := Pareto{Customers: n, TopCustomers: int(math.Ceil(0.2 * float64(n)))}
	revenue := make([]float64, n)
	margin := make([]float64, n)
	var covered, total float64
	for c := range n {
		for q := d.start[c]; q < d.start[c+1]; q++ {
			revenue[c] += d.p[q].Net
			margin[c] += float64(d.p[q].Margin)
			total += d.p[q].Net
			covered += d.p[q].Net * float64(d.p[q].Coverage)
		}
	}
	p.MarginCoverage = safeDiv(covered, total)
	p.RevenueShareTop20, p.RevenueCurve = concentration(revenue, p.TopCustomers)
	p.MarginShareTop20, p.MarginCurve = concentration(margin, p.TopCustomers)
	return p
}

// concentration sorts values in place and returns the share of the top
// `top` values and the 101-point cumulative curve from the largest down.
func concentration(values []float64, top int) (float64, []CurvePoint) {
	var total float64
	for _, v := range values {
		total += v
	}
	if len(values) == 0 || total <= 0 {
		return 0, nil
	}
	slices.Sort(values)
	n := len(values)
	// cum[k] is the sum of the k largest values.
	cum := make([]float64, n+1)
	for i := range n {
		cum[i+1] = cum[i] + values[n-1-i]
	}
	curve := make([]CurvePoint, 101)
	for i := range curve {
		k := int(math.Round(float64(i) * float64(n) / 100))
		curve[i] = CurvePoint{CustomerShare: float64(i) / 100, ValueShare: cum[k] / total}
	}
	return cum[top] / total, curve
}
