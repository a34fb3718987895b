package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/postgres"
	"github.com/cvo-app/cvo/internal/postgres/pgtest"
	"github.com/cvo-app/cvo/internal/rfm"
	"github.com/cvo-app/cvo/internal/scoring"
	"github.com/cvo-app/cvo/internal/survey"
)

func intp(v int) *int { return &v }

func activeSurvey(t *testing.T, store *postgres.SurveyStore, shop, key string) survey.Survey {
	t.Helper()
	tp, _ := survey.TemplateByID("why-stopped")
	sv := tp.Survey
	sv.Shop, sv.Key, sv.Status = shop, key, survey.Active
	sv.Normalize()
	require.NoError(t, sv.Validate())
	created, err := store.Create(context.Background(), sv)
	require.NoError(t, err)
	return created
}

func TestSurveyDefinitions(t *testing.T) {
	ctx := context.Background()
	store := postgres.NewSurveyStore(pgtest.New(t))
	sv := activeSurvey(t, store, "a.myshopify.com", "stopped")
	assert.Positive(t, sv.ID)
	assert.Len(t, sv.Questions, 2)
	assert.Equal(t, []string{"about-to-dump-you", "ex-lovers", "break-up"}, sv.Groups)

	dup := sv
	_, err := store.Create(ctx, dup)
	assert.Equal(t, cvo.ECONFLICT, cvo.ErrorCode(err), "keys are unique per shop")
	other := sv
	other.Shop = "b.myshopify.com"
	_, err = store.Create(ctx, other)
	assert.NoError(t, err, "another shop may use the same key")

	sv.Title, sv.Status, sv.Key = "Renamed", survey.Closed, "changed"
	updated, err := store.Update(ctx, sv)
	require.NoError(t, err)
	assert.Equal(t, "Renamed", updated.Title)
	assert.Equal(t, "stopped", updated.Key, "the key never changes")
	assert.Equal(t, survey.Closed, updated.Status)

	_, err = store.Get(ctx, "b.myshopify.com", sv.ID)
	assert.Equal(t, cvo.ENOTFOUND, cvo.ErrorCode(err), "a survey is its shop's only")
	byID, err := store.ByID(ctx, sv.ID)
	require.NoError(t, err)
	assert.Equal(t, "a.myshopify.com", byID.Shop)

	require.NoError(t, store.Delete(ctx, "a.myshopify.com", sv.ID))
	assert.Equal(t, cvo.ENOTFOUND, cvo.ErrorCode(store.Delete(ctx, "a.myshopify.com", sv.ID)))
}

func TestSubmitReplacesTheEarlierAnswer(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	store := postgres.NewSurveyStore(db)
	const shop = "a.myshopify.com"
	sv := activeSurvey(t, store, shop, "stopped")

	// The customer's group comes from the latest scoring.
	scorings := postgres.NewScoringStore(db)
	run, err := scorings.Begin(ctx, shop, "sync", time.Now())
	require.NoError(t, err)
	require.NoError(t, scorings.Finish(ctx, shop, run, scores("break-up", "soulmates"), &scoring.Aggregates{Result: &scoring.Result{}}))

	first, err := store.Submit(ctx, shop, survey.Response{SurveyID: sv.ID, CustomerID: 1, NPS: intp(3)}, true)
	require.NoError(t, err)
	assert.True(t, first)
	// The full form follows the one-click score.
	first, err = store.Submit(ctx, shop, survey.Response{SurveyID: sv.ID, CustomerID: 1, NPS: intp(4), Why: "slow delivery",
		Answers: []survey.Answer{{QuestionID: "reason", Choices: []string{"Delivery or service"}}}}, false)
	require.NoError(t, err)
	assert.False(t, first, "a second submission is no new response")
	// A score clicked again from the email keeps the answers given since.
	_, err = store.Submit(ctx, shop, survey.Response{SurveyID: sv.ID, CustomerID: 1, NPS: intp(6)}, true)
	require.NoError(t, err)

	got, err := store.CustomerResponses(ctx, shop, 1)
	require.NoError(t, err)
	require.Len(t, got, 1, "one response per customer and survey")
	assert.Equal(t, 6, *got[0].NPS)
	assert.Equal(t, "slow delivery", got[0].Why)
	assert.Equal(t, "break-up", got[0].Group)
	assert.Equal(t, 3, got[0].Revisions)
	assert.Equal(t, "Why did you stop buying?", got[0].SurveyTitle)

	// A full replay replaces everything.
	_, err = store.Submit(ctx, shop, survey.Response{SurveyID: sv.ID, CustomerID: 1, NPS: intp(9)}, false)
	require.NoError(t, err)
	got, err = store.CustomerResponses(ctx, shop, 1)
	require.NoError(t, err)
	assert.Equal(t, 9, *got[0].NPS)
	assert.Empty(t, got[0].Why)
	assert.Empty(t, got[0].Answers)

	// A closed survey takes no answer, and another shop cannot answer it.
	_, err = store.Submit(ctx, "b.myshopify.com", survey.Response{SurveyID: sv.ID, CustomerID: 2, NPS: intp(9)}, false)
	assert.ErrorIs(t, err, postgres.ErrSurveyNotOpen)
	sv.Status = survey.Closed
	_, err = store.Update(ctx, sv)
	require.NoError(t, err)
	_, err = store.Submit(ctx, shop, survey.Response{SurveyID: sv.ID, CustomerID: 2, NPS: intp(9)}, false)
	assert.ErrorIs(t, err, postgres.ErrSurveyNotOpen)
}

func TestConcurrentSubmissionsOfOneLinkLeaveOneResponse(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	store := postgres.NewSurveyStore(db)
	const shop = "a.myshopify.com"
	sv := activeSurvey(t, store, shop, "stopped")

	const n = 16
	var wg sync.WaitGroup
	firsts := make(chan bool, n)
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			first, err := store.Submit(ctx, shop, survey.Response{SurveyID: sv.ID, CustomerID: 77, NPS: intp(i % 11), Why: fmt.Sprint("answer ", i)}, i%2 == 0)
			errs <- err
			firsts <- first
		}()
	}
	wg.Wait()
	close(errs)
	close(firsts)
	for err := range errs {
		require.NoError(t, err)
	}
	nFirst := 0
	for f := range firsts {
		if f {
			nFirst++
		}
	}
	assert.Equal(t, 1, nFirst, "exactly one submission created the response")
	var rows, revisions int
	require.NoError(t, db.Pool.QueryRow(ctx, `SELECT count(*), max(revisions) FROM survey_responses WHERE shop = $1`, shop).Scan(&rows, &revisions))
	assert.Equal(t, 1, rows)
	assert.Equal(t, n, revisions, "every submission was applied, one after another")
}

func TestSurveyResults(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	store := postgres.NewSurveyStore(db)
	const shop = "a.myshopify.com"
	sv := activeSurvey(t, store, shop, "stopped")
	scorings := postgres.NewScoringStore(db)
	run, err := scorings.Begin(ctx, shop, "sync", time.Now())
	require.NoError(t, err)
	// Customers 1–3 break-up, 4–5 soulmates, 6 about-to-dump-you.
	require.NoError(t, scorings.Finish(ctx, shop, run, scores("break-up", "break-up", "break-up", "soulmates", "soulmates", "about-to-dump-you"),
		&scoring.Aggregates{Result: &scoring.Result{}}))
	for id, r := range map[int64]survey.Response{
		1: {NPS: intp(0), Why: "Too EXPENSIVE"}, 2: {NPS: intp(5)}, 3: {NPS: intp(9), Why: "fine"},
		4: {NPS: intp(10), Why: "love it"}, 5: {NPS: intp(8)},
	} {
		r.SurveyID, r.CustomerID = sv.ID, id
		_, err := store.Submit(ctx, shop, r, false)
		require.NoError(t, err)
	}

	all, err := store.Results(ctx, shop, sv.ID, postgres.ByAll)
	require.NoError(t, err)
	require.Len(t, all, 1)
	s, ok := all[0].NPS.Score()
	require.True(t, ok)
	assert.InDelta(t, 0, s, 1e-9, "2 promoters, 1 passive, 2 detractors of 5")

	byGroup, err := store.Results(ctx, shop, sv.ID, postgres.ByGroup)
	require.NoError(t, err)
	got := map[string]survey.NPS{}
	for _, tl := range byGroup {
		got[tl.Key] = tl.NPS
	}
	assert.Equal(t, survey.NPS{Promoters: 1, Detractors: 2}, got["break-up"])
	assert.Equal(t, survey.NPS{Promoters: 1, Passives: 1}, got["soulmates"])
	_, asked := got["about-to-dump-you"]
	assert.False(t, asked, "a group with no answers has no tally, not a zero")

	sizes, err := store.GroupSizes(ctx, shop)
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"break-up": 3, "soulmates": 2, "about-to-dump-you": 1}, sizes, "counted from the rows")
	// A scoring with its aggregates: the counts are theirs (they differ
	// from its rows here only to show which are read).
	later, err := scorings.Begin(ctx, shop, "nightly", time.Now())
	require.NoError(t, err)
	laterScores := scores("break-up", "break-up", "soulmates")
	require.NoError(t, scorings.Finish(ctx, shop, later, laterScores, &scoring.Aggregates{Result: &scoring.Result{
		Groups: []scoring.GroupAggregate{{Group: rfm.BreakUp, Customers: 1}, {Group: rfm.Soulmates, Customers: 3}, {Group: rfm.Lovers}}}}))
	sizes, err = store.GroupSizes(ctx, shop)
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"break-up": 1, "soulmates": 3}, sizes, "from the latest scoring's aggregates")
	sizes, err = store.GroupSizes(ctx, "unscored.myshopify.com")
	require.NoError(t, err)
	assert.Empty(t, sizes, "a shop never scored has no groups")
	// A scoring stored without aggregates is counted from its rows.
	bare := "bare.myshopify.com"
	run, err = scorings.Begin(ctx, bare, "sync", time.Now())
	require.NoError(t, err)
	require.NoError(t, scorings.Finish(ctx, bare, run, scores("lovers", "lovers"), nil))
	sizes, err = store.GroupSizes(ctx, bare)
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"lovers": 2}, sizes)

	for _, by := range []postgres.Dimension{postgres.ByCountry, postgres.BySource, postgres.ByVendor, postgres.ByProductType, postgres.ByMonth} {
		rs, err := store.Results(ctx, shop, sv.ID, by)
		require.NoError(t, err, by)
		total := 0
		for _, r := range rs {
			total += r.Responses
		}
		assert.Equal(t, 5, total, "%s: customers with no orders count under the empty key", by)
	}

	open, n, err := store.OpenAnswers(ctx, shop, sv.ID, postgres.OpenAnswersQuery{Search: "expensive", Limit: 10})
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	require.Len(t, open, 1)
	assert.Equal(t, int64(1), open[0].CustomerID)
	_, n, err = store.OpenAnswers(ctx, shop, sv.ID, postgres.OpenAnswersQuery{Search: "%", Limit: 10})
	require.NoError(t, err)
	assert.Equal(t, 0, n, "wildcards are searched for as text")
	open, n, err = store.OpenAnswers(ctx, shop, sv.ID, postgres.OpenAnswersQuery{Group: "break-up", Limit: 10})
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	assert.Len(t, open, 2)

	groupNPS, err := store.GroupNPS(ctx, shop)
	require.NoError(t, err)
	assert.Len(t, groupNPS, 2)
}

func TestSurveyResponsesExpireWithTheirRetention(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	store := postgres.NewSurveyStore(db)
	const shop = "a.myshopify.com"
	sv := activeSurvey(t, store, shop, "stopped") // 730 days
	for id := int64(1); id <= 2; id++ {
		_, err := store.Submit(ctx, shop, survey.Response{SurveyID: sv.ID, CustomerID: id, NPS: intp(9)}, false)
		require.NoError(t, err)
	}
	_, err := db.Pool.Exec(ctx, `UPDATE survey_responses SET submitted_at = now() - interval '731 days' WHERE customer_id = 1`)
	require.NoError(t, err)
	n, err := store.ExpireResponses(ctx, time.Now())
	require.NoError(t, err)
	assert.Equal(t, int64(1), n)
	left, err := store.CustomerResponses(ctx, shop, 2)
	require.NoError(t, err)
	assert.Len(t, left, 1)
}

func TestImportResponsesForTheDemo(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	store := postgres.NewSurveyStore(db)
	const shop = "a.myshopify.com"
	sv := activeSurvey(t, store, shop, "stopped")
	scorings := postgres.NewScoringStore(db)
	run, err := scorings.Begin(ctx, shop, "sync", time.Now())
	require.NoError(t, err)
	require.NoError(t, scorings.Finish(ctx, shop, run, scores("break-up", "break-up", "soulmates"), &scoring.Aggregates{Result: &scoring.Result{}}))
	byGroup, err := store.ScoredCustomers(ctx, shop, 1)
	require.NoError(t, err)
	assert.Equal(t, map[string][]int64{"break-up": {1}, "soulmates": {3}}, byGroup)

	old := time.Date(2026, 6, 15, 10, 0, 0, 0, time.UTC)
	n, err := store.ImportResponses(ctx, shop, []survey.Response{
		{SurveyID: sv.ID, CustomerID: 1, Group: "break-up", NPS: intp(2), SubmittedAt: old},
		{SurveyID: sv.ID, CustomerID: 1, Group: "break-up", NPS: intp(9), SubmittedAt: old},
	})
	require.NoError(t, err)
	assert.Equal(t, int64(1), n, "an existing response is kept")
	trend, err := store.Results(ctx, shop, sv.ID, postgres.ByMonth)
	require.NoError(t, err)
	require.Len(t, trend, 1)
	assert.Equal(t, "2026-06", trend[0].Key)
}

func TestAnUninstalledShopsSurveysTakeNoAnswers(t *testing.T) {
	// After app/uninstalled the merchant can no longer see, close or export
	// a survey, yet its links live on in emails and metafields: answers
	// (personal data) must not keep arriving for the 48 hours before
	// shop/redact. A reinstall opens the surveys again.
	ctx := context.Background()
	db := pgtest.New(t)
	store := postgres.NewSurveyStore(db)
	shops := postgres.NewShopStore(db, keyring(t))
	const shop = "left.myshopify.com"
	require.NoError(t, shops.SaveInstall(ctx, shop, expiringToken("t", "r", time.Now().Add(time.Hour))))
	sv := activeSurvey(t, store, shop, "stopped")
	_, err := store.Submit(ctx, shop, survey.Response{SurveyID: sv.ID, CustomerID: 1, NPS: intp(9)}, false)
	require.NoError(t, err)

	require.NoError(t, shops.MarkUninstalled(ctx, shop))
	got, err := store.ByID(ctx, sv.ID)
	require.NoError(t, err)
	assert.Equal(t, survey.Closed, got.Status, "the public page shows an uninstalled shop's survey as closed")
	_, err = store.Submit(ctx, shop, survey.Response{SurveyID: sv.ID, CustomerID: 2, NPS: intp(3)}, false)
	assert.ErrorIs(t, err, postgres.ErrSurveyNotOpen)
	rs, err := store.CustomerResponses(ctx, shop, 2)
	require.NoError(t, err)
	assert.Empty(t, rs)
	kept, err := store.Get(ctx, shop, sv.ID)
	require.NoError(t, err)
	assert.Equal(t, survey.Active, kept.Status, "the merchant's own setting is kept for a reinstall")

	require.NoError(t, shops.SaveInstall(ctx, shop, expiringToken("t2", "r2", time.Now().Add(time.Hour))))
	got, err = store.ByID(ctx, sv.ID)
	require.NoError(t, err)
	assert.Equal(t, survey.Active, got.Status)
	_, err = store.Submit(ctx, shop, survey.Response{SurveyID: sv.ID, CustomerID: 2, NPS: intp(3)}, false)
	assert.NoError(t, err)
}

func TestAnAnswerRacingARedactionIsNotKept(t *testing.T) {
	// customers/redact waits for the shop's data lock (a merge may hold
	// it) with the customer's answers already deleted; an answer stored
	// in that wait must not outlive the redaction.
	ctx := context.Background()
	db := pgtest.New(t)
	store := postgres.NewSurveyStore(db)
	privacy := postgres.NewPrivacyStore(db)
	const shop = "race.myshopify.com"
	sv := activeSurvey(t, store, shop, "stopped")
	_, err := store.Submit(ctx, shop, survey.Response{SurveyID: sv.ID, CustomerID: 42, NPS: intp(5)}, false)
	require.NoError(t, err)

	waiting := func() int {
		var n int
		require.NoError(t, db.Pool.QueryRow(ctx, `SELECT count(DISTINCT l.pid) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
			WHERE NOT l.granted AND a.datname = current_database()`).Scan(&n))
		return n
	}
	merge, err := db.Pool.Begin(ctx)
	require.NoError(t, err)
	defer merge.Rollback(ctx) //nolint:errcheck
	require.NoError(t, postgres.LockShopData(ctx, merge, shop, true))

	redacted := make(chan error, 1)
	go func() { redacted <- privacy.RedactCustomer(ctx, shop, cvo.CustomerRef{ID: "42"}) }()
	require.Eventually(t, func() bool { return waiting() == 1 }, 10*time.Second, 5*time.Millisecond, "the redaction waits for the merge")

	submitted := make(chan error, 1)
	go func() {
		_, err := store.Submit(ctx, shop, survey.Response{SurveyID: sv.ID, CustomerID: 42, NPS: intp(9), Why: "my words"}, false)
		submitted <- err
	}()
	// The answer either waits for the redaction or is stored now.
	require.Eventually(t, func() bool { return waiting() == 2 || len(submitted) == 1 }, 10*time.Second, 5*time.Millisecond)
	require.NoError(t, merge.Rollback(ctx))
	require.NoError(t, <-redacted)
	assert.ErrorIs(t, <-submitted, postgres.ErrSurveyNotOpen, "the answer waited for the redaction and stored nothing")

	rs, err := store.CustomerResponses(ctx, shop, 42)
	require.NoError(t, err)
	assert.Empty(t, rs, "no answer of a redacted customer is left")
}
