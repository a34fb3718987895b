package activation

import (
	"context"
	"errors"
	"fmt"

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
