package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// Per-shop locks: every one is a PostgreSQL advisory lock keyed by
// (namespace, hashtext(shop)), taken here and nowhere else, so the kinds
// and their numbers are listed once:
//
//   - the job locks (sync, rescore, write-back) are session locks: one job
//     of a kind per shop across every worker, held on a connection of the
//     job's own and released with it, so a killed worker releases them.
//     tryShopLock takes one with the job's whole connection budget (see
//     Reserve), and tells a job whose shop is busy so at once;
//   - the data lock is a transaction lock guarding a shop's imported rows:
//     merges hold it shared, webhook writes and redactions exclusively;
//   - the survey answer lock is a transaction lock per shop and customer:
//     a survey answer and the customer's redaction take it, so an answer
//     stored while a redaction runs cannot outlive it.
const (
	lockSync           int32 = 7281
	lockRescore        int32 = 7282
	lockShopData       int32 = 7283
	lockWriteback      int32 = 7284
	lockSurveyCustomer int32 = 7285
)

// LockShopData takes the shop's data lock in tx until it ends: shared, as
// each group of a merge does, or exclusive, as webhook writes and
// redactions do. The wait is bounded by tx's lock_timeout.
func LockShopData(ctx context.Context, tx pgx.Tx, shop string, shared bool) error {
	q := `SELECT pg_advisory_xact_lock($1, hashtext($2))`
	if shared {
		q = `SELECT pg_advisory_xact_lock_shared($1, hashtext($2))`
	}
	_, err := tx.Exec(ctx, q, lockShopData, shop)
	return err
}

// ErrLockLost means a job's per-shop lock is gone while the job still
// runs: its session died (a PostgreSQL restart, a cut connection,
// idle_session_timeout), so another worker may hold the lock now. The job
// must stop before its next irreversible step; it is retried later.
var ErrLockLost = errors.New("the shop's job lock was lost")

// lockCheckWait bounds a liveness check, so a connection cut without a
// word from the server (no RST) does not hang the job.
const lockCheckWait = 5 * time.Second

// ShopLock is a held per-shop job lock (sync, rescore, write-back). The
// lock lives as long as its session, and the session sits idle on the
// job's own connection, so a job learns that it died only by asking:
// Check, called before every step that cannot be taken back.
type ShopLock struct {
	namespace int32
	shop      string
	conn      *ReservedConn
	pid       uint32

	mu   sync.Mutex // the connection takes one query at a time
	lost bool
	once sync.Once
}

// Check returns nil while this session still holds the lock, and an error
// wrapping ErrLockLost once it does not; a lost lock stays lost. It asks
// pg_locks on the lock's own connection, so the answer is about this very
// session, not merely "someone holds it".
func (l *ShopLock) Check(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lost {
		return fmt.Errorf("lock of %s: %w", l.shop, ErrLockLost)
	}
	qctx, cancel := context.WithTimeout(ctx, lockCheckWait)
	defer cancel()
	var held bool
	err := l.conn.QueryRow(qctx, `SELECT `+shopLockHeldBy("pg_backend_pid()", "$1", "$2"), l.namespace, l.shop).Scan(&held)
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("check lock of %s: %w", l.shop, ctx.Err())
	}
	if err != nil || !held {
		// A failed query on the lock's session means the session is gone or
		// unusable: either way the lock cannot be vouched for.
		l.lost = true
		if err != nil {
			return fmt.Errorf("lock of %s: %w: %w", l.shop, ErrLockLost, err)
		}
		return fmt.Errorf("lock of %s: %w", l.shop, ErrLockLost)
	}
	return nil
}

// PID is the backend process id of the lock's session (tests end it).
func (l *ShopLock) PID() uint32 { return l.pid }

// Release unlocks and returns the connection; safe to call more than once.
func (l *ShopLock) Release() {
	l.once.Do(func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), lockCheckWait)
		defer cancel()
		if _, err := l.conn.Exec(ctx, `SELECT pg_advisory_unlock($1, hashtext($2))`, l.namespace, l.shop); err != nil {
			// The session may be dead or hold something unknown: close it
			// rather than hand it back to the pool.
			_ = l.conn.Conn.Conn().Close(ctx)
		}
		l.conn.Release()
	})
}

// tryShopLock takes a session advisory lock for the shop on a connection of
// its own, held until Release is called; a process that dies releases it
// with its connection. The job's whole budget of conns connections is
// reserved with it (see Reserve). ok is false when someone else holds it.
func (db *DB) tryShopLock(ctx context.Context, namespace int32, shop string, conns int) (lock *ShopLock, ok bool, err error) {
	unreserve, reserved := db.tryReserve(conns)
	if !reserved {
		// The pool is busy: a job for a shop that is busy anyway learns
		// it now rather than after waiting for connections.
		var held bool
		qctx, cancel := context.WithTimeout(ctx, db.acquireWait)
		err := db.Pool.QueryRow(qctx, `SELECT `+shopLockHeld("$1", "$2"), namespace, shop).Scan(&held)
		cancel()
		if err != nil && ctx.Err() == nil && qctx.Err() != nil {
			db.exhausted.Add(1)
			err = fmt.Errorf("acquire a connection within %s: %w", db.acquireWait, ErrPoolExhausted)
		}
		if err != nil {
			return nil, false, fmt.Errorf("lock %s: %w", shop, err)
		}
		if held {
			return nil, false, nil
		}
		if unreserve, err = db.Reserve(ctx, conns); err != nil {
			return nil, false, fmt.Errorf("lock %s: %w", shop, err)
		}
	}
	conn, err := db.acquireFor(ctx, unreserve)
	if err != nil {
		return nil, false, fmt.Errorf("lock %s: %w", shop, err)
	}
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1, hashtext($2))`, namespace, shop).Scan(&ok); err != nil {
		conn.Release()
		return nil, false, fmt.Errorf("lock %s: %w", shop, err)
	}
	if !ok {
		conn.Release()
		return nil, false, nil
	}
	return &ShopLock{namespace: namespace, shop: shop, conn: conn, pid: conn.Conn.Conn().PgConn().PID()}, true, nil
}

// shopLockHeld is an SQL condition: someone holds the shop's advisory lock
// of the namespace (pg_locks keeps the two keys of a lock in classid and
// objid, the second as an unsigned number).
func shopLockHeld(namespace, shop string) string {
	return shopLockCondition(namespace, shop, "")
}

// shopLockHeldShared is shopLockHeld for a lock granted in shared mode.
func shopLockHeldShared(namespace, shop string) string {
	return shopLockCondition(namespace, shop, ` AND l.granted AND l.mode = 'ShareLock'`)
}

// shopLockHeldBy is shopLockHeld for the session whose backend is pid.
func shopLockHeldBy(pid, namespace, shop string) string {
	return shopLockCondition(namespace, shop, ` AND l.granted AND l.pid = `+pid)
}

func shopLockCondition(namespace, shop, extra string) string {
	return `EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory'
		AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
		AND l.classid::bigint = ` + namespace + ` AND l.objsubid = 2
		AND l.objid::bigint = (hashtext(` + shop + `)::bigint & 4294967295)` + extra + `)`
}
