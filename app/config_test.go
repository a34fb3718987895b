package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/secretbox"
)

const testEncryptionKey = "v1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="

func TestConfigFailsClosed(t *testing.T) {
	cases := map[string]struct {
		key, secret, encryption string
		policy                  credentialPolicy
		wantErr                 string // "" = starts
		wantDemo                bool
	}{
		"nothing set":                {policy: requireCredentials, wantErr: "SHOPIFY_API_KEY, SHOPIFY_API_SECRET, ENCRYPTION_KEY not set"},
		"no secret":                  {key: "k", encryption: testEncryptionKey, policy: requireCredentials, wantErr: "SHOPIFY_API_SECRET not set"},
		"no key":                     {secret: "s", encryption: testEncryptionKey, policy: requireCredentials, wantErr: "SHOPIFY_API_KEY not set"},
		"no encryption key":          {key: "k", secret: "s", policy: requireCredentials, wantErr: "ENCRYPTION_KEY not set"},
		"all set":                    {key: "k", secret: "s", encryption: testEncryptionKey, policy: requireCredentials},
		"demo secret in production":  {key: "k", secret: demoClientSecret, encryption: testEncryptionKey, policy: requireCredentials, wantErr: "only `cvo demo`"},
		"demo key in production":     {key: "k", secret: "s", encryption: demoEncryptionKey, policy: requireCredentials, wantErr: "only `cvo demo`"},
		"demo":                       {policy: demoCredentials, wantDemo: true},
		"demo ignores real secrets":  {key: "k", secret: "s", encryption: testEncryptionKey, policy: demoCredentials, wantDemo: true},
		"tool without credentials":   {policy: toolCredentials},
		"tool with credentials":      {key: "k", secret: "s", encryption: testEncryptionKey, policy: toolCredentials},
		"tool with half credentials": {key: "k", policy: toolCredentials, wantErr: "SHOPIFY_API_SECRET, ENCRYPTION_KEY not set"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Setenv("SHOPIFY_API_KEY", tc.key)
			t.Setenv("SHOPIFY_API_SECRET", tc.secret)
			t.Setenv("ENCRYPTION_KEY", tc.encryption)
			cfg, err := loadConfig(tc.policy)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.wantDemo, cfg.Demo)
			_, err = secretbox.ParseKeyring(cfg.EncryptionKey)
			assert.NoError(t, err, "a usable encryption key")
			if tc.policy == demoCredentials {
				assert.Equal(t, demoClientSecret, cfg.ClientSecret)
			}
		})
	}
}
