package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/hibiken/asynq"
)

// PoolStats is what the health check reads of the worker's database pool.
type PoolStats struct {
	Acquired, Max int32
	// Waits counts acquisitions that found no idle connection; Refused
	// counts jobs that could not get their connections in time.
	Waits, Refused int64
}

// Health is the worker's own health signal: unhealthy while a task runs
// past its expected time or the connection pool is exhausted. A task's
// expected time is its timeout (asynq's deadline, which cancels it): a
// handler that is still running StuckGrace after it was told to stop is
// stuck. The pool is exhausted when, over PoolWindow, every connection was
// taken and acquisitions kept waiting, or jobs were refused connections.
type Health struct {
	pool func() PoolStats
	log  *slog.Logger
	now  func() time.Time

	mu       sync.Mutex
	next     uint64
	running  map[uint64]runningTask
	sample   PoolStats // pool counters at sampledAt
	sampled  time.Time
	poolBad  string // why the pool was judged exhausted at the last sample
	unwell   bool   // the state last reported, to log its flips
	reported bool
}

type runningTask struct {
	typ, id  string
	started  time.Time
	deadline time.Time
}

// StuckGrace is how long past its deadline a task may take to stop.
const StuckGrace = time.Minute

// PoolWindow is the span over which growing acquire waits mean exhaustion.
const PoolWindow = 15 * time.Second

// NewHealth tracks tasks run through Middleware and the pool that pool
// reports (nil: not watched).
func NewHealth(pool func() PoolStats, log *slog.Logger) *Health {
	return &Health{pool: pool, log: log, now: time.Now, running: map[uint64]runningTask{}}
}

// SetClock replaces the clock (tests).
func (h *Health) SetClock(now func() time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.now = now
}

// Middleware records every task while its handler runs.
func (h *Health) Middleware(next asynq.Handler) asynq.Handler {
	return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
		id, _ := asynq.GetTaskID(ctx)
		deadline, _ := ctx.Deadline()
		h.mu.Lock()
		h.next++
		key := h.next
		h.running[key] = runningTask{typ: t.Type(), id: id, started: h.now(), deadline: deadline}
		h.mu.Unlock()
		defer func() {
			h.mu.Lock()
			delete(h.running, key)
			h.mu.Unlock()
		}()
		return next.ProcessTask(ctx, t)
	})
}

// Report is the health endpoint's answer.
type Report struct {
	Status  string   `json:"status"` // ok or unhealthy
	Reasons []string `json:"reasons,omitempty"`
	Running int      `json:"running"`
}

// Check judges the worker now, and logs when the verdict changes.
func (h *Health) Check() Report {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.now()
	var reasons []string
	for _, r := range h.running {
		if !r.deadline.IsZero() && now.After(r.deadline.Add(StuckGrace)) {
			reasons = append(reasons, fmt.Sprintf("task %s (%s) has run %s, past its timeout of %s",
				r.typ, r.id, now.Sub(r.started).Round(time.Second), r.deadline.Sub(r.started).Round(time.Second)))
		}
	}
	sort.Strings(reasons)
	if h.pool != nil {
		if h.sampled.IsZero() || now.Sub(h.sampled) >= PoolWindow {
			cur := h.pool()
			h.poolBad = ""
			if !h.sampled.IsZero() {
				switch {
				case cur.Refused > h.sample.Refused:
					h.poolBad = fmt.Sprintf("database pool exhausted: %d jobs could not get connections in the last %s",
						cur.Refused-h.sample.Refused, now.Sub(h.sampled).Round(time.Second))
				case cur.Acquired >= cur.Max && cur.Waits > h.sample.Waits:
					h.poolBad = fmt.Sprintf("database pool exhausted: all %d connections in use and %d acquisitions waited in the last %s",
						cur.Max, cur.Waits-h.sample.Waits, now.Sub(h.sampled).Round(time.Second))
				}
			}
			h.sample, h.sampled = cur, now
		}
		if h.poolBad != "" {
			reasons = append(reasons, h.poolBad)
		}
	}
	rep := Report{Status: "ok", Reasons: reasons, Running: len(h.running)}
	unwell := len(reasons) > 0
	if unwell {
		rep.Status = "unhealthy"
	}
	if unwell != h.unwell || !h.reported {
		if unwell {
			h.log.Warn("worker unhealthy", "reasons", reasons)
		} else if h.reported {
			h.log.Info("worker healthy again")
		}
		h.unwell, h.reported = unwell, true
	}
	return rep
}

// Watch checks every interval until ctx ends, so a change is logged even
// when nobody asks.
func (h *Health) Watch(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			h.Check()
		}
	}
}

// Handler serves GET /healthz: 200 when well, 503 with the reasons when not.
func (h *Health) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		rep := h.Check()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		if rep.Status != "ok" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		_ = json.NewEncoder(w).Encode(rep)
	})
	return mux
}
