package rescore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/postgres"
	"github.com/cvo-app/cvo/internal/postgres/pgtest"
	"github.com/cvo-app/cvo/internal/rescore"
)

// copiedHistory hides the store's streaming and summed reads, so that
// the scorer gets every order as its own copy with all its lines: the
// full recomputation both must equal.
type copiedHistory struct{ h rescore.History }

func (f copiedHistory) ShopOrders(ctx context.Context, shop string, fn func(cvo.Order) error) error {
	return f.h.ShopOrders(ctx, shop, fn)
}

func (f copiedHistory) ShopCustomers(ctx context.Context, shop string, fn func(cvo.Customer) error) error {
	return f.h.ShopCustomers(ctx, shop, fn)
}

// streamedHistory offers the store's streaming read of every line but not
// its read of summed lines.
type streamedHistory struct {
	copiedHistory
	s interface {
		StreamOrders(ctx context.Context, shop string, fn func(*cvo.Order) error) error
	}
}

func (f streamedHistory) StreamOrders(ctx context.Context, shop string, fn func(*cvo.Order) error) error {
	return f.s.StreamOrders(ctx, shop, fn)
}

// TestStreamedHistoryScoresLikeCopiedOrders holds the rescore's reads
// equal to scoring every order as its own copy with all its lines (the
// fetching itself is held to the stored rows by the postgres package's
// tests): the streamed read, whose order, lines and refunds buffers are
// reused from order to order, and the read of the orders' line sums with
// the lines of only the orders the ledger wants, on
// generated shops with cancellations, tests, orders without a customer, ties,
// partial, full, late and excess refunds, refunds without their order,
// lines without a product or variant, variants without a cost, and
// negative and zero amounts: every score and every aggregate, under both
// refund datings.
func TestStreamedHistoryScoresLikeCopiedOrders(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	store := struct {
		*postgres.OrderStore
		*postgres.CustomerStore
	}{postgres.NewOrderStore(db), postgres.NewCustomerStore(db)}
	for seed := range uint64(4) {
		shop := fmt.Sprintf("streamed-%d.myshopify.com", seed)
		// The last shop is larger than a FETCH of each cursor.
		orders := int64(2500)
		if seed == 3 {
			orders = 12000
		}
		asOf := generateShop(t, db, shop, seed, orders)
		for _, dating := range []cvo.RefundDating{cvo.RefundAtRefundDate, cvo.RefundAtOrderDate} {
			t.Run(fmt.Sprintf("seed %d dating %d", seed, dating), func(t *testing.T) {
				settings := cvo.DefaultSettings()
				settings.RefundDating = dating
				settings.DefaultMargin = 0.4
				in := rescore.Input{Shop: cvo.Shop{Domain: shop, Timezone: "Europe/Berlin"}, Settings: settings, AsOf: asOf}
				in.History = copiedHistory{store}
				wantRows, wantAgg, err := rescore.ShopScorer{}.Score(ctx, in)
				require.NoError(t, err)
				wantScores := rescore.AllRows(wantRows)
				require.Greater(t, len(wantScores), 100, "the generated shop has customers to score")
				require.NotEmpty(t, wantAgg.Reports.Products.Products, "the generated shop has product reports")
				wantAgg.Timings = nil
				for name, h := range map[string]rescore.History{"streamed": streamedHistory{copiedHistory{store}, store}, "summed": store} {
					in.History = h
					gotRows, gotAgg, err := rescore.ShopScorer{}.Score(ctx, in)
					require.NoError(t, err, name)
					gotScores := rescore.AllRows(gotRows)
					// A mismatch is reported for the first score that
					// differs: a diff of thousands takes minutes to print.
					require.Len(t, gotScores, len(wantScores), name)
					for i := range wantScores {
						require.Equal(t, wantScores[i], gotScores[i], "%s: score %d", name, i)
					}
					gotAgg.Timings = nil
					require.Equal(t, wantAgg, gotAgg, name)
				}
			})
		}
	}
}

// generateShop stores a random shop and returns an as-of instant inside
// its history, so that some orders and refunds come after it.
func generateShop(t *testing.T, db *postgres.DB, shop string, seed uint64, orders int64) time.Time {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, 42))
	start := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
	span := int64(3 * 365 * 24 * 3600)
	at := func() time.Time { return start.Add(time.Duration(rng.Int64N(span)) * time.Second) }
	money := func(hi int) string { return fmt.Sprintf("%d.%04d", rng.IntN(hi), rng.IntN(10000)) }

	const products, customers = 40, 400
	var productRows, variantRows, customerRows, orderRows, lineRows, refundRows [][]any
	for p := int64(1); p <= products; p++ {
		productRows = append(productRows, []any{shop, p, fmt.Sprintf("Product %d", p), []string{"Mugs", "Tees", ""}[p%3], []string{"Acme", "Bolt"}[p%2], start})
		for v := int64(1); v <= 2; v++ {
			var cost any // a third of the variants have no recorded cost
			if rng.IntN(3) > 0 {
				cost = money(40)
			}
			variantRows = append(variantRows, []any{shop, p*10 + v, p, cost})
		}
	}
	for c := int64(1); c <= customers; c++ {
		customerRows = append(customerRows, []any{shop, c, []string{"DE", "FR", "GB", ""}[c%4], []string{"Berlin", "Paris", "", "Leeds"}[c%4], at(), start})
	}
	var lastAt time.Time
	lineID, refundID := int64(0), int64(0)
	for id := int64(1); id <= orders; id++ {
		customer := any(1 + rng.Int64N(customers))
		if rng.IntN(30) == 0 {
			customer = nil
		}
		created := at()
		if id > 1 && rng.IntN(10) == 0 {
			created = lastAt // a tie with the order before, often the same customer's
			if rng.IntN(2) == 0 {
				customer = orderRows[len(orderRows)-1][2]
			}
		}
		lastAt = created
		var processed any
		if rng.IntN(8) == 0 { // imported: the sale happened before the record
			processed = created.Add(-time.Duration(rng.IntN(90*24)) * time.Hour)
		}
		var cancelled any
		if rng.IntN(20) == 0 {
			cancelled = created.Add(time.Hour)
		}
		total := money(300)
		switch rng.IntN(25) {
		case 0:
			total = "0"
		case 1:
			total = "-" + money(20)
		}
		codes := []string{}
		if rng.IntN(5) == 0 {
			codes = []string{[]string{"WELCOME", "BFCM", "VIP"}[rng.IntN(3)]}
		}
		pick := func(vals ...string) any {
			if v := vals[rng.IntN(len(vals))]; v != "" {
				return v
			}
			return nil
		}
		orderRows = append(orderRows, []any{shop, id, customer, fmt.Sprintf("#%d", id), created, processed, created, cancelled,
			rng.IntN(50) == 0, "EUR", total, pick("web", "pos", "", "instagram"), pick("google", "", "newsletter"),
			pick("spring", "", "bfcm"), pick("", "https://example.com/?utm_source=x"), codes})
		for range rng.IntN(6) {
			lineID++
			var product, variant any
			if rng.IntN(10) > 0 {
				p := 1 + rng.Int64N(products)
				product = p
				if rng.IntN(10) > 0 {
					variant = p*10 + 1 + rng.Int64N(3) // a variant 3 is not in the catalogue
				}
			}
			qty := rng.IntN(5)
			if rng.IntN(40) == 0 {
				qty = -1
			}
			lineRows = append(lineRows, []any{shop, id, lineID, product, variant, fmt.Sprintf("Item %d", rng.IntN(products)), int32(qty), money(60)})
		}
		for range refundsOf(rng) {
			refundID++
			amount := money(150)
			switch rng.IntN(4) {
			case 0:
				amount = total // in full
			case 1:
				amount = money(400) // possibly more than the order
			}
			refundRows = append(refundRows, []any{shop, refundID, id, created.Add(time.Duration(rng.IntN(60*24)) * time.Hour), amount})
		}
	}
	// Refunds whose order never arrived.
	for range 5 {
		refundID++
		refundRows = append(refundRows, []any{shop, refundID, orders + 1 + rng.Int64N(100), at(), money(50)})
	}
	for _, table := range []struct {
		name    string
		columns []string
		rows    [][]any
	}{
		{"products", []string{"shop", "id", "title", "product_type", "vendor", "updated_at"}, productRows},
		{"variants", []string{"shop", "id", "product_id", "unit_cost"}, variantRows},
		{"customers", []string{"shop", "id", "country_code", "city", "created_at", "updated_at"}, customerRows},
		{"orders", []string{"shop", "id", "customer_id", "name", "created_at", "processed_at", "updated_at", "cancelled_at", "test", "currency",
			"total", "source_name", "utm_source", "utm_campaign", "landing_page", "discount_codes"}, orderRows},
		{"order_lines", []string{"shop", "order_id", "id", "product_id", "variant_id", "title", "quantity", "unit_price"}, lineRows},
		{"refunds", []string{"shop", "id", "order_id", "created_at", "amount"}, refundRows},
	} {
		_, err := db.Pool.CopyFrom(ctx, pgx.Identifier{table.name}, table.columns, pgx.CopyFromRows(table.rows))
		require.NoError(t, err, table.name)
	}
	pgtest.SumLines(t, db, shop)
	return start.Add(time.Duration(span*9/10) * time.Second)
}

// refundsOf draws how many refunds an order has: most none, some several.
func refundsOf(rng *rand.Rand) int {
	switch n := rng.IntN(20); {
	case n < 15:
		return 0
	case n < 19:
		return 1
	default:
		return 2 + rng.IntN(2)
	}
}
