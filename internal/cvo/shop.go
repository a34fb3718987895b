package cvo

import (
	"strings"
	"time"
)

// Shop is a tenant: one Shopify store that installed the app.
type Shop struct {
	Domain   string // its myshopify.com domain, the tenant key
	Name     string
	Currency string
	Timezone string
	Scopes   []string

	// Tokens are plaintext only in memory; storage seals them.
	AccessToken           string
	AccessTokenExpiresAt  time.Time // zero for a non-expiring token
	RefreshToken          string
	RefreshTokenExpiresAt time.Time

	InstalledAt   time.Time
	UninstalledAt time.Time
}

// Installed says whether the shop has the app and a token to act with.
func (s Shop) Installed() bool {
	return s.AccessToken != "" && s.UninstalledAt.IsZero()
}

// ScopeString is the comma-separated form Shopify uses for scopes.
func (s Shop) ScopeString() string { return strings.Join(s.Scopes, ",") }

// Token is an access grant from Shopify for one shop.
type Token struct {
	AccessToken      string
	Scopes           []string
	ExpiresAt        time.Time // zero when the token does not expire
	RefreshToken     string
	RefreshExpiresAt time.Time
}

// CustomerRef names a customer in a privacy request: Shopify sends the id and
// whatever contact details it holds.
type CustomerRef struct {
	ID    string
	Email string
	Phone string
}
