package shopify

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeTokenEndpoint plays Shopify's /admin/oauth/access_token with rotating
// refresh tokens: each refresh retires the presented token once its
// replacement has been used, as Shopify documents.
type fakeTokenEndpoint struct {
	mu       sync.Mutex
	requests []map[string]string
	hosts    []string
	issued   int
	live     map[string]bool // refresh tokens that may still be used
	parentOf map[string]string
}

func newFakeTokenEndpoint() *fakeTokenEndpoint {
	return &fakeTokenEndpoint{live: map[string]bool{}, parentOf: map[string]string{}}
}

func (f *fakeTokenEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var p map[string]string
	if r.Header.Get("Content-Type") != "application/json" || json.NewDecoder(r.Body).Decode(&p) != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	f.requests = append(f.requests, p)
	f.hosts = append(f.hosts, r.Host)
	w.Header().Set("Content-Type", "application/json")
	if p["client_secret"] != testClientSecret {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"error":"invalid_client","error_description":"bad client"}`)
		return
	}
	switch p["grant_type"] {
	case grantRefreshToken:
		rt := p["refresh_token"]
		if !f.live[rt] {
			w.WriteHeader(http.StatusBadRequest)
			// Shopify may echo what it got; the client must scrub it.
			_, _ = fmt.Fprintf(w, `{"error":"invalid_grant","error_description":"refresh token %s is expired or revoked"}`, rt)
			return
		}
		// Using a token retires its parent.
		if parent, ok := f.parentOf[rt]; ok {
			delete(f.live, parent)
		}
	case grantTokenExchange:
		if p["subject_token"] == "" {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"error":"invalid_subject_token","error_description":"Subject token is invalid"}`)
			return
		}
	}
	f.issued++
	next := fmt.Sprintf("shprt_%d", f.issued)
	f.live[next] = true
	if p["grant_type"] == grantRefreshToken {
		f.parentOf[next] = p["refresh_token"]
	}
	_, _ = fmt.Fprintf(w, `{"access_token":"shpat_%d","scope":"read_orders,write_customers, read_all_orders","expires_in":3600,"refresh_token":%q,"refresh_token_expires_in":7776000}`,
		f.issued, next)
}

func newTestOAuth(t *testing.T, handler http.Handler) *OAuth {
	t.Helper()
	srv := httptestServer(t, handler)
	hc, err := NewHTTPClient(srv, 5*time.Second)
	require.NoError(t, err)
	o := NewOAuth(testClientID, testClientSecret, hc)
	o.now = func() time.Time { return testNow }
	return o
}

func TestExchangeSessionToken(t *testing.T) {
	fake := newFakeTokenEndpoint()
	o := newTestOAuth(t, fake)
	st := signHS256(t, validClaims(), testClientSecret)

	tok, err := o.ExchangeSessionToken(context.Background(), testShop, st)
	require.NoError(t, err)
	assert.Equal(t, "shpat_1", tok.AccessToken)
	assert.Equal(t, "shprt_1", tok.RefreshToken)
	assert.Equal(t, []string{"read_orders", "write_customers", "read_all_orders"}, tok.Scopes)
	assert.Equal(t, testNow.Add(time.Hour), tok.ExpiresAt)
	assert.Equal(t, testNow.Add(90*24*time.Hour), tok.RefreshExpiresAt)

	require.Len(t, fake.requests, 1)
	assert.Equal(t, testShop, fake.hosts[0])
	assert.Equal(t, map[string]string{
		"client_id":            testClientID,
		"client_secret":        testClientSecret,
		"grant_type":           "urn:ietf:params:oauth:grant-type:token-exchange",
		"subject_token":        st,
		"subject_token_type":   "urn:ietf:params:oauth:token-type:id_token",
		"requested_token_type": "urn:shopify:params:oauth:token-type:offline-access-token",
		"expiring":             "1",
	}, fake.requests[0])
}

func TestExchangeSessionTokenRefusesBeforeSending(t *testing.T) {
	fake := newFakeTokenEndpoint()
	o := newTestOAuth(t, fake)
	st := signHS256(t, validClaims(), testClientSecret)

	_, err := o.ExchangeSessionToken(context.Background(), "other.myshopify.com", st)
	assert.ErrorIs(t, err, ErrShopMismatch, "a token for one shop is never sent to another")
	_, err = o.ExchangeSessionToken(context.Background(), "evil.com/x.myshopify.com", st)
	assert.ErrorIs(t, err, ErrInvalidShop)
	_, err = o.ExchangeSessionToken(context.Background(), testShop, signHS256(t, validClaims(), "forged"))
	assert.ErrorIs(t, err, ErrBadSignature)
	assert.Empty(t, fake.requests, "nothing, and no secret, left the process")
}

func TestRefreshRotation(t *testing.T) {
	fake := newFakeTokenEndpoint()
	o := newTestOAuth(t, fake)
	ctx := context.Background()

	first, err := o.ExchangeCode(ctx, testShop, "code-1")
	require.NoError(t, err)
	assert.Equal(t, map[string]string{
		"client_id": testClientID, "client_secret": testClientSecret, "code": "code-1", "expiring": "1",
	}, fake.requests[0])

	second, err := o.Refresh(ctx, testShop, first.RefreshToken)
	require.NoError(t, err)
	assert.NotEqual(t, first.AccessToken, second.AccessToken)
	assert.NotEqual(t, first.RefreshToken, second.RefreshToken, "each refresh returns a new refresh token")
	assert.Equal(t, testNow.Add(time.Hour), second.ExpiresAt)
	assert.Equal(t, map[string]string{
		"client_id": testClientID, "client_secret": testClientSecret,
		"grant_type": "refresh_token", "refresh_token": first.RefreshToken,
	}, fake.requests[1])

	// Until the replacement is used the old refresh token still works (a
	// lost response can be recovered)...
	retry, err := o.Refresh(ctx, testShop, first.RefreshToken)
	require.NoError(t, err)
	// ...once a replacement is used, its predecessor is dead.
	_, err = o.Refresh(ctx, testShop, retry.RefreshToken)
	require.NoError(t, err)
	_, err = o.Refresh(ctx, testShop, first.RefreshToken)
	require.ErrorIs(t, err, ErrInvalidGrant)
	assert.NotContains(t, err.Error(), first.RefreshToken, "the echoed refresh token is scrubbed")
	assert.NotContains(t, err.Error(), testClientSecret)
	assert.Contains(t, err.Error(), "[redacted]")

	var oe *OAuthError
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, http.StatusBadRequest, oe.Status)
	assert.Equal(t, "invalid_grant", oe.Code)
	assert.Equal(t, testShop, oe.Shop)
}

func TestOAuthErrors(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		body    string
		want    error
		notWant error
	}{
		{"invalid subject token", 400, `{"error":"invalid_subject_token","error_description":"Subject token is invalid"}`, ErrInvalidSubjectToken, ErrInvalidGrant},
		{"invalid grant", 400, `{"error":"invalid_grant"}`, ErrInvalidGrant, ErrTokenEndpointUnavailable},
		{"invalid client", 401, `{"error":"invalid_client"}`, ErrInvalidClient, ErrInvalidGrant},
		{"server error, html body", 502, `<html>bad gateway</html>`, ErrTokenEndpointUnavailable, ErrInvalidGrant},
		{"rate limited", 429, ``, ErrTokenEndpointUnavailable, ErrInvalidGrant},
		{"odd error code is not trusted", 400, `{"error":"<script>"}`, nil, ErrInvalidGrant},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newTestOAuth(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			}))
			_, err := o.Refresh(context.Background(), testShop, "shprt_x")
			var oe *OAuthError
			require.ErrorAs(t, err, &oe)
			assert.Equal(t, tt.status, oe.Status)
			if tt.want != nil {
				assert.ErrorIs(t, err, tt.want)
			}
			assert.NotErrorIs(t, err, tt.notWant)
			assert.NotContains(t, err.Error(), "shprt_x")
			assert.NotContains(t, err.Error(), "<script>")
		})
	}
}

func TestOAuthRejectsBadResponses(t *testing.T) {
	for name, body := range map[string]string{
		"not json":        `oops`,
		"no access token": `{"scope":"read_orders"}`,
	} {
		t.Run(name, func(t *testing.T) {
			o := newTestOAuth(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.WriteString(w, body)
			}))
			_, err := o.ExchangeCode(context.Background(), testShop, "c")
			require.Error(t, err)
		})
	}
}

func TestOAuthNonExpiringToken(t *testing.T) {
	o := newTestOAuth(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"access_token":"shpat_forever","scope":"read_orders"}`)
	}))
	tok, err := o.ExchangeCode(context.Background(), testShop, "c")
	require.NoError(t, err)
	assert.True(t, tok.ExpiresAt.IsZero())
	assert.True(t, tok.RefreshExpiresAt.IsZero())
	assert.Empty(t, tok.RefreshToken)
}

func TestOAuthValidatesShopFirst(t *testing.T) {
	called := false
	o := newTestOAuth(t, http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true }))
	for _, shop := range []string{"evil.com/x.myshopify.com", "x.myshopify.com.evil.com", "x.myshopify.com:1"} {
		_, err := o.Refresh(context.Background(), shop, "r")
		assert.ErrorIs(t, err, ErrInvalidShop)
		_, err = o.ExchangeCode(context.Background(), shop, "c")
		assert.ErrorIs(t, err, ErrInvalidShop)
	}
	assert.False(t, called)
}

func TestAuthorizeURL(t *testing.T) {
	raw, err := AuthorizeURL(" Example.myshopify.com", testClientID, []string{"read_orders", "write_customers"},
		"https://app.example.com/auth/callback", "nonce-1")
	require.NoError(t, err)
	u, err := url.Parse(raw)
	require.NoError(t, err)
	assert.Equal(t, "https", u.Scheme)
	assert.Equal(t, testShop, u.Host)
	assert.Equal(t, "/admin/oauth/authorize", u.Path)
	assert.Equal(t, url.Values{
		"client_id":    {testClientID},
		"scope":        {"read_orders,write_customers"},
		"redirect_uri": {"https://app.example.com/auth/callback"},
		"state":        {"nonce-1"},
	}, u.Query())

	_, err = AuthorizeURL("evil.com/x.myshopify.com", testClientID, nil, "https://a/cb", "n")
	assert.ErrorIs(t, err, ErrInvalidShop)
	_, err = AuthorizeURL(testShop, testClientID, nil, "https://a/cb", "")
	assert.Error(t, err)
}
