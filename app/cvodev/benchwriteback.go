package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cvo-app/cvo/app/internal/wiring"
	"github.com/cvo-app/cvo/internal/activation"
	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/postgres"
	"github.com/cvo-app/cvo/internal/rescore"
	"github.com/cvo-app/cvo/internal/rfm"
	"github.com/cvo-app/cvo/internal/scoring"
	"github.com/cvo-app/cvo/internal/secretbox"
	"github.com/cvo-app/cvo/internal/shopify"
	"github.com/cvo-app/cvo/internal/simulator"
)

// `cvodev bench-writeback` measures the write-back on a generated shop: the
// simulator (in this process, over loopback HTTP) holds N customers that
// already carry their group tags (and, with --metafields, their score
// metafields), customer_writeback says so, and then a fraction of them
// changes group. Each write-back is the worker's own job
// (rescore.Writeback reading a stored scoring) run in a child process, so
// that its peak RSS is the job's alone, the simulator's side of the calls
// apart. It reports the API calls, cost points and time it took to get
// every change into the simulator, against the cost of one mutation per
// changed customer at the plan's restore rate.

const (
	wbBenchShop     = "bench-writeback.myshopify.com"
	wbBenchClientID = "bench-writeback-client"
	wbBenchSecret   = "bench-writeback-secret"
	wbBenchVersion  = "2026-10"
)

// wbJobCommand starts a write-back job process with the given arguments
// (`cvodev bench-writeback-job`); tests point it at their own binary.
var wbJobCommand = func(ctx context.Context, args []string) (*exec.Cmd, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	return exec.CommandContext(ctx, exe, append([]string{"bench-writeback-job"}, args...)...), nil
}

func runBenchWriteback(ctx context.Context, log *slog.Logger, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("bench-writeback", flag.ContinueOnError)
	customers := fs.Int("customers", 1_000_000, "customers in the shop")
	change := fs.Float64("change", 0.1, "share of customers that change group")
	initial := fs.Bool("initial", false, "also measure the first write of every customer's tag (otherwise it is seeded)")
	metafields := fs.Bool("metafields", true, "write the score metafields too, as a shop does by default")
	threshold := fs.Int("threshold", 200, "changed customers from which bulk mutations are used")
	plan := fs.String("plan", "standard", "shop plan: standard (100 points/s), advanced, plus, enterprise")
	dbName := fs.String("database", "cvo_bench_writeback", "database to (re)create on the server of DATABASE_URL")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *customers < 1 || *change < 0 || *change > 1 {
		return fmt.Errorf("bench-writeback: need --customers >= 1 and 0 <= --change <= 1")
	}
	cfg, err := wiring.LoadConfig(toolCredentials)
	if err != nil {
		return err
	}
	db, err := wbBenchDatabase(ctx, cfg.DatabaseURL, *dbName)
	if err != nil {
		return err
	}
	defer db.Close()

	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }))
	defer app.Close()
	var sim *simulator.Simulator
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { sim.Handler().ServeHTTP(w, r) }))
	defer srv.Close()
	bulkDir, err := os.MkdirTemp("", "cvo-bench-writeback-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(bulkDir)
	sim = simulator.New(simulator.Config{
		ClientID: wbBenchClientID, ClientSecret: wbBenchSecret, AppURL: app.URL, PublicURL: srv.URL,
		APIVersion: wbBenchVersion, BulkDir: bulkDir, Logger: log.With("component", "simulator"),
	})
	defer sim.Close()
	if err := sim.AddShop(wbBenchShop, simulator.ShopOptions{Installed: true, Plan: simulator.Plan(*plan)}); err != nil {
		return err
	}

	// Every customer starts in a group; a fraction then moves to the next.
	groups := rfm.Groups()
	groupOf := func(i int) rfm.Group { return groups[(i*7+i/11)%len(groups)] }
	moved := func(i int) bool { return float64((i*2654435761)%1_000_000)/1_000_000 < *change }
	settings := cvo.DefaultSettings()
	settings.Metafields, settings.Segments = *metafields, false

	start := time.Now()
	ids, err := wbBenchCustomers(sim, *customers, func(i int) []string {
		tags := []string{}
		if i%3 == 0 {
			tags = append(tags, "vip")
		}
		if !*initial {
			tags = append(tags, activation.GroupTag(settings.TagPrefix, groupOf(i)))
		}
		return tags
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "shop: %d customers loaded into the simulator in %s\n", len(ids), time.Since(start).Round(time.Millisecond))

	hc, err := shopify.NewHTTPClient(srv.URL, 5*time.Minute)
	if err != nil {
		return err
	}
	st, err := sim.SessionToken(wbBenchShop, 1)
	if err != nil {
		return err
	}
	tok, err := shopify.NewOAuth(wbBenchClientID, wbBenchSecret, hc).ExchangeSessionToken(ctx, wbBenchShop, st)
	if err != nil {
		return err
	}
	keys, err := secretbox.ParseKeyring(cfg.EncryptionKey)
	if err != nil {
		return err
	}
	if err := postgres.NewShopStore(db, keys).SaveInstall(ctx, wbBenchShop, tok); err != nil {
		return err
	}
	if err := postgres.NewSettingsStore(db).Save(ctx, wbBenchShop, settings); err != nil {
		return err
	}
	job := wbJob{Database: *dbName, APIURL: srv.URL, Token: tok.AccessToken, Threshold: *threshold}

	scores := make([]cvo.CustomerScore, len(ids))
	for i, id := range ids {
		scores[i] = wbBenchScore(id, i, groupOf(i))
	}
	scorings := postgres.NewScoringStore(db)
	if *initial {
		if err := wbBenchScoring(ctx, scorings, scores); err != nil {
			return err
		}
		res, err := job.run(ctx)
		if err != nil {
			return err
		}
		wbBenchPrint(out, "first write", res.Report, sim, *plan)
		res.print(out)
	} else {
		start = time.Now()
		if err := wbBenchSeed(ctx, postgres.NewWritebackStore(db), settings, scores); err != nil {
			return err
		}
		fmt.Fprintf(out, "seed: customer_writeback filled in %s\n", time.Since(start).Round(time.Millisecond))
	}

	changed := 0
	for i := range scores {
		if moved(i) {
			scores[i].Group = groups[(int(groupOf(i)) % len(groups))].Slug() // the next group in the list
			changed++
		}
	}
	if err := wbBenchScoring(ctx, scorings, scores); err != nil {
		return err
	}
	sim.ResetCallLog(wbBenchShop)
	res, err := job.run(ctx)
	if err != nil {
		return err
	}
	wbBenchPrint(out, fmt.Sprintf("%.0f%% change", *change*100), res.Report, sim, *plan)
	res.print(out)

	// A seeded shop's customers carry only their tags in the simulator:
	// only the moved ones had metafields written.
	wrong := wbBenchWrong(sim, ids, scores, settings, func(i int) bool { return *initial || moved(i) })
	fmt.Fprintf(out, "check: %d of %d customers carry exactly their group tag%s and kept their own tags (%d changed)\n",
		len(ids)-wrong, len(ids), map[bool]string{true: " and score metafields", false: ""}[*metafields], changed)
	if wrong > 0 {
		return fmt.Errorf("bench-writeback: %d customers are wrong", wrong)
	}
	return nil
}

// wbBenchScore is a plausible score for customer i, spread so that every
// metafield has values of its usual length.
func wbBenchScore(id int64, i int, g rfm.Group) cvo.CustomerScore {
	f := float64(i%997) / 997
	return cvo.CustomerScore{
		CustomerID: strconv.FormatInt(id, 10), Group: g.Slug(), R: 1 + i%5, F: 1 + i/5%5, M: 1 + i/25%5,
		Orders: 1 + i%7, Revenue: 40 + 900*f, HistoricalCLV: 12 + 300*f, PredictedCLV: 3 + 250*(1-f),
		PAlive: 0.05 + 0.9*f, POrderWindow: 0.02 + 0.6*f, ChurnRisk: []string{"low", "medium", "high"}[i%3],
		ExpectedOrders: 2 * f, NextOrderAt: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i%365),
	}
}

// wbBenchScoring stores scores as the shop's newest scoring, as a rescore
// does.
func wbBenchScoring(ctx context.Context, scorings *postgres.ScoringStore, scores []cvo.CustomerScore) error {
	id, err := scorings.Begin(ctx, wbBenchShop, "bench", time.Now())
	if err != nil {
		return err
	}
	return scorings.Finish(ctx, wbBenchShop, id, scores, &scoring.Aggregates{})
}

// wbJob is one write-back job run in its own process.
type wbJob struct {
	Database  string `json:"database"`
	APIURL    string `json:"apiURL"`
	Token     string `json:"token"`
	Threshold int    `json:"threshold"`
}

// wbJobResult is what the job process reports.
type wbJobResult struct {
	Report   activation.Report `json:"report"`
	Seconds  float64           `json:"seconds"`
	PeakRSS  int64             `json:"peakRSS"`
	RSSAfter int64             `json:"rssAfter"`
	LivePeak uint64            `json:"livePeak"`
	Before   int64             `json:"rssBefore"`
}

func (j wbJob) run(ctx context.Context) (wbJobResult, error) {
	var res wbJobResult
	spec, err := json.Marshal(j)
	if err != nil {
		return res, err
	}
	cmd, err := wbJobCommand(ctx, []string{string(spec)})
	if err != nil {
		return res, err
	}
	var stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return res, fmt.Errorf("write-back job process: %w", err)
	}
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		return res, fmt.Errorf("write-back job process answered %q: %w", stdout.String(), err)
	}
	return res, nil
}

func (r wbJobResult) print(out io.Writer) {
	fmt.Fprintf(out, "  job process: %.1fs; peak RSS %.0f MiB (%.0f MiB before the job), live Go heap at most %.0f MiB, RSS %.0f MiB once it ended\n",
		r.Seconds, mb(r.PeakRSS), mb(r.Before), mb(int64(r.LivePeak)), mb(r.RSSAfter))
}

// runWritebackJob is the child side of wbJob.run: the worker's write-back
// job for the bench shop, its result as JSON on out.
func runWritebackJob(ctx context.Context, log *slog.Logger, args []string, out io.Writer) error {
	if len(args) != 1 {
		return errors.New("bench-writeback-job: want one JSON argument")
	}
	var j wbJob
	if err := json.Unmarshal([]byte(args[0]), &j); err != nil {
		return fmt.Errorf("bench-writeback-job: %w", err)
	}
	db, shops, _, err := openBenchShops(ctx, j.Database, 1)
	if err != nil {
		return err
	}
	defer db.Close()
	hc, err := shopify.NewHTTPClient(j.APIURL, 5*time.Minute)
	if err != nil {
		return err
	}
	w := &wbReporting{Writer: activation.New(activation.Config{
		Store: postgres.NewWritebackStore(db), Shops: shops, Tokens: wbStaticToken(j.Token),
		HTTPClient: hc, APIVersion: wbBenchVersion, Log: log, BulkThreshold: j.Threshold,
		PollMin: 100 * time.Millisecond, PollMax: 2 * time.Second,
	})}
	job := rescore.NewWriteback(postgres.NewScoringStore(db), postgres.NewSettingsStore(db), w, nil, log)
	res := wbJobResult{Before: currentRSS()}
	sampleCtx, stop := context.WithCancel(ctx)
	peak := &memPeak{}
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		peak.sample(sampleCtx, 20*time.Millisecond)
	}()
	start := time.Now()
	err = job.Write(ctx, wbBenchShop)
	res.Seconds = time.Since(start).Seconds()
	stop()
	<-sampled
	if err != nil {
		return err
	}
	res.Report, res.PeakRSS, res.RSSAfter, res.LivePeak = w.report, peakRSSSinceExec(), currentRSS(), peak.live
	return json.NewEncoder(out).Encode(res)
}

// wbReporting keeps the report of the write-back it passes on.
type wbReporting struct {
	*activation.Writer
	report activation.Report
}

func (w *wbReporting) Apply(ctx context.Context, shop string, s cvo.Settings, scores []activation.Score) (activation.Report, error) {
	rep, err := w.Writer.Apply(ctx, shop, s, scores)
	w.report = rep
	return rep, err
}

type wbStaticToken string

func (t wbStaticToken) AccessToken(context.Context, string) (string, error) { return string(t), nil }

// wbBenchSeed records in the write-back store that every customer already
// carries what its score asks for, as after an earlier write-back.
func wbBenchSeed(ctx context.Context, store *postgres.WritebackStore, s cvo.Settings, scores []cvo.CustomerScore) error {
	const chunk = 100_000
	tiers := activation.ValueTiers(scores)
	for lo := 0; lo < len(scores); lo += chunk {
		rows := make([]postgres.Writeback, 0, chunk)
		for i := lo; i < min(lo+chunk, len(scores)); i++ {
			sc, err := activation.NewScore(scores[i])
			if err != nil {
				return err
			}
			row := postgres.Writeback{CustomerID: sc.CustomerID, Tags: activation.DesiredTags(s, sc.Group(), tiers[i], sc.ChurnRisk())}
			if s.Metafields {
				row.Metafields = activation.DesiredMetafields(sc)
			}
			rows = append(rows, row)
		}
		if err := store.Save(ctx, wbBenchShop, rows); err != nil {
			return err
		}
	}
	return nil
}

// wbBenchWrong counts the customers that do not carry exactly their group's
// tag (and, when the settings write them and the app wrote to the customer
// in the simulator, written(i), its group metafield), or lost their own
// "vip" tag.
func wbBenchWrong(sim *simulator.Simulator, ids []int64, scores []cvo.CustomerScore, s cvo.Settings, written func(i int) bool) int {
	wrong := 0
	for i, id := range ids {
		c, _ := sim.GetCustomer(wbBenchShop, id)
		n := 0
		for _, t := range c.Tags {
			if activation.IsAppTag(t, s.TagPrefix) {
				n++
				if t != s.TagPrefix+scores[i].Group {
					n = 99
				}
			}
		}
		if n != 1 || (i%3 == 0 && c.Tags[0] != "vip") {
			wrong++
			continue
		}
		if s.Metafields && written(i) && !slices.ContainsFunc(sim.CustomerMetafields(wbBenchShop, id), func(m simulator.Metafield) bool {
			return m.Key == "group" && strings.HasSuffix(m.Namespace, "--cvo") && m.Value == scores[i].Group
		}) {
			wrong++
		}
	}
	return wrong
}

func wbBenchPrint(out io.Writer, label string, rep activation.Report, sim *simulator.Simulator, plan string) {
	rate := map[string]float64{"advanced": 200, "plus": 1000, "enterprise": 2000}[plan]
	if rate == 0 {
		rate = 100
	}
	executed, throttled := 0, 0
	for _, c := range sim.CallLog(wbBenchShop) {
		if c.Executed() {
			executed++
		}
		if c.Throttled {
			throttled++
		}
	}
	fmt.Fprintf(out, "%s: %d of %d customers changed tags, mode %s: %d API calls (%d HTTP requests, %d throttled), %.0f cost points, "+
		"%d bulk operations, %.2f MB uploaded, %d failed; every change in the simulator after %s (diff against customer_writeback: %s)\n",
		label, rep.TagChanges, rep.Customers, rep.TagMode, rep.Calls, executed, throttled, rep.CostPoints,
		rep.BulkOperations, float64(rep.UploadedBytes)/1e6, rep.Failed, rep.Duration.Round(time.Millisecond),
		rep.PlanDuration.Round(time.Millisecond))
	per := float64(rep.TagChanges)
	fmt.Fprintf(out, "  vs one mutation per customer: %.0f calls, %.0f points = %s at %.0f points/s (tagsRemove + tagsAdd: %.0f calls, %s)\n",
		per, per*10, (time.Duration(per*10/rate) * time.Second).String(), rate, 2*per, (time.Duration(2*per*10/rate) * time.Second).String())
}

// wbBenchCustomers loads n customers into the simulator in batches.
func wbBenchCustomers(sim *simulator.Simulator, n int, tags func(i int) []string) ([]int64, error) {
	ids := make([]int64, 0, n)
	const batch = 100_000
	created := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for lo := 0; lo < n; lo += batch {
		cs := make([]simulator.Customer, 0, batch)
		for i := lo; i < min(lo+batch, n); i++ {
			cs = append(cs, simulator.Customer{Email: "c" + strconv.Itoa(i) + "@bench.example", Tags: tags(i), CreatedAt: created})
		}
		if err := sim.AddCustomers(wbBenchShop, cs); err != nil {
			return nil, err
		}
		for _, c := range cs {
			ids = append(ids, c.ID)
		}
	}
	return ids, nil
}

// wbBenchDatabase drops and creates the database name on the server of
// base, migrates it and opens it.
func wbBenchDatabase(ctx context.Context, base, name string) (*postgres.DB, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	maint := *u
	maint.Path = "/postgres"
	admin, err := pgx.Connect(ctx, maint.String())
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", u.Host, err)
	}
	ident := pgx.Identifier{name}.Sanitize()
	_, err = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)")
	if err == nil {
		_, err = admin.Exec(ctx, "CREATE DATABASE "+ident)
	}
	admin.Close(ctx)
	if err != nil {
		return nil, fmt.Errorf("recreate database %s: %w", name, err)
	}
	u.Path = "/" + name
	db, err := postgres.Open(ctx, u.String())
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// liveHeap is the heap the collector found live at its last mark.
func liveHeap() uint64 {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(sample)
	if sample[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return sample[0].Value.Uint64()
}
