package scoring

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/rfm"
)

// TestShopifyCrosswalkCountsEveryScoredCustomer scores a small shop whose
// customers carry Shopify's groups (one none, one a value Shopify may add
// later) and checks each scored customer is counted once, in the cell of
// its own group and its Shopify group, in the documented order.
func TestShopifyCrosswalkCountsEveryScoredCustomer(t *testing.T) {
	asOf := time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC)
	shopify := []string{"CHAMPIONS", "LOYAL", "", "DORMANT", "SOMETHING_NEW", "CHAMPIONS", "NEW", "AT_RISK"}
	var customers []cvo.Customer
	var orders []cvo.Order
	for i, g := range shopify {
		id := fmt.Sprint(i + 1)
		customers = append(customers, cvo.Customer{ID: id, ShopifyRFMGroup: g})
		for k := 0; k <= i%4; k++ {
			orders = append(orders, cvo.Order{ID: fmt.Sprintf("%d-%d", i, k), CustomerID: id, Total: float64(20 + 15*i),
				CreatedAt: asOf.AddDate(0, 0, -(20*i + 30*k + 1)), UpdatedAt: asOf})
		}
	}
	customers = append(customers, cvo.Customer{ID: "99", ShopifyRFMGroup: "PROSPECTS"}) // no orders: not scored
	res, err := Score(context.Background(), customers, orders, Settings{AsOf: asOf, Location: time.UTC})
	require.NoError(t, err)
	require.Len(t, res.Customers, len(shopify))

	want := map[[2]string]int{}
	for _, c := range res.Customers {
		var i int
		_, _ = fmt.Sscan(c.CustomerID, &i)
		want[[2]string{c.Group.Slug(), shopify[i-1]}]++
	}
	got := map[[2]string]int{}
	total := 0
	lastGroup, lastRank := 0, -1
	rank := map[string]int{"SOMETHING_NEW": len(ShopifyRFMGroups), "": len(ShopifyRFMGroups) + 1}
	for i, g := range ShopifyRFMGroups {
		rank[g] = i
	}
	order := map[rfm.Group]int{}
	for i, g := range rfm.Groups() {
		order[g] = i
	}
	for _, cell := range res.ShopifyCrosswalk {
		require.Positive(t, cell.Customers, "only non-empty cells")
		got[[2]string{cell.Group.Slug(), cell.ShopifyGroup}] += cell.Customers
		total += cell.Customers
		if order[cell.Group] != lastGroup {
			require.Greater(t, order[cell.Group], lastGroup, "our groups in display order")
			lastGroup, lastRank = order[cell.Group], -1
		}
		require.Greater(t, rank[cell.ShopifyGroup], lastRank, "Shopify's groups in Shopify's order, unknown ones, then none")
		lastRank = rank[cell.ShopifyGroup]
	}
	assert.Equal(t, want, got)
	assert.Equal(t, len(shopify), total)
}
