//go:build !unix

package reports

import "testing"

func reportCPU(_ *testing.B, run func()) { run() }
