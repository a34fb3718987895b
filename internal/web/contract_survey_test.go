package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/postgres"
	"github.com/cvo-app/cvo/internal/survey"
)

// contractSurveyID is the survey seedContractSurvey made; the contract
// cases name it.
var contractSurveyID int64

// seedContractSurvey defines a survey on the contract's scored shop and
// has some of its customers answer it, so results, answers and the CSV
// have rows to check.
func seedContractSurvey(t *testing.T, db *postgres.DB, shop string, scores []cvo.CustomerScore) *postgres.SurveyStore {
	t.Helper()
	ctx := context.Background()
	store := postgres.NewSurveyStore(db)
	tp, _ := survey.TemplateByID("why-stopped")
	sv := tp.Survey
	sv.Shop, sv.Status = shop, survey.Active
	sv.Groups = append(sv.Groups, "soulmates")
	sv.CESQuestion = "How easy was it?"
	sv.Normalize()
	sv, err := store.Create(ctx, sv)
	require.NoError(t, err)
	contractSurveyID = sv.ID
	for i, sc := range scores {
		if i%7 != 0 {
			continue
		}
		id, err := strconv.ParseInt(sc.CustomerID, 10, 64)
		require.NoError(t, err)
		nps, ces := i%11, 1+i%7
		r := survey.Response{SurveyID: sv.ID, CustomerID: id, NPS: &nps, CES: &ces}
		if i%2 == 0 {
			r.Why = fmt.Sprintf("reason %d", i)
			r.Answers = []survey.Answer{{QuestionID: "reason", Choices: []string{"Product quality"}}, {QuestionID: "comeback", Text: "a coupon"}}
		}
		_, err = store.Submit(ctx, shop, r, false)
		require.NoError(t, err)
	}
	return store
}

type contractCase struct {
	method, target, body string
	want                 int
	shop                 string
}

func surveyContractCases() []contractCase {
	id := strconv.FormatInt(contractSurveyID, 10)
	good := `{"key":"nps_contract","title":"NPS","status":"active","nps_question":"Recommend us?","why_question":"Why?",
		"groups":["soulmates","lovers"],"brand_color":"#123456","language":"fr","link_days":14,"retention_days":365,
		"questions":[{"id":"size","kind":"single","text":"Size?","options":["S","M"]}]}`
	return []contractCase{
		{http.MethodGet, "/api/surveys", "", 200, ""},
		{http.MethodPost, "/api/surveys", good, 201, ""},
		{http.MethodPost, "/api/surveys", good, 409, ""},
		{http.MethodPost, "/api/surveys", `{"key":"x!","title":"","status":"draft","groups":[]}`, 400, ""},
		{http.MethodGet, "/api/surveys/" + id, "", 200, ""},
		{http.MethodGet, "/api/surveys/999999", "", 404, ""},
		{http.MethodGet, "/api/surveys/abc", "", 400, ""},
		{http.MethodPut, "/api/surveys/" + id, `{"key":"why_stopped","title":"Why did you stop?","status":"active","nps_question":"Recommend?",
			"ces_question":"How easy was it?","why_question":"Why?","groups":["break-up","soulmates"],
			"questions":[{"id":"reason","kind":"single","text":"Reason?","options":["Product quality","Price"]},{"id":"comeback","kind":"text","text":"Back?"}]}`, 200, ""},
		{http.MethodPut, "/api/surveys/" + id, `{"key":"renamed","title":"x","status":"draft","nps_question":"?","groups":[]}`, 400, ""},
		{http.MethodGet, "/api/surveys/" + id + "/results", "", 200, ""},
		{http.MethodGet, "/api/surveys/" + id + "/answers", "", 200, ""},
		{http.MethodGet, "/api/surveys/" + id + "/answers?group=soulmates&q=reason&page=2", "", 200, ""},
		{http.MethodGet, "/api/surveys/" + id + "/answers?q=%00", "", 400, ""},
		{http.MethodGet, "/api/surveys/" + id + "/export.csv", "", 200, ""},
		{http.MethodGet, "/api/surveys/" + id + "/link?customer_id=42", "", 200, ""},
		{http.MethodGet, "/api/surveys/" + id + "/link", "", 400, ""},
		{http.MethodGet, "/api/surveys/nps-by-group", "", 200, ""},
		{http.MethodGet, "/api/customers/1/survey-responses", "", 200, ""},
		{http.MethodGet, "/api/customers/8/survey-responses", "", 200, ""},
		{http.MethodGet, "/api/surveys/" + id, "", 404, "other.myshopify.com"},
		{http.MethodDelete, "/api/surveys/" + id, "", 204, ""},
		{http.MethodDelete, "/api/surveys/" + id, "", 404, ""},
	}
}
