package web_test

import (
	"context"
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
