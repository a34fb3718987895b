package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/survey"
)

func TestDemoResponsesHaveMoreDetractorsAmongTheLeaving(t *testing.T) {
	byGroup := map[string][]int64{}
	next := int64(1)
	for g := range npsMix {
		for range 400 {
			byGroup[g] = append(byGroup[g], next)
			next++
		}
	}
	nps := survey.Survey{ID: 1}
	tp, _ := survey.TemplateByID("why-stopped")
	stopped := tp.Survey
	stopped.ID = 2
	rs := demoResponses(nps, stopped, byGroup, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), 12)
	tallies := map[string]*survey.NPS{}
	seen := map[[2]int64]bool{}
	for _, r := range rs {
		key := [2]int64{r.SurveyID, r.CustomerID}
		require.False(t, seen[key], "one response per customer and survey")
		seen[key] = true
		require.NoError(t, stopped.Check(&survey.Response{NPS: r.NPS, Why: r.Why, Answers: r.Answers}))
		if r.SurveyID != nps.ID {
			continue
		}
		if tallies[r.Group] == nil {
			tallies[r.Group] = &survey.NPS{}
		}
		tallies[r.Group].Add(*r.NPS)
	}
	n := 0
	for _, r := range rs {
		if r.SurveyID == nps.ID {
			n++
		}
	}
	assert.GreaterOrEqual(t, n, 200, "a few hundred responses")
	assert.LessOrEqual(t, len(rs), 1000)
	share := func(g string) float64 { return float64(tallies[g].Detractors) / float64(tallies[g].Responses()) }
	for _, leaving := range []string{"about-to-dump-you", "break-up"} {
		assert.Greater(t, share(leaving), share("soulmates")+0.3, leaving)
	}
	soul, _ := tallies["soulmates"].Score()
	gone, _ := tallies["break-up"].Score()
	assert.Greater(t, soul, gone)
}
