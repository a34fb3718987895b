package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"

	"github.com/cvo-app/cvo/internal/fleet"
	"github.com/cvo-app/cvo/internal/jobs/jobstest"
	"github.com/cvo-app/cvo/internal/postgres/pgtest"
	"github.com/cvo-app/cvo/internal/simulator"
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
	// A job namespace of the test's own: its worker takes no other test's
	// tasks (and no other worker takes its).
	ns := jobstest.Namespace(t)

	var appHandler http.Handler
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { appHandler.ServeHTTP(w, r) }))
	defer app.Close()
	var simHandler http.Handler
	simServer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { simHandler.ServeHTTP(w, r) }))
	defer simServer.Close()
	sim := simulator.New(simulator.Config{ClientID: "fleet-client", ClientSecret: "fleet-secret", AppURL: app.URL,
		APIVersion: defaultAPIVersion, PublicURL: simServer.URL})
	defer sim.Close()
	simHandler = sim.Handler()
	names, err := fleet.AddShops(ctx, sim, shops, fleet.ShopSize{Customers: 120, Orders: 480})
	require.NoError(t, err)

	_, dbURL := pgtest.NewWithURL(t)
	cfg := config{
		ClientID: "fleet-client", ClientSecret: "fleet-secret", AppURL: app.URL, Scopes: defaultScopes, APIVersion: defaultAPIVersion,
		AdminOrigin: simServer.URL, DatabaseURL: dbURL, RedisURL: jobstest.RedisURL(), QueueNamespace: string(ns),
		EncryptionKey: "v1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
	}
	logs := &strings.Builder{}
	a, err := openApp(ctx, cfg, slog.New(slog.NewTextHandler(&lockedWriter{w: logs}, nil)))
	require.NoError(t, err)
	appHandler = a.server()
	workerDone := make(chan error, 1)
	go func() { workerDone <- a.work(ctx) }()
	defer func() {
		cancel()
		select {
		case <-workerDone:
		case <-time.After(30 * time.Second):
			t.Error("worker did not stop")
		}
		a.close()
		if t.Failed() {
			t.Log(logs.String())
		}
	}()

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
		assert.Greater(t, c.Scored, 60, "%s: most customers bought and were scored", shop)
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
