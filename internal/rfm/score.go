package rfm

import (
	"math"
	"runtime"
	"slices"
	"sync"
	"time"
)

// Assignment is one customer's scores and group.
type Assignment struct {
	ID    string `json:"id"`
	R     uint8  `json:"r"`
	F     uint8  `json:"f"`
	M     uint8  `json:"m"`
	Group Group  `json:"group"`
}

// Result is one scoring of a shop.
type Result struct {
	AsOf    time.Time `json:"asOf"`
	Cadence Cadence   `json:"cadence"`
	R       Scale     `json:"r"`
	F       Scale     `json:"f"`
	M       Scale     `json:"m"`
	// Customers is parallel to the input slice. Customers without a
	// purchase get NoGroup and zero scores.
	Customers []Assignment `json:"-"`
	// Counts holds the number of customers per group, indexed by Group.
	Counts [NumGroups + 1]int `json:"counts"`

	opts Options
}

// Score scores every customer against the shop's own distributions and
// assigns each to exactly one group.
func Score(customers []Customer, opts Options) Result {
	opts = opts.withDefaults()
	if opts.AsOf.IsZero() {
		opts.AsOf = latestPurchase(customers)
	}
	res := Result{AsOf: opts.AsOf, opts: opts}
	res.Cadence = ShopCadence(customers, opts)
	res.R = recencyScale(recencyBlocks(customers, opts.AsOf), opts.MaxLevels, res.Cadence)
	res.F = frequencyScale(customers, opts)
	res.M = monetaryScale(customers, opts)

	res.Customers = make([]Assignment, len(customers))
	// Customers are scored independently, so the work splits across cores
	// with a count per chunk.
	chunks := min(runtime.GOMAXPROCS(0), 8, max(1, len(customers)/50_000))
	counts := make([][NumGroups + 1]int, chunks)
	var wg sync.WaitGroup
	for w := range chunks {
		lo, hi := len(customers)*w/chunks, len(customers)*(w+1)/chunks
		wg.Go(func() {
			for i := lo; i < hi; i++ {
				c := &customers[i]
				a := &res.Customers[i]
				a.ID = c.ID
				if c.Purchases <= 0 {
					counts[w][NoGroup]++
					continue
				}
				p := res.profile(c, i, false)
				a.R, a.F, a.M = uint8(p.R), uint8(p.F), uint8(p.M)
				a.Group = Classify(p)
				counts[w][a.Group]++
			}
		})
	}
	wg.Wait()
	for _, cs := range counts {
		for g, n := range cs {
			res.Counts[g] += n
		}
	}
	return res
}

// Profile recomputes the rule inputs of one customer, for explaining a
// customer's group. With PreviousGroups the customer is found by ID in
// the result.
func (r Result) Profile(c Customer) Profile {
	index := -1
	if r.opts.PreviousGroups != nil {
		index = slices.IndexFunc(r.Customers, func(a Assignment) bool { return a.ID == c.ID })
	}
	return r.profile(&c, index, true)
}

// profile builds the rule inputs. The previous group is only looked up
// for inactive customers unless always is set: only the Ex-Lovers rule
// reads it, and a million string-keyed map lookups are not free.
func (r *Result) profile(c *Customer, index int, always bool) Profile {
	asOf := r.AsOf.Unix()
	first, last := c.FirstPurchase, c.LastPurchase
	p := Profile{
		Purchases:     int(c.Purchases),
		RecencyDays:   max(float64(asOf-last)/secondsPerDay, 0),
		TenureDays:    max(float64(asOf-first)/secondsPerDay, 0),
		AvgOrderValue: c.AvgOrderValue(),
		HorizonDays:   r.Cadence.HorizonDays,
	}
	if c.Purchases > 1 {
		p.OwnGapDays = float64(last-first) / secondsPerDay / float64(c.Purchases-1)
	}
	if c.Purchases > 0 {
		p.DiscountShare = float64(c.DiscountedPurchases) / float64(c.Purchases)
	}
	p.R = r.R.Score(math.Floor(p.RecencyDays))
	p.RLevels = r.R.Levels
	p.F = r.F.Score(float64(c.Purchases))
	p.M = r.M.Score(p.AvgOrderValue)
	p.FTier = TierOf(p.F, r.F.Levels)
	p.MTier = TierOf(p.M, r.M.Levels)
	switch {
	case !always && !p.inactive():
	case r.opts.PreviousGroups != nil:
		if index >= 0 && index < len(r.opts.PreviousGroups) {
			p.Previous = r.opts.PreviousGroups[index]
		}
	case r.opts.Previous != nil:
		p.Previous = r.opts.Previous[c.ID]
	}
	return p
}

// smallCounts bounds the histogram used for purchase counts; customers
// above it (rare wholesale accounts) are sorted instead.
const smallCounts = 4096

func frequencyScale(customers []Customer, opts Options) Scale {
	hist := make([]int, smallCounts)
	var large []float64
	for i := range customers {
		n := customers[i].Purchases
		switch {
		case n <= 0:
		case n < smallCounts:
			hist[n]++
		default:
			large = append(large, float64(n))
		}
	}
	var blocks []valueBlock
	for v, count := range hist {
		if count > 0 {
			blocks = append(blocks, valueBlock{value: float64(v), count: count})
		}
	}
	slices.Sort(large)
	blocks = append(blocks, blocksFromSorted(large)...)
	return quantileScale(blocks, opts.MaxLevels, "number of purchases", formatCount)
}

func monetaryScale(customers []Customer, opts Options) Scale {
	values := make([]float64, 0, len(customers))
	for i := range customers {
		if customers[i].Purchases > 0 {
			values = append(values, customers[i].AvgOrderValue())
		}
	}
	slices.Sort(values)
	return quantileScale(blocksFromSorted(values), opts.MaxLevels, "average order value", formatMoney)
}

// RecencyDays is what the R score reads: whole days from the last
// purchase to the scoring date, so customers who bought on the same day
// tie and an explanation can say "12 days ago".
func RecencyDays(last, asOf time.Time) float64 { return recencyDays(last.Unix(), asOf.Unix()) }

// recencyDays is RecencyDays in Unix seconds.
func recencyDays(last, asOf int64) float64 {
	return max(math.Floor(float64(asOf-last)/secondsPerDay), 0)
}

func recencyBlocks(customers []Customer, asOf time.Time) []valueBlock {
	var hist []int
	for i := range customers {
		if customers[i].Purchases <= 0 {
			continue
		}
		d := int(recencyDays(customers[i].LastPurchase, asOf.Unix()))
		if d >= len(hist) {
			hist = slices.Grow(hist, d+1-len(hist))[:d+1]
		}
		hist[d]++
	}
	var blocks []valueBlock
	for d, count := range hist {
		if count > 0 {
			blocks = append(blocks, valueBlock{value: float64(d), count: count})
		}
	}
	return blocks
}

// latestPurchase stands in for a missing scoring date, so that a zero
// AsOf scores as of the newest data rather than as of year 1.
func latestPurchase(customers []Customer) time.Time {
	latest := zeroUnix
	for i := range customers {
		if customers[i].Purchases > 0 {
			latest = max(latest, customers[i].LastPurchase)
		}
	}
	if latest == zeroUnix {
		return time.Time{}
	}
	return time.Unix(latest, 0).UTC()
}

// zeroUnix is the zero time.Time in Unix seconds, from which a purchase's
// time can stand in for a missing scoring date.
var zeroUnix = time.Time{}.Unix()
