package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"golang.org/x/sync/errgroup"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// WebhookLockWait bounds how long a webhook write waits for the shop's data
// lock. Webhook writes of one shop hold it for milliseconds each, so they
// queue behind each other well within it; only a merge of a large import
// holds it longer, and then the write gives up with ErrShopBusy.
const WebhookLockWait = 10 * time.Second

// webhookStatementTimeout bounds each statement of a webhook write once
// the lock is held.
const webhookStatementTimeout = 30 * time.Second

// ErrShopBusy means the shop's history is being merged right now: a webhook
// write waited WebhookLockWait for it and gave up. It is not a failure of
// the delivery, which is retried shortly; Busy says so to the job queue.
var ErrShopBusy error = shopBusyError{}

type shopBusyError struct{}

func (shopBusyError) Error() string { return "shop data is being imported; try again shortly" }

// Busy marks the error as a wait that ran out, not a failure.
func (shopBusyError) Busy() bool { return true }

// lockShopForWrite takes the shop's data lock for a webhook write in tx,
// waiting at most WebhookLockWait: writes of one shop run one after another.
func lockShopForWrite(ctx context.Context, tx pgx.Tx, shop string) error {
	if err := boundWebhookTx(ctx, tx, WebhookLockWait); err != nil {
		return err
	}
	return takeShopLock(ctx, tx, shop)
}

// boundWebhookTx bounds every lock wait of tx by wait and every statement
// by webhookStatementTimeout, for the rest of tx.
func boundWebhookTx(ctx context.Context, tx pgx.Tx, wait time.Duration) error {
	_, err := tx.Exec(ctx, fmt.Sprintf("SET LOCAL lock_timeout = %d; SET LOCAL statement_timeout = %d",
		max(wait.Milliseconds(), 1), webhookStatementTimeout.Milliseconds()))
	return err
}

// takeShopLock takes the shop's data lock exclusively in tx, within the
// bounds of boundWebhookTx. While a merge holds the lock (merges alone take
// it shared) it answers ErrShopBusy at once: waiting out a long import
// would hold a worker slot that other shops' deliveries need.
func takeShopLock(ctx context.Context, tx pgx.Tx, shop string) error {
	var merging bool
	if err := tx.QueryRow(ctx, `SELECT `+shopLockHeldShared("$1", "$2"), lockShopData, shop).Scan(&merging); err != nil {
		return err
	}
	if merging {
		return ErrShopBusy
	}
	if err := LockShopData(ctx, tx, shop, false); err != nil {
		if isLockTimeout(err) {
			return ErrShopBusy
		}
		return err
	}
	return nil
}

// isLockTimeout says whether err is Postgres giving up on a lock after
// lock_timeout (lock_not_available).
func isLockTimeout(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "55P03"
}

// Sync phases.
const (
	PhaseIdle      = "idle"
	PhaseExporting = "exporting" // bulk operations running at Shopify
	PhaseImporting = "importing" // results being streamed into Postgres
	PhaseDone      = "done"
	PhaseFailed    = "failed"
)

// Sync modes.
const (
	ModeFull      = "full"      // the whole history
	ModeReconcile = "reconcile" // what changed since the last good run
)

// SyncState is where a shop's history import stands. It is saved after
// every step, so a worker that dies mid-sync resumes from it.
type SyncState struct {
	Shop  string
	RunID int64
	Mode  string
	Phase string
	// Operations holds one bulk operation per resource.
	Operations    map[Resource]*BulkOp
	Since         time.Time // reconcile: fetch what changed after this
	RowsDone      int64
	RowsExpected  int64 // 0 = not known yet
	StartedAt     time.Time
	FinishedAt    time.Time
	LastError     string
	LastSuccessAt time.Time
}

// BulkOp is one bulk query operation of a run.
type BulkOp struct {
	ID          string    `json:"id,omitempty"`
	Status      string    `json:"status,omitempty"`
	ErrorCode   string    `json:"error_code,omitempty"`
	URL         string    `json:"url,omitempty"`
	ObjectCount int64     `json:"object_count,omitempty"`
	StartedAt   time.Time `json:"started_at,omitzero"`
	CompletedAt time.Time `json:"completed_at,omitzero"`
	// Rows is how many staged rows were merged; Imported marks the merge
	// done (committed with it, so it is never applied twice).
	Rows     int64 `json:"rows,omitempty"`
	Imported bool  `json:"imported,omitempty"`
	// Attempts counts the operations run for the resource in this run.
	Attempts int `json:"attempts,omitempty"`
}

// SyncStore keeps sync progress and runs the staged merges.
type SyncStore struct {
	db  *DB
	now func() time.Time
}

// NewSyncStore returns the sync state store.
func NewSyncStore(db *DB) *SyncStore { return &SyncStore{db: db, now: time.Now} }

// syncStateRow is a shop's sync state, an ordinary row read and written
// whole through gorm.
type syncStateRow struct {
	Shop          string `gorm:"primaryKey"`
	RunID         int64
	Mode          string
	Phase         string
	Operations    map[Resource]*BulkOp `gorm:"serializer:json"`
	Since         *time.Time
	RowsDone      int64
	RowsExpected  *int64
	StartedAt     *time.Time
	FinishedAt    *time.Time
	LastError     string
	LastSuccessAt *time.Time
	UpdatedAt     time.Time
}

func (syncStateRow) TableName() string { return "sync_state" }

// Get returns the shop's sync state; ok is false when it never synced.
func (s *SyncStore) Get(ctx context.Context, shop string) (SyncState, bool, error) {
	var row syncStateRow
	err := s.db.Gorm.WithContext(ctx).Where("shop = ?", shop).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return SyncState{Shop: shop, Phase: PhaseIdle, Mode: ModeFull, Operations: map[Resource]*BulkOp{}}, false, nil
	}
	if err != nil {
		return SyncState{Shop: shop}, false, fmt.Errorf("get sync state of %s: %w", shop, err)
	}
	st := SyncState{Shop: shop, RunID: row.RunID, Mode: row.Mode, Phase: row.Phase, Operations: row.Operations,
		Since: deref(row.Since), RowsDone: row.RowsDone, StartedAt: deref(row.StartedAt), FinishedAt: deref(row.FinishedAt),
		LastError: row.LastError, LastSuccessAt: deref(row.LastSuccessAt)}
	if st.Operations == nil {
		st.Operations = map[Resource]*BulkOp{}
	}
	if row.RowsExpected != nil {
		st.RowsExpected = *row.RowsExpected
	}
	return st, true, nil
}

func (st SyncState) row() syncStateRow {
	ops := st.Operations
	if ops == nil {
		ops = map[Resource]*BulkOp{}
	}
	row := syncStateRow{Shop: st.Shop, RunID: st.RunID, Mode: st.Mode, Phase: st.Phase, Operations: ops,
		Since: timePtr(st.Since), RowsDone: st.RowsDone, StartedAt: timePtr(st.StartedAt), FinishedAt: timePtr(st.FinishedAt),
		LastError: st.LastError, LastSuccessAt: timePtr(st.LastSuccessAt), UpdatedAt: time.Now()}
	if st.RowsExpected > 0 {
		row.RowsExpected = &st.RowsExpected
	}
	return row
}

// Save stores the whole state.
func (s *SyncStore) Save(ctx context.Context, st SyncState) error {
	row := st.row()
	err := s.db.Gorm.WithContext(ctx).Clauses(clause.OnConflict{
		Columns: []clause.Column{{Name: "shop"}},
		DoUpdates: clause.AssignmentColumns([]string{"run_id", "mode", "phase", "operations", "since", "rows_done",
			"rows_expected", "started_at", "finished_at", "last_error", "last_success_at", "updated_at"}),
	}).Create(&row).Error
	if err != nil {
		return fmt.Errorf("save sync state of %s: %w", st.Shop, err)
	}
	return nil
}

// Progress records how many rows of the current run are done, without
// touching the rest of the state. A progress note from an older run is
// ignored.
func (s *SyncStore) Progress(ctx context.Context, shop string, run, rowsDone int64) error {
	err := s.db.Gorm.WithContext(ctx).Model(&syncStateRow{}).Where("shop = ? AND run_id = ?", shop, run).
		Updates(map[string]any{"rows_done": rowsDone, "updated_at": time.Now()}).Error
	if err != nil {
		return fmt.Errorf("save sync progress of %s: %w", shop, err)
	}
	return nil
}

// NewRunID hands out a fresh run number.
func (s *SyncStore) NewRunID(ctx context.Context) (int64, error) {
	var id int64
	if err := s.db.Pool.QueryRow(ctx, `SELECT nextval('sync_runs')`).Scan(&id); err != nil {
		return 0, fmt.Errorf("new sync run: %w", err)
	}
	return id, nil
}

// Merge moves a staged resource into the real tables, then saves st (which
// records the resource as imported). The tables are merged side by side on
// separate connections (orders and their lines at once, never more than
// two: SyncConns counts them beside the lock), each in its own
// transaction: a merge interrupted half way leaves the resource
// unrecorded, and running the merge again, which changes only what
// differs, reaches the same end state. It returns how many rows changed.
func (s *SyncStore) Merge(ctx context.Context, stage *Stage, st SyncState) (int64, error) {
	asOf := ImportAsOf(st)
	plan, err := stage.plan(asOf)
	if err != nil {
		return 0, err
	}
	if plan.prepare != "" {
		if _, err := s.db.Pool.Exec(ctx, plan.prepare); err != nil {
			return 0, fmt.Errorf("merge %s of %s: %w", stage.resource, stage.shop, err)
		}
	}
	var changed atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	// The lock holds one connection of the sync's budget; the groups share
	// the rest.
	g.SetLimit(SyncConns - 1)
	for _, stmts := range plan.groups {
		g.Go(func() error {
			n, err := stage.runGroup(gctx, stmts, asOf)
			changed.Add(n)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return changed.Load(), err
	}
	if err := s.Save(ctx, st); err != nil {
		return changed.Load(), fmt.Errorf("merge %s of %s: %w", stage.resource, stage.shop, err)
	}
	if plan.cleanup != "" {
		if _, err := s.db.Pool.Exec(ctx, plan.cleanup); err != nil {
			return changed.Load(), fmt.Errorf("merge %s of %s: %w", stage.resource, stage.shop, err)
		}
	}
	if changed.Load() > 100_000 {
		// Fresh statistics keep the loader's merge plan and the admin
		// queries sensible after a large import.
		for _, t := range mergedTables[stage.resource] {
			if _, err := s.db.Pool.Exec(ctx, "ANALYZE "+t); err != nil {
				return changed.Load(), fmt.Errorf("analyze %s: %w", t, err)
			}
		}
	}
	return changed.Load(), nil
}

var mergedTables = map[Resource][]string{
	ResourceCustomers: {"customers"},
	ResourceOrders:    {"orders", "order_lines", "refunds", "order_line_sums"},
	ResourceProducts:  {"products", "variants"},
}

// DropRunStages removes every staging table of a run.
func (s *SyncStore) DropRunStages(ctx context.Context, shop string, run int64) error {
	for _, r := range Resources {
		if err := s.Stage(shop, run, r).Drop(ctx); err != nil {
			return err
		}
	}
	return nil
}

// Lock takes the shop's sync lock until the returned lock is
// released, on a connection of its own: two workers never sync one shop
// at once, and a worker that dies releases it with its connection. The
// sync's whole budget (SyncConns: the lock and the two merge groups) is
// reserved with it. ok is false when another worker holds it.
func (s *SyncStore) Lock(ctx context.Context, shop string) (lock *ShopLock, ok bool, err error) {
	lock, ok, err = s.db.tryShopLock(ctx, lockSync, shop, SyncConns)
	if err != nil {
		return nil, false, fmt.Errorf("sync %w", err)
	}
	return lock, ok, nil
}

// Counts reports how many live customers and orders the shop has stored.
func (s *SyncStore) Counts(ctx context.Context, shop string) (customers, orders int64, err error) {
	err = s.db.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM customers WHERE shop = $1 AND deleted_at IS NULL),
		(SELECT count(*) FROM orders WHERE shop = $1)`, shop).Scan(&customers, &orders)
	if err != nil {
		return 0, 0, fmt.Errorf("count data of %s: %w", shop, err)
	}
	return customers, orders, nil
}
