package activation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/postgres"
	"github.com/cvo-app/cvo/internal/shopify"
)

// Tokens hands out a valid access token for a shop (install.Service
// satisfies it, refreshing expiring tokens).
type Tokens interface {
	AccessToken(ctx context.Context, shop string) (string, error)
}

// Shops tells whether a shop still has the app (postgres.ShopStore
// satisfies it).
type Shops interface {
	Get(ctx context.Context, shop string) (cvo.Shop, error)
}

// Store is what the write-back keeps in PostgreSQL: what it wrote to each
// customer, its set-up, its restart-safe bulk batches, and the per-shop
// lock (postgres.WritebackStore satisfies it).
type Store interface {
	// Lock takes the shop's write-back lock with the job's connection
	// budget; ok is false when another worker holds it.
	Lock(ctx context.Context, shop string) (lock *postgres.ShopLock, ok bool, err error)

	Scan(ctx context.Context, shop string, withMetafields bool, fn func(postgres.Writeback) error) error
	Save(ctx context.Context, shop string, rows []postgres.Writeback) error
	SaveReport(ctx context.Context, shop string, at time.Time, report any) error

	Setup(ctx context.Context, shop string) (postgres.WritebackSetup, error)
	SaveDefinitionsVersion(ctx context.Context, shop string, v int) error
	AddTagPrefix(ctx context.Context, shop, prefix string) error
	Segments(ctx context.Context, shop string) ([]postgres.SegmentRecord, error)
	SaveSegment(ctx context.Context, shop string, rec postgres.SegmentRecord) error

	CreateBulkBatch(ctx context.Context, shop string, b postgres.BulkBatch, lines []postgres.BulkLine) (int64, error)
	AddBulkLines(ctx context.Context, shop string, id int64, lines []postgres.BulkLine) error
	SetBulkStaged(ctx context.Context, shop string, id int64, path string) error
	SetBulkStarted(ctx context.Context, shop string, id int64, operationID string, at time.Time) error
	BulkBatches(ctx context.Context, shop string) ([]postgres.BulkBatch, error)
	DropBulkBatch(ctx context.Context, shop string, id int64) error
	SettleBulkBatch(ctx context.Context, shop string, id int64, failed []int32) error
	BulkLineCustomers(ctx context.Context, shop string, id int64, lines []int32) ([]int64, error)
}

var (
	// ErrUninstalled means the shop removed the app; nothing more is written.
	ErrUninstalled = errors.New("shop uninstalled the app")
	// ErrBusy means another write-back of the shop is running.
	ErrBusy = errors.New("a write-back of this shop is already running")
)

// Config wires a Writer.
type Config struct {
	Store  Store
	Shops  Shops
	Tokens Tokens
	// HTTPClient reaches Shopify (shopify.NewHTTPClient, so the simulator
	// origin applies) and the staged-upload and result URLs.
	HTTPClient *http.Client
	APIVersion string
	Log        *slog.Logger
	// BulkThreshold is the number of changed customers from which a kind
	// of write (tags, metafields) goes through a bulk mutation instead of
	// ordinary mutations; default 200.
	BulkThreshold int
	// MaxAttempts bounds how often a failed write is sent; default 3.
	MaxAttempts int
	// PollMin and PollMax bound the wait between checks of running bulk
	// operations (it doubles from min to max); defaults 500 ms and 15 s.
	PollMin, PollMax time.Duration
	// ClientOptions go to every shopify.AdminClient (tests pass a clock).
	ClientOptions []shopify.AdminOption
	// Waker, shared with the webhook applier, cuts a poll's wait short
	// when a bulk_operations/finish webhook for the shop arrives in this
	// process; nil = polling only.
	Waker *shopify.BulkWaker
	// Sleep waits between polls; nil = a real, context-aware sleep that
	// the Waker cuts short.
	Sleep func(ctx context.Context, d time.Duration) error
	Now   func() time.Time
	// SurveyLinks gives each targeted customer the link of every active
	// survey (metafield $app:cvo.survey_url_{key}); nil writes none.
	SurveyLinks SurveyLinks
}

// SurveyLinks makes the survey link metafields of a shop's customers
// (survey.Linker).
type SurveyLinks interface {
	ForShop(ctx context.Context, shop string, now time.Time) (func(customerID int64, group string) map[string]string, error)
}

// Writer writes scoring results back to Shopify: tags, metafields and
// segments. It is safe for concurrent use; write-backs of one shop are
// serialised by a database lock.
type Writer struct {
	store       Store
	shops       Shops
	tokens      Tokens
	hc          *http.Client
	version     string
	log         *slog.Logger
	threshold   int
	maxAttempts int
	pollMin     time.Duration
	pollMax     time.Duration
	clientOpts  []shopify.AdminOption
	sleep       func(ctx context.Context, d time.Duration) error
	waker       *shopify.BulkWaker
	now         func() time.Time
	surveyLinks SurveyLinks
	// afterStep, set by tests, runs after each step of a bulk batch; an
	// error stops the write-back there, as a worker dying would.
	afterStep func(step string) error
	// fileBytes and linesPerStore bound a bulk variables file and the
	// lines of it held before they are stored (maxUploadBytes and
	// bulkLinesPerStore; tests make them small).
	fileBytes     int64
	linesPerStore int
}

// Steps of a bulk batch after which a worker may die.
const (
	StepBatchStored = "batch-stored" // the batch and its lines are in PostgreSQL
	StepStaged      = "staged"       // stagedUploadsCreate answered
	StepUploaded    = "uploaded"     // the file is uploaded
	StepStarted     = "started"      // bulkOperationRunMutation answered; id not stored yet
	StepIDStored    = "id-stored"    // the operation id is stored
	StepResultRead  = "result-read"  // the result file is read; nothing recorded yet
	StepSettled     = "settled"      // confirmed lines recorded, batch deleted
)

// pause waits d between polls or retries of the shop's bulk work: less
// when a bulk_operations/finish webhook for the shop wakes it.
func (w *Writer) pause(ctx context.Context, shop string, d time.Duration) error {
	if w.sleep != nil {
		return w.sleep(ctx, d)
	}
	return shopify.SleepUntil(ctx, d, w.waker.Woken(shop))
}

func (w *Writer) step(ctx context.Context, name string) error {
	if w.afterStep == nil {
		return ctx.Err()
	}
	return w.afterStep(name)
}

// New returns a Writer.
func New(cfg Config) *Writer {
	w := &Writer{
		fileBytes: maxUploadBytes, linesPerStore: bulkLinesPerStore,
		store: cfg.Store, shops: cfg.Shops, tokens: cfg.Tokens,
		hc: cfg.HTTPClient, version: cfg.APIVersion, log: cfg.Log, threshold: cfg.BulkThreshold,
		maxAttempts: cfg.MaxAttempts, pollMin: cfg.PollMin, pollMax: cfg.PollMax, clientOpts: cfg.ClientOptions,
		sleep: cfg.Sleep, waker: cfg.Waker, now: cfg.Now, surveyLinks: cfg.SurveyLinks,
	}
	if w.hc == nil {
		w.hc = http.DefaultClient
	}
	if w.log == nil {
		w.log = slog.New(slog.DiscardHandler)
	}
	if w.threshold <= 0 {
		w.threshold = 200
	}
	if w.maxAttempts <= 0 {
		w.maxAttempts = 3
	}
	if w.pollMin <= 0 {
		w.pollMin = 500 * time.Millisecond
	}
	if w.pollMax < w.pollMin {
		w.pollMax = max(15*time.Second, w.pollMin)
	}
	if w.now == nil {
		w.now = time.Now
	}
	return w
}

// Report says what a write-back did.
type Report struct {
	Shop string `json:"shop"`
	// Customers is the number of scored customers given.
	Customers int `json:"customers"`
	// TagChanges and MetafieldChanges count the customers whose tags or
	// metafield values needed writing (a survey link to delete counts as
	// a metafield change).
	TagChanges       int `json:"tagChanges"`
	MetafieldChanges int `json:"metafieldChanges"`
	// TagMode and MetafieldMode say how they went out: "none", "calls" or
	// "bulk".
	TagMode       string `json:"tagMode"`
	MetafieldMode string `json:"metafieldMode"`
	// TagsWritten and MetafieldsWritten count the customers whose change
	// went through completely.
	TagsWritten       int `json:"tagsWritten"`
	MetafieldsWritten int `json:"metafieldsWritten"`
	// Failed counts customers with a write still failing after every
	// attempt; the next write-back tries them again.
	Failed int `json:"failed"`
	// Calls counts Admin API requests (each may have been retried inside
	// the client after throttling or a 5xx); CostPoints sums their actual
	// query cost.
	Calls          int     `json:"calls"`
	CostPoints     float64 `json:"costPoints"`
	BulkOperations int     `json:"bulkOperations"`
	UploadedBytes  int64   `json:"uploadedBytes"`
	// ResumedOperations counts bulk operations an earlier write-back
	// started and died before settling, whose results this one read;
	// ResumedLines the lines of them Shopify confirmed.
	ResumedOperations int `json:"resumedOperations,omitempty"`
	ResumedLines      int `json:"resumedLines,omitempty"`
	// SetupError is set when definitions or segments could not be made;
	// tags and metafields were written anyway.
	SetupError string `json:"setupError,omitempty"`
	// PlanDuration is the time spent comparing the scores with what was
	// written; Duration the whole write-back.
	PlanDuration time.Duration `json:"planDuration"`
	Duration     time.Duration `json:"duration"`
}

func (w *Writer) checkInstalled(ctx context.Context, shop string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s, err := w.shops.Get(ctx, shop)
	if cvo.ErrorCode(err) == cvo.ENOTFOUND {
		return fmt.Errorf("write back to %s: %w", shop, ErrUninstalled)
	}
	if err != nil {
		return fmt.Errorf("write back to %s: %w", shop, err)
	}
	if !s.Installed() {
		return fmt.Errorf("write back to %s: %w", shop, ErrUninstalled)
	}
	return nil
}

// lock takes the shop's write-back lock (see postgres.WritebackStore.Lock).
func (w *Writer) lock(ctx context.Context, shop string) (*postgres.ShopLock, error) {
	lock, ok, err := w.store.Lock(ctx, shop)
	if err != nil {
		return nil, fmt.Errorf("write back to %s: %w", shop, err)
	}
	if !ok {
		return nil, fmt.Errorf("write back to %s: %w", shop, ErrBusy)
	}
	return lock, nil
}

// run is one Apply.
type run struct {
	w        *Writer
	lock     *postgres.ShopLock
	api      *api
	shop     string
	plan     plan
	outcomes []outcome
	dirty    []int
	report   *Report
	// bulkFailed holds the customers whose tag or metafield lines failed
	// in the last bulk attempt of their kind; bulkDone says that attempt
	// was settled (else none of its kind counts as written).
	bulkFailed [2]map[int64]bool
	bulkDone   [2]bool
	// planned says the calls' changes are in plan.
	planned bool
}

// Apply makes the shop's customers carry what scores say: exactly one
// group tag each (prefix + group slug; none for disabled groups), the value
// and churn tags the settings ask for, and the score metafields. It sends
// only what differs from what the app wrote before (customer_writeback),
// never touches tags it did not write, and records each write once Shopify
// has confirmed it.
//
// scores must be the shop's whole scored population: customers the app
// wrote to before who are missing lose the app's tags. Apply sorts them
// by customer id. Apply stops with
// ErrUninstalled when the shop removes the app (checked before every batch
// and poll; cancel ctx to stop at once) and returns ErrBusy when another
// write-back of the shop runs. Whatever it stops with, what was confirmed
// is recorded, and the next Apply carries on from there.
func (w *Writer) Apply(ctx context.Context, shop string, s cvo.Settings, scores []Score) (Report, error) {
	start := w.now()
	rep := Report{Shop: shop, Customers: len(scores), TagMode: "none", MetafieldMode: "none"}
	if err := s.Validate(); err != nil {
		return rep, err
	}
	lock, err := w.lock(ctx, shop)
	if err != nil {
		return rep, err
	}
	defer lock.Release()
	if err := w.checkInstalled(ctx, shop); err != nil {
		return rep, err
	}
	a, err := w.connect(ctx, shop)
	if err != nil {
		return rep, err
	}
	r := &run{w: w, lock: lock, api: a, shop: shop, report: &rep}
	err = r.apply(ctx, s, scores)
	rep.Calls, rep.CostPoints = a.Calls(), a.CostPoints()
	rep.Duration = w.now().Sub(start)
	if err != nil {
		if errors.Is(err, ErrUninstalled) {
			w.log.Info("write-back stopped: shop uninstalled", "shop", shop)
		}
		return rep, err
	}
	if serr := w.store.SaveReport(ctx, shop, w.now(), rep); serr != nil {
		w.log.Warn("save write-back report", "shop", shop, "err", serr)
	}
	w.log.Info("write-back done", "shop", shop, "customers", rep.Customers, "tag_changes", rep.TagChanges,
		"metafield_changes", rep.MetafieldChanges, "tag_mode", rep.TagMode, "calls", rep.Calls, "cost", rep.CostPoints,
		"failed", rep.Failed)
	return rep, nil
}

func (r *run) apply(ctx context.Context, s cvo.Settings, scores []Score) error {
	w := r.w
	// The prefix is recorded before any tag goes out, so the webhooks the
	// writes cause are recognised as the app's own.
	if err := w.store.AddTagPrefix(ctx, r.shop, s.TagPrefix); err != nil {
		return err
	}
	if err := w.ensureSetup(ctx, r.api, r.shop, s); err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, ErrUninstalled) {
			return err
		}
		r.report.SetupError = err.Error()
		w.log.Warn("write-back set-up incomplete", "shop", r.shop, "err", err)
	}
	removeStaleBulkFiles(w.log)
	if err := r.resume(ctx); err != nil {
		return err
	}
	planStart := w.now()
	var links func(int64, string) map[string]string
	if w.surveyLinks != nil {
		var err error
		if links, err = w.surveyLinks.ForShop(ctx, r.shop, w.now()); err != nil {
			return err
		}
	}
	pl, err := newPlanner(w.store, r.shop, s, scores, links, w.surveyLinks != nil)
	if err != nil {
		return err
	}
	// A first walk only counts, to choose calls or bulk for each kind of
	// write, and finds the shared survey links to define: nothing of a
	// big write-back is held, neither here nor below.
	shared := map[string]bool{}
	err = pl.walk(ctx, func(c *change) error {
		if c.tagsChange() {
			r.report.TagChanges++
		}
		if c.metafieldsChange() {
			r.report.MetafieldChanges++
		}
		for k := range c.metafields {
			if ns, key := splitKey(k); ns == SharedNamespace {
				shared[key] = true
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	r.report.PlanDuration = w.now().Sub(planStart)
	if err := r.defineSharedLinks(ctx, shared); err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, ErrUninstalled) {
			return err
		}
		// The values can be written without a definition; they are only
		// harder to find in the admin.
		r.report.SetupError = err.Error()
		w.log.Warn("survey link definitions not made", "shop", r.shop, "err", err)
	}
	mode := func(changed int) string {
		switch {
		case changed == 0:
			return "none"
		case changed < w.threshold:
			return "calls"
		}
		return "bulk"
	}
	r.report.TagMode, r.report.MetafieldMode = mode(r.report.TagChanges), mode(r.report.MetafieldChanges)
	defer r.count()
	// Calls go first, from a second walk keeping their few changes: their
	// rows are saved whole, so they must not follow a bulk batch's
	// recording of the same customers.
	if r.report.TagMode == "calls" || r.report.MetafieldMode == "calls" {
		if err := r.applyCalls(ctx, pl); err != nil {
			return errors.Join(err, r.flush(context.WithoutCancel(ctx)))
		}
	}
	if r.report.TagMode == "bulk" || r.report.MetafieldMode == "bulk" {
		if err := r.applyByBulk(ctx, pl, r.report.TagMode == "bulk", r.report.MetafieldMode == "bulk"); err != nil {
			return errors.Join(err, r.flush(context.WithoutCancel(ctx)))
		}
	}
	return r.flush(ctx)
}

// applyCalls sends the kinds of write that go by ordinary calls.
func (r *run) applyCalls(ctx context.Context, pl *planner) error {
	tags, metafields := r.report.TagMode == "calls", r.report.MetafieldMode == "calls"
	var changes []change
	err := pl.walk(ctx, func(c *change) error {
		if !tags {
			c.add, c.remove = nil, nil
		}
		if !metafields {
			c.metafields, c.drop = nil, nil
		}
		if c.tagsChange() || c.metafieldsChange() {
			changes = append(changes, *c)
		}
		return nil
	})
	if err != nil {
		return err
	}
	// The plan and its outcomes are set together: count reads them
	// whatever the write-back stops with.
	r.plan.changes, r.outcomes, r.planned = changes, make([]outcome, len(changes)), true
	var tagOps, mfOps []op
	for i := range r.plan.changes {
		c := &r.plan.changes[i]
		if len(c.remove) > 0 {
			tagOps = append(tagOps, op{change: i, kind: opRemove})
		}
		if len(c.add) > 0 {
			tagOps = append(tagOps, op{change: i, kind: opAdd})
		}
		if len(c.metafields) > 0 {
			mfOps = append(mfOps, op{change: i, kind: opMetafields})
		}
		if len(c.drop) > 0 {
			mfOps = append(mfOps, op{change: i, kind: opDropMetafields})
		}
	}
	return r.applyByCalls(ctx, append(tagOps, mfOps...))
}

// defineSharedLinks creates the merchant-owned definition of each shared
// survey link the write-back writes (keys), so merchants and email apps
// see and filter by it. Once per write-back that writes one (TAKEN means
// it exists).
func (r *run) defineSharedLinks(ctx context.Context, keys map[string]bool) error {
	if len(keys) == 0 {
		return nil
	}
	var specs []metafieldSpec
	for key := range keys {
		specs = append(specs, metafieldSpec{Key: key, Name: "Survey link: " + key, Type: "url",
			Description: "The customer's link to the CVO survey " + key + ", for email apps; written and removed by CVO."})
	}
	slices.SortFunc(specs, func(a, b metafieldSpec) int { return strings.Compare(a.Key, b.Key) })
	if err := r.fence(ctx); err != nil {
		return err
	}
	return defineMetafields(ctx, r.api, r.shop, SharedNamespace, specs)
}

// settle marks the calls Shopify confirmed (okays[i]) and returns the
// ones it did not, to be sent again. The confirmed changes are saved by
// the next flush (bulk batches record theirs themselves).
func (r *run) settle(ops []op, okays []bool) (failed []op) {
	for i, o := range ops {
		if !okays[i] {
			failed = append(failed, o)
			continue
		}
		oc := &r.outcomes[o.change]
		switch o.kind {
		case opRemove:
			oc.removed = true
		case opAdd:
			oc.added = true
		case opMetafields:
			oc.metafields = true
		case opDropMetafields:
			oc.dropped = true
		}
		r.dirty = append(r.dirty, o.change)
	}
	return failed
}

// count fills the report's tallies from the calls' outcomes and the
// bulk lines still failing after the last attempt. A kind whose
// write-back stopped before its calls were planned, or before its bulk
// attempt was settled, counts as unwritten.
func (r *run) count() {
	failed := map[int64]bool{}
	unsettled := 0
	for kind, k := range [...]struct {
		mode    string
		changes int
		written *int
	}{
		tagLines:       {r.report.TagMode, r.report.TagChanges, &r.report.TagsWritten},
		metafieldLines: {r.report.MetafieldMode, r.report.MetafieldChanges, &r.report.MetafieldsWritten},
	} {
		if k.mode == "calls" && !r.planned {
			unsettled = max(unsettled, k.changes)
		}
		if k.mode != "bulk" {
			continue
		}
		if !r.bulkDone[kind] {
			unsettled = max(unsettled, k.changes)
			continue
		}
		*k.written = k.changes - len(r.bulkFailed[kind])
		for id := range r.bulkFailed[kind] {
			failed[id] = true
		}
	}
	for i := range r.plan.changes {
		c, o := &r.plan.changes[i], r.outcomes[i]
		tagsDone := (len(c.add) == 0 || o.added) && (len(c.remove) == 0 || o.removed)
		mfDone := (len(c.metafields) == 0 || o.metafields) && (len(c.drop) == 0 || o.dropped)
		if c.tagsChange() && tagsDone {
			r.report.TagsWritten++
		}
		if c.metafieldsChange() && mfDone {
			r.report.MetafieldsWritten++
		}
		if !tagsDone || !mfDone {
			failed[c.id] = true
		}
	}
	// Customers of an unsettled kind are not known one by one: at least
	// as many as its changes failed.
	r.report.Failed = max(len(failed), unsettled)
}

// fence stops the run when its lock is gone (postgres.ErrLockLost):
// another write-back of the shop may be running, and whatever this one
// sent or recorded next could undo or double that one's. Every step that
// cannot be taken back (an upload, a mutation, recording a result) is
// preceded by it.
func (r *run) fence(ctx context.Context) error {
	if err := r.lock.Check(ctx); err != nil {
		return fmt.Errorf("write back to %s: %w", r.shop, err)
	}
	return nil
}

// check is fence, then whether the shop still has the app.
func (r *run) check(ctx context.Context) error {
	if err := r.fence(ctx); err != nil {
		return err
	}
	return r.w.checkInstalled(ctx, r.shop)
}

// flush saves the write-back rows of the changes with new successes.
func (r *run) flush(ctx context.Context) error {
	if len(r.dirty) == 0 {
		return nil
	}
	if err := r.fence(ctx); err != nil {
		return err
	}
	rows := make([]postgres.Writeback, 0, len(r.dirty))
	for _, i := range r.dirty {
		rows = append(rows, r.plan.changes[i].result(r.outcomes[i]))
	}
	if err := r.w.store.Save(ctx, r.shop, rows); err != nil {
		return err
	}
	r.dirty = r.dirty[:0]
	return nil
}

// OnlyOwnTagsChanged reports whether the tags a customers/update webhook
// shows (after) differ from the tags stored before only by tags the app
// writes, under any prefix the shop has used. The webhook applier calls it
// to keep the app's own write-back from triggering a rescoring.
func (w *Writer) OnlyOwnTagsChanged(ctx context.Context, shop string, before, after []string) (bool, error) {
	setup, err := w.store.Setup(ctx, shop)
	if err != nil {
		return false, err
	}
	prefixes := setup.TagPrefixes
	if len(prefixes) == 0 {
		prefixes = []string{cvo.DefaultSettings().TagPrefix}
	}
	return onlyAppTagsChanged(before, after, prefixes...), nil
}
