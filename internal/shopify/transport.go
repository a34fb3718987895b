package shopify

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"
)

// ParseAdminOrigin validates the SHOPIFY_ADMIN_ORIGIN setting: empty means
// real Shopify; otherwise an absolute http or https origin such as
// "http://127.0.0.1:9100", with no path, query or userinfo.
func ParseAdminOrigin(origin string) (*url.URL, error) {
	if origin == "" {
		return nil, nil
	}
	u, err := url.Parse(origin)
	if err != nil {
		return nil, fmt.Errorf("SHOPIFY_ADMIN_ORIGIN is not a URL: %w", err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("SHOPIFY_ADMIN_ORIGIN must use http or https, got %q", u.Scheme)
	case u.Host == "":
		return nil, errors.New("SHOPIFY_ADMIN_ORIGIN has no host")
	case u.User != nil:
		return nil, errors.New("SHOPIFY_ADMIN_ORIGIN must not carry userinfo")
	case (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "":
		return nil, errors.New("SHOPIFY_ADMIN_ORIGIN must be an origin without path, query or fragment")
	}
	return &url.URL{Scheme: u.Scheme, Host: u.Host}, nil
}

// NewHTTPClient returns the client for all traffic to Shopify. With an empty
// adminOrigin it talks to Shopify directly. With an origin set, every request
// to https://{shop}/... (a valid myshopify.com host) goes to that origin
// instead while keeping Host: {shop}, so one simulator serves many shops;
// requests to other hosts (such as bulk-operation result URLs the simulator
// hands out) pass through unchanged.
//
// Redirects are not followed: Shopify's Admin and OAuth endpoints do not
// redirect, and following one would forward X-Shopify-Access-Token, which
// Go's client does not strip, to wherever the Location points. A 3xx reaches
// the caller as an ordinary response.
func NewHTTPClient(adminOrigin string, timeout time.Duration) (*http.Client, error) {
	origin, err := ParseAdminOrigin(adminOrigin)
	if err != nil {
		return nil, err
	}
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.MaxIdleConnsPerHost = 16
	base.ResponseHeaderTimeout = timeout
	var rt http.RoundTripper = base
	if origin != nil {
		rt = &originRewriter{origin: origin, next: base}
	}
	return &http.Client{
		Transport: rt,
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}, nil
}

// originRewriter sends shop traffic to a fixed origin.
type originRewriter struct {
	origin *url.URL
	next   http.RoundTripper
}

func (t *originRewriter) RoundTrip(req *http.Request) (*http.Response, error) {
	if !isShopURL(req.URL) {
		return t.next.RoundTrip(req)
	}
	shop := req.URL.Host
	// RoundTrippers must not modify the caller's request.
	out := req.Clone(req.Context())
	out.URL.Scheme = t.origin.Scheme
	out.URL.Host = t.origin.Host
	out.Host = shop
	return t.next.RoundTrip(out)
}

// isShopURL is true only for https URLs whose host is exactly a valid shop
// domain with no explicit port.
func isShopURL(u *url.URL) bool {
	if u == nil || u.Scheme != "https" || u.User != nil {
		return false
	}
	if _, _, err := net.SplitHostPort(u.Host); err == nil {
		return false
	}
	return ValidShopDomain(u.Host)
}
