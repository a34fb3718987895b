package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"os/exec"
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
	exe, err := os.Executable()
	require.NoError(t, err)
	wbJobCommand = func(ctx context.Context, args []string) (*exec.Cmd, error) {
		cmd := exec.CommandContext(ctx, exe, "-test.run=^TestWritebackJobProcess$")
		cmd.Env = append(os.Environ(), "CVODEV_WRITEBACK_JOB="+args[0])
		return cmd, nil
	}
	n := 3000
	if v := os.Getenv("CVO_BENCH_WRITEBACK_CUSTOMERS"); v != "" {
		var err error
		n, err = strconv.Atoi(v)
		require.NoError(t, err)
	}
	t.Setenv("DATABASE_URL", pgtest.AdminURL())
	db := "cvo_t_bench_writeback_" + strconv.Itoa(os.Getpid())
	var out bytes.Buffer
	err = runBenchWriteback(context.Background(), slog.New(slog.DiscardHandler),
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

// TestWritebackJobProcess is the write-back job process of
// TestBenchWriteback, run by it in this test binary; alone it does nothing.
func TestWritebackJobProcess(t *testing.T) {
	spec := os.Getenv("CVODEV_WRITEBACK_JOB")
	if spec == "" {
		t.Skip("run by TestBenchWriteback")
	}
	var out bytes.Buffer
	err := runWritebackJob(context.Background(), slog.New(slog.DiscardHandler), []string{spec}, &out)
	require.NoError(t, err)
	// The result alone goes to the parent, without the test framework's
	// lines.
	_, _ = os.Stdout.Write(out.Bytes())
	os.Exit(0)
}

func pgtestConnect() (*pgx.Conn, error) { return pgx.Connect(context.Background(), pgtest.AdminURL()) }
