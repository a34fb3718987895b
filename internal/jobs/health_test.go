package jobs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/jobs"
	"github.com/cvo-app/cvo/internal/jobs/jobstest"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func get(t *testing.T, h http.Handler) (int, jobs.Report) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	var rep jobs.Report
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &rep))
	return rec.Code, rep
}

// TestWorkerHealthReportsStuckTasks runs a task through the middleware
// that ignores its deadline: healthy while it is within its timeout,
// unhealthy once it overstays, healthy again when it ends, with a warning
// logged at the flip.
func TestWorkerHealthReportsStuckTasks(t *testing.T) {
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	// Only Check logs, and it runs on this goroutine.
	logs := &bytes.Buffer{}
	h := jobs.NewHealth(nil, slog.New(slog.NewJSONHandler(logs, nil)))
	h.SetClock(clk.now)
	srv := h.Handler()

	release := make(chan struct{})
	done := make(chan error, 1)
	ctx, cancel := context.WithDeadline(context.Background(), clk.now().Add(time.Hour))
	defer cancel()
	handler := h.Middleware(asynq.HandlerFunc(func(context.Context, *asynq.Task) error {
		<-release // a handler that does not stop when told to
		return nil
	}))
	go func() { done <- handler.ProcessTask(ctx, asynq.NewTask("shop:rescore", nil)) }()
	require.Eventually(t, func() bool { return h.Check().Running == 1 }, 5*time.Second, 10*time.Millisecond)

	steps := []struct {
		name    string
		advance time.Duration
		code    int
		reason  string
	}{
		{"within its timeout", 50 * time.Minute, http.StatusOK, ""},
		{"just past its deadline: still stopping", 11 * time.Minute, http.StatusOK, ""},
		{"past its deadline and the grace", jobs.StuckGrace, http.StatusServiceUnavailable, "task shop:rescore"},
	}
	for _, s := range steps {
		clk.add(s.advance)
		code, rep := get(t, srv)
		assert.Equal(t, s.code, code, s.name)
		if s.reason == "" {
			assert.Equal(t, "ok", rep.Status, s.name)
			assert.Empty(t, rep.Reasons, s.name)
		} else {
			assert.Equal(t, "unhealthy", rep.Status, s.name)
			require.Len(t, rep.Reasons, 1, s.name)
			assert.Contains(t, rep.Reasons[0], s.reason, s.name)
			assert.Contains(t, rep.Reasons[0], "past its timeout of 1h0m0s", s.name)
		}
	}
	assert.Equal(t, 1, strings.Count(logs.String(), `"worker unhealthy"`), "the flip is logged once")
	get(t, srv)
	assert.Equal(t, 1, strings.Count(logs.String(), `"worker unhealthy"`), "not again while it stays unhealthy")

	close(release)
	require.NoError(t, <-done)
	code, rep := get(t, srv)
	assert.Equal(t, http.StatusOK, code)
	assert.Zero(t, rep.Running)
	assert.Contains(t, logs.String(), "worker healthy again")
}

// TestWorkerHealthReportsAnExhaustedPool feeds pool counters sampled a
// window apart.
func TestWorkerHealthReportsAnExhaustedPool(t *testing.T) {
	tests := []struct {
		name         string
		before, then jobs.PoolStats
		code         int
		reason       string
	}{
		{"busy but no one waits", jobs.PoolStats{Acquired: 14, Max: 14, Waits: 100}, jobs.PoolStats{Acquired: 14, Max: 14, Waits: 100},
			http.StatusOK, ""},
		{"waits grow with connections to spare", jobs.PoolStats{Acquired: 3, Max: 14, Waits: 100}, jobs.PoolStats{Acquired: 9, Max: 14, Waits: 180},
			http.StatusOK, ""},
		{"all taken and waits grow", jobs.PoolStats{Acquired: 14, Max: 14, Waits: 100}, jobs.PoolStats{Acquired: 14, Max: 14, Waits: 107},
			http.StatusServiceUnavailable, "all 14 connections in use and 7 acquisitions waited"},
		{"jobs refused connections", jobs.PoolStats{Max: 14, Refused: 2}, jobs.PoolStats{Acquired: 5, Max: 14, Refused: 5},
			http.StatusServiceUnavailable, "3 jobs could not get connections"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
			stats := tt.before
			var mu sync.Mutex
			h := jobs.NewHealth(func() jobs.PoolStats { mu.Lock(); defer mu.Unlock(); return stats }, slog.New(slog.DiscardHandler))
			h.SetClock(clk.now)
			code, _ := get(t, h.Handler())
			require.Equal(t, http.StatusOK, code, "the first sample has nothing to compare with")
			mu.Lock()
			stats = tt.then
			mu.Unlock()
			clk.add(jobs.PoolWindow / 2)
			code, _ = get(t, h.Handler())
			require.Equal(t, http.StatusOK, code, "not judged before a whole window")
			clk.add(jobs.PoolWindow / 2)
			code, rep := get(t, h.Handler())
			assert.Equal(t, tt.code, code)
			if tt.reason != "" {
				require.Len(t, rep.Reasons, 1)
				assert.Contains(t, rep.Reasons[0], tt.reason)
			}
		})
	}
}

// TestWorkerHealthSeesTasksOfARealWorker runs the middleware in an asynq
// server: a sync that overstays its six hours makes the worker unhealthy,
// naming the task.
func TestWorkerHealthSeesTasksOfARealWorker(t *testing.T) {
	ns := jobstest.Namespace(t)
	opt := jobstest.RedisOpt(t)
	clk := &clock{t: time.Now()}
	h := jobs.NewHealth(nil, slog.New(slog.DiscardHandler))
	h.SetClock(clk.now)

	release := make(chan struct{})
	srv := asynq.NewServer(opt, asynq.Config{Concurrency: 1, Queues: ns.Queues(), LogLevel: asynq.FatalLevel})
	mux := asynq.NewServeMux()
	mux.Use(h.Middleware)
	mux.HandleFunc(jobs.TypeSyncShop, func(context.Context, *asynq.Task) error { <-release; return nil })
	require.NoError(t, srv.Start(mux))
	defer srv.Shutdown()
	q := jobs.NewQueue(opt, ns)
	defer q.Close()
	require.NoError(t, q.EnqueueSync(context.Background(), "h.myshopify.com"))

	require.Eventually(t, func() bool { return h.Check().Running == 1 }, 10*time.Second, 20*time.Millisecond)
	code, _ := get(t, h.Handler())
	assert.Equal(t, http.StatusOK, code)
	clk.add(6*time.Hour + jobs.StuckGrace + time.Minute)
	code, rep := get(t, h.Handler())
	assert.Equal(t, http.StatusServiceUnavailable, code)
	require.Len(t, rep.Reasons, 1)
	assert.Contains(t, rep.Reasons[0], "task shop:sync (sync:h.myshopify.com)")
	close(release)
	require.Eventually(t, func() bool { return h.Check().Running == 0 }, 10*time.Second, 20*time.Millisecond)
}
