package web_test

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/web"
	"github.com/cvo-app/cvo/webhooks"
)

// builtIndex has the shape of Vite's output for frontend/index.html.
const builtIndex = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="shopify-api-key" content="" />
    <script src="https://cdn.shopify.com/shopifycloud/app-bridge.js"></script>
    <title>Customer Value Optimization</title>
    <script type="module" crossorigin src="/assets/index-abc.js"></script>
  </head>
  <body><div id="root"></div></body>
</html>`

func pageServer(t *testing.T, clientID, simulatorOrigin string) *web.Server {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	return web.NewServer(web.Config{ClientID: clientID, ClientSecret: clientSecret, AppURL: "https://app.example",
		AdminBaseURL: func(shop string) string { return "https://" + shop }, SimulatorOrigin: simulatorOrigin},
		web.Deps{
			Webhooks: webhooks.NewReceiver(clientSecret, nil, nil, nil, nil, log),
			Frontend: fstest.MapFS{
				"index.html":          {Data: []byte(builtIndex)},
				"assets/index-abc.js": {Data: []byte("console.log(1)")},
			},
			Log: log,
		})
}

func TestIndexCarriesTheClientIDAndTheCDNScriptFirst(t *testing.T) {
	s := pageServer(t, `client-"<id>`, "")
	for _, p := range []string{"/", "/segments", "/index.html", "/customers/42"} {
		rec := serve(s, http.MethodGet, p+"?shop=good.myshopify.com")
		require.Equal(t, http.StatusOK, rec.Code, p)
		body := rec.Body.String()
		assert.Contains(t, body, `<meta name="shopify-api-key" content="client-&#34;&lt;id&gt;" />`, "escaped client id (%s)", p)
		assert.NotContains(t, body, `content=""`, p)
		assert.Contains(t, body, `<script src="https://cdn.shopify.com/shopifycloud/app-bridge.js"></script>`, p)
		assert.NotContains(t, body, "app-bridge-standin", p)
		assert.Less(t, strings.Index(body, "app-bridge.js"), strings.Index(body, "<script type=\"module\""),
			"App Bridge must be the first script in <head>")
		assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"), p)
	}
	assert.Equal(t, http.StatusNotFound, serve(s, http.MethodGet, "/app-bridge-standin.js").Code,
		"outside the demo there is no stand-in")
}

func TestDemoIndexUsesTheLocalStandIn(t *testing.T) {
	s := pageServer(t, "cvo-demo-client", "http://127.0.0.1:9100")
	body := serve(s, http.MethodGet, "/?shop=cvo-demo.myshopify.com").Body.String()
	assert.Contains(t, body, `<meta name="shopify-api-key" content="cvo-demo-client" />`)
	assert.Contains(t, body, `<script src="/app-bridge-standin.js" data-simulator-origin="http://127.0.0.1:9100"></script>`)
	assert.NotContains(t, body, "cdn.shopify.com", "the CDN cannot load offline")

	rec := serve(s, http.MethodGet, "/app-bridge-standin.js")
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "text/javascript; charset=utf-8", rec.Header().Get("Content-Type"))
	js := rec.Body.String()
	for _, want := range []string{"window.shopify", "/simulator/session-token?shop=", "data-simulator-origin", "idToken", "toast"} {
		assert.Contains(t, js, want)
	}
}

func TestAssetsCachedAndMissingFilesNotFound(t *testing.T) {
	s := pageServer(t, "id", "")
	rec := serve(s, http.MethodGet, "/assets/index-abc.js")
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "public, max-age=31536000, immutable", rec.Header().Get("Cache-Control"))
	for _, p := range []string{"/assets/index-old.js", "/favicon.ico", "/segments/export.csv"} {
		assert.Equal(t, http.StatusNotFound, serve(s, http.MethodGet, p).Code, p)
	}
}
