package activation_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/activation"
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
