package activation

import (
	"context"
	"errors"

	"github.com/cvo-app/cvo/internal/shopify"
)

// api is one write-back's connection to a shop's Admin API: a
// shopify.Admin, which counts calls and cost points for the report and
// fetches a fresh token when Shopify rejects the one it has (an expiring
// token can run out during a long bulk wait), unless the rejection is the
// shop removing the app. Like the Admin under it, it is not safe for
// concurrent use.
type api struct {
	*shopify.Admin
}

func (w *Writer) connect(ctx context.Context, shop string) (*api, error) {
	a := shopify.NewAdmin(shop, w.version, w.hc, w.tokens, w.clientOpts...)
	a.OnTokenRejected(func(ctx context.Context) error {
		// Shopify revokes the tokens of a shop that removes the app.
		if ierr := w.checkInstalled(ctx, shop); errors.Is(ierr, ErrUninstalled) {
			return ierr
		}
		return nil
	})
	if err := a.Refresh(ctx); err != nil {
		return nil, err
	}
	return &api{a}, nil
}

// do runs one GraphQL request; see shopify.AdminClient.Do.
func (a *api) do(ctx context.Context, query string, vars, out any) error {
	_, err := a.Do(ctx, query, vars, out)
	return err
}

// payloadResult is the part of every mutation payload the write-back reads.
type payloadResult struct {
	UserErrors shopify.UserErrors `json:"userErrors"`
}

// ok reports whether a mutation field ran and reported no user errors.
func (p *payloadResult) ok() bool { return p != nil && len(p.UserErrors) == 0 }
