package shopify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewState(t *testing.T) {
	a, err := NewState()
	require.NoError(t, err)
	b, err := NewState()
	require.NoError(t, err)
	assert.NotEqual(t, a, b)
	assert.Len(t, a, 22, "16 random bytes, unpadded base64url")
	assert.Equal(t, a, url.QueryEscape(a), "needs no escaping in a URL")
}

func TestVerifyState(t *testing.T) {
	const secret = "client-secret"
	nonce, err := NewState()
	require.NoError(t, err)
	cookie := SignState(nonce, secret)
	other, err := NewState()
	require.NoError(t, err)
	_, sig, _ := strings.Cut(cookie, ".")

	tests := []struct {
		name   string
		cookie string
		nonce  string
		secret string
		want   bool
	}{
		{"valid", cookie, nonce, secret, true},
		{"state from another flow", cookie, other, secret, false},
		{"cookie for another nonce", SignState(other, secret), nonce, secret, false},
		{"nonce swapped into cookie", other + "." + sig, other, secret, false},
		{"wrong secret", cookie, nonce, "other-secret", false},
		{"empty secret", SignState(nonce, ""), nonce, "", false},
		{"unsigned cookie", nonce, nonce, secret, false},
		{"empty signature", nonce + ".", nonce, secret, false},
		{"signature not base64", nonce + ".!!", nonce, secret, false},
		{"empty cookie", "", nonce, secret, false},
		{"empty nonce", SignState("", secret), "", secret, false},
		{"truncated signature", cookie[:len(cookie)-2], nonce, secret, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, VerifyState(tt.cookie, tt.nonce, tt.secret))
		})
	}
}

func TestStateMACIsDomainSeparated(t *testing.T) {
	// The same secret signs query HMACs and state cookies; the label keeps a
	// state MAC from ever being the plain HMAC of the nonce.
	const secret = "s"
	nonce := "abc"
	_, sig, _ := strings.Cut(SignState(nonce, secret), ".")
	got, err := base64.RawURLEncoding.DecodeString(sig)
	require.NoError(t, err)
	plain := hmac.New(sha256.New, []byte(secret))
	plain.Write([]byte(nonce))
	assert.Len(t, got, sha256.Size)
	assert.NotEqual(t, plain.Sum(nil), got)
}
