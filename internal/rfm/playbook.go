package rfm

// Play is what a group means for the merchant and what to do about it,
// shown next to each group on the admin page.
type Play struct {
	Group   Group  `json:"group"`
	Meaning string `json:"meaning"`
	Action  string `json:"action"`
}

var plays = [NumGroups + 1]Play{
	Soulmates: {
		Meaning: "Your best customers: they buy more often than almost anyone else, spend more per order than most, and bought recently. A small group that usually carries a large share of revenue and margin.",
		Action:  "Treat them as VIPs rather than discount targets: early access to new ranges, limited editions, invitations, priority support. Interview a few of them to learn why they buy, and build lookalike audiences from this group.",
	},
	Lovers: {
		Meaning: "Active repeat customers: several purchases, the latest one recent. They already like the shop and are one step away from becoming Soulmates.",
		Action:  "Nurture the habit: loyalty points, personalised recommendations and cross-sells based on what they bought, reminders timed to their usual buying rhythm. Ask for reviews and referrals.",
	},
	PotentialLovers: {
		Meaning: "Customers who placed a couple of high-value orders and keep to their own (slower) rhythm, but are not recent enough or frequent enough to count as Lovers yet.",
		Action:  "Give them a reason to come back sooner: complementary products to what they bought, membership or subscription offers, content that shows the range. Avoid deep discounts; their baskets are already valuable.",
	},
	NewPassion: {
		Meaning: "A young relationship: one or two recent purchases of typical value, first bought within the shop's normal buying cycle.",
		Action:  "Onboard well: a strong welcome series, usage tips, a check that the order arrived and pleased them, then a well-timed second-purchase suggestion before the typical gap runs out.",
	},
	Apprentice: {
		Meaning: "Brand-new customers who have just placed their first order, of ordinary value.",
		Action:  "Make the first experience excellent: clear delivery updates, a thank-you, help using the product and an NPS question after delivery. Hold back on selling until the product has arrived.",
	},
	DonJuan: {
		Meaning: "One purchase only, but a high-value one. They trusted the shop with a big basket once and have not returned.",
		Action:  "Find out how that order went (survey or a personal message), offer premium follow-ups that match the first purchase and service touches rather than discounts. Study where they came from to attract more like them.",
	},
	Flirting: {
		Meaning: "Customers who spend a lot when they buy but come and go: they are now well past their own usual gap between orders while still inside the shop's active window.",
		Action:  "Reactivate before they drift off: remind them of what they liked, announce new arrivals in their favourite categories, time messages to their past buying moments. Ask what keeps them from buying more regularly.",
	},
	PlatonicFriends: {
		Meaning: "Still active, but they buy rarely and spend little or an average amount. They like the shop without being attached to it.",
		Action:  "Raise engagement cheaply: bundles and free-shipping thresholds to lift basket size, educational content, social proof. Keep costs per contact low; move the promising ones towards Lovers.",
	},
	AboutToDumpYou: {
		Meaning: "Inactive customers: their last purchase is older than the shop's inactivity horizon (about six months for a shop whose customers return every three months).",
		Action:  "Run a win-back sequence now, while the brand is still remembered: a personal 'we miss you', what is new since their last visit, an incentive only if cheaper measures fail. Ask why they left.",
	},
	ExLovers: {
		Meaning: "Former Lovers or Soulmates who have stopped buying and are now inactive. They were valuable, and the reason they left is usually unknown.",
		Action:  "Reach out personally to learn why they left (service, product, price, competitor) and fix what you can. A tailored win-back offer is worth more here than anywhere else; feed the lessons into prevention for current Lovers.",
	},
	BreakUp: {
		Meaning: "Inactive customers who used to place small orders or mostly bought with discount codes. They cost margin and rarely come back.",
		Action:  "Spend little: leave them in low-cost newsletters, exclude them from paid retargeting and deep discounts, and let them unsubscribe without friction. Check which campaigns brought them so you can buy less of that traffic.",
	},
}

// Playbook returns the meaning of a group and what to do about it. The
// texts are written for merchants and may be shown as they are.
func (g Group) Playbook() Play {
	if !g.Valid() {
		return Play{Group: g}
	}
	p := plays[g]
	p.Group = g
	return p
}

// Playbooks lists every group's Play in the order of Groups.
func Playbooks() []Play {
	out := make([]Play, 0, NumGroups)
	for _, g := range Groups() {
		out = append(out, g.Playbook())
	}
	return out
}
