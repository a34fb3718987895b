package web_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/install"
	"github.com/cvo-app/cvo/internal/jobs"
	"github.com/cvo-app/cvo/internal/jobs/jobstest"
	"github.com/cvo-app/cvo/internal/postgres"
	"github.com/cvo-app/cvo/internal/postgres/pgtest"
	"github.com/cvo-app/cvo/internal/secretbox"
	"github.com/cvo-app/cvo/internal/shopify"
	"github.com/cvo-app/cvo/internal/simulator"
	"github.com/cvo-app/cvo/internal/web"
	"github.com/cvo-app/cvo/webhooks"
)

const (
	clientID     = "test-client-id"
	clientSecret = "test-client-secret"
	testKey      = "v1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
)

// stack is the app wired as in production, against the simulator and a
// real Postgres and Redis.
type stack struct {
	sim        *simulator.Simulator
	simURL     string
	app        *httptest.Server
	shops      *postgres.ShopStore
	db         *postgres.DB
	installer  *install.Service
	inspector  *asynq.Inspector
	queue      *jobs.Queue
	httpClient *http.Client
	shop       string
	other      string
}

func newStack(t *testing.T) *stack {
	t.Helper()
	s := &stack{
		shop:  fmt.Sprintf("s%d.myshopify.com", time.Now().UnixNano()),
		other: fmt.Sprintf("o%d.myshopify.com", time.Now().UnixNano()),
	}
	var appHandler http.Handler
	s.app = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { appHandler.ServeHTTP(w, r) }))
	t.Cleanup(s.app.Close)

	s.sim = simulator.New(simulator.Config{ClientID: clientID, ClientSecret: clientSecret, AppURL: s.app.URL, APIVersion: "2026-10"})
	t.Cleanup(s.sim.Close)
	require.NoError(t, s.sim.AddShop(s.shop, simulator.ShopOptions{Currency: "GBP", Timezone: "Europe/London"}))
	require.NoError(t, s.sim.AddShop(s.other, simulator.ShopOptions{}))
	simServer := httptest.NewServer(s.sim.Handler())
	t.Cleanup(simServer.Close)
	s.simURL = simServer.URL

	httpClient, err := shopify.NewHTTPClient(simServer.URL, 10*time.Second)
	require.NoError(t, err)
	s.httpClient = httpClient
	keys, err := secretbox.ParseKeyring(testKey)
	require.NoError(t, err)
	s.db = pgtest.New(t)
	s.shops = postgres.NewShopStore(s.db, keys)
	redisOpt := jobstest.RedisOpt(t)
	queue := jobs.NewQueue(redisOpt, jobstest.Namespace(t))
	s.queue = queue
	s.inspector = asynq.NewInspector(redisOpt)
	t.Cleanup(func() { queue.Close(); s.inspector.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	s.installer = install.NewService(shopify.NewOAuth(clientID, clientSecret, httpClient), s.shops, shopify.NewShopDetails(httpClient, "2026-10"), queue, log)
	receiver := webhooks.NewReceiver(clientSecret, postgres.NewDeliveryStore(s.db), s.shops, postgres.NewPrivacyStore(s.db), queue, log)
	appHandler = web.NewServer(web.Config{
		ClientID: clientID, ClientSecret: clientSecret, AppURL: s.app.URL, Scopes: "read_orders,read_customers",
		AdminBaseURL: func(string) string { return simServer.URL },
	}, web.Deps{Installer: s.installer, Webhooks: receiver, OAuthStates: postgres.NewOAuthStateStore(s.db), Log: log})
	return s
}

func noRedirects() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (s *stack) getShop(t *testing.T, token string) (int, map[string]any) {
	req, _ := http.NewRequest(http.MethodGet, s.app.URL+"/api/shop", nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	var body map[string]any
	require.NoError(t, json.NewDecoder(res.Body).Decode(&body))
	return res.StatusCode, body
}

func TestInstallByTokenExchange(t *testing.T) {
	s := newStack(t)
	tok, err := s.sim.SessionToken(s.shop, 42)
	require.NoError(t, err)

	code, body := s.getShop(t, tok)
	require.Equal(t, http.StatusOK, code, body)
	assert.Equal(t, s.shop, body["shop"])
	assert.Equal(t, true, body["installed"])
	assert.Equal(t, "GBP", body["currency"], "shop details read from Shopify at install")
	assert.Equal(t, "Europe/London", body["timezone"])
	exp, err := time.Parse(time.RFC3339, body["token_expires_at"].(string))
	require.NoError(t, err)
	assert.WithinDuration(t, time.Now().Add(time.Hour), exp, time.Minute, "an expiring offline token")
	assert.True(t, s.sim.Installed(s.shop))

	stored, err := s.shops.Get(context.Background(), s.shop)
	require.NoError(t, err)
	assert.NotEmpty(t, stored.RefreshToken, "the refresh token is kept")
	assert.Empty(t, pgtest.FindText(t, s.db, stored.AccessToken), "the access token is never stored in plaintext")
	assert.Empty(t, pgtest.FindText(t, s.db, stored.RefreshToken), "the refresh token is never stored in plaintext")

	_, err = s.inspector.GetTaskInfo(s.queue.Namespace().QueueName(jobs.QueueDefault), "sync:"+s.shop)
	assert.NoError(t, err, "installing starts the first sync")
	_, err = s.inspector.GetTaskInfo(s.queue.Namespace().QueueName(jobs.QueueDefault), "writeback:"+s.shop+":0")
	assert.NoError(t, err, "installing sets up metafield definitions and segments")

	// The next call finds the shop installed and exchanges nothing.
	tok2, _ := s.sim.SessionToken(s.shop, 42)
	code, _ = s.getShop(t, tok2)
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, 1, s.sim.ActiveTokens(s.shop))
}

func TestAccessTokenRefreshesAndRotates(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	tok, _ := s.sim.SessionToken(s.shop, 1)
	_, err := s.installer.InstallWithSessionToken(ctx, s.shop, tok)
	require.NoError(t, err)
	before, err := s.shops.Get(ctx, s.shop)
	require.NoError(t, err)

	// A token with plenty of life left is used as it is.
	got, err := s.installer.AccessToken(ctx, s.shop)
	require.NoError(t, err)
	assert.Equal(t, before.AccessToken, got)

	// Seen from 58 minutes later the token is about to expire: it is
	// refreshed, and the rotated refresh token is stored at once.
	s.installer.SetClock(func() time.Time { return time.Now().Add(58 * time.Minute) })
	got, err = s.installer.AccessToken(ctx, s.shop)
	require.NoError(t, err)
	after, err := s.shops.Get(ctx, s.shop)
	require.NoError(t, err)
	assert.NotEqual(t, before.AccessToken, got)
	assert.Equal(t, got, after.AccessToken)
	assert.NotEqual(t, before.RefreshToken, after.RefreshToken, "Shopify rotates the refresh token")

	// Once the new refresh token has been used, the spent one is refused.
	oauth := shopify.NewOAuth(clientID, clientSecret, s.httpClient)
	_, err = oauth.Refresh(ctx, s.shop, after.RefreshToken)
	require.NoError(t, err)
	_, err = oauth.Refresh(ctx, s.shop, before.RefreshToken)
	assert.ErrorIs(t, err, shopify.ErrInvalidGrant, "a spent refresh token")
}

func TestInstallByAuthorizationCode(t *testing.T) {
	s := newStack(t)
	client := noRedirects()

	// 1. The app sends the merchant to Shopify with a state nonce bound to a cookie.
	res, err := client.Get(s.app.URL + "/auth?shop=" + s.shop)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusFound, res.StatusCode)
	authorize, err := url.Parse(res.Header.Get("Location"))
	require.NoError(t, err)
	assert.Equal(t, "/admin/oauth/authorize", authorize.Path)
	assert.Equal(t, clientID, authorize.Query().Get("client_id"))
	state := authorize.Query().Get("state")
	require.NotEmpty(t, state)
	cookie := stateCookieOf(res)
	require.NotNil(t, cookie)
	assert.True(t, cookie.HttpOnly)

	// 2. Shopify (the simulator, as that shop) sends the merchant back.
	callback := s.authorize(t, authorize)

	// Rejections, before any secret leaves the app.
	tampered := *callback
	q := tampered.Query()
	q.Set("hmac", strings.Repeat("0", 64))
	tampered.RawQuery = q.Encode()
	assert.Equal(t, http.StatusUnauthorized, s.callback(t, &tampered, cookie), "bad HMAC")
	noHMAC := *callback
	q = noHMAC.Query()
	q.Del("hmac")
	noHMAC.RawQuery = q.Encode()
	assert.Equal(t, http.StatusUnauthorized, s.callback(t, &noHMAC, cookie), "missing HMAC")
	assert.Equal(t, http.StatusUnauthorized, s.callback(t, callback, nil), "missing state cookie")
	otherFlow := &http.Cookie{Name: "cvo_oauth_state", Value: shopify.SignState("another-nonce", clientSecret)}
	assert.Equal(t, http.StatusUnauthorized, s.callback(t, callback, otherFlow), "state of another flow")
	forged := &http.Cookie{Name: "cvo_oauth_state", Value: state + ".forged"}
	assert.Equal(t, http.StatusUnauthorized, s.callback(t, callback, forged), "unsigned state")
	assert.False(t, s.sim.Installed(s.shop), "no rejected callback reached Shopify")

	// 3. The genuine callback installs the shop.
	assert.Equal(t, http.StatusFound, s.callback(t, callback, cookie))
	stored, err := s.shops.Get(context.Background(), s.shop)
	require.NoError(t, err)
	assert.True(t, stored.Installed())

	// A replayed callback, cookie and all, fails at the app: the state was
	// spent on the server, so the code is never sent to Shopify again.
	req, _ := http.NewRequest(http.MethodGet, s.app.URL+callback.RequestURI(), nil)
	req.AddCookie(&http.Cookie{Name: cookie.Name, Value: cookie.Value})
	replay, err := noRedirects().Do(req)
	require.NoError(t, err)
	var body map[string]string
	require.NoError(t, json.NewDecoder(replay.Body).Decode(&body))
	replay.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, replay.StatusCode, "replayed callback")
	assert.Contains(t, body["error"], "already used", "refused by the app's state check, not by Shopify")
}

func TestAuthStateIsBoundToItsShop(t *testing.T) {
	s := newStack(t)
	res, err := noRedirects().Get(s.app.URL + "/auth?shop=" + s.other)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusFound, res.StatusCode)
	authorize, err := url.Parse(res.Header.Get("Location"))
	require.NoError(t, err)
	cookie := stateCookieOf(res)
	require.NotNil(t, cookie)
	// The same state, correctly signed by Shopify for another shop.
	q := url.Values{"shop": {s.shop}, "code": {"c"}, "state": {authorize.Query().Get("state")}, "timestamp": {fmt.Sprint(time.Now().Unix())}}
	q.Set("hmac", signQuery(q))
	assert.Equal(t, http.StatusUnauthorized, s.callback(t, &url.URL{Path: "/auth/callback", RawQuery: q.Encode()}, cookie))
	assert.False(t, s.sim.Installed(s.shop))
}

func TestAuthRejectsForeignShopDomains(t *testing.T) {
	s := newStack(t)
	for _, shop := range []string{"evil.com/x.myshopify.com", "x.myshopify.com.evil.com", "https://x.myshopify.com", "", "x.myshopify.com:443", "-x.myshopify.com", "x.myshopify.com/"} {
		t.Run(shop, func(t *testing.T) {
			res, err := noRedirects().Get(s.app.URL + "/auth?shop=" + url.QueryEscape(shop))
			require.NoError(t, err)
			res.Body.Close()
			assert.Equal(t, http.StatusBadRequest, res.StatusCode)
			assert.Empty(t, res.Header.Get("Location"))

			q := url.Values{"shop": {shop}, "code": {"c"}, "state": {"s"}, "timestamp": {fmt.Sprint(time.Now().Unix())}}
			q.Set("hmac", signQuery(q))
			res, err = noRedirects().Get(s.app.URL + "/auth/callback?" + q.Encode())
			require.NoError(t, err)
			res.Body.Close()
			assert.Equal(t, http.StatusBadRequest, res.StatusCode, "a signed callback for a foreign host is still refused")
		})
	}
}

func stateCookieOf(res *http.Response) *http.Cookie {
	for _, c := range res.Cookies() {
		if c.Name == "cvo_oauth_state" {
			return c
		}
	}
	return nil
}

// authorize plays the merchant approving the app at Shopify.
func (s *stack) authorize(t *testing.T, authorize *url.URL) *url.URL {
	req, _ := http.NewRequest(http.MethodGet, s.simURL+authorize.RequestURI(), nil)
	req.Host = s.shop
	res, err := noRedirects().Do(req)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusFound, res.StatusCode)
	cb, err := url.Parse(res.Header.Get("Location"))
	require.NoError(t, err)
	require.Equal(t, "/auth/callback", cb.Path)
	return cb
}

func (s *stack) callback(t *testing.T, cb *url.URL, cookie *http.Cookie) int {
	req, _ := http.NewRequest(http.MethodGet, s.app.URL+cb.RequestURI(), nil)
	if cookie != nil {
		req.AddCookie(&http.Cookie{Name: cookie.Name, Value: cookie.Value})
	}
	res, err := noRedirects().Do(req)
	require.NoError(t, err)
	res.Body.Close()
	return res.StatusCode
}

func TestSessionTokenRejections(t *testing.T) {
	s := newStack(t)
	now := time.Now()
	mint := func(mut func(jwt.MapClaims), method jwt.SigningMethod, key any) string {
		claims := jwt.MapClaims{
			"iss": "https://" + s.shop + "/admin", "dest": "https://" + s.shop, "aud": clientID, "sub": "42",
			"exp": now.Add(time.Minute).Unix(), "nbf": now.Add(-time.Second).Unix(), "iat": now.Unix(), "jti": "j", "sid": "sid",
		}
		mut(claims)
		tok, err := jwt.NewWithClaims(method, claims).SignedString(key)
		require.NoError(t, err)
		return tok
	}
	secret := []byte(clientSecret)
	cases := map[string]string{
		"expired":           mint(func(c jwt.MapClaims) { c["exp"] = now.Add(-time.Minute).Unix() }, jwt.SigningMethodHS256, secret),
		"not yet valid":     mint(func(c jwt.MapClaims) { c["nbf"] = now.Add(time.Minute).Unix() }, jwt.SigningMethodHS256, secret),
		"wrong audience":    mint(func(c jwt.MapClaims) { c["aud"] = "another-app" }, jwt.SigningMethodHS256, secret),
		"dest/iss mismatch": mint(func(c jwt.MapClaims) { c["dest"] = "https://" + s.other }, jwt.SigningMethodHS256, secret),
		"foreign host":      mint(func(c jwt.MapClaims) { c["iss"], c["dest"] = "https://evil.com/admin", "https://evil.com" }, jwt.SigningMethodHS256, secret),
		"wrong secret":      mint(func(jwt.MapClaims) {}, jwt.SigningMethodHS256, []byte("not-the-secret")),
		"HS512":             mint(func(jwt.MapClaims) {}, jwt.SigningMethodHS512, secret),
		"alg none":          mint(func(jwt.MapClaims) {}, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType),
		"missing":           "",
		"garbage":           "not.a.token",
	}
	for name, tok := range cases {
		t.Run(name, func(t *testing.T) {
			code, body := s.getShop(t, tok)
			assert.Equal(t, http.StatusUnauthorized, code)
			assert.NotContains(t, fmt.Sprint(body), "token is", "no internal error text leaks")
		})
	}
	assert.False(t, s.sim.Installed(s.shop), "no rejected token was exchanged")
}

func TestShopComesFromTheTokenOnly(t *testing.T) {
	s := newStack(t)
	tokA, _ := s.sim.SessionToken(s.shop, 1)
	req, _ := http.NewRequest(http.MethodGet, s.app.URL+"/api/shop?shop="+s.other, nil)
	req.Header.Set("Authorization", "Bearer "+tokA)
	req.Header.Set("X-Shopify-Shop-Domain", s.other)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	var body map[string]any
	require.NoError(t, json.NewDecoder(res.Body).Decode(&body))
	assert.Equal(t, s.shop, body["shop"])
	assert.False(t, s.sim.Installed(s.other))
	_, err = s.shops.Get(context.Background(), s.other)
	assert.Error(t, err, "shop B gained nothing from shop A's token")
}

// signQuery signs a callback query as Shopify does: sorted key=value pairs
// joined with &, HMAC-SHA256 with the client secret, hex.
func signQuery(q url.Values) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + q.Get(k)
	}
	m := hmac.New(sha256.New, []byte(clientSecret))
	m.Write([]byte(strings.Join(parts, "&")))
	return hex.EncodeToString(m.Sum(nil))
}
