// Package scoring scores a shop end to end: the one function behind the
// background rescoring job, the admin page's aggregates and `cvo score`.
//
// Score takes the shop's orders and customers and Settings (as-of instant,
// time zone, refund dating, CAC, default margin, time unit, horizons,
// discount rate, model, the previous scoring's groups) and returns a
// Result: a CustomerScore per customer with a purchase (orders, BTYD
// frequency/recency/T, monetary value, revenue, margin, historical CLV,
// R/F/M scores and group, P(alive), expected orders, next order date,
// predicted CLV), the fitted models, the RFM scales, every report of
// internal/reports, the backtest, per-group aggregates and shop totals.
// Everything but the per-customer rows marshals to JSON, with no NaN or
// Inf anywhere. Builder collects orders one by one for callers that stream
// them.
//
// # Conventions
//
// Only orders that cvo.Order.IsPurchase accepts and that were created by
// as-of count; their value is net of the refunds known at as-of (or of all
// refunds, with cvo.RefundAtOrderDate). The BTYD quantities follow
// internal/clv: one purchase per calendar day in the shop's zone (orders
// on one day are one purchase with the summed value), frequency = repeat
// purchase days, recency and T in the chosen unit, monetary = mean repeat
// purchase value. RFM follows internal/rfm (orders, average order value).
// Historical CLV is clv.HistoricalCLV's: gross margin from known unit
// costs, the default margin rate elsewhere, minus the acquisition cost of
// the first order's source. Predicted CLV discounts the expected revenue of
// the next HorizonMonths months and applies the customer's own realized
// margin rate.
//
// # Speed
//
// A shop of a million customers is the design point. The package indexes
// the orders once into flat per-customer purchase records (no map or
// allocation per customer) and computes BTYD summaries, historical CLV and
// the backtest from them; the results equal clv.Summarize,
// clv.HistoricalCLV and clv.Backtest, which tests check. The reports index
// the history their own way in parallel, the backtest is fitted beside the
// main fit, and predictions run on every core.
//
// # Backtest
//
// The models are refitted on the history up to a cutoff BacktestHoldoutMonths
// before as-of (default: the CLV horizon, or a third of a shorter history),
// and their predictions for the holdout are compared with what the customers
// did, overall and per the RFM group each customer had at the cutoff.
package scoring
