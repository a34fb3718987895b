package web

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"

	"github.com/labstack/echo/v4"

	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/postgres"
	"github.com/cvo-app/cvo/internal/web/apigen"
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

// ListExports answers GET /api/exports. The shop comes from the token, so
// a merchant reads only their own shop's exports.
func (a *api) ListExports(c echo.Context) error {
	if a.exports == nil {
		return errNoRoute
	}
	list, err := a.exports.List(c.Request().Context(), shopOf(c))
	if err != nil {
		return err
	}
	if list == nil {
		list = []postgres.DataExport{}
	}
	return c.JSON(http.StatusOK, apigen.ExportList{Exports: list})
}

// GetExport answers GET /api/exports/{id}: one export as a JSON download,
// sent as stored.
func (a *api) GetExport(c echo.Context, id string) error {
	if a.exports == nil {
		return errNoRoute
	}
	if !exportIDPattern.MatchString(id) {
		return cvo.Errorf(cvo.EINVALID, "Invalid export id.")
	}
	body, err := a.exports.Get(c.Request().Context(), shopOf(c), id)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderContentDisposition, `attachment; filename="data-request-`+id+`.json"`)
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return c.JSONBlob(http.StatusOK, body)
}
