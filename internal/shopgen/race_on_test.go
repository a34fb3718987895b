//go:build race

package shopgen

// raceDetector says the tests run under -race, which makes the full-file
// reads tens of times slower; make test runs those once more without it.
const raceDetector = true
