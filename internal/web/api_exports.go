package web

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"

	"github.com/labstack/echo/v4"

	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/postgres"
)

// DataExports reads the shop's customers/data_request exports, which the
// merchant hands to the customer; they expire after the data retention.
type DataExports interface {
	List(ctx context.Context, shop string) ([]postgres.DataExport, error)
	Get(ctx context.Context, shop, requestID string) (json.RawMessage, error)
}

// exportIDPattern is what a request id can be: Shopify's numeric data
// request id, or a webhook id (see webhooks).
var exportIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

// mountExports adds GET /api/exports (the list) and GET /api/exports/:id
// (one export as a JSON download) behind the session token; the shop comes
// from the token, so a merchant reads only their own shop's exports.
func mountExports(api *echo.Group, exports DataExports) {
	api.GET("/exports", func(c echo.Context) error {
		list, err := exports.List(c.Request().Context(), shopOf(c))
		if err != nil {
			return err
		}
		if list == nil {
			list = []postgres.DataExport{}
		}
		return c.JSON(http.StatusOK, map[string]any{"exports": list})
	})
	api.GET("/exports/:id", func(c echo.Context) error {
		id := c.Param("id")
		if !exportIDPattern.MatchString(id) {
			return cvo.Errorf(cvo.EINVALID, "Invalid export id.")
		}
		body, err := exports.Get(c.Request().Context(), shopOf(c), id)
		if err != nil {
			return err
		}
		c.Response().Header().Set(echo.HeaderContentDisposition, `attachment; filename="data-request-`+id+`.json"`)
		c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
		return c.JSONBlob(http.StatusOK, body)
	})
}
