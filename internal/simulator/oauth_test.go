package simulator

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	goshopify "github.com/bold-commerce/go-shopify/v4"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func authorizePath(q url.Values) string { return "/admin/oauth/authorize?" + q.Encode() }

func TestAuthorizeRedirectsWithVerifiableHMAC(t *testing.T) {
	h := newHarness(t)
	q := url.Values{
		"client_id": {testClientID}, "scope": {"read_orders,read_customers"},
		"redirect_uri": {h.app.URL + "/auth/callback"}, "state": {"nonce-123"},
	}
	resp := h.do(http.MethodGet, testShop, authorizePath(q), nil, nil)
	require.Equal(t, http.StatusFound, resp.StatusCode)
	loc := resp.Header.Get("Location")
	require.True(t, strings.HasPrefix(loc, h.app.URL+"/auth/callback?"), loc)

	got := queryValues(t, loc)
	for _, k := range []string{"code", "hmac", "host", "shop", "state", "timestamp"} {
		assert.NotEmpty(t, got.Get(k), k)
	}
	assert.Equal(t, testShop, got.Get("shop"))
	assert.Equal(t, "nonce-123", got.Get("state"))
	host, err := base64.StdEncoding.DecodeString(got.Get("host"))
	require.NoError(t, err)
	assert.Equal(t, "admin.shopify.com/store/demo", string(host))
	assert.Equal(t, strconv.FormatInt(h.clock.Now().Unix(), 10), got.Get("timestamp"))

	// The pinned client library must accept the HMAC, and reject it once
	// any parameter changes.
	app := goshopify.App{ApiKey: testClientID, ApiSecret: testSecret}
	u, _ := url.Parse(loc)
	ok, err := app.VerifyAuthorizationURL(u)
	require.NoError(t, err)
	assert.True(t, ok)
	tampered := got
	tampered.Set("shop", "evil.myshopify.com")
	u.RawQuery = tampered.Encode()
	ok, _ = app.VerifyAuthorizationURL(u)
	assert.False(t, ok, "a changed parameter must break the HMAC")

	// The code buys an access token once.
	resp2, body := h.postToken(testShop, map[string]any{"client_id": testClientID, "client_secret": testSecret, "code": got.Get("code")})
	require.Equal(t, http.StatusOK, resp2.StatusCode, body)
	assert.Regexp(t, `^shpat_[0-9a-f]{32}$`, body["access_token"])
	assert.Equal(t, "read_orders,read_customers", body["scope"])
	assert.NotContains(t, body, "expires_in", "a non-expiring offline token has no expiry")
	assert.True(t, h.sim.Installed(testShop))

	resp3, body := h.postToken(testShop, map[string]any{"client_id": testClientID, "client_secret": testSecret, "code": got.Get("code")})
	assert.Equal(t, http.StatusBadRequest, resp3.StatusCode)
	assert.Equal(t, "invalid_request", body["error"])
	assert.Equal(t, "The authorization code was not found or was already used", body["error_description"])
}

func TestAuthorizeRejectsBadRequests(t *testing.T) {
	h := newHarness(t)
	good := url.Values{"client_id": {testClientID}, "scope": {"read_orders"}, "redirect_uri": {h.app.URL + "/auth/callback"}, "state": {"s"}}
	tests := []struct {
		name   string
		change func(url.Values)
		host   string
		status int
	}{
		{"unknown client id", func(q url.Values) { q.Set("client_id", "other") }, testShop, http.StatusBadRequest},
		{"redirect to another host", func(q url.Values) { q.Set("redirect_uri", "https://evil.example/auth/callback") }, testShop, http.StatusBadRequest},
		{"redirect with another scheme", func(q url.Values) {
			q.Set("redirect_uri", strings.Replace(h.app.URL, "http://", "https://", 1)+"/auth/callback")
		}, testShop, http.StatusBadRequest},
		{"redirect not a URL", func(q url.Values) { q.Set("redirect_uri", "::") }, testShop, http.StatusBadRequest},
		{"unknown shop", func(url.Values) {}, "nope.myshopify.com", http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := url.Values{}
			for k, v := range good {
				q[k] = append([]string(nil), v...)
			}
			tt.change(q)
			resp := h.do(http.MethodGet, tt.host, authorizePath(q), nil, nil)
			assert.Equal(t, tt.status, resp.StatusCode)
			assert.Empty(t, resp.Header.Get("Location"))
		})
	}
}

func TestAuthorizationCodeExpiresAndNeedsTheSecret(t *testing.T) {
	h := newHarness(t)
	code := func() string {
		q := url.Values{"client_id": {testClientID}, "redirect_uri": {h.app.URL + "/cb"}, "state": {"s"}}
		resp := h.do(http.MethodGet, testShop, authorizePath(q), nil, nil)
		require.Equal(t, http.StatusFound, resp.StatusCode)
		return queryValues(t, resp.Header.Get("Location")).Get("code")
	}
	c := code()
	resp, body := h.postToken(testShop, map[string]any{"client_id": testClientID, "client_secret": "wrong", "code": c})
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Equal(t, "invalid_client", body["error"])

	h.clock.Advance(authCodeTTL + time.Second)
	resp, body = h.postToken(testShop, map[string]any{"client_id": testClientID, "client_secret": testSecret, "code": c})
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Equal(t, "invalid_request", body["error"])

	// Form bodies work as well as JSON, and expiring=1 asks for a refresh token.
	c = code()
	form := url.Values{"client_id": {testClientID}, "client_secret": {testSecret}, "code": {c}, "expiring": {"1"}}
	resp2 := h.do(http.MethodPost, testShop, "/admin/oauth/access_token", strings.NewReader(form.Encode()),
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	body = decodeBody(t, resp2)
	require.Equal(t, http.StatusOK, resp2.StatusCode, body)
	assert.EqualValues(t, 3600, body["expires_in"])
	assert.NotEmpty(t, body["refresh_token"])
}

func TestOnlineAccessThroughGrantOptions(t *testing.T) {
	h := newHarness(t)
	q := url.Values{"client_id": {testClientID}, "redirect_uri": {h.app.URL + "/cb"}, "state": {"s"}, "grant_options[]": {"per-user"}}
	resp := h.do(http.MethodGet, testShop, authorizePath(q), nil, nil)
	c := queryValues(t, resp.Header.Get("Location")).Get("code")
	resp2, body := h.postToken(testShop, map[string]any{"client_id": testClientID, "client_secret": testSecret, "code": c})
	require.Equal(t, http.StatusOK, resp2.StatusCode)
	assert.EqualValues(t, 86399, body["expires_in"])
	assert.NotNil(t, body["associated_user"])
	assert.Regexp(t, `^shpua_`, body["access_token"])
}

// signWith mints a session-token-like JWT with chosen claims.
func signWith(t *testing.T, method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	tok, err := jwt.NewWithClaims(method, claims).SignedString(key)
	require.NoError(t, err)
	return tok
}

func TestTokenExchange(t *testing.T) {
	h := newHarness(t)
	now := h.clock.Now()
	claims := func(change func(jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{
			"iss": "https://" + testShop + "/admin", "dest": "https://" + testShop, "aud": testClientID,
			"sub": "42", "exp": now.Add(time.Minute).Unix(), "nbf": now.Unix(), "iat": now.Unix(), "jti": "j", "sid": "s",
		}
		if change != nil {
			change(c)
		}
		return c
	}
	valid := signWith(t, jwt.SigningMethodHS256, []byte(testSecret), claims(nil))
	tests := []struct {
		name      string
		token     string
		tokenType string
		expiring  bool
		status    int
		errCode   string
		check     func(t *testing.T, body map[string]any)
	}{
		{"minted by the simulator, expiring offline", "", tokenTypeOfflineAccess, true, http.StatusOK, "", func(t *testing.T, b map[string]any) {
			assert.EqualValues(t, 3600, b["expires_in"])
			assert.EqualValues(t, 7776000, b["refresh_token_expires_in"])
			assert.Regexp(t, `^shprt_`, b["refresh_token"])
			assert.Equal(t, strings.Join(DefaultScopes, ","), b["scope"])
		}},
		{"non-expiring offline", valid, tokenTypeOfflineAccess, false, http.StatusOK, "", func(t *testing.T, b map[string]any) {
			assert.NotContains(t, b, "expires_in")
			assert.NotContains(t, b, "refresh_token")
		}},
		{"online", valid, tokenTypeOnlineAccess, false, http.StatusOK, "", func(t *testing.T, b map[string]any) {
			assert.EqualValues(t, 86399, b["expires_in"])
			assert.EqualValues(t, 42, path(b, "associated_user", "id"))
			assert.NotContains(t, b, "refresh_token")
		}},
		{"expired", signWith(t, jwt.SigningMethodHS256, []byte(testSecret), claims(func(c jwt.MapClaims) {
			c["exp"] = now.Add(-time.Second).Unix()
		})), tokenTypeOfflineAccess, true, http.StatusBadRequest, "invalid_subject_token", nil},
		{"not yet valid", signWith(t, jwt.SigningMethodHS256, []byte(testSecret), claims(func(c jwt.MapClaims) {
			c["nbf"] = now.Add(time.Minute).Unix()
		})), tokenTypeOfflineAccess, true, http.StatusBadRequest, "invalid_subject_token", nil},
		{"wrong audience", signWith(t, jwt.SigningMethodHS256, []byte(testSecret), claims(func(c jwt.MapClaims) {
			c["aud"] = "another-app"
		})), tokenTypeOfflineAccess, true, http.StatusBadRequest, "invalid_subject_token", nil},
		{"wrong secret", signWith(t, jwt.SigningMethodHS256, []byte("not-the-secret"), claims(nil)),
			tokenTypeOfflineAccess, true, http.StatusBadRequest, "invalid_subject_token", nil},
		{"another shop", signWith(t, jwt.SigningMethodHS256, []byte(testSecret), claims(func(c jwt.MapClaims) {
			c["dest"] = "https://other.myshopify.com"
			c["iss"] = "https://other.myshopify.com/admin"
		})), tokenTypeOfflineAccess, true, http.StatusBadRequest, "invalid_subject_token", nil},
		{"iss not the shop admin", signWith(t, jwt.SigningMethodHS256, []byte(testSecret), claims(func(c jwt.MapClaims) {
			c["iss"] = "https://evil.example/admin"
		})), tokenTypeOfflineAccess, true, http.StatusBadRequest, "invalid_subject_token", nil},
		{"HS512 instead of HS256", signWith(t, jwt.SigningMethodHS512, []byte(testSecret), claims(nil)),
			tokenTypeOfflineAccess, true, http.StatusBadRequest, "invalid_subject_token", nil},
		{"not a JWT", "garbage", tokenTypeOfflineAccess, true, http.StatusBadRequest, "invalid_subject_token", nil},
		{"unknown token type", valid, "urn:shopify:params:oauth:token-type:nonsense", true, http.StatusBadRequest, "invalid_request", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := tt.token
			if tok == "" {
				var err error
				tok, err = h.sim.SessionToken(testShop, 1)
				require.NoError(t, err)
			}
			resp, body := h.exchange(testShop, tok, tt.tokenType, tt.expiring)
			require.Equal(t, tt.status, resp.StatusCode, body)
			if tt.errCode != "" {
				assert.Equal(t, tt.errCode, body["error"])
				assert.NotEmpty(t, body["error_description"])
				return
			}
			tt.check(t, body)
		})
	}

	t.Run("missing subject token", func(t *testing.T) {
		resp, body := h.postToken(testShop, map[string]any{"client_id": testClientID, "client_secret": testSecret, "grant_type": grantTokenExchange})
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
		assert.Equal(t, "missing_subject_token", body["error"])
	})
	t.Run("bad client secret", func(t *testing.T) {
		resp, body := h.postToken(testShop, map[string]any{"client_id": testClientID, "client_secret": "x", "grant_type": grantTokenExchange,
			"subject_token": valid, "subject_token_type": tokenTypeIDToken})
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		assert.Equal(t, "invalid_client", body["error"])
	})
	t.Run("session token a minute old", func(t *testing.T) {
		tok, err := h.sim.SessionToken(testShop, 1)
		require.NoError(t, err)
		h.clock.Advance(sessionTokenTTL)
		resp, body := h.exchange(testShop, tok, tokenTypeOfflineAccess, true)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
		assert.Equal(t, "invalid_subject_token", body["error"])
	})
}

func TestExpiringAccessTokenStopsAfterAnHour(t *testing.T) {
	h := newHarness(t)
	tok := h.token(testShop)
	status, _ := h.graphql(testShop, tok, "{ shop { name } }", nil)
	require.Equal(t, http.StatusOK, status)

	h.clock.Advance(offlineTokenTTL)
	resp := h.do(http.MethodPost, testShop, "/admin/api/2026-10/graphql.json", strings.NewReader(`{"query":"{ shop { name } }"}`),
		map[string]string{"Content-Type": "application/json", "X-Shopify-Access-Token": tok})
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	raw := decodeBody(t, resp)
	assert.Equal(t, "[API] Invalid API key or access token (unrecognized login or wrong password)", raw["errors"])
}

func TestNonExpiringTokensStopIn2027(t *testing.T) {
	h := newHarness(t)
	st, err := h.sim.SessionToken(testShop, 1)
	require.NoError(t, err)
	_, body := h.exchange(testShop, st, tokenTypeOfflineAccess, false)
	tok := body["access_token"].(string)
	status, _ := h.graphql(testShop, tok, "{ shop { name } }", nil)
	require.Equal(t, http.StatusOK, status)
	h.clock.Advance(nonExpiringCutoff.Sub(h.clock.Now()))
	status, _ = h.graphql(testShop, tok, "{ shop { name } }", nil)
	assert.Equal(t, http.StatusUnauthorized, status)
}

func TestRefreshRotation(t *testing.T) {
	h := newHarness(t)
	st, err := h.sim.SessionToken(testShop, 1)
	require.NoError(t, err)
	_, first := h.exchange(testShop, st, tokenTypeOfflineAccess, true)
	r0 := first["refresh_token"].(string)

	refresh := func(rt string) (int, map[string]any) {
		resp, body := h.postToken(testShop, map[string]any{
			"client_id": testClientID, "client_secret": testSecret, "grant_type": "refresh_token", "refresh_token": rt,
		})
		return resp.StatusCode, body
	}

	h.clock.Advance(50 * time.Minute)
	status, second := refresh(r0)
	require.Equal(t, http.StatusOK, status, second)
	r1 := second["refresh_token"].(string)
	a1 := second["access_token"].(string)
	assert.NotEqual(t, r0, r1, "every refresh returns a new refresh token")
	assert.NotEqual(t, first["access_token"], a1)
	assert.EqualValues(t, 3600, second["expires_in"])
	assert.EqualValues(t, 7776000, second["refresh_token_expires_in"])
	gqlStatus, _ := h.graphql(testShop, a1, "{ shop { name } }", nil)
	assert.Equal(t, http.StatusOK, gqlStatus)

	// The response was lost: the app retries the old refresh token, which
	// still works until its replacement is used.
	status, lost := refresh(r0)
	require.Equal(t, http.StatusOK, status, lost)
	r1b := lost["refresh_token"].(string)

	// Using a replacement retires the old token and its other replacement.
	status, third := refresh(r1)
	require.Equal(t, http.StatusOK, status, third)
	for name, spent := range map[string]string{"used parent": r0, "lost sibling": r1b} {
		status, body := refresh(spent)
		assert.Equal(t, http.StatusBadRequest, status, name)
		assert.Equal(t, "invalid_grant", body["error"], name)
	}
	status, body := refresh("shprt_unknown")
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, "invalid_grant", body["error"])
}

func TestRefreshTokenRecoveryWindowAndLifetime(t *testing.T) {
	h := newHarness(t)
	st, err := h.sim.SessionToken(testShop, 1)
	require.NoError(t, err)
	_, first := h.exchange(testShop, st, tokenTypeOfflineAccess, true)
	r0 := first["refresh_token"].(string)
	refresh := func(rt string) (int, map[string]any) {
		resp, body := h.postToken(testShop, map[string]any{
			"client_id": testClientID, "client_secret": testSecret, "grant_type": "refresh_token", "refresh_token": rt,
		})
		return resp.StatusCode, body
	}
	status, second := refresh(r0)
	require.Equal(t, http.StatusOK, status)

	// An unused replacement does not keep the old token alive forever.
	h.clock.Advance(refreshRecoveryWindow)
	status, body := refresh(r0)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, "invalid_grant", body["error"])

	// A refresh token unused for 90 days has expired.
	h.clock.Advance(refreshTokenTTL)
	status, body = refresh(second["refresh_token"].(string))
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, "invalid_grant", body["error"])
}

func TestSessionTokenClaimsAndEndpoint(t *testing.T) {
	h := newHarness(t)
	resp := h.do(http.MethodGet, "localhost", "/simulator/session-token?shop="+testShop+"&user_id=7", nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, h.app.URL, resp.Header.Get("Access-Control-Allow-Origin"))
	body := decodeBody(t, resp)
	var claims jwt.MapClaims
	_, err := jwt.ParseWithClaims(body["token"].(string), &claims, func(tk *jwt.Token) (any, error) {
		assert.Equal(t, "HS256", tk.Method.Alg())
		return []byte(testSecret), nil
	}, jwt.WithTimeFunc(h.clock.Now))
	require.NoError(t, err)
	assert.Equal(t, "https://"+testShop+"/admin", claims["iss"])
	assert.Equal(t, "https://"+testShop, claims["dest"])
	assert.Equal(t, testClientID, claims["aud"].([]any)[0])
	assert.Equal(t, "7", claims["sub"])
	assert.EqualValues(t, h.clock.Now().Add(time.Minute).Unix(), claims["exp"])
	assert.EqualValues(t, h.clock.Now().Unix(), claims["nbf"])
	assert.EqualValues(t, h.clock.Now().Unix(), claims["iat"])
	assert.NotEmpty(t, claims["jti"])
	assert.NotEmpty(t, claims["sid"])

	resp = h.do(http.MethodGet, "localhost", "/simulator/session-token?shop=unknown.myshopify.com", nil, nil)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}
