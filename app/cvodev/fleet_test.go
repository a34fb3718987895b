package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The fleet runs the served binary, never cvodev itself, and says how to
// get it when it is missing.
func TestFleetRunsTheServedBinary(t *testing.T) {
	dir := t.TempDir()
	cvo := filepath.Join(dir, "cvo")
	require.NoError(t, os.WriteFile(cvo, []byte("#!/bin/sh\n"), 0o755))
	t.Chdir(dir)
	cases := map[string]struct {
		flagged, want, wantErr string
	}{
		"named, relative":  {flagged: "cvo", want: cvo},
		"named, absolute":  {flagged: cvo, want: cvo},
		"named, missing":   {flagged: "nowhere/cvo", wantErr: "make build"},
		"named, directory": {flagged: dir, wantErr: "make build"},
		// The default is the cvo beside the test binary, which is not there.
		"default, missing": {wantErr: "no cvo binary at"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := servedBinary(tc.flagged)
			if tc.wantErr != "" {
				assert.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}
