package shopgen

import (
	"time"

	"github.com/cvo-app/cvo/internal/simulator"
)

// OnlineRetailLastDay is the last trading day in the Online Retail data.
var OnlineRetailLastDay = time.Date(2011, 12, 9, 0, 0, 0, 0, time.UTC)

// WeeksUntil is the whole number of weeks that moves day to the week
// before now. Shifting a shop by whole weeks keeps every order on its
// weekday and hour, which the ideal-customer profile reports.
func WeeksUntil(day, now time.Time) time.Duration {
	weeks := int(now.Sub(day).Hours() / (24 * 7))
	if weeks < 0 {
		weeks = 0
	}
	return time.Duration(weeks) * 7 * 24 * time.Hour
}

// Shift moves every timestamp that passes through sink by d, so a
// historical dataset plays as a shop that is trading today: scored as of
// now, its customers are as recent as they were on the dataset's last day.
func Shift(sink Sink, d time.Duration) Sink { return shiftSink{next: sink, d: d} }

type shiftSink struct {
	next Sink
	d    time.Duration
}

func (s shiftSink) move(t *time.Time) {
	if !t.IsZero() {
		*t = t.Add(s.d)
	}
}

func (s shiftSink) AddProducts(ps []simulator.Product) error {
	for i := range ps {
		s.move(&ps[i].CreatedAt)
		s.move(&ps[i].UpdatedAt)
	}
	return s.next.AddProducts(ps)
}

func (s shiftSink) AddCustomers(cs []simulator.Customer) error {
	for i := range cs {
		s.move(&cs[i].CreatedAt)
		s.move(&cs[i].UpdatedAt)
	}
	return s.next.AddCustomers(cs)
}

func (s shiftSink) AddOrders(os []simulator.Order) error {
	for i := range os {
		o := &os[i]
		s.move(&o.CreatedAt)
		s.move(&o.UpdatedAt)
		s.move(&o.ProcessedAt)
		s.move(&o.CancelledAt)
		for j := range o.Refunds {
			s.move(&o.Refunds[j].CreatedAt)
		}
		if o.Journey != nil {
			for _, v := range []*simulator.Visit{o.Journey.FirstVisit, o.Journey.LastVisit} {
				if v != nil {
					s.move(&v.OccurredAt)
				}
			}
		}
	}
	return s.next.AddOrders(os)
}
