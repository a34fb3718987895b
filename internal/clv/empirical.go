package clv

import "math"

// Empirical is the fallback purchase model for shops whose data cannot
// support a BTYD fit. It is deliberately simple and says so: RepeatRate is
// the (Laplace-smoothed) share of customers who bought again, MeanGap the
// pooled mean time between transactions of repeat customers, in the
// dataset's unit (0 when nobody repeated, and then it predicts no orders).
//
// A customer's own gap is their t_x/x shrunk towards MeanGap by one pseudo
// observation, (t_x + MeanGap)/(x + 1). Activity decays exponentially once
// the time since the last transaction exceeds that gap; one-time buyers
// start from RepeatRate. Purchases of an active customer follow a Poisson
// process with rate 1/gap.
type Empirical struct {
	RepeatRate float64
	MeanGap    float64
}

// FitEmpirical computes the fallback model's two statistics.
func FitEmpirical(customers []Summary) Empirical {
	var n, repeaters, sumTx, sumX float64
	for _, s := range customers {
		n++
		if s.X > 0 {
			repeaters++
			sumTx += math.Max(s.Tx, 0)
			sumX += float64(s.X)
		}
	}
	e := Empirical{RepeatRate: (repeaters + 1) / (n + 2)}
	if sumX > 0 && sumTx > 0 {
		e.MeanGap = sumTx / sumX
	}
	return e
}

// Kind implements PurchaseModel.
func (Empirical) Kind() ModelKind { return ModelEmpirical }

func (e Empirical) gap(x, tx float64) float64 {
	if x == 0 {
		return e.MeanGap
	}
	return (tx + e.MeanGap) / (x + 1)
}

// PAlive implements PurchaseModel.
func (e Empirical) PAlive(xi int, tx, T float64) float64 {
	x, tx, T := sanitize(xi, tx, T)
	base := 1.0
	if x == 0 {
		base = clamp01(e.RepeatRate)
	}
	g := e.gap(x, tx)
	if !(g > 0) {
		return base
	}
	overdue := T - tx - g
	if overdue <= 0 {
		return base
	}
	return clamp01(base * math.Exp(-overdue/g))
}

// ConditionalExpected implements PurchaseModel.
func (e Empirical) ConditionalExpected(t float64, xi int, tx, T float64) float64 {
	x, tx2, _ := sanitize(xi, tx, T)
	g := e.gap(x, tx2)
	if !(t > 0) || !(g > 0) {
		return 0
	}
	return nonNegative(e.PAlive(xi, tx, T) * t / g)
}

// Expected implements PurchaseModel.
func (e Empirical) Expected(t float64) float64 {
	if !(t > 0) || !(e.MeanGap > 0) {
		return 0
	}
	return nonNegative(clamp01(e.RepeatRate) * t / e.MeanGap)
}

// ProbPurchaseWithin implements PurchaseModel.
func (e Empirical) ProbPurchaseWithin(t float64, xi int, tx, T float64) float64 {
	x, tx2, _ := sanitize(xi, tx, T)
	g := e.gap(x, tx2)
	if !(t > 0) || !(g > 0) {
		return 0
	}
	return clamp01(e.PAlive(xi, tx, T) * -math.Expm1(-t/g))
}

// TimeToPurchase implements PurchaseModel.
func (e Empirical) TimeToPurchase(q float64, xi int, tx, T float64) (float64, bool) {
	x, tx2, _ := sanitize(xi, tx, T)
	g := e.gap(x, tx2)
	pa := e.PAlive(xi, tx, T)
	if !(q > 0 && q < 1) || !(g > 0) || pa <= q {
		return 0, false
	}
	t := -g * math.Log1p(-q/pa)
	if !isFinite(t) || t > maxWaitUnits {
		return 0, false
	}
	return t, true
}

// EmpiricalSpend is the fallback spend model: the shop's mean transaction
// value, blended with a customer's own mean repeat value as if the shop
// mean were one more observation.
type EmpiricalSpend struct {
	Mean float64
}

// FitEmpiricalSpend averages all transactions, first ones included.
func FitEmpiricalSpend(customers []Summary) EmpiricalSpend {
	var sum, n float64
	for _, s := range customers {
		sum += math.Max(finiteOrZero(s.FirstValue), 0)
		n++
		if s.X > 0 {
			sum += float64(s.X) * math.Max(finiteOrZero(s.Monetary), 0)
			n += float64(s.X)
		}
	}
	if n == 0 {
		return EmpiricalSpend{}
	}
	return EmpiricalSpend{Mean: sum / n}
}

// Kind implements SpendModel.
func (EmpiricalSpend) Kind() string { return "empirical" }

// ExpectedSpend implements SpendModel.
func (e EmpiricalSpend) ExpectedSpend(x int, monetary float64) float64 {
	mean := nonNegative(e.Mean)
	if x <= 0 || !(monetary >= 0) || math.IsInf(monetary, 1) {
		return mean
	}
	fx := float64(x)
	return nonNegative((mean + fx*monetary) / (fx + 1))
}
