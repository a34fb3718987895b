package shopify

import "sync"

// BulkWaker lets a bulk_operations/finish webhook wake whoever waits in the
// same process for the shop's bulk operations (a sync, a write-back), so
// they read the result at once instead of at their next poll. Across
// processes polling alone does the job: the webhook is an optimisation,
// never needed for correctness, and a wake-up for another operation of the
// shop costs one early poll.
type BulkWaker struct {
	mu      sync.Mutex
	waiting map[string]chan struct{}
}

// NewBulkWaker returns a waker with nobody waiting.
func NewBulkWaker() *BulkWaker { return &BulkWaker{waiting: map[string]chan struct{}{}} }

// Woken returns a channel closed at the shop's next Wake; a nil waker's
// never is.
func (w *BulkWaker) Woken(shop string) <-chan struct{} {
	if w == nil {
		return nil
	}
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
func (w *BulkWaker) Wake(shop string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if ch, ok := w.waiting[shop]; ok {
		close(ch)
		delete(w.waiting, shop)
	}
}
