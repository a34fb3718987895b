package parallel

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestChunksCoverEachItemOnce(t *testing.T) {
	for _, tc := range []struct{ n, w int }{{0, 1}, {1, 1}, {10, 3}, {7, 8}, {100_000, 2}} {
		seen := make([]int, tc.n)
		bounds := make([][2]int, max(tc.w, 1))
		Chunks(tc.n, tc.w, func(k, lo, hi int) {
			bounds[k] = [2]int{lo, hi}
			for i := lo; i < hi; i++ {
				seen[i]++
			}
		})
		for i := range seen {
			require.Equal(t, 1, seen[i], "n %d w %d item %d", tc.n, tc.w, i)
		}
		if tc.w > 1 {
			for k, b := range bounds {
				assert.Equal(t, [2]int{tc.n * k / tc.w, tc.n * (k + 1) / tc.w}, b, "chunk %d of %d", k, tc.w)
			}
		}
	}
}

func TestChunksHandTheirPanicToTheCaller(t *testing.T) {
	assert.PanicsWithValue(t, "bad shop", func() {
		Chunks(10, 2, func(k, _, _ int) {
			if k == 1 {
				panic("bad shop")
			}
		})
	})
}

func TestWorkersKeepsChunksLarge(t *testing.T) {
	assert.Equal(t, 1, Workers(10, 50_000))
	assert.Equal(t, 1, Workers(0, 64))
	assert.LessOrEqual(t, Workers(10_000_000, 1), 8)
	assert.GreaterOrEqual(t, Workers(10_000_000, 1), 1)
}
