package web_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/postgres"
	"github.com/cvo-app/cvo/internal/postgres/pgtest"
	"github.com/cvo-app/cvo/internal/web"
	"github.com/cvo-app/cvo/webhooks"
)

// TestDataRequestExportsAPI: a merchant lists and downloads their shop's
// customers/data_request exports until the retention expires them, and
// never another shop's.
func TestDataRequestExportsAPI(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	const retention = 30 * 24 * time.Hour
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := httptest.NewServer(web.NewServer(web.Config{ClientID: clientID, ClientSecret: clientSecret, AppURL: "https://app.example",
		AdminBaseURL: func(s string) string { return "https://" + s }},
		web.Deps{Installer: noInstall{}, Webhooks: webhooks.NewReceiver(clientSecret, nil, nil, nil, nil, log), Log: log,
			Exports: postgres.NewExportStore(db, retention)}))
	t.Cleanup(srv.Close)
	const mine, theirs = "exports-a.myshopify.com", "exports-b.myshopify.com"
	for _, r := range []struct {
		shop, id string
		days     int
	}{{mine, "101", 1}, {mine, "102", 3}, {mine, "old", 31}, {theirs, "201", 1}} {
		_, err := db.Pool.Exec(ctx, `INSERT INTO data_requests (shop, request_id, customer_id, export, created_at)
			VALUES ($1, $2, '7', '{"customer_id":"7","orders":[]}', now() - make_interval(days => $3))`, r.shop, r.id, r.days)
		require.NoError(t, err)
	}
	get := func(path, shop string) (int, http.Header, []byte) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		if shop != "" {
			req.Header.Set("Authorization", "Bearer "+sessionToken(t, shop))
		}
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		return res.StatusCode, res.Header, body
	}

	status, _, body := get("/api/exports", mine)
	require.Equal(t, http.StatusOK, status, string(body))
	var list struct {
		Exports []postgres.DataExport `json:"exports"`
	}
	require.NoError(t, json.Unmarshal(body, &list))
	require.Len(t, list.Exports, 2, "the expired export is not listed")
	assert.Equal(t, "101", list.Exports[0].RequestID, "newest first")
	assert.Equal(t, "102", list.Exports[1].RequestID)
	assert.WithinDuration(t, list.Exports[0].CreatedAt.Add(retention), list.Exports[0].ExpiresAt, 0)

	tests := []struct {
		name, path, shop string
		want             int
	}{
		{"own export", "/api/exports/101", mine, http.StatusOK},
		{"another shop's export", "/api/exports/201", mine, http.StatusNotFound},
		{"expired export", "/api/exports/old", mine, http.StatusNotFound},
		{"unknown export", "/api/exports/999", mine, http.StatusNotFound},
		{"malformed id", "/api/exports/a%20b", mine, http.StatusBadRequest},
		{"no session token", "/api/exports/101", "", http.StatusUnauthorized},
		{"no session token, list", "/api/exports", "", http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, header, body := get(tt.path, tt.shop)
			require.Equal(t, tt.want, status, string(body))
			if tt.want == http.StatusOK {
				assert.JSONEq(t, `{"customer_id":"7","orders":[]}`, string(body))
				assert.Contains(t, header.Get("Content-Disposition"), `filename="data-request-101.json"`)
				assert.Equal(t, "no-store", header.Get("Cache-Control"))
			}
		})
	}
	status, _, body = get("/api/exports", theirs)
	require.Equal(t, http.StatusOK, status)
	require.NoError(t, json.Unmarshal(body, &list))
	require.Len(t, list.Exports, 1)
	assert.Equal(t, "201", list.Exports[0].RequestID)
}
