package shopgen

import (
	"context"
	"io"
	"os"
	"runtime"
	"testing"

	"github.com/cvo-app/cvo/internal/simulator"
)

// BenchmarkGenerate makes a 100,000-customer, 500,000-order shop into a
// sink that keeps nothing: generation alone.
func BenchmarkGenerate(b *testing.B) {
	opts := GenOptions{Customers: 100_000, Orders: 500_000, Seed: 1}
	for b.Loop() {
		st, err := Generate(context.Background(), opts, discardSink{})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(st.Orders), "orders/op")
	}
}

// BenchmarkGenerateSnapshot adds writing the snapshot (to nowhere).
func BenchmarkGenerateSnapshot(b *testing.B) {
	opts := GenOptions{Customers: 100_000, Orders: 500_000, Seed: 1}
	for b.Loop() {
		w, err := NewSnapshotWriter(io.Discard, opts.Shop())
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Generate(context.Background(), opts, w); err != nil {
			b.Fatal(err)
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLoadOnlineRetail(b *testing.B) {
	if _, err := os.Stat(onlineRetailPath); err != nil {
		b.Skip(err)
	}
	for b.Loop() {
		if _, err := LoadOnlineRetail(context.Background(), onlineRetailPath, discardSink{}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestGenerateLarge is the one-off 1M-customer, 5M-order run behind the
// numbers in the package documentation; it runs only when asked:
// SHOPGEN_LARGE=1 go test -run TestGenerateLarge -v ./internal/shopgen
func TestGenerateLarge(t *testing.T) {
	if os.Getenv("SHOPGEN_LARGE") == "" {
		t.Skip("set SHOPGEN_LARGE=1 to generate 1M customers and 5M orders")
	}
	var peak uint64
	sink := &heapWatch{peak: &peak}
	st, err := Generate(context.Background(), GenOptions{Customers: 1_000_000, Orders: 5_000_000, Seed: 1}, sink)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s; peak heap in use %d MB", st, peak>>20)
}

// heapWatch discards records and samples the heap every few batches.
type heapWatch struct {
	discardSink
	peak  *uint64
	calls int
}

func (h *heapWatch) AddOrders([]simulator.Order) error {
	h.calls++
	if h.calls%20 == 0 {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		*h.peak = max(*h.peak, m.HeapInuse)
	}
	return nil
}
