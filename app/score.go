package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/cvo-app/cvo/internal/clv"
	"github.com/cvo-app/cvo/internal/scoring"
)

const scoreUsage = `Usage: cvo score --orders FILE.csv --out scores.csv [flags]

Scores the customers of an order file: RFM groups, BG/NBD or MBG/NBD and
Gamma-Gamma fits, P(alive), expected orders and predicted CLV.

The file needs a header with the columns customer_id, order_id, created_at
and total (found by name, any order, other columns ignored). created_at is
RFC 3339 or YYYY-MM-DD; rows sharing an order_id are one order. Bad rows are
reported with their line numbers and skipped. Orders on one calendar day
are one purchase for the BTYD models.

scores.csv has a row per customer, sorted by customer_id: customer_id,
orders, frequency, recency, T (BTYD: repeat purchase days, time from the
first to the last and to the as-of day, in --time-unit), monetary (mean
repeat purchase value), revenue, r_score, f_score, m_score, group, p_alive,
expected_orders (within --horizon), predicted_clv (12 months, discounted
at 1% a month, 30% margin unless --margin), then further columns; the
last two are p_order_window, the calibrated chance of at least one order
within --window days after the as-of date (the model chosen and
recalibrated by backtesting the last window of the file's own history),
and churn_risk (low, medium or high by --churn-high and --churn-medium).

Flags:
`

// runScore is the score subcommand.
func runScore(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("score", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, scoreUsage)
		fs.PrintDefaults()
	}
	ordersPath := fs.String("orders", "", "order CSV file (required)")
	outPath := fs.String("out", "", "where to write the per-customer scores CSV (required)")
	paramsPath := fs.String("params-out", "", "where to write the fitted parameters as JSON")
	asOfFlag := fs.String("as-of", "", "scoring date YYYY-MM-DD, inclusive (the whole day), or an RFC 3339 instant; later orders are ignored (default: the day of the last order)")
	unitFlag := fs.String("time-unit", "day", "unit of recency, T, alpha and --horizon: day or week")
	horizon := fs.Float64("horizon", 0, "expected_orders horizon in time units (default: the 12-month CLV horizon, 365.25 days or 52.18 weeks)")
	model := fs.String("model", "mbgnbd", "purchase model: mbgnbd or bgnbd")
	zone := fs.String("timezone", "UTC", "the shop's time zone (IANA name), which decides calendar days")
	margin := fs.Float64("margin", clv.DefaultMarginRate, "gross margin rate for predicted and historical CLV")
	cac := fs.Float64("cac", 0, "acquisition cost per customer")
	window := fs.Int("window", scoring.DefaultWindowDays, "days of the p_order_window column: the chance of at least one order within this many days after as-of")
	churnHigh := fs.Float64("churn-high", scoring.DefaultChurnHigh, "churn risk is high below this chance to order within the window")
	churnMedium := fs.Float64("churn-medium", scoring.DefaultChurnMedium, "churn risk is medium below this chance to order within the window (low from it up)")
	holdout := fs.Int("holdout-months", 0, "backtest holdout in months (default: 12, or a third of a shorter history; -1 skips the backtest)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return fmt.Errorf("score: %w", err)
	}
	switch {
	case *ordersPath == "":
		fs.Usage()
		return errors.New("score: --orders is required")
	case *outPath == "":
		fs.Usage()
		return errors.New("score: --out is required")
	case fs.NArg() > 0:
		return fmt.Errorf("score: unexpected argument %q", fs.Arg(0))
	}
	loc, err := time.LoadLocation(*zone)
	if err != nil {
		return fmt.Errorf("score: --timezone: %w", err)
	}
	unit, err := scoring.ParseTimeUnit(*unitFlag)
	if err != nil {
		return fmt.Errorf("score: --time-unit: %w", err)
	}

	f, err := os.Open(*ordersPath)
	if err != nil {
		return fmt.Errorf("score: %w", err)
	}
	readStart := time.Now()
	in, err := scoring.ReadOrdersCSV(f, loc)
	readTime := time.Since(readStart)
	f.Close()
	reportBadRows(stderr, *ordersPath, in.Bad)
	// Reported, the bad rows are only counted: kept, a file of many would
	// hold memory the scoring's memory limit does not allow for.
	skipped := len(in.Bad)
	in.Bad = nil
	if err != nil {
		return fmt.Errorf("score: read %s: %w", *ordersPath, err)
	}

	asOf, err := scoreAsOf(*asOfFlag, in.Last, loc)
	if err != nil {
		return fmt.Errorf("score: --as-of: %w", err)
	}
	later := 0
	read := in.Orders.Orders()
	for i := range read {
		if in.Orders.Created(&read[i]).After(asOf) {
			later++
		}
	}
	if later == in.Orders.Len() {
		return fmt.Errorf("score: read %s: %w: all %d orders are after the as-of date %s", *ordersPath, scoring.ErrNoUsableRows, later, asOf.Format(time.DateOnly))
	}

	s := scoring.DefaultSettings(asOf)
	s.Location = loc
	s.Unit = unit
	s.Model = clv.ModelKind(strings.ToLower(*model))
	s.ExpectedOrdersHorizon = *horizon
	s.DefaultMarginRate = *margin
	s.CAC = *cac
	s.BacktestHoldoutMonths = *holdout
	s.WindowDays = *window
	s.Churn = scoring.ChurnThresholds{High: *churnHigh, Medium: *churnMedium}
	if *window < 1 {
		return fmt.Errorf("score: --window must be at least 1 day, got %d", *window)
	}
	limit, restoreLimit := limitScoringMemory(in.Orders.Customers(), in.Orders.Len())
	defer restoreLimit()
	// Nothing after the scoring reads the orders: the scoring lets them go
	// once it has laid them out (a third of the peak at a million
	// customers).
	orders := in.Orders
	in.Orders = nil
	start := time.Now()
	res, err := scoring.ScoreReleasing(ctx, orders, s)
	if err != nil {
		return fmt.Errorf("score: %w", err)
	}
	elapsed := time.Since(start)

	writeStart := time.Now()
	if err := writeFileWith(*outPath, func(w io.Writer) error { return scoring.WriteScoresCSV(w, res) }); err != nil {
		return fmt.Errorf("score: %w", err)
	}
	res.Timings = append([]scoring.Timing{{Phase: "read", Seconds: readTime.Seconds()}}, res.Timings...)
	res.Timings = append(res.Timings, scoring.Timing{Phase: "write", Seconds: time.Since(writeStart).Seconds()})
	if *paramsPath != "" {
		if err := writeFileWith(*paramsPath, func(w io.Writer) error { return scoring.WriteParamsJSON(w, res) }); err != nil {
			return fmt.Errorf("score: %w", err)
		}
	}
	printScoreSummary(stderr, res, scoreCounts{rows: in.Rows, skipped: skipped, later: later, memoryLimit: limit}, elapsed)
	return nil
}

// Live memory of a scoring of an order file at its peak, measured with
// GODEBUG=gctrace=1 and GOMEMLIMIT=off on generated files (`cvodev gen
// --purchases-only`): 6-7 MB for 10k customers / 21k orders, 46-49 MB for
// 100k / 213k, 322-370 MB over seven runs for 1M / 2.13M (where the scores are assembled,
// beside the models' outputs they join; 393-423 before a score shrank by
// 24 bytes and the predictions reused their memo), 478-520 MB for 1M / 5M
// (where the file is read, its order IDs in a map). The estimate is 21,
// 57, 421 and 708 MB for those.
const (
	scoreBytesBase        = 16 << 20
	scoreBytesPerCustomer = 191
	scoreBytesPerOrder    = 100
)

// limitScoringMemory sets the process's soft memory limit a fifth above
// what the scoring will hold live, unless GOMEMLIMIT says otherwise, and
// returns the limit (0 when left to GOMEMLIMIT) and what puts the previous
// one back. The garbage collector then works harder near the scoring's own
// size instead of letting the heap grow to twice what is live: on 1M
// customers / 2.13M orders, peak RSS 515-517 MiB instead of 832-923, in
// the same time, when it was first measured (473 MiB under the limit of
// 191 bytes a customer). A file the estimate misjudges makes the collector run
// more often, at worst (the runtime caps it near half the CPU) about
// twice as slow; GOMEMLIMIT=off turns the limit off.
func limitScoringMemory(customers, orders int) (limit int64, restore func()) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return 0, func() {}
	}
	live := scoreBytesBase + scoreBytesPerCustomer*int64(customers) + scoreBytesPerOrder*int64(orders)
	limit = live / 5 * 6
	before := debug.SetMemoryLimit(limit)
	return limit, func() { debug.SetMemoryLimit(before) }
}

// scoreAsOf reads --as-of: a date means the end of that day in the shop's
// zone; without one, the end of the last order's day.
func scoreAsOf(v string, last time.Time, loc *time.Location) (time.Time, error) {
	endOfDay := func(t time.Time) time.Time {
		y, m, d := t.In(loc).Date()
		return time.Date(y, m, d+1, 0, 0, 0, 0, loc).Add(-time.Nanosecond)
	}
	if v == "" {
		return endOfDay(last), nil
	}
	if t, err := time.ParseInLocation(time.DateOnly, v, loc); err == nil {
		return endOfDay(t), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is not a date (want YYYY-MM-DD or RFC 3339)", v)
}

// maxBadRowsShown keeps a file full of bad rows from flooding the terminal.
const maxBadRowsShown = 100

func reportBadRows(w io.Writer, path string, bad []scoring.RowError) {
	for i, e := range bad {
		if i == maxBadRowsShown {
			fmt.Fprintf(w, "%s: ... and %d more bad rows\n", path, len(bad)-i)
			break
		}
		fmt.Fprintf(w, "%s: %v (row skipped)\n", path, e)
	}
}

func writeFileWith(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// scoreCounts are what the summary says of the file and the run.
type scoreCounts struct {
	rows, skipped, later int
	memoryLimit          int64 // set from the counts; 0: left to GOMEMLIMIT
}

func printScoreSummary(w io.Writer, res *scoring.Result, n scoreCounts, elapsed time.Duration) {
	t := res.Totals
	fmt.Fprintf(w, "scored %d customers with %d orders as of %s (%d rows read, %d skipped, %d orders after as-of ignored) in %.2fs\n",
		t.Customers, t.Orders, res.AsOf.Format(time.DateOnly), n.rows, n.skipped, n.later, elapsed.Seconds())
	switch limit := debug.SetMemoryLimit(-1); {
	case n.memoryLimit > 0:
		fmt.Fprintf(w, "memory limit %d MiB, set from the file's customers and orders (GOMEMLIMIT sets another, GOMEMLIMIT=off none)\n", n.memoryLimit>>20)
	case limit == math.MaxInt64:
		fmt.Fprintln(w, "no memory limit (GOMEMLIMIT)")
	default:
		fmt.Fprintf(w, "memory limit %d MiB (GOMEMLIMIT)\n", limit>>20)
	}
	m := res.Model
	switch {
	case m.Purchase != nil:
		p := m.Purchase
		fmt.Fprintf(w, "model %s (%s): r=%.4f alpha=%.4f a=%.4f b=%.4f log-likelihood=%.2f\n", m.Used, m.Unit, p.R, p.Alpha, p.A, p.B, p.LogLikelihood)
	case m.Empirical != nil:
		fmt.Fprintf(w, "model empirical instead of %s (%s): repeat rate %.4f, mean gap %.2f %s\n", m.Requested, m.Reason,
			m.Empirical.RepeatRate, m.Empirical.MeanGap, m.Unit)
	}
	if m.Spend.Model == "gammagamma" {
		fmt.Fprintf(w, "spend gamma-gamma: p=%.4f q=%.4f gamma=%.4f\n", m.Spend.P, m.Spend.Q, m.Spend.Gamma)
	} else {
		fmt.Fprintf(w, "spend empirical (%s): mean order value %.2f\n", m.Spend.Reason, m.Spend.PopulationMean)
	}
	if b := res.Backtest; b != nil {
		fmt.Fprintf(w, "backtest over %d months from %s: predicted %.0f purchases by earlier customers, actual %.0f\n",
			b.HoldoutMonths, b.Cutoff.Format(time.DateOnly), b.Overall.PredictedOrders, b.Overall.ActualOrders)
	} else if res.BacktestSkipped != "" {
		fmt.Fprintf(w, "backtest skipped: %s\n", res.BacktestSkipped)
	}
	if p := res.Prediction; p != nil {
		fmt.Fprintf(w, "chance to order within %d days: %s\n", p.WindowDays, p.Reason)
		for _, c := range p.Candidates {
			if c.Error != "" {
				fmt.Fprintf(w, "  %-10s failed: %s\n", c.Name, c.Error)
				continue
			}
			fmt.Fprintf(w, "  %-10s log loss %.4f  Brier %.4f  AUC %.4f  mean raw %.4f\n", c.Name, c.LogLoss, c.Brier, c.AUC, c.MeanRaw)
		}
		if p.HoldoutCustomers > 0 {
			fmt.Fprintf(w, "  holdout from %s: %d customers, %.4f ordered, mean prediction %.4f\n",
				p.Cutoff.Format(time.DateOnly), p.HoldoutCustomers, p.HoldoutShare, p.MeanPredicted)
		}
	}
	fmt.Fprint(w, "timings:")
	for _, t := range res.Timings {
		fmt.Fprintf(w, " %s %.2fs;", t.Phase, t.Seconds)
	}
	fmt.Fprintln(w)
	for _, warning := range res.Warnings {
		fmt.Fprintf(w, "warning: %s\n", warning)
	}
}
