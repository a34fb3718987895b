package shopgen

import (
	"math"
	"math/rand/v2"
)

// stream is a reseedable random source: the generator gives every customer
// its own streams, keyed by the seed and the customer's index, so any
// customer can be replayed (the calibration pilot and the real run see the
// same draws) and chunks can be generated in any order.
type stream struct {
	pcg *rand.PCG
	*rand.Rand
}

func newStream() *stream {
	pcg := rand.NewPCG(0, 0)
	return &stream{pcg: pcg, Rand: rand.New(pcg)}
}

// reset positions the stream at the start of (seed, tag, index).
func (s *stream) reset(seed int64, tag uint64, index uint64) {
	s.pcg.Seed(mix64(uint64(seed)^mix64(tag)), mix64(index+0x9e3779b97f4a7c15*tag))
}

// gamma draws from Gamma(shape, rate) by Marsaglia and Tsang's method,
// boosting shapes below one with U^(1/shape).
func (s *stream) gamma(shape, rate float64) float64 {
	boost := 1.0
	if shape < 1 {
		boost = math.Pow(s.openFloat(), 1/shape)
		shape++
	}
	d := shape - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := s.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := s.openFloat()
		if math.Log(u) < 0.5*x*x+d*(1-v+math.Log(v)) {
			return boost * d * v / rate
		}
	}
}

// beta draws from Beta(a, b) as a ratio of gammas.
func (s *stream) beta(a, b float64) float64 {
	x := s.gamma(a, 1)
	y := s.gamma(b, 1)
	if x+y == 0 {
		return 0.5
	}
	return x / (x + y)
}

// openFloat is uniform on (0, 1), safe to take the log of.
func (s *stream) openFloat() float64 {
	for {
		if u := s.Float64(); u > 0 {
			return u
		}
	}
}

// geometric counts failures before the first success of probability p.
func (s *stream) geometric(p float64) int {
	if p >= 1 {
		return 0
	}
	if p <= 0 {
		return math.MaxInt32
	}
	g := math.Floor(math.Log(s.openFloat()) / math.Log1p(-p))
	if g > math.MaxInt32 {
		return math.MaxInt32
	}
	return int(g)
}

// pick returns an index drawn with the weights whose cumulative sums are cdf.
func (s *stream) pick(cdf []float64) int {
	u := s.Float64() * cdf[len(cdf)-1]
	lo, hi := 0, len(cdf)-1
	for lo < hi {
		mid := (lo + hi) / 2
		if cdf[mid] > u {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}
