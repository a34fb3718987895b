package shopgen

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/csv"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/simulator"
)

// onlineRetailPath is the full file in the shared data beside the checkout;
// its tests skip without it (the extract in testdata/ stands in elsewhere).
const onlineRetailPath = "../../../shared/data/online-retail/online_retail.csv.gz"

func amt(s string) simulator.Amount {
	a, err := simulator.ParseAmount(s)
	if err != nil {
		panic(err)
	}
	return a
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

// The small file exercises every rule once; the expectations are worked
// out by hand in the comments.
func TestReadOnlineRetailRules(t *testing.T) {
	f, err := os.Open("testdata/online_retail_small.csv")
	require.NoError(t, err)
	defer f.Close()
	rec := &recordSink{}
	st, err := ReadOnlineRetail(context.Background(), f, rec)
	require.NoError(t, err)

	assert.Equal(t, 21, st.Rows)
	assert.Equal(t, map[string]int{
		SkipCancellationUnmatched: 2, // item 99999 was never sold; customer 12348 has no orders
		SkipCancelNoCustomer:      1,
		SkipStockAdjustment:       1,
		SkipStockNote:             1,
		SkipFee:                   1,
		SkipBadDebt:               1,
		SkipMalformed:             1, // quantity "x"
	}, st.Skipped)
	assert.Equal(t, 3, st.RefundedRows)
	assert.Equal(t, 0, st.PartlyMatchedRows)
	assert.Equal(t, []string{"products", "customers", "orders"}, rec.calls)

	// Products: codes sorted, lower-case 85123a merged into 85123A.
	require.Len(t, rec.products, 4)
	var codes []string
	for _, p := range rec.products {
		codes = append(codes, p.Variants[0].SKU)
	}
	assert.Equal(t, []string{"21452", "22423", "84029G", "85123A"}, codes)
	heart := rec.products[3]
	assert.Equal(t, int64(4), heart.ID)
	assert.Equal(t, "WHITE HANGING HEART T-LIGHT HOLDER", heart.Title)
	assert.Equal(t, "Candles & Holders", heart.ProductType)
	assert.Equal(t, amt("2.55"), heart.Variants[0].Price)
	assert.Equal(t, "white-hanging-heart-t-light-holder-85123a", heart.Handle)
	assert.Equal(t, `"GLASS" JAR, SMALL`, rec.products[0].Title)
	assert.Equal(t, "Storage", rec.products[0].ProductType)
	assert.Equal(t, "Soft Furnishings", rec.products[2].ProductType)

	// Customers: everyone with a CustomerID, including 12348 who only
	// cancelled.
	require.Len(t, rec.customers, 4)
	c, _ := rec.customer(12345)
	assert.Equal(t, utc("2011-01-10T10:00:00Z"), c.CreatedAt)
	assert.Equal(t, &simulator.Address{Country: "United Kingdom", CountryCode: "GB"}, c.DefaultAddress)
	c, _ = rec.customer(12349)
	assert.Equal(t, "IE", c.DefaultAddress.CountryCode)
	c, _ = rec.customer(12348)
	assert.Equal(t, "FR", c.DefaultAddress.CountryCode)

	assert.Equal(t, 7, st.Orders)
	assert.Equal(t, 2, st.GuestOrders)
	assert.Equal(t, 3, st.Refunds)
	assert.Equal(t, 1, st.FullyRefundedOrders)

	// 100001: 6 x 2.55 + 2 x 12.75 = 40.80, postage 18 on top; three
	// hearts of the C100003 fifteen come back from it, at 2.55.
	o, ok := rec.order(100001)
	require.True(t, ok)
	assert.Equal(t, int64(12345), o.CustomerID)
	assert.Equal(t, "customer-12345@example.com", o.Email)
	assert.Equal(t, utc("2011-01-10T10:00:00Z"), o.CreatedAt)
	assert.Len(t, o.LineItems, 2)
	assert.Equal(t, amt("40.8"), o.Subtotal)
	assert.Equal(t, amt("58.8"), o.Total)
	require.Len(t, o.Refunds, 1)
	assert.Equal(t, amt("7.65"), o.Refunds[0].Amount)
	assert.Equal(t, utc("2011-07-02T10:00:00Z"), o.Refunds[0].CreatedAt, "London summer time is UTC+1")
	assert.Equal(t, "Cancellation invoice C100003", o.Refunds[0].Note)
	assert.Equal(t, o.Refunds[0].CreatedAt, o.UpdatedAt)

	// 100002: the earliest row's minute; 12 hearts (30.60) plus the 5.00
	// discount come back as one refund of the same cancellation invoice.
	o, _ = rec.order(100002)
	assert.Equal(t, utc("2011-07-01T08:30:00Z"), o.CreatedAt)
	assert.Equal(t, amt("45.6"), o.Total)
	assert.Equal(t, int64(4), o.LineItems[0].ProductID)
	require.Len(t, o.Refunds, 1)
	assert.Equal(t, amt("35.6"), o.Refunds[0].Amount)

	// Guest order with the quoted description.
	o, _ = rec.order(100004)
	assert.Zero(t, o.CustomerID)
	assert.Empty(t, o.Email)
	assert.Equal(t, amt("9.9"), o.Total)

	// Postage alone becomes a custom line item.
	o, _ = rec.order(100006)
	require.Len(t, o.LineItems, 1)
	assert.Zero(t, o.LineItems[0].ProductID)
	assert.Equal(t, "POSTAGE", o.LineItems[0].Title)
	assert.Equal(t, amt("40"), o.Total)

	// Cancelled in the same minute: fully refunded.
	o, _ = rec.order(100007)
	assert.Equal(t, o.Total, o.Refunded())

	// Manual lines and gift vouchers are custom line items.
	o, _ = rec.order(100013)
	assert.Equal(t, simulator.LineItem{ID: 100013 * 10000, Title: "Manual", SKU: "M", Quantity: 1, UnitPrice: amt("7.5")}, o.LineItems[0])
	o, _ = rec.order(100015)
	assert.Equal(t, "Dotcomgiftshop Gift Voucher £20.00", o.LineItems[0].Title)
	assert.Equal(t, "GIFT_0001_20", o.LineItems[0].SKU)

	_, ok = rec.order(100005)
	assert.False(t, ok, "an invoice of stock notes is no order")
}

// Expected counts for the full file, from testdata/online_retail_reference.py,
// a separate implementation of the same rules in Python run once by hand.
// Customers and rows are also recounted below by a plain pass over the file.
var onlineRetailWant = struct {
	rows, customers, products, orders, guestOrders, lineItems int
	refunds, fullyRefunded, refundedRows, partlyMatched       int
	skipped                                                   map[string]int
	total, refunded                                           simulator.Amount
}{
	rows: 541909, customers: 4372, products: 3799, orders: 19950, guestOrders: 1425, lineItems: 528235,
	refunds: 3911, fullyRefunded: 164, refundedRows: 7645, partlyMatched: 54,
	skipped: map[string]int{
		SkipBadDebt: 3, SkipCancellationUnmatched: 1244, SkipCancelNoCustomer: 326, SkipFee: 87,
		SkipStockAdjustment: 1336, SkipStockNote: 1139,
	},
	total: 106416963930, refunded: 5187868300,
}

func TestLoadOnlineRetail(t *testing.T) {
	if testing.Short() {
		t.Skip("loads the 541,909-row file twice")
	}
	if raceDetector {
		// One goroutine reads the file: the detector finds nothing here and
		// costs minutes; make test runs this test again without it.
		t.Skip("the full-file check runs without -race")
	}
	if _, err := os.Stat(onlineRetailPath); err != nil {
		t.Skipf("dataset not available: %v", err)
	}
	ctx := context.Background()
	rec := &recordSink{}
	st, err := LoadOnlineRetail(ctx, onlineRetailPath, rec)
	require.NoError(t, err)

	want := onlineRetailWant
	assert.Equal(t, want.rows, st.Rows)
	assert.Equal(t, want.customers, st.Customers)
	assert.Equal(t, want.products, st.Products)
	assert.Equal(t, want.orders, st.Orders)
	assert.Equal(t, want.guestOrders, st.GuestOrders)
	assert.Equal(t, want.lineItems, st.LineItems)
	assert.Equal(t, want.refunds, st.Refunds)
	assert.Equal(t, want.fullyRefunded, st.FullyRefundedOrders)
	assert.Equal(t, want.refundedRows, st.RefundedRows)
	assert.Equal(t, want.partlyMatched, st.PartlyMatchedRows)
	assert.Equal(t, want.skipped, st.Skipped)
	assert.Len(t, rec.customers, want.customers)
	assert.Len(t, rec.products, want.products)
	assert.Len(t, rec.orders, want.orders)

	// Every row is accounted for: kept sale rows are line items (postage
	// folded into totals aside), cancellation rows refunds, the rest skipped.
	var total, refunded simulator.Amount
	for _, o := range rec.orders {
		total += o.Total
		refunded += o.Refunded()
	}
	assert.Equal(t, want.total, total)
	assert.Equal(t, want.refunded, refunded)

	t.Run("plain recount", func(t *testing.T) {
		rows, customers := plainRecount(t)
		assert.Equal(t, rows, st.Rows)
		assert.Equal(t, customers, st.Customers)
	})

	t.Run("known invoices", func(t *testing.T) {
		o, ok := rec.order(536365) // the file's first invoice, in winter time
		require.True(t, ok)
		assert.Equal(t, utc("2010-12-01T08:26:00Z"), o.CreatedAt)
		assert.Equal(t, int64(17850), o.CustomerID)
		assert.Len(t, o.LineItems, 7)
		assert.Equal(t, amt("139.12"), o.Total)

		o, _ = rec.order(555156) // summer time: 07:37 London is 06:37 UTC
		assert.Equal(t, utc("2011-06-01T06:37:00Z"), o.CreatedAt)

		// 80,995 paper birdies, cancelled minutes later by C581484.
		o, _ = rec.order(581483)
		assert.Equal(t, amt("168469.6"), o.Total)
		require.Len(t, o.Refunds, 1)
		assert.Equal(t, o.Total, o.Refunds[0].Amount)
		assert.Equal(t, utc("2011-12-09T09:27:00Z"), o.Refunds[0].CreatedAt)

		// 74,215 storage jars to customer 12346, cancelled by C541433.
		o, _ = rec.order(541431)
		assert.Equal(t, int64(12346), o.CustomerID)
		assert.Equal(t, o.Total, o.Refunded())
	})

	t.Run("consistency", func(t *testing.T) {
		customers := map[int64]bool{}
		for _, c := range rec.customers {
			customers[c.ID] = true
		}
		variants := map[int64]bool{}
		noCost := 0
		for _, p := range rec.products {
			assert.Contains(t, retailVendors, p.Vendor)
			assert.NotEmpty(t, p.ProductType)
			v := p.Variants[0]
			variants[v.ID] = true
			if v.UnitCost == nil {
				noCost++
			} else {
				assert.Positive(t, *v.UnitCost, p.Variants[0].SKU)
				assert.Less(t, *v.UnitCost, v.Price, p.Variants[0].SKU)
			}
		}
		share := float64(noCost) / float64(len(rec.products))
		assert.InDelta(t, 0.15, share, 0.03, "share of products without a unit cost")

		first, last := utc("2010-12-01T00:00:00Z"), utc("2011-12-10T00:00:00Z")
		for _, o := range rec.orders {
			if o.CustomerID != 0 {
				assert.True(t, customers[o.CustomerID], "order %d: unknown customer", o.ID)
			}
			assert.True(t, o.CreatedAt.After(first) && o.CreatedAt.Before(last), "order %d at %s", o.ID, o.CreatedAt)
			assert.NotEmpty(t, o.LineItems, "order %d", o.ID)
			for _, l := range o.LineItems {
				if l.VariantID != 0 {
					assert.True(t, variants[l.VariantID], "order %d: unknown variant", o.ID)
				}
				assert.Positive(t, l.Quantity)
			}
			assert.LessOrEqual(t, o.Refunded(), o.Total, "order %d", o.ID)
			for _, r := range o.Refunds {
				assert.False(t, r.CreatedAt.Before(o.CreatedAt), "order %d: refund before the order", o.ID)
			}
			assert.Equal(t, o.CustomerID == 0, o.Email == "", "order %d: guests have no email, customers theirs", o.ID)
		}
	})

	t.Run("no personal data", func(t *testing.T) {
		email := regexp.MustCompile(`^customer-\d{5}@example\.com$`)
		for _, c := range rec.customers {
			assert.Regexp(t, email, c.Email)
			assert.Equal(t, "Customer", c.FirstName)
			assert.Regexp(t, `^\d{5}$`, c.LastName)
			assert.Empty(t, c.Phone)
			if a := c.DefaultAddress; a != nil {
				assert.Empty(t, a.City+a.Province+a.Zip, "addresses stop at the country")
			}
		}
		for _, o := range rec.orders {
			if o.Email != "" {
				assert.Regexp(t, email, o.Email)
			}
		}
	})

	t.Run("marketing labels", func(t *testing.T) {
		codes, drafts, utm := 0, 0, 0
		for _, o := range rec.orders {
			if len(o.DiscountCodes) > 0 {
				codes++
			}
			if o.SourceName == "shopify_draft_order" {
				drafts++
			}
			require.NotNil(t, o.Journey)
			if o.Journey.FirstVisit.UTMSource != "" {
				utm++
			}
		}
		n := float64(len(rec.orders))
		assert.InDelta(t, 0.12, float64(codes)/n, 0.06)
		assert.InDelta(t, 0.065, float64(drafts)/n, 0.03)
		assert.Greater(t, float64(utm)/n, 0.2)
	})

	t.Run("deterministic and loads into the simulator", func(t *testing.T) {
		sim := simulator.New(simulator.Config{ClientID: "id", ClientSecret: "secret", AppURL: "https://app.example.com"})
		defer sim.Close()
		const shop = "demo.myshopify.com"
		require.NoError(t, sim.AddShop(shop, simulator.ShopOptions{
			Currency: OnlineRetailShop.Currency, Timezone: OnlineRetailShop.Timezone,
		}))
		again := &recordSink{}
		st2, err := LoadOnlineRetail(ctx, onlineRetailPath, Tee(again, ForShop(sim, shop)))
		require.NoError(t, err)
		assert.Equal(t, st, st2)
		// DeepEqual rather than assert.Equal: a diff of half a million
		// line items would drown the report.
		assert.True(t, reflect.DeepEqual(rec.products, again.products), "products differ between loads")
		assert.True(t, reflect.DeepEqual(rec.customers, again.customers), "customers differ between loads")
		assert.True(t, reflect.DeepEqual(rec.orders, again.orders), "orders differ between loads")
		assert.Equal(t, rec.calls, again.calls)

		customers, orders, products := sim.Counts(shop)
		assert.Equal(t, []int{want.customers, want.orders, want.products}, []int{customers, orders, products})
		o, ok := sim.GetOrder(shop, 581483)
		require.True(t, ok)
		assert.Equal(t, o.Total, o.Refunded())
	})
}

// plainRecount counts data rows and distinct CustomerIDs with nothing but
// encoding/csv.
func plainRecount(t *testing.T) (rows, customers int) {
	f, err := os.Open(onlineRetailPath)
	require.NoError(t, err)
	defer f.Close()
	gz, err := gzip.NewReader(bufio.NewReader(f))
	require.NoError(t, err)
	r := csv.NewReader(gz)
	head, err := r.Read()
	require.NoError(t, err)
	col := slices.Index(head, "CustomerID")
	seen := map[string]bool{}
	for {
		rec, err := r.Read()
		if err != nil {
			break
		}
		rows++
		if id := strings.TrimSpace(rec[col]); id != "" {
			seen[id] = true
		}
	}
	return rows, len(seen)
}

func TestReadOnlineRetailRejectsOtherFiles(t *testing.T) {
	_, err := ReadOnlineRetail(context.Background(), strings.NewReader("a,b,c\n1,2,3\n"), discardSink{})
	assert.ErrorContains(t, err, "unexpected header")

	_, err = LoadOnlineRetail(context.Background(), "testdata/online_retail_small.csv", discardSink{})
	assert.ErrorContains(t, err, "gzip", "the file must be gzip-compressed")
}

func TestReadOnlineRetailSinkError(t *testing.T) {
	f, err := os.Open("testdata/online_retail_small.csv")
	require.NoError(t, err)
	defer f.Close()
	_, err = ReadOnlineRetail(context.Background(), f, &failSink{n: 2})
	assert.ErrorContains(t, err, "add 4 customers: sink full")
}

func TestReadOnlineRetailCancelled(t *testing.T) {
	f, err := os.Open("testdata/online_retail_small.csv")
	require.NoError(t, err)
	defer f.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = ReadOnlineRetail(ctx, f, discardSink{})
	assert.ErrorIs(t, err, context.Canceled)
}
