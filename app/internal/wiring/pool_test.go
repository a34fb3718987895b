package wiring

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/postgres"
)

// loadConfigWith loads the configuration of a served process (credentials
// set) with one more variable set.
func loadConfigWith(t *testing.T, name, value string) (Config, error) {
	t.Setenv("SHOPIFY_API_KEY", "k")
	t.Setenv("SHOPIFY_API_SECRET", "s")
	t.Setenv("ENCRYPTION_KEY", testEncryptionKey)
	t.Setenv(name, value)
	return LoadConfig(RequireCredentials)
}

func TestWorkerPoolFollowsItsConcurrency(t *testing.T) {
	cases := map[string]struct {
		concurrency string
		want        int
		wantErr     bool
	}{
		"default":      {concurrency: "", want: 4},
		"set":          {concurrency: "3", want: 3},
		"zero":         {concurrency: "0", wantErr: true},
		"not a number": {concurrency: "four", wantErr: true},
		"absurd":       {concurrency: "100000", wantErr: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			cfg, err := loadConfigWith(t, "WORKER_CONCURRENCY", tc.concurrency)
			if tc.wantErr {
				require.Error(t, err)
				assert.Contains(t, err.Error(), "WORKER_CONCURRENCY")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, cfg.WorkerConcurrency)
			size := int32(tc.want*postgres.JobConns + postgres.ReserveConns)
			assert.Equal(t, postgres.Options{MaxConns: size, MinConns: size}, WorkerPool(cfg))
			assert.Equal(t, postgres.Options{}, ServerPool(cfg), "the server's pool is its own, pgx's default")
		})
	}
}

func TestTrustedProxiesAreRead(t *testing.T) {
	cases := map[string]struct {
		env     string
		want    []string
		wantErr bool
	}{
		"none":                 {env: "", want: nil},
		"CIDRs and an address": {env: "10.0.0.0/8, 2001:db8::/32,192.0.2.7", want: []string{"10.0.0.0/8", "2001:db8::/32", "192.0.2.7/32"}},
		"an IPv6 address":      {env: "2001:db8::1", want: []string{"2001:db8::1/128"}},
		"garbage":              {env: "10.0.0.0/8,proxy.example", wantErr: true},
		"bad mask":             {env: "10.0.0.0/33", wantErr: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			cfg, err := loadConfigWith(t, "TRUSTED_PROXIES", tc.env)
			if tc.wantErr {
				require.Error(t, err)
				assert.Contains(t, err.Error(), "TRUSTED_PROXIES")
				return
			}
			require.NoError(t, err)
			var got []string
			for _, n := range cfg.TrustedProxies {
				got = append(got, n.String())
			}
			assert.Equal(t, tc.want, got)
		})
	}
}
