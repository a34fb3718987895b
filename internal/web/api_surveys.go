package web

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/postgres"
	"github.com/cvo-app/cvo/internal/rescore"
	"github.com/cvo-app/cvo/internal/rfm"
	"github.com/cvo-app/cvo/internal/survey"
	"github.com/cvo-app/cvo/internal/web/apigen"
)

// Surveys is the survey storage the admin API and the public page use
// (postgres.SurveyStore).
type Surveys interface {
	SurveyAnswers
	List(ctx context.Context, shop string) ([]survey.Survey, error)
	Get(ctx context.Context, shop string, id int64) (survey.Survey, error)
	Create(ctx context.Context, sv survey.Survey) (survey.Survey, error)
	Update(ctx context.Context, sv survey.Survey) (survey.Survey, error)
	Delete(ctx context.Context, shop string, id int64) error
	ResponseCounts(ctx context.Context, shop string) (map[int64]int, error)
	Results(ctx context.Context, shop string, surveyID int64, by postgres.Dimension) ([]postgres.Tally, error)
	GroupSizes(ctx context.Context, shop string) (map[string]int, error)
	GroupNPS(ctx context.Context, shop string) ([]postgres.Tally, error)
	OpenAnswers(ctx context.Context, shop string, surveyID int64, q postgres.OpenAnswersQuery) ([]postgres.StoredResponse, int, error)
	EachResponse(ctx context.Context, shop string, surveyID int64, fn func(postgres.StoredResponse) error) error
	CustomerResponses(ctx context.Context, shop string, customerID int64) ([]postgres.StoredResponse, error)
}

type surveysAPI struct {
	store  Surveys
	signer *survey.Signer
	appURL string
	server *Server
}

func (a *api) surveyRoutes() (*surveysAPI, error) {
	if a.surveys == nil {
		return nil, errNoRoute
	}
	return a.surveys, nil
}

// MaxActiveSurveys bounds a shop's active surveys. A customer's metafields
// go to Shopify in one metafieldsSet of at most 25 values: the scores take
// 10, and each active survey one link, or two when links are shared with
// email apps, so 5 surveys (20 values) always fit, with room to spare if
// two saves race past this check together.
const MaxActiveSurveys = 5

// checkActiveRoom refuses to make sv active when the shop already has
// MaxActiveSurveys other active surveys.
func (s *surveysAPI) checkActiveRoom(ctx context.Context, sv survey.Survey) error {
	if sv.Status != survey.Active {
		return nil
	}
	all, err := s.store.List(ctx, sv.Shop)
	if err != nil {
		return err
	}
	others := 0
	for _, o := range all {
		if o.Status == survey.Active && o.ID != sv.ID {
			others++
		}
	}
	if others >= MaxActiveSurveys {
		return cvo.FieldErrorf(cvo.EINVALID, "status", "At most %d surveys can be active at once; close one first.", MaxActiveSurveys)
	}
	return nil
}

// answersPerPage is one page of open answers.
const answersPerPage = 25

// ListSurveys answers GET /api/surveys.
func (a *api) ListSurveys(c echo.Context) error {
	s, err := a.surveyRoutes()
	if err != nil {
		return err
	}
	ctx, shop := c.Request().Context(), shopOf(c)
	list, err := s.store.List(ctx, shop)
	if err != nil {
		return err
	}
	counts, err := s.store.ResponseCounts(ctx, shop)
	if err != nil {
		return err
	}
	out := apigen.SurveyList{Surveys: make([]apigen.Survey, len(list)), Templates: []apigen.SurveyTemplate{}}
	for i, sv := range list {
		out.Surveys[i] = surveyOut(sv, counts[sv.ID])
	}
	for _, t := range survey.Templates() {
		t.Survey.Normalize()
		out.Templates = append(out.Templates, apigen.SurveyTemplate{Id: t.ID, Title: t.Title, Description: t.Description, Survey: surveyInputOf(t.Survey)})
	}
	return c.JSON(http.StatusOK, out)
}

// CreateSurvey answers POST /api/surveys.
func (a *api) CreateSurvey(c echo.Context) error {
	s, err := a.surveyRoutes()
	if err != nil {
		return err
	}
	sv, err := bindSurvey(c)
	if err != nil {
		return err
	}
	sv.Shop = shopOf(c)
	if err := s.checkActiveRoom(c.Request().Context(), sv); err != nil {
		return err
	}
	created, err := s.store.Create(c.Request().Context(), sv)
	if err != nil {
		return err
	}
	if err := a.surveyLinksChanged(c, created.Status == survey.Active); err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, surveyOut(created, 0))
}

// GetSurvey answers GET /api/surveys/{id}.
func (a *api) GetSurvey(c echo.Context, id int64) error {
	s, err := a.surveyRoutes()
	if err != nil {
		return err
	}
	ctx, shop := c.Request().Context(), shopOf(c)
	sv, err := s.store.Get(ctx, shop, id)
	if err != nil {
		return err
	}
	counts, err := s.store.ResponseCounts(ctx, shop)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, surveyOut(sv, counts[id]))
}

// UpdateSurvey answers PUT /api/surveys/{id}. The key cannot change: the
// customers' metafields are named by it.
func (a *api) UpdateSurvey(c echo.Context, id int64) error {
	s, err := a.surveyRoutes()
	if err != nil {
		return err
	}
	ctx, shop := c.Request().Context(), shopOf(c)
	old, err := s.store.Get(ctx, shop, id)
	if err != nil {
		return err
	}
	sv, err := bindSurvey(c)
	if err != nil {
		return err
	}
	if sv.Key != old.Key {
		return cvo.Errorf(cvo.EINVALID, "The key of a survey cannot change (it names the customers' link metafield); create a new survey instead.")
	}
	sv.ID, sv.Shop = id, shop
	if err := s.checkActiveRoom(ctx, sv); err != nil {
		return err
	}
	saved, err := s.store.Update(ctx, sv)
	if err != nil {
		return err
	}
	if err := a.surveyLinksChanged(c, old.Status == survey.Active || saved.Status == survey.Active); err != nil {
		return err
	}
	counts, err := s.store.ResponseCounts(ctx, shop)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, surveyOut(saved, counts[id]))
}

// DeleteSurvey answers DELETE /api/surveys/{id}.
func (a *api) DeleteSurvey(c echo.Context, id int64) error {
	s, err := a.surveyRoutes()
	if err != nil {
		return err
	}
	ctx, shop := c.Request().Context(), shopOf(c)
	old, err := s.store.Get(ctx, shop, id)
	if err != nil {
		return err
	}
	if err := s.store.Delete(ctx, shop, id); err != nil {
		return err
	}
	if err := a.surveyLinksChanged(c, old.Status == survey.Active); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// surveyLinksChanged starts a rescore, whose write-back writes the links
// of a survey just activated or retargeted and deletes those of one closed,
// deleted or retargeted: an email flow selecting customers with a link must
// not wait for the nightly run to stop reaching customers no longer
// targeted. Saves within a window share one rescore, as settings saves do.
func (a *api) surveyLinksChanged(c echo.Context, linksMayChange bool) error {
	if !linksMayChange {
		return nil
	}
	p, err := a.page()
	if err != nil {
		// Servers without the pages (tests of the survey routes alone)
		// have no rescore to start.
		return nil
	}
	return p.deps.Actions.EnqueueRescore(c.Request().Context(), shopOf(c), string(rescore.ReasonSettings), settingsRescoreDue(p.server.now()))
}

// GetSurveyResults answers GET /api/surveys/{id}/results.
func (a *api) GetSurveyResults(c echo.Context, id int64) error {
	s, err := a.surveyRoutes()
	if err != nil {
		return err
	}
	ctx, shop := c.Request().Context(), shopOf(c)
	sv, err := s.store.Get(ctx, shop, id)
	if err != nil {
		return err
	}
	out := apigen.SurveyResults{SurveyId: id}
	breakdown := func(by postgres.Dimension) ([]apigen.NpsTally, error) {
		ts, err := s.store.Results(ctx, shop, id, by)
		if err != nil {
			return nil, err
		}
		list := make([]apigen.NpsTally, len(ts))
		for i, t := range ts {
			list[i] = tallyOut(t)
		}
		return list, nil
	}
	all, err := breakdown(postgres.ByAll)
	if err != nil {
		return err
	}
	out.Overall = apigen.NpsTally{}
	if len(all) == 1 {
		out.Overall = all[0]
	}
	for _, d := range []struct {
		by   postgres.Dimension
		into *[]apigen.NpsTally
	}{{postgres.ByVendor, &out.ByVendor}, {postgres.ByProductType, &out.ByProductType}, {postgres.ByCountry, &out.ByCountry},
		{postgres.BySource, &out.BySource}, {postgres.ByMonth, &out.Trend}} {
		if *d.into, err = breakdown(d.by); err != nil {
			return err
		}
	}
	groups, err := s.store.Results(ctx, shop, id, postgres.ByGroup)
	if err != nil {
		return err
	}
	sizes, err := s.store.GroupSizes(ctx, shop)
	if err != nil {
		return err
	}
	out.ByGroup = []apigen.GroupTally{}
	for _, g := range rfm.Groups() {
		gt := apigen.GroupTally{Group: apigen.GroupSlug(g.Slug()), Name: g.Name(), Targeted: sv.Targets(g.Slug()),
			Customers: sizes[g.Slug()], Tally: apigen.NpsTally{Key: g.Slug()}}
		if i := slices.IndexFunc(groups, func(t postgres.Tally) bool { return t.Key == g.Slug() }); i >= 0 {
			gt.Tally = tallyOut(groups[i])
		}
		if gt.Customers > 0 && gt.Tally.Responses > 0 {
			r := min(1, float64(gt.Tally.Responses)/float64(gt.Customers))
			gt.ResponseRate = &r
		}
		out.ByGroup = append(out.ByGroup, gt)
	}
	return c.JSON(http.StatusOK, out)
}

// GetSurveyAnswers answers GET /api/surveys/{id}/answers.
func (a *api) GetSurveyAnswers(c echo.Context, id int64, params apigen.GetSurveyAnswersParams) error {
	s, err := a.surveyRoutes()
	if err != nil {
		return err
	}
	ctx, shop := c.Request().Context(), shopOf(c)
	sv, err := s.store.Get(ctx, shop, id)
	if err != nil {
		return err
	}
	q := postgres.OpenAnswersQuery{Limit: answersPerPage}
	page := 1
	if params.Page != nil {
		if *params.Page < 1 || *params.Page > 10000 {
			return cvo.Errorf(cvo.EINVALID, "page must be between 1 and 10000.")
		}
		page = *params.Page
	}
	q.Offset = (page - 1) * answersPerPage
	if params.Group != nil {
		g, err := rfm.ParseGroup(string(*params.Group))
		if err != nil || !g.Valid() {
			return cvo.Errorf(cvo.EINVALID, "Unknown group %q.", *params.Group)
		}
		q.Group = g.Slug()
	}
	if params.Q != nil {
		q.Search = strings.TrimSpace(*params.Q)
		if utf8.RuneCountInString(q.Search) > 200 || !utf8.ValidString(q.Search) || strings.ContainsFunc(q.Search, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			return cvo.Errorf(cvo.EINVALID, "The search must be at most 200 characters of text.")
		}
	}
	rows, total, err := s.store.OpenAnswers(ctx, shop, id, q)
	if err != nil {
		return err
	}
	out := apigen.SurveyAnswerPage{Total: total, Page: page, PerPage: answersPerPage, Answers: make([]apigen.SurveyAnswer, len(rows))}
	for i, r := range rows {
		out.Answers[i] = answerOut(r, &sv)
	}
	return c.JSON(http.StatusOK, out)
}

// ExportSurvey answers GET /api/surveys/{id}/export.csv: every response,
// streamed from a cursor.
func (a *api) ExportSurvey(c echo.Context, id int64) error {
	s, err := a.surveyRoutes()
	if err != nil {
		return err
	}
	ctx, shop := c.Request().Context(), shopOf(c)
	sv, err := s.store.Get(ctx, shop, id)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	h.Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="cvo-survey-%s.csv"`, sv.Key))
	h.Set(echo.HeaderCacheControl, "no-store")
	c.Response().WriteHeader(http.StatusOK)
	w := csv.NewWriter(c.Response())
	header := []string{"customer_id", "group", "submitted_at", "nps", "nps_category", "ces", "why"}
	for _, q := range sv.Questions {
		header = append(header, csvSafe(q.Text))
	}
	_ = w.Write(header)
	err = s.store.EachResponse(ctx, shop, id, func(r postgres.StoredResponse) error {
		row := []string{strconv.FormatInt(r.CustomerID, 10), r.Group, r.SubmittedAt.UTC().Format(time.RFC3339), intOrEmpty(r.NPS), categoryOf(r.NPS),
			intOrEmpty(r.CES), csvSafe(r.Why)}
		for _, q := range sv.Questions {
			cell := ""
			if i := slices.IndexFunc(r.Answers, func(a survey.Answer) bool { return a.QuestionID == q.ID }); i >= 0 {
				cell = r.Answers[i].Text
				if len(r.Answers[i].Choices) > 0 {
					cell = strings.Join(r.Answers[i].Choices, "; ")
				}
			}
			row = append(row, csvSafe(cell))
		}
		return w.Write(row)
	})
	w.Flush()
	if err != nil {
		return err
	}
	return w.Error()
}

// GetSurveyLink answers GET /api/surveys/{id}/link: the link the
// write-back gives the customer now.
func (a *api) GetSurveyLink(c echo.Context, id int64, params apigen.GetSurveyLinkParams) error {
	s, err := a.surveyRoutes()
	if err != nil {
		return err
	}
	ctx, shop := c.Request().Context(), shopOf(c)
	sv, err := s.store.Get(ctx, shop, id)
	if err != nil {
		return err
	}
	if params.CustomerId <= 0 {
		return cvo.Errorf(cvo.EINVALID, "customer_id must be a Shopify customer id.")
	}
	l := survey.Link{SurveyID: sv.ID, CustomerID: params.CustomerId, ExpiresDay: survey.LinkExpiry(s.server.now(), sv.LinkDays)}
	return c.JSON(http.StatusOK, apigen.SurveyLink{Url: survey.URL(s.appURL, s.signer.Sign(shop, l)), ExpiresAt: l.Expires()})
}

// GetCustomerSurveyResponses answers GET /api/customers/{id}/survey-responses.
func (a *api) GetCustomerSurveyResponses(c echo.Context, id int64) error {
	s, err := a.surveyRoutes()
	if err != nil {
		return err
	}
	ctx, shop := c.Request().Context(), shopOf(c)
	rows, err := s.store.CustomerResponses(ctx, shop, id)
	if err != nil {
		return err
	}
	surveys, err := s.store.List(ctx, shop)
	if err != nil {
		return err
	}
	out := apigen.CustomerSurveyResponses{CustomerId: strconv.FormatInt(id, 10), Responses: make([]apigen.SurveyAnswer, len(rows))}
	for i, r := range rows {
		var sv *survey.Survey
		if j := slices.IndexFunc(surveys, func(x survey.Survey) bool { return x.ID == r.SurveyID }); j >= 0 {
			sv = &surveys[j]
		}
		out.Responses[i] = answerOut(r, sv)
	}
	return c.JSON(http.StatusOK, out)
}

// GetGroupNps answers GET /api/surveys/nps-by-group.
func (a *api) GetGroupNps(c echo.Context) error {
	s, err := a.surveyRoutes()
	if err != nil {
		return err
	}
	ts, err := s.store.GroupNPS(c.Request().Context(), shopOf(c))
	if err != nil {
		return err
	}
	out := apigen.GroupNpsList{Groups: []apigen.GroupNps{}}
	for _, t := range ts {
		g, err := rfm.ParseGroup(t.Key)
		if err != nil || !g.Valid() {
			continue // answers from customers who were not scored
		}
		gn := apigen.GroupNps{Group: apigen.GroupSlug(g.Slug()), Responses: t.NPS.Responses()}
		if v, ok := t.NPS.Rounded(); ok {
			gn.Nps = &v
		}
		out.Groups = append(out.Groups, gn)
	}
	return c.JSON(http.StatusOK, out)
}

func bindSurvey(c echo.Context) (survey.Survey, error) {
	var in apigen.SurveyInput
	if err := c.Bind(&in); err != nil {
		return survey.Survey{}, cvo.Errorf(cvo.EINVALID, "The survey could not be read as JSON.")
	}
	sv := survey.Survey{Key: in.Key, Title: in.Title, Status: survey.Status(in.Status), Groups: []string{}}
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	sv.NPSQuestion, sv.CESQuestion, sv.WhyQuestion, sv.BrandColor = str(in.NpsQuestion), str(in.CesQuestion), str(in.WhyQuestion), str(in.BrandColor)
	if in.Language != nil {
		sv.Language = string(*in.Language)
	}
	if in.LinkDays != nil {
		sv.LinkDays = *in.LinkDays
		if sv.LinkDays == 0 {
			sv.LinkDays = -1 // 0 is not "default" when sent
		}
	}
	if in.RetentionDays != nil {
		sv.RetentionDays = *in.RetentionDays
		if sv.RetentionDays == 0 {
			sv.RetentionDays = -1
		}
	}
	for _, g := range in.Groups {
		sv.Groups = append(sv.Groups, string(g))
	}
	if in.Questions != nil {
		for _, q := range *in.Questions {
			sq := survey.Question{ID: q.Id, Kind: survey.QuestionKind(q.Kind), Text: q.Text}
			if q.Options != nil {
				sq.Options = append([]string{}, *q.Options...)
			}
			sv.Questions = append(sv.Questions, sq)
		}
	}
	sv.Normalize()
	return sv, sv.Validate()
}

func surveyInputOf(sv survey.Survey) apigen.SurveyInput {
	lang := apigen.SurveyInputLanguage(sv.Language)
	in := apigen.SurveyInput{Key: sv.Key, Title: sv.Title, Status: apigen.SurveyInputStatus(sv.Status), Groups: []apigen.GroupSlug{},
		NpsQuestion: &sv.NPSQuestion, CesQuestion: &sv.CESQuestion, WhyQuestion: &sv.WhyQuestion, BrandColor: &sv.BrandColor,
		Language: &lang, LinkDays: &sv.LinkDays, RetentionDays: &sv.RetentionDays}
	for _, g := range sv.Groups {
		in.Groups = append(in.Groups, apigen.GroupSlug(g))
	}
	qs := questionsOut(sv.Questions)
	in.Questions = &qs
	return in
}

func questionsOut(qs []survey.Question) []apigen.SurveyQuestion {
	out := make([]apigen.SurveyQuestion, len(qs))
	for i, q := range qs {
		out[i] = apigen.SurveyQuestion{Id: q.ID, Kind: apigen.SurveyQuestionKind(q.Kind), Text: q.Text}
		if len(q.Options) > 0 {
			opts := append([]string{}, q.Options...)
			out[i].Options = &opts
		}
	}
	return out
}

func surveyOut(sv survey.Survey, responses int) apigen.Survey {
	out := apigen.Survey{Id: sv.ID, Key: sv.Key, Title: sv.Title, Status: apigen.SurveyStatus(sv.Status),
		NpsQuestion: sv.NPSQuestion, CesQuestion: sv.CESQuestion, WhyQuestion: sv.WhyQuestion, Questions: questionsOut(sv.Questions),
		Groups: []apigen.GroupSlug{}, BrandColor: sv.BrandColor, Language: apigen.SurveyLanguage(sv.Language), LinkDays: sv.LinkDays,
		RetentionDays: sv.RetentionDays, MetafieldKey: sv.MetafieldKey(), Responses: responses, CreatedAt: sv.CreatedAt, UpdatedAt: sv.UpdatedAt}
	for _, g := range sv.Groups {
		out.Groups = append(out.Groups, apigen.GroupSlug(g))
	}
	return out
}

func tallyOut(t postgres.Tally) apigen.NpsTally {
	out := apigen.NpsTally{Key: t.Key, Responses: t.Responses, NpsResponses: t.NPS.Responses(), Promoters: t.NPS.Promoters,
		Passives: t.NPS.Passives, Detractors: t.NPS.Detractors, CesResponses: t.CES.Count}
	if v, ok := t.NPS.Rounded(); ok {
		out.Nps = &v
	}
	if m, ok := t.CES.Mean(); ok {
		m = float64(int(m*100+0.5)) / 100
		out.CesMean = &m
	}
	return out
}

func answerOut(r postgres.StoredResponse, sv *survey.Survey) apigen.SurveyAnswer {
	out := apigen.SurveyAnswer{SurveyId: r.SurveyID, SurveyTitle: r.SurveyTitle, CustomerId: strconv.FormatInt(r.CustomerID, 10),
		Group: r.Group, Nps: r.NPS, Ces: r.CES, Why: r.Why, SubmittedAt: r.SubmittedAt, Answers: []apigen.SurveyAnswerItem{}}
	for _, a := range r.Answers {
		item := apigen.SurveyAnswerItem{QuestionId: a.QuestionID, Question: a.QuestionID}
		if sv != nil {
			if i := slices.IndexFunc(sv.Questions, func(q survey.Question) bool { return q.ID == a.QuestionID }); i >= 0 {
				item.Question = sv.Questions[i].Text
			}
		}
		if len(a.Choices) > 0 {
			ch := append([]string{}, a.Choices...)
			item.Choices = &ch
		}
		if a.Text != "" {
			t := a.Text
			item.Text = &t
		}
		out.Answers = append(out.Answers, item)
	}
	return out
}

func intOrEmpty(v *int) string {
	if v == nil {
		return ""
	}
	return strconv.Itoa(*v)
}

func categoryOf(v *int) string {
	if v == nil {
		return ""
	}
	switch survey.Categorize(*v) {
	case survey.Promoter:
		return "promoter"
	case survey.Passive:
		return "passive"
	}
	return "detractor"
}
