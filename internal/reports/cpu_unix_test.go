//go:build unix

package reports

import (
	"syscall"
	"testing"
)

// reportCPU adds cpu-ns/op (user + system time of the whole process,
// garbage collector included) next to wall time, which on a shared
// machine mostly measures the neighbours.
func reportCPU(b *testing.B, run func()) {
	before := cpuNanos()
	run()
	b.ReportMetric(float64(cpuNanos()-before)/float64(b.N), "cpu-ns/op")
}

func cpuNanos() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
