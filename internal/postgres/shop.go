package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/cvo-app/cvo/internal/cvo"
)

// Sealer encrypts secrets at rest (internal/secretbox satisfies it). The
// associated data binds a sealed token to its shop, so a token copied into
// another shop's row does not open.
type Sealer interface {
	SealWith(plaintext, associated []byte) (string, error)
	OpenWith(sealed string, associated []byte) ([]byte, error)
}

// ShopStore keeps tenants and their sealed tokens.
type ShopStore struct {
	db     *DB
	sealer Sealer
	now    func() time.Time
}

// NewShopStore returns a store that seals tokens with sealer.
func NewShopStore(db *DB, sealer Sealer) *ShopStore {
	return &ShopStore{db: db, sealer: sealer, now: time.Now}
}

type shopRow struct {
	Shop                  string `gorm:"primaryKey"`
	Name                  string
	Currency              string
	Timezone              string
	Scopes                string
	AccessTokenSealed     *string
	AccessTokenExpiresAt  *time.Time
	RefreshTokenSealed    *string
	RefreshTokenExpiresAt *time.Time
	InstalledAt           *time.Time
	UninstalledAt         *time.Time
	CreatedAt             time.Time
	UpdatedAt             time.Time
}

func (shopRow) TableName() string { return "shops" }

// Get returns the shop, with its tokens opened.
func (s *ShopStore) Get(ctx context.Context, shop string) (cvo.Shop, error) {
	return s.get(s.db.Gorm.WithContext(ctx), shop)
}

func (s *ShopStore) get(tx *gorm.DB, shop string) (cvo.Shop, error) {
	var row shopRow
	err := tx.Where("shop = ?", shop).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return cvo.Shop{}, cvo.Errorf(cvo.ENOTFOUND, "Shop %s is not installed.", shop)
	}
	if err != nil {
		return cvo.Shop{}, fmt.Errorf("get shop %s: %w", shop, err)
	}
	return s.fromRow(row)
}

func (s *ShopStore) fromRow(row shopRow) (cvo.Shop, error) {
	out := cvo.Shop{
		Domain:   row.Shop,
		Name:     row.Name,
		Currency: row.Currency,
		Timezone: row.Timezone,
		Scopes:   splitScopes(row.Scopes),
	}
	var err error
	if out.AccessToken, err = s.open(row.Shop, row.AccessTokenSealed); err != nil {
		return cvo.Shop{}, fmt.Errorf("open access token of %s: %w", row.Shop, err)
	}
	if out.RefreshToken, err = s.open(row.Shop, row.RefreshTokenSealed); err != nil {
		return cvo.Shop{}, fmt.Errorf("open refresh token of %s: %w", row.Shop, err)
	}
	out.AccessTokenExpiresAt = deref(row.AccessTokenExpiresAt)
	out.RefreshTokenExpiresAt = deref(row.RefreshTokenExpiresAt)
	out.InstalledAt = deref(row.InstalledAt)
	out.UninstalledAt = deref(row.UninstalledAt)
	return out, nil
}

// SaveInstall records a fresh installation (or re-installation) with its token.
func (s *ShopStore) SaveInstall(ctx context.Context, shop string, tok cvo.Token) error {
	now := s.now()
	row := shopRow{Shop: shop, InstalledAt: &now, CreatedAt: now, UpdatedAt: now, Scopes: strings.Join(tok.Scopes, ",")}
	if err := s.sealToken(&row, shop, tok); err != nil {
		return fmt.Errorf("save install of %s: %w", shop, err)
	}
	err := s.db.Gorm.WithContext(ctx).Clauses(clause.OnConflict{
		Columns: []clause.Column{{Name: "shop"}},
		DoUpdates: clause.Assignments(map[string]any{
			"scopes":                   row.Scopes,
			"access_token_sealed":      row.AccessTokenSealed,
			"access_token_expires_at":  row.AccessTokenExpiresAt,
			"refresh_token_sealed":     row.RefreshTokenSealed,
			"refresh_token_expires_at": row.RefreshTokenExpiresAt,
			"installed_at":             now,
			"uninstalled_at":           nil,
			"updated_at":               now,
		}),
	}).Create(&row).Error
	if err != nil {
		return fmt.Errorf("save install of %s: %w", shop, err)
	}
	return nil
}

// UpdateToken stores a refreshed token. It must run inside WithTokenLock's
// transaction so the rotated refresh token is saved before anyone else can
// refresh with the spent one.
func (s *ShopStore) updateToken(tx *gorm.DB, shop string, tok cvo.Token) error {
	var row shopRow
	if err := s.sealToken(&row, shop, tok); err != nil {
		return err
	}
	updates := map[string]any{
		"access_token_sealed":      row.AccessTokenSealed,
		"access_token_expires_at":  row.AccessTokenExpiresAt,
		"refresh_token_sealed":     row.RefreshTokenSealed,
		"refresh_token_expires_at": row.RefreshTokenExpiresAt,
		"updated_at":               s.now(),
	}
	if len(tok.Scopes) > 0 {
		updates["scopes"] = strings.Join(tok.Scopes, ",")
	}
	res := tx.Model(&shopRow{}).Where("shop = ? AND uninstalled_at IS NULL", shop).Updates(updates)
	if res.Error != nil {
		return fmt.Errorf("update token of %s: %w", shop, res.Error)
	}
	if res.RowsAffected == 0 {
		return cvo.Errorf(cvo.ENOTFOUND, "Shop %s is not installed.", shop)
	}
	return nil
}

// WithTokenLock runs refresh with the shop's row locked, so concurrent
// workers never refresh the same token twice: the second waits, then sees
// the first one's fresh token. refresh returns the new token to store, or
// ok=false when the current one is still good.
func (s *ShopStore) WithTokenLock(ctx context.Context, shop string, refresh func(current cvo.Shop) (tok cvo.Token, ok bool, err error)) (cvo.Shop, error) {
	var out cvo.Shop
	err := s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		cur, err := s.get(tx.Clauses(clause.Locking{Strength: "UPDATE"}), shop)
		if err != nil {
			return err
		}
		tok, ok, err := refresh(cur)
		if err != nil {
			return err
		}
		if !ok {
			out = cur
			return nil
		}
		if err := s.updateToken(tx, shop, tok); err != nil {
			return err
		}
		out, err = s.get(tx, shop)
		return err
	})
	return out, err
}

// UpdateDetails records what Shopify says about the shop.
func (s *ShopStore) UpdateDetails(ctx context.Context, shop, name, currency, timezone string) error {
	err := s.db.Gorm.WithContext(ctx).Model(&shopRow{}).Where("shop = ?", shop).
		Updates(map[string]any{"name": name, "currency": currency, "timezone": timezone, "updated_at": s.now()}).Error
	if err != nil {
		return fmt.Errorf("update details of %s: %w", shop, err)
	}
	return nil
}

// UpdateScopes records the scopes granted after app/scopes_update.
func (s *ShopStore) UpdateScopes(ctx context.Context, shop string, scopes []string) error {
	err := s.db.Gorm.WithContext(ctx).Model(&shopRow{}).Where("shop = ?", shop).
		Updates(map[string]any{"scopes": strings.Join(scopes, ","), "updated_at": s.now()}).Error
	if err != nil {
		return fmt.Errorf("update scopes of %s: %w", shop, err)
	}
	return nil
}

// MarkUninstalled deletes the shop's tokens and notes when it left. The
// shop's data stays until shop/redact. Calling it again changes nothing.
func (s *ShopStore) MarkUninstalled(ctx context.Context, shop string) error {
	now := s.now()
	err := s.db.Gorm.WithContext(ctx).Model(&shopRow{}).Where("shop = ?", shop).
		Updates(map[string]any{
			"access_token_sealed":      nil,
			"access_token_expires_at":  nil,
			"refresh_token_sealed":     nil,
			"refresh_token_expires_at": nil,
			"uninstalled_at":           gorm.Expr("COALESCE(uninstalled_at, ?)", now),
			"updated_at":               now,
		}).Error
	if err != nil {
		return fmt.Errorf("mark %s uninstalled: %w", shop, err)
	}
	return nil
}

// ListInstalled returns the domains of every installed shop.
func (s *ShopStore) ListInstalled(ctx context.Context) ([]string, error) {
	var shops []string
	err := s.db.Gorm.WithContext(ctx).Model(&shopRow{}).
		Where("uninstalled_at IS NULL AND access_token_sealed IS NOT NULL").Order("shop").Pluck("shop", &shops).Error
	if err != nil {
		return nil, fmt.Errorf("list installed shops: %w", err)
	}
	return shops, nil
}

func (s *ShopStore) sealToken(row *shopRow, shop string, tok cvo.Token) error {
	var err error
	if row.AccessTokenSealed, err = s.seal(shop, tok.AccessToken); err != nil {
		return fmt.Errorf("seal access token: %w", err)
	}
	if row.RefreshTokenSealed, err = s.seal(shop, tok.RefreshToken); err != nil {
		return fmt.Errorf("seal refresh token: %w", err)
	}
	row.AccessTokenExpiresAt = timePtr(tok.ExpiresAt)
	row.RefreshTokenExpiresAt = timePtr(tok.RefreshExpiresAt)
	return nil
}

func (s *ShopStore) seal(shop, plain string) (*string, error) {
	if plain == "" {
		return nil, nil
	}
	sealed, err := s.sealer.SealWith([]byte(plain), []byte(shop))
	if err != nil {
		return nil, err
	}
	return &sealed, nil
}

func (s *ShopStore) open(shop string, sealed *string) (string, error) {
	if sealed == nil || *sealed == "" {
		return "", nil
	}
	b, err := s.sealer.OpenWith(*sealed, []byte(shop))
	return string(b), err
}

func splitScopes(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func deref(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// timePtr stores the zero time as NULL; deref reads NULL back as the zero time.
func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
