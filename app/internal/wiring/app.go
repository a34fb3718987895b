package wiring

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/errgroup"

	"github.com/cvo-app/cvo/frontend"
	"github.com/cvo-app/cvo/internal/activation"
	"github.com/cvo-app/cvo/internal/ingest"
	"github.com/cvo-app/cvo/internal/install"
	"github.com/cvo-app/cvo/internal/jobs"
	"github.com/cvo-app/cvo/internal/postgres"
	"github.com/cvo-app/cvo/internal/rescore"
	"github.com/cvo-app/cvo/internal/secretbox"
	"github.com/cvo-app/cvo/internal/shopify"
	"github.com/cvo-app/cvo/internal/survey"
	"github.com/cvo-app/cvo/internal/web"
	"github.com/cvo-app/cvo/webhooks"
)

// App is everything the server and the worker share.
type App struct {
	cfg        Config
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

// WithApp opens the app with real credentials and a pool, runs fn, and
// closes it: `cvo serve` and `cvo worker`.
func WithApp(ctx context.Context, log *slog.Logger, pool func(Config) postgres.Options, fn func(*App) error) error {
	cfg, err := LoadConfig(RequireCredentials)
	if err != nil {
		return err
	}
	a, err := OpenWith(ctx, cfg, log, pool(cfg))
	if err != nil {
		return err
	}
	defer a.Close()
	return fn(a)
}

// WorkerPool sizes a worker's pool from its concurrency: every job can
// hold its whole connection budget at once, with a reserve to spare
// (postgres.WorkerPoolSize). pool_max_conns in DATABASE_URL may raise it,
// never lower it.
func WorkerPool(cfg Config) postgres.Options {
	n := postgres.WorkerPoolSize(workerConcurrency(cfg))
	return postgres.Options{MaxConns: n, MinConns: n}
}

// ServerPool is the HTTP server's: pgx's default unless pool_max_conns
// says otherwise. No job runs on it, so jobs can never exhaust it.
func ServerPool(Config) postgres.Options { return postgres.Options{} }

func workerConcurrency(cfg Config) int {
	if cfg.WorkerConcurrency > 0 {
		return cfg.WorkerConcurrency
	}
	return DefaultWorkerConcurrency
}

// Open opens the app with a worker's pool (the server can share it, as
// tests do).
func Open(ctx context.Context, cfg Config, log *slog.Logger) (*App, error) {
	return OpenWith(ctx, cfg, log, WorkerPool(cfg))
}

// OpenWith opens the app on a pool of the given size.
func OpenWith(ctx context.Context, cfg Config, log *slog.Logger, pool postgres.Options) (*App, error) {
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
	a := &App{cfg: cfg, log: log, db: db, redisOpt: redisOpt, redis: redis.NewClient(ropt), httpClient: httpClient}
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
	wcfg := activation.Config{Store: postgres.NewWritebackStore(db), Shops: a.shops, Tokens: a.installer, HTTPClient: httpClient,
		APIVersion: cfg.APIVersion, Waker: waker, Log: log.With("component", "activation")}
	if signer, err := survey.NewSigner(cfg.ClientSecret); err == nil {
		wcfg.SurveyLinks = survey.Linker{Surveys: postgres.NewSurveyStore(db), Signer: signer, AppURL: cfg.AppURL}
	}
	a.writer = activation.New(wcfg)
	a.writeback = rescore.NewWriteback(a.scorings, a.settings, a.writer, a.queue, log.With("component", "writeback"))
	a.rescorer = rescore.NewService(history, a.scorings, a.settings, a.shops, rescore.ShopScorer{}, a.writeback, log.With("component", "rescore"))
	if cfg.WorkerMemoryBudget > 0 { // 0: a Config built in code, unbounded
		a.rescorer.SetMemoryBudget(rescore.NewMemoryBudget(cfg.WorkerMemoryBudget))
	}
	return a, nil
}

// Close releases the app's connections.
func (a *App) Close() {
	_ = a.queue.Close()
	_ = a.redis.Close()
	a.db.Close()
}

// Server is the app's HTTP server.
func (a *App) Server() *web.Server {
	receiver := webhooks.NewReceiver(a.cfg.ClientSecret, a.deliveries, a.shops, a.privacy, a.queue, a.log)
	adminBase := func(shop string) string { return "https://" + shop }
	if a.cfg.AdminOrigin != "" {
		adminBase = func(string) string { return strings.TrimRight(a.cfg.AdminOrigin, "/") }
	}
	wc := web.Config{
		ClientID: a.cfg.ClientID, ClientSecret: a.cfg.ClientSecret, AppURL: a.cfg.AppURL, Scopes: a.cfg.Scopes,
		AdminBaseURL: adminBase, TrustedProxies: a.cfg.TrustedProxies,
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
		Frontend: frontend.Dist(),
		Pages: &web.PagesDeps{Snapshots: a.scorings, Settings: a.settings, Actions: a.queue, Segments: a.writer,
			Customers: customerScreen{a.scorings, postgres.NewOrderStore(a.db)}},
		OAuthStates: postgres.NewOAuthStateStore(a.db),
		Exports:     postgres.NewExportStore(a.db, a.cfg.Retention),
		Surveys:     postgres.NewSurveyStore(a.db),
		Log:         a.log,
	})
}

// customerScreen is what the customer screen reads: the customer's scores
// and history from the scorings, their orders from the order store.
type customerScreen struct {
	*postgres.ScoringStore
	*postgres.OrderStore
}

// Serve serves HTTP until ctx ends.
func (a *App) Serve(ctx context.Context) error {
	addr := ":" + a.cfg.Port
	if a.cfg.Demo {
		// The demo's secret is public: nothing off this machine may reach it.
		addr = "127.0.0.1:" + a.cfg.Port
	}
	srv := &http.Server{Addr: addr, Handler: a.Server(), ReadHeaderTimeout: 10 * time.Second}
	a.log.Info("serving", "addr", srv.Addr, "app_url", a.cfg.AppURL)
	return listen(ctx, srv)
}

// Work runs the background worker and its scheduler until ctx ends.
func (a *App) Work(ctx context.Context) error {
	if a.cfg.WorkerMemoryBudget > 0 {
		debug.SetMemoryLimit(WorkerMemoryLimit(a.cfg.WorkerMemoryBudget))
	}
	a.log.Info("worker memory", "budget_mib", a.cfg.WorkerMemoryBudget>>20,
		"shop_customers_at_budget", (a.cfg.WorkerMemoryBudget-rescore.EstimateBytes(0, 0))/(rescore.BytesPerCustomer+5*rescore.BytesPerOrder))
	srv := asynq.NewServerFromRedisClient(a.redis, asynq.Config{
		Concurrency: workerConcurrency(a.cfg),
		Queues:      a.queue.Namespace().Queues(),
		Logger:      asynqLogger{a.log},
		// A webhook apply that waited out a running import is no failure.
		IsFailure:      jobs.IsFailure,
		RetryDelayFunc: jobs.RetryDelay,
	})
	mux := jobs.Handlers{Installations: a.shops, Installed: a.shops, Syncer: a.syncer, Webhooks: a.applier, Reconciler: a.syncer,
		Deliveries: a.applier, Surveys: postgres.NewSurveyStore(a.db), Retention: a.cfg.Retention,
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

// Migrate is `cvo migrate`: with real credentials only, like every command
// that serves real shops.
func Migrate(ctx context.Context) error {
	cfg, err := LoadConfig(RequireCredentials)
	if err != nil {
		return err
	}
	return MigrateDatabase(ctx, cfg)
}

// MigrateDatabase creates the database if missing and applies migrations.
func MigrateDatabase(ctx context.Context, cfg Config) error {
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

// RunAll is `cvo run` and `cvodev demo`: migrate, then serve and work in
// one process, with alongside (the demo's simulator) running beside them
// until the first of them fails or ctx ends.
func RunAll(ctx context.Context, log *slog.Logger, cfg Config, alongside ...func(context.Context) error) error {
	if err := MigrateDatabase(ctx, cfg); err != nil {
		return err
	}
	// The server and the worker get pools of their own: jobs can never
	// take the connections /healthz and webhooks need.
	a, err := OpenWith(ctx, cfg, log, ServerPool(cfg))
	if err != nil {
		return err
	}
	defer a.Close()
	w, err := OpenWith(ctx, cfg, log, WorkerPool(cfg))
	if err != nil {
		return err
	}
	defer w.Close()

	g, ctx := errgroup.WithContext(ctx)
	for _, fn := range alongside {
		g.Go(func() error { return fn(ctx) })
	}
	g.Go(func() error { return a.Serve(ctx) })
	g.Go(func() error { return w.Work(ctx) })
	return g.Wait()
}
