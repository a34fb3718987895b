package activation_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/activation"
	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/postgres"
	"github.com/cvo-app/cvo/internal/survey"
)

func TestSurveyLinksAreWrittenToTargetedCustomersAsDeltas(t *testing.T) {
	var nowUnix atomic.Int64
	// The first day of a 30-day link window (day 20790 since the epoch).
	nowUnix.Store((20790*24 + 12) * 3600)
	now := func() time.Time { return time.Unix(nowUnix.Load(), 0).UTC() }
	signer, err := survey.NewSigner("survey-link-test-secret")
	require.NoError(t, err)
	var surveys *postgres.SurveyStore
	e := newEnv(t, func(c *activation.Config) {
		c.BulkThreshold = 5
		c.Now = now
		c.SurveyLinks = survey.Linker{Surveys: lazyActive{&surveys}, Signer: signer, AppURL: "https://app.example"}
	})
	surveys = postgres.NewSurveyStore(e.db)
	tp, _ := survey.TemplateByID("why-stopped")
	sv := tp.Survey
	sv.Shop, sv.Status = testShop, survey.Active
	sv.Normalize()
	sv, err = surveys.Create(context.Background(), sv)
	require.NoError(t, err)

	ids := e.addCustomers(12)
	sc := scores(ids, func(i int) string {
		if i < 8 {
			return "break-up"
		}
		return "soulmates"
	})
	s := tagsOnly() // links go out whatever the score metafields setting
	rep := e.apply(s, sc)
	assert.Equal(t, 8, rep.MetafieldsWritten)
	assert.Equal(t, "bulk", rep.MetafieldMode, "many customers go through the bulk path")

	link := func(id int64) string {
		for _, m := range e.sim.CustomerMetafields(testShop, id) {
			if m.Key == "survey_url_why_stopped" {
				assert.Equal(t, "url", m.Type)
				return m.Value
			}
		}
		return ""
	}
	for i, id := range ids {
		u := link(id)
		if i >= 8 {
			assert.Empty(t, u, "an untargeted group gets no link")
			continue
		}
		require.True(t, strings.HasPrefix(u, "https://app.example/s/"), u)
		l, err := signer.Verify(testShop, strings.TrimPrefix(u, "https://app.example/s/"), now())
		require.NoError(t, err)
		assert.Equal(t, survey.Link{SurveyID: sv.ID, CustomerID: id, ExpiresDay: l.ExpiresDay}, l, "the link names this customer and survey")
		assert.NotContains(t, u, "@", "no personal data in the link")
	}

	// Within the link window nothing changed: nothing is written.
	nowUnix.Add(int64(2 * 24 * time.Hour / time.Second))
	e.sim.ResetCallLog(testShop)
	rep = e.apply(s, sc)
	assert.Zero(t, rep.MetafieldChanges)
	assert.Empty(t, e.sim.CallLog(testShop))

	// One customer moves into the targeted group: one link goes out.
	sc[9].Group = "break-up"
	rep = e.apply(s, sc)
	assert.Equal(t, 1, rep.MetafieldChanges)
	assert.NotEmpty(t, link(ids[9]))

	// A new window renews every link, once.
	before := link(ids[0])
	nowUnix.Add(int64(31 * 24 * time.Hour / time.Second))
	rep = e.apply(s, sc)
	assert.Equal(t, 9, rep.MetafieldChanges)
	assert.NotEqual(t, before, link(ids[0]))
}

// lazyActive reads the store once the test has made it (after the
// environment's database exists).
type lazyActive struct{ s **postgres.SurveyStore }

func (l lazyActive) Active(ctx context.Context, shop string) ([]survey.Survey, error) {
	return (*l.s).Active(ctx, shop)
}

// surveyLinkEnv is an environment whose write-backs give survey links,
// configured further by configure (may be nil), with the why-stopped survey
// active. The writer's clock stands still at the start of Shopify's day, so
// the links never renew mid-test and the bulk operations Shopify creates
// are never before the day the writer looks for them from.
func surveyLinkEnv(t *testing.T, configure func(*activation.Config)) (*env, *postgres.SurveyStore, survey.Survey) {
	t.Helper()
	signer, err := survey.NewSigner("survey-link-test-secret")
	require.NoError(t, err)
	var surveys *postgres.SurveyStore
	e := newEnv(t, func(c *activation.Config) {
		c.SurveyLinks = survey.Linker{Surveys: lazyActive{&surveys}, Signer: signer, AppURL: "https://app.example"}
		if configure != nil {
			configure(c)
		}
	})
	today := e.clock.Now().Truncate(24 * time.Hour)
	e.cfg.Now = func() time.Time { return today }
	e.w = activation.New(e.cfg)
	surveys = postgres.NewSurveyStore(e.db)
	tp, _ := survey.TemplateByID("why-stopped")
	sv := tp.Survey
	sv.Shop, sv.Status = testShop, survey.Active
	sv.Normalize()
	sv, err = surveys.Create(context.Background(), sv)
	require.NoError(t, err)
	return e, surveys, sv
}

// TestStaleSurveyLinksAreDeleted: a customer who leaves the survey's groups
// or is no longer scored loses their link, and closing the survey removes
// every link of it (through the bulk path when many), while the other
// metafields and the tags stay. Nothing is sent when nothing changed, and a
// write-back restarted after its delete operation started does not send
// it again.
func TestStaleSurveyLinksAreDeleted(t *testing.T) {
	t.Parallel()
	e, surveys, sv := surveyLinkEnv(t, func(c *activation.Config) { c.BulkThreshold = 5 })
	ctx := context.Background()
	const key = "survey_url_why_stopped"

	hasLink := func(id int64) bool {
		for _, m := range e.sim.CustomerMetafields(testShop, id) {
			if m.Key == key {
				return true
			}
		}
		return false
	}
	recorded := func(id int64) bool {
		w, _, err := e.store.Get(ctx, testShop, id)
		require.NoError(t, err)
		_, ok := w.Metafields[key]
		return ok
	}
	sent := func(field string) int {
		n := 0
		for _, c := range e.sim.CallLog(testShop) {
			if strings.Contains(c.Operation, field) {
				n++
			}
		}
		return n
	}

	ids := e.addCustomers(12)
	sc := scores(ids, func(i int) string {
		if i < 8 {
			return "break-up"
		}
		return "soulmates"
	})
	s := cvo.DefaultSettings()
	s.Segments = false
	e.apply(s, sc)
	for i, id := range ids {
		require.Equal(t, i < 8, hasLink(id), "customer %d", i)
	}

	// Customer 0 moves to an untargeted group, customer 1 is no longer
	// scored: both lose the link, by ordinary calls.
	sc[0].Group = "soulmates"
	sc = append(sc[:1], sc[2:]...)
	e.sim.ResetCallLog(testShop)
	rep := e.apply(s, sc)
	assert.False(t, hasLink(ids[0]))
	assert.False(t, hasLink(ids[1]))
	assert.False(t, recorded(ids[0]))
	assert.False(t, recorded(ids[1]))
	assert.Equal(t, "calls", rep.MetafieldMode)
	assert.Positive(t, sent("metafieldsDelete"))
	for _, m := range e.sim.CustomerMetafields(testShop, ids[0]) {
		assert.NotEqual(t, key, m.Key)
	}
	assert.NotEmpty(t, e.sim.CustomerMetafields(testShop, ids[0]), "the score metafields stay")
	for _, id := range ids[2:8] {
		assert.True(t, hasLink(id), "the targeted keep their link")
	}

	// Nothing changed: nothing is sent.
	e.sim.ResetCallLog(testShop)
	rep = e.apply(s, sc)
	assert.Zero(t, rep.MetafieldChanges)
	assert.Zero(t, rep.TagChanges)
	assert.Empty(t, e.sim.CallLog(testShop))

	// The survey closes: its six remaining links go in one bulk delete.
	// The worker dies once the operation started; the next write-back
	// settles it and sends nothing again.
	sv.Status = survey.Closed
	_, err := surveys.Update(ctx, sv)
	require.NoError(t, err)
	before := len(e.sim.BulkMutations(testShop))
	killed := killAt(e.w, activation.StepStarted)
	_, err = e.w.Apply(ctx, testShop, s, compact(sc))
	require.ErrorIs(t, err, errKilled)
	require.True(t, *killed)
	require.Len(t, e.sim.BulkMutations(testShop), before+1)

	rep, err = activation.New(e.cfg).Apply(ctx, testShop, s, compact(sc))
	require.NoError(t, err)
	assert.Equal(t, 1, rep.ResumedOperations)
	assert.Equal(t, 6, rep.ResumedLines)
	assert.Zero(t, rep.MetafieldChanges, "the resumed deletes are recorded, not planned again")
	assert.Len(t, e.sim.BulkMutations(testShop), before+1, "the delete file went to Shopify once")
	for _, id := range ids {
		assert.False(t, hasLink(id), "customer %d", id)
		assert.False(t, recorded(id), "customer %d", id)
		assert.Equal(t, id != ids[1], len(e.tags(id)) > 0, "tags stay on the scored")
	}

	e.sim.ResetCallLog(testShop)
	rep = e.apply(s, sc)
	assert.Zero(t, rep.MetafieldChanges)
	assert.Zero(t, sent("metafields"))
}

// TestStaleLinksStayWithinOneDelete: only survey links go, never the
// score metafields, and at most Shopify's 25 per metafieldsDelete.
func TestStaleLinksStayWithinOneDelete(t *testing.T) {
	t.Parallel()
	written := map[string]string{"group": "lovers", "survey_url_keep": "https://a/s/k"}
	for i := range 30 {
		written[fmt.Sprintf("survey_url_s%02d", i)] = "https://a/s/x"
	}
	got := activation.StaleLinks(written, map[string]string{"survey_url_keep": "https://a/s/k"})
	require.Len(t, got, 25)
	assert.Equal(t, "survey_url_s00", got[0])
	assert.Equal(t, "survey_url_s24", got[24])
	assert.Empty(t, activation.StaleLinks(map[string]string{"group": "lovers"}, nil))
}

// TestSharedSurveyLinks: with "share survey links with email apps" on, each
// link is also written to the merchant-owned cvo_survey namespace, with its
// definition; turned off, the shared copies are deleted and the app-owned
// links stay; closing the survey then removes the rest.
func TestSharedSurveyLinks(t *testing.T) {
	t.Parallel()
	e, surveys, sv := surveyLinkEnv(t, nil)
	ctx := context.Background()

	links := func(id int64) map[string]string {
		out := map[string]string{}
		for _, m := range e.sim.CustomerMetafields(testShop, id) {
			if m.Key == "survey_url_why_stopped" || m.Namespace == activation.SharedNamespace {
				out[m.Namespace+"."+m.Key] = m.Value
				assert.Equal(t, "url", m.Type)
			}
		}
		return out
	}
	app := e.sim.AppNamespace("cvo") + ".survey_url_why_stopped"
	shared := activation.SharedNamespace + ".why_stopped"

	ids := e.addCustomers(3)
	sc := scores(ids, func(i int) string {
		if i < 2 {
			return "break-up"
		}
		return "soulmates"
	})
	s := tagsOnly()
	s.ShareSurveyLinks = true
	e.apply(s, sc)
	for i, id := range ids {
		got := links(id)
		if i == 2 {
			assert.Empty(t, got)
			continue
		}
		require.Len(t, got, 2, "customer %d", i)
		assert.Equal(t, got[app], got[shared], "the shared copy is the same link")
	}
	var defined bool
	for _, d := range e.sim.MetafieldDefinitions(testShop) {
		if d.Namespace == activation.SharedNamespace && d.Key == "why_stopped" {
			defined = true
			assert.Equal(t, "url", d.Type)
			assert.Equal(t, "CUSTOMER", d.OwnerType)
		}
	}
	assert.True(t, defined, "the shared link has a definition, so it can be found and filtered")

	e.sim.ResetCallLog(testShop)
	rep := e.apply(s, sc)
	assert.Zero(t, rep.MetafieldChanges)
	assert.Empty(t, e.sim.CallLog(testShop), "nothing changed, nothing sent")

	s.ShareSurveyLinks = false
	rep = e.apply(s, sc)
	assert.Equal(t, 2, rep.MetafieldChanges)
	for _, id := range ids[:2] {
		got := links(id)
		assert.Contains(t, got, app)
		assert.NotContains(t, got, shared, "turning sharing off deletes the shared copy")
	}

	s.ShareSurveyLinks = true
	e.apply(s, sc)
	sv.Status = survey.Closed
	_, err := surveys.Update(ctx, sv)
	require.NoError(t, err)
	e.apply(s, sc)
	for _, id := range ids {
		assert.Empty(t, links(id), "closing the survey removes both copies")
	}
}
