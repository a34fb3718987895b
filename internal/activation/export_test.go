package activation

// SetAfterStep makes w call f after each step of a bulk batch (Step*
// constants); an error from f stops the write-back there.
func SetAfterStep(w *Writer, f func(step string) error) { w.afterStep = f }

// StaleLinks exposes staleLinks to the tests.
var StaleLinks = staleLinks
