package web

import (
	"io/fs"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

const placeholderPage = `<!doctype html><html><head><meta charset="utf-8"><title>CVO</title></head>
<body><p>The admin page has not been built. Run <code>make run</code>, which builds it.</p></body></html>`

// mountFrontend serves the built admin page, falling back to index.html for
// client-side routes so a reload on /segments still loads the app.
func (s *Server) mountFrontend(dist fs.FS) {
	var index []byte
	if dist != nil {
		index, _ = fs.ReadFile(dist, "index.html")
	}
	files := http.FileServer(http.FS(distOrEmpty(dist)))
	s.echo.GET("/*", func(c echo.Context) error {
		p := strings.TrimPrefix(c.Request().URL.Path, "/")
		if p != "" && dist != nil {
			if st, err := fs.Stat(dist, p); err == nil && !st.IsDir() {
				files.ServeHTTP(c.Response(), c.Request())
				return nil
			}
		}
		if strings.HasPrefix(p, "api/") || strings.HasPrefix(p, "assets/") {
			return echo.ErrNotFound
		}
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
