package web

import (
	_ "embed"
	"html"
	"net/http"
	"regexp"

	"github.com/labstack/echo/v4"
)

// App Bridge needs the app's client id in a meta tag before its script
// runs; the built page carries an empty one that the server fills in.
var apiKeyMeta = regexp.MustCompile(`(?i)<meta\s+name="shopify-api-key"\s+content="[^"]*"\s*/?>`)

// appBridgeScript is Shopify's CDN script tag as the page's source has it.
var appBridgeScript = regexp.MustCompile(`(?i)<script\s+src="https://cdn\.shopify\.com/shopifycloud/app-bridge\.js"\s*>\s*</script>`)

const appBridgeStandInPath = "/app-bridge-standin.js"

//go:embed appbridge_standin.js
var appBridgeStandIn []byte

// renderIndex fills the client id into the page and, when simulatorOrigin
// is set (the demo), replaces the CDN script with the local stand-in, which
// gets session tokens from the simulator at that origin.
func renderIndex(raw []byte, clientID, simulatorOrigin string) []byte {
	out := apiKeyMeta.ReplaceAllLiteral(raw,
		[]byte(`<meta name="shopify-api-key" content="`+html.EscapeString(clientID)+`" />`))
	if simulatorOrigin != "" {
		out = appBridgeScript.ReplaceAllLiteral(out,
			[]byte(`<script src="`+appBridgeStandInPath+`" data-simulator-origin="`+html.EscapeString(simulatorOrigin)+`"></script>`))
	}
	return out
}

func serveAppBridgeStandIn(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-cache")
	return c.Blob(http.StatusOK, "text/javascript; charset=utf-8", appBridgeStandIn)
}
