// Package migrations holds the numbered goose SQL migrations of the app's
// Postgres schema, embedded so the binary migrates itself.
package migrations

import "embed"

// FS holds every migration file.
//
//go:embed *.sql
var FS embed.FS
