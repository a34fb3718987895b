package shopify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"

	goshopify "github.com/bold-commerce/go-shopify/v4"

	"github.com/cvo-app/cvo/internal/cvo"
)

// OAuth grant and token types Shopify's token endpoint understands.
const (
	grantTokenExchange       = "urn:ietf:params:oauth:grant-type:token-exchange"
	grantRefreshToken        = "refresh_token"
	subjectTypeIDToken       = "urn:ietf:params:oauth:token-type:id_token"
	requestedOfflineToken    = "urn:shopify:params:oauth:token-type:offline-access-token"
	maxTokenResponseBytes    = 64 << 10
	maxOAuthErrorDescription = 200
)

// Errors from Shopify's token endpoint, matched with errors.Is on the
// *OAuthError a call returns.
var (
	// ErrInvalidGrant: the refresh token or authorization code is expired,
	// revoked or already used (or the app was uninstalled). Retrying cannot
	// help; the shop must go through installation / token exchange again.
	ErrInvalidGrant = errors.New("shopify rejected the grant")
	// ErrInvalidSubjectToken: token exchange refused the session token
	// (expired or otherwise invalid). The browser should fetch a fresh
	// session token and retry.
	ErrInvalidSubjectToken = errors.New("shopify rejected the session token")
	// ErrInvalidClient: the client id or secret is wrong for this shop.
	ErrInvalidClient = errors.New("shopify rejected the client credentials")
	// ErrTokenEndpointUnavailable: a 429 or 5xx; the same request may succeed
	// later (a refresh token stays usable until its replacement is used).
	ErrTokenEndpointUnavailable = errors.New("shopify token endpoint unavailable")
)

// OAuthError describes a failed call to /admin/oauth/access_token. It
// carries Shopify's error code and a description scrubbed of every secret
// the request contained, never the request itself.
type OAuthError struct {
	Op          string // "token exchange", "refresh", "code exchange"
	Shop        string
	Status      int
	Code        string // e.g. "invalid_grant"; empty when the body was not OAuth JSON
	Description string
}

func (e *OAuthError) Error() string {
	msg := fmt.Sprintf("shopify %s for %s: HTTP %d", e.Op, e.Shop, e.Status)
	if e.Code != "" {
		msg += " " + e.Code
	}
	if e.Description != "" {
		msg += ": " + e.Description
	}
	return msg
}

// Is maps Shopify's error codes and statuses onto the sentinels above.
func (e *OAuthError) Is(target error) bool {
	switch target {
	case ErrInvalidGrant:
		return e.Code == "invalid_grant"
	case ErrInvalidSubjectToken:
		return e.Code == "invalid_subject_token"
	case ErrInvalidClient:
		return e.Code == "invalid_client" || e.Code == "unauthorized_client"
	case ErrTokenEndpointUnavailable:
		return e.Status == http.StatusTooManyRequests || e.Status >= 500
	}
	return false
}

// OAuth obtains and refreshes offline access tokens, returned as cvo.Token.
// With expiring offline tokens ExpiresAt is about an hour ahead and
// RefreshToken/RefreshExpiresAt are set; zero times mean Shopify gave no
// expiry. It is safe for concurrent use. Callers must store each new token
// pair atomically: a refresh rotates the refresh token, and the previous one
// is retired as soon as the new one is used.
type OAuth struct {
	clientID     string
	clientSecret string
	httpClient   *http.Client
	now          func() time.Time
}

// NewOAuth builds the token client. httpClient should come from NewHTTPClient
// so SHOPIFY_ADMIN_ORIGIN applies.
func NewOAuth(clientID, clientSecret string, httpClient *http.Client) *OAuth {
	if httpClient == nil {
		httpClient = http.DefaultClient
	}
	return &OAuth{clientID: clientID, clientSecret: clientSecret, httpClient: httpClient, now: time.Now}
}

// AuthorizeURL builds the authorization-code grant's redirect target,
// https://{shop}/admin/oauth/authorize?client_id&scope&redirect_uri&state,
// for offline access. Only used by the standalone fallback install path;
// embedded installs use managed installation plus token exchange.
func AuthorizeURL(shop, clientID string, scopes []string, redirectURI, state string) (string, error) {
	shop, err := NormalizeShop(shop)
	if err != nil {
		return "", err
	}
	if clientID == "" || redirectURI == "" || state == "" {
		return "", errors.New("authorize url: client id, redirect uri and state are required")
	}
	app := goshopify.App{ApiKey: clientID, RedirectUrl: redirectURI, Scope: strings.Join(scopes, ",")}
	u, err := app.AuthorizeUrl(shop, state)
	if err != nil {
		return "", fmt.Errorf("authorize url for %s: %w", shop, err)
	}
	return u, nil
}

// ExchangeSessionToken trades a session token for an expiring offline access
// token (token exchange, expiring=1). The session token is verified first
// and must belong to shop, so a token for one shop is never sent to another.
func (o *OAuth) ExchangeSessionToken(ctx context.Context, shop, sessionToken string) (cvo.Token, error) {
	shop, err := NormalizeShop(shop)
	if err != nil {
		return cvo.Token{}, fmt.Errorf("token exchange: %w", err)
	}
	sess, err := VerifySessionToken(sessionToken, o.clientID, o.clientSecret, o.now())
	if err != nil {
		return cvo.Token{}, fmt.Errorf("token exchange for %s: %w", shop, err)
	}
	if sess.Shop != shop {
		return cvo.Token{}, fmt.Errorf("token exchange for %s: %w", shop, ErrShopMismatch)
	}
	return o.post(ctx, "token exchange", shop, map[string]string{
		"client_id":            o.clientID,
		"client_secret":        o.clientSecret,
		"grant_type":           grantTokenExchange,
		"subject_token":        sessionToken,
		"subject_token_type":   subjectTypeIDToken,
		"requested_token_type": requestedOfflineToken,
		"expiring":             "1",
	}, sessionToken)
}

// Refresh exchanges a refresh token for a new access token and a new refresh
// token. errors.Is(err, ErrInvalidGrant) means the refresh token is dead and
// the shop has to be re-authorized.
func (o *OAuth) Refresh(ctx context.Context, shop, refreshToken string) (cvo.Token, error) {
	shop, err := NormalizeShop(shop)
	if err != nil {
		return cvo.Token{}, fmt.Errorf("refresh: %w", err)
	}
	if refreshToken == "" {
		return cvo.Token{}, fmt.Errorf("refresh for %s: empty refresh token", shop)
	}
	return o.post(ctx, "refresh", shop, map[string]string{
		"client_id":     o.clientID,
		"client_secret": o.clientSecret,
		"grant_type":    grantRefreshToken,
		"refresh_token": refreshToken,
	}, refreshToken)
}

// ExchangeCode completes the authorization-code grant, asking for an
// expiring offline token. The caller must have verified the callback's query
// HMAC and state first.
//
// go-shopify's App.GetAccessToken is not used: it cannot send expiring=1 and
// returns only the access token string, dropping scope, expiry and the
// refresh token that expiring offline tokens depend on.
func (o *OAuth) ExchangeCode(ctx context.Context, shop, code string) (cvo.Token, error) {
	shop, err := NormalizeShop(shop)
	if err != nil {
		return cvo.Token{}, fmt.Errorf("code exchange: %w", err)
	}
	if code == "" {
		return cvo.Token{}, fmt.Errorf("code exchange for %s: empty code", shop)
	}
	return o.post(ctx, "code exchange", shop, map[string]string{
		"client_id":     o.clientID,
		"client_secret": o.clientSecret,
		"code":          code,
		"expiring":      "1",
	}, code)
}

type tokenResponse struct {
	AccessToken           string `json:"access_token"`
	Scope                 string `json:"scope"`
	ExpiresIn             int64  `json:"expires_in"`
	RefreshToken          string `json:"refresh_token"`
	RefreshTokenExpiresIn int64  `json:"refresh_token_expires_in"`
}

type oauthErrorBody struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

// oauthCodePattern keeps only well-formed OAuth error codes from the body.
var oauthCodePattern = regexp.MustCompile(`^[a-z_]{1,64}$`)

// post sends the grant as JSON, as Shopify's own libraries do. sensitive is
// the grant's bearer value, scrubbed from anything echoed into errors along
// with the client secret.
func (o *OAuth) post(ctx context.Context, op, shop string, body map[string]string, sensitive string) (cvo.Token, error) {
	if o.clientID == "" || o.clientSecret == "" {
		return cvo.Token{}, fmt.Errorf("shopify %s for %s: client id and secret are required", op, shop)
	}
	payload, err := json.Marshal(body)
	if err != nil {
		return cvo.Token{}, fmt.Errorf("shopify %s for %s: encode request: %w", op, shop, err)
	}
	endpoint := "https://" + shop + "/admin/oauth/access_token"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(payload))
	if err != nil {
		return cvo.Token{}, fmt.Errorf("shopify %s for %s: build request: %w", op, shop, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")

	resp, err := o.httpClient.Do(req)
	if err != nil {
		// url.Error includes the URL only (no body), which holds no secret.
		return cvo.Token{}, fmt.Errorf("shopify %s for %s: %w", op, shop, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenResponseBytes))
	if err != nil {
		return cvo.Token{}, fmt.Errorf("shopify %s for %s: read response: %w", op, shop, err)
	}

	if resp.StatusCode != http.StatusOK {
		oe := &OAuthError{Op: op, Shop: shop, Status: resp.StatusCode}
		var eb oauthErrorBody
		if json.Unmarshal(raw, &eb) == nil && oauthCodePattern.MatchString(eb.Error) {
			oe.Code = eb.Error
			oe.Description = scrub(eb.ErrorDescription, o.clientSecret, sensitive)
		}
		return cvo.Token{}, oe
	}

	var tr tokenResponse
	if err := json.Unmarshal(raw, &tr); err != nil {
		return cvo.Token{}, fmt.Errorf("shopify %s for %s: decode response: %w", op, shop, err)
	}
	if tr.AccessToken == "" {
		return cvo.Token{}, fmt.Errorf("shopify %s for %s: response has no access token", op, shop)
	}
	now := o.now()
	t := cvo.Token{AccessToken: tr.AccessToken, Scopes: splitScopes(tr.Scope), RefreshToken: tr.RefreshToken}
	if tr.ExpiresIn > 0 {
		t.ExpiresAt = now.Add(time.Duration(tr.ExpiresIn) * time.Second)
	}
	if tr.RefreshTokenExpiresIn > 0 {
		t.RefreshExpiresAt = now.Add(time.Duration(tr.RefreshTokenExpiresIn) * time.Second)
	}
	return t, nil
}

// splitScopes turns Shopify's comma-separated scope list into its entries.
func splitScopes(scope string) []string {
	var out []string
	for _, s := range strings.Split(scope, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// scrub removes secrets from text Shopify sent back and bounds its length.
func scrub(s string, secrets ...string) string {
	for _, secret := range secrets {
		if secret != "" {
			s = strings.ReplaceAll(s, secret, "[redacted]")
		}
	}
	if len(s) > maxOAuthErrorDescription {
		s = s[:maxOAuthErrorDescription] + "…"
	}
	return strings.ToValidUTF8(s, "")
}
