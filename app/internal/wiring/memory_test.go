package wiring

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWorkerMemoryBudgetIsReadWithUnits(t *testing.T) {
	cases := map[string]struct {
		value   string
		want    int64
		wantErr bool
	}{
		"gibibytes":      {value: "4GiB", want: 4 << 30},
		"gigabytes":      {value: "4 GB", want: 4 << 30},
		"fraction":       {value: "1.5gib", want: 3 << 29},
		"mebibytes":      {value: "512MiB", want: 512 << 20},
		"bytes":          {value: "1073741824", want: 1 << 30},
		"too small":      {value: "100MiB", wantErr: true},
		"not an amount":  {value: "lots", wantErr: true},
		"negative":       {value: "-4GiB", wantErr: true},
		"not a number":   {value: "NaNGiB", wantErr: true},
		"absurdly large": {value: "4096TiB", wantErr: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			cfg, err := loadConfigWith(t, "WORKER_MEMORY_BUDGET", tc.value)
			if tc.wantErr {
				assert.ErrorContains(t, err, "WORKER_MEMORY_BUDGET")
			} else if assert.NoError(t, err) {
				assert.Equal(t, tc.want, cfg.WorkerMemoryBudget)
			}
		})
	}
}

func TestWorkerMemoryBudgetDefaultsToMostOfTheMemory(t *testing.T) {
	got, err := memoryBudget("")
	require.NoError(t, err)
	total := availableMemory()
	require.Greater(t, total, int64(minMemoryBudget), "this machine's memory is read")
	assert.Less(t, got, total, "room is left for the rest of the process")
	assert.GreaterOrEqual(t, got, total/2)
}

func TestWorkerMemoryLimitStaysBelowTheMemory(t *testing.T) {
	tests := []struct {
		name   string
		budget int64
		want   int64
	}{
		{"a quarter above a small budget", 256 << 20, 320 << 20},
		{"never past fifteen sixteenths of the memory", 1 << 50, availableMemory() / 16 * 15},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, WorkerMemoryLimit(tt.budget))
		})
	}
}
