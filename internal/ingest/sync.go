package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/cvo-app/cvo/internal/postgres"
	"github.com/cvo-app/cvo/internal/shopify"
)

// Tokens hands out a valid access token for a shop (install.Service
// satisfies it, refreshing expiring tokens).
type Tokens interface {
	AccessToken(ctx context.Context, shop string) (string, error)
}

// SyncStore is where a sync keeps its state and stages its rows
// (postgres.SyncStore satisfies it). Lock takes the shop's sync lock with
// the sync's whole connection budget; ok is false when another worker
// holds it.
type SyncStore interface {
	Lock(ctx context.Context, shop string) (lock *postgres.ShopLock, ok bool, err error)
	Get(ctx context.Context, shop string) (postgres.SyncState, bool, error)
	Save(ctx context.Context, st postgres.SyncState) error
	Progress(ctx context.Context, shop string, run, rowsDone int64) error
	NewRunID(ctx context.Context) (int64, error)
	Stage(shop string, run int64, r postgres.Resource) *postgres.Stage
	Merge(ctx context.Context, stage *postgres.Stage, st postgres.SyncState) (int64, error)
	DropRunStages(ctx context.Context, shop string, run int64) error
}

// DeliveryCounts counts a shop's unapplied webhook deliveries
// (postgres.DeliveryStore satisfies it); the sync status shows them.
type DeliveryCounts interface {
	Counts(ctx context.Context, shop string) (postgres.DeliveryCounts, error)
}

// ErrSyncRunning means another worker is syncing the shop right now.
var ErrSyncRunning = errors.New("a sync of this shop is already running")

// errPermanent marks failures that retrying the same run cannot fix (a
// malformed export, an operation Shopify keeps failing): the run is
// marked failed and the next sync starts afresh.
var errPermanent = errors.New("sync cannot continue")

// reconcileOverlap is how far before the last good run a reconciliation
// starts looking, to cover clock skew and changes racing the run's start.
const reconcileOverlap = time.Hour

// maxOperationAttempts bounds how often a failed bulk operation is rerun.
const maxOperationAttempts = 3

// SyncerConfig wires a Syncer.
type SyncerConfig struct {
	Store      SyncStore
	Deliveries DeliveryCounts
	Tokens     Tokens
	// HTTPClient reaches Shopify (shopify.NewHTTPClient, so the simulator
	// origin applies). Result downloads use its transport without its
	// overall timeout, since a large file streams for a long time.
	HTTPClient *http.Client
	APIVersion string
	Waker      *shopify.BulkWaker // nil = polling only
	Log        *slog.Logger
	// PollMin and PollMax bound the wait between status checks of running
	// bulk operations (backoff doubles from min to max); defaults 1 s, 30 s.
	PollMin, PollMax time.Duration
}

// Syncer imports shops' history through bulk operations and keeps it
// current with daily reconciliations. It satisfies jobs.Syncer.
type Syncer struct {
	state         SyncStore
	deliveries    DeliveryCounts
	tokens        Tokens
	hc, dl        *http.Client
	version       string
	waker         *shopify.BulkWaker
	log           *slog.Logger
	now           func() time.Time
	pollMin       time.Duration
	pollMax       time.Duration
	maxConcurrent int

	// streamHook, set by tests, sees each object of an import before it
	// is parsed and can stop the import by returning an error.
	streamHook func(r postgres.Resource, objects int64) error
}

// NewSyncer returns a syncer.
func NewSyncer(cfg SyncerConfig) *Syncer {
	s := &Syncer{
		state:   cfg.Store,
		tokens:  cfg.Tokens,
		hc:      cfg.HTTPClient,
		version: cfg.APIVersion,
		waker:   cfg.Waker,
		log:     cfg.Log,
		now:     time.Now,
		pollMin: cfg.PollMin,
		pollMax: cfg.PollMax,
	}
	// The page's sync status counts unapplied webhook deliveries too.
	s.deliveries = cfg.Deliveries
	if s.hc == nil {
		s.hc = http.DefaultClient
	}
	s.dl = &http.Client{Transport: s.hc.Transport}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.pollMin <= 0 {
		s.pollMin = time.Second
	}
	if s.pollMax < s.pollMin {
		s.pollMax = max(30*time.Second, s.pollMin)
	}
	// From API 2026-01 a shop runs up to five bulk queries at once; before,
	// one at a time.
	s.maxConcurrent = 1
	if s.version >= "2026-01" {
		s.maxConcurrent = 5
	}
	return s
}

// SyncShop imports the shop's whole history: customers, orders (with line
// items and refunds) and the product catalogue, each through a bulk query
// operation whose JSONL result is streamed into a staging table and merged
// into the real tables. A run interrupted at any point (the worker killed,
// the network gone) is resumed by the next call from where its state says
// it stood, and ends in exactly the state a clean run reaches.
func (s *Syncer) SyncShop(ctx context.Context, shop string) error {
	return s.sync(ctx, shop, postgres.ModeFull)
}

// ReconcileShop fetches what changed since the last good run (orders and
// customers updated after it; the small catalogue whole), to catch
// webhooks that never arrived. A shop that never synced gets a full sync.
func (s *Syncer) ReconcileShop(ctx context.Context, shop string) error {
	return s.sync(ctx, shop, postgres.ModeReconcile)
}

func (s *Syncer) sync(ctx context.Context, shop, mode string) error {
	lock, ok, err := s.state.Lock(ctx, shop)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("sync %s: %w", shop, ErrSyncRunning)
	}
	defer lock.Release()

	st, _, err := s.state.Get(ctx, shop)
	if err != nil {
		return err
	}
	inFlight := st.Phase == postgres.PhaseExporting || st.Phase == postgres.PhaseImporting
	// A full sync supersedes an unfinished reconciliation; anything else
	// in flight is resumed.
	if !inFlight || (mode == postgres.ModeFull && st.Mode != postgres.ModeFull) {
		if mode == postgres.ModeReconcile && st.LastSuccessAt.IsZero() {
			mode = postgres.ModeFull
		}
		if st, err = s.newRun(ctx, st, mode); err != nil {
			return err
		}
	} else {
		s.log.Info("sync resumed", "shop", shop, "run", st.RunID, "mode", st.Mode, "phase", st.Phase)
	}

	err = s.run(ctx, lock, &st)
	if err == nil {
		return nil
	}
	if errors.Is(err, postgres.ErrLockLost) {
		// The shop's state may be another worker's now: nothing is saved.
		s.log.Warn("sync stopped: lock lost", "shop", shop, "run", st.RunID, "phase", st.Phase)
		return err
	}
	// Record the failure even when ctx is done (the worker stopping).
	saveCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	st.LastError = err.Error()
	if errors.Is(err, errPermanent) {
		st.Phase = postgres.PhaseFailed
		st.FinishedAt = s.now()
	}
	if serr := s.state.Save(saveCtx, st); serr != nil {
		s.log.Error("save sync failure", "shop", shop, "err", serr)
	}
	if errors.Is(err, errPermanent) {
		if derr := s.state.DropRunStages(saveCtx, shop, st.RunID); derr != nil {
			s.log.Error("drop staging tables", "shop", shop, "err", derr)
		}
	}
	s.log.Warn("sync stopped", "shop", shop, "run", st.RunID, "phase", st.Phase, "err", err)
	return err
}

func (s *Syncer) newRun(ctx context.Context, prev postgres.SyncState, mode string) (postgres.SyncState, error) {
	run, err := s.state.NewRunID(ctx)
	if err != nil {
		return prev, err
	}
	if prev.RunID != 0 {
		if err := s.state.DropRunStages(ctx, prev.Shop, prev.RunID); err != nil {
			return prev, err
		}
	}
	st := postgres.SyncState{
		Shop: prev.Shop, RunID: run, Mode: mode, Phase: postgres.PhaseExporting,
		Operations: map[postgres.Resource]*postgres.BulkOp{}, StartedAt: s.now(), LastSuccessAt: prev.LastSuccessAt,
	}
	if mode == postgres.ModeReconcile {
		st.Since = prev.LastSuccessAt.Add(-reconcileOverlap)
	}
	if err := s.state.Save(ctx, st); err != nil {
		return prev, err
	}
	s.log.Info("sync started", "shop", st.Shop, "run", run, "mode", mode)
	return st, nil
}

// run drives one run to its end: it starts the bulk operations still
// missing, polls the running ones, imports each as it completes, and
// reruns those that failed or whose result expired.
func (s *Syncer) run(ctx context.Context, lock *postgres.ShopLock, st *postgres.SyncState) error {
	bc := &shopAPI{
		lock:  lock,
		gql:   shopify.NewAdmin(st.Shop, s.version, s.hc, s.tokens),
		files: shopify.Storage{HTTP: s.dl, Shop: st.Shop, Log: s.log, Backoff: s.downloadBackoff(st.Shop)},
	}
	poll := s.pollMin
	for {
		// A run can outlast an access token (one hour when expiring), so
		// the token is fetched anew each round (and again whenever Shopify
		// rejects it). The connection serves this goroutine only.
		if err := bc.gql.Refresh(ctx); err != nil {
			return fmt.Errorf("sync %s: %w", st.Shop, err)
		}

		progressed, err := s.startOperations(ctx, bc, st)
		if err != nil {
			return err
		}
		done := true
		for _, r := range postgres.Resources {
			op := st.Operations[r]
			if op != nil && op.Imported {
				continue
			}
			done = false
			if op == nil || op.ID == "" {
				continue
			}
			moved, err := s.advance(ctx, bc, st, r)
			if err != nil {
				return err
			}
			progressed = progressed || moved
		}
		if err := bc.fence(ctx, st.Shop); err != nil {
			return err
		}
		if done {
			return s.finish(ctx, st)
		}
		if err := s.state.Save(ctx, *st); err != nil {
			return err
		}
		if progressed {
			poll = s.pollMin
			continue
		}
		if err := s.wait(ctx, st.Shop, poll); err != nil {
			return fmt.Errorf("sync %s: %w", st.Shop, err)
		}
		poll = min(2*poll, s.pollMax)
	}
}

// shopAPI is one run's access to the shop: its sync lock, the Admin API
// for the bulk operations, the storage for their result files.
type shopAPI struct {
	lock  *postgres.ShopLock
	gql   *shopify.Admin
	files shopify.Storage
}

// fence stops the run when its lock is gone (postgres.ErrLockLost): another
// worker may be syncing the shop, and a second set of bulk operations or
// a merge of stale rows over its newer ones must not follow. It precedes
// every bulk operation started and every merge.
func (bc *shopAPI) fence(ctx context.Context, shop string) error {
	if err := bc.lock.Check(ctx); err != nil {
		return fmt.Errorf("sync %s: %w", shop, err)
	}
	return nil
}

// startOperations starts the bulk operation of every resource that has
// none yet, within the shop's concurrency limit.
func (s *Syncer) startOperations(ctx context.Context, bc *shopAPI, st *postgres.SyncState) (bool, error) {
	running := 0
	for _, op := range st.Operations {
		if op.ID != "" && !op.Imported {
			running++
		}
	}
	started := false
	for _, r := range postgres.Resources {
		op := st.Operations[r]
		if op != nil && (op.ID != "" || op.Imported) {
			continue
		}
		if running >= s.maxConcurrent {
			break
		}
		var since time.Time
		if st.Mode == postgres.ModeReconcile && r != postgres.ResourceProducts {
			since = st.Since
		}
		if err := bc.fence(ctx, st.Shop); err != nil {
			return started, err
		}
		id, err := shopify.RunBulkQuery(ctx, bc.gql, bulkQuery(r, since))
		if errors.Is(err, shopify.ErrBulkBusy) {
			break // another operation of this app still runs; try next round
		}
		if err != nil {
			return started, fmt.Errorf("sync %s: %w", st.Shop, err)
		}
		if op == nil {
			op = &postgres.BulkOp{}
			st.Operations[r] = op
		}
		attempts := op.Attempts
		*op = postgres.BulkOp{ID: id, Status: shopify.BulkCreated, StartedAt: s.now(), Attempts: attempts + 1}
		running++
		started = true
		// Saved at once: a worker killed now must find the operation
		// rather than start a second one.
		if err := s.state.Save(ctx, *st); err != nil {
			return started, err
		}
		s.log.Info("bulk operation started", "shop", st.Shop, "resource", r, "operation", id)
	}
	return started, nil
}

// advance checks one started operation and imports it once complete.
func (s *Syncer) advance(ctx context.Context, bc *shopAPI, st *postgres.SyncState, r postgres.Resource) (bool, error) {
	op := st.Operations[r]
	// A result whose URL has expired (or is about to) cannot be read:
	// run the operation again.
	if op.Status == shopify.BulkCompleted && !op.CompletedAt.IsZero() && s.now().Sub(op.CompletedAt) > shopify.BulkResultLifetime {
		s.restart(st, r, "result expired")
		return true, nil
	}
	cur, err := shopify.GetBulkOperation(ctx, bc.gql, op.ID)
	if err != nil {
		return false, fmt.Errorf("sync %s: %w", st.Shop, err)
	}
	if cur == nil {
		s.restart(st, r, "operation unknown to Shopify")
		return true, nil
	}
	changed := cur.Status != op.Status || cur.Objects() != op.ObjectCount
	op.Status, op.ErrorCode, op.URL, op.ObjectCount = cur.Status, cur.ErrorCode, cur.URL, cur.Objects()
	if !cur.CompletedAt.IsZero() {
		op.CompletedAt = cur.CompletedAt
	}
	s.updateExpected(st)
	switch cur.Status {
	case shopify.BulkCompleted:
		err := s.importOperation(ctx, bc, st, r)
		if errors.Is(err, shopify.ErrBulkResultGone) {
			// A new operation only when Shopify agrees the result is gone;
			// a refusal of a URL it still vouches for is retried later.
			again, gerr := shopify.GetBulkOperation(ctx, bc.gql, op.ID)
			if gerr != nil {
				return true, fmt.Errorf("sync %s: %w (after: %w)", st.Shop, gerr, err)
			}
			if again == nil || again.Status == shopify.BulkExpired || again.URL == "" {
				s.restart(st, r, "result gone")
				return true, nil
			}
			op.URL = again.URL
		}
		return true, err
	case shopify.BulkFailed, shopify.BulkCanceled, shopify.BulkExpired:
		if op.Attempts >= maxOperationAttempts {
			return true, fmt.Errorf("sync %s: %s bulk operation %s ended %s (%s) %d times: %w",
				st.Shop, r, op.ID, cur.Status, cur.ErrorCode, op.Attempts, errPermanent)
		}
		s.restart(st, r, "operation "+cur.Status)
		return true, nil
	default:
		return changed, nil
	}
}

// restart forgets a resource's operation so the next round starts a new one.
func (s *Syncer) restart(st *postgres.SyncState, r postgres.Resource, why string) {
	op := st.Operations[r]
	s.log.Warn("bulk operation rerun", "shop", st.Shop, "resource", r, "operation", op.ID, "reason", why)
	*op = postgres.BulkOp{Attempts: op.Attempts}
}

// importOperation streams a completed operation's result into its staging
// table and merges it. The merge commits together with the state saying
// so, which makes the import all-or-nothing: a crash before the commit
// leaves the resource to import again, one after it never imports twice.
func (s *Syncer) importOperation(ctx context.Context, bc *shopAPI, st *postgres.SyncState, r postgres.Resource) error {
	op := st.Operations[r]
	st.Phase = postgres.PhaseImporting
	if op.URL == "" {
		// Shopify gives no URL when the query matched nothing.
		op.Imported = true
		st.Phase = postgres.PhaseExporting
		return s.state.Save(ctx, *st)
	}
	if err := s.state.Save(ctx, *st); err != nil {
		return err
	}
	started := s.now()
	stage := s.state.Stage(st.Shop, st.RunID, r)
	if err := stage.Reset(ctx); err != nil {
		return err
	}
	body, err := bc.files.Download(ctx, op.URL)
	if err != nil {
		return fmt.Errorf("sync %s: %w", st.Shop, err)
	}
	defer body.Close()

	src := newBulkSource(r, body)
	if s.streamHook != nil {
		src.hook = func(n int64) error { return s.streamHook(r, n) }
	}
	base := st.RowsDone
	lastNote := s.now()
	src.progress = func(objects int64) {
		if s.now().Sub(lastNote) < 2*time.Second {
			return
		}
		lastNote = s.now()
		if err := s.state.Progress(ctx, st.Shop, st.RunID, base+objects); err != nil {
			s.log.Warn("save sync progress", "shop", st.Shop, "err", err)
		}
	}
	if _, err := stage.Copy(ctx, src); err != nil {
		if src.Err() != nil && !errors.Is(src.Err(), errInjected) && ctx.Err() == nil && !isReadError(src.Err()) {
			// The file itself is malformed: reading it again will not help.
			return fmt.Errorf("sync %s: %w: %w", st.Shop, err, errPermanent)
		}
		return fmt.Errorf("sync %s: %w", st.Shop, err)
	}

	copied := s.now()

	next := *st
	next.Operations = cloneOps(st.Operations)
	next.Operations[r].Imported = true
	next.Operations[r].Rows = src.objects
	next.RowsDone = base + src.objects
	next.Phase = postgres.PhaseExporting
	if err := bc.fence(ctx, st.Shop); err != nil {
		return err
	}
	changed, err := s.state.Merge(ctx, stage, next)
	if err != nil {
		return err
	}
	*st = next
	if err := stage.Drop(ctx); err != nil {
		s.log.Warn("drop staging table", "shop", st.Shop, "err", err)
	}
	s.log.Info("resource imported", "shop", st.Shop, "resource", r, "objects", src.objects, "changed", changed,
		"seconds", s.now().Sub(started).Seconds(), "copy_seconds", copied.Sub(started).Seconds(), "merge_seconds", s.now().Sub(copied).Seconds())
	return nil
}

// downloadBackoff waits before the attempt-th retry of a shop's result
// download: pollMin doubled per attempt, at most pollMax (a
// bulk_operations/finish webhook cutting it short does no harm).
func (s *Syncer) downloadBackoff(shop string) func(ctx context.Context, attempt int) error {
	return func(ctx context.Context, attempt int) error {
		return s.wait(ctx, shop, min(s.pollMin<<min(attempt-1, 16), s.pollMax))
	}
}

// isReadError tells a failure to read the download (worth retrying) from
// a malformed line.
func isReadError(err error) bool {
	var re *readError
	return errors.As(err, &re)
}

func cloneOps(ops map[postgres.Resource]*postgres.BulkOp) map[postgres.Resource]*postgres.BulkOp {
	out := make(map[postgres.Resource]*postgres.BulkOp, len(ops))
	for r, op := range ops {
		c := *op
		out[r] = &c
	}
	return out
}

func (s *Syncer) updateExpected(st *postgres.SyncState) {
	var n int64
	for _, op := range st.Operations {
		if op.Imported {
			n += op.Rows
		} else {
			n += op.ObjectCount
		}
	}
	st.RowsExpected = n
}

func (s *Syncer) finish(ctx context.Context, st *postgres.SyncState) error {
	st.Phase = postgres.PhaseDone
	st.FinishedAt = s.now()
	st.LastSuccessAt = st.StartedAt
	st.LastError = ""
	s.updateExpected(st)
	if err := s.state.Save(ctx, *st); err != nil {
		return err
	}
	if err := s.state.DropRunStages(ctx, st.Shop, st.RunID); err != nil {
		s.log.Warn("drop staging tables", "shop", st.Shop, "err", err)
	}
	s.log.Info("sync finished", "shop", st.Shop, "run", st.RunID, "mode", st.Mode, "objects", st.RowsDone,
		"seconds", st.FinishedAt.Sub(st.StartedAt).Seconds())
	return nil
}

// wait sleeps for d, or less when a bulk_operations/finish webhook for the
// shop arrives in this process.
func (s *Syncer) wait(ctx context.Context, shop string, d time.Duration) error {
	return shopify.SleepUntil(ctx, d, s.waker.Woken(shop))
}

// Status reports where the shop's history import stands, for GET /api/shop.
func (s *Syncer) Status(ctx context.Context, shop string) (map[string]any, error) {
	st, ok, err := s.state.Get(ctx, shop)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"phase": st.Phase, "mode": st.Mode, "rows_done": st.RowsDone, "rows_expected": st.RowsExpected}
	if out["deliveries"], err = s.deliveries.Counts(ctx, shop); err != nil {
		return nil, err
	}
	if !ok {
		return out, nil
	}
	allKnown := len(st.Operations) == len(postgres.Resources)
	ops := map[string]any{}
	for r, op := range st.Operations {
		ops[string(r)] = map[string]any{"status": op.Status, "objects": op.ObjectCount, "imported": op.Imported}
		if op.Status != shopify.BulkCompleted && !op.Imported {
			allKnown = false
		}
	}
	out["operations"] = ops
	switch {
	case st.Phase == postgres.PhaseDone:
		out["percent"] = 100.0
	case allKnown && st.RowsExpected > 0:
		out["percent"] = min(99.9, 100*float64(st.RowsDone)/float64(st.RowsExpected))
	default:
		out["percent"] = 0.0
	}
	for k, t := range map[string]time.Time{"started_at": st.StartedAt, "finished_at": st.FinishedAt, "last_success_at": st.LastSuccessAt} {
		if !t.IsZero() {
			out[k] = t
		}
	}
	if st.LastError != "" {
		out["last_error"] = st.LastError
		if st.Phase == postgres.PhaseFailed {
			// The run is over: "error" tells the page to stop waiting.
			out["error"] = st.LastError
		}
	}
	return out, nil
}
