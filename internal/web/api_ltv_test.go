package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/goldenjson"
	"github.com/cvo-app/cvo/internal/jobs"
	"github.com/cvo-app/cvo/internal/jobs/jobstest"
	"github.com/cvo-app/cvo/internal/postgres"
	"github.com/cvo-app/cvo/internal/postgres/pgtest"
	"github.com/cvo-app/cvo/internal/rescore"
	"github.com/cvo-app/cvo/internal/scoring"
	"github.com/cvo-app/cvo/internal/web"
	"github.com/cvo-app/cvo/webhooks"
)

// ltvHistory is the reports package's hand-worked lifetime-value shop
// (internal/reports/testdata/ltv_shop.md), as the rescoring job reads a
// shop's history.
type ltvHistory struct {
	AsOf        time.Time          `json:"asOf"`
	CAC         float64            `json:"cac"`
	CACBySource map[string]float64 `json:"cacBySource"`
	Orders      []cvo.Order        `json:"orders"`
}

func (h *ltvHistory) ShopOrders(_ context.Context, _ string, fn func(cvo.Order) error) error {
	for _, o := range h.Orders {
		if err := fn(o); err != nil {
			return err
		}
	}
	return nil
}

func (h *ltvHistory) ShopCustomers(context.Context, string, func(cvo.Customer) error) error {
	return nil
}

// ltvServer scores the shop as the rescoring job does, stores the scoring
// in a real database (dropping the report when old is set, as in a
// scoring stored before it existed) and serves the API over it.
func ltvServer(t *testing.T, old bool) (http.Handler, string) {
	ctx := context.Background()
	raw, err := os.ReadFile("../reports/testdata/ltv_shop.json")
	require.NoError(t, err)
	var h ltvHistory
	require.NoError(t, json.Unmarshal(raw, &h))
	for i, o := range h.Orders {
		// The store keeps Shopify's numeric customer ids; A is 1001 …
		if o.CustomerID != "" {
			h.Orders[i].CustomerID = fmt.Sprint(1000 + int(o.CustomerID[0]-'A') + 1)
		}
	}
	settings := cvo.DefaultSettings()
	settings.CAC, settings.CACBySource = h.CAC, h.CACBySource
	shop := fmt.Sprintf("ltv%d.myshopify.com", time.Now().UnixNano())
	scores, agg, err := rescore.ShopScorer{}.Score(ctx, rescore.Input{Shop: cvo.Shop{Domain: shop, Timezone: "UTC"},
		Settings: settings, AsOf: h.AsOf, History: &h})
	require.NoError(t, err)
	if old {
		agg = &scoring.Aggregates{Result: agg.Result, Grid: agg.Grid}
		agg.Reports.LifetimeValue = nil
	}
	db := pgtest.New(t)
	snaps := postgres.NewScoringStore(db)
	id, err := snaps.Begin(ctx, shop, "manual", h.AsOf)
	require.NoError(t, err)
	require.NoError(t, snaps.FinishRows(ctx, shop, id, scores, agg))
	queue := jobs.NewQueue(jobstest.RedisOpt(t), jobstest.Namespace(t))
	t.Cleanup(func() { queue.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	return web.NewServer(web.Config{ClientID: clientID, ClientSecret: clientSecret, AppURL: "https://app.example",
		AdminBaseURL: func(s string) string { return "https://" + s }},
		web.Deps{Installer: noInstall{}, Webhooks: webhooks.NewReceiver(clientSecret, nil, nil, nil, nil, log), Log: log,
			Pages: &web.PagesDeps{Snapshots: snaps, Settings: postgres.NewSettingsStore(db), Actions: queue}}), shop
}

func getLTV(t *testing.T, srv http.Handler, shop string) map[string]any {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/api/lifetime-value", nil)
	req.Header.Set("Authorization", "Bearer "+sessionToken(t, shop))
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var got map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &got))
	return got
}

// TestLifetimeValueAPI checks the route's every number on the hand-worked
// shop, through scoring, the database and the API. The golden answer,
// testdata/lifetime_value.golden.json, is the reports package's golden
// file in the API's names.
func TestLifetimeValueAPI(t *testing.T) {
	srv, shop := ltvServer(t, false)
	got := getLTV(t, srv, shop)
	assert.NotEmpty(t, got["scored_at"])
	delete(got, "scored_at")
	raw, err := os.ReadFile("testdata/lifetime_value.golden.json")
	require.NoError(t, err)
	goldenjson.AssertClose(t, raw, got)
}

// TestLifetimeValueAPIOnAnOldScoring answers for a scoring stored before
// the report existed: not available, every list empty, nothing broken.
func TestLifetimeValueAPIOnAnOldScoring(t *testing.T) {
	srv, shop := ltvServer(t, true)
	got := getLTV(t, srv, shop)
	assert.Equal(t, false, got["available"])
	assert.Equal(t, []any{}, got["cohorts"])
	assert.Equal(t, []any{}, got["by_source"])
	assert.Equal(t, map[string]any{"state": "no_cac", "month": 0.0}, got["overall"].(map[string]any)["payback"])
}
