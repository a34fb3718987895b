package shopify

import (
	"errors"
	"regexp"
	"strings"
)

// ErrInvalidShop is returned for anything that is not a bare
// "{name}.myshopify.com" host. Every function that sends a secret to a shop
// checks the domain first, so a crafted shop parameter can never redirect
// credentials to another host.
var ErrInvalidShop = errors.New("invalid shop domain")

// shopDomainPattern is anchored on both ends; together with the ASCII-only
// and length checks below it admits exactly one DNS name under myshopify.com.
var shopDomainPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*\.myshopify\.com$`)

const (
	shopSuffix = ".myshopify.com"
	// A DNS label holds at most 63 octets; the shop name is one label.
	maxShopLabel = 63
)

// ValidShopDomain reports whether s is exactly a lower-case
// "{name}.myshopify.com" host: no scheme, port, path, userinfo, trailing dot,
// upper case or non-ASCII characters.
func ValidShopDomain(s string) bool {
	if len(s) <= len(shopSuffix) || len(s)-len(shopSuffix) > maxShopLabel {
		return false
	}
	// The regexp works on runes; checking bytes first keeps look-alike
	// characters and invalid UTF-8 out regardless of how the regexp engine
	// treats them.
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return shopDomainPattern.MatchString(s)
}

// NormalizeShop trims surrounding white space and lower-cases an ASCII shop
// domain, then validates it. Non-ASCII input is refused before lower-casing,
// because Unicode case folding maps some look-alikes onto ASCII letters
// (U+212A KELVIN SIGN lower-cases to "k").
func NormalizeShop(s string) (string, error) {
	s = strings.TrimSpace(s)
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return "", ErrInvalidShop
		}
	}
	s = strings.ToLower(s)
	if !ValidShopDomain(s) {
		return "", ErrInvalidShop
	}
	return s, nil
}
