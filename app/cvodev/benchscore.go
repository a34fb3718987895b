package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// runBenchScore is `cvodev bench-score`: `cvo score` on generated order
// files of several sizes (about 2.1 orders a customer, purchases only), each
// in a child process of its own so that its peak RSS is the command's.
// With --compare, another build's runs alternate with this one's on the
// same files, so that both face the same machine.
func runBenchScore(ctx context.Context, _ *slog.Logger, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("bench-score", flag.ContinueOnError)
	sizes := fs.String("customers", "10000,100000,1000000", "customer counts, comma-separated")
	perCustomer := fs.Float64("orders-per-customer", 2.13, "orders generated per customer")
	bin := fs.String("bin", "bin/cvo", "the cvo binary")
	runs := fs.Int("runs", 1, "runs of cvo score per size")
	compare := fs.String("compare", "", "another cvo binary (a baseline) whose runs alternate with --bin's")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return fmt.Errorf("bench-score: %w", err)
	}
	dir, err := os.MkdirTemp("", "cvo-bench-score-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	self, err := os.Executable()
	if err != nil {
		return err
	}
	for _, field := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(field))
		if err != nil || n < 1 {
			return fmt.Errorf("bench-score: --customers: %q is not a count", field)
		}
		csv := filepath.Join(dir, fmt.Sprintf("orders-%d.csv", n))
		gen := exec.CommandContext(ctx, self, "gen", "--customers", fmt.Sprint(n), "--orders", fmt.Sprint(int(float64(n)**perCustomer)),
			"--purchases-only", "--csv", csv)
		gen.Stderr = io.Discard
		if err := gen.Run(); err != nil {
			return fmt.Errorf("bench-score: generate %d customers: %w", n, err)
		}
		rows, err := countLines(csv)
		if err != nil {
			return err
		}
		bins := []string{*bin}
		if *compare != "" {
			bins = []string{*compare, *bin}
		}
		err = inTurns(bins, *runs, func(b string) error {
			return benchScoreOnce(ctx, out, b, len(bins) > 1, csv, dir, n, rows-1)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// inTurns calls run once a round for each binary, runs rounds, each
// binary going first in every other round, so that neither always meets a
// machine the other has just warmed.
func inTurns(bins []string, runs int, run func(bin string) error) error {
	order := slices.Clone(bins)
	for round := range runs {
		if round > 0 {
			slices.Reverse(order)
		}
		for _, b := range order {
			if err := run(b); err != nil {
				return err
			}
		}
	}
	return nil
}

// benchScoreOnce runs cvo score once and prints its time, CPU and peak RSS,
// named by its binary when two are compared.
func benchScoreOnce(ctx context.Context, out io.Writer, bin string, named bool, csv, dir string, customers, rows int) error {
	start := time.Now()
	score := exec.CommandContext(ctx, bin, "score", "--orders", csv, "--out", filepath.Join(dir, "scores.csv"))
	var summary strings.Builder
	score.Stderr = &summary
	if err := score.Run(); err != nil {
		return fmt.Errorf("bench-score: %s score on %d customers: %w", bin, customers, err)
	}
	wall := time.Since(start).Seconds()
	ru, _ := score.ProcessState.SysUsage().(*syscall.Rusage)
	var rss int64
	if ru != nil {
		rss = ru.Maxrss * 1024 // kilobytes on Linux
	}
	label := "cvo score"
	if named {
		label = bin + " score"
	}
	fmt.Fprintf(out, "%s, %d customers / %d order rows: %.2fs wall, %.2f CPU-s, peak RSS %.0f MiB\n",
		label, customers, rows, wall, (score.ProcessState.UserTime() + score.ProcessState.SystemTime()).Seconds(), mb(rss))
	for _, line := range strings.Split(summary.String(), "\n") {
		if strings.HasPrefix(line, "timings:") {
			fmt.Fprintf(out, "  %s\n", line)
		}
	}
	return nil
}

func countLines(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strings.Count(string(b), "\n"), nil
}
