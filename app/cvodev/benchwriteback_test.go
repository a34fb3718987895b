package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"strconv"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/postgres/pgtest"
)

// TestBenchWriteback runs `cvodev bench-writeback` on a small shop.
// CVO_BENCH_WRITEBACK_CUSTOMERS runs it at another size (e.g. 1000000).
func TestBenchWriteback(t *testing.T) {
	n := 3000
	if v := os.Getenv("CVO_BENCH_WRITEBACK_CUSTOMERS"); v != "" {
		var err error
		n, err = strconv.Atoi(v)
		require.NoError(t, err)
	}
	t.Setenv("DATABASE_URL", pgtest.AdminURL())
	db := "cvo_t_bench_writeback_" + strconv.Itoa(os.Getpid())
	var out bytes.Buffer
	err := runBenchWriteback(context.Background(), slog.New(slog.DiscardHandler),
		[]string{"--customers", strconv.Itoa(n), "--change", "0.1", "--database", db}, &out)
	t.Log("\n" + out.String())
	require.NoError(t, err)
	assert.Contains(t, out.String(), "mode bulk")
	assert.Contains(t, out.String(), "carry exactly their group tag")
	t.Cleanup(func() {
		if c, err := pgtestConnect(); err == nil {
			_, _ = c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)")
			c.Close(context.Background())
		}
	})
}

func pgtestConnect() (*pgx.Conn, error) { return pgx.Connect(context.Background(), pgtest.AdminURL()) }
