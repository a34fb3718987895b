package ingest

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/postgres"
	"github.com/cvo-app/cvo/internal/postgres/pgtest"
)

// TestRedactedCustomerLeavesNoTraceAndNeverComesBack redacts a synced
// customer (customers/redact), checks no table anywhere keeps their email
// or name, and that neither a new sync (Shopify still has the customer)
// nor a late customers/update stores them again. Their purchases stay.
func TestRedactedCustomerLeavesNoTraceAndNeverComesBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	s := newSimShop(t)
	s.populate(t, 3, 60, 200)
	syncer := s.syncer(db)
	require.NoError(t, syncer.SyncShop(ctx, testShop))

	// The customer with the most orders, so redaction has purchases to keep.
	var id int64
	require.NoError(t, db.Pool.QueryRow(ctx, `SELECT customer_id FROM orders WHERE shop = $1 AND customer_id IS NOT NULL
		GROUP BY customer_id ORDER BY count(*) DESC, customer_id LIMIT 1`, testShop).Scan(&id))
	c, ok := s.sim.GetCustomer(testShop, id)
	require.True(t, ok)
	other, ok := s.sim.GetCustomer(testShop, id%60+1)
	require.True(t, ok)
	needles := []string{c.Email, c.FirstName, c.LastName}
	var orders int
	require.NoError(t, db.Pool.QueryRow(ctx, `SELECT count(*) FROM orders WHERE shop = $1 AND customer_id = $2`, testShop, id).Scan(&orders))
	require.NotZero(t, orders)

	privacy := postgres.NewPrivacyStore(db)
	ref := cvo.CustomerRef{ID: strconv.FormatInt(id, 10), Email: c.Email}
	export, err := privacy.ExportCustomer(ctx, testShop, "req-1", ref)
	require.NoError(t, err)
	body, err := json.Marshal(export)
	require.NoError(t, err)
	assert.Contains(t, string(body), c.Email, "a data request returns what the app holds")
	assert.Len(t, export["orders"], orders)
	require.NotEmpty(t, pgtest.FindText(t, db, c.Email))

	// A customers/update for the customer is still waiting to be applied.
	e := &webhookEnv{t: t, db: db, deliveries: postgres.NewDeliveryStore(db), applier: NewApplier(postgres.NewDeliveryStore(db), nil, nil)}
	pending := edited(t, "customers_update.json", map[string]any{"id": id, "email": c.Email, "first_name": c.FirstName,
		"last_name": c.LastName, "updated_at": "2030-01-01T00:00:00Z"})

	_, err = e.deliveries.Record(ctx, cvo.WebhookDelivery{Shop: testShop, ID: "pending-1", Topic: "customers/update", Payload: pending})
	require.NoError(t, err)
	require.NoError(t, e.deliveries.MarkHandled(ctx, testShop, "pending-1", true))

	require.NoError(t, privacy.RedactCustomer(ctx, testShop, ref))
	assertGone := func(when string) {
		t.Helper()
		for _, n := range needles {
			assert.Empty(t, pgtest.FindText(t, db, n), "%s: %s left behind", when, n)
		}
		var kept int
		require.NoError(t, db.Pool.QueryRow(ctx, `SELECT count(*) FROM orders WHERE shop = $1 AND customer_id = $2`, testShop, id).Scan(&kept))
		assert.Equal(t, orders, kept, "%s: the purchases stay, anonymous", when)
	}
	assertGone("after redaction")
	assert.NotEmpty(t, pgtest.FindText(t, db, other.Email), "other customers keep their data")

	require.NoError(t, syncer.SyncShop(ctx, testShop))
	assertGone("after a new sync")

	require.NoError(t, e.applier.ApplyWebhook(ctx, testShop, "pending-1"))
	assertGone("after the pending customers/update is applied")
	_, err = e.deliver("customers/update", pending)
	require.NoError(t, err)
	assertGone("after a late customers/update")
}
