package main

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/rfm"
	"github.com/cvo-app/cvo/internal/secretbox"
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

func TestDemoConfigIsUsable(t *testing.T) {
	t.Setenv("SHOPIFY_API_KEY", "")
	t.Setenv("SHOPIFY_API_SECRET", "")
	t.Setenv("ENCRYPTION_KEY", "")
	cfg, err := loadConfig()
	require.NoError(t, err)
	assert.True(t, cfg.Demo)
	_, err = secretbox.ParseKeyring(cfg.EncryptionKey)
	assert.NoError(t, err, "the demo's key must be a valid key")
}

func TestConfigRefusesHalfCredentials(t *testing.T) {
	t.Setenv("SHOPIFY_API_KEY", "key")
	t.Setenv("SHOPIFY_API_SECRET", "")
	_, err := loadConfig()
	assert.Error(t, err)
	t.Setenv("SHOPIFY_API_SECRET", "secret")
	t.Setenv("ENCRYPTION_KEY", "")
	_, err = loadConfig()
	assert.Error(t, err, "real credentials need a real encryption key")
}
