package clv

import (
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"gonum.org/v1/gonum/stat/distuv"
)

// simCustomer draws one customer's purchase times (in days after the first
// purchase, the first excluded, at most age) from the (M)BG/NBD process:
// λ ~ Gamma(r, α) per day, p ~ Beta(a, b), dropout after each repeat
// purchase and, for MBG/NBD (shift 1), right after the first one too.
func simCustomer(rng *rand.Rand, src rand.Source, m bgFamily, age float64) []float64 {
	lambda := distuv.Gamma{Alpha: m.r, Beta: m.alpha, Src: src}.Rand()
	p := distuv.Beta{Alpha: m.a, Beta: m.b, Src: src}.Rand()
	if m.shift == 1 && rng.Float64() < p {
		return nil
	}
	var times []float64
	t := 0.0
	for lambda > 0 {
		t += rng.ExpFloat64() / lambda
		if t > age {
			break
		}
		times = append(times, t)
		if rng.Float64() < p {
			break
		}
	}
	return times
}

// simulateSummaries draws n customers with integer ages up to maxAgeDays and
// summarizes them per calendar day (the first purchase at the start of day
// 0), the way Summarize would.
func simulateSummaries(seed uint64, n int, m bgFamily, maxAgeDays int) []Summary {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	src := rand.NewPCG(seed+1, seed+2)
	out := make([]Summary, n)
	for i := range out {
		age := float64(rng.IntN(maxAgeDays + 1))
		s := Summary{T: age}
		last := 0.0
		for _, t := range simCustomer(rng, src, m, age+0.999) {
			d := math.Floor(t)
			if d > age {
				break
			}
			if d > last {
				s.X++
				last = d
			}
		}
		s.Tx = last
		out[i] = s
	}
	return out
}

// simulatePurchases draws n customers acquired uniformly over [start, end]
// and their purchases up to end, each worth value().
func simulatePurchases(seed uint64, n int, m bgFamily, start, end time.Time, value func(rng *rand.Rand, customer int) float64) []Purchase {
	rng := rand.New(rand.NewPCG(seed, seed^0x51a3))
	src := rand.NewPCG(seed+3, seed+4)
	span := end.Sub(start).Hours() / 24
	var out []Purchase
	for i := 0; i < n; i++ {
		id := "c" + strconv.Itoa(i)
		first := start.Add(time.Duration(rng.Float64() * span * 24 * float64(time.Hour)))
		out = append(out, Purchase{id, first, value(rng, i)})
		age := end.Sub(first).Hours() / 24
		for _, t := range simCustomer(rng, src, m, age) {
			out = append(out, Purchase{id, first.Add(time.Duration(t * 24 * float64(time.Hour))), value(rng, i)})
		}
	}
	return out
}
