package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/postgres"
	"github.com/cvo-app/cvo/internal/web/apigen"
)

// api implements the admin API's contract (openapi.yaml) over the server's
// collaborators; a missing collaborator answers its routes 404.
type api struct {
	server  *Server
	pages   *pages      // nil without PagesDeps
	exports DataExports // nil without exports
	surveys *surveysAPI // nil without surveys
}

var _ apigen.ServerInterface = (*api)(nil)

var errNoRoute = cvo.Errorf(cvo.ENOTFOUND, "Not found.")

// GetShop answers the embedded page's first call. A shop with no token yet
// is installed here, by exchanging the request's session token.
func (a *api) GetShop(c echo.Context) error {
	s := a.server
	ctx := c.Request().Context()
	shop, err := s.installer.InstallWithSessionToken(ctx, shopOf(c), c.Get(sessionTokenKey).(string))
	if err != nil {
		return err
	}
	out := apigen.Shop{
		Shop: shop.Domain, Name: shop.Name, Currency: shop.Currency, Timezone: shop.Timezone,
		Installed: shop.Installed(), Scopes: shop.Scopes,
		InstalledAt: timePtr(shop.InstalledAt), TokenExpiresAt: timePtr(shop.AccessTokenExpiresAt),
	}
	if out.Scopes == nil {
		out.Scopes = []string{}
	}
	if s.status != nil {
		raw, err := s.status.Status(ctx, shop.Domain)
		if err != nil {
			return err
		}
		if out.Status, err = syncStatusOf(raw); err != nil {
			return fmt.Errorf("status of %s: %w", shop.Domain, err)
		}
	}
	if a.pages != nil {
		if out.Status == nil {
			out.Status = &apigen.ShopStatus{}
		}
		if out.Status.Scoring, err = a.pages.scoringStatus(c, shop.Domain); err != nil {
			return err
		}
	}
	if out.Status != nil {
		stage := shopStage(out.Status.Sync, out.Status.Scoring)
		out.Status.Stage = &stage
	}
	return c.JSON(http.StatusOK, out)
}

// shopStage says where a shop stands on its way to its first figures. The
// first answer after install has neither a sync state nor a scoring run
// (the sync was only queued), and a page that waited for one to be
// reported running would never ask again: the stage tells it there is
// work ahead.
func shopStage(sync *apigen.SyncStatus, scoring *apigen.ScoringStatus) apigen.ShopStatusStage {
	if scoring != nil && scoring.LastScoredAt != nil {
		return apigen.StageReady
	}
	if sync != nil {
		switch {
		case sync.Error != nil && *sync.Error != "", sync.Phase == postgres.PhaseFailed:
			return apigen.StageSyncFailed
		case sync.Phase == postgres.PhaseExporting || sync.Phase == postgres.PhaseImporting:
			return apigen.StageSyncing
		case sync.Phase != postgres.PhaseDone:
			// No state yet, or idle: install queued the first sync.
			return apigen.StageSyncQueued
		}
	}
	if scoring == nil {
		// Without scoring on this server the import is as far as it can see.
		return apigen.StageScoringQueued
	}
	switch scoring.State {
	case "running":
		return apigen.StageScoring
	case "failed":
		return apigen.StageScoringFailed
	}
	// The sync queues the first scoring when it finishes.
	return apigen.StageScoringQueued
}

// syncStatusOf types the sync's status, which ingest reports as a map:
// the import's own fields become status.sync, its delivery counts
// status.deliveries.
func syncStatusOf(raw map[string]any) (*apigen.ShopStatus, error) {
	b, err := json.Marshal(raw)
	if err != nil {
		return nil, err
	}
	var st struct {
		apigen.SyncStatus
		Deliveries *apigen.DeliveriesStatus `json:"deliveries"`
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, err
	}
	return &apigen.ShopStatus{Sync: &st.SyncStatus, Deliveries: st.Deliveries}, nil
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
