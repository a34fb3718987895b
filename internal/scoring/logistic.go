package scoring

import (
	"errors"
	"math"
	"slices"
)

// logisticFit is a logistic regression fitted by Newton's method on
// standardized columns; the intercept is not penalized, so at convergence
// the mean fitted probability equals the share of positive labels exactly
// (the intercept's score equation), which is what recalibration relies on.
type logisticFit struct {
	mean, scale []float64
	coef        []float64
	intercept   float64
}

var errLogisticDegenerate = errors.New("the labels are all the same")

// ridge keeps the Newton steps finite when a column separates the labels
// or columns are collinear; small enough not to move a fit on real data.
const ridge = 1e-6

// fitLogistic fits y ~ X (X row-major, k columns per row). It standardizes
// X in place, once, rather than every row in every Newton step.
func fitLogistic(X []float64, y []bool, k int) (logisticFit, error) {
	n := len(y)
	f := logisticFit{mean: make([]float64, k), scale: make([]float64, k), coef: make([]float64, k)}
	pos := 0
	for _, v := range y {
		if v {
			pos++
		}
	}
	if n == 0 || pos == 0 || pos == n {
		return f, errLogisticDegenerate
	}
	for j := range k {
		var s, ss float64
		for i := range n {
			v := X[i*k+j]
			s += v
			ss += v * v
		}
		m := s / float64(n)
		f.mean[j] = m
		sd := math.Sqrt(math.Max(ss/float64(n)-m*m, 0))
		if !(sd > 1e-12) {
			sd = 1
		}
		f.scale[j] = sd
	}
	for i := range n {
		for j := range k {
			X[i*k+j] = (X[i*k+j] - f.mean[j]) / f.scale[j]
		}
	}
	share := float64(pos) / float64(n)
	f.intercept = math.Log(share / (1 - share))
	d := k + 1
	z := make([]float64, d)
	grad := make([]float64, d)
	hess := make([]float64, d*d)
	// Newton's method converges quadratically here (the log-likelihood is
	// concave); the step size alone tells when it has.
	for range 50 {
		clear(grad)
		clear(hess)
		for i := range n {
			z[0] = 1
			eta := f.intercept
			for j := range k {
				z[j+1] = X[i*k+j]
				eta += f.coef[j] * z[j+1]
			}
			p := sigmoid(eta)
			yi := 0.0
			if y[i] {
				yi = 1
			}
			w := math.Max(p*(1-p), 1e-12)
			for a := range d {
				grad[a] += (yi - p) * z[a]
				for b := 0; b <= a; b++ {
					hess[a*d+b] += w * z[a] * z[b]
				}
			}
		}
		for a := 1; a < d; a++ {
			grad[a] -= ridge * float64(n) * f.coef[a-1]
			hess[a*d+a] += ridge * float64(n)
		}
		for a := range d {
			for b := a + 1; b < d; b++ {
				hess[a*d+b] = hess[b*d+a]
			}
		}
		step, ok := solveSPD(hess, grad, d)
		if !ok {
			return f, errors.New("logistic regression: singular information matrix")
		}
		f.intercept += step[0]
		for j := range k {
			f.coef[j] += step[j+1]
		}
		if maxAbsSlice(step) < 1e-9 {
			break
		}
	}
	if !isFinite(f.intercept) || slices.ContainsFunc(f.coef, func(v float64) bool { return !isFinite(v) }) {
		return f, errors.New("logistic regression did not converge")
	}
	return f, nil
}

// eta is the linear predictor of one row.
func (f *logisticFit) eta(row []float64) float64 {
	e := f.intercept
	for j, v := range row {
		e += f.coef[j] * (v - f.mean[j]) / f.scale[j]
	}
	return e
}

func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

func logit(p float64) float64 {
	p = math.Min(math.Max(p, 1e-9), 1-1e-9)
	return math.Log(p / (1 - p))
}

// solveSPD solves A x = b for a small symmetric positive definite A
// (Cholesky).
func solveSPD(A, b []float64, d int) ([]float64, bool) {
	L := make([]float64, d*d)
	for i := range d {
		for j := 0; j <= i; j++ {
			s := A[i*d+j]
			for k := range j {
				s -= L[i*d+k] * L[j*d+k]
			}
			if i == j {
				if !(s > 0) {
					return nil, false
				}
				L[i*d+i] = math.Sqrt(s)
			} else {
				L[i*d+j] = s / L[j*d+j]
			}
		}
	}
	y := make([]float64, d)
	for i := range d {
		s := b[i]
		for k := range i {
			s -= L[i*d+k] * y[k]
		}
		y[i] = s / L[i*d+i]
	}
	x := make([]float64, d)
	for i := d - 1; i >= 0; i-- {
		s := y[i]
		for k := i + 1; k < d; k++ {
			s -= L[k*d+i] * x[k]
		}
		x[i] = s / L[i*d+i]
	}
	return x, true
}

func maxAbsSlice(v []float64) float64 {
	var m float64
	for _, x := range v {
		m = math.Max(m, math.Abs(x))
	}
	return m
}
