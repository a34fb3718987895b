package scoring

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/cvo-app/cvo/internal/clv"
	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/ledger"
	"github.com/cvo-app/cvo/internal/parallel"
	"github.com/cvo-app/cvo/internal/reports"
	"github.com/cvo-app/cvo/internal/rfm"
)

// Score scores a shop end to end as of settings.AsOf: RFM scores and
// groups, historical CLV, the purchase and spend models with every
// customer's predictions, all reports, the backtest and the aggregates.
//
// Orders are read, never modified or retained; only orders that
// cvo.Order.IsPurchase accepts and that were created by as-of count, and
// of those only the ones with a creation date (the others, a data error,
// are left out with a warning).
// Customers give location to the reports; customers without a purchase
// get no score. An error means invalid settings, a cancelled context or a
// bug; data the models cannot fit falls back and says so in Result.Model.
func Score(ctx context.Context, customers []cvo.Customer, orders []cvo.Order, settings Settings) (*Result, error) {
	return ScoreLedger(ctx, ledger.FromHistory(customers, orders), settings)
}

// ScoreLedger is Score on customers and orders already in a ledger, which
// is read, never modified.
func ScoreLedger(ctx context.Context, orders *ledger.Ledger, settings Settings) (*Result, error) {
	return scoreLedger(ctx, orders, settings, false)
}

// ScoreReleasing is ScoreLedger for a caller done with the ledger: its
// orders are let go (ledger.Ledger.ReleaseOrders) as soon as the reports
// have laid them out, so that the rest of the reports' dataset is not
// built beside them. The ledger must not be used afterwards.
func ScoreReleasing(ctx context.Context, orders *ledger.Ledger, settings Settings) (*Result, error) {
	return scoreLedger(ctx, orders, settings, true)
}

func scoreLedger(ctx context.Context, orders *ledger.Ledger, settings Settings, release bool) (*Result, error) {
	s, err := settings.normalized()
	if err != nil {
		return nil, err
	}
	res := &Result{AsOf: s.AsOf, Timezone: s.Location.String(), Parameters: parameters(s), loc: s.Location}
	if fixed := orders.Fixed(); fixed > 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("%d orders had amounts that are not numbers; they were counted as 0", fixed))
	}
	var timings timings
	big := BigShop(orders.Len())
	if big {
		// What reading the history left behind is garbage: returned now,
		// before the indexes are built beside the ledger, it does not add
		// to the job's peak.
		debug.FreeOSMemory()
	}

	// The reports lay the purchases out by customer; the models' index
	// borrows that layout, so that RFM assignments line up.
	t0 := time.Now()
	layout := reports.LayOut(orders, reports.Options{AsOf: s.AsOf, Location: s.Location, RefundDating: s.RefundDating,
		DefaultMarginRate: s.DefaultMarginRate, CAC: s.CAC, CACBySource: s.CACBySource})
	if n := layout.Undated(); n > 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("%d orders have no creation date; they were left out", n))
	}
	if n := layout.TooOld(); n > 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("%d orders are dated more than 68 years before the latest; they were left out", n))
	}
	if release {
		orders.ReleaseOrders()
		if big {
			// The orders were the bulk of the heap; collected now, the
			// rest of the dataset is allocated in their place.
			debug.FreeOSMemory()
		}
	}
	dataset := layout.Dataset(orders)
	timings.add("reports index", t0)
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	t0 = time.Now()
	ix := indexFromDataset(dataset, s)
	// The crosswalk needs a byte a customer of the ledger: their Shopify
	// groups, taken now, before the reports start allocating beside the
	// ledger.
	shopify := shopifyGroupsOf(ix, orders)
	previous := previousGroupsOf(ix, orders, s.Previous)
	if big {
		// Nothing reads the ledger from here on. The collector would only
		// notice at its next cycle, whose goal is twice the heap it last
		// found live, ledger and indexes together: collecting now sets
		// the goal from the indexes alone.
		debug.FreeOSMemory()
	}
	timings.add("index", t0)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var rep reports.Report
	repErr := goSafe(func() error {
		t0 := time.Now()
		var err error
		rep, err = dataset.Report(s.Previous)
		timings.add("rfm and reports", t0)
		return err
	})
	if big {
		// A big shop's reports run before the models, not beside them:
		// the dataset's parts only they read (RFM inputs, first-purchase
		// attributes) and their own working set are then let go before
		// the models allocate theirs. Both use every core
		// anyway; a million-customer rescore peaks at about 1.1 GiB
		// instead of 1.3. Their error, if any, is answered below.
		_ = repErr()
		debug.FreeOSMemory()
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}

	var bt *Backtest
	btErr := goSafe(func() error {
		var err error
		bt, err = backtestTimed(ix, s, &timings)
		return err
	})
	if big {
		// A big shop's backtest runs before the models, not beside them:
		// its summaries and RFM inputs are then let go before the models
		// allocate theirs. Side by side, a million-customer rescore peaked
		// at up to 488 MiB live when a collection caught them together. Its
		// error, if any, is answered below.
		_ = btErr()
		debug.FreeOSMemory()
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}

	t0 = time.Now()
	hist := make([]history, ix.customers())
	sums, _ := ix.summariesWith(ix.asOfDay, s.Unit, hist)
	ds := clv.Dataset{AsOf: ix.midnight(ix.asOfDay), Location: s.Location, Unit: s.Unit, Customers: sums}
	// The purchase model is fitted once: the window prediction's refit of
	// the same model on the same summaries is this fit.
	fit := sync.OnceValues(func() (*clv.Fitted, error) { return clv.Fit(ds, s.clvConfig()) })
	var win *windowOutcome
	winErr := goSafe(func() error {
		t0 := time.Now()
		var err error
		win, err = predictWindow(ix, s, sums, fit)
		timings.add("window prediction", t0)
		return err
	})
	fitted, forecasts, fitErr := fitAndPredict(sums, fit, s)
	timings.add("fit and predict", t0)

	errRep, errBT, errWin := repErr(), btErr(), winErr()
	switch {
	case fitErr != nil:
		return nil, fitErr
	case errWin != nil && errors.As(errWin, new(panicError)):
		return nil, errWin
	case errRep != nil:
		return nil, fmt.Errorf("reports: %w", errRep)
	case ctx.Err() != nil:
		return nil, ctx.Err()
	}
	if err := res.setBacktest(bt, errBT); err != nil {
		return nil, err
	}

	if big {
		// The models' and the backtests' working sets are garbage now, but
		// the collector's goal still stands on them: the million scores
		// assembled next would grow the process past them instead of
		// into them (`cvo score` on 1M customers: peak RSS 1.18 GiB
		// without this, 0.90-0.94 with it).
		debug.FreeOSMemory()
	}
	t0 = time.Now()
	assignments, err := alignRFM(ix, rep.RFM.Customers)
	if err != nil {
		return nil, err
	}
	res.Model = modelFit(fitted, s.Model)
	res.RFM = RFMScales{Cadence: rep.RFM.Cadence, R: rep.RFM.R, F: rep.RFM.F, M: rep.RFM.M}
	if errWin != nil {
		win = uncalibratedWindow(fitted, sums, s, errWin)
	}
	res.Prediction = win.pred
	res.Customers = assemble(ix, ix.releasePurchases(), sums, hist, forecasts, assignments, previous, s)
	setWindow(res.Customers, win, s.Churn)
	res.Groups, res.Totals = aggregate(res.Customers)
	res.ShopifyCrosswalk = crosswalk(shopify, res.Customers)
	res.Reports = rep
	// Customers carries the same scores; a second million-entry copy
	// would only hold memory.
	res.Reports.RFM.Customers = nil
	timings.add("assemble", t0)
	res.Timings = timings.list()
	if n := scrubNonFinite(res); n > 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("%d numbers in the aggregates were not finite and were set to 0", n))
	}
	return res, nil
}

// previousGroupsOf is each indexed customer's group in the previous
// scoring, as it was given: from previous (Settings.Previous) when not
// nil, else from the ledger; nil when neither has any.
func previousGroupsOf(ix *shopIndex, l *ledger.Ledger, previous map[string]rfm.Group) []rfm.Group {
	if previous == nil && !l.HasPreviousGroups() {
		return nil
	}
	out := make([]rfm.Group, ix.customers())
	for c, n := range ix.ledgerID {
		if previous != nil {
			out[c] = previous[ix.ids[c]]
		} else {
			out[c] = rfm.Group(l.PreviousGroup(n))
		}
	}
	return out
}

// returnMemoryFrom is the number of orders from which a scoring collects
// its garbage and returns it to the system where the bulk of what it held
// became garbage (the read's leftovers, the ledger's orders, the rest of
// the ledger, the reports' working set, the backtest's, the models'), and
// runs its reports and its backtest before its models instead of beside
// them. When these were three
// collections, a million-customer rescore peaked at 1.7-1.8 GiB instead of
// 2.4 and a 100,000-customer one at 211-221 MiB instead of 265 (`cvodev
// bench-sync --rescore-only`); below about 40 MiB of ledger the forced
// cycles would cost more than they save.
var returnMemoryFrom = 400_000 // a variable so that tests can take the big shop's path

// BigShop says whether a shop of this many orders is one whose scoring
// returns its garbage to the system where most of what it held became
// garbage; the scoring's callers may do the same after it.
func BigShop(orders int) bool { return orders >= returnMemoryFrom }

var errBacktestOff = errors.New("backtest disabled")

// backtestTimed runs the backtest when the settings and the history allow
// one (errBacktestOff when they do not).
func backtestTimed(ix *shopIndex, s Settings, tm *timings) (*Backtest, error) {
	months := holdoutMonths(s, ix)
	if months < 0 {
		return nil, errBacktestOff
	}
	t0 := time.Now()
	bt, err := runBacktest(ix, s, months)
	tm.add("backtest", t0)
	return bt, err
}

// setBacktest records the backtest, or why there is none. A backtest that
// failed only skips it; one that panicked is a bug and fails the scoring.
func (res *Result) setBacktest(bt *Backtest, errBT error) error {
	if errBT != nil {
		var p panicError
		if errors.As(errBT, &p) {
			return errBT
		}
		if !errors.Is(errBT, errBacktestOff) {
			res.BacktestSkipped = errBT.Error()
		} else {
			res.BacktestSkipped = "disabled"
		}
	}
	res.Backtest = bt
	return nil
}

func parameters(s Settings) Parameters {
	p := Parameters{
		Unit:                  s.Unit.String(),
		Model:                 string(s.Model),
		HorizonMonths:         s.HorizonMonths,
		ExpectedOrdersHorizon: s.ExpectedOrdersHorizon,
		MonthlyDiscountRate:   s.MonthlyDiscountRate,
		DefaultMarginRate:     s.DefaultMarginRate,
		CAC:                   s.CAC,
		RefundsAtOrderDate:    s.RefundDating == cvo.RefundAtOrderDate,
		MinRepeatCustomers:    s.MinRepeatCustomers,
	}
	if len(s.CACBySource) > 0 {
		p.CACBySource = maps.Clone(s.CACBySource)
	}
	return p
}

// assemble joins history, BTYD summary, RFM and predictions per customer;
// previous is each customer's previous group (nil: none).
func assemble(ix *shopIndex, spans []purchaseSpan, sums []clv.Summary, hist []history, fc []forecast, groups []rfm.Assignment, previous []rfm.Group, s Settings) []CustomerScore {
	n := ix.customers()
	out := make([]CustomerScore, n)
	cacBySource := make(map[string]float64, len(s.CACBySource))
	for k, v := range s.CACBySource {
		cacBySource[strings.ToLower(strings.TrimSpace(k))] = v
	}
	parallel.Chunks(n, workers(n), func(_, lo, hi int) {
		for c := lo; c < hi; c++ {
			span := &spans[c]
			sc := &out[c]
			sm := &sums[c]
			f := &fc[c]
			a := &groups[c]
			sc.CustomerID = ix.ids[c]
			sc.Orders = int32(ix.start[c+1] - ix.start[c])
			sc.FirstOrder = span.first
			sc.LastOrder = span.last
			sc.Frequency, sc.Recency, sc.T, sc.Monetary = int32(sm.X), sm.Tx, sm.T, finite(sm.Monetary)
			sc.Revenue, sc.GrossMargin = finite(sm.Revenue), finite(hist[c].margin)
			if sc.Revenue > 0 {
				sc.CostCoverage = finite(hist[c].covered / sc.Revenue)
			}
			sc.AcquisitionSource = ix.source[c]
			sc.CAC = s.CAC
			if v, ok := cacBySource[sc.AcquisitionSource]; ok && sc.AcquisitionSource != "" {
				sc.CAC = v
			}
			sc.HistoricalCLV = finite(sc.GrossMargin - sc.CAC)
			sc.R, sc.F, sc.M, sc.Group = a.R, a.F, a.M, a.Group
			if previous != nil {
				sc.PreviousGroup = previous[c]
			}
			sc.PAlive = clamp01(f.pAlive)
			sc.ExpectedOrders = nonNegative(f.expectedOrders)
			sc.ExpectedOrderValue = nonNegative(f.orderValue)
			if f.hasNext {
				sc.NextOrder, sc.HasNextOrder = f.next, true
			}
			sc.PredictedRevenue = nonNegative(f.discountedRevenue)
			rate := s.DefaultMarginRate
			if sc.Revenue > 0 {
				rate = sc.GrossMargin / sc.Revenue
			}
			sc.PredictedCLV = finite(sc.PredictedRevenue * rate)
		}
	})
	return out
}

// alignRFM returns the RFM assignment of each indexed customer. The reports
// lay customers out as the index does, so normally the assignments are
// already in order; otherwise they are matched by ID. Every customer must
// get exactly one group.
//
// Only the assignments are read: holding the reports' RFM inputs (48 bytes
// a customer) until now would keep them alive through the models, where
// the scoring's peak is.
func alignRFM(ix *shopIndex, assignments []rfm.Assignment) ([]rfm.Assignment, error) {
	n := ix.customers()
	if len(assignments) != n {
		return nil, fmt.Errorf("rfm scored %d customers, the models %d", len(assignments), n)
	}
	aligned := true
	for c := range n {
		if assignments[c].ID != ix.ids[c] {
			aligned = false
			break
		}
	}
	out := assignments
	if !aligned {
		out = make([]rfm.Assignment, n)
		for _, a := range assignments {
			c, ok := ix.lookup(a.ID)
			if !ok {
				return nil, fmt.Errorf("rfm scored customer %q the models do not know", a.ID)
			}
			out[c] = a
		}
	}
	for c := range out {
		if !out[c].Group.Valid() || out[c].ID != ix.ids[c] {
			return nil, fmt.Errorf("customer %q has no RFM group", ix.ids[c])
		}
	}
	return out, nil
}

// Builder collects a shop's customers and orders one by one, as the
// database streams them, into a ledger: only what scoring reads is kept,
// and orders that can never be purchases (tests, cancelled, without a
// customer) are dropped.
type Builder struct {
	orders *ledger.Builder
}

// NewBuilder sizes a Builder for the expected numbers of records (0 if
// unknown).
func NewBuilder(customers, orders int) *Builder {
	return &Builder{orders: ledger.NewBuilderFor(customers, orders)}
}

// AddCustomer adds a customer's record (for location, and Shopify's own
// group for the crosswalk).
func (b *Builder) AddCustomer(c cvo.Customer) { b.orders.AddCustomer(&c) }

// AddPreviousGroup adds a customer's group in the previous scoring, for
// the transitions and each score's previous group: Settings.Previous,
// when set, is read instead.
func (b *Builder) AddPreviousGroup(id string, g rfm.Group) { b.orders.AddPreviousGroup(id, uint8(g)) }

// AddPreviousGroupDecimal is AddPreviousGroup for the customer whose ID is
// id's decimal form.
func (b *Builder) AddPreviousGroupDecimal(id int64, g rfm.Group) {
	b.orders.AddPreviousGroupDecimal(id, uint8(g))
}

// AddOrder adds an order.
func (b *Builder) AddOrder(o *cvo.Order) { b.orders.Add(o) }

// Orders is the number of orders kept.
func (b *Builder) Orders() int { return b.orders.Len() }

// OrderBuilder is the ledger the orders go into, for a reader that adds
// them its own way (ledger.Builder.AddSummed).
func (b *Builder) OrderBuilder() *ledger.Builder { return b.orders }

// Score scores what was added; the Builder must not be used afterwards.
func (b *Builder) Score(ctx context.Context, s Settings) (*Result, error) {
	orders := b.orders.Ledger()
	// The scoring lets go of the ledger once it has indexed it; held here
	// too, it would stay in memory through it.
	b.orders = nil
	return ScoreReleasing(ctx, orders, s)
}

// timings collects phase durations from several goroutines.
type timings struct {
	mu sync.Mutex
	t  []Timing
}

func (t *timings) add(phase string, since time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.t = append(t.t, Timing{Phase: phase, Seconds: time.Since(since).Seconds()})
}

func (t *timings) list() []Timing {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]Timing(nil), t.t...)
}

// panicError is a panic recovered in a scoring goroutine, so that a bug in
// one shop's data fails that job instead of the worker process.
type panicError struct {
	value any
	stack string
}

func (p panicError) Error() string { return fmt.Sprintf("panic: %v\n%s", p.value, p.stack) }

// goSafe runs f in a goroutine and returns a function that waits for its
// error, a recovered panic included.
func goSafe(f func() error) func() error {
	done := make(chan error, 1)
	go func() {
		defer func() {
			if v := recover(); v != nil {
				done <- panicError{value: v, stack: string(debug.Stack())}
			}
		}()
		done <- f()
	}()
	var once sync.Once
	var err error
	return func() error {
		once.Do(func() { err = <-done })
		return err
	}
}
