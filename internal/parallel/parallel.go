// Package parallel splits a pass over n items into contiguous chunks run on
// every core, the same way every time, so that passes over the same items
// agree on who handled what. It imports nothing but the standard library.
package parallel

import (
	"runtime"
	"sync"
)

// Workers is how many chunks a pass over n items uses: one per core, at
// most 8, and no chunk smaller than grain items.
func Workers(n, grain int) int {
	return min(runtime.GOMAXPROCS(0), 8, max(1, n/grain))
}

// Chunks runs work over w contiguous chunks of [0, n); chunk k is always
// [n*k/w, n*(k+1)/w). A panic in a chunk is raised again in the caller's
// goroutine once every chunk has ended, where a job runner can recover it,
// instead of killing the process.
func Chunks(n, w int, work func(k, lo, hi int)) {
	if w <= 1 {
		work(0, 0, n)
		return
	}
	var wg sync.WaitGroup
	panics := make([]any, w)
	for k := range w {
		lo, hi := n*k/w, n*(k+1)/w
		wg.Go(func() {
			defer func() { panics[k] = recover() }()
			work(k, lo, hi)
		})
	}
	wg.Wait()
	for _, p := range panics {
		if p != nil {
			panic(p)
		}
	}
}
