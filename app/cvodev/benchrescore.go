package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cvo-app/cvo/app/internal/wiring"
	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/postgres"
	"github.com/cvo-app/cvo/internal/rescore"
	"github.com/cvo-app/cvo/internal/scoring"
)

// compareRescores runs the rescore bench of this build and of another
// build's cvodev on the same database, each run in a process of its own
// (its peak RSS is then the job's), alternating which goes first, and
// prints each run's report under the name of its binary.
func compareRescores(ctx context.Context, baseline, dbName string, runs int) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	return inTurns([]string{baseline, self}, runs, func(bin string) error {
		cmd := exec.CommandContext(ctx, bin, "bench-sync", "--rescore-only", "--database", dbName)
		cmd.Stderr = io.Discard
		report, err := cmd.Output()
		if err != nil {
			return fmt.Errorf("bench-sync --compare: %s: %w", bin, err)
		}
		fmt.Printf("%s:\n%s", bin, report)
		return nil
	})
}

// benchRescore measures the rescoring job on the shop a previous
// bench-sync left in its database: the worker's own rescore.Service, from
// the first query to the snapshot written, in this process, so that its
// peak RSS is the job's. With parallel > 1 it then runs that many
// scorings of the stored shop at once (the scorer, without the shop lock
// that would make them wait for each other), as a worker holding several
// big shops would, and reports their common peak.
func benchRescore(ctx context.Context, dbName string, parallel int) error {
	db, shops, cfg, err := openBenchShops(ctx, dbName, parallel)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := shops.SaveInstall(ctx, benchShop, cvo.Token{AccessToken: "bench"}); err != nil {
		return err
	}
	if err := shops.UpdateDetails(ctx, benchShop, "Bench", "USD", "UTC"); err != nil {
		return err
	}
	history := struct {
		*postgres.OrderStore
		*postgres.CustomerStore
		*postgres.SyncStore
	}{postgres.NewOrderStore(db), postgres.NewCustomerStore(db), postgres.NewSyncStore(db)}
	customers, orders, err := history.Counts(ctx, benchShop)
	if err != nil {
		return err
	}
	scorings := postgres.NewScoringStore(db)
	timed := &timedScorer{}
	svc := rescore.NewService(history, scorings, postgres.NewSettingsStore(db), shops, timed, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	// As the worker does: WORKER_MEMORY_BUDGET sizes the worker.
	svc.SetMemoryBudget(rescore.NewMemoryBudget(cfg.WorkerMemoryBudget))
	debug.SetMemoryLimit(wiring.WorkerMemoryLimit(cfg.WorkerMemoryBudget))

	if err := vacuumWhereNoAutovacuum(ctx, db); err != nil {
		return err
	}
	peak := &memPeak{}
	sampleCtx, stopSampling := context.WithCancel(ctx)
	sampled := make(chan struct{})
	go func() { defer close(sampled); peak.sample(sampleCtx, 20*time.Millisecond) }()
	start := time.Now()
	id, err := svc.Rescore(ctx, benchShop, rescore.ReasonManual)
	stopSampling()
	<-sampled
	if err != nil {
		return err
	}
	total := time.Since(start).Seconds()
	rss := maxRSS()
	fmt.Printf("rescore job, %d customers / %d orders: %.1fs from the first query to scoring %d written (%.1fs streaming and scoring, %.1fs writing); peak RSS %.0f MiB, %.0f MiB once it ended\n",
		customers, orders, total, id, timed.seconds, total-timed.seconds, mb(rss), mb(currentRSS()))
	fmt.Printf("  peak live heap %.0f MiB (as the collector last marked it); worker budget %.0f MiB, memory limit %.0f MiB\n",
		mb(int64(peak.live)), mb(cfg.WorkerMemoryBudget), mb(wiring.WorkerMemoryLimit(cfg.WorkerMemoryBudget)))
	fmt.Printf("  estimate the worker admits it by (rescore.EstimateBytes): %.0f MiB\n", mb(rescore.EstimateBytes(customers, orders)))
	for _, t := range timed.phases {
		fmt.Printf("  %-18s %.2fs\n", t.Phase, t.Seconds)
	}
	if parallel <= 1 {
		return nil
	}
	runtime.GC()
	start = time.Now()
	var wg sync.WaitGroup
	errs := make([]error, parallel)
	for i := range parallel {
		wg.Go(func() {
			in := rescore.Input{Shop: cvo.Shop{Domain: benchShop, Timezone: "UTC"}, Settings: cvo.DefaultSettings(), AsOf: time.Now(), History: history}
			_, _, errs[i] = rescore.ShopScorer{}.Score(ctx, in)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	fmt.Printf("%d scorings of the shop at once: %.1fs; peak RSS %.0f MiB\n", parallel, time.Since(start).Seconds(), mb(maxRSS()))
	return nil
}

// vacuumWhereNoAutovacuum vacuums the snapshots' table before the timed
// run when the server's autovacuum is off (as on this project's machines):
// every rescore of the bench shop deletes a million-row snapshot once 14
// are kept, and without vacuum the dead rows pile up and the write slows
// from about 6 s to 18 s within twenty runs, which a server in service,
// with autovacuum on, never sees.
func vacuumWhereNoAutovacuum(ctx context.Context, db *postgres.DB) error {
	var on string
	if err := db.Pool.QueryRow(ctx, `SHOW autovacuum`).Scan(&on); err != nil {
		return err
	}
	if on == "on" {
		return nil
	}
	start := time.Now()
	if _, err := db.Pool.Exec(ctx, `VACUUM customer_scores`); err != nil {
		return fmt.Errorf("vacuum customer_scores: %w", err)
	}
	fmt.Printf("autovacuum is off on this server: customer_scores vacuumed before the run (%.1fs)\n", time.Since(start).Seconds())
	return nil
}

// currentRSS is the process's resident memory now (VmRSS), 0 if unknown.
func currentRSS() int64 { return procStatusBytes("VmRSS:") }

// peakRSSSinceExec is the process's highest resident memory since it
// started (VmHWM). Unlike getrusage's, it is not inherited from the
// parent: a child started by a big process reports its own.
func peakRSSSinceExec() int64 { return procStatusBytes("VmHWM:") }

// procStatusBytes reads a kB field of /proc/self/status, 0 if unknown.
func procStatusBytes(field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// timedScorer is the worker's scorer, timed, keeping the phases.
type timedScorer struct {
	seconds float64
	phases  []scoring.Timing
}

func (t *timedScorer) Score(ctx context.Context, in rescore.Input) (rescore.Scores, *scoring.Aggregates, error) {
	start := time.Now()
	scores, agg, err := rescore.ShopScorer{}.Score(ctx, in)
	t.seconds = time.Since(start).Seconds()
	if agg != nil && agg.Result != nil {
		t.phases = agg.Timings
	}
	return scores, agg, err
}
