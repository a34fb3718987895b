package activation

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/postgres"
	"github.com/cvo-app/cvo/internal/rfm"
)

func TestTagFormats(t *testing.T) {
	assert.Equal(t, "cvo-about-to-dump-you", GroupTag("cvo-", rfm.AboutToDumpYou))
	assert.Equal(t, "cvo-ex-lovers", GroupTag("cvo-", rfm.ExLovers))
	assert.Equal(t, "vip_value-high", ValueTag("vip_", TierHigh))
	assert.Equal(t, "cvo-churn-risk-high", ChurnRiskTag("cvo-"))
	tags := AppTags("cvo-")
	assert.Len(t, tags, 15)
	assert.Contains(t, tags, "cvo-break-up")
	assert.Contains(t, tags, "cvo-value-low")
}

func TestIsAppTag(t *testing.T) {
	tests := []struct {
		tag      string
		prefixes []string
		want     bool
	}{
		{"cvo-soulmates", []string{"cvo-"}, true},
		{"CVO-Soulmates ", []string{"cvo-"}, true},
		{"cvo-vip", []string{"cvo-"}, false}, // a merchant's tag that merely shares the prefix
		{"cvo-soulmates", []string{"vip_"}, false},
		{"cvo-soulmates", []string{"vip_", "cvo-"}, true},
		{"soulmates", []string{""}, false},
		{"cvo-value-medium", []string{"cvo-"}, true},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, IsAppTag(tc.tag, tc.prefixes...), "%q %v", tc.tag, tc.prefixes)
	}
}

func TestOnlyAppTagsChanged(t *testing.T) {
	tests := []struct {
		name          string
		before, after []string
		want          bool
	}{
		{"group moved", []string{"vip", "cvo-soulmates"}, []string{"vip", "cvo-ex-lovers"}, true},
		{"app tag added", []string{"vip"}, []string{"vip", "cvo-lovers", "cvo-value-high"}, true},
		{"order and case do not matter", []string{"VIP", "cvo-lovers"}, []string{"cvo-lovers", "vip"}, false},
		{"nothing changed", []string{"vip"}, []string{"vip"}, false},
		{"merchant tag added too", []string{"vip"}, []string{"vip", "wholesale", "cvo-lovers"}, false},
		{"merchant tag removed", []string{"vip", "cvo-lovers"}, []string{"cvo-lovers"}, false},
		{"prefix-alike merchant tag", []string{}, []string{"cvo-vip"}, false},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, OnlyAppTagsChanged("cvo-", tc.before, tc.after), tc.name)
	}
}

func FuzzOnlyAppTagsChanged(f *testing.F) {
	f.Add("vip,cvo-soulmates", "vip,cvo-lovers")
	f.Add("", "cvo-value-high")
	f.Add("a,b", "a,b,c")
	f.Fuzz(func(t *testing.T, before, after string) {
		b, a := splitComma(before), splitComma(after)
		got := OnlyAppTagsChanged("cvo-", b, a)
		assert.Equal(t, got, OnlyAppTagsChanged("cvo-", a, b), "symmetric")
		if got {
			assert.False(t, OnlyAppTagsChanged("cvo-", b, b), "no change is not an app change")
		}
	})
}

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}

func TestValueTiers(t *testing.T) {
	mk := func(vals ...float64) []cvo.CustomerScore {
		out := make([]cvo.CustomerScore, len(vals))
		for i, v := range vals {
			out[i] = cvo.CustomerScore{PredictedCLV: v}
		}
		return out
	}
	tests := []struct {
		name string
		vals []float64
		want []ValueTier
	}{
		{"thirds", []float64{30, 10, 20, 60, 50, 40}, []ValueTier{TierMedium, TierLow, TierLow, TierHigh, TierHigh, TierMedium}},
		{"ties lean low", []float64{0, 0, 0, 0, 5, 9}, []ValueTier{TierLow, TierLow, TierLow, TierLow, TierHigh, TierHigh}},
		{"all equal", []float64{7, 7, 7}, []ValueTier{TierLow, TierLow, TierLow}},
		{"one", []float64{3}, []ValueTier{TierLow}},
		{"NaN counts as zero", []float64{math.NaN(), 1, 2}, []ValueTier{TierLow, TierMedium, TierHigh}},
		{"none", nil, []ValueTier{}},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, ValueTiers(mk(tc.vals...)), tc.name)
	}
}

func TestDesiredTags(t *testing.T) {
	s := cvo.DefaultSettings()
	assert.Equal(t, []string{"cvo-lovers"}, DesiredTags(s, rfm.Lovers, TierHigh, "high"))
	s.ValueTags = cvo.ValueTags{PredictedValueTier: true, ChurnRisk: true}
	assert.Equal(t, []string{"cvo-lovers", "cvo-value-high", "cvo-churn-risk-high"}, DesiredTags(s, rfm.Lovers, TierHigh, "high"))
	assert.Equal(t, []string{"cvo-lovers", "cvo-value-high"}, DesiredTags(s, rfm.Lovers, TierHigh, "medium"))
	assert.Equal(t, []string{"cvo-lovers", "cvo-value-high"}, DesiredTags(s, rfm.Lovers, TierHigh, "low"))
	s.GroupsEnabled = []string{"soulmates"}
	assert.Equal(t, []string{"cvo-value-low"}, DesiredTags(s, rfm.Lovers, TierLow, "low"), "a disabled group's tag goes, value tags stay")
	assert.Empty(t, DesiredTags(cvo.DefaultSettings(), rfm.NoGroup, "", "high"), "unscored customers carry nothing")
}

func TestDesiredMetafields(t *testing.T) {
	desired := func(sc cvo.CustomerScore) map[string]string {
		compact, err := NewScore(sc)
		require.NoError(t, err)
		return DesiredMetafields(compact)
	}
	sc := cvo.CustomerScore{CustomerID: "7", Group: "soulmates", R: 5, F: 1, M: 3, HistoricalCLV: -12.345, PredictedCLV: 99.999,
		PAlive: 0.123456, NextOrderAt: time.Date(2027, 1, 2, 15, 0, 0, 0, time.UTC)}
	got := desired(sc)
	assert.Equal(t, map[string]string{"group": "soulmates", "r_score": "5", "f_score": "1", "m_score": "3",
		"historical_clv": "-12.35", "predicted_clv": "100.00", "p_alive": "0.1235", "next_order_date": "2027-01-02"}, got)
	for k := range got {
		assert.NotEmpty(t, metafieldType(k), k)
		assert.True(t, len(k) >= 2 && len(k) <= 64)
	}
	sc.POrderWindow, sc.ChurnRisk = 0.41237, "low"
	// The date is the one the score's own clock shows, as a date
	// metafield holds it.
	sc.NextOrderAt = time.Date(1969, 12, 31, 23, 30, 0, 0, time.FixedZone("UTC-11", -11*3600))
	got = desired(sc)
	assert.Equal(t, "0.4124", got["p_order_window"])
	assert.Equal(t, "low", got["churn_risk"])
	assert.Equal(t, sc.NextOrderAt.Format(time.DateOnly), got["next_order_date"])
	sc.POrderWindow, sc.ChurnRisk, sc.Group = 0, "", ""
	sc.PredictedCLV, sc.NextOrderAt, sc.HistoricalCLV = math.NaN(), time.Time{}, -0.001
	got = desired(sc)
	assert.Equal(t, map[string]string{"historical_clv": "0.00", "p_alive": "0.1235"}, got)
}

func TestChangeResultKeepsWhatFailed(t *testing.T) {
	c := change{id: 7, add: []string{"cvo-lovers"}, remove: []string{"cvo-soulmates"},
		written:    writeback(7, []string{"cvo-soulmates", "cvo-value-high"}, map[string]string{"group": "soulmates"}),
		metafields: map[string]string{"group": "lovers"}}
	assert.Equal(t, []string{"cvo-value-high", "cvo-lovers"}, c.result(outcome{added: true, removed: true}).Tags)
	assert.Equal(t, []string{"cvo-soulmates", "cvo-value-high", "cvo-lovers"}, c.result(outcome{added: true}).Tags,
		"a failed removal stays recorded, so it is tried again")
	assert.Equal(t, map[string]string{"group": "soulmates"}, c.result(outcome{}).Metafields)
	assert.Equal(t, map[string]string{"group": "lovers"}, c.result(outcome{metafields: true}).Metafields)
	assert.True(t, slices.Equal(c.written.Tags, []string{"cvo-soulmates", "cvo-value-high"}), "the plan is not modified")
}

func writeback(id int64, tags []string, mf map[string]string) postgres.Writeback {
	return postgres.Writeback{CustomerID: id, Tags: tags, Metafields: mf}
}
