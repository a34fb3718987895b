package clv

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/cvo-app/cvo/internal/cvo"
)

// TimeUnit is the unit in which recency, age and horizons are measured.
// Model parameters (α in particular) are only meaningful together with the
// unit they were fitted in.
type TimeUnit int

// The time units a model can be fitted in.
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
// It holds no dates and no customer ID (Dataset.IDs names them): a million
// of them are held at once, three times over during a scoring, and the
// first and last days are the purchases' own.
type Summary struct {
	X          int
	Tx         float64
	T          float64
	Monetary   float64
	FirstValue float64
	Revenue    float64 // all transactions up to the as-of day
}

// Dataset is the summaries of one shop measured at one as-of day.
type Dataset struct {
	AsOf      time.Time // midnight of the as-of calendar day in Location
	Location  *time.Location
	Unit      TimeUnit
	Customers []Summary
	// IDs names each summary's customer (IDs[i] is Customers[i]'s), in
	// ascending order, so that a customer is found by binary search; nil
	// when the caller keeps its customers' IDs itself.
	IDs []string
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
		var s Summary
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
		out = append(out, s)
	}
	return Dataset{AsOf: dayStart(asOfDay, loc), Location: loc, Unit: unit, Customers: out, IDs: ids}
}

// PurchasesFromOrders keeps the orders that count as purchases
// (cvo.Order.IsPurchase) created on or before asOf, valued net of the
// refunds known at asOf.
func PurchasesFromOrders(orders []cvo.Order, asOf time.Time, dating cvo.RefundDating) []Purchase {
	out := make([]Purchase, 0, len(orders))
	for _, o := range orders {
		if !o.IsPurchaseAsOf(asOf, dating) {
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
// Sorting and collapsing runs beats a hash map here: with hundreds of
// thousands of distinct triples the map's random accesses miss the cache.
func Compress(customers []Summary) []Triple {
	if out, ok := compressPacked(customers); ok {
		return out
	}
	out := make([]Triple, len(customers))
	for i, s := range customers {
		out[i] = Triple{X: s.X, Tx: s.Tx, T: s.T, Count: 1}
	}
	slices.SortFunc(out, func(a, b Triple) int {
		if c := cmp.Compare(a.X, b.X); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Tx, b.Tx); c != 0 {
			return c
		}
		return cmp.Compare(a.T, b.T)
	})
	n := 0
	for i, tr := range out {
		if i > 0 && tr.X == out[n-1].X && tr.Tx == out[n-1].Tx && tr.T == out[n-1].T {
			out[n-1].Count++
			continue
		}
		out[n] = tr
		n++
	}
	return slices.Clip(out[:n])
}

// Summaries in days or weeks hold whole numbers of days, so t_x and T are
// exact multiples of 1/7 and a triple packs into one uint64 (x: 20 bits,
// 7·t_x and 7·T: 22 bits each), which sorts several times faster than the
// structs. Anything else takes the general path.
const (
	packXBits = 20
	packTBits = 22
)

func packTime(v float64) (uint64, bool) {
	k := math.Round(v * 7)
	if !(k >= 0 && k < 1<<packTBits) || k/7 != v {
		return 0, false
	}
	return uint64(k), true
}

func compressPacked(customers []Summary) ([]Triple, bool) {
	keys := make([]uint64, len(customers))
	for i, s := range customers {
		tx, ok1 := packTime(s.Tx)
		t, ok2 := packTime(s.T)
		if !ok1 || !ok2 || s.X < 0 || s.X >= 1<<packXBits {
			return nil, false
		}
		keys[i] = uint64(s.X)<<(2*packTBits) | tx<<packTBits | t
	}
	slices.Sort(keys)
	distinct := 0
	for i, k := range keys {
		if i == 0 || k != keys[i-1] {
			distinct++
		}
	}
	out := make([]Triple, 0, distinct)
	for i, k := range keys {
		if i > 0 && k == keys[i-1] {
			out[len(out)-1].Count++
			continue
		}
		const mask = 1<<packTBits - 1
		out = append(out, Triple{
			X:     int(k >> (2 * packTBits)),
			Tx:    float64(k>>packTBits&mask) / 7,
			T:     float64(k&mask) / 7,
			Count: 1,
		})
	}
	return out, true
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
