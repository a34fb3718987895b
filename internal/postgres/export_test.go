package postgres

import "time"

// SharedSnapshot lets the external tests hold sharedSnapshot to its
// promise.
var SharedSnapshot = (*DB).sharedSnapshot

// SetReadLockTimeout shortens ReadSummedOrders' lock waits for a test.
func SetReadLockTimeout(t interface{ Cleanup(func()) }, d time.Duration) {
	old := readLockTimeout
	readLockTimeout = d
	t.Cleanup(func() { readLockTimeout = old })
}
