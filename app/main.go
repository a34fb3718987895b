// Command cvo is the binary a merchant-facing deployment runs: the server,
// the worker, migrations, and the scoring of an orders CSV. It links no
// simulator, generator or benchmark code and holds no built-in credentials
// (deps_test.go proves it); the developer tools are cvodev (app/cvodev).
// The wiring both share is app/internal/wiring.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/cvo-app/cvo/app/internal/wiring"
)

const usage = `cvo: Customer Value Optimization for Shopify

Usage:
  cvo run         migrate, then serve and work in one process
  cvo serve       the HTTP server: install, webhooks, API and admin page
  cvo worker      the background worker (sync, webhooks, rescoring)
  cvo migrate     apply database migrations
  cvo score       score an orders CSV: RFM groups, CLV, P(alive) (see cvo score -h)

The demo, the simulator, the generator, the benchmarks and the fleet
harness are in the developer command, cvodev.
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
	case "run":
		var cfg wiring.Config
		if cfg, err = wiring.LoadConfig(wiring.RequireCredentials); err == nil {
			err = wiring.RunAll(ctx, log, cfg)
		}
	case "serve":
		err = wiring.WithApp(ctx, log, wiring.ServerPool, func(a *wiring.App) error { return a.Serve(ctx) })
	case "worker":
		err = wiring.WithApp(ctx, log, wiring.WorkerPool, func(a *wiring.App) error { return a.Work(ctx) })
	case "migrate":
		err = wiring.Migrate(ctx)
	case "score":
		err = runScore(ctx, args, os.Stderr)
	case "help", "-h", "--help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "unknown command %q\n\n%s", cmd, usage)
		os.Exit(2)
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		log.Error("cvo failed", "command", os.Args[1], "err", err)
		os.Exit(1)
	}
}
