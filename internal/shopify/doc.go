// Package shopify is the app's side of talking to Shopify: shop-domain
// validation, session-token (App Bridge ID token) verification, the OAuth
// grants (token exchange, refresh, authorization code), HMAC checks for
// redirects and webhooks, an HTTP transport that can send all shop traffic to
// a configured origin (the simulator), and a cost-aware GraphQL Admin client.
//
// It holds no database code and keeps no state shared between shops: callers
// persist tokens (encrypted with internal/secretbox) and build one AdminClient
// per shop and goroutine.
//
// Nothing in this package logs or formats secrets, access tokens, refresh
// tokens or session tokens into errors.
package shopify
