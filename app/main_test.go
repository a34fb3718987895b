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
)

// TestServedCommandsFailClosed runs the built cvo: every command that
// serves real shops refuses to start without credentials, and the demo and
// the developer tools are not among its commands at all.
func TestServedCommandsFailClosed(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the cvo binary")
	}
	bin := filepath.Join(t.TempDir(), "cvo")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, string(out))
	cases := map[string]struct {
		args     []string
		wantCode int
		wantErr  string
	}{
		"run":             {args: []string{"run"}, wantCode: 1, wantErr: "SHOPIFY_API_KEY, SHOPIFY_API_SECRET, ENCRYPTION_KEY not set"},
		"serve":           {args: []string{"serve"}, wantCode: 1, wantErr: "SHOPIFY_API_KEY, SHOPIFY_API_SECRET, ENCRYPTION_KEY not set"},
		"worker":          {args: []string{"worker"}, wantCode: 1, wantErr: "SHOPIFY_API_KEY, SHOPIFY_API_SECRET, ENCRYPTION_KEY not set"},
		"migrate":         {args: []string{"migrate"}, wantCode: 1, wantErr: "SHOPIFY_API_KEY, SHOPIFY_API_SECRET, ENCRYPTION_KEY not set"},
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
			err := cmd.Run()
			code := 0
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				code = exit.ExitCode()
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tc.wantCode, code, stderr.String())
			assert.Contains(t, stderr.String(), tc.wantErr)
		})
	}
}
