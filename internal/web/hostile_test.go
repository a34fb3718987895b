package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/jobs"
	"github.com/cvo-app/cvo/internal/jobs/jobstest"
	"github.com/cvo-app/cvo/internal/postgres"
	"github.com/cvo-app/cvo/internal/postgres/pgtest"
	"github.com/cvo-app/cvo/internal/rescore"
	"github.com/cvo-app/cvo/internal/web"
	"github.com/cvo-app/cvo/webhooks"
)

// history is a small shop's orders for a real scoring.
type history struct{ orders []cvo.Order }

func (h history) ShopOrders(_ context.Context, _ string, fn func(cvo.Order) error) error {
	for _, o := range h.orders {
		if err := fn(o); err != nil {
			return err
		}
	}
	return nil
}

func (h history) ShopCustomers(context.Context, string, func(cvo.Customer) error) error { return nil }

type pagesFixture struct {
	server *web.Server
	queue  *jobs.Queue
	shop   string
}

// newPagesServer is the whole app server over a real, scored shop.
func newPagesServer(t *testing.T) pagesFixture {
	db := pgtest.New(t)
	queue := jobs.NewQueue(jobstest.RedisOpt(t), jobstest.Namespace(t))
	t.Cleanup(func() { queue.Close() })
	shop := fmt.Sprintf("h%d.myshopify.com", time.Now().UnixNano())
	asOf := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var h history
	for i := range 60 {
		for j := range 1 + i%4 {
			h.orders = append(h.orders, cvo.Order{ID: fmt.Sprintf("o%d-%d", i, j), CustomerID: fmt.Sprint(7 + i),
				CreatedAt: asOf.AddDate(0, 0, -7*(i+j*9)-1), Total: float64(20 + i), Currency: "GBP"})
		}
	}
	scores, agg, err := rescore.ShopScorer{}.Score(context.Background(), rescore.Input{
		Shop: cvo.Shop{Domain: shop, Timezone: "UTC"}, Settings: cvo.DefaultSettings(), AsOf: asOf, History: h,
	})
	require.NoError(t, err)
	snaps := postgres.NewScoringStore(db)
	id, err := snaps.Begin(context.Background(), shop, "manual", asOf)
	require.NoError(t, err)
	require.NoError(t, snaps.FinishRows(context.Background(), shop, id, scores, agg))

	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := web.NewServer(web.Config{ClientID: clientID, ClientSecret: clientSecret, AppURL: "https://app.example",
		AdminBaseURL: func(s string) string { return "https://" + s }},
		web.Deps{Installer: noInstall{}, Webhooks: webhooks.NewReceiver(clientSecret, nil, nil, nil, nil, log), Log: log,
			OAuthStates: postgres.NewOAuthStateStore(db),
			Pages:       &web.PagesDeps{Snapshots: snaps, Settings: postgres.NewSettingsStore(db), Actions: queue}})
	return pagesFixture{server: srv, queue: queue, shop: shop}
}

func (f pagesFixture) do(t *testing.T, method, target, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if strings.HasPrefix(target, "/api/") {
		req.Header.Set("Authorization", "Bearer "+sessionToken(t, f.shop))
	}
	rec := httptest.NewRecorder()
	f.server.ServeHTTP(rec, req)
	return rec
}

// routeTargets turns every registered route into a request target.
func routeTargets(f pagesFixture) [][2]string {
	var out [][2]string
	for _, r := range f.server.Echo().Routes() {
		if r.Method == "echo_route_not_found" || strings.Contains(r.Path, "*") {
			continue
		}
		out = append(out, [2]string{r.Method, strings.ReplaceAll(r.Path, ":slug", "soulmates")})
	}
	return append(out, [2]string{http.MethodGet, "/no/such/route"}, [2]string{http.MethodGet, "/assets/x.js"})
}

func TestHostileQueriesNeverFail(t *testing.T) {
	f := newPagesServer(t)
	hostile := []string{
		"q=%00", "q=" + strings.Repeat("a", 5000), "q=%FF%FE", "q=%1B%5B31m", "q=a%00b",
		"page=9223372036854775807", "page=-1", "page=0", "page=1e3", "page=99999999999999999999",
		"per_page=-5", "per_page=0", "per_page=1000000", "per_page=9223372036854775807", "per_page=abc",
		"sort=name", "sort=%00", "sort=predicted_clv;drop", "group=%00", "group=SOULMATES%20OR%201=1", "group=" + strings.Repeat("x", 3000),
		"page=2&per_page=250&q=ann&group=soulmates", "shop=%00&host=%00", "%00=%00",
	}
	for _, rt := range routeTargets(f) {
		for _, q := range hostile {
			t.Run(rt[0]+" "+rt[1]+"?"+q, func(t *testing.T) {
				body := ""
				if rt[0] == http.MethodPut {
					body = `{"tag_prefix":"cvo-","default_margin":0.3,"refund_dating":"refund_date"}`
				}
				rec := f.do(t, rt[0], rt[1]+"?"+q, body)
				assert.Less(t, rec.Code, 500, rec.Body.String())
			})
		}
	}
}

func TestCustomerListRefusesBadParameters(t *testing.T) {
	f := newPagesServer(t)
	cases := []struct {
		query, want string
		field       string // the input the page shows the message beside
	}{
		{"q=%00", "control characters", "q"},
		{"q=a%00b", "control characters", "q"},
		{"q=%FF", "UTF-8", "q"},
		{"q=" + strings.Repeat("é", 201), "too long: at most 200 characters, this has 201", "q"},
		{"q=" + strings.Repeat("x", 10000), "too long: at most 200 characters, this has 10000", "q"},
		{"page=9223372036854775807", "page must be", ""},
		{"page=0", "page must be", ""},
		{"page=-1", "page must be", ""},
		{"page=x", "page must be", ""},
		{"page=1000000&per_page=250", "beyond the end", ""},
		{"per_page=-5", "per_page must be", ""},
		{"per_page=0", "per_page must be", ""},
		{"per_page=251", "per_page must be", ""},
		{"per_page=1000000", "per_page must be", ""},
		{"sort=name", "Unknown sort key", ""},
		{"group=soulmate", "No group", ""},
		{"group=%00", "No group", ""},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			rec := f.do(t, http.MethodGet, "/api/customers?"+tc.query, "")
			require.Equal(t, http.StatusBadRequest, rec.Code)
			var body map[string]string
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
			assert.Contains(t, body["error"], tc.want)
			assert.Equal(t, tc.field, body["field"])
		})
	}
	for _, ok := range []string{"", "page=2&per_page=250", "q=" + strings.Repeat("é", 200), "sort=predicted_clv", "group=soulmates", "page=400000&per_page=250"} {
		assert.Equal(t, http.StatusOK, f.do(t, http.MethodGet, "/api/customers?"+ok, "").Code, ok)
	}
}

func TestSecurityHeadersOnEveryRoute(t *testing.T) {
	f := newPagesServer(t)
	for _, rt := range routeTargets(f) {
		for _, authed := range []bool{true, false} {
			req := httptest.NewRequest(rt[0], rt[1], strings.NewReader(`{}`))
			if authed {
				req.Header.Set("Authorization", "Bearer "+sessionToken(t, f.shop))
			}
			rec := httptest.NewRecorder()
			f.server.ServeHTTP(rec, req)
			name := fmt.Sprintf("%s %s (authenticated %v, answered %d)", rt[0], rt[1], authed, rec.Code)
			assert.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"), name)
			assert.Equal(t, "strict-origin-when-cross-origin", rec.Header().Get("Referrer-Policy"), name)
		}
	}
}

func TestSettingsRejectsTextPostgresCannotStore(t *testing.T) {
	f := newPagesServer(t)
	for name, body := range map[string]string{
		"NUL in a source":     `{"tag_prefix":"cvo-","default_margin":0.3,"refund_dating":"refund_date","cac_by_source":{"a\u0000b":1}}`,
		"control in a source": `{"tag_prefix":"cvo-","default_margin":0.3,"refund_dating":"refund_date","cac_by_source":{"a\u001bb":1}}`,
		"NUL in the prefix":   `{"tag_prefix":"cvo\u0000","default_margin":0.3,"refund_dating":"refund_date"}`,
		"huge hour":           `{"tag_prefix":"cvo-","default_margin":0.3,"refund_dating":"refund_date","schedule":{"nightly_hour":9223372036854775807}}`,
		"number overflow":     `{"tag_prefix":"cvo-","default_margin":1e400,"refund_dating":"refund_date"}`,
	} {
		assert.Equal(t, http.StatusBadRequest, f.do(t, http.MethodPut, "/api/settings", body).Code, name)
	}
}

func TestSettingsSavesCoalesceIntoOneRescore(t *testing.T) {
	f := newPagesServer(t)
	// All saves must fall in one window: start right after a boundary
	// when the current window is about to close.
	if left := web.SettingsRescoreWindow - time.Duration(time.Now().UnixNano())%web.SettingsRescoreWindow; left < 5*time.Second {
		time.Sleep(left + 100*time.Millisecond)
	}
	for i := range 5 {
		body := fmt.Sprintf(`{"tag_prefix":"cvo-","default_margin":0.%d,"refund_dating":"refund_date"}`, i+3)
		require.Equal(t, http.StatusOK, f.do(t, http.MethodPut, "/api/settings", body).Code)
	}
	inspector := asynq.NewInspector(jobstest.RedisOpt(t))
	t.Cleanup(func() { inspector.Close() })
	tasks, err := inspector.ListScheduledTasks(f.queue.Namespace().QueueName(jobs.QueueDefault))
	require.NoError(t, err)
	var rescores []*asynq.TaskInfo
	for _, ti := range tasks {
		if strings.HasPrefix(ti.ID, "rescore:"+f.shop+":settings:") {
			rescores = append(rescores, ti)
		}
	}
	require.Len(t, rescores, 1, "five saves in one window, one rescore")
	assert.True(t, rescores[0].NextProcessAt.After(time.Now()), "the rescore waits for the window to close, after every save of it")
}
