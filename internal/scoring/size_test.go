package scoring

import (
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
)

// TestForecastStaysSmall holds a forecast, of which a million are held
// from the models to the scores, to its measured size.
func TestForecastStaysSmall(t *testing.T) {
	assert.Equal(t, uintptr(48), unsafe.Sizeof(forecast{}))
}

// TestCustomerScoreStaysSmall holds a score, of which a million are held
// together from their assembly to their writing, to its measured size: its
// times are Unix seconds, not time.Time.
func TestCustomerScoreStaysSmall(t *testing.T) {
	assert.Equal(t, uintptr(184), unsafe.Sizeof(CustomerScore{}))
}
