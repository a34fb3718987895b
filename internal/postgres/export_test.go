package postgres

// SameSnapshot exposes OrderStore.sameSnapshot to the package's tests.
var SameSnapshot = (*OrderStore).sameSnapshot
