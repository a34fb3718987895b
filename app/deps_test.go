package main

import (
	"os/exec"
	"path"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestServedBinaryLinksNoDevCode lists every package the cvo binary links
// and fails if the simulator, the generator, the fleet harness, the
// developer command or any benchmark file is among them: those belong in
// cvodev, never in what a merchant-facing deployment runs.
func TestServedBinaryLinksNoDevCode(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", `{{.ImportPath}}{{range .GoFiles}} {{.}}{{end}}`, ".").CombinedOutput()
	require.NoError(t, err, string(out))
	forbidden := []string{
		"github.com/cvo-app/cvo/internal/simulator",
		"github.com/cvo-app/cvo/internal/shopgen",
		"github.com/cvo-app/cvo/internal/fleet",
		"github.com/cvo-app/cvo/app/cvodev",
	}
	var ours int
	for line := range strings.Lines(strings.TrimSpace(string(out))) {
		fields := strings.Fields(line)
		pkg, files := fields[0], fields[1:]
		if !strings.HasPrefix(pkg, "github.com/cvo-app/cvo") {
			continue
		}
		ours++
		for _, f := range forbidden {
			assert.False(t, pkg == f || strings.HasPrefix(pkg, f+"/"), "cvo links %s", pkg)
		}
		for _, f := range files {
			assert.False(t, strings.HasPrefix(path.Base(f), "bench"), "cvo links benchmark code %s/%s", pkg, f)
		}
	}
	// The list is the real one: the served binary's own wiring is in it.
	assert.Greater(t, ours, 10)
	assert.Contains(t, string(out), "github.com/cvo-app/cvo/app/internal/wiring ")
	assert.Contains(t, string(out), "github.com/cvo-app/cvo/internal/web ")
}

// TestMathPackagesStayPure: the scoring math and the compact ledger import
// nothing that speaks HTTP, SQL or Shopify, so they can be tested, reused
// and reasoned about on numbers alone.
func TestMathPackagesStayPure(t *testing.T) {
	pure := []string{"rfm", "clv", "reports", "ledger", "finite", "localtime", "parallel"}
	forbidden := []string{"net/http", "database/sql", "github.com/jackc/pgx", "gorm.io", "github.com/labstack/echo",
		"github.com/hibiken/asynq", "github.com/bold-commerce/go-shopify",
		"github.com/cvo-app/cvo/internal/postgres", "github.com/cvo-app/cvo/internal/shopify", "github.com/cvo-app/cvo/internal/web"}
	for _, p := range pure {
		t.Run(p, func(t *testing.T) {
			out, err := exec.Command("go", "list", "-deps", "../internal/"+p).CombinedOutput()
			require.NoError(t, err, string(out))
			deps := strings.Fields(string(out))
			require.Contains(t, deps, "github.com/cvo-app/cvo/internal/"+p, "the list is the package's own")
			for _, d := range deps {
				for _, f := range forbidden {
					assert.False(t, d == f || strings.HasPrefix(d, f+"/"), "%s imports %s", p, d)
				}
			}
		})
	}
}
