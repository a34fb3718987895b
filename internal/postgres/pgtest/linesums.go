package pgtest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/postgres"
)

// SumLines recomputes every order line sum of a shop from the view that
// defines them. The app's writers of lines and costs keep the sums in the
// same transaction; a test that inserts lines or costs with plain SQL
// calls this afterwards, as those writers would have.
func SumLines(t testing.TB, db *postgres.DB, shop string) {
	t.Helper()
	ctx := context.Background()
	_, err := db.Pool.Exec(ctx, `DELETE FROM order_line_sums WHERE shop = $1`, shop)
	require.NoError(t, err)
	_, err = db.Pool.Exec(ctx, `INSERT INTO order_line_sums (shop, order_id, line_revenue, known_cost, covered_revenue)
		SELECT shop, order_id, line_revenue, known_cost, covered_revenue FROM order_line_totals WHERE shop = $1`, shop)
	require.NoError(t, err)
}

// LineSumsAgree says whether a shop's stored line sums are exactly what
// the view computes from its lines and costs now: one row per order with
// lines, equal to the last bit.
func LineSumsAgree(t testing.TB, db *postgres.DB, shop string) {
	t.Helper()
	var differ int
	require.NoError(t, db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM
		(SELECT order_id, line_revenue, known_cost, covered_revenue FROM order_line_sums WHERE shop = $1) s
		FULL JOIN (SELECT order_id, line_revenue, known_cost, covered_revenue FROM order_line_totals WHERE shop = $1) v USING (order_id)
		WHERE (s.line_revenue, s.known_cost, s.covered_revenue) IS DISTINCT FROM (v.line_revenue, v.known_cost, v.covered_revenue)
		   OR s.order_id IS NULL OR v.order_id IS NULL`, shop).Scan(&differ))
	require.Zero(t, differ, "orders whose stored line sums differ from their lines")
}
