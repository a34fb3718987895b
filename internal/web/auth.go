package web

import (
	"context"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/shopify"
)

// The authorization-code grant is the fallback install path, for shops
// that reach the app outside Shopify-managed installation.

const stateCookie = "cvo_oauth_state"

// stateTTL is how long a merchant has on Shopify's consent screen; the
// cookie and the server's copy of the nonce expire together.
const stateTTL = 10 * time.Minute

// OAuthStates keeps state nonces on the server: the cookie alone would let
// a captured callback URL and cookie be replayed until the cookie expired.
type OAuthStates interface {
	Issue(ctx context.Context, nonce, shop string, ttl time.Duration) error
	// Consume reports whether the nonce was issued for shop and not yet
	// spent or expired, and spends it.
	Consume(ctx context.Context, nonce, shop string) (bool, error)
}

// errNoCodeGrant answers the grant's routes on a server built without a
// state store: without one the state could be replayed.
var errNoCodeGrant = cvo.Errorf(cvo.ENOTFOUND, "The authorization-code grant is not enabled on this server.")

// authStart redirects the merchant to Shopify's consent screen.
func (s *Server) authStart(c echo.Context) error {
	shop, err := shopify.NormalizeShop(c.QueryParam("shop"))
	if err != nil {
		return cvo.Errorf(cvo.EINVALID, "Invalid shop domain.")
	}
	if s.states == nil {
		return errNoCodeGrant
	}
	nonce, err := shopify.NewState()
	if err != nil {
		return err
	}
	if err := s.states.Issue(c.Request().Context(), nonce, shop, stateTTL); err != nil {
		return err
	}
	c.SetCookie(&http.Cookie{
		Name:     stateCookie,
		Value:    shopify.SignState(nonce, s.cfg.ClientSecret),
		Path:     "/auth",
		MaxAge:   int(stateTTL / time.Second),
		HttpOnly: true,
		Secure:   strings.HasPrefix(s.cfg.AppURL, "https://"),
		SameSite: http.SameSiteLaxMode,
	})
	q := url.Values{
		"client_id":    {s.cfg.ClientID},
		"scope":        {s.cfg.Scopes},
		"redirect_uri": {strings.TrimRight(s.cfg.AppURL, "/") + "/auth/callback"},
		"state":        {nonce},
	}
	target := s.cfg.AdminBaseURL(shop) + "/admin/oauth/authorize?" + q.Encode()
	if c.QueryParam("embedded") == "1" {
		// Shopify's consent screen refuses to load in the admin's iframe, so
		// the page breaks out to the top window first.
		return breakOut(c, target)
	}
	return c.Redirect(http.StatusFound, target)
}

var breakOutPage = template.Must(template.New("breakout").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>Redirecting…</title></head>
<body><script>window.open({{.}}, "_top");</script>
<p><a href="{{.}}" target="_top">Continue to Shopify</a></p></body></html>`))

func breakOut(c echo.Context, target string) error {
	c.Response().Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	c.Response().WriteHeader(http.StatusOK)
	return breakOutPage.Execute(c.Response(), target)
}

// authCallback finishes the grant. The shop domain, the query's HMAC, its
// freshness and the state cookie are all checked before the code is sent
// anywhere with the client secret.
func (s *Server) authCallback(c echo.Context) error {
	q := c.QueryParams()
	shop, err := shopify.NormalizeShop(q.Get("shop"))
	if err != nil {
		return cvo.Errorf(cvo.EINVALID, "Invalid shop domain.")
	}
	if !shopify.VerifyQueryHMAC(q, s.cfg.ClientSecret) {
		return cvo.Errorf(cvo.EUNAUTHORIZED, "Invalid request signature.")
	}
	if !shopify.VerifyQueryTimestamp(q, s.now(), 24*time.Hour) {
		return cvo.Errorf(cvo.EUNAUTHORIZED, "The request has expired.")
	}
	if s.states == nil {
		return errNoCodeGrant
	}
	cookie, err := c.Cookie(stateCookie)
	if err != nil || q.Get("state") == "" || !shopify.VerifyState(cookie.Value, q.Get("state"), s.cfg.ClientSecret) {
		return cvo.Errorf(cvo.EUNAUTHORIZED, "Invalid or missing state.")
	}
	// The nonce is single-use on the server: a replayed callback, cookie
	// included, finds it spent. Clearing the cookie tidies the browser.
	fresh, err := s.states.Consume(c.Request().Context(), q.Get("state"), shop)
	if err != nil {
		return err
	}
	if !fresh {
		return cvo.Errorf(cvo.EUNAUTHORIZED, "This authorization was already used or has expired; open the app again.")
	}
	c.SetCookie(&http.Cookie{Name: stateCookie, Value: "", Path: "/auth", MaxAge: -1, HttpOnly: true,
		Secure: strings.HasPrefix(s.cfg.AppURL, "https://"), SameSite: http.SameSiteLaxMode})
	code := q.Get("code")
	if code == "" {
		return cvo.Errorf(cvo.EINVALID, "Missing authorization code.")
	}
	if _, err := s.installer.InstallWithCode(c.Request().Context(), shop, code); err != nil {
		return err
	}
	return c.Redirect(http.StatusFound, s.cfg.AdminBaseURL(shop)+"/admin/apps/"+url.PathEscape(s.cfg.ClientID))
}
