package fleet

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/errgroup"

	"github.com/cvo-app/cvo/internal/jobs"
	"github.com/cvo-app/cvo/internal/simulator"
)

// Options configure a fleet run.
type Options struct {
	// Chaos adds the faults: workers SIGKILLed during a sync and during a
	// write-back, Redis and PostgreSQL restarted, a throttling and failing
	// Shopify.
	Chaos bool
	// Bin is the cvo binary started as server and workers.
	Bin string
	// Shops and Size set the fleet; StormDeliveries the webhook storm.
	Shops           int
	Size            ShopSize
	StormDeliveries int
	// RedisURL is the Redis e2e runs share under a namespace of their own.
	RedisURL string
	// AdminDatabaseURL names the PostgreSQL server; the run creates (and
	// drops) a database of its own on it.
	AdminDatabaseURL string
	// PGVersion is the cluster restarted with pg_ctlcluster in chaos runs.
	PGVersion string
	// Faults are the simulator's faults in chaos runs.
	Faults simulator.Faults
	// DBParams are appended to the server's and workers' DATABASE_URL
	// (e.g. "pool_max_conns=20"), not to migrate's.
	DBParams string
	// StepTimeout bounds every wait; the run always ends by itself.
	StepTimeout time.Duration
	Out         io.Writer
	Log         *slog.Logger
}

// The credentials the harness gives the app and the simulator: they protect
// nothing but this run.
const (
	clientID      = "cvo-fleet-client"
	clientSecret  = "cvo-fleet-secret"
	encryptionKey = "v1:ZmxlZXQtaGFybmVzcy1rZXktMzItYnl0ZXMtbG9uZyE="
)

type harness struct {
	opt    Options
	log    *slog.Logger
	dir    string
	dbName string
	keepDB bool
	dbURL  string
	pool   *pgxpool.Pool

	sim    *simulator.Simulator
	simURL string
	appURL string
	shops  []string
	live   []string // shops still installed
	gone   []string // shops uninstalled and redacted

	callsAtUninstall int // their API calls when the uninstall was seen

	redis     *proc          // chaos: the run's own redis-server
	namespace jobs.Namespace // e2e: the run's job namespace on the shared Redis
	rc        *redis.Client
	server    *proc
	workers   []*proc

	report *report
}

// Run drives the fleet through install, sync, scoring, write-back, a stream
// of changes by webhook, rescoring, a webhook storm, the chaos faults,
// uninstall and shop/redact, checking the app against the simulator at
// each step. It prints a table of figures and returns an error when a
// must-be-zero figure is not zero or a step did not finish in time.
func Run(ctx context.Context, opt Options) error {
	if opt.StepTimeout == 0 {
		opt.StepTimeout = 3 * time.Minute
	}
	h := &harness{opt: opt, log: opt.Log, report: &report{log: opt.Log}}
	dir, err := os.MkdirTemp("", "cvo-fleet-")
	if err != nil {
		return err
	}
	h.dir = dir
	mode := "e2e"
	if opt.Chaos {
		mode = "chaos"
	}
	h.log.Info("fleet run", "mode", mode, "shops", opt.Shops, "customers", opt.Size.Customers, "orders", opt.Size.Orders, "logs", dir)
	runErr := h.run(ctx)
	// A failed run keeps its database and logs for reading.
	h.keepDB = runErr != nil || len(h.report.failures()) > 0
	h.teardown()
	h.report.print(opt.Out, mode)
	if runErr != nil {
		h.report.fail(fmt.Sprintf("run stopped: %v", runErr))
	}
	if f := h.report.failures(); len(f) > 0 {
		fmt.Fprintf(opt.Out, "\nFAILED (logs kept in %s):\n  %s\n", dir, strings.Join(f, "\n  "))
		return errors.New("fleet run failed")
	}
	_ = os.RemoveAll(dir)
	fmt.Fprintln(opt.Out, "\nOK")
	return nil
}

func (h *harness) run(ctx context.Context) error {
	if err := h.setup(ctx); err != nil {
		return err
	}
	if err := h.install(ctx); err != nil {
		return err
	}
	if err := h.liveChanges(ctx, "live stream"); err != nil {
		return err
	}
	if err := h.rescore(ctx); err != nil {
		return err
	}
	if err := h.storm(ctx); err != nil {
		return err
	}
	if err := h.intakeAlone(ctx, 3000); err != nil {
		return err
	}
	if h.opt.Chaos {
		if err := h.killDuringWriteback(ctx); err != nil {
			return err
		}
		if err := h.restartRedis(ctx); err != nil {
			return err
		}
		if err := h.restartPostgres(ctx); err != nil {
			return err
		}
	}
	if err := h.uninstall(ctx); err != nil {
		return err
	}
	return h.final(ctx)
}

func (h *harness) setup(ctx context.Context) error {
	h.dbName = fmt.Sprintf("cvo_fleet_%d", time.Now().UnixNano())
	u, err := pgx.ParseConfig(h.opt.AdminDatabaseURL)
	if err != nil {
		return fmt.Errorf("admin database url: %w", err)
	}
	h.dbURL = fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=disable", u.User, u.Host, u.Port, h.dbName)
	// e2e shares the running Redis under a job namespace of its own; chaos
	// restarts Redis, so it starts a redis-server of its own.
	redisURL := h.opt.RedisURL
	if h.opt.Chaos {
		redisPort, err := freePort()
		if err != nil {
			return err
		}
		h.redis = newProc(h.dir, "redis", "redis-server", os.Environ(), "--bind", "127.0.0.1", "--port", itoa(redisPort),
			"--save", "", "--appendonly", "no", "--dir", h.dir)
		if err := h.redis.start(); err != nil {
			return err
		}
		if err := waitTCP(ctx, fmt.Sprintf("127.0.0.1:%d", redisPort), 10*time.Second); err != nil {
			return err
		}
		redisURL = fmt.Sprintf("redis://127.0.0.1:%d/0", redisPort)
	} else {
		h.namespace = jobs.Namespace(fmt.Sprintf("fleet-%d", time.Now().UnixNano()))
		ropt, err := redis.ParseURL(redisURL)
		if err != nil {
			return fmt.Errorf("redis url: %w", err)
		}
		h.rc = redis.NewClient(ropt)
	}
	appPort, err := freePort()
	if err != nil {
		return err
	}
	simPort, err := freePort()
	if err != nil {
		return err
	}
	h.appURL = fmt.Sprintf("http://127.0.0.1:%d", appPort)
	h.simURL = fmt.Sprintf("http://127.0.0.1:%d", simPort)

	h.sim = simulator.New(simulator.Config{ClientID: clientID, ClientSecret: clientSecret, AppURL: h.appURL, PublicURL: h.simURL})
	started := time.Now()
	if h.shops, err = AddShops(ctx, h.sim, h.opt.Shops, h.opt.Size); err != nil {
		return err
	}
	h.live = append([]string(nil), h.shops...)
	h.log.Info("shops generated", "shops", len(h.shops), "seconds", time.Since(started).Seconds())
	go func() {
		if err := simulator.ListenAndServe(ctx, fmt.Sprintf("127.0.0.1:%d", simPort), h.sim); err != nil {
			h.log.Error("simulator stopped", "err", err)
		}
	}()
	if err := waitTCP(ctx, fmt.Sprintf("127.0.0.1:%d", simPort), 10*time.Second); err != nil {
		return err
	}

	env := append(os.Environ(),
		"SHOPIFY_API_KEY="+clientID, "SHOPIFY_API_SECRET="+clientSecret, "ENCRYPTION_KEY="+encryptionKey,
		"SHOPIFY_APP_URL="+h.appURL, "SHOPIFY_ADMIN_ORIGIN="+h.simURL, "PORT="+itoa(appPort),
		"DATABASE_URL="+h.dbURL, "REDIS_URL="+redisURL, "QUEUE_NAMESPACE="+string(h.namespace))
	migrate := exec.CommandContext(ctx, h.opt.Bin, "migrate")
	migrate.Env = env
	if out, err := migrate.CombinedOutput(); err != nil {
		return fmt.Errorf("cvo migrate: %w: %s", err, out)
	}
	if h.pool, err = pgxpool.New(ctx, h.dbURL+"&pool_max_conns=4"); err != nil {
		return fmt.Errorf("open %s: %w", h.dbName, err)
	}
	if h.opt.DBParams != "" {
		env = append(env, "DATABASE_URL="+h.dbURL+"&"+h.opt.DBParams)
	}
	h.server = newProc(h.dir, "serve", h.opt.Bin, env, "serve")
	h.workers = []*proc{newProc(h.dir, "worker-1", h.opt.Bin, env, "worker"), newProc(h.dir, "worker-2", h.opt.Bin, env, "worker")}
	for _, p := range append([]*proc{h.server}, h.workers...) {
		if err := p.start(); err != nil {
			return err
		}
	}
	if err := waitHTTP(ctx, h.appURL+"/healthz", 30*time.Second); err != nil {
		return fmt.Errorf("server did not come up (see %s): %w", h.server.log, err)
	}
	if h.opt.Chaos {
		h.sim.SetFaults(h.opt.Faults)
		h.report.add("simulator faults", h.opt.Faults.String(), "", "")
	}
	return nil
}

func (h *harness) teardown() {
	for _, p := range append([]*proc{h.server}, h.workers...) {
		if p != nil {
			p.stop(15 * time.Second)
		}
	}
	if h.redis != nil {
		h.redis.stop(5 * time.Second)
	}
	if h.rc != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := h.namespace.Remove(ctx, h.rc); err != nil {
			h.log.Warn("remove the run's job namespace", "namespace", h.namespace, "err", err)
		}
		cancel()
		h.rc.Close()
	}
	if h.sim != nil {
		h.sim.Close()
	}
	if h.pool != nil {
		h.pool.Close()
	}
	if h.keepDB {
		fmt.Fprintf(h.opt.Out, "\nThe run's database is kept: %s (drop it with: psql -h 127.0.0.1 -U postgres -c 'DROP DATABASE %s WITH (FORCE)')\n", h.dbName, h.dbName)
	}
	if h.dbName != "" && !h.keepDB {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if conn, err := pgx.Connect(ctx, h.opt.AdminDatabaseURL); err == nil {
			if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{h.dbName}.Sanitize()+" WITH (FORCE)"); err != nil {
				h.log.Warn("drop the run's database", "database", h.dbName, "err", err)
			}
			conn.Close(ctx)
		}
	}
}

// api calls the app's JSON API as the shop's embedded page would.
func (h *harness) api(ctx context.Context, shop, method, path string, body any, out any) error {
	tok, err := h.sim.SessionToken(shop, 1)
	if err != nil {
		return err
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, h.appURL+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s for %s: %w", method, path, shop, err)
	}
	defer res.Body.Close()
	if res.StatusCode/100 != 2 {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 512))
		return fmt.Errorf("%s %s for %s: status %d: %s", method, path, shop, res.StatusCode, b)
	}
	if out != nil {
		return json.NewDecoder(res.Body).Decode(out)
	}
	return nil
}

// verifyAll checks every installed shop once.
func (h *harness) verifyAll(ctx context.Context) (map[string]ShopCheck, []string, error) {
	checks := map[string]ShopCheck{}
	var problems []string
	for _, shop := range h.live {
		c, err := Verify(ctx, h.pool, h.sim, shop)
		if err != nil {
			return nil, nil, err
		}
		checks[shop] = c
		problems = append(problems, c.Problems()...)
	}
	return checks, problems, nil
}

// waitVerified polls until every installed shop matches the simulator and
// ok (if given) holds, and returns how long that took. A database that is
// restarting counts as not yet verified.
func (h *harness) waitVerified(ctx context.Context, what string, ok func(map[string]ShopCheck) bool) (time.Duration, error) {
	start := time.Now()
	deadline := start.Add(h.opt.StepTimeout)
	var last []string
	for {
		checks, problems, err := h.verifyAll(ctx)
		if err != nil {
			last = []string{err.Error()}
		} else {
			last = problems
			if len(problems) == 0 && (ok == nil || ok(checks)) {
				return time.Since(start), nil
			}
		}
		if time.Now().After(deadline) {
			if len(last) > 8 {
				last = append(last[:8], fmt.Sprintf("... and %d more", len(last)-8))
			}
			return time.Since(start), fmt.Errorf("%s: not verified after %s: %s", what, h.opt.StepTimeout, strings.Join(last, "; "))
		}
		select {
		case <-ctx.Done():
			return time.Since(start), ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// latestScorings is each shop's newest succeeded scoring id.
func (h *harness) latestScorings(ctx context.Context) (map[string]int64, error) {
	rows, err := h.pool.Query(ctx, `SELECT shop, max(id) FROM scorings WHERE state = 'succeeded' GROUP BY shop`)
	if err != nil {
		return nil, fmt.Errorf("latest scorings: %w", err)
	}
	out := map[string]int64{}
	var (
		shop string
		id   int64
	)
	_, err = pgx.ForEachRow(rows, []any{&shop, &id}, func() error { out[shop] = id; return nil })
	return out, err
}

func (h *harness) install(ctx context.Context) error {
	start := time.Now()
	var g errgroup.Group
	for _, shop := range h.shops {
		g.Go(func() error {
			var st struct {
				Installed bool `json:"installed"`
			}
			if err := h.api(ctx, shop, http.MethodGet, "/api/shop", nil, &st); err != nil {
				return err
			}
			if !st.Installed {
				return fmt.Errorf("install %s: not installed", shop)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	h.report.add("shops installed in the same minute", itoa(len(h.shops)), "", "")
	if h.opt.Chaos {
		// Syncs of the whole fleet are under way a moment after install.
		if err := h.waitSyncing(ctx); err != nil {
			return err
		}
		killed := time.Now()
		h.killWorkers()
		_, err := h.waitVerified(ctx, "recovery after workers killed during sync", nil)
		h.report.add("recovery: workers SIGKILLed during sync", dur(time.Since(killed)), "", errString(err))
		if err != nil {
			return err
		}
	} else {
		_, err := h.waitVerified(ctx, "install, sync, score, write-back", nil)
		h.report.add("all shops synced, scored, tagged", dur(time.Since(start)), "", errString(err))
		if err != nil {
			return err
		}
	}
	dup, err := h.duplicatedSyncs(ctx)
	if err != nil {
		return err
	}
	h.report.must("shops scored for their sync more than once (2 workers)", dup)
	if !h.opt.Chaos {
		// A sync is three bulk queries (customers, orders, products); with
		// no fault to repeat one, more means two workers did one job.
		extra := 0
		for _, shop := range h.shops {
			n := 0
			for _, c := range h.sim.CallLog(shop) {
				if strings.Contains(c.Operation, "bulkOperationRunQuery") && c.Executed() {
					n++
				}
			}
			extra += max(0, n-3)
		}
		h.report.must("bulk queries run beyond one sync a shop (2 workers)", extra)
	}
	return nil
}

// waitSyncing waits until some shop's sync has started reading its history.
func (h *harness) waitSyncing(ctx context.Context) error {
	deadline := time.Now().Add(h.opt.StepTimeout)
	for time.Now().Before(deadline) {
		for _, shop := range h.shops {
			for _, c := range h.sim.CallLog(shop) {
				if strings.Contains(c.Operation, "bulkOperationRunQuery") && c.Executed() {
					return nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return errors.New("no sync started")
}

// killWorkers SIGKILLs both workers (whichever holds the job dies) and
// starts them again.
func (h *harness) killWorkers() {
	for _, w := range h.workers {
		w.kill()
	}
	time.Sleep(time.Second)
	for _, w := range h.workers {
		if err := w.start(); err != nil {
			h.log.Error("restart worker", "worker", w.name, "err", err)
		}
	}
}

// duplicatedSyncs counts shops whose first sync ran its bulk queries more
// than once without a fault that explains it: two workers never run one
// shop's sync twice.
func (h *harness) duplicatedSyncs(ctx context.Context) (int, error) {
	var n int
	err := h.pool.QueryRow(ctx, `SELECT count(*) FROM (SELECT shop FROM scorings WHERE reason = 'sync' GROUP BY shop HAVING count(*) > 1) d`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count sync scorings: %w", err)
	}
	return n, nil
}

// liveChanges makes orders, refunds, cancellations and customer changes in
// every shop, each sending its webhooks as Shopify would, and waits until
// the app's data matches.
func (h *harness) liveChanges(ctx context.Context, what string) error {
	start := time.Now()
	sent, err := h.changes(ctx, 6, simulator.WithWebhooks())
	if err != nil {
		return err
	}
	_, err = h.waitVerified(ctx, what, nil)
	h.report.add(what+": "+itoa(sent)+" changes by webhook applied", dur(time.Since(start)), "", errString(err))
	return err
}

// changes makes perShop random changes in every installed shop.
func (h *harness) changes(ctx context.Context, perShop int, opt simulator.ChangeOption) (int, error) {
	var (
		mu sync.Mutex
		n  int
	)
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	for i, shop := range h.live {
		g.Go(func() error {
			m := newMutator(h.sim, shop, int64(i)+time.Now().UnixNano())
			for range perShop {
				if err := m.change(ctx, opt); err != nil {
					return err
				}
			}
			mu.Lock()
			n += perShop
			mu.Unlock()
			return nil
		})
	}
	return n, g.Wait()
}

func (h *harness) rescore(ctx context.Context) error {
	before, err := h.latestScorings(ctx)
	if err != nil {
		return err
	}
	start := time.Now()
	for _, shop := range h.live {
		if err := h.api(ctx, shop, http.MethodPost, "/api/actions/rescore", nil, nil); err != nil {
			return err
		}
	}
	_, err = h.waitVerified(ctx, "rescore", func(map[string]ShopCheck) bool {
		now, err := h.latestScorings(ctx)
		if err != nil {
			return false
		}
		for _, shop := range h.live {
			if now[shop] <= before[shop] {
				return false
			}
		}
		return true
	})
	h.report.add("rescore of every shop, tags follow", dur(time.Since(start)), "", errString(err))
	return err
}

func (h *harness) killDuringWriteback(ctx context.Context) error {
	// A new tag prefix moves every tag of every shop: a long write-back.
	for _, shop := range h.live {
		var s map[string]any
		if err := h.api(ctx, shop, http.MethodGet, "/api/settings", nil, &s); err != nil {
			return err
		}
		s["tag_prefix"] = "cvx-"
		if err := h.api(ctx, shop, http.MethodPut, "/api/settings", s, nil); err != nil {
			return err
		}
	}
	deadline := time.Now().Add(h.opt.StepTimeout)
	started := false
	for !started && time.Now().Before(deadline) {
		for _, shop := range h.live {
			for _, c := range h.sim.Customers(shop) {
				for _, t := range c.Tags {
					if strings.HasPrefix(t, "cvx-") {
						started = true
					}
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !started {
		return errors.New("write-back with the new prefix never started")
	}
	killed := time.Now()
	h.killWorkers()
	_, err := h.waitVerified(ctx, "recovery after workers killed during write-back", nil)
	h.report.add("recovery: workers SIGKILLed during write-back", dur(time.Since(killed)), "", errString(err))
	return err
}

func (h *harness) restartRedis(ctx context.Context) error {
	// Deliveries accepted just before Redis loses its queue must still be
	// applied.
	sent, err := h.changes(ctx, 3, simulator.WithWebhooks())
	if err != nil {
		return err
	}
	restarted := time.Now()
	h.redis.kill()
	if err := h.redis.start(); err != nil {
		return err
	}
	_, err = h.waitVerified(ctx, "recovery after Redis restart", nil)
	h.report.add(fmt.Sprintf("recovery: Redis restarted (%d changes in flight)", sent), dur(time.Since(restarted)), "", errString(err))
	return err
}

func (h *harness) restartPostgres(ctx context.Context) error {
	if h.opt.PGVersion == "" {
		h.report.add("recovery: PostgreSQL restarted", "skipped", "", "no PostgreSQL cluster named")
		return nil
	}
	restarted := time.Now()
	cmd := exec.CommandContext(ctx, "pg_ctlcluster", "--skip-systemctl-redirect", h.opt.PGVersion, "main", "restart")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("restart PostgreSQL: %w: %s", err, out)
	}
	if err := waitHTTP(ctx, h.appURL+"/healthz", h.opt.StepTimeout); err != nil {
		h.report.add("recovery: PostgreSQL restarted", "", "", errString(err))
		return err
	}
	sent, err := h.changes(ctx, 3, simulator.WithWebhooks())
	if err != nil {
		return err
	}
	_, err = h.waitVerified(ctx, "recovery after PostgreSQL restart", nil)
	h.report.add(fmt.Sprintf("recovery: PostgreSQL restarted (then %d changes)", sent), dur(time.Since(restarted)), "", errString(err))
	return err
}

func (h *harness) uninstall(ctx context.Context) error {
	gone := h.live[:2]
	h.live = h.live[2:]
	for _, shop := range gone {
		if _, err := h.sim.Uninstall(ctx, shop); err != nil {
			return err
		}
	}
	start := time.Now()
	var left int
	for time.Since(start) < h.opt.StepTimeout {
		left = 0
		for _, shop := range gone {
			var tokens bool
			err := h.pool.QueryRow(ctx, `SELECT access_token_sealed IS NOT NULL OR uninstalled_at IS NULL FROM shops WHERE shop = $1`, shop).Scan(&tokens)
			if err != nil || tokens {
				left++
			}
		}
		if left == 0 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	h.report.must("uninstalled shops still holding tokens", left)
	for _, shop := range gone {
		h.callsAtUninstall += h.sim.TokenAudit(shop).Requests
	}
	h.gone = gone
	for _, shop := range gone {
		if _, err := h.sim.ShopRedact(ctx, shop); err != nil {
			return err
		}
	}
	var rows map[string]int
	for time.Since(start) < h.opt.StepTimeout {
		rows = map[string]int{}
		for _, shop := range gone {
			r, err := ShopRows(ctx, h.pool, shop)
			if err != nil {
				return err
			}
			for t, n := range r {
				rows[shop+" "+t] += n
			}
		}
		if len(rows) == 0 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	total := 0
	for _, n := range rows {
		total += n
	}
	h.report.must("rows left after shop/redact", total)
	return nil
}

func (h *harness) final(ctx context.Context) error {
	// A debounced rescore may be finishing; give its write-back the time
	// any step gets, then count.
	_, _ = h.waitVerified(ctx, "final", nil)
	checks, problems, err := h.verifyAll(ctx)
	if err != nil {
		return err
	}
	calls := -h.callsAtUninstall
	for _, shop := range h.gone {
		calls += h.sim.TokenAudit(shop).Requests
	}
	h.report.must("API calls to uninstalled shops after uninstall", calls)
	wrong, foreign, scored := 0, 0, 0
	for _, c := range checks {
		wrong += c.WrongTag + c.StrayTag
		foreign += c.ForeignToken
		scored += c.Scored
	}
	h.report.must("customers with a wrong or missing tag at the end", wrong)
	h.report.must("API calls with another shop's token", foreign)
	h.report.must("other problems at the end (data, metafields, segments)", max(0, len(problems)-countTagProblems(checks)))
	h.report.add("customers scored and checked at the end", itoa(scored), "", "")
	return nil
}

func countTagProblems(checks map[string]ShopCheck) int {
	n := 0
	for _, c := range checks {
		if c.WrongTag != 0 {
			n++
		}
		if c.StrayTag != 0 {
			n++
		}
		if c.ForeignToken != 0 {
			n++
		}
	}
	return n
}

// report is the run's table of figures.
type report struct {
	log  *slog.Logger // each figure as it comes, to follow a long run
	mu   sync.Mutex
	rows [][5]string // what, value, target, problem, note
	bad  []string
}

func (r *report) add(what, value, target, problem string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rows = append(r.rows, [5]string{what, value, target, problem, ""})
	r.log.Info("figure", "what", what, "value", value, "problem", problem)
	if problem != "" {
		r.bad = append(r.bad, what+": "+problem)
	}
}

// target records a figure with a target that is reported, not enforced:
// timings depend on the machine and what else runs on it.
func (r *report) target(what, value, target string, met bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	note := ""
	if !met {
		note = "below target"
	}
	r.rows = append(r.rows, [5]string{what, value, target, "", note})
	r.log.Info("figure", "what", what, "value", value, "target", target, "met", met)
}

// must records a figure that has to be zero.
func (r *report) must(what string, n int) {
	problem := ""
	if n != 0 {
		problem = "must be 0"
	}
	r.add(what, itoa(n), "0", problem)
}

func (r *report) fail(problem string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.bad = append(r.bad, problem)
}

func (r *report) failures() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.bad...)
}

func (r *report) print(w io.Writer, mode string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	width := 0
	for _, row := range r.rows {
		width = max(width, len(row[0]))
	}
	fmt.Fprintf(w, "\ncvodev fleet %s\n\n", mode)
	fmt.Fprintf(w, "%-*s  %-14s  %-10s  %s\n", width, "figure", "value", "target", "")
	fmt.Fprintf(w, "%s\n", strings.Repeat("-", width+40))
	for _, row := range r.rows {
		mark := "ok"
		if row[4] != "" {
			mark = row[4]
		}
		if row[3] != "" {
			mark = "FAIL " + row[3]
		}
		fmt.Fprintf(w, "%-*s  %-14s  %-10s  %s\n", width, row[0], row[1], row[2], mark)
	}
}

func dur(d time.Duration) string { return fmt.Sprintf("%.1f s", d.Seconds()) }

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// percentile of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p)
	return sorted[i]
}

func sortDurations(ds []time.Duration) {
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
}
