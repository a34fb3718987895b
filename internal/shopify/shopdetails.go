package shopify

import (
	"context"
	"fmt"
	"net/http"
)

// ShopDetailsReader reads what the app shows about a shop: its name,
// currency (amounts are in shop money) and timezone (nightly rescoring runs
// at night in the shop's own time).
type ShopDetailsReader struct {
	httpClient *http.Client
	apiVersion string
}

// NewShopDetails returns a reader using the app's Shopify HTTP client.
func NewShopDetails(httpClient *http.Client, apiVersion string) *ShopDetailsReader {
	return &ShopDetailsReader{httpClient: httpClient, apiVersion: apiVersion}
}

const shopDetailsQuery = `query ShopDetails { shop { name currencyCode ianaTimezone } }`

// ShopDetails asks Shopify for the shop's name, currency and timezone.
func (r *ShopDetailsReader) ShopDetails(ctx context.Context, shop, accessToken string) (name, currency, timezone string, err error) {
	c, err := NewAdminClient(shop, accessToken, r.apiVersion, r.httpClient)
	if err != nil {
		return "", "", "", err
	}
	var out struct {
		Shop struct {
			Name         string `json:"name"`
			CurrencyCode string `json:"currencyCode"`
			IanaTimezone string `json:"ianaTimezone"`
		} `json:"shop"`
	}
	if _, err := c.Do(ctx, shopDetailsQuery, nil, &out); err != nil {
		return "", "", "", fmt.Errorf("read details of %s: %w", shop, err)
	}
	return out.Shop.Name, out.Shop.CurrencyCode, out.Shop.IanaTimezone, nil
}
