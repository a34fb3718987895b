package wiring

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// minMemoryBudget is the least WORKER_MEMORY_BUDGET accepted: below it not
// even a small shop's rescore would be admitted.
const minMemoryBudget = 256 << 20

// memoryBudget reads WORKER_MEMORY_BUDGET: bytes, or a number with KiB,
// MiB, GiB or TiB (KB, MB, GB and TB are read as the same powers of two).
// Unset, it is three quarters of the memory this process may use: the
// cgroup's limit when there is one, else the machine's.
func memoryBudget(v string) (int64, error) {
	if v == "" {
		return max(availableMemory()/4*3, minMemoryBudget), nil
	}
	units := []struct {
		suffix string
		shift  uint
	}{{"tib", 40}, {"tb", 40}, {"gib", 30}, {"gb", 30}, {"mib", 20}, {"mb", 20}, {"kib", 10}, {"kb", 10}, {"b", 0}}
	num, shift := strings.ToLower(strings.TrimSpace(v)), uint(0)
	for _, u := range units {
		if strings.HasSuffix(num, u.suffix) {
			num, shift = strings.TrimSpace(strings.TrimSuffix(num, u.suffix)), u.shift
			break
		}
	}
	f, err := strconv.ParseFloat(num, 64)
	bytes := f * float64(int64(1)<<shift)
	if err != nil || !(bytes >= minMemoryBudget) || bytes > 1<<50 {
		return 0, fmt.Errorf("WORKER_MEMORY_BUDGET must be an amount of memory from 256MiB to 1PiB, like 4GiB, not %q", v)
	}
	return int64(bytes), nil
}

// availableMemory is the cgroup v2 memory limit, or the machine's memory
// when there is no limit (or it cannot be read: then 4 GiB).
func availableMemory() int64 {
	if b, err := os.ReadFile("/sys/fs/cgroup/memory.max"); err == nil {
		if n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && n > 0 {
			return n
		}
	}
	if f, err := os.Open("/proc/meminfo"); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) >= 2 && fields[0] == "MemTotal:" {
				if kb, err := strconv.ParseInt(fields[1], 10, 64); err == nil {
					return kb << 10
				}
			}
		}
	}
	return 4 << 30
}

// WorkerMemoryLimit is the Go memory limit of a worker with this rescore
// budget. The rescores admitted fit the budget; the limit, a quarter above
// it for the jobs outside it (syncs, write-backs, webhook applies), makes
// the garbage collector work harder as the process nears it instead of
// letting the heap reach twice what is live. The limit is soft, so it
// never passes fifteen sixteenths of the memory the process may use: a
// budget set near all of it would otherwise let the kernel kill the
// worker before the collector pushes back.
func WorkerMemoryLimit(budget int64) int64 { return min(budget/4*5, availableMemory()/16*15) }
