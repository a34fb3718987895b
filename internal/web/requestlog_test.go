package web_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/web"
	"github.com/cvo-app/cvo/webhooks"
)

// Accepted deliveries are logged at Debug only; every other answer, and a
// refused delivery above all, keeps its Info line.
func TestRequestLogLevels(t *testing.T) {
	cases := []struct {
		name, method, target string
		status               int
		level                string // "" when no line at all
		levelDebug           string // with the logger at Debug
	}{
		{"accepted delivery", http.MethodPost, "/webhooks/accepted", http.StatusOK, "", "DEBUG"},
		{"refused delivery", http.MethodPost, "/webhooks", http.StatusUnauthorized, "INFO", "INFO"},
		{"other route", http.MethodGet, "/healthz", http.StatusOK, "INFO", "INFO"},
	}
	for _, tc := range cases {
		for _, debug := range []bool{false, true} {
			t.Run(tc.name, func(t *testing.T) {
				var out bytes.Buffer
				opts := &slog.HandlerOptions{Level: slog.LevelInfo}
				want := tc.level
				if debug {
					opts.Level, want = slog.LevelDebug, tc.levelDebug
				}
				log := slog.New(slog.NewTextHandler(&out, opts))
				s := web.NewServer(web.Config{ClientSecret: clientSecret}, web.Deps{
					Webhooks: webhooks.NewReceiver(clientSecret, nil, nil, nil, nil, log), Log: log})
				// Stands for a delivery the receiver accepted, which needs
				// PostgreSQL and Redis the web tests leave out.
				s.Echo().POST("/webhooks/accepted", func(c echo.Context) error { return c.NoContent(http.StatusOK) })

				rec := serve(s, tc.method, tc.target)
				require.Equal(t, tc.status, rec.Code)
				var line string
				for _, l := range strings.Split(out.String(), "\n") {
					if strings.Contains(l, "msg=request ") {
						line = l
					}
				}
				if want == "" {
					assert.Empty(t, line)
					return
				}
				assert.Contains(t, line, "level="+want)
				assert.Contains(t, line, "path="+tc.target)
			})
		}
	}
}

// A customer's id in the path never reaches the request log: routes with
// parameters are logged by their template.
func TestRequestLogLeavesOutPathParameters(t *testing.T) {
	var out bytes.Buffer
	log := slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := web.NewServer(web.Config{ClientSecret: clientSecret}, web.Deps{
		Webhooks: webhooks.NewReceiver(clientSecret, nil, nil, nil, nil, log), Log: log})
	rec := serve(s, http.MethodGet, "/api/customers/730194857")
	require.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.Contains(t, out.String(), "path=/api/customers/:id")
	assert.NotContains(t, out.String(), "730194857")
}
