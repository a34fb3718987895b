package reports

import (
	"fmt"
	"sync"
	"time"

	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/rfm"
)

// Report is every analysis of one shop as of one date.
type Report struct {
	AsOf        time.Time        `json:"asOf"`
	RFM         rfm.Result       `json:"rfm"`
	Retention   Retention        `json:"retention"`
	Cohorts     []Cohort         `json:"cohorts"`
	Stickiness  Stickiness       `json:"stickiness"`
	Products    ProductRetention `json:"products"`
	Loyalty     Loyalty          `json:"loyalty"`
	Pareto      Pareto           `json:"pareto"`
	Transitions Transitions      `json:"transitions"`
	Anomalies   Anomalies        `json:"anomalies"`
	ICP         ICP              `json:"icp"`
	// LifetimeValue is nil in scorings stored before the report existed.
	LifetimeValue *LifetimeValue `json:"lifetimeValue,omitempty"`
}

// Run indexes the history, scores it (previous: the last scoring's
// groups, may be nil) and runs every report.
func Run(customers []cvo.Customer, orders []cvo.Order, previous map[string]rfm.Group, opts Options) (Report, error) {
	d := NewDataset(customers, orders, opts)
	return d.Report(previous)
}

// Report runs scoring and every report on the dataset. Scoring and the
// reports that need its groups run alongside the others, one goroutine
// each.
func (d *Dataset) Report(previous map[string]rfm.Group) (Report, error) {
	r := Report{AsOf: d.opts.AsOf}
	var icpErr error
	var wg sync.WaitGroup
	wg.Go(func() {
		prevGroups, before := d.previousGroups(previous)
		r.RFM = d.score(prevGroups)
		r.Transitions = transitions(prevGroups, before, r.RFM.Customers)
		r.ICP, icpErr = d.IdealCustomerProfile(r.RFM.Customers)
	})
	r.Retention = d.Retention()
	r.Cohorts = d.Cohorts()
	r.Stickiness = d.Stickiness()
	r.Products = d.ProductRetention()
	r.Loyalty = d.Loyalty()
	r.Pareto = d.Pareto()
	lv := d.LifetimeValue()
	r.LifetimeValue = &lv
	r.Anomalies = d.anomalies(d.monthly(r.Retention.Trend), r.Loyalty)
	wg.Wait()
	if icpErr != nil {
		return Report{}, fmt.Errorf("report as of %s: %w", d.opts.AsOf.Format(time.DateOnly), icpErr)
	}
	return r, nil
}
