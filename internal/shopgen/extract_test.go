package shopgen

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"os"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The extract stands in for the full file in any checkout: it must load
// into a shop with enough repeat customers for the fitted models.
func TestOnlineRetailExtractLoads(t *testing.T) {
	rec := &recordSink{}
	st, err := LoadOnlineRetailExtract(context.Background(), rec)
	require.NoError(t, err)
	assert.Equal(t, 17255, st.Rows)
	assert.Equal(t, OnlineRetailExtractCustomers, st.Customers)
	assert.Len(t, rec.customers, OnlineRetailExtractCustomers)
	assert.Zero(t, st.GuestOrders, "rows without a customer were left out")
	orders := map[int64]int{}
	for _, o := range rec.orders {
		orders[o.CustomerID]++
	}
	repeat := 0
	for _, n := range orders {
		if n > 1 {
			repeat++
		}
	}
	assert.Greater(t, repeat, 30, "more repeat customers than the fitted models' minimum")
}

// The extract is what its README says: the header and every row of the
// full file whose CustomerID is a multiple of 20, in order, unchanged.
func TestOnlineRetailExtractIsTheDocumentedSelection(t *testing.T) {
	if raceDetector {
		t.Skip("reads the full file; make test runs it without -race")
	}
	full, err := os.Open(onlineRetailPath)
	if err != nil {
		t.Skipf("full file not beside the checkout: %v", err)
	}
	defer full.Close()
	gz, err := gzip.NewReader(bufio.NewReader(full))
	require.NoError(t, err)
	want := [][]string{}
	r := csv.NewReader(gz)
	for i := 0; ; i++ {
		rec, err := r.Read()
		if err != nil {
			break
		}
		if id, err := strconv.Atoi(rec[6]); i == 0 || (err == nil && id%20 == 0) {
			want = append(want, rec)
		}
	}
	egz, err := gzip.NewReader(bytes.NewReader(onlineRetailExtract))
	require.NoError(t, err)
	got, err := csv.NewReader(egz).ReadAll()
	require.NoError(t, err)
	require.Equal(t, len(want), len(got))
	assert.Equal(t, want, got)
}
