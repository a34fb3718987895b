package postgres

import (
	"context"
	"fmt"
	"sync"

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
//     merges hold it shared, webhook writes and redactions exclusively.
const (
	lockSync      int32 = 7281
	lockRescore   int32 = 7282
	lockShopData  int32 = 7283
	lockWriteback int32 = 7284
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

// tryShopLock takes a session advisory lock for the shop on a connection of
// its own, held until release is called; a process that dies releases it
// with its connection. The job's whole budget of conns connections is
// reserved with it (see Reserve). ok is false when someone else holds it.
func (db *DB) tryShopLock(ctx context.Context, namespace int32, shop string, conns int) (release func(), ok bool, err error) {
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
	var once sync.Once
	return func() {
		once.Do(func() {
			_, _ = conn.Exec(context.Background(), `SELECT pg_advisory_unlock($1, hashtext($2))`, namespace, shop)
			conn.Release()
		})
	}, true, nil
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

func shopLockCondition(namespace, shop, extra string) string {
	return `EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory'
		AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
		AND l.classid::bigint = ` + namespace + ` AND l.objsubid = 2
		AND l.objid::bigint = (hashtext(` + shop + `)::bigint & 4294967295)` + extra + `)`
}
