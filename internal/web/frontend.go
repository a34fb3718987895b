package web

import (
	"io/fs"
	"net/http"
	"path"
	"strings"

	"github.com/labstack/echo/v4"
)

const placeholderPage = `<!doctype html><html><head><meta charset="utf-8"><title>CVO</title></head>
<body><p>The admin page has not been built. Run <code>make run</code>, which builds it.</p></body></html>`

// mountFrontend serves the built admin page, falling back to index.html for
// client-side routes so a reload on /segments still loads the app. The
// index is rendered once: the app's client id goes into App Bridge's meta
// tag and, in the demo, the local App Bridge stand-in replaces Shopify's
// CDN script.
func (s *Server) mountFrontend(dist fs.FS) {
	var index []byte
	if dist != nil {
		if raw, err := fs.ReadFile(dist, "index.html"); err == nil {
			index = renderIndex(raw, s.cfg.ClientID, s.cfg.SimulatorOrigin)
		}
	}
	if s.cfg.SimulatorOrigin != "" {
		s.echo.GET(appBridgeStandInPath, serveAppBridgeStandIn)
	}
	files := http.FileServer(http.FS(distOrEmpty(dist)))
	s.echo.GET("/*", func(c echo.Context) error {
		p := strings.TrimPrefix(c.Request().URL.Path, "/")
		if p != "" && p != "index.html" && dist != nil {
			if st, err := fs.Stat(dist, p); err == nil && !st.IsDir() {
				if strings.HasPrefix(p, "assets/") {
					// Vite puts a content hash in every asset's name.
					c.Response().Header().Set("Cache-Control", "public, max-age=31536000, immutable")
				}
				files.ServeHTTP(c.Response(), c.Request())
				return nil
			}
		}
		// Client routes never have a file extension; a missing file must be
		// a 404, not the page (a stale asset would otherwise parse HTML as JS).
		if strings.HasPrefix(p, "api/") || strings.HasPrefix(p, "assets/") || (p != "index.html" && path.Ext(p) != "") {
			return echo.ErrNotFound
		}
		// The index names the current assets and carries the client id: never cache it.
		c.Response().Header().Set("Cache-Control", "no-store")
		if index == nil {
			return c.HTML(http.StatusOK, placeholderPage)
		}
		return c.HTMLBlob(http.StatusOK, index)
	})
}

func distOrEmpty(dist fs.FS) fs.FS {
	if dist == nil {
		return emptyFS{}
	}
	return dist
}

type emptyFS struct{}

func (emptyFS) Open(string) (fs.File, error) { return nil, fs.ErrNotExist }
