// Package postgres is the app's storage adapter: it opens PostgreSQL through a
// pgx pool (so COPY is available), migrates the schema, and implements the
// stores the domain needs, one file per resource. Every query is scoped by shop.
//
// The packages above it never see *DB: each declares the small interface
// it uses (ingest.SyncStore, activation.Store, rescore.Snapshots…) and the
// composition root (app) hands it the store of this package that fits.
//
// # gorm or pgx
//
// One pool, two faces, chosen by what a query does, not by taste:
//
//   - gorm for ordinary rows: one record of a shop read or written whole,
//     with no COPY and no cursor (shops and their tokens, settings,
//     scoring runs and rescore requests, data-request exports). Its models
//     are plain structs next to the store (shopRow, settingsRow,
//     scoringRow, dataRequestRow), so a column added to the table is added
//     in one place; a column type database/sql does not know gets a small
//     Scanner/Valuer (textArray) or gorm's JSON serializer.
//   - pgx for everything that moves many rows or needs PostgreSQL itself:
//     COPY into staging tables and scoring snapshots, streaming reads
//     through cursors, bulk upserts with conflict rules (the merges, the
//     write-back records, webhook applies comparing updated_at), advisory
//     locks and the transactions around them (shoplock.go), lock_timeout,
//     and statements whose atomicity is the point (spending an OAuth state
//     with DELETE … RETURNING).
//
// gorm runs on the same pgx pool (through database/sql): one pool size,
// one set of connections, whichever face a query uses.
//
// A scoring run touches both faces: its record is gorm's, but finishing
// it is pgx's, because the run is marked succeeded in the transaction that
// COPYs its per-customer rows, and the sweep that fails the runs of dead
// workers is one statement reading pg_locks (see ScoringStore).
//
// The sync state, the write-back set-up and the segments are ordinary rows
// on gorm too; the one exception among them, AddTagPrefix, is a conditional
// append to an array in one statement, which is PostgreSQL's work.
package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"golang.org/x/sync/semaphore"
	gormpg "gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/cvo-app/cvo/migrations"
)

// DB bundles the two faces of one connection pool: gorm for ordinary
// queries and the raw pgx pool for COPY and batch work.
type DB struct {
	Gorm *gorm.DB
	Pool *pgxpool.Pool
	sql  *sql.DB

	// budget hands out the pool's connections to jobs that hold a shop
	// lock, all of a job's connections at once (see Reserve).
	budget      *semaphore.Weighted
	acquireWait time.Duration
	exhausted   atomic.Int64 // reservations refused so far
}

// Connection budgets. A job that holds a shop lock keeps one connection
// for the lock and uses at most the rest of its budget at any moment; it
// reserves the whole budget before taking the lock, so it never holds one
// connection while waiting for another.
const (
	// RescoreConns: the lock, plus the two connections the history is
	// read on side by side in one snapshot (ReadSummedOrders); the
	// scoring's other reads and its write take one at a time.
	RescoreConns = 3
	// SyncConns: the lock, plus the two merge groups that run side by
	// side (or a COPY and its progress notes).
	SyncConns = 3
	// WritebackConns: the lock, plus one connection at a time for reading
	// and recording what was written.
	WritebackConns = 2
	// JobConns is the most any job reserves.
	JobConns = SyncConns
	// ReserveConns is what the worker's pool keeps beyond its jobs' budgets,
	// for work outside them (webhook applies between two queries, the
	// health check).
	ReserveConns = 2
	// DefaultAcquireWait is how long a job waits for its connections
	// before it fails with ErrPoolExhausted (and asynq retries it).
	DefaultAcquireWait = 10 * time.Second
)

// WorkerPoolSize is the smallest pool a worker running concurrency jobs
// at once may have, and its default: every job can hold its whole budget
// at the same time, with the reserve to spare.
func WorkerPoolSize(concurrency int) int32 {
	return int32(concurrency*JobConns + ReserveConns)
}

// ErrPoolExhausted means a job could not get its connections within the
// acquire wait; the job fails and is retried later rather than waiting
// past its own timeout.
var ErrPoolExhausted = errors.New("database connection pool exhausted")

// Options tune a pool beyond what the URL says.
type Options struct {
	// MaxConns is the pool size when the URL has no pool_max_conns (0:
	// pgx's default, max(4, CPUs)).
	MaxConns int32
	// MinConns, when set, refuses a pool_max_conns below it.
	MinConns int32
	// AcquireWait bounds how long Reserve waits (0: DefaultAcquireWait).
	AcquireWait time.Duration
}

// Open connects to the database at url.
func Open(ctx context.Context, url string) (*DB, error) {
	return OpenWith(ctx, url, Options{})
}

// OpenWith connects to the database at url with a pool sized by opts,
// unless the URL sets pool_max_conns itself.
func OpenWith(ctx context.Context, url string, opts Options) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	if !strings.Contains(url, "pool_max_conns") && opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	if opts.MinConns > 0 && cfg.MaxConns < opts.MinConns {
		return nil, fmt.Errorf("pool_max_conns=%d is below the %d connections this process needs (see README, Pools and concurrency)",
			cfg.MaxConns, opts.MinConns)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open database pool: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("ping database: %w", err)
	}
	sqlDB := stdlib.OpenDBFromPool(pool)
	gdb, err := gorm.Open(gormpg.New(gormpg.Config{Conn: sqlDB}), &gorm.Config{
		Logger:                 logger.Discard,
		SkipDefaultTransaction: true,
		TranslateError:         true,
	})
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("open gorm: %w", err)
	}
	wait := opts.AcquireWait
	if wait <= 0 {
		wait = DefaultAcquireWait
	}
	// Reservations may take the whole pool: users outside them hold one
	// connection at a time and never wait while holding it, so a job
	// waiting on one of them always gets it back.
	return &DB{Gorm: gdb, Pool: pool, sql: sqlDB, budget: semaphore.NewWeighted(int64(cfg.MaxConns)), acquireWait: wait}, nil
}

// Reserve waits, at most the acquire wait, until n connections of the pool
// are free for the caller's job, and holds them for it until release.
// Every job that holds a shop lock reserves its whole budget first, so
// however many jobs run, those that hold connections can always get the
// rest of theirs. It fails with ErrPoolExhausted.
func (db *DB) Reserve(ctx context.Context, n int) (release func(), err error) {
	if int64(n) > int64(db.Pool.Config().MaxConns) {
		return nil, fmt.Errorf("reserve %d connections of a pool of %d: %w", n, db.Pool.Config().MaxConns, ErrPoolExhausted)
	}
	wctx, cancel := context.WithTimeout(ctx, db.acquireWait)
	defer cancel()
	if err := db.budget.Acquire(wctx, int64(n)); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		db.exhausted.Add(1)
		return nil, fmt.Errorf("reserve %d connections within %s: %w", n, db.acquireWait, ErrPoolExhausted)
	}
	return db.unreserve(n), nil
}

// tryReserve is Reserve without waiting.
func (db *DB) tryReserve(n int) (release func(), ok bool) {
	if !db.budget.TryAcquire(int64(n)) {
		return nil, false
	}
	return db.unreserve(n), true
}

func (db *DB) unreserve(n int) func() {
	var once sync.Once
	return func() { once.Do(func() { db.budget.Release(int64(n)) }) }
}

// ReservedConn is a connection taken with the rest of its job's budget;
// Release gives both back.
type ReservedConn struct {
	*pgxpool.Conn
	unreserve func()
}

// Release returns the connection and the job's reservation.
func (c *ReservedConn) Release() {
	c.Conn.Release()
	c.unreserve()
}

// AcquireReserved reserves n connections (see Reserve) and acquires the
// first of them, for a job that keeps a session (an advisory lock) on it.
func (db *DB) AcquireReserved(ctx context.Context, n int) (*ReservedConn, error) {
	unreserve, err := db.Reserve(ctx, n)
	if err != nil {
		return nil, err
	}
	return db.acquireFor(ctx, unreserve)
}

// acquireFor acquires the first connection of a reservation.
func (db *DB) acquireFor(ctx context.Context, unreserve func()) (*ReservedConn, error) {
	// The reservation guarantees room; the wait bound only guards against
	// work outside any budget that overstays.
	actx, cancel := context.WithTimeout(ctx, db.acquireWait)
	defer cancel()
	conn, err := db.Pool.Acquire(actx)
	if err != nil {
		unreserve()
		if ctx.Err() == nil && actx.Err() != nil {
			db.exhausted.Add(1)
			return nil, fmt.Errorf("acquire a connection within %s: %w", db.acquireWait, ErrPoolExhausted)
		}
		return nil, err
	}
	return &ReservedConn{Conn: conn, unreserve: unreserve}, nil
}

// PoolStats is what the worker's health check reads of the pool.
type PoolStats struct {
	Acquired, Max int32
	// Waits counts acquisitions that found no idle connection and waited
	// (or opened one); Refused counts reservations that ran out of time.
	Waits, Refused int64
}

// Stats reports the pool's use.
func (db *DB) Stats() PoolStats {
	st := db.Pool.Stat()
	return PoolStats{Acquired: st.AcquiredConns(), Max: st.MaxConns(), Waits: st.EmptyAcquireCount(), Refused: db.exhausted.Load()}
}

// Close releases every connection.
func (db *DB) Close() {
	_ = db.sql.Close()
	db.Pool.Close()
}

// Ping checks the database answers; /healthz uses it.
func (db *DB) Ping(ctx context.Context) error {
	return db.Pool.Ping(ctx)
}

// Migrate applies every pending migration. A session advisory lock makes
// concurrent starts (several app and worker processes) safe.
func (db *DB) Migrate(ctx context.Context) error {
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return fmt.Errorf("migration lock: %w", err)
	}
	// Migration numbers are handed out to parallel branches, so one may
	// land after a higher one was applied: it is applied then, not refused.
	p, err := goose.NewProvider(goose.DialectPostgres, db.sql, migrations.FS,
		goose.WithSessionLocker(locker), goose.WithDisableGlobalRegistry(true), goose.WithAllowOutofOrder(true))
	if err != nil {
		return fmt.Errorf("load migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// EnsureDatabase creates the database named in url when it does not exist,
// so a fresh machine needs no manual set-up. The URL's pool settings
// (pool_max_conns and the like) are the pool's, not the server's.
func EnsureDatabase(ctx context.Context, url string) error {
	pcfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return fmt.Errorf("parse database url: %w", err)
	}
	cfg := pcfg.ConnConfig
	name := cfg.Database
	cfg.Database = "postgres"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("connect to create database %s: %w", name, err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return fmt.Errorf("look up database %s: %w", name, err)
	}
	if exists {
		return nil
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}
