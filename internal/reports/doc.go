// Package reports turns a shop's order history into the CVO analyses:
// retention and its trend, acquisition cohorts, new-customer stickiness
// by source, campaign and discount code, rockstar and toxic products,
// Pareto curves, RFM group movements, anomalies, the ideal customer
// profile, and the lifetime-value curves with CAC payback and steady,
// subscription-like customers (ltv.go).
//
// NewDataset indexes the history once (customers × purchases in a
// compressed, time-sorted layout with interned first-order attributes);
// every report is then a linear pass over flat slices. The package
// imports only the standard library, internal/cvo and internal/rfm.
package reports
