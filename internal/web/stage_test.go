package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/jobs"
	"github.com/cvo-app/cvo/internal/jobs/jobstest"
	"github.com/cvo-app/cvo/internal/postgres"
	"github.com/cvo-app/cvo/internal/postgres/pgtest"
	"github.com/cvo-app/cvo/internal/scoring"
	"github.com/cvo-app/cvo/internal/web"
	"github.com/cvo-app/cvo/webhooks"
)

// statusByShop reports each shop's sync as ingest would.
type statusByShop map[string]map[string]any

func (s statusByShop) Status(_ context.Context, shop string) (map[string]any, error) {
	return s[shop], nil
}

// TestShopStageFromTheFirstAnswer walks a shop from install to its first
// figures: every answer of GET /api/shop says what is happening, so the
// page knows to keep asking even before a sync or scoring is reported
// running (the first answer after install reports neither).
func TestShopStageFromTheFirstAnswer(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	snaps := postgres.NewScoringStore(db)
	queue := jobs.NewQueue(jobstest.RedisOpt(t), jobstest.Namespace(t))
	t.Cleanup(func() { queue.Close() })
	started := time.Now().Add(-time.Minute).UTC()
	// notStarted is what ingest reports for a shop without a sync state.
	notStarted := map[string]any{"phase": "", "mode": "", "rows_done": 0, "rows_expected": 0,
		"deliveries": postgres.DeliveryCounts{}}
	exporting := map[string]any{"phase": "exporting", "mode": "full", "rows_done": 0, "rows_expected": 0, "percent": 0.0,
		"started_at": started}
	importing := map[string]any{"phase": "importing", "mode": "full", "rows_done": 400, "rows_expected": 1000, "percent": 40.0,
		"started_at": started}
	done := map[string]any{"phase": "done", "mode": "full", "rows_done": 1000, "rows_expected": 1000, "percent": 100.0,
		"started_at": started, "finished_at": started.Add(20 * time.Second)}
	failed := map[string]any{"phase": "failed", "mode": "full", "rows_done": 0, "rows_expected": 0,
		"started_at": started, "last_error": "bulk query failed", "error": "bulk query failed"}

	cases := []struct {
		name  string
		sync  map[string]any
		runs  []string // scoring runs, oldest first: running, succeeded, failed
		stage string
	}{
		{"first answer after install", notStarted, nil, "sync_queued"},
		{"bulk operations at Shopify", exporting, nil, "syncing"},
		{"results streaming in", importing, nil, "syncing"},
		{"sync failed", failed, nil, "sync_failed"},
		{"imported, scoring not started", done, nil, "scoring_queued"},
		{"scoring", done, []string{"running"}, "scoring"},
		{"first scoring failed", done, []string{"failed"}, "scoring_failed"},
		{"scored", done, []string{"succeeded"}, "ready"},
		{"scored, a resync under way", exporting, []string{"succeeded"}, "ready"},
		{"scored, a later scoring failed", done, []string{"succeeded", "failed"}, "ready"},
	}
	statuses := statusByShop{}
	shops := make([]string, len(cases))
	for i, tc := range cases {
		shops[i] = fmt.Sprintf("st%d-%d.myshopify.com", i, time.Now().UnixNano())
		statuses[shops[i]] = tc.sync
		for _, state := range tc.runs {
			id, err := snaps.Begin(ctx, shops[i], "sync", started)
			require.NoError(t, err)
			switch state {
			case "succeeded":
				require.NoError(t, snaps.Finish(ctx, shops[i], id, []cvo.CustomerScore{}, &scoring.Aggregates{}))
			case "failed":
				require.NoError(t, snaps.Fail(ctx, shops[i], id, "fit failed"))
			}
		}
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := web.NewServer(web.Config{ClientID: clientID, ClientSecret: clientSecret, AppURL: "https://app.example",
		AdminBaseURL: func(s string) string { return "https://" + s }},
		web.Deps{Installer: noInstall{}, Status: statuses, Webhooks: webhooks.NewReceiver(clientSecret, nil, nil, nil, nil, log), Log: log,
			Pages: &web.PagesDeps{Snapshots: snaps, Settings: postgres.NewSettingsStore(db), Actions: queue}})

	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/api/shop", nil)
			req.Header.Set("Authorization", "Bearer "+sessionToken(t, shops[i]))
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, req)
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			var body struct {
				Status struct {
					Stage string `json:"stage"`
				} `json:"status"`
			}
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
			assert.Equal(t, tc.stage, body.Status.Stage)
		})
	}
}
