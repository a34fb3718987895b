package web

import (
	"log/slog"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/shopify"
)

// requestLogger logs one structured line per request. It logs the route and
// path, never the query string: install and webhook queries carry shop
// secrets (codes, HMACs) and pages may carry customer search terms; and
// never a path parameter, which may be a customer's id.
func (s *Server) requestLogger() echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogStatus: true, LogURIPath: true, LogMethod: true, LogLatency: true, LogRequestID: true, LogError: true,
		HandleError: true,
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			level := slog.LevelInfo
			if v.Status < 300 && strings.HasPrefix(v.URIPath, "/webhooks") {
				// Accepted deliveries come by the thousand a second; their line
				// would cost more than they do. Refusals and failures stay Info.
				level = slog.LevelDebug
			}
			ctx := c.Request().Context()
			if !s.log.Enabled(ctx, level) {
				return nil
			}
			// A route with parameters is logged by its template: its path
			// can name a customer (/api/customers/:id) or a data request.
			path := v.URIPath
			if route := c.Path(); strings.Contains(route, ":") {
				path = route
			}
			attrs := []any{"request_id", v.RequestID, "method", v.Method, "path", path, "status", v.Status,
				"latency_ms", v.Latency.Milliseconds()}
			if shop, ok := c.Get(shopKey).(string); ok {
				attrs = append(attrs, "shop", shop)
			}
			s.log.Log(ctx, level, "request", attrs...)
			return nil
		},
	})
}

// securityHeaders go on every answer, errors and the admin page included:
// browsers must not guess a JSON or CSV answer to be HTML, and the page's
// URLs (shop, host, search terms) must not leak in full to other origins.
func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
		return next(c)
	}
}

// frameAncestors lets only the shop's own admin frame the app. The shop
// comes from the page's query (Shopify adds ?shop=); without a valid one the
// app may not be framed at all.
func frameAncestors(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		policy := "frame-ancestors 'none';"
		if shop := c.QueryParam("shop"); shopify.ValidShopDomain(shop) {
			policy = "frame-ancestors https://" + shop + " https://admin.shopify.com;"
		}
		c.Response().Header().Set("Content-Security-Policy", policy)
		return next(c)
	}
}

const (
	shopKey         = "cvo.shop"
	sessionTokenKey = "cvo.session_token"
)

// sessionAuth admits API calls that carry a valid session token and takes
// the shop from that token alone.
func (s *Server) sessionAuth(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		raw, ok := strings.CutPrefix(c.Request().Header.Get(echo.HeaderAuthorization), "Bearer ")
		if !ok || raw == "" {
			return cvo.Errorf(cvo.EUNAUTHORIZED, "Missing session token.")
		}
		sess, err := shopify.VerifySessionToken(raw, s.cfg.ClientID, s.cfg.ClientSecret, s.now())
		if err != nil {
			s.log.Info("session token rejected", "request_id", requestID(c), "reason", err.Error())
			// Shopify's App Bridge retries with a fresh token on this header.
			c.Response().Header().Set("X-Shopify-Retry-Invalid-Session-Request", "1")
			return cvo.Errorf(cvo.EUNAUTHORIZED, "Invalid session token.")
		}
		c.Set(shopKey, sess.Shop)
		c.Set(sessionTokenKey, raw)
		return next(c)
	}
}

// shopOf is the shop of an authenticated API request.
func shopOf(c echo.Context) string {
	s, _ := c.Get(shopKey).(string)
	return s
}
