package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/postgres"
	"github.com/cvo-app/cvo/internal/postgres/pgtest"
	"github.com/cvo-app/cvo/internal/survey"
)

func TestRedactCustomerLeavesNoPersonalData(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	deliveries := postgres.NewDeliveryStore(db)
	privacy := postgres.NewPrivacyStore(db)
	surveys := postgres.NewSurveyStore(db)
	sv := activeSurvey(t, surveys, "a.myshopify.com", "stopped")
	alice := cvo.CustomerRef{ID: "7001", Email: "alice@example.com", Phone: "+447700900123"}
	bob := cvo.CustomerRef{ID: "7002", Email: "bob@example.com", Phone: "+447700900456"}

	// Pending deliveries naming each customer, and a past data request.
	for i, c := range []cvo.CustomerRef{alice, bob} {
		body, _ := json.Marshal(map[string]any{"id": 9000 + i, "customer": map[string]any{"id": c.ID, "email": c.Email, "phone": c.Phone}})
		fresh, err := deliveries.Record(ctx, cvo.WebhookDelivery{Shop: "a.myshopify.com", ID: "wh-" + c.ID, Topic: "orders/create", Payload: body})
		require.NoError(t, err)
		require.True(t, fresh)
		require.NoError(t, deliveries.MarkHandled(ctx, "a.myshopify.com", "wh-"+c.ID, true))
		id, _ := strconv.ParseInt(c.ID, 10, 64)
		_, err = surveys.Submit(ctx, "a.myshopify.com", survey.Response{SurveyID: sv.ID, CustomerID: id, NPS: intp(2), Why: "words of " + c.Email}, false)
		require.NoError(t, err)
		export, err := privacy.ExportCustomer(ctx, "a.myshopify.com", "req-"+c.ID, c)
		require.NoError(t, err)
		assert.Len(t, export["survey_responses"], 1, "a data request returns the customer's survey answers")
	}
	require.NotEmpty(t, pgtest.FindText(t, db, alice.Email), "the test must start with the data present")
	require.Contains(t, pgtest.FindText(t, db, "words of "+alice.Email), "survey_responses.why")

	require.NoError(t, privacy.RedactCustomer(ctx, "a.myshopify.com", alice))

	gone, err := surveys.CustomerResponses(ctx, "a.myshopify.com", 7001)
	require.NoError(t, err)
	assert.Empty(t, gone, "the redacted customer's survey responses are deleted")
	kept, err := surveys.CustomerResponses(ctx, "a.myshopify.com", 7002)
	require.NoError(t, err)
	assert.Len(t, kept, 1, "another customer's response stays")
	_, err = surveys.Submit(ctx, "a.myshopify.com", survey.Response{SurveyID: sv.ID, CustomerID: 7001, NPS: intp(9)}, false)
	assert.ErrorIs(t, err, postgres.ErrSurveyNotOpen, "an old link of a redacted customer stores nothing")
	for _, needle := range []string{alice.Email, alice.Phone, "words of " + alice.Email} {
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
	surveys := postgres.NewSurveyStore(db)
	for _, shop := range []string{"gone.myshopify.com", "stays.myshopify.com"} {
		require.NoError(t, shops.SaveInstall(ctx, shop, expiringToken("t", "r", time.Now().Add(time.Hour))))
		sv := activeSurvey(t, surveys, shop, "stopped")
		_, err := surveys.Submit(ctx, shop, survey.Response{SurveyID: sv.ID, CustomerID: 1, NPS: intp(9), Why: "an answer"}, false)
		require.NoError(t, err)
		_, err = deliveries.Record(ctx, cvo.WebhookDelivery{Shop: shop, ID: "w1", Topic: "orders/create", Payload: []byte(`{"id":1}`)})
		require.NoError(t, err)
		_, err = privacy.ExportCustomer(ctx, shop, "r1", cvo.CustomerRef{ID: "1"})
		require.NoError(t, err)
	}
	require.NoError(t, privacy.DeleteShop(ctx, "gone.myshopify.com"))
	require.NoError(t, privacy.DeleteShop(ctx, "gone.myshopify.com"), "shop/redact may be delivered twice")

	assert.Empty(t, pgtest.FindText(t, db, "gone.myshopify.com"))
	var left int
	require.NoError(t, db.Pool.QueryRow(ctx, `SELECT count(*) FROM survey_responses WHERE shop = 'gone.myshopify.com'`).Scan(&left))
	assert.Zero(t, left)
	assert.ElementsMatch(t, []string{"data_requests.shop", "shops.shop", "webhook_deliveries.shop", "surveys.shop", "survey_responses.shop"},
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

func TestRedactCustomerIsExact(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	deliveries := postgres.NewDeliveryStore(db)
	privacy := postgres.NewPrivacyStore(db)
	const shop = "a.myshopify.com"
	target := cvo.CustomerRef{ID: "7", Email: "Ann.Lee@Example.com", Phone: "+44 7700 900123"}

	cases := []struct {
		name, topic, payload string
		redacted             bool
	}{
		{"order of the customer", "orders/create", `{"id":1001,"admin_graphql_api_id":"gid://shopify/Order/1001","customer":{"id":7}}`, true},
		{"the customer itself", "customers/update", `{"id":7,"admin_graphql_api_id":"gid://shopify/Customer/7","updated_at":"2026-11-01T10:00:00Z"}`, true},
		{"customer by GraphQL id only", "orders/updated", `{"id":1002,"customer":{"admin_graphql_api_id":"gid://shopify/Customer/7"}}`, true},
		{"customer id as text", "orders/paid", `{"id":1003,"customer":{"id":"7"}}`, true},
		{"by customer_id", "refunds/create", `{"id":1004,"order_id":1003,"customer_id":7}`, true},
		{"guest order, email in another case", "orders/create", `{"id":1005,"customer":null,"email":"ANN.LEE@EXAMPLE.COM"}`, true},
		{"guest order, email JSON-escaped", "orders/create", `{"id":1006,"customer":null,"contact_email":"ann.lee\u0040example.com"}`, true},
		{"email inside a note", "orders/create", `{"id":1007,"note":"call Ann.Lee@example.com first"}`, true},
		{"phone written differently", "orders/create", `{"id":1008,"billing_address":{"phone":"+447700900123"}}`, true},

		{"customer 17, sevens in every timestamp", "orders/create", `{"id":777,"created_at":"2026-07-17T07:07:07Z","customer":{"id":17,"email":"x7@example.com"}}`, false},
		{"customer 70", "customers/update", `{"id":70,"admin_graphql_api_id":"gid://shopify/Customer/70","note":"7","updated_at":"2027-07-07T07:07:07Z"}`, false},
		{"customer 7007", "orders/create", `{"id":1009,"customer":{"id":7007,"admin_graphql_api_id":"gid://shopify/Customer/7007"}}`, false},
		{"order number 7 of customer 8", "orders/create", `{"id":7,"order_number":7,"customer":{"id":8}}`, false},
		{"a longer email containing the address", "orders/create", `{"id":1010,"email":"jann.lee@example.com.au","customer":{"id":9}}`, false},
		{"refund of order 7", "refunds/create", `{"id":1011,"order_id":7}`, false},
	}
	for i, tc := range cases {
		fresh, err := deliveries.Record(ctx, cvo.WebhookDelivery{Shop: shop, ID: fmt.Sprintf("wh-%d", i), Topic: tc.topic, Payload: []byte(tc.payload)})
		require.NoError(t, err)
		require.True(t, fresh)
	}
	// Another shop's delivery for a customer 7 of its own stays.
	_, err := deliveries.Record(ctx, cvo.WebhookDelivery{Shop: "b.myshopify.com", ID: "wh-b", Topic: "orders/create", Payload: []byte(cases[0].payload)})
	require.NoError(t, err)

	require.NoError(t, privacy.RedactCustomer(ctx, shop, target))

	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var payload []byte
			var processed bool
			require.NoError(t, db.Pool.QueryRow(ctx, `SELECT payload, processed_at IS NOT NULL FROM webhook_deliveries WHERE shop = $1 AND webhook_id = $2`,
				shop, fmt.Sprintf("wh-%d", i)).Scan(&payload, &processed))
			if tc.redacted {
				assert.Nil(t, payload, "the customer's delivery keeps no payload")
				return
			}
			assert.JSONEq(t, tc.payload, string(payload), "another customer's pending delivery is untouched")
			assert.False(t, processed, "another customer's pending delivery is still to be applied")
		})
	}
	d, err := deliveries.Get(ctx, "b.myshopify.com", "wh-b")
	require.NoError(t, err)
	assert.NotEmpty(t, d.Payload, "redaction stays within the shop")
}
