package main

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/cvo-app/cvo/app/internal/wiring"
	"github.com/cvo-app/cvo/internal/postgres"
	"github.com/cvo-app/cvo/internal/survey"
)

// The demo shop's surveys: once its first scoring has finished, two of the
// templates are made active and a few hundred plausible answers are stored,
// so the Surveys page and the Segments page's NPS show something at once.
// Groups that are leaving answer with more detractors than Soulmates.

// npsMix is, per group, the chance of a promoter and of a detractor (the
// rest are passives).
var npsMix = map[string][2]float64{
	"soulmates": {0.72, 0.06}, "lovers": {0.62, 0.1}, "potential-lovers": {0.5, 0.15}, "new-passion": {0.45, 0.2},
	"apprentice": {0.4, 0.22}, "don-juan": {0.35, 0.25}, "flirting": {0.3, 0.3}, "platonic-friends": {0.28, 0.32},
	"about-to-dump-you": {0.12, 0.58}, "ex-lovers": {0.1, 0.6}, "break-up": {0.06, 0.7},
}

var demoWhy = map[survey.NPSCategory][]string{
	survey.Promoter: {"Lovely gifts and always well packed.", "Quick delivery and great quality for the price.",
		"I buy here for every birthday, never disappointed.", "The vintage designs are unique.", "Friendly service when I had a question."},
	survey.Passive: {"Good products, but delivery could be faster.", "Nice range, a bit pricey for what it is.",
		"Fine overall; the website is hard to search.", "Decent, though one item arrived chipped."},
	survey.Detractor: {"My last order took three weeks to arrive.", "Prices went up and I found the same items cheaper elsewhere.",
		"Two items were broken and the refund took ages.", "Shipping costs are too high for small orders.",
		"I never heard back about a missing item.", "The catalogue has not changed in years."},
}

var demoReasons = []string{"Found a better price elsewhere", "Product quality", "Delivery or service", "No longer need it", "Forgot about you", "Something else"}

// demoResponses makes the answers of the sampled customers, deterministic
// for a seed. byGroup lists the customers of each group.
func demoResponses(nps, stopped survey.Survey, byGroup map[string][]int64, now time.Time, seed uint64) []survey.Response {
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
	var out []survey.Response
	groups := make([]string, 0, len(byGroup))
	for g := range byGroup {
		groups = append(groups, g)
	}
	slices.Sort(groups)
	for _, g := range groups {
		mix, ok := npsMix[g]
		if !ok {
			continue
		}
		ids := byGroup[g]
		// About one in eight customers answered, at most 45 per group.
		n := min(45, max(3, len(ids)/8))
		for _, i := range rng.Perm(len(ids))[:min(n, len(ids))] {
			score := 7 + rng.IntN(2)
			switch p := rng.Float64(); {
			case p < mix[0]:
				score = 9 + rng.IntN(2)
			case p < mix[0]+mix[1]:
				score = rng.IntN(7)
			}
			r := survey.Response{SurveyID: nps.ID, CustomerID: ids[i], Group: g, NPS: &score,
				SubmittedAt: now.Add(-time.Duration(rng.IntN(180*24)) * time.Hour)}
			if rng.Float64() < 0.6 {
				phrases := demoWhy[survey.Categorize(score)]
				r.Why = phrases[rng.IntN(len(phrases))]
			}
			out = append(out, r)
			if stopped.Targets(g) && rng.Float64() < 0.5 {
				s := min(score, 6)
				reason := demoReasons[rng.IntN(len(demoReasons))]
				out = append(out, survey.Response{SurveyID: stopped.ID, CustomerID: ids[i], Group: g, NPS: &s,
					Why:         demoWhy[survey.Detractor][rng.IntN(len(demoWhy[survey.Detractor]))],
					Answers:     []survey.Answer{{QuestionID: "reason", Choices: []string{reason}}},
					SubmittedAt: now.Add(-time.Duration(rng.IntN(90*24)) * time.Hour)})
			}
		}
	}
	return out
}

// seedDemoSurveys waits for the demo shop's first scoring, then defines
// the surveys and stores the answers, once: a shop that has surveys
// already is left alone. Failing here never stops the demo.
func seedDemoSurveys(ctx context.Context, cfg wiring.Config, log *slog.Logger) error {
	db, err := postgres.OpenWith(ctx, cfg.DatabaseURL, postgres.Options{MaxConns: 2})
	if err != nil {
		log.Warn("demo surveys not seeded", "err", err)
		return nil
	}
	defer db.Close()
	store := postgres.NewSurveyStore(db)
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		existing, err := store.List(ctx, demoShop)
		if err != nil {
			continue // the schema may not be migrated yet
		}
		if len(existing) > 0 {
			return nil
		}
		byGroup, err := store.ScoredCustomers(ctx, demoShop, 400)
		if err != nil || len(byGroup) == 0 {
			continue // not scored yet
		}
		var made []survey.Survey
		for _, id := range []string{"nps-after-delivery", "why-stopped"} {
			tp, _ := survey.TemplateByID(id)
			sv := tp.Survey
			sv.Shop, sv.Status = demoShop, survey.Active
			sv.Normalize()
			if sv, err = store.Create(ctx, sv); err != nil {
				log.Warn("demo surveys not seeded", "err", err)
				return nil
			}
			made = append(made, sv)
		}
		n, err := store.ImportResponses(ctx, demoShop, demoResponses(made[0], made[1], byGroup, time.Now(), 12))
		if err != nil {
			log.Warn("demo survey answers not stored", "err", err)
			return nil
		}
		log.Info("demo surveys seeded", "surveys", len(made), "responses", n)
		return nil
	}
}
