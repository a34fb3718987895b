package rescore

import (
	"fmt"
	"runtime/debug"
	"sync"
	"time"
)

// What a rescore holds live at its peak, with room above it. The worker's
// Go memory limit (wiring.WorkerMemoryLimit, a quarter above the budget)
// makes the garbage collector work harder as the rescores admitted near
// it, so a rescore needs its live heap, not the twice that the collector
// lets a lone job's heap grow to when nothing is near the limit. Measured
// with `cvodev bench-sync --rescore-only` (README, "Memory"): peak live
// heaps of 15–18, 56–62 and 441–514 MiB for shops of 10k, 100k and 1M
// customers with five orders and 2.5 lines an order each (peak RSS 53–57,
// 126–133 and 909–1,044 MiB with no limit in reach); four 1M rescores at
// once under a budget of four times this estimate (2,772 MiB) peaked at
// 3,179 MiB in 51.9 s. The estimate (31, 90 and 693 MiB) keeps a third or
// more above the live peak, because a shop of another shape needs more:
// each product line of a customer's first purchase holds 40–60 bytes live
// through the scoring, so that room is four more lines a first order at
// 1M. The live peaks are what the collector last marked, sampled: the
// heap between two collections can hold more, which that room also
// covers. (`cvo score` sets its own limit, app/score.go, for orders
// without lines or refunds.) Measured again later the same day, after the
// read's and the models' garbage was cut: 12–17, 49–50 and 411–420 MiB
// live, 50–52, 94 and 551 MiB of RSS, four 1M at once 1,922 MiB. The
// estimate was left as it is: its room above those peaks is what covers
// shops whose first orders carry more lines than the bench shop's. A
// grocer's shop of 1M customers and 9.8 lines an order (`bench-sync
// --basket-scale 8`) peaked at 598–599 MiB live and 790–794 MiB of RSS,
// within the estimate by a seventh; since the first purchases' lines are
// no longer gathered as pairs, at 478 MiB live and 596–597 of RSS (the
// bench shop at 362–372 and 550–551), so a line of a first purchase now
// holds about 16 bytes at the peak, not 27.
const (
	BytesPerCustomer = 280
	BytesPerOrder    = 84
	bytesBase        = 24 << 20
)

// EstimateBytes is the memory a rescore of a shop of this size needs at
// its peak.
func EstimateBytes(customers, orders int64) int64 {
	return bytesBase + customers*BytesPerCustomer + orders*BytesPerOrder
}

// ErrMemoryBusy means the worker's memory budget is taken by other
// rescores running now; the job retries soon instead of waiting, so that
// it holds nothing (a shop lock, a connection) while it would wait. It is
// busy, not a failure: the retry does not count against the task's.
var ErrMemoryBusy error = memoryBusy{}

type memoryBusy struct{}

func (memoryBusy) Error() string { return "the worker's memory budget is in use by other rescores" }

// Busy marks a wait, not a failure (jobs.IsFailure).
func (memoryBusy) Busy() bool { return true }

// TooBigError means a shop needs more memory than the whole budget: no
// retry on this worker can score it until the budget is raised.
type TooBigError struct {
	Need, Budget int64
}

func (e *TooBigError) Error() string {
	return fmt.Sprintf("scoring this shop needs about %s of memory, more than the worker's budget of %s (WORKER_MEMORY_BUDGET)",
		bytesText(e.Need), bytesText(e.Budget))
}

// MemoryBudget admits rescores by the memory they will need, so that a
// worker running several at once stays within a bound it can state
// instead of being killed by the kernel. A nil budget admits everything.
type MemoryBudget struct {
	total int64
	now   func() time.Time
	mu    sync.Mutex
	used  int64
	// waiter is the largest rescore turned away for memory lately: room
	// is kept for it, so that smaller rescores coming and going cannot
	// starve it.
	waiter waiting
}

type waiting struct {
	key   string
	need  int64
	until time.Time // forgotten after this unless it asks again
}

// waiterPatience is how long room is kept for a rescore turned away for
// memory; its retries, 5–10 s apart, renew it.
const waiterPatience = time.Minute

// SetClock replaces the clock (tests).
func (b *MemoryBudget) SetClock(now func() time.Time) { b.now = now }

// NewMemoryBudget returns a budget of total bytes.
func NewMemoryBudget(total int64) *MemoryBudget { return &MemoryBudget{total: total, now: time.Now} }

// Total is the budget in bytes.
func (b *MemoryBudget) Total() int64 { return b.total }

// InUse is the bytes reserved now.
func (b *MemoryBudget) InUse() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// Reserve takes need bytes from the budget for the job named key (the
// shop) without waiting. It returns a *TooBigError when need exceeds the
// whole budget and ErrMemoryBusy when it does not fit beside the rescores
// running now, or would take the room kept for a larger one turned away
// before it; release gives the bytes back and may be called more than
// once.
func (b *MemoryBudget) Reserve(key string, need int64) (release func(), err error) {
	if b == nil {
		return func() {}, nil
	}
	if need > b.total {
		return nil, &TooBigError{Need: need, Budget: b.total}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	w := &b.waiter
	if w.key != "" && now.After(w.until) {
		*w = waiting{}
	}
	kept := int64(0)
	if w.key != "" && w.key != key {
		kept = w.need
	}
	if b.used+need > b.total || (kept > 0 && b.used+need+kept > b.total) {
		if w.key == key || need > w.need || w.key == "" {
			*w = waiting{key: key, need: need, until: now.Add(waiterPatience)}
		}
		return nil, ErrMemoryBusy
	}
	if w.key == key {
		*w = waiting{}
	}
	b.used += need
	var once sync.Once
	return func() {
		once.Do(func() {
			b.mu.Lock()
			b.used -= need
			b.mu.Unlock()
		})
	}, nil
}

// bigJob is the estimate from which a job gives its memory back to the
// system when it ends (a shop of about 40,000 customers with their
// orders): the forced collection this costs is small beside such a job.
const bigJob = 64 << 20

// returnMemory hands the heap a big job freed back to the system at once,
// instead of over the minutes the runtime's scavenger would take, so that
// a worker between big shops holds what it uses, not its last peak.
func returnMemory(estimate int64) {
	if estimate >= bigJob {
		debug.FreeOSMemory()
	}
}

func bytesText(n int64) string {
	const gib, mib = 1 << 30, 1 << 20
	if n >= gib {
		return fmt.Sprintf("%.1f GiB", float64(n)/gib)
	}
	return fmt.Sprintf("%d MiB", (n+mib-1)/mib)
}
