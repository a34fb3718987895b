package web_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/fstest"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"

	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/web"
	"github.com/cvo-app/cvo/webhooks"
)

func plainServer(t *testing.T, health []web.Checker) *web.Server {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	return web.NewServer(web.Config{ClientID: clientID, ClientSecret: clientSecret, AppURL: "https://app.example",
		AdminBaseURL: func(shop string) string { return "https://" + shop }},
		web.Deps{
			Webhooks: webhooks.NewReceiver(clientSecret, nil, nil, nil, nil, log),
			Health:   health,
			Frontend: fstest.MapFS{
				"index.html":    {Data: []byte("<html>app</html>")},
				"assets/app.js": {Data: []byte("console.log(1)")},
			},
			Log: log,
		})
}

func serve(h http.Handler, method, target string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
	return rec
}

func TestFrameAncestorsOnlyTheShopsAdmin(t *testing.T) {
	s := plainServer(t, nil)
	cases := map[string]string{
		"/?shop=good.myshopify.com&host=abc":       "frame-ancestors https://good.myshopify.com https://admin.shopify.com;",
		"/?shop=evil.com/x.myshopify.com":          "frame-ancestors 'none';",
		"/?shop=x.myshopify.com.evil.com":          "frame-ancestors 'none';",
		"/segments":                                "frame-ancestors 'none';",
		"/?shop=good.myshopify.com%20https://evil": "frame-ancestors 'none';",
	}
	for target, want := range cases {
		rec := serve(s, http.MethodGet, target)
		assert.Equal(t, want, rec.Header().Get("Content-Security-Policy"), target)
		assert.Empty(t, rec.Header().Get("X-Frame-Options"), "X-Frame-Options would block the admin's iframe")
	}
}

func TestIndexFallbackForClientRoutes(t *testing.T) {
	s := plainServer(t, nil)
	for _, p := range []string{"/", "/segments", "/customers/123"} {
		rec := serve(s, http.MethodGet, p)
		assert.Equal(t, http.StatusOK, rec.Code, p)
		assert.Equal(t, "<html>app</html>", rec.Body.String(), p)
	}
	assert.Equal(t, "console.log(1)", serve(s, http.MethodGet, "/assets/app.js").Body.String())
	assert.Equal(t, http.StatusNotFound, serve(s, http.MethodGet, "/assets/missing.js").Code)
	assert.Equal(t, http.StatusUnauthorized, serve(s, http.MethodGet, "/api/shop").Code, "the API is never the index page")
}

func TestHealthz(t *testing.T) {
	up := web.Checker{Name: "postgres", Ping: func(context.Context) error { return nil }}
	down := web.Checker{Name: "redis", Ping: func(context.Context) error { return errors.New("dial tcp: secret-host:6379 refused") }}

	rec := serve(plainServer(t, []web.Checker{up}), http.MethodGet, "/healthz")
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.JSONEq(t, `{"postgres":"ok"}`, rec.Body.String())

	rec = serve(plainServer(t, []web.Checker{up, down}), http.MethodGet, "/healthz")
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.JSONEq(t, `{"postgres":"ok","redis":"down"}`, rec.Body.String())
}

func TestErrorsNeverLeakInternalText(t *testing.T) {
	s := plainServer(t, nil)
	s.Echo().GET("/boom", func(echo.Context) error { return errors.New("pq: password authentication failed for user secret") })
	s.Echo().GET("/panic", func(echo.Context) error { panic("token shpat_123 in a panic") })
	s.Echo().GET("/missing", func(echo.Context) error { return cvo.Errorf(cvo.ENOTFOUND, "No such group.") })
	for target, want := range map[string]int{"/boom": 500, "/panic": 500, "/missing": 404} {
		rec := serve(s, http.MethodGet, target)
		assert.Equal(t, want, rec.Code, target)
		assert.NotContains(t, rec.Body.String(), "secret", target)
		assert.NotContains(t, rec.Body.String(), "shpat", target)
		assert.NotEmpty(t, rec.Header().Get(echo.HeaderXRequestID), "every answer carries a request id")
	}
	assert.Contains(t, serve(s, http.MethodGet, "/missing").Body.String(), "No such group.")
}

func TestBodyLimit(t *testing.T) {
	s := plainServer(t, nil)
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/webhooks", io.LimitReader(zeros{}, 11<<20))
	req.ContentLength = 11 << 20
	s.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusRequestEntityTooLarge, rec.Code)
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = '0'
	}
	return len(p), nil
}
