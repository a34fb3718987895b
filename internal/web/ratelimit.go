package web

import (
	"sync"
	"time"
)

// rateLimiter counts requests per key in fixed windows, in bounded memory:
// at most maxKeys counters exist at once (about 100 bytes each). When the
// table is full, keys not yet in it share one overflow counter with
// ten times the limit, so a flood of new keys (many addresses, forged
// links) can neither grow memory nor evict the counters of the keys being
// limited. Each server process counts alone: a fleet of n servers allows
// up to n× the limit.
type rateLimiter struct {
	mu       sync.Mutex
	limit    int
	window   time.Duration
	maxKeys  int
	start    time.Time
	counts   map[string]int
	overflow int
	now      func() time.Time
}

func newRateLimiter(limit int, window time.Duration, maxKeys int) *rateLimiter {
	return &rateLimiter{limit: limit, window: window, maxKeys: maxKeys, counts: make(map[string]int), now: time.Now}
}

// allow counts one request of key and says whether it is within the limit.
func (l *rateLimiter) allow(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if now.Sub(l.start) >= l.window {
		l.start, l.overflow = now, 0
		clear(l.counts)
	}
	n, ok := l.counts[key]
	if !ok && len(l.counts) >= l.maxKeys {
		l.overflow++
		return l.overflow <= 10*l.limit
	}
	l.counts[key] = n + 1
	return n+1 <= l.limit
}
