package activation

// SetAfterStep makes w call f after each step of a bulk batch (Step*
// constants); an error from f stops the write-back there.
func SetAfterStep(w *Writer, f func(step string) error) { w.afterStep = f }

// StaleLinks exposes staleLinks to the tests.
var StaleLinks = staleLinks

// SetBulkLimits makes w split bulk variables files at fileBytes and store
// their lines linesPerStore at a time.
func SetBulkLimits(w *Writer, fileBytes int64, linesPerStore int) {
	w.fileBytes, w.linesPerStore = fileBytes, linesPerStore
}
