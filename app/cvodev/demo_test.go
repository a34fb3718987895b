package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/app/internal/wiring"
)

// The served commands refuse the demo's public secret and key, knowing
// only their digests; the demo and the tools use them.
func TestDemoCredentialsStayInTheDemo(t *testing.T) {
	real := wiring.Credentials{ClientID: "k", ClientSecret: "s", EncryptionKey: "v1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="}
	cases := map[string]struct {
		env      wiring.Credentials
		policy   wiring.Policy
		refused  bool
		wantDemo bool
	}{
		"demo secret in production":      {env: wiring.Credentials{ClientID: "k", ClientSecret: demoClientSecret, EncryptionKey: real.EncryptionKey}, refused: true},
		"demo key in production":         {env: wiring.Credentials{ClientID: "k", ClientSecret: "s", EncryptionKey: demoEncryptionKey}, refused: true},
		"real credentials in production": {env: real},
		"demo":                           {policy: wiring.DemoCredentials(demoCredentials), wantDemo: true},
		"tool without credentials":       {policy: toolCredentials},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Setenv("SHOPIFY_API_KEY", tc.env.ClientID)
			t.Setenv("SHOPIFY_API_SECRET", tc.env.ClientSecret)
			t.Setenv("ENCRYPTION_KEY", tc.env.EncryptionKey)
			cfg, err := wiring.LoadConfig(tc.policy)
			if tc.refused {
				assert.ErrorContains(t, err, "only `cvodev demo`")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.wantDemo, cfg.Demo)
		})
	}
}

// buildServed builds the cvo binary, the one a deployment runs.
func buildServed(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the cvo binary")
	}
	bin := filepath.Join(t.TempDir(), "cvo")
	out, err := exec.Command("go", "build", "-o", bin, "..").CombinedOutput()
	require.NoError(t, err, string(out))
	return bin
}

// TestServedBinaryHoldsNoDemoSecret looks for the demo's credentials in
// the bytes of the built cvo: a deployment's binary must not carry them.
func TestServedBinaryHoldsNoDemoSecret(t *testing.T) {
	b, err := os.ReadFile(buildServed(t))
	require.NoError(t, err)
	require.True(t, bytes.Contains(b, []byte("SHOPIFY_API_SECRET")), "the search reads the binary's strings")
	for _, s := range []string{demoClientSecret, demoEncryptionKey, demoClientID} {
		assert.False(t, bytes.Contains(b, []byte(s)), "cvo holds %q", s)
	}
}

// TestServedCommandsFailClosed runs the built cvo: every command that
// serves real shops refuses to start without credentials, and the demo and
// the developer tools are not among its commands at all.
func TestServedCommandsFailClosed(t *testing.T) {
	bin := buildServed(t)
	const missing = "SHOPIFY_API_KEY, SHOPIFY_API_SECRET, ENCRYPTION_KEY not set"
	cases := map[string]struct {
		args     []string
		wantCode int
		wantErr  string
	}{
		"run":             {args: []string{"run"}, wantCode: 1, wantErr: missing},
		"serve":           {args: []string{"serve"}, wantCode: 1, wantErr: missing},
		"worker":          {args: []string{"worker"}, wantCode: 1, wantErr: missing},
		"migrate":         {args: []string{"migrate"}, wantCode: 1, wantErr: missing},
		"demo":            {args: []string{"demo"}, wantCode: 2, wantErr: `unknown command "demo"`},
		"simulator":       {args: []string{"simulator"}, wantCode: 2, wantErr: `unknown command "simulator"`},
		"bench-api":       {args: []string{"bench-api"}, wantCode: 2, wantErr: `unknown command "bench-api"`},
		"no command":      {wantCode: 2, wantErr: "Usage:"},
		"help":            {args: []string{"help"}, wantCode: 0},
		"score, no input": {args: []string{"score"}, wantCode: 1, wantErr: "--orders"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command(bin, tc.args...)
			// Nothing from the developer's environment: no credentials.
			cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			code := 0
			if err := cmd.Run(); err != nil {
				var exit *exec.ExitError
				require.True(t, errors.As(err, &exit), err)
				code = exit.ExitCode()
			}
			assert.Equal(t, tc.wantCode, code, stderr.String())
			assert.Contains(t, stderr.String(), tc.wantErr)
		})
	}
}

// The demo says which shop it plays and why, and never passes a generated
// or extracted shop off as the full data.
func TestDemoSaysWhichShopAndWhy(t *testing.T) {
	only := func(paths ...string) func(string) bool {
		return func(p string) bool {
			for _, q := range paths {
				if p == q {
					return true
				}
			}
			return false
		}
	}
	cases := []struct {
		name, demoData string
		exists         func(string) bool
		kind, path     string
		inName         string
		err            string
	}{
		{name: "full file beside the checkout", exists: only(defaultDemoData), kind: "online-retail", path: defaultDemoData, inName: "full data"},
		{name: "no shared data: the bundled extract", exists: only(), kind: "extract", inName: "extract (221 customers; full file not found)"},
		{name: "DEMO_DATA names a copy", demoData: "/data/or.csv.gz", exists: only("/data/or.csv.gz", defaultDemoData), kind: "online-retail", path: "/data/or.csv.gz", inName: "full data"},
		{name: "DEMO_DATA names a missing file", demoData: "/nope.csv.gz", exists: only(defaultDemoData), err: "DEMO_DATA names /nope.csv.gz, which is not a file"},
		{name: "DEMO_DATA=generated", demoData: "generated", exists: only(defaultDemoData), kind: "generated", inName: "generated shop"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src, err := pickDemoSource(tc.demoData, tc.exists)
			if tc.err != "" {
				assert.EqualError(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.kind, src.kind)
			assert.Equal(t, tc.path, src.path)
			assert.NotEmpty(t, src.why)
			assert.Contains(t, src.shopName(), tc.inName)
		})
	}
}
