package postgres_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/postgres"
	"github.com/cvo-app/cvo/internal/postgres/pgtest"
	"github.com/cvo-app/cvo/internal/secretbox"
)

func keyring(t testing.TB) *secretbox.Keyring {
	k, err := secretbox.ParseKeyring("v1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
	require.NoError(t, err)
	return k
}

func expiringToken(access, refresh string, expires time.Time) cvo.Token {
	return cvo.Token{AccessToken: access, RefreshToken: refresh, ExpiresAt: expires,
		RefreshExpiresAt: expires.Add(90 * 24 * time.Hour), Scopes: []string{"read_orders", "read_customers"}}
}

func TestShopStoreInstallAndUninstall(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	store := postgres.NewShopStore(db, keyring(t))
	exp := time.Now().Add(time.Hour).Truncate(time.Microsecond)

	_, err := store.Get(ctx, "a.myshopify.com")
	assert.Equal(t, cvo.ENOTFOUND, cvo.ErrorCode(err))

	require.NoError(t, store.SaveInstall(ctx, "a.myshopify.com", expiringToken("shpat_access_A", "shprt_refresh_A", exp)))
	got, err := store.Get(ctx, "a.myshopify.com")
	require.NoError(t, err)
	assert.True(t, got.Installed())
	assert.Equal(t, "shpat_access_A", got.AccessToken)
	assert.Equal(t, "shprt_refresh_A", got.RefreshToken)
	assert.True(t, exp.Equal(got.AccessTokenExpiresAt))
	assert.Equal(t, []string{"read_orders", "read_customers"}, got.Scopes)

	var stored string
	require.NoError(t, db.Pool.QueryRow(ctx, "SELECT access_token_sealed || refresh_token_sealed FROM shops").Scan(&stored))
	assert.NotContains(t, stored, "shpat_access_A", "access token stored in plaintext")
	assert.NotContains(t, stored, "shprt_refresh_A", "refresh token stored in plaintext")

	installed, err := store.ListInstalled(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"a.myshopify.com"}, installed)

	for range 2 { // uninstall is idempotent
		require.NoError(t, store.MarkUninstalled(ctx, "a.myshopify.com"))
		got, err = store.Get(ctx, "a.myshopify.com")
		require.NoError(t, err)
		assert.False(t, got.Installed())
		assert.Empty(t, got.AccessToken)
		assert.Empty(t, got.RefreshToken)
		assert.False(t, got.UninstalledAt.IsZero())
	}
	installed, err = store.ListInstalled(ctx)
	require.NoError(t, err)
	assert.Empty(t, installed)

	// Reinstalling brings the shop back.
	require.NoError(t, store.SaveInstall(ctx, "a.myshopify.com", expiringToken("shpat_new", "shprt_new", exp)))
	got, err = store.Get(ctx, "a.myshopify.com")
	require.NoError(t, err)
	assert.True(t, got.Installed())
	assert.True(t, got.UninstalledAt.IsZero())
}

func TestShopStoreTenantIsolation(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	store := postgres.NewShopStore(db, keyring(t))
	exp := time.Now().Add(time.Hour)
	require.NoError(t, store.SaveInstall(ctx, "a.myshopify.com", expiringToken("token-of-a", "refresh-of-a", exp)))
	require.NoError(t, store.SaveInstall(ctx, "b.myshopify.com", expiringToken("token-of-b", "refresh-of-b", exp)))

	// Refreshing A under lock writes only A's row.
	_, err := store.WithTokenLock(ctx, "a.myshopify.com", func(cur cvo.Shop) (cvo.Token, bool, error) {
		assert.Equal(t, "token-of-a", cur.AccessToken)
		return expiringToken("token-of-a-2", "refresh-of-a-2", exp), true, nil
	})
	require.NoError(t, err)
	require.NoError(t, store.UpdateScopes(ctx, "a.myshopify.com", []string{"read_orders"}))
	require.NoError(t, store.MarkUninstalled(ctx, "a.myshopify.com"))

	b, err := store.Get(ctx, "b.myshopify.com")
	require.NoError(t, err)
	assert.Equal(t, "token-of-b", b.AccessToken)
	assert.Equal(t, "refresh-of-b", b.RefreshToken)
	assert.True(t, b.Installed())
	assert.Equal(t, []string{"read_orders", "read_customers"}, b.Scopes)
}

func TestWithTokenLockRefreshesOnce(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	store := postgres.NewShopStore(db, keyring(t))
	require.NoError(t, store.SaveInstall(ctx, "a.myshopify.com", expiringToken("old", "refresh-1", time.Now().Add(time.Minute))))

	var refreshes atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := store.WithTokenLock(ctx, "a.myshopify.com", func(cur cvo.Shop) (cvo.Token, bool, error) {
				if cur.AccessToken != "old" {
					return cvo.Token{}, false, nil
				}
				refreshes.Add(1)
				return expiringToken("new", "refresh-2", time.Now().Add(time.Hour)), true, nil
			})
			assert.NoError(t, err)
			assert.Equal(t, "new", got.AccessToken)
			assert.Equal(t, "refresh-2", got.RefreshToken)
		}()
	}
	wg.Wait()
	assert.Equal(t, int32(1), refreshes.Load())
}

func TestTokenCopiedToAnotherShopDoesNotOpen(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	store := postgres.NewShopStore(db, keyring(t))
	exp := time.Now().Add(time.Hour)
	require.NoError(t, store.SaveInstall(ctx, "a.myshopify.com", expiringToken("token-of-a", "refresh-of-a", exp)))
	require.NoError(t, store.SaveInstall(ctx, "b.myshopify.com", expiringToken("token-of-b", "refresh-of-b", exp)))
	_, err := db.Pool.Exec(ctx, `UPDATE shops SET access_token_sealed = (SELECT access_token_sealed FROM shops WHERE shop = 'a.myshopify.com') WHERE shop = 'b.myshopify.com'`)
	require.NoError(t, err)
	_, err = store.Get(ctx, "b.myshopify.com")
	assert.Error(t, err, "shop A's token must never act for shop B")
}
