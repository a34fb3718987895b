package reports

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"time"
)

// LifetimeValue is what peers such as Lifetimely and Peel show merchants:
// cumulative net revenue and gross profit per customer by month since the
// first order (the LTV curve), per acquisition cohort month and by the
// first order's product, discount code and acquisition source; the month
// in which that gross profit pays back the acquisition cost; and the
// customers who order at a steady, subscription-like interval.
//
// Month k since acquisition is calendar month k after the month of the
// customer's first purchase, in the shop's time zone (k = 0 is that
// month), as the cohort heatmap counts it. Values are net of the refunds
// known at AsOf and belong to the month of the order they were given on.
// Gross profit follows historical CLV: known unit costs where recorded, the
// default margin rate on the rest.
type LifetimeValue struct {
	// PartialMonth is set when AsOf falls inside a month: the last point
	// of every cohort is then that month so far, and is marked partial.
	PartialMonth bool `json:"partialMonth"`
	// CAC is the average acquisition cost per customer (0 when no cost is
	// set).
	CAC     float64     `json:"cac"`
	Cohorts []LTVCohort `json:"cohorts"`
	// Overall is the curve of every customer.
	Overall LTVCurve `json:"overall"`
	// The curves by the first order's products, discount code ("(none)"
	// for an order without one) and acquisition source (UTM source, else
	// sales channel, lower-cased: what acquisition costs are set by), the
	// LTVTopN with the most customers; FirstProducts, DiscountCodes and
	// Sources count every value. Every customer of a source has the
	// source's acquisition cost where the merchant set one (the shop's
	// otherwise), so a source's payback is judged by its own cost. A first order with several products puts
	// its customer in the curve of each.
	ByFirstProduct []LTVCurve `json:"byFirstProduct"`
	ByDiscountCode []LTVCurve `json:"byDiscountCode"`
	BySource       []LTVCurve `json:"bySource"`
	FirstProducts  int        `json:"firstProducts"`
	DiscountCodes  int        `json:"discountCodes"`
	Sources        int        `json:"sources"`
	Steady         SteadyRule `json:"steady"`
}

// LTVCohort is the LTV curve of the customers acquired in one month.
type LTVCohort struct {
	Month     time.Time `json:"month"`
	Customers int       `json:"customers"`
	// CAC is the cohort's average acquisition cost per customer.
	CAC float64 `json:"cac"`
	// Revenue[k] and GrossProfit[k] are the cohort's net revenue and gross
	// profit from its first orders through month k, per customer of the
	// cohort. They run to the month of AsOf.
	Revenue     []float64 `json:"revenue"`
	GrossProfit []float64 `json:"grossProfit"`
	// Partial says the last point's month had not ended by AsOf: it is
	// the value so far, not a drop.
	Partial bool    `json:"partial"`
	Payback Payback `json:"payback"`
	// Steady counts the cohort's customers who order at a steady interval
	// (SteadyRule), SteadyOnSchedule those of them not yet overdue.
	Steady           int `json:"steady"`
	SteadyOnSchedule int `json:"steadyOnSchedule"`
}

// LTVCurve is the LTV curve of the customers who share an attribute of
// their first order, over cohorts of different ages: point k averages
// the customers whose month k has ended (Observed[k] of them), so recent
// customers do not pull later months down. The curve ends at the last
// month some customer has completed.
type LTVCurve struct {
	Key   string `json:"key"`
	Label string `json:"label"`
	// Customers counts every customer acquired with the attribute.
	Customers   int       `json:"customers"`
	CAC         float64   `json:"cac"`
	Observed    []int     `json:"observed"`
	Revenue     []float64 `json:"revenue"`
	GrossProfit []float64 `json:"grossProfit"`
	Payback     Payback   `json:"payback"`
	Steady      int       `json:"steady"`
}

// PaybackState says whether gross profit has paid back acquisition cost.
type PaybackState string

// The payback states.
const (
	// PaybackReached: the cumulative gross profit per customer reached the
	// acquisition cost in month Payback.Month since acquisition.
	PaybackReached PaybackState = "reached"
	// PaybackNotYet: it has not, in any month seen so far.
	PaybackNotYet PaybackState = "not_yet"
	// PaybackNoCAC: no acquisition cost is set, so there is nothing to pay
	// back.
	PaybackNoCAC PaybackState = "no_cac"
)

// Payback is the CAC payback of a cohort or curve.
type Payback struct {
	State PaybackState `json:"state"`
	// Month is the first month since acquisition whose cumulative gross
	// profit per customer is at least the acquisition cost (0 unless
	// State is reached).
	Month int `json:"month"`
}

// SteadyRule is the rule that flags subscription-like customers, and how
// many it flagged. A customer orders at a steady interval when they
// bought on at least MinPurchaseDays distinct days (orders of one day are
// one purchase), the gaps between those days average MinGapDays to
// MaxGapDays (weekly to quarterly, the intervals subscriptions are sold
// at), and the gaps vary little: their coefficient of variation
// (population standard deviation over mean) is at most MaxVariation. Such
// a customer is on schedule while the time since their last purchase is
// at most OverdueFactor times their average gap.
type SteadyRule struct {
	MinPurchaseDays int     `json:"minPurchaseDays"`
	MinGapDays      float64 `json:"minGapDays"`
	MaxGapDays      float64 `json:"maxGapDays"`
	MaxVariation    float64 `json:"maxVariation"`
	OverdueFactor   float64 `json:"overdueFactor"`
	Customers       int     `json:"customers"`
	OnSchedule      int     `json:"onSchedule"`
	// AvgGapDays is the average interval of the steady customers.
	AvgGapDays float64 `json:"avgGapDays"`
}

// steadyRule is the one rule the report applies; it is reported with the
// counts so the page can state it.
var steadyRule = SteadyRule{MinPurchaseDays: 3, MinGapDays: 7, MaxGapDays: 92, MaxVariation: 0.25, OverdueFactor: 1.5}

// ltvCustomer is what the curves need of one customer, worked out in one
// pass over their purchases.
type ltvCustomer struct {
	first    int     // month index of the first purchase
	observed int     // months since acquisition that have ended by AsOf
	cac      float64 // acquisition cost
	steady   bool
	onTime   bool
	gap      float64 // average gap in days, when steady
}

// LifetimeValue computes the LTV curves, payback and steady customers.
// Its memory is a handful of numbers per cohort month and curve point,
// beside the dataset; nothing is kept per customer.
func (d *Dataset) LifetimeValue() LifetimeValue {
	complete := d.completeMonths()
	lv := LifetimeValue{PartialMonth: complete < d.months, Steady: steadyRule,
		Cohorts: make([]LTVCohort, d.months)}
	cacOf := d.cacBySource()

	revenue := make([][]float64, d.months) // per cohort, per month since acquisition
	gross := make([][]float64, d.months)
	cacSum := make([]float64, d.months)
	for m := range d.months {
		width := d.months - m
		lv.Cohorts[m] = LTVCohort{Month: d.monthTime(m), Partial: lv.PartialMonth}
		revenue[m], gross[m] = make([]float64, width), make([]float64, width)
	}
	overall := newCurveAcc(complete)
	products := d.newDimension(d.product, d.products, complete)
	codes := d.newDimension(d.code, d.codes, complete)
	sources := d.newDimension(single(d.acquisition), d.acquisitions, complete)
	var allCAC, gapSum float64

	for c := range d.ids {
		cu := d.ltvCustomer(c, complete, cacOf)
		co := &lv.Cohorts[cu.first]
		co.Customers++
		cacSum[cu.first] += cu.cac
		allCAC += cu.cac
		if cu.steady {
			co.Steady++
			lv.Steady.Customers++
			gapSum += cu.gap
			if cu.onTime {
				co.SteadyOnSchedule++
				lv.Steady.OnSchedule++
			}
		}
		lo, hi := d.start[c], d.start[c+1]
		for q := lo; q < hi; q++ {
			k := int(d.month(&d.p[q])) - cu.first
			revenue[cu.first][k] += d.p[q].Net
			gross[cu.first][k] += d.p[q].reportedGross()
		}
		overall.add(d, c, cu)
		products.add(d, c, cu)
		codes.add(d, c, cu)
		sources.add(d, c, cu)
	}

	for m := range lv.Cohorts {
		co := &lv.Cohorts[m]
		co.CAC = safeDiv(cacSum[m], float64(co.Customers))
		co.Revenue = perCustomer(revenue[m], co.Customers)
		co.GrossProfit = perCustomer(gross[m], co.Customers)
		co.Payback = payback(co.GrossProfit, co.CAC)
	}
	lv.CAC = safeDiv(allCAC, float64(len(d.ids)))
	lv.Steady.AvgGapDays = safeDiv(gapSum, float64(lv.Steady.Customers))
	lv.Overall = overall.curve("all", "All customers")
	lv.ByFirstProduct, lv.FirstProducts = products.curves(), products.values()
	lv.ByDiscountCode, lv.DiscountCodes = codes.curves(), codes.values()
	lv.BySource, lv.Sources = sources.curves(), sources.values()
	return lv
}

// cacBySource is the acquisition cost of each acquisition source id: the
// source's own where set, the shop's otherwise.
func (d *Dataset) cacBySource() []float64 {
	bySource := make(map[string]float64, len(d.opts.CACBySource))
	for k, v := range d.opts.CACBySource {
		if k = strings.ToLower(strings.TrimSpace(k)); k != "" && v >= 0 && !math.IsInf(v, 0) {
			bySource[k] = v
		}
	}
	out := make([]float64, d.acquisitions.len())
	for id, key := range d.acquisitions.keys {
		out[id] = d.opts.CAC
		if v, ok := bySource[key]; ok && key != noneKey {
			out[id] = v
		}
	}
	return out
}

// ltvCustomer works out customer c's cohort, months observed, acquisition
// cost and whether they order at a steady interval.
func (d *Dataset) ltvCustomer(c, complete int, cacOf []float64) ltvCustomer {
	lo, hi := d.start[c], d.start[c+1]
	cu := ltvCustomer{first: int(d.month(&d.p[lo])), cac: cacOf[d.acquisition[c]]}
	cu.observed = max(0, complete-cu.first)

	// Welford's running mean and variance of the gaps between distinct
	// purchase days, with no slice per customer.
	days, last := 0, int32(0)
	var mean, m2 float64
	for q := lo; q < hi; q++ {
		day := d.p[q].Day
		if days > 0 && day == last {
			continue
		}
		if days > 0 {
			gap := float64(day - last)
			n := float64(days) // gaps so far, this one included
			delta := gap - mean
			mean += delta / n
			m2 += delta * (gap - mean)
		}
		days++
		last = day
	}
	r := steadyRule
	if days < r.MinPurchaseDays || mean < r.MinGapDays || mean > r.MaxGapDays {
		return cu
	}
	if math.Sqrt(m2/float64(days-1))/mean > r.MaxVariation {
		return cu
	}
	cu.steady, cu.gap = true, mean
	cu.onTime = float64(d.zones.Day(d.asOf)-last) <= r.OverdueFactor*mean
	return cu
}

// curveAcc sums one curve with difference arrays: a purchase in month j of
// a customer observed for o months adds to the cumulative value of months
// j … o-1, so it adds at j and takes away at o, and one prefix sum at the
// end gives every point without a pass per month.
type curveAcc struct {
	customers, steady int
	cac               float64
	observed          []int
	revenue, gross    []float64
}

func newCurveAcc(width int) curveAcc {
	return curveAcc{observed: make([]int, width+1), revenue: make([]float64, width+1), gross: make([]float64, width+1)}
}

func (a *curveAcc) add(d *Dataset, c int, cu ltvCustomer) {
	a.customers++
	a.cac += cu.cac
	if cu.steady {
		a.steady++
	}
	o := cu.observed
	if o == 0 {
		return
	}
	a.observed[0]++
	a.observed[o]--
	for q := d.start[c]; q < d.start[c+1]; q++ {
		k := int(d.month(&d.p[q])) - cu.first
		if k >= o {
			break // purchases are in time order
		}
		net, g := d.p[q].Net, d.p[q].reportedGross()
		a.revenue[k] += net
		a.revenue[o] -= net
		a.gross[k] += g
		a.gross[o] -= g
	}
}

func (a *curveAcc) curve(key, label string) LTVCurve {
	cv := LTVCurve{Key: key, Label: label, Customers: a.customers, CAC: safeDiv(a.cac, float64(a.customers)), Steady: a.steady,
		Observed: []int{}, Revenue: []float64{}, GrossProfit: []float64{}}
	n, rev, gross := 0, 0.0, 0.0
	for k := 0; k < len(a.observed)-1; k++ {
		n += a.observed[k]
		rev += a.revenue[k]
		gross += a.gross[k]
		if n == 0 {
			break // no customer has completed month k, nor any later one
		}
		cv.Observed = append(cv.Observed, n)
		cv.Revenue = append(cv.Revenue, rev/float64(n))
		cv.GrossProfit = append(cv.GrossProfit, gross/float64(n))
	}
	cv.Payback = payback(cv.GrossProfit, cv.CAC)
	return cv
}

// dimension accumulates a curve for each of the most common values of one
// first-order attribute.
type dimension struct {
	m     multi
	names *dict
	slot  []int32 // per value id, its curve, or -1 when not among the largest
	ids   []int32 // per curve, its value id
	accs  []curveAcc
	count int
}

// newDimension picks the LTVTopN values with the most customers (ties by
// key, so the choice is reproducible).
func (d *Dataset) newDimension(m multi, names *dict, width int) *dimension {
	counts := make([]int, names.len())
	for c := range d.ids {
		for _, id := range m.of(c) {
			counts[id]++
		}
	}
	var ids []int32
	for id, n := range counts {
		if n > 0 {
			ids = append(ids, int32(id))
		}
	}
	slices.SortFunc(ids, func(a, b int32) int {
		if c := cmp.Compare(counts[b], counts[a]); c != 0 {
			return c
		}
		return cmp.Compare(names.keys[a], names.keys[b])
	})
	dm := &dimension{m: m, names: names, slot: make([]int32, names.len()), count: len(ids)}
	for i := range dm.slot {
		dm.slot[i] = -1
	}
	ids = ids[:min(len(ids), d.opts.LTVTopN)]
	for i, id := range ids {
		dm.slot[id] = int32(i)
		dm.accs = append(dm.accs, newCurveAcc(width))
	}
	dm.ids = ids
	return dm
}

func (dm *dimension) add(d *Dataset, c int, cu ltvCustomer) {
	for _, id := range dm.m.of(c) {
		if s := dm.slot[id]; s >= 0 {
			dm.accs[s].add(d, c, cu)
		}
	}
}

func (dm *dimension) curves() []LTVCurve {
	out := make([]LTVCurve, len(dm.accs))
	for i := range dm.accs {
		id := dm.ids[i]
		out[i] = dm.accs[i].curve(dm.names.keys[id], dm.names.labels[id])
	}
	return out
}

func (dm *dimension) values() int { return dm.count }

// perCustomer turns a cohort's sums per month into cumulative values per
// customer.
func perCustomer(sums []float64, customers int) []float64 {
	out := make([]float64, len(sums))
	run := 0.0
	for k, v := range sums {
		run += v
		out[k] = safeDiv(run, float64(customers))
	}
	return out
}

// payback finds the first month whose cumulative gross profit per customer
// covers the acquisition cost. A cent of tolerance keeps a cost met to the
// cent from missing by a rounding error.
func payback(gross []float64, cac float64) Payback {
	if !(cac > 0) {
		return Payback{State: PaybackNoCAC}
	}
	for k, g := range gross {
		if g >= cac-0.005 {
			return Payback{State: PaybackReached, Month: k}
		}
	}
	return Payback{State: PaybackNotYet}
}
