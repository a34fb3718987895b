package pgtest

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/postgres"
)

// FindText scans every column of every table that can hold text (text,
// varchar, jsonb, json, bytea, arrays of text) for needle and returns the
// "table.column" places where it occurs. Privacy tests use it to prove that
// no table anywhere still holds a person's data, including tables added
// after the test was written.
func FindText(t testing.TB, db *postgres.DB, needle string) []string {
	t.Helper()
	ctx := context.Background()
	rows, err := db.Pool.Query(ctx, `SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c
		JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
		WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
		  AND c.data_type IN ('text', 'character varying', 'character', 'jsonb', 'json', 'bytea', 'ARRAY')
		  AND c.table_name <> 'goose_db_version'`)
	require.NoError(t, err)
	type col struct{ table, column, typ string }
	cols, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (col, error) {
		var c col
		return c, r.Scan(&c.table, &c.column, &c.typ)
	})
	require.NoError(t, err)
	var hits []string
	for _, c := range cols {
		expr := pgx.Identifier{c.column}.Sanitize() + "::text"
		if c.typ == "bytea" {
			expr = "convert_from(" + pgx.Identifier{c.column}.Sanitize() + ", 'UTF8')"
		}
		q := fmt.Sprintf("SELECT count(*) FROM %s WHERE strpos(lower(%s), lower($1)) > 0", pgx.Identifier{c.table}.Sanitize(), expr)
		var n int
		require.NoError(t, db.Pool.QueryRow(ctx, q, needle).Scan(&n), q)
		if n > 0 {
			hits = append(hits, c.table+"."+c.column)
		}
	}
	return hits
}
