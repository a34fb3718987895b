package postgres

import (
	"context"
	"errors"
	"strings"
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

// ExplainFirstLineSums is the plan of the orders merge's line sums on a
// shop's first import, under the settings the merge runs them with.
func (st *Stage) ExplainFirstLineSums(ctx context.Context, tx pgx.Tx) (string, error) {
	p, err := st.plan(time.Time{})
	if err != nil {
		return "", err
	}
	for _, group := range p.groups {
		for _, m := range group {
			if m.table != "order_line_sums" || m.whenEmpty == "" {
				continue
			}
			var plan []string
			err := withPlanner(ctx, tx, m, func() error {
				rows, err := tx.Query(ctx, "EXPLAIN "+m.whenEmpty, st.shop)
				if err != nil {
					return err
				}
				plan, err = pgx.CollectRows(rows, pgx.RowTo[string])
				return err
			})
			return strings.Join(plan, "\n"), err
		}
	}
	return "", errors.New("the orders merge sums no lines")
}
