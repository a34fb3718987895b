package web

import (
	"net/http"

	"github.com/cvo-app/cvo/internal/cvo"
	"time"

	"github.com/labstack/echo/v4"
)

type shopResponse struct {
	Shop           string         `json:"shop"`
	Name           string         `json:"name"`
	Currency       string         `json:"currency"`
	Timezone       string         `json:"timezone"`
	Installed      bool           `json:"installed"`
	Scopes         []string       `json:"scopes"`
	InstalledAt    *time.Time     `json:"installed_at,omitempty"`
	TokenExpiresAt *time.Time     `json:"token_expires_at,omitempty"`
	Status         map[string]any `json:"status,omitempty"`
}

// getShop answers the embedded page's first call. A shop with no token yet
// is installed here, by exchanging the request's session token.
func (s *Server) getShop(c echo.Context) error {
	ctx := c.Request().Context()
	shop, err := s.installer.InstallWithSessionToken(ctx, shopOf(c), c.Get(sessionTokenKey).(string))
	if err != nil {
		return err
	}
	out := shopResponse{
		Shop: shop.Domain, Name: shop.Name, Currency: shop.Currency, Timezone: shop.Timezone,
		Installed: shop.Installed(), Scopes: shop.Scopes,
		InstalledAt: timePtr(shop.InstalledAt), TokenExpiresAt: timePtr(shop.AccessTokenExpiresAt),
	}
	if out.Scopes == nil {
		out.Scopes = []string{}
	}
	if s.status != nil {
		if out.Status, err = s.status.Status(ctx, shop.Domain); err != nil {
			return err
		}
	}
	if s.pages != nil {
		if out.Status == nil {
			out.Status = map[string]any{}
		}
		scoring := map[string]any{"state": "none"}
		run, err := s.pages.Snapshots.LastRun(ctx, shop.Domain)
		switch {
		case err == nil:
			scoring = map[string]any{"state": run.State, "reason": run.Reason, "started_at": run.StartedAt, "error": run.Error}
			if !run.FinishedAt.IsZero() {
				scoring["finished_at"] = run.FinishedAt
			}
			if last, err := s.pages.Snapshots.LatestInfo(ctx, shop.Domain); err == nil {
				scoring["last_scored_at"] = last.FinishedAt
				scoring["customers"] = last.Customers
			}
		case cvo.ErrorCode(err) != cvo.ENOTFOUND:
			return err
		}
		out.Status["scoring"] = scoring
	}
	return c.JSON(http.StatusOK, out)
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
