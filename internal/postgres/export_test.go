package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// SharedSnapshot lets the external tests hold sharedSnapshot to its
// promise.
var SharedSnapshot = (*DB).sharedSnapshot

// SetReadLockTimeout shortens ReadSummedOrders' lock waits for a test.
func SetReadLockTimeout(t interface{ Cleanup(func()) }, d time.Duration) {
	old := readLockTimeout
	readLockTimeout = d
	t.Cleanup(func() { readLockTimeout = old })
}

// SpyMergeStatements has fn called with each statement a merge runs, in
// its transaction and under its planner settings, until the test ends.
func SpyMergeStatements(t interface{ Cleanup(func()) }, fn func(ctx context.Context, tx pgx.Tx, sql string, args []any)) {
	mergeStmtRan = fn
	t.Cleanup(func() { mergeStmtRan = nil })
}
