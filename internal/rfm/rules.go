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
	// RLevels is the number of R levels (5 unless the shop has fewer
	// distinct days since a last purchase).
	RLevels      int
	FTier, MTier Tier
	// Previous is the group from the previous scoring, NoGroup if unknown.
	Previous Group
}

// recent reads R as a tier so that it means "the most recent 40%" with
// five levels and still means the top of the scale with fewer; with one
// level everybody last bought on the same day, and that day is recent.
func (p Profile) recent() bool { return p.RLevels <= 1 || TierOf(p.R, p.RLevels) == TierHigh }

// newest is the top R level: with five levels the most recent 20%.
func (p Profile) newest() bool { return p.R == max(p.RLevels, 1) }

// inactive is anchored on the shop's cadence, not on R: R ranks customers
// against each other, which cannot say whether anyone is still buying.
func (p Profile) inactive() bool { return p.RecencyDays > p.HorizonDays }

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
		then.R = max(p.RLevels, 1)
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
		{Group: ExLovers, Condition: "inactive (no purchase for more than H days) and the previous group was Soulmates, Lovers or Ex-Lovers; with no previous group, the customer would have been Soulmates or Lovers on the day of the last purchase",
			Match: func(p Profile) bool { return p.inactive() && p.wasLover() }},
		{Group: BreakUp, Condition: "inactive and (M tier low, or at least half of the purchases used a discount code)",
			Match: func(p Profile) bool { return p.inactive() && (p.MTier == TierLow || p.promoHunter()) }},
		{Group: AboutToDumpYou, Condition: "inactive (every other inactive customer)",
			Match: func(p Profile) bool { return p.inactive() }},
		{Group: Soulmates, Condition: "R ≥ 4, 2+ purchases, F tier high, M tier high",
			Match: func(p Profile) bool {
				return p.recent() && p.Purchases >= 2 && p.FTier == TierHigh && p.MTier == TierHigh
			}},
		{Group: DonJuan, Condition: "exactly 1 purchase, M tier high",
			Match: func(p Profile) bool { return p.Purchases == 1 && p.MTier == TierHigh }},
		{Group: Apprentice, Condition: "exactly 1 purchase, R = 5 (among the most recent 20%)",
			Match: func(p Profile) bool { return p.Purchases == 1 && p.newest() }},
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
		{Group: PlatonicFriends, Condition: "every other active customer",
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
  **inactive** after more than H days without a purchase; for a shop whose
  customers come back every three months that is the six months of the seed
  text. Inactivity is read from H, never from R.

Scores (the same rule for R, F and M):

- **R** ranks whole days since the last purchase (most recent = 5), **F** the
  number of purchases and **M** the average order value (highest = 5).
- **Five levels whenever the shop has at least five distinct values**, each
  holding at least one value; with fewer distinct values, one level per
  value. Customers with the same value always share a level, so a level
  boundary can only fall where the value changes.
- **Ties go to the level that keeps the shares closest to 20% each**: of all
  the ways to place the four boundaries between distinct values, the one with
  the least sum of squared differences between each level's share of
  customers and 20% (1/levels) wins; on an exact draw, the one with the lower
  boundaries. So when 60% of customers bought once, F 1 is those 60% and the
  other 40% still fill F 2–5. Each scale reports its levels, cut-offs, the
  share of customers at each level and the reason.
- **Tiers** make rules independent of the level count: a score's position
  (s−1)/(levels−1) is *low* below 1/3, *high* above 2/3, otherwise *mid*
  (a one-level scale is mid). With 5 levels: 1–2 low, 3 mid, 4–5 high;
  "R ≥ 4" below means R tier high.

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
