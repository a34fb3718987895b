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
