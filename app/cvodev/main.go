// Command cvodev holds the developer tools around the app: the demo, the
// Shopify simulator, the shop generator, the benchmarks and the fleet
// harness. It is never deployed (the Dockerfile builds only cvo); it wires
// the app through the same app/internal/wiring as cvo.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/cvo-app/cvo/app/internal/cli"
)

const usage = `cvodev: the developer tools of the CVO app (never deployed; the app is cvo)

Usage:
  cvodev demo        a demo on loopback: simulator with a demo shop, migrate, serve and work (built-in credentials)
  cvodev simulator   run the Shopify simulator alone (-port, -shop, -load FILE, -shops N, -faults ...)
  cvodev gen         generate a large shop: a snapshot for the simulator or an orders CSV
  cvodev bench-score      cvo score's time and peak RSS on generated order files (--customers 10000,100000,1000000)
  cvodev bench-sync       history sync benchmark against raw COPY (--customers N --orders M); --rescore-only: the rescoring job on that shop
  cvodev bench-writeback  write-back benchmark (--customers N --change 0.1 [--initial])
  cvodev bench-api        admin API latency on a generated shop (--customers N --orders M)
  cvodev fleet e2e|chaos  the cvo binary as a server and two workers against a simulated fleet of shops, with faults in chaos
`

func main() {
	cli.Main("cvodev", usage, map[string]cli.Command{
		"demo":      func(ctx context.Context, log *slog.Logger, _ []string) error { return runDemo(ctx, log) },
		"simulator": runSimulator,
		"gen":       runGen,
		"bench-sync": func(ctx context.Context, log *slog.Logger, args []string) error {
			return runBenchSync(ctx, log, args)
		},
		"bench-score": func(ctx context.Context, log *slog.Logger, args []string) error {
			return runBenchScore(ctx, log, args, os.Stdout)
		},
		"bench-writeback": func(ctx context.Context, log *slog.Logger, args []string) error {
			return runBenchWriteback(ctx, log, args, os.Stdout)
		},
		"bench-writeback-job": func(ctx context.Context, log *slog.Logger, args []string) error {
			return runWritebackJob(ctx, log, args, os.Stdout)
		},
		"bench-api": func(ctx context.Context, log *slog.Logger, args []string) error {
			return runBenchAPI(ctx, log, args, os.Stdout)
		},
		"fleet": func(ctx context.Context, log *slog.Logger, args []string) error {
			return runFleet(ctx, log, args, os.Stdout)
		},
	})
}
