// Command cvodev holds the developer tools around the app: the demo, the
// Shopify simulator, the shop generator, the benchmarks and the fleet
// harness. It is never deployed (the Dockerfile builds only cvo); it wires
// the app through the same app/internal/wiring as cvo.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

const usage = `cvodev: the developer tools of the CVO app (never deployed; the app is cvo)

Usage:
  cvodev demo        a demo on loopback: simulator with a demo shop, migrate, serve and work (built-in credentials)
  cvodev simulator   run the Shopify simulator alone (-port, -shop, -load FILE, -shops N, -faults ...)
  cvodev gen         generate a large shop: a snapshot for the simulator or an orders CSV
  cvodev bench-sync       history sync benchmark against raw COPY (--customers N --orders M)
  cvodev bench-writeback  write-back benchmark (--customers N --change 0.1 [--initial])
  cvodev bench-api        admin API latency on a generated shop (--customers N --orders M)
  cvodev fleet e2e|chaos  the cvo binary as a server and two workers against a simulated fleet of shops, with faults in chaos
`

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	slog.SetDefault(log)
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "demo":
		err = runDemo(ctx, log)
	case "simulator":
		err = runSimulator(ctx, log, args)
	case "gen":
		err = runGen(ctx, log, args)
	case "bench-sync":
		err = runBenchSync(ctx, log, args)
	case "bench-writeback":
		err = runBenchWriteback(ctx, log, args, os.Stdout)
	case "bench-api":
		err = runBenchAPI(ctx, log, args, os.Stdout)
	case "fleet":
		err = runFleet(ctx, log, args, os.Stdout)
	case "help", "-h", "--help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "unknown command %q\n\n%s", cmd, usage)
		os.Exit(2)
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		log.Error("cvodev failed", "command", os.Args[1], "err", err)
		os.Exit(1)
	}
}
