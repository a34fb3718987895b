// Package web is the app's HTTP adapter: the Echo server, its middleware,
// the install routes, the JSON API behind session tokens and the embedded
// admin page. Handlers return errors to one handler that maps them to HTTP.
package web

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/shopify"
	"github.com/cvo-app/cvo/internal/survey"
	"github.com/cvo-app/cvo/internal/web/apigen"
	"github.com/cvo-app/cvo/webhooks"
)

// Config is what the server needs to know about the app.
type Config struct {
	ClientID     string
	ClientSecret string
	AppURL       string // public base URL, e.g. https://cvo.example.com
	Scopes       string
	// AdminBaseURL is where the merchant's browser finds the shop's admin:
	// "https://{shop}" for Shopify, the simulator's origin in the demo.
	AdminBaseURL func(shop string) string
	// SimulatorOrigin is set only in the demo: the admin page then loads a
	// local App Bridge stand-in that gets session tokens from the simulator
	// at this origin, because Shopify's CDN script cannot load there.
	SimulatorOrigin string
	// TrustedProxies are the load balancers or proxies in front of the
	// app (TRUSTED_PROXIES): from their addresses alone, the survey page's
	// per-address limit reads the customer's address from X-Forwarded-For.
	// Empty: the TCP peer is the address, and forwarded-for is ignored.
	TrustedProxies []*net.IPNet
}

// Installer installs shops and reports their state.
type Installer interface {
	// InstallWithSessionToken makes sure the shop has a token, exchanging
	// the verified session token when it has none.
	InstallWithSessionToken(ctx context.Context, shop, sessionToken string) (cvo.Shop, error)
	InstallWithCode(ctx context.Context, shop, code string) (cvo.Shop, error)
}

// ShopStatus answers GET /api/shop beyond the installation itself.
type ShopStatus interface {
	Status(ctx context.Context, shop string) (map[string]any, error)
}

// Checker is a dependency /healthz reports on.
type Checker struct {
	Name string
	Ping func(ctx context.Context) error
}

// Server is the app's HTTP server.
type Server struct {
	echo      *echo.Echo
	cfg       Config
	installer Installer
	status    ShopStatus
	pages     *PagesDeps
	states    OAuthStates
	log       *slog.Logger
	now       func() time.Time
}

// Deps are the server's collaborators.
type Deps struct {
	Installer Installer
	Status    ShopStatus
	Webhooks  *webhooks.Receiver
	Health    []Checker
	Frontend  fs.FS       // the built admin page; nil serves a placeholder
	Pages     *PagesDeps  // the pages' API; nil leaves it out
	Exports   DataExports // customers/data_request exports; nil leaves them out
	// Surveys keeps the customer surveys: the admin API's /surveys routes
	// and the public survey page (/s/{link}); nil leaves both out.
	Surveys Surveys
	// OAuthStates keeps the code grant's state nonces; nil disables the
	// grant (/auth answers 404).
	OAuthStates OAuthStates
	Log         *slog.Logger
}

// NewServer builds the routes.
func NewServer(cfg Config, d Deps) *Server {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	s := &Server{echo: e, cfg: cfg, installer: d.Installer, status: d.Status, pages: d.Pages, states: d.OAuthStates, log: d.Log, now: time.Now}
	e.HTTPErrorHandler = s.handleError

	e.Use(securityHeaders)
	e.Use(middleware.RequestID())
	e.Use(s.requestLogger())
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			s.log.Error("panic", "request_id", requestID(c), "err", err, "stack", string(stack))
			return err
		},
	}))
	e.Use(middleware.BodyLimit("10M"))
	e.Use(frameAncestors)

	e.GET("/healthz", s.healthz(d.Health))
	e.GET("/auth", s.authStart)
	e.GET("/auth/callback", s.authCallback)
	e.POST("/webhooks", d.Webhooks.Handle)
	e.POST("/webhooks/compliance", d.Webhooks.Handle)

	// The admin API's routes, parameters and answers are its contract,
	// openapi.yaml; the generated interface makes every route one method.
	handlers := &api{server: s, exports: d.Exports}
	if d.Pages != nil {
		handlers.pages = &pages{deps: *d.Pages, server: s}
	}
	if d.Surveys != nil {
		signer, err := survey.NewSigner(cfg.ClientSecret)
		if err != nil {
			// Surveys need a real secret; without one their routes stay out.
			s.log.Warn("surveys disabled", "err", err)
		} else {
			handlers.surveys = &surveysAPI{store: d.Surveys, signer: signer, appURL: cfg.AppURL, server: s}
			s.mountSurveyPage(d.Surveys, signer)
		}
	}
	apigen.RegisterHandlers(e.Group("/api", s.sessionAuth), handlers)

	s.mountFrontend(d.Frontend)
	return s
}

// ServeHTTP lets tests and the composition root use the server as a handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.echo.ServeHTTP(w, r) }

// Echo exposes the router so later features can add routes at wiring time.
func (s *Server) Echo() *echo.Echo { return s.echo }

// handleError is the one place errors become HTTP answers. Internal errors
// are logged with the request id and answered without their text.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status := http.StatusInternalServerError
	var msg, field string
	var he *echo.HTTPError
	switch {
	case errors.As(err, &he):
		status = he.Code
		if m, ok := he.Message.(string); ok {
			msg = m
		} else {
			msg = http.StatusText(status)
		}
	case refusedByShopify(err):
		// Shopify refused the code, refresh token or session token (a spent
		// code, a replayed callback): the merchant must open the app again.
		status, msg = http.StatusUnauthorized, "Shopify refused the authorization; open the app from your Shopify admin again."
	default:
		switch cvo.ErrorCode(err) {
		case cvo.EINVALID:
			status = http.StatusBadRequest
		case cvo.ENOTFOUND:
			status = http.StatusNotFound
		case cvo.EUNAUTHORIZED:
			status = http.StatusUnauthorized
		case cvo.ECONFLICT:
			status = http.StatusConflict
		}
		msg, field = cvo.ErrorMessage(err), cvo.ErrorField(err)
	}
	if status >= 500 {
		s.log.Error("request failed", "request_id", requestID(c), "method", c.Request().Method, "path", c.Path(), "err", err)
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(status)
		return
	}
	out := apigen.Error{Error: msg, RequestId: requestID(c)}
	if field != "" {
		out.Field = &field
	}
	_ = c.JSON(status, out)
}

func requestID(c echo.Context) string {
	return c.Response().Header().Get(echo.HeaderXRequestID)
}

func (s *Server) healthz(checks []Checker) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
		defer cancel()
		out, status := map[string]string{}, http.StatusOK
		for _, ch := range checks {
			if err := ch.Ping(ctx); err != nil {
				s.log.Warn("health check failed", "dependency", ch.Name, "err", err)
				out[ch.Name], status = "down", http.StatusServiceUnavailable
				continue
			}
			out[ch.Name] = "ok"
		}
		return c.JSON(status, out)
	}
}

func refusedByShopify(err error) bool {
	var oe *shopify.OAuthError
	return errors.As(err, &oe) && oe.Status >= 400 && oe.Status < 500 && !errors.Is(err, shopify.ErrInvalidClient)
}
