// Package clv computes customer lifetime value, historical and predicted,
// with "buy till you die" (BTYD) models. It is pure math over
// internal/cvo's domain types: no HTTP, database or Shopify.
//
// # Data and units
//
// Summarize turns purchases into per-customer summaries (x, t_x, T):
// purchases are counted per distinct calendar day in the shop's time zone
// (several orders on one day are one transaction with their summed value),
// x is the number of repeat transaction days, t_x the time from the first
// to the last transaction day and T the time from the first transaction day
// to the as-of day, in Days or Weeks. The monetary value is the mean value
// of the repeat transactions, the first one excluded, as Gamma-Gamma
// expects. The scale parameter α of the purchase models is in the same
// unit as the data it was fitted on; ConditionalExpected(t, ...) takes t in
// that unit too. Money is in the shop's currency throughout.
//
// With CDNOW (weeks, calibration to 1997-09-30 inclusive) these conventions
// reproduce Hardie's summary file (cdnow_customers_summary_with_transactions)
// exactly for all 2,357 customers: x from merged days (80 customers would
// differ without merging), t_x and T as day differences over 7, T measured
// to 1997-09-30 itself, so a customer who first bought on 1997-01-01 has
// T = 272/7 = 38.86 rather than 39 weeks. lifetimes'
// summary_data_from_transaction_data with freq="W" differs: it snaps dates
// to calendar-week periods first, giving whole weeks (t_x = 30, T = 39 for
// that customer); its freq="D" with freq_multiplier=7 matches ours.
//
// # Purchase models
//
// BG/NBD (Fader, Hardie & Lee 2005): while active a customer buys at rate
// λ ~ Gamma(r, α) and after each repeat purchase drops out with probability
// p ~ Beta(a, b). Its flaw for shop scoring: a customer without repeat
// purchases can never have dropped out, so every one-time buyer gets
// P(alive) = 1, however long ago the purchase.
//
// MBG/NBD (Batislam, Denizel & Filiztekin 2007; Hoppe & Wagner 2007) lets
// the customer drop out at time 0, right after the first purchase, too.
// One-time buyers then get P(alive) = 1/(1 + a/b ((α+T)/α)^r), which falls
// with the time since their purchase. Because most customers of a typical
// shop bought once, MBG/NBD is the app's default model; BG/NBD remains
// available as Config.Model = "bgnbd" (it reproduces the published CDNOW
// numbers and is the reference in tests).
//
// Both are fitted by maximum likelihood (gonum/optimize BFGS on the
// log-parameters, analytic gradients) on customers compressed to distinct
// (x, t_x, T) triples. Conditional expectations use the Gaussian
// hypergeometric function 2F1, implemented here for the real arguments the
// models need: the power series for -1/2 ≤ z ≤ 3/4 (and, with a bounded
// budget, beyond), Pfaff's transformation below -1/2 and the 1-z connection
// formulas, including their logarithmic integer cases, near 1. The
// expectations themselves are evaluated in a form that has no cancellation
// for short horizons and no singularity at a = 1.
//
// # Spend model
//
// Gamma-Gamma (Fader, Hardie & Lee 2005, "RFM and CLV: Using Iso-Value
// Curves") is fitted on the customers with repeat purchases of positive
// mean value. The published CDNOW parameters (p = 6.25, q = 3.74,
// γ = 15.44) are reproduced with the exact mean of the merged-day repeat
// transactions; the 2-decimal zbar column of Hardie's summary file gives
// γ = 15.45.
//
// # Predicted CLV
//
// Over a horizon of H average months (365.25/12 days, default 12) with a
// monthly discount rate d (default 1%):
//
//	CLV = Σ_{k=1..H} (E[orders by month k] - E[orders by month k-1])
//	      × E[order value] × margin / (1+d)^k
//
// (lifetimes' customer_lifetime_value uses 30-day months instead.)
//
// The expected next order date is the day by which the customer has ordered
// again with probability q (default 1/2, the median):
// P(alive) (1 - ((α+T)/(α+T+t))^(r+x)) = q, solved in closed form. When
// P(alive) ≤ q there is no such day and the prediction says so
// (HasNextOrder false): such a customer more likely than not never orders
// again.
//
// # Fallback
//
// Fit never returns garbage silently. When fewer than MinRepeatCustomers
// customers (default 30) bought more than once, when the optimizer fails or
// the parameters diverge, or when the fitted model misstates the observed
// number of calibration-period repeat purchases by more than a factor of 2,
// Fitted.Fallback is set with a Reason and the Empirical model is used:
// the repeat rate and the mean time between purchases, with exponential
// decay of activity once a customer is overdue. Gamma-Gamma falls back the
// same way (SpendFallback, SpendReason) to EmpiricalSpend, the mean order
// value blended with the customer's own; identical spends, which make the
// Gamma-Gamma likelihood unbounded, end up there.
//
// # Backtest and historical CLV
//
// Backtest fits on the data up to as-of minus a holdout and compares the
// predicted orders and revenue of the holdout with the actual ones, overall
// and per caller-supplied group. HistoricalCLV sums each customer's net
// revenue (cvo.Order.NetValueAsOf over cvo.Order.IsPurchase orders), gross
// margin from known unit costs and a default margin rate elsewhere, minus
// the acquisition cost of the first order's source, with the CLV:CAC ratio.
package clv
