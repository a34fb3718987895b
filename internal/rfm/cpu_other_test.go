//go:build !unix

package rfm

import "testing"

func reportCPU(_ *testing.B, run func()) { run() }
