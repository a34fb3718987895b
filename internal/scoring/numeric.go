package scoring

// Imported under another name: finite is this package's word for OrZero.
import fnum "github.com/cvo-app/cvo/internal/finite"

// The finite-number rules are internal/finite's, shared with clv, so a
// number the models could not give becomes the same thing in both.
func isFinite(v float64) bool       { return fnum.Is(v) }
func finite(v float64) float64      { return fnum.OrZero(v) }
func clamp01(v float64) float64     { return fnum.Clamp01(v) }
func nonNegative(v float64) float64 { return fnum.NonNegative(v) }
