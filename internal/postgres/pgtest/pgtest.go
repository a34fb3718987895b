// Package pgtest gives each test its own freshly migrated PostgreSQL
// database, cloned from a template so a test pays milliseconds, not a full
// migration.
package pgtest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/postgres"
	"github.com/cvo-app/cvo/migrations"
)

// AdminURL is the server the tests use; TEST_DATABASE_URL overrides it.
func AdminURL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

var (
	templateOnce sync.Once
	templateName string
	templateErr  error
)

// New returns a migrated database of the test's own, dropped when the test ends.
func New(t testing.TB) *postgres.DB {
	t.Helper()
	db, _ := NewWithURL(t)
	return db
}

// NewWithURL is New, also returning the database's URL for code under test
// that opens its own connections.
func NewWithURL(t testing.TB) (*postgres.DB, string) {
	t.Helper()
	ctx := context.Background()
	templateOnce.Do(func() { templateName, templateErr = ensureTemplate(ctx) })
	require.NoError(t, templateErr, "prepare template database")

	name := fmt.Sprintf("cvo_t_%d_%d", os.Getpid(), time.Now().UnixNano())
	admin, err := pgx.Connect(ctx, AdminURL())
	require.NoError(t, err)
	defer admin.Close(ctx)
	// CREATE DATABASE ... TEMPLATE fails while another session is connected to
	// the template, so creations from parallel packages are retried.
	for attempt := 0; ; attempt++ {
		_, err = admin.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", name, templateName))
		if err == nil || attempt > 50 || !strings.Contains(err.Error(), "being accessed") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	require.NoError(t, err, "create test database")

	url := withDatabase(AdminURL(), name)
	db, err := postgres.Open(ctx, url)
	require.NoError(t, err)
	t.Cleanup(func() {
		db.Close()
		c, err := pgx.Connect(context.Background(), AdminURL())
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		_, _ = c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	return db, url
}

// URL returns the connection URL of a database by name on the test server.
func URL(name string) string { return withDatabase(AdminURL(), name) }

// ensureTemplate builds, once per schema version, a migrated database to
// clone. Its name carries a hash of the migrations, so a changed schema gets
// a new template and stale ones are never used.
func ensureTemplate(ctx context.Context) (string, error) {
	h := sha256.New()
	err := fs.WalkDir(migrations.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(migrations.FS, path)
		if err != nil {
			return err
		}
		h.Write([]byte(path))
		h.Write(b)
		return nil
	})
	if err != nil {
		return "", err
	}
	name := "cvo_tpl_" + hex.EncodeToString(h.Sum(nil))[:16]

	admin, err := pgx.Connect(ctx, AdminURL())
	if err != nil {
		return "", fmt.Errorf("connect to test server: %w", err)
	}
	defer admin.Close(ctx)
	// Parallel test binaries race to build the template: an advisory lock
	// lets one build it while the others wait.
	if _, err := admin.Exec(ctx, "SELECT pg_advisory_lock(727274)"); err != nil {
		return "", err
	}
	defer admin.Exec(ctx, "SELECT pg_advisory_unlock(727274)") //nolint:errcheck

	var exists bool
	if err := admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	building := name + "_building"
	_, _ = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+building+" WITH (FORCE)")
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+building); err != nil {
		return "", fmt.Errorf("create template: %w", err)
	}
	db, err := postgres.Open(ctx, withDatabase(AdminURL(), building))
	if err != nil {
		return "", err
	}
	err = db.Migrate(ctx)
	db.Close()
	if err != nil {
		return "", err
	}
	if _, err := admin.Exec(ctx, "ALTER DATABASE "+building+" RENAME TO "+name); err != nil {
		return "", fmt.Errorf("publish template: %w", err)
	}
	return name, nil
}

func withDatabase(url, name string) string {
	i := strings.LastIndex(url, "/")
	q := ""
	if j := strings.Index(url[i:], "?"); j >= 0 {
		q = url[i+j:]
	}
	return url[:i+1] + name + q
}
