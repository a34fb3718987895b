package simulator

import "net/http"

// Bulk operations arrive in phase 2; these hooks keep the executor ready.

type bulkRunner struct{ sim *Simulator }

func newBulkRunner(s *Simulator) *bulkRunner { return &bulkRunner{sim: s} }

func (b *bulkRunner) close()                 {}
func (b *bulkRunner) cancelShop(shop string) {}

type bulkWalk struct{}

func (w *bulkWalk) stream(src listSource, item func(i int) any) any { return nil }

func (s *Simulator) serveBulkFile(w http.ResponseWriter, r *http.Request) {
	http.Error(w, "Not Found", http.StatusNotFound)
}

func addBulkTypes(sc *schema) {}
