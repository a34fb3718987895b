package main

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/rfm"
)

// The README prints the group rules; this keeps it the table the code runs.
func TestReadmeShowsTheRulesTheCodeRuns(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	table := rfm.RulesMarkdown()
	start := strings.Index(table, "| # |")
	require.GreaterOrEqual(t, start, 0, "RulesMarkdown has a table")
	assert.Contains(t, string(readme), strings.TrimSpace(table[start:]))
}
