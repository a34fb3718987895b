package clv

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const (
	cdnowSamplePath  = "../../../shared/data/cdnow/CDNOW_sample.txt"
	cdnowSummaryPath = "../../../shared/data/cdnow/cdnow_customers_summary_with_transactions.csv"
)

// cdnowCalibrationEnd is the last day of the 39-week calibration period.
var cdnowCalibrationEnd = time.Date(1997, 9, 30, 0, 0, 0, 0, time.UTC)

// loadCDNOW reads the sample transaction log: whitespace separated, CRLF,
// no header; columns master id, sample id, YYYYMMDD, CDs, dollars. Customers
// are keyed by their sample id without zero padding, as in the summary CSV.
func loadCDNOW(t testing.TB) []Purchase {
	t.Helper()
	f, err := os.Open(cdnowSamplePath)
	require.NoError(t, err)
	defer f.Close()
	var out []Purchase
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		require.Len(t, fields, 5, sc.Text())
		id, err := strconv.Atoi(fields[1])
		require.NoError(t, err)
		day, err := time.Parse("20060102", fields[2])
		require.NoError(t, err)
		value, err := strconv.ParseFloat(fields[4], 64)
		require.NoError(t, err)
		out = append(out, Purchase{CustomerID: strconv.Itoa(id), At: day, Value: value})
	}
	require.NoError(t, sc.Err())
	require.Len(t, out, 6919)
	return out
}

type cdnowSummaryRow struct {
	x           int
	tx, T, zbar float64
}

// loadCDNOWSummary reads Hardie's per-customer calibration summary
// (ID,x,t_x,T,zbar; weeks, 2 decimals).
func loadCDNOWSummary(t testing.TB) map[string]cdnowSummaryRow {
	t.Helper()
	f, err := os.Open(cdnowSummaryPath)
	require.NoError(t, err)
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	require.Equal(t, []string{"ID", "x", "t_x", "T", "zbar"}, recs[0])
	out := make(map[string]cdnowSummaryRow, len(recs)-1)
	for _, r := range recs[1:] {
		var row cdnowSummaryRow
		row.x, err = strconv.Atoi(r[1])
		require.NoError(t, err)
		for i, dst := range []*float64{&row.tx, &row.T, &row.zbar} {
			*dst, err = strconv.ParseFloat(r[i+2], 64)
			require.NoError(t, err)
		}
		out[r[0]] = row
	}
	require.Len(t, out, 2357)
	return out
}

func TestCDNOWExplore(t *testing.T) {
	ds := Summarize(loadCDNOW(t), cdnowCalibrationEnd, time.UTC, Weeks)
	tr := Compress(ds.Customers)
	m, res, err := FitBGNBD(tr)
	fmt.Printf("%+v %+v %v\n", m, res, err)
	mm, res2, err := FitMBGNBD(tr)
	fmt.Printf("%+v %+v %v\n", mm, res2, err)
	fmt.Println(m.ConditionalExpected(39, 2, 30.43, 38.86))
}

func TestCDNOWExploreGG(t *testing.T) {
	ds := Summarize(loadCDNOW(t), cdnowCalibrationEnd, time.UTC, Weeks)
	g, res, err := FitGammaGamma(ds.Customers)
	fmt.Printf("ours %+v %+v %v\n", g, res, err)
	rows := loadCDNOWSummary(t)
	var cs []Summary
	for id, r := range rows {
		cs = append(cs, Summary{CustomerID: id, X: r.x, Tx: r.tx, T: r.T, Monetary: r.zbar})
	}
	g, res, err = FitGammaGamma(cs)
	fmt.Printf("csv %+v %+v %v\n", g, res, err)
}
