package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/postgres"
	"github.com/cvo-app/cvo/internal/postgres/pgtest"
)

// TestShopOrdersJoinsLinesAndRefundsToTheirOrders checks the loader's
// merge of its three cursors: children go to their own order only, a
// refund stored before its order arrived is skipped, other shops' rows
// never appear, and orders come in id order.
func TestShopOrdersJoinsLinesAndRefundsToTheirOrders(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	orders := postgres.NewOrderStore(db)
	at := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	order := func(id, customer int64) postgres.OrderRow {
		return postgres.OrderRow{ID: id, CustomerID: customer, Name: "#1", CreatedAt: at, UpdatedAt: at, Currency: "EUR",
			Total: "30.5", DiscountCodes: []string{}}
	}
	line := func(order, id int64) postgres.LineRow {
		return postgres.LineRow{OrderID: order, ID: id, Title: "Mug", Quantity: 2, UnitPrice: "10.25"}
	}
	for _, shop := range []string{"a.myshopify.com", "b.myshopify.com"} {
		_, err := orders.Upsert(ctx, shop, order(30, 7), []postgres.LineRow{line(30, 301), line(30, 300)},
			[]postgres.RefundRow{{OrderID: 30, ID: 3, CreatedAt: at.Add(time.Hour), Amount: "5"}})
		require.NoError(t, err)
		_, err = orders.Upsert(ctx, shop, order(10, 0), []postgres.LineRow{line(10, 100)}, nil)
		require.NoError(t, err)
	}
	// A refund whose order has not arrived (refunds/create before orders/create).
	require.NoError(t, orders.AddRefunds(ctx, "a.myshopify.com", []postgres.RefundRow{{OrderID: 20, ID: 2, CreatedAt: at, Amount: "1"}}))

	var got []cvo.Order
	require.NoError(t, orders.ShopOrders(ctx, "a.myshopify.com", func(o cvo.Order) error {
		got = append(got, o)
		return nil
	}))
	require.Len(t, got, 2)
	assert.Equal(t, "10", got[0].ID)
	assert.Empty(t, got[0].CustomerID)
	assert.Len(t, got[0].Lines, 1)
	assert.Empty(t, got[0].Refunds)
	assert.Equal(t, "30", got[1].ID)
	assert.Equal(t, "7", got[1].CustomerID)
	assert.InDelta(t, 30.5, got[1].Total, 1e-9)
	assert.Equal(t, []cvo.LineItem{{Title: "Mug", Quantity: 2, UnitPrice: 10.25}, {Title: "Mug", Quantity: 2, UnitPrice: 10.25}}, got[1].Lines)
	assert.Equal(t, []cvo.Refund{{CreatedAt: at.Add(time.Hour), Amount: 5}}, got[1].Refunds)
	assert.True(t, got[1].CreatedAt.Equal(at))

	var none int
	require.NoError(t, orders.ShopOrders(ctx, "c.myshopify.com", func(cvo.Order) error { none++; return nil }))
	assert.Zero(t, none)
}
