package rfm

import (
	"flag"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite RULES.md")

// handR is a shop whose recency quintiles fall at 15, 30, 45 and 60 days:
// R5 ≤ 15 days, R4 ≤ 30, R3 ≤ 45, R2 ≤ 60 and R1 beyond.
var handR = Scale{Levels: 5, Descending: true, Cuts: []float64{15, 30, 45, 60}}

// profile builds a rule input in that shop with a 60-day horizon, so R1
// and inactive coincide unless a case says otherwise.
func profile(purchases int, recency, tenure float64, f, m Tier) Profile {
	p := Profile{Purchases: purchases, RecencyDays: recency, TenureDays: tenure, HorizonDays: 60, FTier: f, MTier: m, RLevels: 5}
	p.R = handR.Score(recency)
	if purchases > 1 {
		p.OwnGapDays = (tenure - recency) / float64(purchases-1)
	}
	return p
}

func with(p Profile, edit func(*Profile)) Profile { edit(&p); return p }

func TestClassifyEveryRule(t *testing.T) {
	cases := []struct {
		name string
		p    Profile
		want Group
	}{
		{"recent frequent big spender", profile(6, 5, 300, TierHigh, TierHigh), Soulmates},
		{"soulmate needs high M", profile(6, 5, 300, TierHigh, TierMid), Lovers},
		{"recent repeat buyer", profile(3, 20, 200, TierMid, TierLow), Lovers},
		{"lover at the edge of recent", profile(3, 30, 200, TierMid, TierLow), Lovers},
		{"one big order", profile(1, 40, 40, TierLow, TierHigh), DonJuan},
		{"one big order, just placed", profile(1, 2, 2, TierLow, TierHigh), DonJuan},
		{"first order just placed", profile(1, 3, 3, TierLow, TierMid), Apprentice},
		{"first small order just placed", profile(1, 15, 15, TierLow, TierLow), Apprentice},
		{"one average order, a few weeks ago", profile(1, 20, 20, TierLow, TierMid), NewPassion},
		{"two average orders, young relationship", profile(2, 20, 25, TierMid, TierMid), NewPassion},
		{"two average orders, old relationship", profile(2, 20, 120, TierMid, TierMid), Lovers},
		{"big spender gone past own rhythm", profile(2, 45, 50, TierMid, TierHigh), Flirting},
		{"big spender on a slow rhythm", profile(2, 40, 100, TierMid, TierHigh), PotentialLovers},
		{"recent big spender with low F", profile(2, 10, 200, TierLow, TierHigh), PotentialLovers},
		{"one small order, lapsing", profile(1, 40, 40, TierLow, TierLow), PlatonicFriends},
		{"one average order, lapsing", profile(1, 50, 50, TierLow, TierMid), PlatonicFriends},
		{"repeat small orders, lapsing", profile(4, 50, 300, TierHigh, TierLow), PlatonicFriends},
		{"inactive average one-timer", profile(1, 100, 100, TierLow, TierMid), AboutToDumpYou},
		{"inactive big one-timer", profile(1, 100, 100, TierLow, TierHigh), AboutToDumpYou},
		{"inactive small spender", profile(1, 200, 200, TierLow, TierLow), BreakUp},
		{"inactive promotion hunter", with(profile(2, 150, 160, TierMid, TierMid), func(p *Profile) { p.DiscountShare = 0.5 }), BreakUp},
		{"inactive former lover, no history", profile(3, 90, 300, TierHigh, TierLow), ExLovers},
		{"inactive former soulmate, no history", profile(3, 90, 300, TierHigh, TierHigh), ExLovers},
		{"inactive, previously Lovers", with(profile(1, 100, 100, TierLow, TierLow), func(p *Profile) { p.Previous = Lovers }), ExLovers},
		{"inactive, previously Soulmates", with(profile(5, 100, 400, TierHigh, TierHigh), func(p *Profile) { p.Previous = Soulmates }), ExLovers},
		{"still inactive Ex-Lover", with(profile(5, 400, 800, TierHigh, TierHigh), func(p *Profile) { p.Previous = ExLovers }), ExLovers},
		{"history beats reconstruction", with(profile(3, 90, 300, TierHigh, TierLow), func(p *Profile) { p.Previous = Flirting }), BreakUp},
		{"young two-order customer gone quiet was New Passion", profile(2, 150, 160, TierMid, TierMid), AboutToDumpYou},
		{"oldest fifth but within the horizon is active", with(profile(1, 70, 70, TierLow, TierMid), func(p *Profile) { p.HorizonDays = 120 }), PlatonicFriends},
		{"most recent fifth of a shop where nobody buys is inactive", with(profile(1, 100, 100, TierLow, TierMid), func(p *Profile) { p.R = 5 }), AboutToDumpYou},
		{"three R levels: the top one is recent", with(profile(2, 20, 120, TierMid, TierMid), func(p *Profile) { p.R, p.RLevels = 3, 3 }), Lovers},
		{"three R levels: the middle one is not", with(profile(2, 20, 120, TierMid, TierMid), func(p *Profile) { p.R, p.RLevels = 2, 3 }), PlatonicFriends},
		{"active former lover stays by activity", with(profile(3, 20, 200, TierMid, TierLow), func(p *Profile) { p.Previous = ExLovers }), Lovers},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, Classify(c.p))
		})
	}

	covered := map[Group]bool{}
	for _, c := range cases {
		covered[c.want] = true
	}
	for _, g := range Groups() {
		assert.True(t, covered[g], "no hand-computed case for %s", g)
	}
}

func TestRulesTable(t *testing.T) {
	rs := Rules()
	require.Len(t, rs, NumGroups)
	seen := map[Group]bool{}
	for i, r := range rs {
		assert.Equal(t, i+1, r.Priority)
		assert.NotEmpty(t, r.Condition)
		assert.False(t, seen[r.Group], "group %s has two rules", r.Group)
		seen[r.Group] = true
	}
	// Changing the copy must not change classification.
	rs[0].Match = func(Profile) bool { return true }
	assert.Equal(t, Soulmates, Classify(profile(6, 5, 300, TierHigh, TierHigh)))

	md := RulesMarkdown()
	assert.Contains(t, md, "| 1 | Ex-Lovers | `ex-lovers` |")
	assert.Contains(t, md, "| 11 | Platonic Friends | `platonic-friends` | every other active customer |")
}

func TestRulesFileIsCurrent(t *testing.T) {
	want := RulesMarkdown()
	if *update {
		require.NoError(t, os.WriteFile("RULES.md", []byte(want), 0o644))
	}
	got, err := os.ReadFile("RULES.md")
	require.NoError(t, err, "RULES.md is missing: run go generate ./internal/rfm")
	assert.Equal(t, want, string(got), "RULES.md is stale: run go generate ./internal/rfm")
}
