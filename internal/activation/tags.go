package activation

import (
	"strings"

	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/rfm"
)

// ValueTier is a customer's predicted-value tier: the tertile of predicted
// CLV among the shop's scored customers.
type ValueTier string

// The value tiers.
const (
	TierHigh   ValueTier = "high"
	TierMedium ValueTier = "medium"
	TierLow    ValueTier = "low"
)

// ChurnRiskHigh is the churn risk (scoring's calibrated chance to order
// within the shop's window, cut by the shop's thresholds) that earns the
// churn-risk tag.
const ChurnRiskHigh = "high"

// GroupTag is the tag of an RFM group, e.g. "cvo-about-to-dump-you".
func GroupTag(prefix string, g rfm.Group) string { return prefix + g.Slug() }

// ValueTag is the tag of a predicted-value tier, e.g. "cvo-value-high".
func ValueTag(prefix string, t ValueTier) string { return prefix + "value-" + string(t) }

// ChurnRiskTag is the tag of customers at high risk of churning,
// e.g. "cvo-churn-risk-high".
func ChurnRiskTag(prefix string) string { return prefix + "churn-risk-high" }

// AppTags lists every tag the app can write with prefix: the eleven group
// tags, the three value tiers and the churn-risk tag.
func AppTags(prefix string) []string {
	out := make([]string, 0, rfm.NumGroups+4)
	for _, g := range rfm.Groups() {
		out = append(out, GroupTag(prefix, g))
	}
	for _, t := range []ValueTier{TierHigh, TierMedium, TierLow} {
		out = append(out, ValueTag(prefix, t))
	}
	return append(out, ChurnRiskTag(prefix))
}

// appTagSuffixes are what follows the prefix in the app's tags.
var appTagSuffixes = func() map[string]bool {
	m := map[string]bool{}
	for _, t := range AppTags("") {
		m[t] = true
	}
	return m
}()

// IsAppTag reports whether tag is one the app writes with one of the
// prefixes. Shopify compares tags case-insensitively, and so does this.
func IsAppTag(tag string, prefixes ...string) bool {
	tag = strings.ToLower(strings.TrimSpace(tag))
	for _, p := range prefixes {
		if rest, ok := strings.CutPrefix(tag, strings.ToLower(p)); ok && p != "" && appTagSuffixes[rest] {
			return true
		}
	}
	return false
}

// OnlyAppTagsChanged reports whether every tag added or removed between
// before and after is one the app writes with prefix, so a customers/update
// webhook that carries only the app's own write-back is not mistaken for a
// merchant's change. It is false when nothing changed at all, since the
// webhook then reports some other change of the customer.
func OnlyAppTagsChanged(prefix string, before, after []string) bool {
	return onlyAppTagsChanged(before, after, prefix)
}

func onlyAppTagsChanged(before, after []string, prefixes ...string) bool {
	b, a := tagSet(before), tagSet(after)
	changed := false
	for t := range b {
		if !a[t] {
			if !IsAppTag(t, prefixes...) {
				return false
			}
			changed = true
		}
	}
	for t := range a {
		if !b[t] {
			if !IsAppTag(t, prefixes...) {
				return false
			}
			changed = true
		}
	}
	return changed
}

func tagSet(tags []string) map[string]bool {
	m := make(map[string]bool, len(tags))
	for _, t := range tags {
		if t = strings.ToLower(strings.TrimSpace(t)); t != "" {
			m[t] = true
		}
	}
	return m
}

// ValueTiers assigns each score its tertile of predicted CLV: the lowest
// third "low", the top third "high". Ties share a tier, leaning low, so a
// shop where most customers are predicted to spend nothing tags them low
// rather than splitting equals across tiers.
func ValueTiers(scores []cvo.CustomerScore) []ValueTier {
	out := make([]ValueTier, len(scores))
	compact := make([]Score, len(scores))
	for i, sc := range scores {
		compact[i].PredictedCLV = sc.PredictedCLV
	}
	setValueTiers(compact)
	for i := range compact {
		out[i] = tierNames[compact[i].tier]
	}
	return out
}

// DesiredTags are the tags the app wants on a customer: the group tag when
// the group is enabled, then the value and churn tags the settings ask for.
func DesiredTags(s cvo.Settings, g rfm.Group, tier ValueTier, churnRisk string) []string {
	var out []string
	if g.Valid() && s.GroupEnabled(g.Slug()) {
		out = append(out, GroupTag(s.TagPrefix, g))
	}
	if s.ValueTags.PredictedValueTier && tier != "" {
		out = append(out, ValueTag(s.TagPrefix, tier))
	}
	if s.ValueTags.ChurnRisk && g.Valid() && churnRisk == ChurnRiskHigh {
		out = append(out, ChurnRiskTag(s.TagPrefix))
	}
	return out
}
