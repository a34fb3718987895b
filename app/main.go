// Command cvo is the Customer Value Optimization app for Shopify: the one
// composition root. Every subcommand wires its dependencies here and
// nowhere else.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/cvo-app/cvo/frontend"
	"github.com/cvo-app/cvo/internal/activation"
	"github.com/cvo-app/cvo/internal/ingest"
	"github.com/cvo-app/cvo/internal/install"
	"github.com/cvo-app/cvo/internal/jobs"
	"github.com/cvo-app/cvo/internal/postgres"
	"github.com/cvo-app/cvo/internal/rescore"
	"github.com/cvo-app/cvo/internal/secretbox"
	"github.com/cvo-app/cvo/internal/shopify"
	"github.com/cvo-app/cvo/internal/web"
	"github.com/cvo-app/cvo/webhooks"
)

const usage = `cvo: Customer Value Optimization for Shopify

Usage:
  cvo demo        a demo on loopback: simulator with a demo shop, migrate, serve and work (built-in credentials)
  cvo run         migrate, then serve and work in one process
  cvo serve       the HTTP server: install, webhooks, API and admin page
  cvo worker      the background worker (sync, webhooks, rescoring)
  cvo migrate     apply database migrations
  cvo simulator   run the Shopify simulator alone (-port, -shop, -load FILE)
  cvo score       score an orders CSV: RFM groups, CLV, P(alive) (see cvo score -h)
  cvo gen         generate a large shop: a snapshot for the simulator or an orders CSV
  cvo bench-sync       history sync benchmark against raw COPY (--customers N --orders M)
  cvo bench-writeback  write-back benchmark (--customers N --change 0.1 [--initial])
  cvo bench-api        admin API latency on a generated shop (--customers N --orders M)
  cvo fleet e2e|chaos  server, two workers and a simulated fleet of shops, with faults in chaos
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
		err = runAll(ctx, log, requireCredentials)
	case "demo":
		err = runAll(ctx, log, demoCredentials)
	case "serve":
		err = withApp(ctx, log, serverPool, func(a *appDeps) error { return a.serve(ctx) })
	case "worker":
		err = withApp(ctx, log, workerPool, func(a *appDeps) error { return a.work(ctx) })
	case "migrate":
		err = migrate(ctx)
	case "simulator":
		err = runSimulator(ctx, log, args)
	case "score":
		err = runScore(ctx, args, os.Stderr)
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
		log.Error("cvo failed", "command", os.Args[1], "err", err)
		os.Exit(1)
	}
}

// appDeps is everything the server and the worker share.
type appDeps struct {
	cfg        config
	log        *slog.Logger
	db         *postgres.DB
	redisOpt   asynq.RedisConnOpt
	redis      *redis.Client
	queue      *jobs.Queue
	shops      *postgres.ShopStore
	deliveries *postgres.DeliveryStore
	privacy    *postgres.PrivacyStore
	installer  *install.Service
	httpClient *http.Client
	syncer     *ingest.Syncer
	applier    *ingest.Applier
	scorings   *postgres.ScoringStore
	settings   *postgres.SettingsStore
	rescorer   *rescore.Service
	writer     *activation.Writer
	writeback  *rescore.Writeback
}

func withApp(ctx context.Context, log *slog.Logger, pool func(config) postgres.Options, fn func(*appDeps) error) error {
	cfg, err := loadConfig(requireCredentials)
	if err != nil {
		return err
	}
	a, err := openAppWith(ctx, cfg, log, pool(cfg))
	if err != nil {
		return err
	}
	defer a.close()
	return fn(a)
}

// workerPool sizes a worker's pool from its concurrency: every job can
// hold its whole connection budget at once, with a reserve to spare
// (postgres.WorkerPoolSize). pool_max_conns in DATABASE_URL may raise it,
// never lower it.
func workerPool(cfg config) postgres.Options {
	n := postgres.WorkerPoolSize(workerConcurrency(cfg))
	return postgres.Options{MaxConns: n, MinConns: n}
}

// serverPool is the HTTP server's: pgx's default unless pool_max_conns
// says otherwise. No job runs on it, so jobs can never exhaust it.
func serverPool(config) postgres.Options { return postgres.Options{} }

func workerConcurrency(cfg config) int {
	if cfg.WorkerConcurrency > 0 {
		return cfg.WorkerConcurrency
	}
	return defaultWorkerConcurrency
}

// openApp opens the app with a worker's pool (the server can share it, as
// tests do).
func openApp(ctx context.Context, cfg config, log *slog.Logger) (*appDeps, error) {
	return openAppWith(ctx, cfg, log, workerPool(cfg))
}

func openAppWith(ctx context.Context, cfg config, log *slog.Logger, pool postgres.Options) (*appDeps, error) {
	keys, err := secretbox.ParseKeyring(cfg.EncryptionKey)
	if err != nil {
		return nil, fmt.Errorf("ENCRYPTION_KEY: %w", err)
	}
	db, err := postgres.OpenWith(ctx, cfg.DatabaseURL, pool)
	if err != nil {
		return nil, err
	}
	redisOpt, err := asynq.ParseRedisURI(cfg.RedisURL)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	ropt, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	httpClient, err := shopify.NewHTTPClient(cfg.AdminOrigin, 60*time.Second)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("SHOPIFY_ADMIN_ORIGIN: %w", err)
	}
	a := &appDeps{cfg: cfg, log: log, db: db, redisOpt: redisOpt, redis: redis.NewClient(ropt), httpClient: httpClient}
	a.queue = jobs.NewQueue(redisOpt, jobs.Namespace(cfg.QueueNamespace))
	a.shops = postgres.NewShopStore(db, keys)
	a.deliveries = postgres.NewDeliveryStore(db)
	a.privacy = postgres.NewPrivacyStore(db)
	oauth := shopify.NewOAuth(cfg.ClientID, cfg.ClientSecret, httpClient)
	a.installer = install.NewService(oauth, a.shops, shopify.NewShopDetails(httpClient, cfg.APIVersion), a.queue, log)
	// One waker: a bulk_operations/finish applied by this process wakes a
	// sync or a write-back waiting in it.
	waker := shopify.NewBulkWaker()
	a.syncer = ingest.NewSyncer(ingest.SyncerConfig{Store: postgres.NewSyncStore(db), Deliveries: postgres.NewDeliveryStore(db), Tokens: a.installer, HTTPClient: httpClient,
		APIVersion: cfg.APIVersion, Waker: waker, Log: log.With("component", "ingest")})
	a.applier = ingest.NewApplier(postgres.NewDeliveryStore(db), waker, log.With("component", "ingest"))
	a.scorings = postgres.NewScoringStore(db)
	a.settings = postgres.NewSettingsStore(db)
	history := struct {
		*postgres.OrderStore
		*postgres.CustomerStore
		*postgres.SyncStore // Counts, to size a scoring up front
	}{postgres.NewOrderStore(db), postgres.NewCustomerStore(db), postgres.NewSyncStore(db)}
	a.writer = activation.New(activation.Config{Store: postgres.NewWritebackStore(db), Shops: a.shops, Tokens: a.installer, HTTPClient: httpClient,
		APIVersion: cfg.APIVersion, Waker: waker, Log: log.With("component", "activation")})
	a.writeback = rescore.NewWriteback(a.scorings, a.settings, a.writer, a.queue, log.With("component", "writeback"))
	a.rescorer = rescore.NewService(history, a.scorings, a.settings, a.shops, rescore.ShopScorer{}, a.writeback, log.With("component", "rescore"))
	return a, nil
}

func (a *appDeps) close() {
	_ = a.queue.Close()
	_ = a.redis.Close()
	a.db.Close()
}

func (a *appDeps) server() *web.Server {
	receiver := webhooks.NewReceiver(a.cfg.ClientSecret, a.deliveries, a.shops, a.privacy, a.queue, a.log)
	adminBase := func(shop string) string { return "https://" + shop }
	if a.cfg.AdminOrigin != "" {
		adminBase = func(string) string { return strings.TrimRight(a.cfg.AdminOrigin, "/") }
	}
	wc := web.Config{
		ClientID: a.cfg.ClientID, ClientSecret: a.cfg.ClientSecret, AppURL: a.cfg.AppURL, Scopes: a.cfg.Scopes,
		AdminBaseURL: adminBase,
	}
	if a.cfg.Demo {
		// Shopify's App Bridge cannot load offline: the demo page gets a
		// stand-in that mints real session tokens from the simulator.
		wc.SimulatorOrigin = a.cfg.AdminOrigin
	}
	return web.NewServer(wc, web.Deps{
		Installer: a.installer,
		Status:    a.syncer,
		Webhooks:  receiver,
		Health: []web.Checker{
			{Name: "postgres", Ping: a.db.Ping},
			{Name: "redis", Ping: func(ctx context.Context) error { return a.redis.Ping(ctx).Err() }},
		},
		Frontend:    frontend.Dist(),
		Pages:       &web.PagesDeps{Snapshots: a.scorings, Settings: a.settings, Actions: a.queue, Segments: a.writer},
		OAuthStates: postgres.NewOAuthStateStore(a.db),
		Exports:     postgres.NewExportStore(a.db, a.cfg.Retention),
		Log:         a.log,
	})
}

func (a *appDeps) serve(ctx context.Context) error {
	addr := ":" + a.cfg.Port
	if a.cfg.Demo {
		// The demo's secret is public: nothing off this machine may reach it.
		addr = "127.0.0.1:" + a.cfg.Port
	}
	srv := &http.Server{Addr: addr, Handler: a.server(), ReadHeaderTimeout: 10 * time.Second}
	a.log.Info("serving", "addr", srv.Addr, "app_url", a.cfg.AppURL)
	return listen(ctx, srv)
}

func (a *appDeps) work(ctx context.Context) error {
	srv := asynq.NewServerFromRedisClient(a.redis, asynq.Config{
		Concurrency: workerConcurrency(a.cfg),
		Queues:      a.queue.Namespace().Queues(),
		Logger:      asynqLogger{a.log},
		// A webhook apply that waited out a running import is no failure.
		IsFailure:      jobs.IsFailure,
		RetryDelayFunc: jobs.RetryDelay,
	})
	mux := jobs.Handlers{Installations: a.shops, Installed: a.shops, Syncer: a.syncer, Webhooks: a.applier, Reconciler: a.syncer,
		Deliveries: a.applier, Retention: a.cfg.Retention,
		Rescorer: a.rescorer, Abandoned: a.scorings, Writeback: a.writeback, Queue: a.queue, Log: a.log}.Mux()
	health := jobs.NewHealth(func() jobs.PoolStats { return jobs.PoolStats(a.db.Stats()) }, a.log.With("component", "worker-health"))
	mux.Use(health.Middleware)
	if a.cfg.WorkerHealthAddr != "" {
		hs := &http.Server{Addr: a.cfg.WorkerHealthAddr, Handler: health.Handler(), ReadHeaderTimeout: 5 * time.Second}
		go func() {
			if err := listen(ctx, hs); err != nil && !errors.Is(err, http.ErrServerClosed) {
				a.log.Error("worker health endpoint stopped", "addr", hs.Addr, "err", err)
			}
		}()
		go health.Watch(ctx, jobs.PoolWindow)
		a.log.Info("worker health endpoint", "addr", hs.Addr, "concurrency", workerConcurrency(a.cfg), "pool_max_conns", a.db.Stats().Max)
	}
	if err := srv.Start(mux); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	defer srv.Shutdown()
	// Every worker runs the nightly sweep's scheduler; the sweep is
	// idempotent, so several workers queue one rescore per shop per night.
	sched, err := jobs.NewScheduler(a.redisOpt, a.queue.Namespace(), asynqLogger{a.log}, jobs.SweepEvery)
	if err != nil {
		return err
	}
	if err := jobs.RegisterReconcileSweep(sched, a.queue.Namespace()); err != nil {
		return err
	}
	if err := jobs.RegisterDeliverySweeps(sched, a.queue.Namespace()); err != nil {
		return err
	}
	if err := sched.Start(); err != nil {
		return fmt.Errorf("start scheduler: %w", err)
	}
	defer sched.Shutdown()
	<-ctx.Done()
	return nil
}

// listen serves until ctx ends, then drains in-flight requests.
func listen(ctx context.Context, srv *http.Server) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return srv.Shutdown(shutdownCtx)
	}
}

func migrate(ctx context.Context) error {
	cfg, err := loadConfig(requireCredentials)
	if err != nil {
		return err
	}
	return migrateDatabase(ctx, cfg)
}

func migrateDatabase(ctx context.Context, cfg config) error {
	if err := postgres.EnsureDatabase(ctx, cfg.DatabaseURL); err != nil {
		return err
	}
	db, err := postgres.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	return db.Migrate(ctx)
}

// asynqLogger routes asynq's own logs through slog.
type asynqLogger struct{ log *slog.Logger }

func (l asynqLogger) Debug(args ...any) { l.log.Debug(fmt.Sprint(args...), "component", "asynq") }
func (l asynqLogger) Info(args ...any)  { l.log.Info(fmt.Sprint(args...), "component", "asynq") }
func (l asynqLogger) Warn(args ...any)  { l.log.Warn(fmt.Sprint(args...), "component", "asynq") }
func (l asynqLogger) Error(args ...any) { l.log.Error(fmt.Sprint(args...), "component", "asynq") }
func (l asynqLogger) Fatal(args ...any) {
	l.log.Error(fmt.Sprint(args...), "component", "asynq")
	os.Exit(1)
}
