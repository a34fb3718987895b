package ingest

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/postgres"
)

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

// readGolden parses a whole bulk file into the rows it stages.
func readGolden(t *testing.T, r postgres.Resource) []postgres.StageRow {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "bulk", string(r)+".jsonl"))
	require.NoError(t, err)
	defer f.Close()
	src := newBulkSource(r, f)
	var out []postgres.StageRow
	for src.Next() {
		row := src.Row()
		// Copy what the pointers show: the source reuses its buffers.
		c := postgres.StageRow{}
		switch {
		case row.Customer != nil:
			v := *row.Customer
			c.Customer = &v
		case row.Order != nil:
			v := *row.Order
			c.Order = &v
		case row.Line != nil:
			v := *row.Line
			c.Line = &v
		case row.Refund != nil:
			v := *row.Refund
			c.Refund = &v
		case row.Product != nil:
			v := *row.Product
			c.Product = &v
		case row.Variant != nil:
			v := *row.Variant
			c.Variant = &v
		}
		out = append(out, c)
	}
	require.NoError(t, src.Err())
	return out
}

// The golden files follow Shopify's documented bulk JSONL format: one
// object per line, nested connection nodes on their own lines with
// __parentId, and (as the format allows) children not next to, or even
// before, their parent.
func TestGoldenBulkFilesParseIntoRows(t *testing.T) {
	t.Run("customers", func(t *testing.T) {
		rows := readGolden(t, postgres.ResourceCustomers)
		want := []postgres.CustomerRow{
			{ID: 1001, Email: "ada@example.com", FirstName: "Ada", LastName: "Lovelace", City: "London", Country: "United Kingdom",
				CountryCode: "GB", CreatedAt: ts("2023-04-01T10:00:00Z"), UpdatedAt: ts("2024-05-02T11:30:00Z"),
				ShopifyRFMGroup: "CHAMPIONS", ShopifyPredictedSpendTier: "HIGH"},
			{ID: 1002, LastName: "Hopper", CreatedAt: ts("2023-04-02T15:00:00Z"), UpdatedAt: ts("2023-04-02T15:00:00Z")},
			// A statistics value not shaped like Shopify's enum is dropped.
			{ID: 1003, Email: "emile@example.fr", FirstName: "Émile", LastName: "Zola", City: "Paris", Country: "France", CountryCode: "FR",
				CreatedAt: ts("2022-12-31T22:59:59Z"), UpdatedAt: ts("2024-01-01T00:00:00Z")},
		}
		require.Len(t, rows, len(want))
		for i := range want {
			assert.Equal(t, want[i], *rows[i].Customer)
		}
	})

	t.Run("orders", func(t *testing.T) {
		rows := readGolden(t, postgres.ResourceOrders)
		var orders []postgres.OrderRow
		var lines []postgres.LineRow
		var refunds []postgres.RefundRow
		for _, r := range rows {
			switch {
			case r.Order != nil:
				orders = append(orders, *r.Order)
			case r.Line != nil:
				lines = append(lines, *r.Line)
			case r.Refund != nil:
				refunds = append(refunds, *r.Refund)
			}
		}
		assert.Equal(t, []postgres.OrderRow{
			{ID: 5001, CustomerID: 1001, Name: "#1001", CreatedAt: ts("2024-01-05T09:15:00Z"), ProcessedAt: ts("2024-01-05T09:14:00Z"),
				UpdatedAt: ts("2024-02-01T08:00:00Z"), Currency: "GBP", Total: "45.9", Subtotal: "42.0", SourceName: "web",
				LandingPage: "https://shop.example/products/mug?utm_source=newsletter", ReferrerURL: "https://mail.example/",
				UTMSource: "newsletter", UTMMedium: "email", UTMCampaign: "spring", DiscountCodes: []string{"WELCOME10"}},
			{ID: 5002, Name: "#1002", CreatedAt: ts("2024-03-10T13:00:00Z"), ProcessedAt: ts("2024-03-10T13:00:00Z"),
				UpdatedAt: ts("2024-03-11T09:00:00Z"), CancelledAt: ts("2024-03-11T09:00:00Z"), Currency: "GBP", Total: "3.5", Subtotal: "3.5",
				SourceName: "pos", DiscountCodes: []string{}},
			{ID: 5003, CustomerID: 1003, Name: "#1003", CreatedAt: ts("2024-04-01T00:00:00Z"), ProcessedAt: ts("2023-11-20T12:00:00Z"),
				UpdatedAt: ts("2024-04-01T00:00:00Z"), Test: true, Currency: "GBP", Total: "100", Subtotal: "100.0",
				SourceName: "shopify_draft_order", DiscountCodes: []string{"STAFF", "VIP"}},
		}, orders)
		assert.Equal(t, []postgres.LineRow{
			{OrderID: 5001, ID: 9001, ProductID: 301, VariantID: 401, Title: "Mug", Quantity: 2, UnitPrice: "12.0"},
			{OrderID: 5002, ID: 9003, ProductID: 302, VariantID: 402, Title: "Card", Quantity: 1, UnitPrice: "3.5"},
			{OrderID: 5001, ID: 9002, Title: "Gift wrap", Quantity: 1, UnitPrice: "18.0"},
			{OrderID: 5003, ID: 9004, ProductID: 301, VariantID: 403, Title: "Teapot", Quantity: 1, UnitPrice: "100.0"},
		}, lines)
		assert.Equal(t, []postgres.RefundRow{
			{OrderID: 5001, ID: 801, CreatedAt: ts("2024-02-01T08:00:00Z"), Amount: "10.5"},
			{OrderID: 5003, ID: 802, CreatedAt: ts("2024-04-02T00:00:00Z"), Amount: "60.0"},
			{OrderID: 5003, ID: 803, CreatedAt: ts("2024-04-03T00:00:00Z"), Amount: "40.0"},
		}, refunds)
	})

	t.Run("products", func(t *testing.T) {
		rows := readGolden(t, postgres.ResourceProducts)
		require.Len(t, rows, 5)
		assert.Equal(t, postgres.ProductRow{ID: 301, Title: "Kitchen", ProductType: "Homeware", Vendor: "Acme",
			CreatedAt: ts("2023-01-01T00:00:00Z"), UpdatedAt: ts("2024-01-01T00:00:00Z")}, *rows[0].Product)
		assert.Equal(t, postgres.VariantRow{ProductID: 301, ID: 401, Title: "Mug", SKU: "MUG-1", Price: "12.00", UnitCost: "4.25"}, *rows[1].Variant)
		assert.Equal(t, postgres.VariantRow{ProductID: 301, ID: 403, Title: "Teapot", Price: "100.00"}, *rows[2].Variant,
			"a null unitCost is unknown, not zero")
		assert.Equal(t, postgres.VariantRow{ProductID: 302, ID: 402, Title: "Default Title", SKU: "CARD", Price: "3.50", UnitCost: "0.0125"}, *rows[4].Variant)
	})
}

func TestMalformedLinesNameTheirLine(t *testing.T) {
	good := `{"id":"gid://shopify/Customer/1","updatedAt":"2024-01-01T00:00:00Z"}`
	cases := map[string]struct {
		line, want string
	}{
		"not json":           {`{"id":"gid://shopify/Customer/2",`, "line 3: not a JSON object"},
		"wrong object":       {`{"id":"gid://shopify/Order/2","updatedAt":"2024-01-01T00:00:00Z"}`, `line 3: unexpected object "gid://shopify/Order/2"`},
		"no id":              {`{"updatedAt":"2024-01-01T00:00:00Z"}`, "line 3: object without id"},
		"bad time":           {`{"id":"gid://shopify/Customer/2","updatedAt":"yesterday"}`, `line 3: updatedAt "yesterday" is not an ISO 8601 time`},
		"bad gid":            {`{"id":"gid://shopify/Customer/x","updatedAt":"2024-01-01T00:00:00Z"}`, "line 3: id \"gid://shopify/Customer/x\" has no valid number"},
		"array":              {`[1,2]`, "line 3: not a JSON object"},
		"missing updated_at": {`{"id":"gid://shopify/Customer/2"}`, "line 3: updatedAt"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			// Line 2 is blank: blank lines are skipped but still counted.
			body := good + "\n\n" + c.line + "\n" + good + "\n"
			src := newBulkSource(postgres.ResourceCustomers, strings.NewReader(body))
			n := 0
			for src.Next() {
				n++
			}
			require.Error(t, src.Err())
			assert.Contains(t, src.Err().Error(), "customers export "+c.want)
			assert.Equal(t, 1, n, "rows before the bad line were read")
		})
	}

	t.Run("order amounts", func(t *testing.T) {
		line := `{"id":"gid://shopify/Order/1","createdAt":"2024-01-01T00:00:00Z","updatedAt":"2024-01-01T00:00:00Z","totalPriceSet":{"shopMoney":{"amount":"12,50"}}}`
		src := newBulkSource(postgres.ResourceOrders, strings.NewReader(line))
		for src.Next() {
		}
		require.Error(t, src.Err())
		assert.Contains(t, src.Err().Error(), `orders export line 1: totalPriceSet "12,50" is not a decimal amount`)
	})
}

func TestLineReaderHandlesLongLinesAndNoFinalNewline(t *testing.T) {
	long := `{"id":"gid://shopify/Customer/1","firstName":"` + strings.Repeat("a", 3<<20) + `","updatedAt":"2024-01-01T00:00:00Z"}`
	body := long + "\r\n" + `{"id":"gid://shopify/Customer/2","updatedAt":"2024-01-01T00:00:00Z"}`
	src := newBulkSource(postgres.ResourceCustomers, strings.NewReader(body))
	var ids []int64
	for src.Next() {
		ids = append(ids, src.Row().Customer.ID)
		if len(ids) == 1 {
			assert.Len(t, src.Row().Customer.FirstName, 3<<20)
		}
	}
	require.NoError(t, src.Err())
	assert.Equal(t, []int64{1, 2}, ids)

	tooLong := bytes.Repeat([]byte("x"), maxLineBytes+2)
	lr := newLineReader(bytes.NewReader(tooLong))
	assert.True(t, lr.next() == nil, "an over-long line is not returned")
	assert.ErrorContains(t, lr.error(), "line 1: longer than")
}

func TestCheckDecimal(t *testing.T) {
	for _, ok := range []string{"0", "12.5", "-0.0125", "403", "+1.0", "99999999999999.9999"} {
		assert.NoError(t, checkDecimal("x", ok), ok)
	}
	for _, bad := range []string{"", ".5", "5.", "1.23456", "1e5", "12,5", "--1", "NaN", "1.2.3", "123456789012345"} {
		assert.Error(t, checkDecimal("x", bad), bad)
	}
}

func TestDecimalSum(t *testing.T) {
	var s decimalSum
	require.NoError(t, s.add("a", "10.00"))
	require.NoError(t, s.add("a", "2.0001"))
	require.NoError(t, s.subOptional("a", "-1.5"))
	assert.Equal(t, "13.5001", s.String())
	var neg decimalSum
	require.NoError(t, neg.add("a", "-0.25"))
	assert.Equal(t, "-0.25", neg.String())
	assert.Equal(t, "0.0", decimalSum{}.String())
}

// FuzzParseBulkLine feeds arbitrary lines to the parsers of every
// resource: they must never panic, and whatever they accept must be fit
// for the database (positive ids, amounts numeric(18,4) takes, times set).
func FuzzParseBulkLine(f *testing.F) {
	for _, r := range postgres.Resources {
		b, err := os.ReadFile(filepath.Join("testdata", "bulk", string(r)+".jsonl"))
		if err != nil {
			f.Fatal(err)
		}
		for _, line := range bytes.Split(b, []byte("\n")) {
			f.Add(uint8(0), line)
			f.Add(uint8(1), line)
			f.Add(uint8(2), line)
		}
	}
	f.Add(uint8(1), []byte(`{"id":"gid://shopify/Order/1?x=1","createdAt":"2024-01-01T00:00:00Z","updatedAt":"2024-01-01T00:00:00Z","totalPriceSet":{"shopMoney":{"amount":"1"}},"refunds":[{}]}`))
	f.Fuzz(func(t *testing.T, which uint8, line []byte) {
		r := postgres.Resources[int(which)%len(postgres.Resources)]
		var b rowBuf
		if err := parseBulkLine(r, line, &b); err != nil {
			return
		}
		require.NotEmpty(t, b.rows)
		for _, row := range b.rows {
			switch {
			case row.Customer != nil:
				require.Positive(t, row.Customer.ID)
				require.Equal(t, shopifyEnum([]byte(row.Customer.ShopifyRFMGroup)), row.Customer.ShopifyRFMGroup, "only enum-shaped values")
				require.False(t, row.Customer.UpdatedAt.IsZero())
			case row.Order != nil:
				require.Positive(t, row.Order.ID)
				require.NoError(t, checkDecimal("total", row.Order.Total))
				require.NoError(t, optionalDecimal("subtotal", row.Order.Subtotal))
				require.False(t, row.Order.UpdatedAt.IsZero())
				require.NotNil(t, row.Order.DiscountCodes)
			case row.Line != nil:
				require.Positive(t, row.Line.ID)
				require.Positive(t, row.Line.OrderID)
				require.NoError(t, checkDecimal("price", row.Line.UnitPrice))
			case row.Refund != nil:
				require.Positive(t, row.Refund.ID)
				require.NoError(t, checkDecimal("amount", row.Refund.Amount))
			case row.Product != nil:
				require.Positive(t, row.Product.ID)
			case row.Variant != nil:
				require.Positive(t, row.Variant.ProductID)
				require.NoError(t, optionalDecimal("cost", row.Variant.UnitCost))
			default:
				t.Fatal("empty row")
			}
		}
	})
}

// FuzzLineReader checks the reader returns exactly the non-blank lines of
// any input, whatever their length and line endings.
func FuzzLineReader(f *testing.F) {
	f.Add([]byte("a\nb\r\n\n c \n"))
	f.Add([]byte(""))
	f.Add([]byte("\n\n\n"))
	f.Add([]byte("no newline"))
	f.Fuzz(func(t *testing.T, in []byte) {
		var want [][]byte
		for _, l := range bytes.Split(in, []byte("\n")) {
			l = bytes.TrimRight(l, "\r")
			if len(bytes.TrimSpace(l)) > 0 {
				want = append(want, l)
			}
		}
		lr := newLineReader(bytes.NewReader(in))
		var got [][]byte
		for l := lr.next(); l != nil; l = lr.next() {
			got = append(got, bytes.Clone(l))
		}
		require.NoError(t, lr.error())
		require.Equal(t, len(want), len(got))
		for i := range want {
			require.Equal(t, bytes.TrimRight(want[i], "\r"), got[i])
		}
	})
}
