package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/app/internal/wiring"
)

const testEncryptionKey = "v1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="

// The served commands refuse the demo's public secret and key, knowing
// only their digests; the demo and the tools use them.
func TestDemoCredentialsStayInTheDemo(t *testing.T) {
	cases := map[string]struct {
		secret, encryption string
		policy             wiring.Policy
		wantErr            string
		wantDemo           bool
	}{
		"demo secret in production":      {secret: demoClientSecret, encryption: testEncryptionKey, policy: wiring.RequireCredentials, wantErr: "only `cvodev demo`"},
		"demo key in production":         {secret: "s", encryption: demoEncryptionKey, policy: wiring.RequireCredentials, wantErr: "only `cvodev demo`"},
		"real credentials in production": {secret: "s", encryption: testEncryptionKey, policy: wiring.RequireCredentials},
		"demo":                           {policy: wiring.DemoCredentials(demoCredentials), wantDemo: true},
		"tool without credentials":       {policy: toolCredentials},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			key := ""
			if tc.secret != "" {
				key = "k"
			}
			t.Setenv("SHOPIFY_API_KEY", key)
			t.Setenv("SHOPIFY_API_SECRET", tc.secret)
			t.Setenv("ENCRYPTION_KEY", tc.encryption)
			cfg, err := wiring.LoadConfig(tc.policy)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.wantDemo, cfg.Demo)
		})
	}
}

// TestServedBinaryHoldsNoDemoSecret builds cvo and looks for the demo's
// secret and key in its bytes: a deployment's binary must not carry them.
func TestServedBinaryHoldsNoDemoSecret(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the cvo binary")
	}
	bin := filepath.Join(t.TempDir(), "cvo")
	out, err := exec.Command("go", "build", "-o", bin, "..").CombinedOutput()
	require.NoError(t, err, string(out))
	b, err := os.ReadFile(bin)
	require.NoError(t, err)
	require.True(t, bytes.Contains(b, []byte("SHOPIFY_API_SECRET")), "the search reads the binary's strings")
	for _, s := range []string{demoClientSecret, demoEncryptionKey, demoClientID} {
		assert.False(t, bytes.Contains(b, []byte(s)), "cvo holds %q", s)
	}
}
