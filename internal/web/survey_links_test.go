package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/jobs"
	"github.com/cvo-app/cvo/internal/jobs/jobstest"
	"github.com/cvo-app/cvo/internal/postgres"
	"github.com/cvo-app/cvo/internal/postgres/pgtest"
	"github.com/cvo-app/cvo/internal/survey"
	"github.com/cvo-app/cvo/internal/web"
	"github.com/cvo-app/cvo/webhooks"
)

// TestClosingASurveyStartsTheWriteBack: the links of a closed survey must
// leave the customers' metafields before an email flow mails them, so
// closing (or deleting) an active survey starts a rescore and its
// write-back; saving a draft does not.
func TestClosingASurveyStartsTheWriteBack(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	queue := jobs.NewQueue(jobstest.RedisOpt(t), jobstest.Namespace(t))
	t.Cleanup(func() { queue.Close() })
	shop := fmt.Sprintf("sl%d.myshopify.com", time.Now().UnixNano())
	surveys := postgres.NewSurveyStore(db)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := web.NewServer(web.Config{ClientID: clientID, ClientSecret: clientSecret, AppURL: "https://app.example",
		AdminBaseURL: func(s string) string { return "https://" + s }},
		web.Deps{Installer: noInstall{}, Webhooks: webhooks.NewReceiver(clientSecret, nil, nil, nil, nil, log), Log: log,
			OAuthStates: postgres.NewOAuthStateStore(db), Surveys: surveys,
			Pages: &web.PagesDeps{Snapshots: postgres.NewScoringStore(db), Settings: postgres.NewSettingsStore(db), Actions: queue}})
	do := func(method, target, body string) int {
		req := httptest.NewRequest(method, target, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+sessionToken(t, shop))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		return rec.Code
	}
	inspector := asynq.NewInspector(jobstest.RedisOpt(t))
	t.Cleanup(func() { inspector.Close() })
	rescores := func() int {
		tasks, err := inspector.ListScheduledTasks(queue.Namespace().QueueName(jobs.QueueDefault))
		if err != nil && !strings.Contains(err.Error(), "not found") {
			require.NoError(t, err)
		}
		n := 0
		for _, ti := range tasks {
			if strings.HasPrefix(ti.ID, "rescore:"+shop+":") {
				n++
			}
		}
		return n
	}

	draft := `{"key":"nps_draft","title":"NPS","status":"draft","nps_question":"Recommend us?","groups":["soulmates"]}`
	require.Equal(t, http.StatusCreated, do(http.MethodPost, "/api/surveys", draft))
	assert.Zero(t, rescores(), "a draft has no links")

	tp, _ := survey.TemplateByID("why-stopped")
	sv := tp.Survey
	sv.Shop, sv.Status = shop, survey.Active
	sv.Normalize()
	sv, err := surveys.Create(ctx, sv)
	require.NoError(t, err)
	closed := `{"key":"why_stopped","title":"Why did you stop?","status":"closed","nps_question":"Recommend?","groups":["break-up"]}`
	require.Equal(t, http.StatusOK, do(http.MethodPut, "/api/surveys/"+strconv.FormatInt(sv.ID, 10), closed))
	assert.Equal(t, 1, rescores(), "closing an active survey starts the write-back that deletes its links")
}

// TestActiveSurveysAreBounded: a customer's metafields must fit one
// metafieldsSet of 25 values (10 scores and up to two links per active
// survey), so a shop has at most web.MaxActiveSurveys active surveys; a
// draft or a closed survey does not count, and an active survey may be
// saved again.
func TestActiveSurveysAreBounded(t *testing.T) {
	db := pgtest.New(t)
	shop := fmt.Sprintf("cap%d.myshopify.com", time.Now().UnixNano())
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := web.NewServer(web.Config{ClientID: clientID, ClientSecret: clientSecret, AppURL: "https://app.example",
		AdminBaseURL: func(s string) string { return "https://" + s }},
		web.Deps{Installer: noInstall{}, Webhooks: webhooks.NewReceiver(clientSecret, nil, nil, nil, nil, log), Log: log,
			OAuthStates: postgres.NewOAuthStateStore(db), Surveys: postgres.NewSurveyStore(db)})
	do := func(method, target, body string) (int, string) {
		req := httptest.NewRequest(method, target, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+sessionToken(t, shop))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	body := func(key, status string) string {
		return fmt.Sprintf(`{"key":%q,"title":"NPS","status":%q,"nps_question":"Recommend us?","groups":["soulmates"]}`, key, status)
	}

	for i := range web.MaxActiveSurveys {
		code, out := do(http.MethodPost, "/api/surveys", body(fmt.Sprintf("nps_%d", i), "active"))
		require.Equal(t, http.StatusCreated, code, out)
	}
	code, out := do(http.MethodPost, "/api/surveys", body("one_too_many", "active"))
	assert.Equal(t, http.StatusBadRequest, code)
	assert.Contains(t, out, `"field":"status"`)
	assert.Contains(t, out, "At most 5 surveys can be active at once")

	code, out = do(http.MethodPost, "/api/surveys", body("a_draft", "draft"))
	require.Equal(t, http.StatusCreated, code, out)
	var created struct {
		ID int64 `json:"id"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &created))
	code, _ = do(http.MethodPut, "/api/surveys/"+strconv.FormatInt(created.ID, 10), body("a_draft", "active"))
	assert.Equal(t, http.StatusBadRequest, code, "a draft cannot become the sixth active survey")

	code, out = do(http.MethodGet, "/api/surveys", "")
	require.Equal(t, http.StatusOK, code, out)
	var list struct {
		Surveys []struct {
			ID  int64  `json:"id"`
			Key string `json:"key"`
		} `json:"surveys"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &list))
	ids := map[string]int64{}
	for _, s := range list.Surveys {
		ids[s.Key] = s.ID
	}
	code, out = do(http.MethodPut, "/api/surveys/"+strconv.FormatInt(ids["nps_0"], 10), body("nps_0", "active"))
	assert.Equal(t, http.StatusOK, code, "an active survey saved again does not count itself: %s", out)
	code, _ = do(http.MethodPut, "/api/surveys/"+strconv.FormatInt(ids["nps_0"], 10), body("nps_0", "closed"))
	require.Equal(t, http.StatusOK, code)
	code, out = do(http.MethodPut, "/api/surveys/"+strconv.FormatInt(created.ID, 10), body("a_draft", "active"))
	assert.Equal(t, http.StatusOK, code, "closing one makes room: %s", out)
}
