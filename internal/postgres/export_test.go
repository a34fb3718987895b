package postgres

// SharedSnapshot lets the external tests hold sharedSnapshot to its
// promise.
var SharedSnapshot = (*DB).sharedSnapshot
