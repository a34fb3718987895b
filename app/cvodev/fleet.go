package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/cvo-app/cvo/app/internal/wiring"
	"github.com/cvo-app/cvo/internal/fleet"
	"github.com/cvo-app/cvo/internal/simulator"
)

const fleetUsage = `cvodev fleet e2e|chaos [flags]

Starts the cvo binary (-bin; default: the cvo beside cvodev, as make build
leaves them in bin/) as one server and two workers (separate processes, a
database and a redis-server of their own) against a simulator playing a
fleet of shops, drives them through install, sync, scoring, write-back,
webhooks, rescoring, a webhook storm, uninstall and shop/redact, and prints
the figures. chaos adds the faults: workers SIGKILLed during a sync and a
write-back, Redis and PostgreSQL restarted (pg_ctlcluster: it restarts the
shared server), a throttling and failing Shopify. Exits non-zero when a
must-be-zero figure is not zero.
`

// runFleet is `cvodev fleet e2e|chaos`: the proof harness, never part of the
// server or the worker.
func runFleet(ctx context.Context, log *slog.Logger, args []string, out io.Writer) error {
	if len(args) == 0 || (args[0] != "e2e" && args[0] != "chaos") {
		fmt.Fprint(os.Stderr, fleetUsage)
		return fmt.Errorf("fleet: say e2e or chaos")
	}
	mode := args[0]
	fs := flag.NewFlagSet("fleet "+mode, flag.ContinueOnError)
	shops := fs.Int("shops", 20, "shops in the fleet")
	customers := fs.Int("customers", 200, "customers per shop")
	orders := fs.Int("orders", 800, "orders per shop")
	storm := fs.Int("storm", 10000, "webhook deliveries in the storm")
	faults := fs.String("faults", "throttle=0.2,5xx=0.05", "simulator faults in chaos runs")
	adminDB := fs.String("admin-db", wiring.EnvOr("FLEET_ADMIN_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"),
		"PostgreSQL server the run creates its database on")
	redisURL := fs.String("redis", wiring.EnvOr("REDIS_URL", "redis://127.0.0.1:6379/0"), "Redis an e2e run shares under a job namespace of its own (chaos starts its own)")
	pgVersion := fs.String("pg-version", "", "cluster version for pg_ctlcluster restart in chaos runs (default: the only one in /etc/postgresql)")
	dbParams := fs.String("db-params", "", "extra DATABASE_URL parameters for the server and workers, e.g. pool_max_conns=20")
	timeout := fs.Duration("step-timeout", 3*time.Minute, "longest wait for any one step")
	binPath := fs.String("bin", "", "the served binary to start as server and workers (default: cvo beside this binary)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *shops < 3 {
		return fmt.Errorf("fleet: at least 3 shops (two are uninstalled)")
	}
	f, err := simulator.ParseFaults(*faults)
	if err != nil {
		return err
	}
	bin, err := servedBinary(*binPath)
	if err != nil {
		return err
	}
	opt := fleet.Options{Chaos: mode == "chaos", Bin: bin, Shops: *shops, Size: fleet.ShopSize{Customers: *customers, Orders: *orders},
		StormDeliveries: *storm, AdminDatabaseURL: *adminDB, RedisURL: *redisURL, Faults: f, DBParams: *dbParams, StepTimeout: *timeout, Out: out, Log: log}
	if opt.Chaos {
		opt.PGVersion = *pgVersion
		if opt.PGVersion == "" {
			if opt.PGVersion, err = onlyCluster(); err != nil {
				return err
			}
		}
	}
	return fleet.Run(ctx, opt)
}

// onlyCluster names the one PostgreSQL cluster version installed.
func onlyCluster() (string, error) {
	entries, err := os.ReadDir("/etc/postgresql")
	if err != nil || len(entries) != 1 {
		return "", fmt.Errorf("fleet chaos: name the cluster to restart with -pg-version (found %d in /etc/postgresql)", len(entries))
	}
	return entries[0].Name(), nil
}

// servedBinary is the cvo binary the fleet runs: the processes under test
// are the ones a deployment runs, never this developer binary.
func servedBinary(flagged string) (string, error) {
	bin := flagged
	if bin == "" {
		self, err := os.Executable()
		if err != nil {
			return "", fmt.Errorf("fleet: find own binary: %w", err)
		}
		bin = filepath.Join(filepath.Dir(self), "cvo")
	}
	if st, err := os.Stat(bin); err != nil || st.IsDir() {
		return "", fmt.Errorf("fleet: no cvo binary at %s: build both with make build, or name it with -bin", bin)
	}
	// Absolute, so the processes start whatever their working directory.
	return filepath.Abs(bin)
}
