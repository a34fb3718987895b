package ingest

import "sync"

// Waker lets a bulk_operations/finish webhook wake a sync that is waiting
// for its operations in the same process, so it reads the result at once
// instead of at its next poll. Across processes polling alone does the job:
// the webhook is an optimisation, never needed for correctness.
type Waker struct {
	mu      sync.Mutex
	waiting map[string]chan struct{}
}

// NewWaker returns a waker with nobody waiting.
func NewWaker() *Waker { return &Waker{waiting: map[string]chan struct{}{}} }

// wait returns a channel closed at the shop's next Wake.
func (w *Waker) wait(shop string) <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	ch, ok := w.waiting[shop]
	if !ok {
		ch = make(chan struct{})
		w.waiting[shop] = ch
	}
	return ch
}

// Wake wakes whoever waits on the shop's bulk operations.
func (w *Waker) Wake(shop string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if ch, ok := w.waiting[shop]; ok {
		close(ch)
		delete(w.waiting, shop)
	}
}
