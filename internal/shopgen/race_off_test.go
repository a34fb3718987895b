//go:build !race

package shopgen

const raceDetector = false
