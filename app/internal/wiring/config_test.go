package wiring

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/secretbox"
)

const testEncryptionKey = "v1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="

// builtin stands in for cvodev's demo credentials, which this package
// never holds (cvodev's tests check the real ones are refused here).
var builtin = Credentials{ClientID: "builtin-id", ClientSecret: "builtin-secret", EncryptionKey: "v1:YnVpbHRpbi1rZXktMzItYnl0ZXMtbG9uZy4uLi4uLi4="}

func TestConfigFailsClosed(t *testing.T) {
	cases := map[string]struct {
		key, secret, encryption string
		policy                  Policy
		wantErr                 string // "" = starts
		wantDemo, wantBuiltin   bool
	}{
		"nothing set":                {policy: RequireCredentials, wantErr: "SHOPIFY_API_KEY, SHOPIFY_API_SECRET, ENCRYPTION_KEY not set"},
		"no secret":                  {key: "k", encryption: testEncryptionKey, policy: RequireCredentials, wantErr: "SHOPIFY_API_SECRET not set"},
		"no key":                     {secret: "s", encryption: testEncryptionKey, policy: RequireCredentials, wantErr: "SHOPIFY_API_KEY not set"},
		"no encryption key":          {key: "k", secret: "s", policy: RequireCredentials, wantErr: "ENCRYPTION_KEY not set"},
		"all set":                    {key: "k", secret: "s", encryption: testEncryptionKey, policy: RequireCredentials},
		"demo":                       {policy: DemoCredentials(builtin), wantDemo: true, wantBuiltin: true},
		"demo ignores real secrets":  {key: "k", secret: "s", encryption: testEncryptionKey, policy: DemoCredentials(builtin), wantDemo: true, wantBuiltin: true},
		"tool without credentials":   {policy: ToolCredentials(builtin), wantBuiltin: true},
		"tool with credentials":      {key: "k", secret: "s", encryption: testEncryptionKey, policy: ToolCredentials(builtin)},
		"tool with half credentials": {key: "k", policy: ToolCredentials(builtin), wantErr: "SHOPIFY_API_SECRET, ENCRYPTION_KEY not set"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Setenv("SHOPIFY_API_KEY", tc.key)
			t.Setenv("SHOPIFY_API_SECRET", tc.secret)
			t.Setenv("ENCRYPTION_KEY", tc.encryption)
			cfg, err := LoadConfig(tc.policy)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.wantDemo, cfg.Demo)
			_, err = secretbox.ParseKeyring(cfg.EncryptionKey)
			assert.NoError(t, err, "a usable encryption key")
			assert.Equal(t, tc.wantBuiltin, cfg.ClientSecret == builtin.ClientSecret, "built-in secret used")
			assert.Equal(t, tc.wantBuiltin, cfg.EncryptionKey == builtin.EncryptionKey, "built-in key used")
		})
	}
}
