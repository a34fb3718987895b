package simulator

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAmount(t *testing.T) {
	tests := []struct {
		in   string
		want Amount
		out  string
	}{
		{"403", 4030000, "403.0"},
		{"12.50", 125000, "12.5"},
		{"59.95", 599500, "59.95"},
		{"0.001", 10, "0.001"},
		{"-3.5", -35000, "-3.5"},
		{".5", 5000, "0.5"},
		{"0", 0, "0.0"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			a, err := ParseAmount(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, a)
			assert.Equal(t, tt.out, a.String())
		})
	}
	for _, bad := range []string{"", "abc", "1.23456", "1.2.3", "-", "--1", "1e5"} {
		_, err := ParseAmount(bad)
		assert.Error(t, err, bad)
	}
	assert.Equal(t, Amount(123457), NewAmount(12.34567))
	assert.Equal(t, "12.35", moneyString(NewAmount(12.345)))
	assert.Equal(t, "20.00", moneyString(NewAmount(20)))
}

func FuzzAmountRoundTrip(f *testing.F) {
	for _, s := range []string{"1", "0.5", "-12.3456", "999999.9999", "+7.1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAmount(s)
		if err != nil {
			return
		}
		b, err := ParseAmount(a.String())
		if err != nil || a != b {
			t.Fatalf("%q -> %v -> %q -> %v, %v", s, int64(a), a.String(), int64(b), err)
		}
	})
}

func TestAddOrdersChecksReferencesAndIDs(t *testing.T) {
	sim := New(Config{ClientID: testClientID, ClientSecret: testSecret, BulkDir: t.TempDir()})
	defer sim.Close()
	require.NoError(t, sim.AddShop(testShop, ShopOptions{}))
	require.NoError(t, sim.AddProducts(testShop, []Product{{Title: "Mug"}}))
	cs := []Customer{{ID: 10}, {}, {ID: 5}}
	require.NoError(t, sim.AddCustomers(testShop, cs))
	assert.Equal(t, []int64{10, 11, 5}, []int64{cs[0].ID, cs[1].ID, cs[2].ID}, "ids are filled in")
	_, ok := sim.GetCustomer(testShop, 5)
	assert.True(t, ok, "out-of-order ids are found")

	assert.ErrorContains(t, sim.AddCustomers(testShop, []Customer{{ID: 5}}), "already exists")
	assert.ErrorContains(t, sim.AddCustomers(testShop, []Customer{{ID: 20}, {ID: 20}}), "already exists")
	assert.ErrorContains(t, sim.AddOrders(testShop, []Order{{CustomerID: 99}}), "unknown customer 99")
	assert.ErrorContains(t, sim.AddOrders(testShop, []Order{{LineItems: []LineItem{{VariantID: 77, Quantity: 1}}}}), "unknown variant 77")
	assert.ErrorContains(t, sim.AddOrders(testShop, []Order{{LineItems: []LineItem{{VariantID: 1, Quantity: 0}}}}), "quantity")
	n, o, p := sim.Counts(testShop)
	assert.Equal(t, []int{3, 0, 1}, []int{n, o, p}, "failed batches add nothing")

	orders := []Order{
		{ID: 7, CustomerID: 10, Total: NewAmount(10), LineItems: []LineItem{{VariantID: 1, Quantity: 2, UnitPrice: NewAmount(5)}}},
		{ID: 3, CustomerID: 10, Total: NewAmount(4), Test: true},
		{CustomerID: 10, Total: NewAmount(6), CancelledAt: time.Now()},
	}
	require.NoError(t, sim.AddOrders(testShop, orders))
	assert.Equal(t, int64(8), orders[2].ID)
	assert.Equal(t, []int64{1001, 1002, 1003}, []int64{orders[0].Number, orders[1].Number, orders[2].Number})
	got, ok := sim.GetOrder(testShop, 7)
	require.True(t, ok)
	assert.Equal(t, int64(1), got.LineItems[0].ProductID, "the product comes from the variant")
	assert.Equal(t, NewAmount(10), got.Subtotal)

	sh, _ := sim.shop(testShop)
	c := sh.store.customers[sh.store.customerIndex(10)]
	assert.Equal(t, int32(2), c.orders, "test orders do not count")
	assert.Equal(t, NewAmount(10), c.spent, "cancelled orders spend nothing")
}

func TestAddShopValidates(t *testing.T) {
	sim := New(Config{BulkDir: t.TempDir()})
	defer sim.Close()
	assert.Error(t, sim.AddShop("demo.example.com", ShopOptions{}))
	assert.Error(t, sim.AddShop("-demo.myshopify.com", ShopOptions{}))
	assert.Error(t, sim.AddShop(testShop, ShopOptions{Timezone: "Mars/Olympus"}))
	assert.Error(t, sim.AddShop(testShop, ShopOptions{Plan: "gold"}))
	require.NoError(t, sim.AddShop(testShop, ShopOptions{}))
	assert.Error(t, sim.AddShop(testShop, ShopOptions{}))
	assert.Equal(t, []string{testShop}, sim.Shops())
}

func FuzzSearchQuery(f *testing.F) {
	for _, s := range []string{"updated_at:>'2026-01-01'", "tag:vip OR (email:a* -id:3)", "NOT test:true AND", "((", "created_at:<=2026-01-01T00:00:00Z", `email:"unterminated`} {
		f.Add(s)
	}
	fields := searchFields{
		freeText: []string{"email"},
		fields: map[string]searchField{
			"email":      {kind: searchText, text: func(i int) string { return fmt.Sprintf("u%d@example.com", i) }},
			"id":         {kind: searchNum, num: func(i int) int64 { return int64(i) }},
			"tag":        {kind: searchList, list: func(i int) []string { return []string{"vip"} }},
			"test":       {kind: searchBool, flag: func(i int) bool { return i%2 == 0 }},
			"created_at": {kind: searchTime, num: func(i int) int64 { return int64(i) * 1000 }},
			"total":      {kind: searchAmount, amount: func(i int) Amount { return Amount(i) }},
		},
	}
	f.Fuzz(func(t *testing.T, q string) {
		pred := compileSearch(q, fields)
		for i := 0; i < 5; i++ {
			pred(i)
		}
	})
}

// BenchmarkAddOrders measures loading: the generator adds millions.
func BenchmarkAddOrders(b *testing.B) {
	sim := New(Config{BulkDir: b.TempDir()})
	defer sim.Close()
	if err := sim.AddShop(testShop, ShopOptions{}); err != nil {
		b.Fatal(err)
	}
	if err := sim.AddProducts(testShop, []Product{{Title: "A"}, {Title: "B"}}); err != nil {
		b.Fatal(err)
	}
	customers := make([]Customer, 10000)
	if err := sim.AddCustomers(testShop, customers); err != nil {
		b.Fatal(err)
	}
	start := day("2024-01-01T00:00:00Z")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		batch := make([]Order, 1000)
		for j := range batch {
			batch[j] = Order{CustomerID: int64(j%10000 + 1), CreatedAt: start.Add(time.Duration(j) * time.Minute),
				Total: NewAmount(42), SourceName: "web",
				LineItems: []LineItem{{VariantID: int64(j%2 + 1), Quantity: 1, UnitPrice: NewAmount(42)}}}
		}
		if err := sim.AddOrders(testShop, batch); err != nil {
			b.Fatal(err)
		}
	}
}
