package clv

import (
	"fmt"
	"sort"
	"time"

	"github.com/cvo-app/cvo/internal/cvo"
)

// TimeUnit is the unit in which recency, age and horizons are measured.
// Model parameters (α in particular) are only meaningful together with the
// unit they were fitted in.
type TimeUnit int

const (
	Days TimeUnit = iota
	Weeks
)

// DaysPer returns the length of one unit in calendar days.
func (u TimeUnit) DaysPer() float64 {
	if u == Weeks {
		return 7
	}
	return 1
}

func (u TimeUnit) String() string {
	if u == Weeks {
		return "weeks"
	}
	return "days"
}

// daysPerMonth is the average Gregorian month; horizons given in months are
// converted with it so that twelve months are exactly one average year.
const daysPerMonth = 365.25 / 12

// MonthsToUnits converts a number of average months into the unit.
func (u TimeUnit) MonthsToUnits(months float64) float64 {
	return months * daysPerMonth / u.DaysPer()
}

// Purchase is one purchase of a customer: when and for how much (net).
type Purchase struct {
	CustomerID string
	At         time.Time
	Value      float64
}

// Summary is a customer's BTYD sufficient statistics at an as-of day.
//
// Purchases are counted per distinct calendar day: several orders on one day
// are one transaction whose value is their sum. X is the number of repeat
// transactions (transaction days after the first), Tx the time from the first
// to the last transaction day and T the time from the first transaction day
// to the as-of day, both in the dataset's unit. Monetary is the mean value
// of the repeat transactions (0 when X is 0), the convention Gamma-Gamma
// expects; FirstValue is kept apart because it is excluded from Monetary.
type Summary struct {
	CustomerID string
	X          int
	Tx         float64
	T          float64
	Monetary   float64
	FirstValue float64
	Revenue    float64 // all transactions up to the as-of day
	First      time.Time
	Last       time.Time
}

// Dataset is the summaries of one shop measured at one as-of day.
type Dataset struct {
	AsOf      time.Time // midnight of the as-of calendar day in Location
	Location  *time.Location
	Unit      TimeUnit
	Customers []Summary // sorted by CustomerID
}

// civilDay numbers calendar days in loc so that differences are whole days
// even across daylight-saving changes.
func civilDay(t time.Time, loc *time.Location) int64 {
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
}

func dayStart(day int64, loc *time.Location) time.Time {
	u := time.Unix(day*86400, 0).UTC()
	return time.Date(u.Year(), u.Month(), u.Day(), 0, 0, 0, 0, loc)
}

// Summarize builds BTYD summaries from purchases made on or before the
// calendar day of asOf (in loc; nil means UTC). Later purchases are ignored,
// so one purchase log serves calibration and holdout alike.
func Summarize(purchases []Purchase, asOf time.Time, loc *time.Location, unit TimeUnit) Dataset {
	if loc == nil {
		loc = time.UTC
	}
	asOfDay := civilDay(asOf, loc)
	type dayValue struct {
		day   int64
		value float64
	}
	byCustomer := make(map[string][]dayValue)
	for _, p := range purchases {
		if p.CustomerID == "" {
			continue
		}
		d := civilDay(p.At, loc)
		if d > asOfDay {
			continue
		}
		byCustomer[p.CustomerID] = append(byCustomer[p.CustomerID], dayValue{d, finiteOrZero(p.Value)})
	}
	ids := make([]string, 0, len(byCustomer))
	for id := range byCustomer {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	perUnit := unit.DaysPer()
	out := make([]Summary, 0, len(ids))
	for _, id := range ids {
		dv := byCustomer[id]
		sort.Slice(dv, func(i, j int) bool { return dv[i].day < dv[j].day })
		s := Summary{CustomerID: id}
		first := dv[0].day
		var repeatSum, dayValueSum float64
		current := first
		flush := func() {
			if current == first {
				s.FirstValue = dayValueSum
			} else {
				s.X++
				repeatSum += dayValueSum
			}
			s.Revenue += dayValueSum
		}
		for _, v := range dv {
			if v.day != current {
				flush()
				current, dayValueSum = v.day, 0
			}
			dayValueSum += v.value
		}
		flush()
		s.Tx = float64(current-first) / perUnit
		s.T = float64(asOfDay-first) / perUnit
		if s.X > 0 {
			s.Monetary = repeatSum / float64(s.X)
		}
		s.First = dayStart(first, loc)
		s.Last = dayStart(current, loc)
		out = append(out, s)
	}
	return Dataset{AsOf: dayStart(asOfDay, loc), Location: loc, Unit: unit, Customers: out}
}

// PurchasesFromOrders keeps the orders that count as purchases
// (cvo.Order.IsPurchase) created on or before asOf, valued net of the
// refunds known at asOf.
func PurchasesFromOrders(orders []cvo.Order, asOf time.Time, dating cvo.RefundDating) []Purchase {
	out := make([]Purchase, 0, len(orders))
	for _, o := range orders {
		if !o.IsPurchase() || o.CreatedAt.After(asOf) {
			continue
		}
		out = append(out, Purchase{CustomerID: o.CustomerID, At: o.CreatedAt, Value: o.NetValueAsOf(asOf, dating)})
	}
	return out
}

// Triple is a distinct (x, t_x, T) with the number of customers sharing it.
// Fitting works on triples: a shop's customers collapse to far fewer of them.
type Triple struct {
	X     int
	Tx    float64
	T     float64
	Count int
}

// Compress collapses summaries to distinct (x, t_x, T) triples, sorted.
func Compress(customers []Summary) []Triple {
	type key struct {
		x     int
		tx, t float64
	}
	idx := make(map[key]int, len(customers)/4+1)
	var out []Triple
	for _, s := range customers {
		k := key{s.X, s.Tx, s.T}
		if i, ok := idx[k]; ok {
			out[i].Count++
			continue
		}
		idx[k] = len(out)
		out = append(out, Triple{X: s.X, Tx: s.Tx, T: s.T, Count: 1})
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.X != b.X {
			return a.X < b.X
		}
		if a.Tx != b.Tx {
			return a.Tx < b.Tx
		}
		return a.T < b.T
	})
	return out
}

// validateTriples rejects data no likelihood can be evaluated on.
func validateTriples(data []Triple) error {
	for _, d := range data {
		switch {
		case d.Count < 0:
			return fmt.Errorf("negative count %d", d.Count)
		case d.X < 0:
			return fmt.Errorf("negative x %d", d.X)
		case !isFinite(d.Tx) || !isFinite(d.T) || d.Tx < 0 || d.T < d.Tx:
			return fmt.Errorf("invalid t_x=%v T=%v", d.Tx, d.T)
		case d.X == 0 && d.Tx != 0:
			return fmt.Errorf("t_x=%v with x=0", d.Tx)
		}
	}
	return nil
}
