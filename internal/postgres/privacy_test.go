package postgres_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/postgres"
	"github.com/cvo-app/cvo/internal/postgres/pgtest"
)

func TestRedactCustomerLeavesNoPersonalData(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	deliveries := postgres.NewDeliveryStore(db)
	privacy := postgres.NewPrivacyStore(db)
	alice := cvo.CustomerRef{ID: "7001", Email: "alice@example.com", Phone: "+447700900123"}
	bob := cvo.CustomerRef{ID: "7002", Email: "bob@example.com", Phone: "+447700900456"}

	// Pending deliveries naming each customer, and a past data request.
	for i, c := range []cvo.CustomerRef{alice, bob} {
		body, _ := json.Marshal(map[string]any{"id": 9000 + i, "customer": map[string]any{"id": c.ID, "email": c.Email, "phone": c.Phone}})
		fresh, err := deliveries.Record(ctx, cvo.WebhookDelivery{Shop: "a.myshopify.com", ID: "wh-" + c.ID, Topic: "orders/create", Payload: body})
		require.NoError(t, err)
		require.True(t, fresh)
		require.NoError(t, deliveries.MarkHandled(ctx, "a.myshopify.com", "wh-"+c.ID, true))
		_, err = privacy.ExportCustomer(ctx, "a.myshopify.com", "req-"+c.ID, c)
		require.NoError(t, err)
	}
	require.NotEmpty(t, pgtest.FindText(t, db, alice.Email), "the test must start with the data present")

	require.NoError(t, privacy.RedactCustomer(ctx, "a.myshopify.com", alice))

	for _, needle := range []string{alice.Email, alice.Phone} {
		assert.Empty(t, pgtest.FindText(t, db, needle), "personal data of the redacted customer left behind: %s", needle)
	}
	assert.NotEmpty(t, pgtest.FindText(t, db, bob.Email), "another customer's data must stay")
	d, err := deliveries.Get(ctx, "a.myshopify.com", "wh-"+bob.ID)
	require.NoError(t, err)
	assert.NotEmpty(t, d.Payload)
}

func TestDeleteShopRemovesEverythingOfThatShopOnly(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	shops := postgres.NewShopStore(db, keyring(t))
	deliveries := postgres.NewDeliveryStore(db)
	privacy := postgres.NewPrivacyStore(db)
	for _, shop := range []string{"gone.myshopify.com", "stays.myshopify.com"} {
		require.NoError(t, shops.SaveInstall(ctx, shop, expiringToken("t", "r", time.Now().Add(time.Hour))))
		_, err := deliveries.Record(ctx, cvo.WebhookDelivery{Shop: shop, ID: "w1", Topic: "orders/create", Payload: []byte(`{"id":1}`)})
		require.NoError(t, err)
		_, err = privacy.ExportCustomer(ctx, shop, "r1", cvo.CustomerRef{ID: "1"})
		require.NoError(t, err)
	}
	require.NoError(t, privacy.DeleteShop(ctx, "gone.myshopify.com"))
	require.NoError(t, privacy.DeleteShop(ctx, "gone.myshopify.com"), "shop/redact may be delivered twice")

	assert.Empty(t, pgtest.FindText(t, db, "gone.myshopify.com"))
	assert.ElementsMatch(t, []string{"data_requests.shop", "shops.shop", "webhook_deliveries.shop"},
		pgtest.FindText(t, db, "stays.myshopify.com"))
}

func TestDeliveryDeduplication(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	deliveries := postgres.NewDeliveryStore(db)
	d := cvo.WebhookDelivery{Shop: "a.myshopify.com", ID: "wh-1", Topic: "orders/create", Payload: []byte(`{}`)}

	fresh, err := deliveries.Record(ctx, d)
	require.NoError(t, err)
	assert.True(t, fresh)
	// Handling failed: Shopify's retry must get another chance.
	require.NoError(t, deliveries.MarkFailed(ctx, d.Shop, d.ID, "boom"))
	fresh, err = deliveries.Record(ctx, d)
	require.NoError(t, err)
	assert.True(t, fresh, "a failed delivery is handled again on retry")
	require.NoError(t, deliveries.MarkHandled(ctx, d.Shop, d.ID, false))
	fresh, err = deliveries.Record(ctx, d)
	require.NoError(t, err)
	assert.False(t, fresh, "a handled delivery is a duplicate")
	// The same webhook id at another shop is another delivery.
	fresh, err = deliveries.Record(ctx, cvo.WebhookDelivery{Shop: "b.myshopify.com", ID: "wh-1", Topic: "orders/create"})
	require.NoError(t, err)
	assert.True(t, fresh)
}
