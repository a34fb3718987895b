package scoring

import (
	"bufio"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cvo-app/cvo/internal/clv"
	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/ledger"
)

var benchAsOf = time.Date(2024, 12, 31, 23, 59, 59, 0, time.UTC)

// bigShop is a million customers with about five orders each over three
// years, generated once per test binary.
var bigShop = sync.OnceValues(func() ([]cvo.Customer, []cvo.Order) {
	customers, orders := synthShop(1_000_000, benchAsOf, 3, 20250101)
	runtime.GC()
	return customers, orders
})

// BenchmarkScoreShop1M is the whole scoring of a big shop: indexing, RFM,
// the purchase and spend fits, every prediction, every report and the
// backtest. It reports seconds per run, the peak heap in use during the
// run (sampled), bytes allocated per run and the process's peak RSS.
func BenchmarkScoreShop1M(b *testing.B) {
	customers, orders := bigShop()
	b.Logf("%d customers, %d orders", len(customers), len(orders))
	s := DefaultSettings(benchAsOf)
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	peak := sampleHeap()
	if path := os.Getenv("SCORE_CPUPROFILE"); path != "" {
		// Profiles the scoring alone, without the generator.
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			b.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	cpu0 := cpuSeconds()
	b.ResetTimer()
	var res *Result
	for b.Loop() {
		var err error
		res, err = Score(b.Context(), customers, orders, s)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	cpu := cpuSeconds() - cpu0
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/op")
	// CPU seconds (user + system) do not depend on what else the machine
	// runs; on an idle machine the wall time is about CPU / cores.
	b.ReportMetric(cpu/float64(b.N), "cpu-s/op")
	b.ReportMetric(float64(peak()-before.HeapInuse)/(1<<20), "peak-extra-heap-MB")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N)/(1<<20), "alloc-MB/op")
	b.ReportMetric(vmHWM()/(1<<10), "VmHWM-MB")
	b.Logf("model %s (fallback %v %s), spend %s, backtest %v %s", res.Model.Used, res.Model.Fallback, res.Model.Reason,
		res.Model.Spend.Model, res.Backtest != nil, res.BacktestSkipped)
	b.Logf("timings %v", res.Timings)
}

// sampleHeap polls HeapInuse until the returned function is called and
// returns the largest value seen.
func sampleHeap() func() uint64 {
	stop := make(chan struct{})
	done := make(chan uint64)
	go func() {
		var peak uint64
		var ms runtime.MemStats
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			select {
			case <-stop:
				done <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return func() uint64 { close(stop); return <-done }
}

// cpuSeconds is the process's user plus system CPU time.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// vmHWM is the process's peak resident set in KiB (0 where /proc is
// missing).
func vmHWM() float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			v, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return v
		}
	}
	return 0
}

// BenchmarkScoreCDNOW scores the CDNOW sample's calibration period in
// weeks with BG/NBD, end to end, and reports the fit-and-predict phase.
func BenchmarkScoreCDNOW(b *testing.B) {
	f, err := os.Open("../clv/testdata/CDNOW_sample.txt")
	if err != nil {
		b.Skip(err)
	}
	defer f.Close()
	var orders []cvo.Order
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 5 {
			continue
		}
		day, err := time.Parse("20060102", fields[2])
		if err != nil {
			b.Fatal(err)
		}
		total, err := strconv.ParseFloat(fields[4], 64)
		if err != nil {
			b.Fatal(err)
		}
		id, _ := strconv.Atoi(fields[1])
		orders = append(orders, cvo.Order{CustomerID: strconv.Itoa(id), CreatedAt: day, Total: total})
	}
	s := DefaultSettings(time.Date(1997, 9, 30, 23, 59, 59, 0, time.UTC))
	s.Unit, s.Model = clv.Weeks, clv.ModelBGNBD
	var fit float64
	for b.Loop() {
		res, err := Score(b.Context(), nil, orders, s)
		if err != nil {
			b.Fatal(err)
		}
		for _, t := range res.Timings {
			if t.Phase == "fit and predict" {
				fit += t.Seconds
			}
		}
	}
	b.ReportMetric(fit/float64(b.N)*1000, "fit-and-predict-ms/op")
}

// BenchmarkWindowPrediction is what choosing and calibrating the chance to
// order costs on top of a scoring: the backtest of every candidate on the
// last 90 days (three BTYD fits, two regressions) and the winner's refit
// and predictions, on a shop of 100,000 customers (about five orders
// each). It runs beside the main fit inside Score, so on an idle machine
// with spare cores its wall time hides partly; cpu-s/op is the work added.
func BenchmarkWindowPrediction100k(b *testing.B) {
	_, orders := synthShop(100_000, benchAsOf, 3, 20250101)
	s, err := DefaultSettings(benchAsOf).normalized()
	if err != nil {
		b.Fatal(err)
	}
	ix := buildIndex(nil, ledger.FromOrders(orders), s)
	sums, _ := ix.summaries(ix.asOfDay, s.Unit)
	cpu0 := cpuSeconds()
	b.ResetTimer()
	var out *windowOutcome
	for b.Loop() {
		out, err = predictWindow(ix, s, sums, nil)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/op")
	b.ReportMetric((cpuSeconds()-cpu0)/float64(b.N), "cpu-s/op")
	b.Logf("%d customers: %s", len(sums), out.pred.Reason)
}
