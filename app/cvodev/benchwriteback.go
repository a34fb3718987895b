package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"time"
	"unsafe"

	"github.com/jackc/pgx/v5"

	"github.com/cvo-app/cvo/app/internal/wiring"
	"github.com/cvo-app/cvo/internal/activation"
	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/postgres"
	"github.com/cvo-app/cvo/internal/rfm"
	"github.com/cvo-app/cvo/internal/secretbox"
	"github.com/cvo-app/cvo/internal/shopify"
	"github.com/cvo-app/cvo/internal/simulator"
)

// `cvodev bench-writeback` measures the write-back on a generated shop: the
// simulator (in process, over loopback HTTP) holds N customers that already
// carry their group tags, customer_writeback says so, and then a fraction
// of them changes group. It reports the API calls, cost points and time it
// took to get every change into the simulator, against the cost of one
// mutation per changed customer at the plan's restore rate.

const (
	wbBenchShop     = "bench-writeback.myshopify.com"
	wbBenchClientID = "bench-writeback-client"
	wbBenchSecret   = "bench-writeback-secret"
	wbBenchVersion  = "2026-10"
)

func runBenchWriteback(ctx context.Context, log *slog.Logger, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("bench-writeback", flag.ContinueOnError)
	customers := fs.Int("customers", 1_000_000, "customers in the shop")
	change := fs.Float64("change", 0.1, "share of customers that change group")
	initial := fs.Bool("initial", false, "also measure the first write of every customer's tag (otherwise it is seeded)")
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
	settings.Metafields, settings.Segments = false, false

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
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	keys, err := secretbox.ParseKeyring("v1:" + base64.StdEncoding.EncodeToString(key))
	if err != nil {
		return err
	}
	shops := postgres.NewShopStore(db, keys)
	if err := shops.SaveInstall(ctx, wbBenchShop, tok); err != nil {
		return err
	}
	w := activation.New(activation.Config{
		Store: postgres.NewWritebackStore(db), Shops: shops, Tokens: wbStaticToken(tok.AccessToken), HTTPClient: hc, APIVersion: wbBenchVersion,
		Log: log, BulkThreshold: *threshold, PollMin: 100 * time.Millisecond, PollMax: 2 * time.Second,
	})

	scores := make([]cvo.CustomerScore, len(ids))
	for i, id := range ids {
		scores[i] = cvo.CustomerScore{CustomerID: strconv.FormatInt(id, 10), Group: groupOf(i).Slug(), R: 3, F: 3, M: 3}
	}
	if *initial {
		var rep activation.Report
		mem := wbMeasure(func() { rep, err = w.Apply(ctx, wbBenchShop, settings, scores) })
		if err != nil {
			return err
		}
		wbBenchPrint(out, "first write", rep, sim, *plan)
		mem.print(out, len(scores))
	} else {
		start = time.Now()
		if err := wbBenchSeed(ctx, postgres.NewWritebackStore(db), ids, func(i int) string {
			return activation.GroupTag(settings.TagPrefix, groupOf(i))
		}); err != nil {
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
	sim.ResetCallLog(wbBenchShop)
	var rep activation.Report
	mem := wbMeasure(func() { rep, err = w.Apply(ctx, wbBenchShop, settings, scores) })
	if err != nil {
		return err
	}
	wbBenchPrint(out, fmt.Sprintf("%.0f%% change", *change*100), rep, sim, *plan)
	mem.print(out, len(scores))

	wrong := wbBenchWrong(sim, ids, scores, settings.TagPrefix)
	fmt.Fprintf(out, "check: %d of %d customers carry exactly their group tag and kept their own tags (%d changed)\n",
		len(ids)-wrong, len(ids), changed)
	if wrong > 0 {
		return fmt.Errorf("bench-writeback: %d customers are wrong", wrong)
	}
	return nil
}

type wbStaticToken string

func (t wbStaticToken) AccessToken(context.Context, string) (string, error) { return string(t), nil }

// wbBenchSeed records in the write-back store that every customer already
// carries its group tag (tagOf), as after an earlier write-back.
func wbBenchSeed(ctx context.Context, store *postgres.WritebackStore, ids []int64, tagOf func(i int) string) error {
	const chunk = 100_000
	for lo := 0; lo < len(ids); lo += chunk {
		rows := make([]postgres.Writeback, 0, chunk)
		for i := lo; i < min(lo+chunk, len(ids)); i++ {
			rows = append(rows, postgres.Writeback{CustomerID: ids[i], Tags: []string{tagOf(i)}})
		}
		if err := store.Save(ctx, wbBenchShop, rows); err != nil {
			return err
		}
	}
	return nil
}

// wbBenchWrong counts the customers that do not carry exactly their group's
// tag, or lost their own "vip" tag.
func wbBenchWrong(sim *simulator.Simulator, ids []int64, scores []cvo.CustomerScore, prefix string) int {
	wrong := 0
	for i, id := range ids {
		c, _ := sim.GetCustomer(wbBenchShop, id)
		n := 0
		for _, t := range c.Tags {
			if activation.IsAppTag(t, prefix) {
				n++
				if t != prefix+scores[i].Group {
					n = 99
				}
			}
		}
		if n != 1 || (i%3 == 0 && c.Tags[0] != "vip") {
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

// wbMemory is the Go heap around one write-back.
type wbMemory struct {
	before, peak, after uint64 // live heap, as the collector last marked it
	peakInuse           uint64 // heap in use, garbage not yet swept included
	rssAfter            int64
}

// wbMeasure runs a write-back with the Go heap sampled. The simulator runs
// in this process, so the peak over the heap before the job includes the
// simulator's side of the job's calls: it is an upper bound of the job's.
func wbMeasure(apply func()) wbMemory {
	runtime.GC()
	m := wbMemory{before: liveHeap()}
	ctx, cancel := context.WithCancel(context.Background())
	peak := &memPeak{}
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		peak.sample(ctx, 20*time.Millisecond)
	}()
	apply()
	cancel()
	<-sampled
	m.peak, m.peakInuse = peak.live, peak.heapInuse
	// The worker's write-back job returns a big shop's memory so.
	debug.FreeOSMemory()
	m.after, m.rssAfter = liveHeap(), currentRSS()
	return m
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

func (m wbMemory) print(out io.Writer, customers int) {
	// The job in the worker also holds the scores it reads, which the
	// benchmark built before it: their share is counted here.
	scores := int64(customers) * (int64(unsafe.Sizeof(cvo.CustomerScore{})) + 16)
	fmt.Fprintf(out, "  memory: the job's live Go heap %.0f MiB at its peak (%.0f MiB of its scores + %.0f MiB over the %.0f MiB before it, "+
		"the simulator's side of its calls included; heap in use with garbage up to %.0f MiB); %.0f MiB live and %.0f MiB RSS in the process after it\n",
		mb(scores+int64(m.peak-min(m.before, m.peak))), mb(scores), mb(int64(m.peak-min(m.before, m.peak))), mb(int64(m.before)),
		mb(int64(m.peakInuse)), mb(int64(m.after)), mb(m.rssAfter))
}
