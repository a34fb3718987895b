// Package shopify is the app's one client of Shopify: shop-domain
// validation, session-token (App Bridge ID token) verification, the OAuth
// grants (token exchange, refresh, authorization code), HMAC checks for
// redirects and webhooks, an HTTP transport that can send all shop traffic to
// a configured origin (the simulator), and the Admin API:
//
//   - AdminClient: one GraphQL request at a time with one token, paced by
//     the shop's cost bucket (extensions.cost.throttleStatus), THROTTLED
//     answers waited out for exactly the missing points, 5xx and network
//     errors retried with capped, jittered backoff;
//   - Admin: an AdminClient over a token that changes (expiring offline
//     tokens live an hour): it fetches the token from a TokenSource and
//     fetches it again when Shopify rejects it; EachNode pages a connection;
//   - bulk operations (bulk.go): start a bulk query or mutation
//     (ErrBulkBusy when the shop runs as many as it may), read one or many
//     operations, find a mutation again by the marker in its name after a
//     crash lost its id, read a mutation's per-line results;
//   - Storage: the signed file URLs, without the access token: staged
//     uploads of mutation variables (retried on 5xx) and result downloads
//     that resume a broken stream at the byte it reached (HTTP Range).
//
// ingest (history sync) and activation (write-back) use these and keep no
// Shopify protocol of their own: what they keep is their state between the
// steps, in PostgreSQL, so a worker dying between any two steps never
// starts an operation twice. Waiting (poll backoff, the finish webhook)
// stays with them, since only they know what else they wait for.
//
// go-shopify (github.com/bold-commerce/go-shopify) serves where its code is
// the protocol and nothing more: building the authorization-code grant's
// authorize URL, and, in the simulator's tests, checking our HMAC and OAuth
// answers against an implementation that is not ours. The Admin API client
// is ours because go-shopify's flattens GraphQL errors into strings (losing
// extensions.code, so ACCESS_DENIED, MAX_COST_EXCEEDED and THROTTLED cannot
// be told apart), drops the cost of throttled answers that pacing needs,
// retries only 503 and THROTTLED, sleeps without the context, and has no
// bulk operations, staged uploads, resumable downloads or token rotation.
//
// It holds no database code and keeps no state shared between shops: callers
// persist tokens (encrypted with internal/secretbox) and build one Admin or
// AdminClient per shop and goroutine.
//
// Nothing in this package logs or formats secrets, access tokens, refresh
// tokens or session tokens into errors.
package shopify
