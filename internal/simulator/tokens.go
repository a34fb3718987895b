package simulator

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
	"sync"
	"time"
)

const (
	// Expiring offline access tokens live an hour; refresh tokens 90 days
	// (changelog "Offline access tokens now support expiry and refresh").
	offlineTokenTTL = time.Hour
	refreshTokenTTL = 90 * 24 * time.Hour
	// Online tokens live at most a day; Shopify reports expires_in 86399.
	onlineTokenTTL = 86399 * time.Second
	// A refresh token that was used stays usable until its replacement is
	// used, for at most 30 days from its first use (changelog "More
	// resilient refreshes for expiring offline access tokens", 2026-08-28).
	refreshRecoveryWindow = 30 * 24 * time.Hour
	// Authorization codes are short-lived and single-use.
	authCodeTTL = 10 * time.Minute
)

// Non-expiring offline tokens stop working for public apps on this date
// (changelog "Expiring offline access tokens required for all public apps
// as of January 1, 2027").
var nonExpiringCutoff = time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)

type accessToken struct {
	shop     string
	online   bool
	userID   int64
	issued   time.Time
	expires  time.Time // zero = never
	revoked  bool
	expiring bool
}

type refreshToken struct {
	shop     string
	issued   time.Time
	expires  time.Time
	usedAt   time.Time // first use; zero = never used
	parent   string    // the refresh token this one replaced
	children []string  // tokens issued by using this one
	retired  bool
}

type authCode struct {
	shop    string
	online  bool
	userID  int64
	expires time.Time
	used    bool
}

type tokenStore struct {
	mu      sync.Mutex
	access  map[string]*accessToken
	refresh map[string]*refreshToken
	codes   map[string]*authCode
}

func newTokenStore() *tokenStore {
	return &tokenStore{
		access:  map[string]*accessToken{},
		refresh: map[string]*refreshToken{},
		codes:   map[string]*authCode{},
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("simulator: crypto/rand failed: " + err.Error())
	}
	return hex.EncodeToString(b)
}

// issued is what the token endpoint returns.
type issued struct {
	access, refresh string
	accessTTL       time.Duration // 0 = non-expiring
	online          bool
	userID          int64
}

func (ts *tokenStore) issueLocked(shop string, now time.Time, online, expiring bool, userID int64, parent string) issued {
	out := issued{online: online, userID: userID}
	prefix := "shpat_"
	if online {
		prefix = "shpua_"
	}
	out.access = prefix + randomHex(16)
	at := &accessToken{shop: shop, online: online, userID: userID, issued: now, expiring: expiring || online}
	switch {
	case online:
		out.accessTTL = onlineTokenTTL
	case expiring:
		out.accessTTL = offlineTokenTTL
	}
	if out.accessTTL > 0 {
		at.expires = now.Add(out.accessTTL)
	}
	ts.access[out.access] = at
	if expiring && !online {
		out.refresh = "shprt_" + randomHex(16)
		ts.refresh[out.refresh] = &refreshToken{shop: shop, issued: now, expires: now.Add(refreshTokenTTL), parent: parent}
	}
	return out
}

func (ts *tokenStore) issue(shop string, now time.Time, online, expiring bool, userID int64) issued {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.issueLocked(shop, now, online, expiring, userID, "")
}

// validAccess returns the token's record when it may call the Admin API.
func (ts *tokenStore) validAccess(token, shop string, now time.Time) (*accessToken, bool) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	at, ok := ts.access[token]
	if !ok || at.revoked || at.shop != shop {
		return nil, false
	}
	if !at.expires.IsZero() && !now.Before(at.expires) {
		return nil, false
	}
	if !at.expiring && !now.Before(nonExpiringCutoff) {
		return nil, false
	}
	at2 := *at
	return &at2, true
}

type refreshOutcome int

const (
	refreshOK refreshOutcome = iota
	refreshUnknown
	refreshExpired
	refreshSpent
)

// refreshWith rotates a refresh token: a new access token and a new refresh
// token. Using a child retires its parent and the parent's other children
// (replacements whose responses were lost).
func (ts *tokenStore) refreshWith(token, shop string, now time.Time) (issued, refreshOutcome) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	rt, ok := ts.refresh[token]
	if !ok || rt.shop != shop {
		return issued{}, refreshUnknown
	}
	if rt.retired {
		return issued{}, refreshSpent
	}
	if !now.Before(rt.expires) {
		return issued{}, refreshExpired
	}
	if !rt.usedAt.IsZero() && !now.Before(rt.usedAt.Add(refreshRecoveryWindow)) {
		rt.retired = true
		return issued{}, refreshSpent
	}
	if rt.usedAt.IsZero() {
		rt.usedAt = now
	}
	if parent, ok := ts.refresh[rt.parent]; ok && !parent.retired {
		parent.retired = true
		for _, sib := range parent.children {
			if sib != token {
				if s, ok := ts.refresh[sib]; ok {
					s.retired = true
				}
			}
		}
	}
	out := ts.issueLocked(shop, now, false, true, 0, token)
	rt.children = append(rt.children, out.refresh)
	return out, refreshOK
}

func (ts *tokenStore) newCode(shop string, now time.Time, online bool, userID int64) string {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	code := randomHex(16)
	ts.codes[code] = &authCode{shop: shop, online: online, userID: userID, expires: now.Add(authCodeTTL)}
	return code
}

func (ts *tokenStore) useCode(code, shop string, now time.Time) (*authCode, bool) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	c, ok := ts.codes[code]
	if !ok || c.used || c.shop != shop || !now.Before(c.expires) {
		return nil, false
	}
	c.used = true
	c2 := *c
	return &c2, true
}

// revokeShop kills every token of a shop, as uninstalling the app does.
func (ts *tokenStore) revokeShop(shop string) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	for _, at := range ts.access {
		if at.shop == shop {
			at.revoked = true
		}
	}
	for _, rt := range ts.refresh {
		if rt.shop == shop {
			rt.retired = true
		}
	}
	for _, c := range ts.codes {
		if c.shop == shop {
			c.used = true
		}
	}
}

// RevokeTokens revokes every access and refresh token of a shop without
// sending a webhook, as when the merchant rotates the app's credentials.
func (s *Simulator) RevokeTokens(shop string) {
	s.tokens.revokeShop(shop)
}

// ActiveTokens counts a shop's unexpired, unrevoked access tokens.
func (s *Simulator) ActiveTokens(shop string) int {
	now := s.now()
	s.tokens.mu.Lock()
	defer s.tokens.mu.Unlock()
	n := 0
	for _, at := range s.tokens.access {
		if at.shop == shop && !at.revoked && (at.expires.IsZero() || now.Before(at.expires)) {
			n++
		}
	}
	return n
}

func scopeString(scopes []string) string { return strings.Join(scopes, ",") }
