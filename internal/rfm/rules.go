package rfm

import (
	"fmt"
	"strings"
)

// Tier coarsens a score into low, mid or high so that the group rules
// read the same whether a dimension has 5 levels or only 2.
type Tier int8

// The tiers, low to high.
const (
	TierLow Tier = iota + 1
	TierMid
	TierHigh
)

func (t Tier) String() string {
	switch t {
	case TierLow:
		return "low"
	case TierMid:
		return "mid"
	case TierHigh:
		return "high"
	}
	return "unknown"
}

// TierOf places score s of a scale with the given levels: the relative
// position (s−1)/(levels−1) is low below 1/3, high above 2/3, mid
// otherwise; a single-level scale is mid. With 5 levels: 1–2 low, 3 mid,
// 4–5 high; with 3 levels one each; with 2 levels low and high.
func TierOf(s, levels int) Tier {
	if levels <= 1 {
		return TierMid
	}
	pos := float64(s-1) / float64(levels-1)
	switch {
	case pos < 1.0/3:
		return TierLow
	case pos > 2.0/3:
		return TierHigh
	}
	return TierMid
}

// Profile is everything the group rules look at for one customer.
type Profile struct {
	Purchases     int
	RecencyDays   float64 // days since the last purchase
	TenureDays    float64 // days since the first purchase
	AvgOrderValue float64
	// OwnGapDays is the customer's own average gap between purchases,
	// (last − first) / (purchases − 1); zero with a single purchase.
	OwnGapDays    float64
	DiscountShare float64 // share of purchases that used a discount code
	HorizonDays   float64 // the shop's inactivity horizon
	R, F, M       int
	FTier, MTier  Tier
	// Previous is the group from the previous scoring, NoGroup if unknown.
	Previous Group
}

func (p Profile) recent() bool   { return p.R >= 4 }
func (p Profile) inactive() bool { return p.R <= 1 }

// overdue says the customer has gone more than twice their own usual gap
// without buying: the "on and off" of Flirting.
func (p Profile) overdue() bool { return p.Purchases >= 2 && p.RecencyDays > 2*p.OwnGapDays }

// promoHunter reads "they hunt promotions" as: at least half of the
// purchases used a discount code.
func (p Profile) promoHunter() bool { return p.DiscountShare >= 0.5 }

// wasLover decides whether an inactive customer used to be a Soulmate or
// a Lover. With a previous group that is the answer (Ex-Lovers stay
// Ex-Lovers while inactive). Without one, the customer is classified as
// on the day of their last purchase, with today's F and M tiers: the
// best reconstruction possible from the order history alone.
func (p Profile) wasLover() bool {
	switch p.Previous {
	case Soulmates, Lovers, ExLovers:
		return true
	case NoGroup:
		then := p
		then.TenureDays = max(p.TenureDays-p.RecencyDays, 0)
		then.RecencyDays = 0
		then.R = 5
		g := Classify(then)
		return g == Soulmates || g == Lovers
	}
	return false
}

// Rule is one row of the grouping table. Rules are tried in Priority
// order and the first match decides the group; the last rule for active
// customers and the last rule for inactive ones match everything, so
// every scored customer lands in exactly one group.
type Rule struct {
	Priority  int                `json:"priority"`
	Group     Group              `json:"group"`
	Condition string             `json:"condition"`
	Match     func(Profile) bool `json:"-"`
}

// rules is filled in init because the Ex-Lovers rule re-runs Classify.
var rules []Rule

func init() {
	rules = []Rule{
		{Group: ExLovers, Condition: "R = 1 (inactive) and the previous group was Soulmates, Lovers or Ex-Lovers; with no previous group, the customer would have been Soulmates or Lovers on the day of the last purchase",
			Match: func(p Profile) bool { return p.inactive() && p.wasLover() }},
		{Group: BreakUp, Condition: "R = 1 and (M tier low, or at least half of the purchases used a discount code)",
			Match: func(p Profile) bool { return p.inactive() && (p.MTier == TierLow || p.promoHunter()) }},
		{Group: AboutToDumpYou, Condition: "R = 1 (every other inactive customer)",
			Match: func(p Profile) bool { return p.inactive() }},
		{Group: Soulmates, Condition: "R ≥ 4, 2+ purchases, F tier high, M tier high",
			Match: func(p Profile) bool {
				return p.recent() && p.Purchases >= 2 && p.FTier == TierHigh && p.MTier == TierHigh
			}},
		{Group: DonJuan, Condition: "exactly 1 purchase, M tier high",
			Match: func(p Profile) bool { return p.Purchases == 1 && p.MTier == TierHigh }},
		{Group: Apprentice, Condition: "exactly 1 purchase, R = 5 (first order within half a typical gap)",
			Match: func(p Profile) bool { return p.Purchases == 1 && p.R == 5 }},
		{Group: NewPassion, Condition: "R ≥ 4, 1–2 purchases, M tier mid, first purchase within the horizon",
			Match: func(p Profile) bool {
				return p.recent() && p.Purchases <= 2 && p.MTier == TierMid && p.TenureDays <= p.HorizonDays
			}},
		{Group: Lovers, Condition: "R ≥ 4, 2+ purchases, F tier mid or high",
			Match: func(p Profile) bool { return p.recent() && p.Purchases >= 2 && p.FTier >= TierMid }},
		{Group: Flirting, Condition: "2+ purchases, M tier high, days since last purchase > 2 × own average gap",
			Match: func(p Profile) bool { return p.Purchases >= 2 && p.MTier == TierHigh && p.overdue() }},
		{Group: PotentialLovers, Condition: "2+ purchases, M tier high",
			Match: func(p Profile) bool { return p.Purchases >= 2 && p.MTier == TierHigh }},
		{Group: PlatonicFriends, Condition: "every other active customer (R 2–5)",
			Match: func(p Profile) bool { return true }},
	}
	for i := range rules {
		rules[i].Priority = i + 1
	}
}

// Rules returns the grouping table in evaluation order.
func Rules() []Rule {
	out := make([]Rule, len(rules))
	copy(out, rules)
	return out
}

// Classify returns the group of the first rule that matches.
func Classify(p Profile) Group {
	for i := range rules {
		if rules[i].Match(p) {
			return rules[i].Group
		}
	}
	return PlatonicFriends // unreachable: the last rule matches everything
}

// RulesMarkdown renders the rules with the definitions they rely on, for
// the README and RULES.md.
func RulesMarkdown() string {
	var b strings.Builder
	b.WriteString(`# RFM group rules

Generated by ` + "`go test ./internal/rfm -run TestRulesFileIsCurrent -update`" + `; do not edit by hand.

Inputs per customer, as of the scoring date, counting only orders that
` + "`cvo.Order.IsPurchase`" + ` accepts:

- **Recency**: days since the last purchase.
- **Frequency**: number of purchases.
- **Monetary**: average net order value (revenue net of refunds / purchases),
  so that F and M measure different things: "how often" and "how big".
- **Horizon H**: 2 × the shop's average days between orders (each repeat
  customer's own average gap, averaged over repeat customers; 90 days while
  nobody has bought twice), clamped to 30–730 days. A customer is
  **inactive** after H days without a purchase; for a shop whose customers
  come back every three months that is the six months of the seed text.

Scores:

- **R** (5 levels, anchored on H): 5 if recency ≤ H/4, 4 if ≤ H/2, 3 if ≤ 3H/4,
  2 if ≤ H, 1 beyond (inactive).
- **F** and **M** (1 to 5 levels): quantile cuts of the shop's own
  distribution. Tied values always share a score; quantile boundaries snap
  to the nearest change of value, so heavy ties (most customers with one
  purchase) or small shops (fewer than 5 customers per level) give fewer
  levels. Each scale reports its level count and the reason.
- **Tiers** make rules independent of the level count: a score's position
  (s−1)/(levels−1) is *low* below 1/3, *high* above 2/3, otherwise *mid*
  (a one-level scale is mid). With 5 levels: 1–2 low, 3 mid, 4–5 high.

Rules are tried top to bottom; the first match decides. Rule 3 catches
every inactive customer and rule 11 every active one, so each customer
is in exactly one group.

| # | Group | Slug | Rule |
|---|-------|------|------|
`)
	for _, r := range rules {
		fmt.Fprintf(&b, "| %d | %s | `%s` | %s |\n", r.Priority, r.Group.Name(), r.Group.Slug(), r.Condition)
	}
	return b.String()
}
