// Command cvo is the binary a merchant-facing deployment runs: the server,
// the worker, migrations, and the scoring of an orders CSV. It links no
// simulator, generator or benchmark code and holds no built-in credentials
// (deps_test.go proves it); the developer tools are cvodev (app/cvodev).
// The wiring both share is app/internal/wiring.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/cvo-app/cvo/app/internal/cli"
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
	cli.Main("cvo", usage, map[string]cli.Command{
		"run": func(ctx context.Context, log *slog.Logger, _ []string) error {
			cfg, err := wiring.LoadConfig(wiring.RequireCredentials)
			if err != nil {
				return err
			}
			return wiring.RunAll(ctx, log, cfg)
		},
		"serve": func(ctx context.Context, log *slog.Logger, _ []string) error {
			return wiring.WithApp(ctx, log, wiring.ServerPool, func(a *wiring.App) error { return a.Serve(ctx) })
		},
		"worker": func(ctx context.Context, log *slog.Logger, _ []string) error {
			return wiring.WithApp(ctx, log, wiring.WorkerPool, func(a *wiring.App) error { return a.Work(ctx) })
		},
		"migrate": func(ctx context.Context, _ *slog.Logger, _ []string) error { return wiring.Migrate(ctx) },
		"score": func(ctx context.Context, _ *slog.Logger, args []string) error {
			return runScore(ctx, args, os.Stderr)
		},
	})
}
