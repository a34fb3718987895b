package wiring

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/shopgen"
	"github.com/cvo-app/cvo/internal/simulator"
)

// TestEndToEnd runs the whole app as wired in production against the
// simulator: a shop opens the app, is installed by token exchange, its
// history syncs, it is scored, the scores reach Shopify as tags, a new
// order brings a debounced rescore, and uninstalling stops everything.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const shop = "e2e-shop.myshopify.com"
	env := startInProcess(t, "e2e-client", "e2e-secret", func(a *App) { a.rescorer.SetDebounce(time.Second) })
	sim, a, app := env.sim, env.app, env.server
	opts := shopgen.GenOptions{Customers: 300, Orders: 1500, Seed: 7, Currency: "EUR", Timezone: "Europe/Paris",
		Start: time.Now().AddDate(-2, 0, 0), End: time.Now().AddDate(0, 0, -1)}
	info := opts.Shop()
	require.NoError(t, sim.AddShop(shop, simulator.ShopOptions{Name: info.Name, Currency: info.Currency, Timezone: info.Timezone}))
	_, err := shopgen.Generate(ctx, opts, shopgen.ForShop(sim, shop))
	require.NoError(t, err)

	get := func(path string, out any) int {
		tok, err := sim.SessionToken(shop, 1)
		require.NoError(t, err)
		req, _ := http.NewRequest(http.MethodGet, app.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		if out != nil {
			require.NoError(t, json.NewDecoder(res.Body).Decode(out))
		}
		return res.StatusCode
	}
	type shopState struct {
		Installed bool `json:"installed"`
		Status    struct {
			Scoring struct {
				State     string `json:"state"`
				Reason    string `json:"reason"`
				Customers int    `json:"customers"`
			} `json:"scoring"`
		} `json:"status"`
	}

	// 1. The first call from the embedded page installs the shop.
	var st shopState
	require.Equal(t, http.StatusOK, get("/api/shop", &st))
	assert.True(t, st.Installed)

	// Metafield definitions and one segment per group are set up.
	require.Eventually(t, func() bool { return len(sim.Segments(shop)) == 11 && len(sim.MetafieldDefinitions(shop)) >= 8 },
		60*time.Second, 200*time.Millisecond, "write-back set-up")

	// 2. The history syncs and is scored, with no further action.
	require.Eventually(t, func() bool {
		get("/api/shop", &st)
		return st.Status.Scoring.State == "succeeded"
	}, 90*time.Second, 500*time.Millisecond, "the first scoring")
	assert.Equal(t, "sync", st.Status.Scoring.Reason)

	var overview struct {
		Customers     int     `json:"customers"`
		RetentionRate float64 `json:"retention_rate"`
	}
	require.Equal(t, http.StatusOK, get("/api/overview", &overview))
	assert.Equal(t, st.Status.Scoring.Customers, overview.Customers)
	assert.Greater(t, overview.Customers, 200, "most generated customers bought")
	var segs struct {
		Groups []struct {
			Slug      string `json:"slug"`
			Customers int    `json:"customers"`
		} `json:"groups"`
	}
	require.Equal(t, http.StatusOK, get("/api/segments", &segs))
	sum := 0
	for _, g := range segs.Groups {
		sum += g.Customers
	}
	assert.Equal(t, overview.Customers, sum, "every customer is in exactly one group")

	// 3. Every scored customer carries exactly its group's tag in Shopify.
	groupOf := func() map[int64]string {
		out := map[int64]string{}
		sc, _, err := a.scorings.Latest(ctx, shop)
		require.NoError(t, err)
		require.NoError(t, a.scorings.Customers(ctx, shop, sc.ID, func(c cvo.CustomerScore) error {
			id, _ := strconv.ParseInt(c.CustomerID, 10, 64)
			out[id] = c.Group
			return nil
		}))
		return out
	}
	tagsMatch := func(groups map[int64]string) bool {
		for id, g := range groups {
			c, ok := sim.GetCustomer(shop, id)
			if !ok {
				return false
			}
			var mine []string
			for _, tag := range c.Tags {
				if strings.HasPrefix(tag, "cvo-") && !strings.HasPrefix(tag, "cvo-value-") && !strings.HasPrefix(tag, "cvo-churn-") {
					mine = append(mine, tag)
				}
			}
			if len(mine) != 1 || mine[0] != "cvo-"+g {
				return false
			}
		}
		return true
	}
	groups := groupOf()
	require.Eventually(t, func() bool { return tagsMatch(groups) }, 60*time.Second, 500*time.Millisecond, "group tags written back")

	// 4. A new order arrives by webhook: one debounced rescore follows.
	var buyer int64
	for id := range groups {
		buyer = id
		break
	}
	_, err = sim.CreateOrder(ctx, shop, simulator.Order{CustomerID: buyer, CreatedAt: time.Now(), Total: simulator.NewAmount(80),
		LineItems: []simulator.LineItem{{Title: "Gift", Quantity: 1, UnitPrice: simulator.NewAmount(80)}}},
		simulator.WithWebhooks())
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		get("/api/shop", &st)
		return st.Status.Scoring.Reason == "orders" && st.Status.Scoring.State == "succeeded"
	}, 60*time.Second, 500*time.Millisecond, "a rescore after the new order")
	require.Eventually(t, func() bool { return tagsMatch(groupOf()) }, 60*time.Second, 500*time.Millisecond, "tags follow the rescore")

	// The app's own tag writes came back as customers/update webhooks and
	// started no rescore of their own.
	time.Sleep(3 * time.Second)
	var n int
	require.NoError(t, a.db.Pool.QueryRow(ctx, `SELECT count(*) FROM scorings WHERE shop = $1`, shop).Scan(&n))
	assert.Equal(t, 2, n, "one scoring after the sync, one after the order")

	// 5. Uninstalling stops everything; the data stays until shop/redact.
	_, err = sim.Uninstall(ctx, shop)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		s, err := a.shops.Get(ctx, shop)
		return err == nil && !s.Installed()
	}, 10*time.Second, 200*time.Millisecond)
	assert.Equal(t, http.StatusOK, get("/api/overview", nil), "the analysis stays readable until shop/redact")

}
