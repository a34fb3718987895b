// Package survey is the domain of the customer surveys that pair the RFM
// numbers with what customers say: survey definitions and their templates,
// validation of definitions and of answers, the NPS and Customer Effort
// Score arithmetic, and the signed, expiring links that let one customer
// answer one survey without logging in.
//
// It is pure: no HTTP, database or Shopify. The public page
// (internal/web), the storage (internal/postgres) and the write-back of
// each customer's link (internal/activation) build on it.
//
// # Links
//
// A link names a survey id, a customer id and an expiry day, nothing
// personal, and carries a 128-bit HMAC-SHA256 tag over those bytes and the
// shop's domain, keyed by a per-shop key derived from the app's client
// secret with HKDF. A link therefore cannot be forged without the secret,
// changed to another customer, survey or expiry, or moved to another shop
// (each shop has its own key, and the domain is in the MAC). Links expire
// on a fixed calendar of windows (see LinkExpiry) so that a customer's
// link, and the metafield that holds it, changes once per window and not
// on every write-back.
//
// The score a customer clicks in an email travels in the query string,
// outside the signature: the merchant's email template adds ?score=N to the
// one link, and any score from 0 to 10 is the customer's to choose.
package survey
