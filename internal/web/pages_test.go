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

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/jobs"
	"github.com/cvo-app/cvo/internal/jobs/jobstest"
	"github.com/cvo-app/cvo/internal/postgres"
	"github.com/cvo-app/cvo/internal/postgres/pgtest"
	"github.com/cvo-app/cvo/internal/web"
	"github.com/cvo-app/cvo/webhooks"
)

type noInstall struct{}

func (noInstall) InstallWithSessionToken(_ context.Context, shop, _ string) (cvo.Shop, error) {
	return cvo.Shop{Domain: shop}, nil
}
func (noInstall) InstallWithCode(context.Context, string, string) (cvo.Shop, error) {
	return cvo.Shop{}, nil
}

func sessionToken(t *testing.T, shop string) string {
	now := time.Now()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"iss": "https://" + shop + "/admin", "dest": "https://" + shop, "aud": clientID, "sub": "1",
		"exp": now.Add(time.Minute).Unix(), "nbf": now.Add(-time.Second).Unix(), "iat": now.Unix(), "jti": "j", "sid": "s",
	}).SignedString([]byte(clientSecret))
	require.NoError(t, err)
	return tok
}

// pagesServer serves the pages' API from db's scorings and settings, its
// actions queued in a Redis namespace of the test's own.
func pagesServer(t *testing.T, db *postgres.DB) *httptest.Server {
	queue := jobs.NewQueue(jobstest.RedisOpt(t), jobstest.Namespace(t))
	t.Cleanup(func() { queue.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := httptest.NewServer(web.NewServer(web.Config{ClientID: clientID, ClientSecret: clientSecret, AppURL: "https://app.example",
		AdminBaseURL: func(s string) string { return "https://" + s }},
		web.Deps{Installer: noInstall{}, Webhooks: webhooks.NewReceiver(clientSecret, nil, nil, nil, nil, log), Log: log,
			Pages: &web.PagesDeps{Snapshots: postgres.NewScoringStore(db), Settings: postgres.NewSettingsStore(db), Actions: queue}}))
	t.Cleanup(srv.Close)
	return srv
}

func TestSettingsAPI(t *testing.T) {
	db := pgtest.New(t)
	srv := pagesServer(t, db)
	settings := postgres.NewSettingsStore(db)
	shop := fmt.Sprintf("p%d.myshopify.com", time.Now().UnixNano())
	var lastField string
	put := func(body string) int {
		req, _ := http.NewRequest(http.MethodPut, srv.URL+"/api/settings", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+sessionToken(t, shop))
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		var e struct {
			Field string `json:"field"`
		}
		_ = json.NewDecoder(res.Body).Decode(&e)
		lastField = e.Field
		return res.StatusCode
	}
	valid := `{"tag_prefix":"vip-","groups_enabled":%s,"value_tags":{"churn_risk":true},"metafields":true,"segments":true,
		"cac":12,"cac_by_source":{"google":20},"default_margin":0.4,"refund_dating":"order_date","schedule":{"nightly_hour":5}}`

	require.Equal(t, http.StatusOK, put(fmt.Sprintf(valid, "null")))
	got, err := settings.Get(context.Background(), shop)
	require.NoError(t, err)
	assert.Nil(t, got.GroupsEnabled, "null means every group")
	assert.Equal(t, "vip-", got.TagPrefix)
	assert.Equal(t, map[string]float64{"google": 20}, got.CACBySource)
	assert.Equal(t, cvo.RefundAtOrderDate, got.RefundDating)
	assert.Equal(t, 5, got.NightlyHour)
	assert.Equal(t, cvo.DefaultPredictionWindowDays, got.PredictionWindowDays, "a field left out keeps its default")
	assert.Equal(t, cvo.DefaultChurnRiskHigh, got.ChurnRiskHigh)
	assert.False(t, got.ShareSurveyLinks, "survey links stay private to the app unless the merchant shares them")

	require.Equal(t, http.StatusOK, put(strings.Replace(fmt.Sprintf(valid, "null"), `"segments":true`, `"segments":true,"share_survey_links":true`, 1)))
	got, err = settings.Get(context.Background(), shop)
	require.NoError(t, err)
	assert.True(t, got.ShareSurveyLinks)

	withPrediction := strings.Replace(fmt.Sprintf(valid, "null"), `"schedule"`, `"prediction":{"window_days":60,"churn_risk_high":0.05,"churn_risk_medium":0.25},"schedule"`, 1)
	require.Equal(t, http.StatusOK, put(withPrediction))
	got, err = settings.Get(context.Background(), shop)
	require.NoError(t, err)
	assert.Equal(t, 60, got.PredictionWindowDays)
	assert.Equal(t, 0.05, got.ChurnRiskHigh)
	assert.Equal(t, 0.25, got.ChurnRiskMedium)
	partial := strings.Replace(fmt.Sprintf(valid, "null"), `"schedule"`, `"prediction":{"window_days":30},"schedule"`, 1)
	require.Equal(t, http.StatusOK, put(partial))
	got, err = settings.Get(context.Background(), shop)
	require.NoError(t, err)
	assert.Equal(t, 30, got.PredictionWindowDays)
	assert.Equal(t, cvo.DefaultChurnRiskMedium, got.ChurnRiskMedium, "a threshold left out keeps its default")

	require.Equal(t, http.StatusOK, put(fmt.Sprintf(valid, "[]")))
	got, err = settings.Get(context.Background(), shop)
	require.NoError(t, err)
	assert.Equal(t, []string{}, got.GroupsEnabled, "an empty list means no group tags")
	assert.False(t, got.GroupEnabled("soulmates"))

	require.Equal(t, http.StatusOK, put(fmt.Sprintf(valid, `["soulmates","lovers"]`)))
	// Each refusal names the field it is about, so the page shows it there.
	for name, tc := range map[string]struct{ body, field string }{
		"unknown group":       {fmt.Sprintf(valid, `["soulmate"]`), "groups_enabled"},
		"unknown refund rule": {strings.Replace(fmt.Sprintf(valid, "null"), "order_date", "whenever", 1), "refund_dating"},
		"unknown field":       {`{"tag_prefix":"cvo-","surprise":1}`, ""},
		"bad prefix":          {strings.Replace(fmt.Sprintf(valid, "null"), "vip-", "VIP,", 1), "tag_prefix"},
		"not json":            {`tag_prefix=cvo-`, ""},
		"zero margin":         {strings.Replace(fmt.Sprintf(valid, "null"), `"default_margin":0.4`, `"default_margin":0`, 1), "default_margin"},
		"margin in percent":   {strings.Replace(fmt.Sprintf(valid, "null"), `"default_margin":0.4`, `"default_margin":45`, 1), "default_margin"},
		"negative cost":       {strings.Replace(fmt.Sprintf(valid, "null"), `"cac":12`, `"cac":-1`, 1), "cac"},
		"hour 24":             {strings.Replace(fmt.Sprintf(valid, "null"), `"nightly_hour":5`, `"nightly_hour":24`, 1), "schedule.nightly_hour"},
		"no window":           {strings.Replace(fmt.Sprintf(valid, "null"), `"schedule"`, `"prediction":{"window_days":0},"schedule"`, 1), "prediction.window_days"},
		"window too long":     {strings.Replace(fmt.Sprintf(valid, "null"), `"schedule"`, `"prediction":{"window_days":4000},"schedule"`, 1), "prediction.window_days"},
		"high above medium": {strings.Replace(fmt.Sprintf(valid, "null"), `"schedule"`,
			`"prediction":{"churn_risk_high":0.5,"churn_risk_medium":0.3},"schedule"`, 1), "prediction.churn_risk_high"},
		"threshold of 1":     {strings.Replace(fmt.Sprintf(valid, "null"), `"schedule"`, `"prediction":{"churn_risk_medium":1},"schedule"`, 1), "prediction.churn_risk_medium"},
		"unknown prediction": {strings.Replace(fmt.Sprintf(valid, "null"), `"schedule"`, `"prediction":{"days":30},"schedule"`, 1), ""},
	} {
		assert.Equal(t, http.StatusBadRequest, put(tc.body), name)
		assert.Equal(t, tc.field, lastField, name)
	}
	got, err = settings.Get(context.Background(), shop)
	require.NoError(t, err)
	assert.Equal(t, []string{"soulmates", "lovers"}, got.GroupsEnabled, "a refused save loses nothing")
}
