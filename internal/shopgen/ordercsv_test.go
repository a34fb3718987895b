package shopgen

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/simulator"
)

func TestOrderCSVWriter(t *testing.T) {
	var buf bytes.Buffer
	w := NewOrderCSVWriter(&buf)
	at := time.Date(2011, 7, 1, 8, 30, 0, 0, time.UTC)
	require.NoError(t, w.AddProducts([]simulator.Product{{ID: 1}}))
	require.NoError(t, w.AddCustomers([]simulator.Customer{{ID: 7}}))
	require.NoError(t, w.AddOrders([]simulator.Order{
		{ID: 10, CustomerID: 7, CreatedAt: at.In(time.FixedZone("BST", 3600)), Total: amt("45.6"),
			Refunds: []simulator.Refund{{Amount: amt("35.6")}}, SourceName: "web",
			Journey: &simulator.Journey{FirstVisit: &simulator.Visit{UTMSource: "news,letter"}}},
		{ID: 11, CreatedAt: at, Total: amt("9.9")}, // guest: left out
		{ID: 12, CustomerID: 7, CreatedAt: at, Total: amt("20"), CancelledAt: at, Test: true, SourceName: "pos"},
	}))
	require.NoError(t, w.Flush())
	rows, err := csv.NewReader(&buf).ReadAll()
	require.NoError(t, err)
	assert.Equal(t, [][]string{
		OrderCSVHeader,
		{"7", "10", "2011-07-01T08:30:00Z", "45.6", "35.6", "false", "false", "web", "newsletter"},
		{"7", "12", "2011-07-01T08:30:00Z", "20.0", "0.0", "true", "true", "pos", ""},
	}, rows)
	assert.Equal(t, []string{"customer_id", "order_id", "created_at", "total"}, OrderCSVHeader[:4],
		"the columns `cvo score` reads come first")
}

func TestOrderCSVWriterPurchasesOnly(t *testing.T) {
	var buf bytes.Buffer
	w := NewOrderCSVWriter(&buf)
	w.PurchasesOnly = true
	at := time.Date(2011, 7, 1, 8, 30, 0, 0, time.UTC)
	require.NoError(t, w.AddOrders([]simulator.Order{
		{ID: 1, CustomerID: 7, CreatedAt: at, Total: amt("10"), Refunds: []simulator.Refund{{Amount: amt("4")}}},
		{ID: 2, CustomerID: 7, CreatedAt: at, Total: amt("10"), Refunds: []simulator.Refund{{Amount: amt("10")}}},
		{ID: 3, CustomerID: 7, CreatedAt: at, Total: amt("10"), CancelledAt: at},
		{ID: 4, CustomerID: 7, CreatedAt: at, Total: amt("10"), Test: true},
		{ID: 5, CustomerID: 7, CreatedAt: at, Total: 0},
	}))
	require.NoError(t, w.Flush())
	rows, err := csv.NewReader(&buf).ReadAll()
	require.NoError(t, err)
	var ids []string
	for _, r := range rows[1:] {
		ids = append(ids, r[1])
	}
	assert.Equal(t, []string{"1", "5"}, ids, "partly refunded and free orders stay")
}

type brokenWriter struct{}

func (brokenWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestOrderCSVWriterErrors(t *testing.T) {
	w := NewOrderCSVWriter(brokenWriter{})
	order := simulator.Order{ID: 1, CustomerID: 1, Total: amt("1")}
	var err error
	for i := 0; i < 10000 && err == nil; i++ {
		err = w.AddOrders([]simulator.Order{order})
	}
	if err == nil {
		err = w.Flush()
	}
	assert.ErrorContains(t, err, "disk full")
}

func TestOrderCSVOfGeneratedShop(t *testing.T) {
	var buf bytes.Buffer
	w := NewOrderCSVWriter(&buf)
	rec := &recordSink{}
	st, err := Generate(context.Background(), GenOptions{Customers: 1000, Orders: 4000, Seed: 2, Products: 100}, Tee(rec, w))
	require.NoError(t, err)
	require.NoError(t, w.Flush())
	rows, err := csv.NewReader(&buf).ReadAll()
	require.NoError(t, err)
	assert.Len(t, rows, 1+st.Orders-st.GuestOrders)
	byID := map[string]simulator.Order{}
	for _, o := range rec.orders {
		byID[strconv.FormatInt(o.ID, 10)] = o
	}
	for _, r := range rows[1:] {
		o := byID[r[1]]
		assert.Equal(t, strconv.FormatInt(o.CustomerID, 10), r[0])
		at, err := time.Parse(time.RFC3339, r[2])
		require.NoError(t, err)
		assert.True(t, at.Equal(o.CreatedAt))
		total, err := strconv.ParseFloat(r[3], 64)
		require.NoError(t, err)
		assert.InDelta(t, o.Total.Float64(), total, 1e-9)
	}
}
