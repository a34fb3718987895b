package shopgen

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSnapshotRoundTrip(t *testing.T) {
	ctx := context.Background()
	opts := GenOptions{Customers: 12000, Orders: 36000, Seed: 5, Products: 150, Currency: "GBP"}
	shops := map[string]struct {
		info    ShopInfo
		produce func(Sink) (Stats, error)
	}{
		// Several chunks, so customers and orders alternate in the file.
		"generated": {opts.Shop(), func(s Sink) (Stats, error) { return Generate(ctx, opts, s) }},
		"online retail rules": {OnlineRetailShop, func(s Sink) (Stats, error) {
			f, err := os.Open("testdata/online_retail_small.csv")
			if err != nil {
				return Stats{}, err
			}
			defer f.Close()
			return ReadOnlineRetail(ctx, f, s)
		}},
	}
	for name, shop := range shops {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "shop.jsonl.gz")
			f, err := os.Create(path)
			require.NoError(t, err)
			w, err := NewSnapshotWriter(f, shop.info)
			require.NoError(t, err)
			want := &recordSink{}
			st, err := shop.produce(Tee(want, w))
			require.NoError(t, err)
			require.NoError(t, w.Close())
			require.NoError(t, f.Close())

			info, err := SnapshotShop(path)
			require.NoError(t, err)
			assert.Equal(t, shop.info, info)

			got := &recordSink{}
			st2, err := LoadSnapshot(ctx, path, got)
			require.NoError(t, err)
			assert.Equal(t, want.products, got.products)
			assert.Equal(t, want.customers, got.customers)
			assert.Equal(t, want.orders, got.orders)
			assert.Zero(t, got.orphans, "an order came before its customer")
			assert.Equal(t, want.calls[0], got.calls[0])
			assert.Equal(t, len(want.products)+len(want.customers)+len(want.orders), st2.Rows)
			assert.Equal(t, st.Orders, st2.Orders)
			assert.Equal(t, st.Refunds, st2.Refunds)
			assert.Equal(t, st.FullyRefundedOrders, st2.FullyRefundedOrders)
		})
	}
}

func TestSnapshotRejects(t *testing.T) {
	ctx := context.Background()
	gz := func(s string) *bytes.Buffer {
		var b bytes.Buffer
		w := gzip.NewWriter(&b)
		_, _ = w.Write([]byte(s))
		_ = w.Close()
		return &b
	}
	_, err := ReadSnapshot(ctx, strings.NewReader("not gzip"), discardSink{})
	assert.Error(t, err)
	_, err = ReadSnapshot(ctx, gz(`{"format":"other/1","shop":{}}`+"\n"), discardSink{})
	assert.ErrorContains(t, err, "not a cvo-shop-snapshot/1 file")
	_, err = ReadSnapshot(ctx, gz(`{"format":"cvo-shop-snapshot/1","shop":{}}`+"\n{}\n"), discardSink{})
	assert.ErrorContains(t, err, "record 1: no product, customer or order")
	_, err = ReadSnapshot(ctx, gz(`{"format":"cvo-shop-snapshot/1","shop":{}}`+"\n{\"order\":{\"id\":\"x\"}}\n"), discardSink{})
	assert.ErrorContains(t, err, "record 1")
	_, err = SnapshotShop(filepath.Join(t.TempDir(), "missing.jsonl.gz"))
	assert.Error(t, err)
}

// FuzzReadSnapshot: a snapshot is a file handed to `cvodev simulator --load`;
// whatever it holds, reading must fail cleanly or yield records.
func FuzzReadSnapshot(f *testing.F) {
	head := `{"format":"cvo-shop-snapshot/1","shop":{"name":"x","currency":"USD","timezone":"UTC"}}` + "\n"
	f.Add(head + `{"product":{"id":1,"title":"Mug","variants":[{"id":1,"price":120000,"unitCost":50000}]}}` + "\n")
	f.Add(head + `{"customer":{"id":1,"email":"customer-1@example.com","address":{"countryCode":"GB"}}}` + "\n" +
		`{"order":{"id":1,"customerId":1,"createdAt":1700000000,"total":120000,"lines":[{"variantId":1,"qty":1,"price":120000}],"refunds":[{"at":1700000100,"amount":1}],"journey":{"first":{"utmSource":"google"}}}}` + "\n")
	f.Add(head + `{"order":null}` + "\n")
	f.Fuzz(func(t *testing.T, body string) {
		var b bytes.Buffer
		w := gzip.NewWriter(&b)
		_, _ = w.Write([]byte(body))
		require.NoError(t, w.Close())
		rec := &recordSink{}
		st, err := ReadSnapshot(context.Background(), &b, rec)
		if err != nil {
			return
		}
		require.Equal(t, st.Rows, len(rec.products)+len(rec.customers)+len(rec.orders))
	})
}
