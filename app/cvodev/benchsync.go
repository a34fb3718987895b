package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cvo-app/cvo/app/internal/wiring"
	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/ingest"
	"github.com/cvo-app/cvo/internal/ledger"
	"github.com/cvo-app/cvo/internal/postgres"
	"github.com/cvo-app/cvo/internal/secretbox"
	"github.com/cvo-app/cvo/internal/shopgen"
	"github.com/cvo-app/cvo/internal/shopify"
	"github.com/cvo-app/cvo/internal/simulator"
)

// `cvodev bench-sync` measures the history sync on a generated shop: the
// simulator (in a child process, so its in-memory shop does not count
// against the sync's memory) exports the shop through bulk operations, the
// syncer imports it into a fresh database, and then the same rows are
// loaded again with `psql \copy` into the same, emptied tables: the
// physical limit the sync is compared with.

const (
	benchShop     = "bench-sync.myshopify.com"
	benchClientID = "bench-client"
	benchSecret   = "bench-secret"
	benchVersion  = "2026-10"
)

func runBenchSync(ctx context.Context, log *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("bench-sync", flag.ContinueOnError)
	customers := fs.Int("customers", 100_000, "customers to generate")
	orders := fs.Int("orders", 500_000, "orders to generate")
	seed := fs.Int64("seed", 1, "generator seed")
	basketScale := fs.Float64("basket-scale", 1, "multiplies the value each generated order is filled up to: above 1, orders carry more lines (at most 12)")
	dbName := fs.String("database", "cvo_bench", "database to (re)create on the server of DATABASE_URL")
	workdir := fs.String("workdir", "", "directory for bulk result and CSV files (default: a temporary one, removed after)")
	serve := fs.Bool("serve-simulator", false, "internal: run the simulator side (child process)")
	loaderOnly := fs.Bool("loader-only", false, "only time the loader on the database a previous run left")
	rescoreOnly := fs.Bool("rescore-only", false, "only time the rescoring job (first query to snapshot written) on the database a previous run left")
	parallel := fs.Int("parallel", 1, "with --rescore-only: scorings of the shop run at once (memory of several big shops on one worker)")
	compare := fs.String("compare", "", "with --rescore-only: another build's cvodev, whose rescores alternate with this one's, each in a process of its own")
	runs := fs.Int("runs", 2, "with --compare: rescores of each build")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run to this file")
	heapProfile := fs.String("heapprofile", "", "write the heap profile taken at the run's highest live heap to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *heapProfile != "" {
		peak := &peakHeapProfile{}
		sampleCtx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); peak.sample(sampleCtx, 50*time.Millisecond) }()
		defer func() {
			stop()
			<-done
			if err := os.WriteFile(*heapProfile, peak.profile.Bytes(), 0o644); err != nil {
				log.Error("write heap profile", "err", err)
			}
		}()
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	dir := *workdir
	if dir == "" {
		d, err := os.MkdirTemp("", "cvo-bench-sync-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	// The parent and its simulator child generate from the same options.
	gen := shopgen.GenOptions{Customers: *customers, Orders: *orders, Seed: *seed, BasketScale: *basketScale}
	if *serve {
		return serveBenchSimulator(ctx, log, gen, dir)
	}
	if *loaderOnly {
		return benchLoader(ctx, *dbName)
	}
	if *rescoreOnly && *compare != "" {
		return compareRescores(ctx, *compare, *dbName, *runs)
	}
	if *rescoreOnly {
		return benchRescore(ctx, *dbName, *parallel)
	}
	return benchSync(ctx, log, gen, *dbName, dir)
}

// serveBenchSimulator generates the shop into a simulator, serves it, and
// prints "READY <url>" on stdout; it stops when stdin closes (the parent
// exited) or ctx ends.
func serveBenchSimulator(ctx context.Context, log *slog.Logger, opts shopgen.GenOptions, dir string) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	url := "http://" + ln.Addr().String()
	sim := simulator.New(simulator.Config{ClientID: benchClientID, ClientSecret: benchSecret, APIVersion: benchVersion,
		BulkDir: filepath.Join(dir, "bulk"), PublicURL: url, Logger: log.With("component", "simulator"),
		// No app listens for webhooks: the sync polls.
		Webhooks: []simulator.WebhookSubscription{}})
	defer sim.Close()
	if err := os.MkdirAll(filepath.Join(dir, "bulk"), 0o755); err != nil {
		return err
	}
	info := opts.Shop()
	if err := sim.AddShop(benchShop, simulator.ShopOptions{Name: info.Name, Currency: info.Currency, Timezone: info.Timezone}); err != nil {
		return err
	}
	began := time.Now()
	st, err := shopgen.Generate(ctx, opts, shopgen.ForShop(sim, benchShop))
	if err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	log.Info("bench shop generated", "customers", st.Customers, "orders", st.Orders, "line_items", st.LineItems,
		"refunds", st.Refunds, "products", st.Products, "seconds", time.Since(began).Seconds())
	srv := &http.Server{Handler: sim.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	fmt.Printf("READY %s\n", url)
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		close(done)
	}()
	select {
	case <-ctx.Done():
	case <-done:
	}
	return nil
}

// simTokens gets access tokens the way the embedded app does: a session
// token (from the simulator's App Bridge stand-in endpoint) exchanged for an
// expiring offline token, renewed before it expires.
type simTokens struct {
	url   string
	oauth *shopify.OAuth
	hc    *http.Client

	mu      sync.Mutex
	token   string
	expires time.Time
}

func (t *simTokens) AccessToken(ctx context.Context, shop string) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.token != "" && time.Until(t.expires) > 5*time.Minute {
		return t.token, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.url+"/simulator/session-token?shop="+shop, nil)
	if err != nil {
		return "", err
	}
	resp, err := t.hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var body struct{ Token string }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return "", fmt.Errorf("session token: %w", err)
	}
	tok, err := t.oauth.ExchangeSessionToken(ctx, shop, body.Token)
	if err != nil {
		return "", err
	}
	t.token, t.expires = tok.AccessToken, tok.ExpiresAt
	if t.expires.IsZero() {
		t.expires = time.Now().Add(24 * time.Hour)
	}
	return t.token, nil
}

// importTimes collects the syncer's "resource imported" log records.
type importTimes struct {
	slog.Handler
	mu      sync.Mutex
	seconds map[string]float64
	objects map[string]int64
}

func (h *importTimes) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "resource imported" {
		var res string
		var secs float64
		var objs int64
		r.Attrs(func(a slog.Attr) bool {
			switch a.Key {
			case "resource":
				res = a.Value.String()
			case "seconds":
				secs = a.Value.Float64()
			case "objects":
				objs = a.Value.Int64()
			}
			return true
		})
		h.mu.Lock()
		h.seconds[res] += secs
		h.objects[res] += objs
		h.mu.Unlock()
	}
	return h.Handler.Handle(ctx, r)
}

func (h *importTimes) WithAttrs(as []slog.Attr) slog.Handler {
	return &importTimes{Handler: h.Handler.WithAttrs(as), seconds: h.seconds, objects: h.objects}
}

// memPeak samples the Go heap while a benchmarked job runs.
type memPeak struct {
	mu        sync.Mutex
	heapInuse uint64 // garbage not yet swept included
	live      uint64 // as the collector last marked it
	sys       uint64
}

func (m *memPeak) sample(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	var ms runtime.MemStats
	for {
		runtime.ReadMemStats(&ms)
		m.mu.Lock()
		m.heapInuse = max(m.heapInuse, ms.HeapInuse)
		m.live = max(m.live, liveHeap())
		m.sys = max(m.sys, ms.Sys)
		m.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// peakHeapProfile keeps the heap profile of the highest live heap seen:
// the collector's last marking, which is what a heap profile shows.
type peakHeapProfile struct {
	live    uint64
	profile bytes.Buffer
}

func (p *peakHeapProfile) sample(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		// A new profile only for a peak 2% above the kept one: writing
		// one walks every sampled allocation.
		if live := liveHeap(); live > p.live+p.live/50 {
			p.live = live
			p.profile.Reset()
			_ = pprof.Lookup("heap").WriteTo(&p.profile, 0)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func mb(b int64) float64 { return float64(b) / (1 << 20) }

func maxRSS() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Maxrss * 1024 // kilobytes on Linux
}

var benchTables = []string{"products", "variants", "customers", "orders", "order_lines", "refunds"}

func benchSync(ctx context.Context, log *slog.Logger, opts shopgen.GenOptions, dbName, dir string) error {
	cfg, err := wiring.LoadConfig(toolCredentials)
	if err != nil {
		return err
	}
	dbURL, err := withDatabaseName(cfg.DatabaseURL, dbName)
	if err != nil {
		return err
	}

	// The simulator side, in a child process.
	child := exec.CommandContext(ctx, os.Args[0], "bench-sync", "--serve-simulator", "--customers", fmt.Sprint(opts.Customers),
		"--orders", fmt.Sprint(opts.Orders), "--seed", fmt.Sprint(opts.Seed), "--basket-scale", fmt.Sprint(opts.BasketScale), "--workdir", dir)
	child.Stderr = os.Stderr
	stdin, err := child.StdinPipe()
	if err != nil {
		return err
	}
	stdout, err := child.StdoutPipe()
	if err != nil {
		return err
	}
	began := time.Now()
	if err := child.Start(); err != nil {
		return fmt.Errorf("start simulator: %w", err)
	}
	defer func() {
		_ = stdin.Close()
		_ = child.Wait()
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		return fmt.Errorf("simulator did not start: %w", err)
	}
	simURL, ok := strings.CutPrefix(strings.TrimSpace(line), "READY ")
	if !ok {
		return fmt.Errorf("simulator said %q", line)
	}
	fmt.Printf("shop generated in the simulator: %.1fs\n", time.Since(began).Seconds())

	// A fresh database.
	if err := recreateDatabase(ctx, dbURL); err != nil {
		return err
	}
	db, err := postgres.Open(ctx, dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return err
	}

	hc, err := shopify.NewHTTPClient(simURL, 5*time.Minute)
	if err != nil {
		return err
	}
	times := &importTimes{Handler: log.Handler(), seconds: map[string]float64{}, objects: map[string]int64{}}
	syncer := ingest.NewSyncer(ingest.SyncerConfig{Store: postgres.NewSyncStore(db), Deliveries: postgres.NewDeliveryStore(db), Tokens: &simTokens{url: simURL, hc: hc, oauth: shopify.NewOAuth(benchClientID, benchSecret, hc)},
		HTTPClient: hc, APIVersion: benchVersion, Log: slog.New(times), PollMin: 200 * time.Millisecond, PollMax: time.Second})

	runtime.GC()
	rssBefore := maxRSS()
	sampleCtx, stopSampling := context.WithCancel(ctx)
	peak := &memPeak{}
	go peak.sample(sampleCtx, 100*time.Millisecond)
	start := time.Now()
	if err := syncer.SyncShop(ctx, benchShop); err != nil {
		stopSampling()
		return err
	}
	syncSeconds := time.Since(start).Seconds()
	stopSampling()
	rss := maxRSS()

	counts := map[string]int64{}
	for _, t := range benchTables {
		var n int64
		if err := db.Pool.QueryRow(ctx, "SELECT count(*) FROM "+t).Scan(&n); err != nil {
			return err
		}
		counts[t] = n
	}

	// The same rows, loaded with psql \copy into the same tables, emptied.
	files := map[string]string{}
	for _, t := range benchTables {
		path := filepath.Join(dir, t+".csv")
		if err := exportCSV(ctx, db, t, path); err != nil {
			return err
		}
		files[t] = path
	}
	if _, err := db.Pool.Exec(ctx, "TRUNCATE "+strings.Join(benchTables, ", ")+"; CHECKPOINT"); err != nil {
		return err
	}
	copySeconds := map[string]float64{}
	for _, t := range benchTables {
		s := time.Now()
		cmd := exec.CommandContext(ctx, "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", dbURL, "-c", fmt.Sprintf(`\copy %s FROM '%s' CSV`, t, files[t]))
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("psql \\copy %s: %w", t, err)
		}
		copySeconds[t] = time.Since(s).Seconds()
	}

	loads, err := timeLoaders(ctx, db)
	if err != nil {
		return err
	}

	ordersImport := times.seconds["orders"]
	ordersCopy := copySeconds["orders"] + copySeconds["order_lines"] + copySeconds["refunds"]
	var importAll, copyAll float64
	for _, s := range times.seconds {
		importAll += s
	}
	for _, s := range copySeconds {
		copyAll += s
	}
	fmt.Printf("\nbench-sync: %d customers, %d orders (seed %d, basket scale %g), %d CPUs\n", opts.Customers, opts.Orders, opts.Seed, opts.BasketScale, runtime.NumCPU())
	fmt.Printf("rows: customers %d, orders %d, order_lines %d, refunds %d, products %d, variants %d\n",
		counts["customers"], counts["orders"], counts["order_lines"], counts["refunds"], counts["products"], counts["variants"])
	fmt.Printf("sync (bulk export wait + download + parse + stage COPY + merge): %.1fs\n", syncSeconds)
	fmt.Printf("  import of the orders file (lines, refunds):  %.1fs = %.0f orders/s\n", ordersImport, float64(counts["orders"])/ordersImport)
	fmt.Printf("  import of all files:                          %.1fs\n", importAll)
	fmt.Printf("psql \\copy of the same rows:\n")
	fmt.Printf("  orders + order_lines + refunds:               %.1fs = %.0f orders/s\n", ordersCopy, float64(counts["orders"])/ordersCopy)
	fmt.Printf("  all tables:                                   %.1fs\n", copyAll)
	fmt.Printf("sync / \\copy rate: orders %.2f, all %.2f\n", ordersCopy/ordersImport, copyAll/importAll)
	printLoads(loads)
	fmt.Printf("memory: peak Go heap in use %.0f MiB, Go runtime total %.0f MiB, max RSS %.0f MiB (%.0f MiB before the sync)\n",
		mb(int64(peak.heapInuse)), mb(int64(peak.sys)), mb(rss), mb(rssBefore))
	return nil
}

// loaderTiming is one way of reading the bench shop into a ledger.
type loaderTiming struct {
	name    string
	orders  int
	seconds float64
	heap    uint64 // peak Go heap in use while it ran
}

// timeLoaders reads the bench shop back into a ledger both ways a rescore
// can: with every line (StreamOrders), and with the lines' sums and the
// lines of only the orders the ledger wants (ReadSummedOrders, the
// rescore's way).
func timeLoaders(ctx context.Context, db *postgres.DB) ([]loaderTiming, error) {
	if _, err := db.Pool.Exec(ctx, "ANALYZE "+strings.Join(append(benchTables, "order_line_sums"), ", ")); err != nil {
		return nil, err
	}
	store := postgres.NewOrderStore(db)
	// Sized as the rescore sizes its ledger.
	_, orders, err := postgres.NewSyncStore(db).Counts(ctx, benchShop)
	if err != nil {
		return nil, err
	}
	var out []loaderTiming
	for _, read := range []struct {
		name string
		fill func(*ledger.Builder) error
	}{
		{"every line (OrderStore.StreamOrders)", func(b *ledger.Builder) error {
			return store.StreamOrders(ctx, benchShop, func(o *cvo.Order) error { b.Add(o); return nil })
		}},
		{"line sums (OrderStore.ReadSummedOrders)", func(b *ledger.Builder) error { return store.ReadSummedOrders(ctx, benchShop, b) }},
	} {
		runtime.GC()
		peak := &memPeak{}
		sampleCtx, stop := context.WithCancel(ctx)
		go peak.sample(sampleCtx, 100*time.Millisecond)
		start := time.Now()
		b := ledger.NewBuilder(int(orders))
		err := read.fill(b)
		l := b.Ledger()
		stop()
		if err != nil {
			return nil, err
		}
		peak.mu.Lock()
		heap := peak.heapInuse
		peak.mu.Unlock()
		out = append(out, loaderTiming{name: read.name, orders: l.Len(), seconds: time.Since(start).Seconds(), heap: heap})
	}
	return out, nil
}

func printLoads(loads []loaderTiming) {
	for _, l := range loads {
		fmt.Printf("loader, %s: a ledger of %d orders in %.1fs, peak Go heap %.0f MiB\n", l.name, l.orders, l.seconds, mb(int64(l.heap)))
	}
}

// openBenchDatabase opens the database a previous bench-sync left, with
// the pool of a worker that runs jobs jobs at once: the benches run jobs
// as a worker does, and a rescore reads on two connections at a time.
func openBenchDatabase(ctx context.Context, dbName string, jobs int) (*postgres.DB, wiring.Config, error) {
	cfg, err := wiring.LoadConfig(toolCredentials)
	if err != nil {
		return nil, cfg, err
	}
	dbURL, err := withDatabaseName(cfg.DatabaseURL, dbName)
	if err != nil {
		return nil, cfg, err
	}
	db, err := postgres.OpenWith(ctx, dbURL, postgres.Options{MaxConns: postgres.WorkerPoolSize(max(jobs, 1))})
	return db, cfg, err
}

// openBenchShops is openBenchDatabase with the shop store the app's
// encryption key opens.
func openBenchShops(ctx context.Context, dbName string, jobs int) (*postgres.DB, *postgres.ShopStore, wiring.Config, error) {
	db, cfg, err := openBenchDatabase(ctx, dbName, jobs)
	if err != nil {
		return nil, nil, cfg, err
	}
	keys, err := secretbox.ParseKeyring(cfg.EncryptionKey)
	if err != nil {
		db.Close()
		return nil, nil, cfg, err
	}
	return db, postgres.NewShopStore(db, keys), cfg, nil
}

func benchLoader(ctx context.Context, dbName string) error {
	db, _, err := openBenchDatabase(ctx, dbName, 1)
	if err != nil {
		return err
	}
	defer db.Close()
	loads, err := timeLoaders(ctx, db)
	if err != nil {
		return err
	}
	printLoads(loads)
	return nil
}

func exportCSV(ctx context.Context, db *postgres.DB, table, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	conn, err := db.Pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	w := bufio.NewWriterSize(f, 1<<20)
	if _, err := conn.Conn().PgConn().CopyTo(ctx, w, "COPY "+pgx.Identifier{table}.Sanitize()+" TO STDOUT CSV"); err != nil {
		return fmt.Errorf("export %s: %w", table, err)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

func withDatabaseName(url, name string) (string, error) {
	i := strings.LastIndex(url, "/")
	if i < 0 || !strings.Contains(url, "://") {
		return "", errors.New("DATABASE_URL is not a URL")
	}
	q := ""
	if j := strings.Index(url[i:], "?"); j >= 0 {
		q = url[i+j:]
	}
	return url[:i+1] + name + q, nil
}

func recreateDatabase(ctx context.Context, url string) error {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return err
	}
	name := cfg.Database
	cfg.Database = "postgres"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		return err
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	return err
}
