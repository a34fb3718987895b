// Package install gets shops their Shopify access and keeps it valid: token
// exchange on the first call from the embedded page, the authorization-code
// grant as a fallback, and refresh of expiring offline tokens before they
// expire, with the rotated refresh token stored at once.
package install

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/cvo-app/cvo/internal/cvo"
)

// RefreshMargin is how long before expiry a token is refreshed, so a job
// never starts a call with a token about to die mid-request.
const RefreshMargin = 5 * time.Minute

// OAuth is Shopify's token endpoint.
type OAuth interface {
	ExchangeSessionToken(ctx context.Context, shop, sessionToken string) (cvo.Token, error)
	ExchangeCode(ctx context.Context, shop, code string) (cvo.Token, error)
	Refresh(ctx context.Context, shop, refreshToken string) (cvo.Token, error)
}

// Store keeps shops and their tokens.
type Store interface {
	Get(ctx context.Context, shop string) (cvo.Shop, error)
	SaveInstall(ctx context.Context, shop string, tok cvo.Token) error
	WithTokenLock(ctx context.Context, shop string, refresh func(cur cvo.Shop) (cvo.Token, bool, error)) (cvo.Shop, error)
	UpdateDetails(ctx context.Context, shop, name, currency, timezone string) error
}

// ShopDetails reads the shop's name, currency and timezone from Shopify.
type ShopDetails interface {
	ShopDetails(ctx context.Context, shop, accessToken string) (name, currency, timezone string, err error)
}

// FirstSync starts a newly installed shop's work: the history import, and
// the write-back set-up (metafield definitions, segments), which needs no
// scores and so is done at install.
type FirstSync interface {
	EnqueueSync(ctx context.Context, shop string) error
	EnqueueWriteback(ctx context.Context, shop string, scoringID int64) error
}

// Service installs shops and hands out valid access tokens.
type Service struct {
	oauth   OAuth
	store   Store
	details ShopDetails
	sync    FirstSync
	log     *slog.Logger
	now     func() time.Time
}

// NewService wires the install service. details and sync may be nil while
// those capabilities are not configured.
func NewService(oauth OAuth, store Store, details ShopDetails, sync FirstSync, log *slog.Logger) *Service {
	return &Service{oauth: oauth, store: store, details: details, sync: sync, log: log, now: time.Now}
}

// InstallWithSessionToken returns the shop, installing it first by token
// exchange when it has no token (Shopify-managed installation: the first
// call from the embedded page).
func (s *Service) InstallWithSessionToken(ctx context.Context, shop, sessionToken string) (cvo.Shop, error) {
	cur, err := s.store.Get(ctx, shop)
	if err == nil && cur.Installed() {
		return cur, nil
	}
	if err != nil && cvo.ErrorCode(err) != cvo.ENOTFOUND {
		return cvo.Shop{}, err
	}
	tok, err := s.oauth.ExchangeSessionToken(ctx, shop, sessionToken)
	if err != nil {
		return cvo.Shop{}, fmt.Errorf("token exchange for %s: %w", shop, err)
	}
	return s.installed(ctx, shop, tok)
}

// InstallWithCode installs a shop through the authorization-code grant.
func (s *Service) InstallWithCode(ctx context.Context, shop, code string) (cvo.Shop, error) {
	tok, err := s.oauth.ExchangeCode(ctx, shop, code)
	if err != nil {
		return cvo.Shop{}, fmt.Errorf("code exchange for %s: %w", shop, err)
	}
	return s.installed(ctx, shop, tok)
}

func (s *Service) installed(ctx context.Context, shop string, tok cvo.Token) (cvo.Shop, error) {
	if err := s.store.SaveInstall(ctx, shop, tok); err != nil {
		return cvo.Shop{}, err
	}
	s.log.Info("shop installed", "shop", shop, "expiring_token", !tok.ExpiresAt.IsZero())
	if s.details != nil {
		// Details only decorate the page: a failure here must not undo the install.
		if name, currency, tz, err := s.details.ShopDetails(ctx, shop, tok.AccessToken); err != nil {
			s.log.Warn("read shop details", "shop", shop, "err", err)
		} else if err := s.store.UpdateDetails(ctx, shop, name, currency, tz); err != nil {
			s.log.Warn("save shop details", "shop", shop, "err", err)
		}
	}
	if s.sync != nil {
		if err := s.sync.EnqueueSync(ctx, shop); err != nil {
			s.log.Error("start first sync", "shop", shop, "err", err)
		}
		if err := s.sync.EnqueueWriteback(ctx, shop, 0); err != nil {
			s.log.Error("start write-back set-up", "shop", shop, "err", err)
		}
	}
	return s.store.Get(ctx, shop)
}

// AccessToken returns a token valid for at least RefreshMargin, refreshing
// an expiring one first. Concurrent callers refresh once: the store's row
// lock makes the others wait and then see the new token.
func (s *Service) AccessToken(ctx context.Context, shop string) (string, error) {
	cur, err := s.store.Get(ctx, shop)
	if err != nil {
		return "", err
	}
	if !cur.Installed() {
		return "", cvo.Errorf(cvo.EUNAUTHORIZED, "Shop %s has no access token; it must open the app again.", shop)
	}
	if !s.expiring(cur) {
		return cur.AccessToken, nil
	}
	fresh, err := s.store.WithTokenLock(ctx, shop, func(locked cvo.Shop) (cvo.Token, bool, error) {
		if !locked.Installed() {
			return cvo.Token{}, false, cvo.Errorf(cvo.EUNAUTHORIZED, "Shop %s was uninstalled.", shop)
		}
		if !s.expiring(locked) {
			return cvo.Token{}, false, nil
		}
		if locked.RefreshToken == "" {
			return cvo.Token{}, false, cvo.Errorf(cvo.EUNAUTHORIZED, "Shop %s's token expired and cannot be refreshed; it must open the app again.", shop)
		}
		tok, err := s.oauth.Refresh(ctx, shop, locked.RefreshToken)
		if err != nil {
			return cvo.Token{}, false, fmt.Errorf("refresh token of %s: %w", shop, err)
		}
		return tok, true, nil
	})
	if err != nil {
		return "", err
	}
	return fresh.AccessToken, nil
}

func (s *Service) expiring(sh cvo.Shop) bool {
	return !sh.AccessTokenExpiresAt.IsZero() && s.now().Add(RefreshMargin).After(sh.AccessTokenExpiresAt)
}

// SetClock replaces the service's clock; tests use it to see a token from
// the moment it is about to expire.
func (s *Service) SetClock(now func() time.Time) { s.now = now }
