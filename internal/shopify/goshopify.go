package shopify

import (
	"fmt"
	"net/http"

	goshopify "github.com/bold-commerce/go-shopify/v4"
)

// NewGoShopifyClient returns a go-shopify client for code that wants its
// typed helpers. It validates the shop first (go-shopify's ShopFullName
// accepts anything and builds https://{name} from it), pins the API version
// (go-shopify otherwise uses the oldest supported one) and uses httpClient, so
// SHOPIFY_ADMIN_ORIGIN applies: go-shopify addresses https://{shop}/..., which
// the NewHTTPClient transport rewrites like any other shop request.
//
// Like AdminClient it is not safe for concurrent use. It does no retries
// (WithRetry sleeps without honouring the context); prefer AdminClient for
// GraphQL.
func NewGoShopifyClient(shop, accessToken, apiVersion string, httpClient *http.Client) (*goshopify.Client, error) {
	shop, err := NormalizeShop(shop)
	if err != nil {
		return nil, fmt.Errorf("go-shopify client: %w", err)
	}
	if !apiVersionPattern.MatchString(apiVersion) {
		return nil, fmt.Errorf("go-shopify client for %s: invalid api version %q", shop, apiVersion)
	}
	if httpClient == nil {
		httpClient = http.DefaultClient
	}
	c, err := goshopify.NewClient(goshopify.App{}, shop, accessToken,
		goshopify.WithVersion(apiVersion),
		goshopify.WithHTTPClient(httpClient),
	)
	if err != nil {
		return nil, fmt.Errorf("go-shopify client for %s: %w", shop, err)
	}
	return c, nil
}
