// Package rfm scores customers on Recency, Frequency and Monetary value
// and sorts them into the eleven CVO groups (Soulmates … Break-Up).
//
// Design choices, each tested:
//
//   - Monetary is the average net order value, not total revenue, so that
//     F ("how often") and M ("how big") are independent; the group texts
//     speak of "high-value orders" and "small orders".
//   - F and M are quantile scores of the shop's own distribution, with
//     ties never split. When most customers bought once, or the shop is
//     small, the scale has fewer than five levels and says why (Scale).
//   - R is anchored on the shop's cadence rather than on quantiles: the
//     inactivity horizon is twice the average days between orders
//     (clamped to 30–730 days), and R1 means "inactive". A quantile R
//     would call the freshest fifth of customers recent even in a shop
//     where nobody has bought for a year.
//   - Rules read tiers (low/mid/high) of F and M, so they work the same
//     with five levels or two.
//
// The package imports only the standard library and internal/cvo.
package rfm

//go:generate go test -run TestRulesFileIsCurrent -update .
