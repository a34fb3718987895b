package wiring

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"

	"github.com/cvo-app/cvo/internal/fleet"
)

// TestFleetInstallsTogether installs twenty shops in the same minute
// against one simulator, with the app wired as in production (default
// worker concurrency and pool size). Every shop must end synced, scored,
// tagged, with metafields and segments, and no shop's data, tags or API
// calls may touch another's.
func TestFleetInstallsTogether(t *testing.T) {
	if testing.Short() {
		t.Skip("fleet end-to-end")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const shops = 20
	env := startInProcess(t, "fleet-client", "fleet-secret", nil)
	sim, app, dbURL := env.sim, env.server, env.dbURL
	names, err := fleet.AddShops(ctx, sim, shops, fleet.ShopSize{Customers: 100, Orders: 400})
	require.NoError(t, err)

	// Every shop opens the app at once: each first call installs its shop.
	client := &http.Client{Timeout: 30 * time.Second}
	var g errgroup.Group
	for _, shop := range names {
		g.Go(func() error {
			tok, err := sim.SessionToken(shop, 1)
			if err != nil {
				return err
			}
			req, _ := http.NewRequest(http.MethodGet, app.URL+"/api/shop", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			res, err := client.Do(req)
			if err != nil {
				return err
			}
			defer res.Body.Close()
			var st struct {
				Installed bool `json:"installed"`
			}
			if err := json.NewDecoder(res.Body).Decode(&st); err != nil || res.StatusCode != http.StatusOK || !st.Installed {
				return fmt.Errorf("install %s: status %d, installed %v, %v", shop, res.StatusCode, st.Installed, err)
			}
			return nil
		})
	}
	require.NoError(t, g.Wait())

	// Every shop ends synced, scored and written back. The checks read
	// through a pool of their own: the app's may be what is stuck.
	pool, err := pgxpool.New(ctx, dbURL)
	require.NoError(t, err)
	defer pool.Close()
	checks := map[string]fleet.ShopCheck{}
	var problems []string
	deadline := time.Now().Add(150 * time.Second)
	for {
		problems = problems[:0]
		vctx, vcancel := context.WithTimeout(ctx, 20*time.Second)
		for _, shop := range names {
			c, err := fleet.Verify(vctx, pool, sim, shop)
			if err != nil {
				problems = append(problems, err.Error())
				continue
			}
			checks[shop] = c
			problems = append(problems, c.Problems()...)
		}
		vcancel()
		if len(problems) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(2 * time.Second)
	}
	require.Empty(t, problems, "every shop synced, scored, tagged, with metafields and segments")

	for _, shop := range names {
		c := checks[shop]
		assert.Greater(t, c.Scored, 50, "%s: most customers bought and were scored", shop)
		assert.Equal(t, 11, c.Segments, "%s: one segment per group", shop)
		audit := sim.TokenAudit(shop)
		assert.Zero(t, audit.ForeignToken, "%s: no call with another shop's token", shop)
		assert.Zero(t, audit.UnknownToken, "%s: no call without a token of its own", shop)
		assert.Equal(t, audit.Requests, audit.OwnToken, "%s: every call came with its own token", shop)
		assert.Greater(t, audit.OwnToken, 0, shop)
	}

	// The shops' histories overlap in customer ids (each shop numbers its
	// own), so a row filed under the wrong shop would show as a count that
	// differs from the simulator's: the per-shop comparison above covers
	// ids, totals and refunds; this covers every table at once.
	var crossed int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM customer_scores s
		WHERE NOT EXISTS (SELECT 1 FROM customers c WHERE c.shop = s.shop AND c.id = s.customer_id)`).Scan(&crossed))
	assert.Zero(t, crossed, "every scored customer is a customer of the same shop")
}
