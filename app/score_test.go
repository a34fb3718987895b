package main

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const cdnowSample = "../internal/clv/testdata/CDNOW_sample.txt"

// cdnowCSV converts Hardie's CDNOW sample (whitespace separated, CRLF,
// no header: master id, sample id, YYYYMMDD, CDs, dollars) into the order
// CSV the command reads, with the columns in an unusual order and an extra
// one to show they are found by name.
func cdnowCSV(t *testing.T) string {
	t.Helper()
	f, err := os.Open(cdnowSample)
	require.NoError(t, err)
	defer f.Close()
	var b strings.Builder
	b.WriteString("total,cds,created_at,customer_id,order_id\n")
	sc := bufio.NewScanner(f)
	rows := 0
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		require.Len(t, fields, 5)
		day, err := time.Parse("20060102", fields[2])
		require.NoError(t, err)
		id, err := strconv.Atoi(fields[1])
		require.NoError(t, err)
		rows++
		fmt.Fprintf(&b, "%s,%s,%s,%d,%d\n", fields[4], fields[3], day.Format(time.DateOnly), id, rows)
	}
	require.NoError(t, sc.Err())
	require.Equal(t, 6919, rows)
	path := filepath.Join(t.TempDir(), "cdnow.csv")
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o600))
	return path
}

// THE CHECK: the command reproduces the published BG/NBD fit of the CDNOW
// calibration period (Fader, Hardie & Lee 2005) and the Gamma-Gamma fit of
// Fader, Hardie & Lee's "RFM and CLV" paper.
func TestScoreCommandReproducesCDNOW(t *testing.T) {
	in := cdnowCSV(t)
	dir := t.TempDir()
	out, params := filepath.Join(dir, "scores.csv"), filepath.Join(dir, "params.json")
	var stderr bytes.Buffer
	err := runScore(t.Context(), []string{"--orders", in, "--time-unit", "week", "--model", "bgnbd",
		"--as-of", "1997-09-30", "--out", out, "--params-out", params}, &stderr)
	require.NoError(t, err, stderr.String())
	t.Log(stderr.String())

	raw, err := os.ReadFile(params)
	require.NoError(t, err)
	var p struct {
		Model      string `json:"model"`
		TimeUnit   string `json:"time_unit"`
		AsOf       string `json:"as_of"`
		Customers  int    `json:"customers"`
		BGNBD      *struct{ R, Alpha, A, B, LogLikelihood float64 }
		GammaGamma *struct{ P, Q, Gamma float64 } `json:"gamma_gamma"`
	}
	require.NoError(t, json.Unmarshal(raw, &p))
	// encoding/json matches "log_likelihood" to LogLikelihood only through
	// a tag, so read it separately.
	var ll struct {
		BGNBD struct {
			LL float64 `json:"log_likelihood"`
		} `json:"bgnbd"`
	}
	require.NoError(t, json.Unmarshal(raw, &ll))
	assert.Equal(t, "bgnbd", p.Model)
	assert.Equal(t, "week", p.TimeUnit)
	assert.Equal(t, "1997-09-30", p.AsOf)
	assert.Equal(t, 2357, p.Customers)
	require.NotNil(t, p.BGNBD, string(raw))
	round := func(v float64, digits int) string { return strconv.FormatFloat(v, 'f', digits, 64) }
	assert.Equal(t, "0.243", round(p.BGNBD.R, 3))
	assert.Equal(t, "4.414", round(p.BGNBD.Alpha, 3))
	assert.Equal(t, "0.793", round(p.BGNBD.A, 3))
	assert.Equal(t, "2.426", round(p.BGNBD.B, 3))
	assert.Equal(t, "-9582.4", round(ll.BGNBD.LL, 1))
	require.NotNil(t, p.GammaGamma, string(raw))
	assert.Equal(t, "6.25", round(p.GammaGamma.P, 2))
	assert.Equal(t, "3.74", round(p.GammaGamma.Q, 2))
	assert.Equal(t, "15.44", round(p.GammaGamma.Gamma, 2))

	f, err := os.Open(out)
	require.NoError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 2357+1)
	assert.Equal(t, []string{"customer_id", "orders", "frequency", "recency", "T", "monetary", "revenue",
		"r_score", "f_score", "m_score", "group", "p_alive", "expected_orders", "predicted_clv"}, rows[0][:14])
	byID := map[string][]string{}
	for _, r := range rows[1:] {
		byID[r[0]] = r
	}
	// Customer 26 bought on 1997-01-02 and twice on 1997-01-13: three
	// orders, one repeat purchase day worth 166.89 + 60.25.
	require.Contains(t, byID, "26")
	assert.Equal(t, []string{"26", "3", "1", "1.571429", "38.714286", "227.140000", "231.130000"}, byID["26"][:7])
	// Customer 34 bought once: under BG/NBD a customer without repeat
	// purchases cannot have dropped out.
	require.Contains(t, byID, "34")
	assert.Equal(t, []string{"34", "1", "0", "0.000000", "38.714286"}, byID["34"][:5])
	assert.Equal(t, "1.000000", byID["34"][11])
	assert.Contains(t, stderr.String(), "model bgnbd")
}

func TestScoreCommandRejectsUselessFiles(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]string{
		"empty":       "",
		"header only": "customer_id,order_id,created_at,total\n",
		"all bad":     "customer_id,order_id,created_at,total\n1,a,yesterday,3\n,b,2020-01-01,4\n",
		"no total":    "customer_id,order_id,created_at\n1,a,2020-01-01\n",
		"after as-of": "customer_id,order_id,created_at,total\n1,a,2020-01-01,3\n",
	}
	for name, content := range cases {
		t.Run(name, func(t *testing.T) {
			in := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".csv")
			require.NoError(t, os.WriteFile(in, []byte(content), 0o600))
			out := filepath.Join(dir, "out.csv")
			var stderr bytes.Buffer
			err := runScore(t.Context(), []string{"--orders", in, "--out", out, "--as-of", "2019-12-31"}, &stderr)
			require.Error(t, err)
			assert.NoFileExists(t, out)
		})
	}
}

func TestScoreCommandReportsBadRowsAndScoresTheRest(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "orders.csv")
	require.NoError(t, os.WriteFile(in, []byte("customer_id,order_id,created_at,total\n"+
		"c1,o1,2011-01-05,10\n"+
		"c1,o2,2011-13-01,12\n"+
		"c2,o3,2011-02-01T10:00:00Z,abc\n"+
		"c2,o4,2011-02-01T10:00:00+01:00,20\n"), 0o600))
	out := filepath.Join(dir, "scores.csv")
	var stderr bytes.Buffer
	require.NoError(t, runScore(t.Context(), []string{"--orders", in, "--out", out}, &stderr))
	assert.Contains(t, stderr.String(), `line 3: created_at "2011-13-01": not a date`)
	assert.Contains(t, stderr.String(), `line 4: total "abc": not a number`)
	scores, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.Equal(t, 3, strings.Count(string(scores), "\n"), string(scores))
}

// TestScoreEstimateCoversTheMeasuredPeaks ties cvo score's estimate of
// what it holds live to the highest live heaps measured on generated files
// (GOMEMLIMIT=off, GODEBUG=gctrace=1; app/score.go): the limit, a fifth
// above the estimate, must leave the collector room above them. New
// measurements above these belong here, and in the constants.
func TestScoreEstimateCoversTheMeasuredPeaks(t *testing.T) {
	tests := []struct {
		name              string
		customers, orders int
		livePeak          int64
	}{
		{"10k", 10_000, 21_300, 7_000_000},
		{"100k", 100_000, 213_000, 49_000_000},
		{"1M", 1_000_000, 2_130_000, 370_000_000},
		{"1M with five orders each", 1_000_000, 5_000_000, 520_000_000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("GOMEMLIMIT", "")
			original := debug.SetMemoryLimit(-1)
			t.Cleanup(func() { debug.SetMemoryLimit(original) })
			limit, restore := limitScoringMemory(tt.customers, tt.orders)
			restore()
			assert.GreaterOrEqual(t, limit*5/6, tt.livePeak, "the estimate covers the live peak")
			assert.GreaterOrEqual(t, limit, tt.livePeak*5/4, "the limit leaves the collector a quarter above it")
		})
	}
}

func TestScoreLimitsItsMemoryUnlessGOMEMLIMITDoes(t *testing.T) {
	tests := []struct {
		name      string
		env       string
		customers int
		orders    int
		want      int64 // the limit while scoring; 0: left alone
	}{
		{"a million customers", "", 1_000_000, 2_130_000, 504_932_658},
		{"a small file", "", 10, 20, 20_137_350},
		{"GOMEMLIMIT set", "900MiB", 1_000_000, 2_130_000, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("GOMEMLIMIT", tc.env)
			const before = 123 << 30
			original := debug.SetMemoryLimit(before)
			t.Cleanup(func() { debug.SetMemoryLimit(original) })
			limit, restore := limitScoringMemory(tc.customers, tc.orders)
			during := debug.SetMemoryLimit(-1)
			restore()
			assert.Equal(t, tc.want, limit)
			if tc.want == 0 {
				assert.Equal(t, int64(before), during)
			} else {
				assert.Equal(t, tc.want, during)
			}
			assert.Equal(t, int64(before), debug.SetMemoryLimit(-1), "the limit is put back")
		})
	}
}

// TestScoreCommandSaysItsMemoryLimitAndPutsItBack runs the command: the
// limit it scored under is in its summary, and the process's own is back
// once it returns, on success and on failure alike.
func TestScoreCommandSaysItsMemoryLimitAndPutsItBack(t *testing.T) {
	in := cdnowCSV(t)
	const before = 77 << 30
	original := debug.SetMemoryLimit(before)
	t.Cleanup(func() { debug.SetMemoryLimit(original) })
	t.Setenv("GOMEMLIMIT", "")

	var stderr bytes.Buffer
	out := filepath.Join(t.TempDir(), "scores.csv")
	require.NoError(t, runScore(t.Context(), []string{"--orders", in, "--as-of", "1997-09-30", "--out", out}, &stderr), stderr.String())
	// 2,357 customers and their few thousand orders: a fifth above
	// 16 MiB and a little.
	assert.Regexp(t, `\nmemory limit 2[01] MiB, set from the file's customers and orders`, stderr.String())
	assert.Equal(t, int64(before), debug.SetMemoryLimit(-1), "the limit is put back after a scoring")

	stderr.Reset()
	err := runScore(t.Context(), []string{"--orders", in, "--as-of", "1997-09-30", "--out", filepath.Join(t.TempDir(), "missing", "scores.csv")}, &stderr)
	require.Error(t, err)
	assert.Equal(t, int64(before), debug.SetMemoryLimit(-1), "the limit is put back after a failed write")

	t.Setenv("GOMEMLIMIT", "1GiB")
	stderr.Reset()
	require.NoError(t, runScore(t.Context(), []string{"--orders", in, "--as-of", "1997-09-30", "--out", out}, &stderr), stderr.String())
	// The runtime read GOMEMLIMIT when the test binary started; the
	// summary says the limit in force.
	assert.Contains(t, stderr.String(), "\nmemory limit 78848 MiB (GOMEMLIMIT)\n")
	assert.Equal(t, int64(before), debug.SetMemoryLimit(-1))

	debug.SetMemoryLimit(math.MaxInt64)
	stderr.Reset()
	require.NoError(t, runScore(t.Context(), []string{"--orders", in, "--as-of", "1997-09-30", "--out", out}, &stderr), stderr.String())
	assert.Contains(t, stderr.String(), "\nno memory limit (GOMEMLIMIT)\n")
}
