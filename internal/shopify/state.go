package shopify

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
)

// stateNonceBytes gives 128 bits of entropy, far beyond guessing.
const stateNonceBytes = 16

// stateMACLabel separates this use of the client secret from every other
// HMAC made with it (query and webhook signatures), so a state cookie can
// never double as one of those.
const stateMACLabel = "cvo/oauth-state/v1\x00"

// NewState returns a fresh random nonce for the authorization-code grant's
// state parameter, URL-safe so it needs no escaping in the authorize URL.
func NewState() (string, error) {
	b := make([]byte, stateNonceBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate oauth state: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// SignState returns the cookie value that binds nonce to this browser:
// "{nonce}.{base64url HMAC-SHA256}". The server sets it (HttpOnly, Secure,
// SameSite=Lax, short Max-Age) when redirecting to Shopify and checks it on
// the callback with VerifyState.
func SignState(nonce, secret string) string {
	return nonce + "." + base64.RawURLEncoding.EncodeToString(stateMAC(nonce, secret))
}

// VerifyState reports whether cookieValue was made by SignState for exactly
// this nonce (the state query parameter on the callback) with this secret.
func VerifyState(cookieValue, nonce, secret string) bool {
	if secret == "" || nonce == "" {
		return false
	}
	cookieNonce, sig, ok := strings.Cut(cookieValue, ".")
	if !ok {
		return false
	}
	gotMAC, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		return false
	}
	// Both comparisons always run so timing does not reveal which failed.
	sameNonce := hmac.Equal([]byte(cookieNonce), []byte(nonce))
	validMAC := hmac.Equal(gotMAC, stateMAC(cookieNonce, secret))
	return sameNonce && validMAC
}

func stateMAC(nonce, secret string) []byte {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(stateMACLabel))
	mac.Write([]byte(nonce))
	return mac.Sum(nil)
}
