package activation

import (
	"context"
	"errors"
	"fmt"
	"maps"

	"github.com/cvo-app/cvo/internal/shopify"
)

// api is one write-back's connection to a shop's Admin API. It counts calls
// and cost points for the report, and when Shopify rejects the token (an
// expiring token can run out during a long bulk wait) it fetches a fresh
// one and retries once. Like the AdminClient under it, it is not safe for
// concurrent use.
type api struct {
	w      *Writer
	shop   string
	client *shopify.AdminClient
	calls  int
	cost   float64
}

func (w *Writer) connect(ctx context.Context, shop string) (*api, error) {
	a := &api{w: w, shop: shop}
	if err := a.reconnect(ctx); err != nil {
		return nil, err
	}
	return a, nil
}

func (a *api) reconnect(ctx context.Context) error {
	tok, err := a.w.tokens.AccessToken(ctx, a.shop)
	if err != nil {
		return fmt.Errorf("access token for %s: %w", a.shop, err)
	}
	c, err := shopify.NewAdminClient(a.shop, tok, a.w.version, a.w.hc, a.w.clientOpts...)
	if err != nil {
		return err
	}
	a.client = c
	return nil
}

// do runs one GraphQL request; see shopify.AdminClient.Do.
func (a *api) do(ctx context.Context, query string, vars, out any) error {
	for attempt := 0; ; attempt++ {
		cost, err := a.client.Do(ctx, query, vars, out)
		a.calls++
		a.cost += cost.ActualQueryCost
		if errors.Is(err, shopify.ErrUnauthorized) {
			// Shopify revokes the tokens of a shop that removes the app.
			if ierr := a.w.checkInstalled(ctx, a.shop); errors.Is(ierr, ErrUninstalled) {
				return ierr
			}
			if attempt == 0 {
				if rerr := a.reconnect(ctx); rerr != nil {
					return fmt.Errorf("%w (then: %v)", err, rerr)
				}
				continue
			}
		}
		return err
	}
}

// payloadResult is the part of every mutation payload the write-back reads.
type payloadResult struct {
	UserErrors shopify.UserErrors `json:"userErrors"`
}

// ok reports whether a mutation field ran and reported no user errors.
func (p *payloadResult) ok() bool { return p != nil && len(p.UserErrors) == 0 }

// connectionPage is one page of a connection read through its nodes.
type connectionPage[T any] struct {
	Nodes    []T `json:"nodes"`
	PageInfo struct {
		HasNextPage bool   `json:"hasNextPage"`
		EndCursor   string `json:"endCursor"`
	} `json:"pageInfo"`
}

// eachNode runs query, which reads the connection at its top-level field
// with an $after variable, page by page, and calls fn with every node
// until fn returns false or the pages end.
func eachNode[T any](ctx context.Context, a *api, query, field string, vars map[string]any, fn func(T) bool) error {
	var after *string
	for {
		v := maps.Clone(vars)
		if v == nil {
			v = map[string]any{}
		}
		v["after"] = after
		var out map[string]connectionPage[T]
		if err := a.do(ctx, query, v, &out); err != nil {
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
