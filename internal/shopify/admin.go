package shopify

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"time"
)

// GraphQL runs one Admin API request: AdminClient and Admin satisfy it,
// and the bulk-operation and paging helpers of this package take it.
type GraphQL interface {
	Do(ctx context.Context, query string, vars any, out any) (Cost, error)
}

// TokenSource hands out a valid access token for a shop (install.Service
// satisfies it, refreshing expiring tokens before they run out).
type TokenSource interface {
	AccessToken(ctx context.Context, shop string) (string, error)
}

// Admin is one job's connection to a shop's Admin API over a token that
// can change under it: expiring offline tokens live an hour, less than a
// long sync or a bulk write-back. It fetches the token from its source
// (Refresh, or the first Do), and when Shopify rejects the token it asks
// the source again and retries the request once. It counts requests and
// the cost points they used.
//
// Like the AdminClient under it, it is NOT safe for concurrent use.
type Admin struct {
	shop, version string
	hc            *http.Client
	tokens        TokenSource
	opts          []AdminOption

	client *AdminClient
	token  string
	calls  int
	cost   float64

	onRejected func(ctx context.Context) error
}

// NewAdmin returns a connection for the shop; nothing is fetched until
// Refresh or Do. opts go to every AdminClient it builds.
func NewAdmin(shop, apiVersion string, hc *http.Client, tokens TokenSource, opts ...AdminOption) *Admin {
	return &Admin{shop: shop, version: apiVersion, hc: hc, tokens: tokens, opts: opts}
}

// OnTokenRejected sets a check run when Shopify rejects the token, before
// a new one is fetched; an error from it is returned instead (a shop that
// removed the app has its tokens revoked: no token will do).
func (s *Admin) OnTokenRejected(f func(ctx context.Context) error) { s.onRejected = f }

// Shop is the shop this connection talks to.
func (s *Admin) Shop() string { return s.shop }

// Calls counts the requests sent (each may have been retried inside the
// client after throttling or a 5xx); CostPoints sums their actual cost.
func (s *Admin) Calls() int { return s.calls }

// CostPoints sums the actual query cost of every request.
func (s *Admin) CostPoints() float64 { return s.cost }

// Refresh fetches the shop's token and, when it changed, builds a new
// client with it (the bucket view starts afresh, which costs at most one
// THROTTLED answer).
func (s *Admin) Refresh(ctx context.Context) error {
	tok, err := s.tokens.AccessToken(ctx, s.shop)
	if err != nil {
		return fmt.Errorf("access token for %s: %w", s.shop, err)
	}
	if s.client != nil && tok == s.token {
		return nil
	}
	c, err := NewAdminClient(s.shop, tok, s.version, s.hc, s.opts...)
	if err != nil {
		return err
	}
	s.client, s.token = c, tok
	return nil
}

// Do runs one request (see AdminClient.Do), fetching a token first when
// it has none and once more when Shopify rejects the one it has.
func (s *Admin) Do(ctx context.Context, query string, vars any, out any) (Cost, error) {
	if s.client == nil {
		if err := s.Refresh(ctx); err != nil {
			return Cost{}, err
		}
	}
	for attempt := 0; ; attempt++ {
		cost, err := s.client.Do(ctx, query, vars, out)
		s.calls++
		s.cost += cost.ActualQueryCost
		if !errors.Is(err, ErrUnauthorized) || attempt > 0 {
			return cost, err
		}
		if s.onRejected != nil {
			if cerr := s.onRejected(ctx); cerr != nil {
				return cost, cerr
			}
		}
		// The source may hand out the same token (its clock says it is
		// still good); the retry then fails the same way and says so.
		s.client = nil
		if rerr := s.Refresh(ctx); rerr != nil {
			return cost, fmt.Errorf("%w (then: %v)", err, rerr)
		}
	}
}

// Page is one page of a connection read through its nodes.
type Page[T any] struct {
	Nodes    []T `json:"nodes"`
	PageInfo struct {
		HasNextPage bool   `json:"hasNextPage"`
		EndCursor   string `json:"endCursor"`
	} `json:"pageInfo"`
}

// EachNode runs query, which reads the connection at its top-level field
// with an $after variable, page by page, and calls fn with every node
// until fn returns false or the pages end.
func EachNode[T any](ctx context.Context, gql GraphQL, query, field string, vars map[string]any, fn func(T) bool) error {
	var after *string
	for {
		v := maps.Clone(vars)
		if v == nil {
			v = map[string]any{}
		}
		v["after"] = after
		var out map[string]Page[T]
		if _, err := gql.Do(ctx, query, v, &out); err != nil {
			return err
		}
		page := out[field]
		for _, n := range page.Nodes {
			if !fn(n) {
				return nil
			}
		}
		if !page.PageInfo.HasNextPage || page.PageInfo.EndCursor == "" {
			return nil
		}
		c := page.PageInfo.EndCursor
		after = &c
	}
}

// Sleep waits for d or until ctx ends, whichever is first; it is the wait
// of every retry and poll that talks to Shopify.
func Sleep(ctx context.Context, d time.Duration) error { return SleepUntil(ctx, d, nil) }

// SleepUntil is Sleep that also ends, without error, when wake is closed
// (a nil wake never is): a poll cut short by BulkWaker.Woken.
func SleepUntil(ctx context.Context, d time.Duration, wake <-chan struct{}) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
	case <-wake:
	}
	return nil
}
