package shopify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	testClientID     = "client-id-123"
	testClientSecret = "client-secret-abc"
	testShop         = "example.myshopify.com"
)

var testNow = time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)

// validClaims are what Shopify puts in a session token issued at testNow.
func validClaims() jwt.MapClaims {
	return jwt.MapClaims{
		"iss":  "https://" + testShop + "/admin",
		"dest": "https://" + testShop,
		"aud":  testClientID,
		"sub":  "42",
		"exp":  testNow.Add(time.Minute).Unix(),
		"nbf":  testNow.Add(-time.Second).Unix(),
		"iat":  testNow.Add(-time.Second).Unix(),
		"jti":  "8c4f1b3c-0000-4000-8000-000000000001",
		"sid":  "session-1",
	}
}

func signHS256(t testing.TB, claims jwt.MapClaims, secret string) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(secret))
	require.NoError(t, err)
	return s
}

// rawToken assembles a token by hand so tests can pair any header with any
// signature, as an attacker would.
func rawToken(t testing.TB, header map[string]any, claims jwt.MapClaims, sign func(signingInput string) string) string {
	t.Helper()
	h, err := json.Marshal(header)
	require.NoError(t, err)
	c, err := json.Marshal(claims)
	require.NoError(t, err)
	input := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c)
	return input + "." + sign(input)
}

func hs256Sig(secret string) func(string) string {
	return func(input string) string {
		m := hmac.New(sha256.New, []byte(secret))
		m.Write([]byte(input))
		return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	}
}

func TestVerifySessionTokenAccepts(t *testing.T) {
	tok := signHS256(t, validClaims(), testClientSecret)
	s, err := VerifySessionToken(tok, testClientID, testClientSecret, testNow)
	require.NoError(t, err)
	assert.Equal(t, Session{
		Shop:      testShop,
		UserID:    "42",
		SessionID: "session-1",
		TokenID:   "8c4f1b3c-0000-4000-8000-000000000001",
		IssuedAt:  time.Unix(testNow.Add(-time.Second).Unix(), 0),
		NotBefore: time.Unix(testNow.Add(-time.Second).Unix(), 0),
		Expires:   time.Unix(testNow.Add(time.Minute).Unix(), 0),
	}, s)

	// Leeway on both ends.
	_, err = VerifySessionToken(tok, testClientID, testClientSecret, testNow.Add(time.Minute+4*time.Second))
	assert.NoError(t, err, "expired 4 s ago is within leeway")
	_, err = VerifySessionToken(tok, testClientID, testClientSecret, testNow.Add(-5*time.Second))
	assert.NoError(t, err, "nbf 4 s ahead is within leeway")
}

func TestVerifySessionTokenRejects(t *testing.T) {
	with := func(mut func(c jwt.MapClaims)) jwt.MapClaims {
		c := validClaims()
		mut(c)
		return c
	}
	header := func(alg string) map[string]any { return map[string]any{"alg": alg, "typ": "JWT"} }

	tests := []struct {
		name  string
		token func(t *testing.T) string
		now   time.Time
		want  error
	}{
		{
			name:  "expired beyond leeway",
			token: func(t *testing.T) string { return signHS256(t, validClaims(), testClientSecret) },
			now:   testNow.Add(time.Minute + 6*time.Second),
			want:  ErrTokenExpired,
		},
		{
			name:  "not yet valid beyond leeway",
			token: func(t *testing.T) string { return signHS256(t, validClaims(), testClientSecret) },
			now:   testNow.Add(-7 * time.Second),
			want:  ErrTokenNotYetValid,
		},
		{
			name: "no exp",
			token: func(t *testing.T) string {
				return signHS256(t, with(func(c jwt.MapClaims) { delete(c, "exp") }), testClientSecret)
			},
			want: ErrMissingClaim,
		},
		{
			name: "wrong audience",
			token: func(t *testing.T) string {
				return signHS256(t, with(func(c jwt.MapClaims) { c["aud"] = "other-app" }), testClientSecret)
			},
			want: ErrWrongAudience,
		},
		{
			name: "audience list with extra entry",
			token: func(t *testing.T) string {
				return signHS256(t, with(func(c jwt.MapClaims) { c["aud"] = []string{testClientID, "other"} }), testClientSecret)
			},
			want: ErrWrongAudience,
		},
		{
			name: "missing audience",
			token: func(t *testing.T) string {
				return signHS256(t, with(func(c jwt.MapClaims) { delete(c, "aud") }), testClientSecret)
			},
			want: ErrWrongAudience,
		},
		{
			name: "iss names another shop",
			token: func(t *testing.T) string {
				return signHS256(t, with(func(c jwt.MapClaims) { c["iss"] = "https://other.myshopify.com/admin" }), testClientSecret)
			},
			want: ErrShopMismatch,
		},
		{
			name: "iss without /admin",
			token: func(t *testing.T) string {
				return signHS256(t, with(func(c jwt.MapClaims) { c["iss"] = "https://" + testShop }), testClientSecret)
			},
			want: ErrShopMismatch,
		},
		{
			name: "dest names another shop than iss",
			token: func(t *testing.T) string {
				return signHS256(t, with(func(c jwt.MapClaims) { c["dest"] = "https://other.myshopify.com" }), testClientSecret)
			},
			want: ErrShopMismatch,
		},
		{
			name: "dest host not a shop domain",
			token: func(t *testing.T) string {
				return signHS256(t, with(func(c jwt.MapClaims) {
					c["dest"] = "https://evil.com"
					c["iss"] = "https://evil.com/admin"
				}), testClientSecret)
			},
			want: ErrInvalidTokenShop,
		},
		{
			name: "dest with suffix trick",
			token: func(t *testing.T) string {
				return signHS256(t, with(func(c jwt.MapClaims) {
					c["dest"] = "https://x.myshopify.com.evil.com"
					c["iss"] = "https://x.myshopify.com.evil.com/admin"
				}), testClientSecret)
			},
			want: ErrInvalidTokenShop,
		},
		{
			name: "dest with port",
			token: func(t *testing.T) string {
				return signHS256(t, with(func(c jwt.MapClaims) {
					c["dest"] = "https://" + testShop + ":8443"
					c["iss"] = "https://" + testShop + ":8443/admin"
				}), testClientSecret)
			},
			want: ErrInvalidTokenShop,
		},
		{
			name: "dest over http",
			token: func(t *testing.T) string {
				return signHS256(t, with(func(c jwt.MapClaims) {
					c["dest"] = "http://" + testShop
					c["iss"] = "http://" + testShop + "/admin"
				}), testClientSecret)
			},
			want: ErrInvalidTokenShop,
		},
		{
			name: "missing dest",
			token: func(t *testing.T) string {
				return signHS256(t, with(func(c jwt.MapClaims) { delete(c, "dest") }), testClientSecret)
			},
			want: ErrMissingClaim,
		},
		{
			name: "missing sub",
			token: func(t *testing.T) string {
				return signHS256(t, with(func(c jwt.MapClaims) { delete(c, "sub") }), testClientSecret)
			},
			want: ErrMissingClaim,
		},
		{
			name:  "wrong secret",
			token: func(t *testing.T) string { return signHS256(t, validClaims(), "another-secret") },
			want:  ErrBadSignature,
		},
		{
			name:  "wrong secret and expired reports the signature",
			token: func(t *testing.T) string { return signHS256(t, validClaims(), "another-secret") },
			now:   testNow.Add(time.Hour),
			want:  ErrBadSignature,
		},
		{
			name: "alg none",
			token: func(t *testing.T) string {
				return rawToken(t, header("none"), validClaims(), func(string) string { return "" })
			},
			want: ErrBadAlgorithm,
		},
		{
			name: "alg none signed by library",
			token: func(t *testing.T) string {
				s, err := jwt.NewWithClaims(jwt.SigningMethodNone, validClaims()).SignedString(jwt.UnsafeAllowNoneSignatureType)
				require.NoError(t, err)
				return s
			},
			want: ErrBadAlgorithm,
		},
		{
			name: "RS256 header with HMAC signature (key confusion)",
			token: func(t *testing.T) string {
				return rawToken(t, header("RS256"), validClaims(), hs256Sig(testClientSecret))
			},
			want: ErrBadAlgorithm,
		},
		{
			name: "HS512 signed with the right secret",
			token: func(t *testing.T) string {
				s, err := jwt.NewWithClaims(jwt.SigningMethodHS512, validClaims()).SignedString([]byte(testClientSecret))
				require.NoError(t, err)
				return s
			},
			want: ErrBadAlgorithm,
		},
		{
			name: "unknown alg",
			token: func(t *testing.T) string {
				return rawToken(t, header("XX999"), validClaims(), hs256Sig(testClientSecret))
			},
			want: ErrBadAlgorithm,
		},
		{
			name:  "garbage",
			token: func(*testing.T) string { return "not-a-jwt" },
			want:  ErrMalformedToken,
		},
		{
			name:  "empty",
			token: func(*testing.T) string { return "" },
			want:  ErrMalformedToken,
		},
		{
			name:  "oversized",
			token: func(*testing.T) string { return strings.Repeat("a", maxSessionTokenLen+1) },
			want:  ErrMalformedToken,
		},
		{
			name: "tampered payload",
			token: func(t *testing.T) string {
				good := signHS256(t, validClaims(), testClientSecret)
				parts := strings.Split(good, ".")
				evil := with(func(c jwt.MapClaims) {
					c["dest"] = "https://victim.myshopify.com"
					c["iss"] = "https://victim.myshopify.com/admin"
				})
				b, err := json.Marshal(evil)
				require.NoError(t, err)
				return parts[0] + "." + base64.RawURLEncoding.EncodeToString(b) + "." + parts[2]
			},
			want: ErrBadSignature,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := tt.now
			if now.IsZero() {
				now = testNow
			}
			_, err := VerifySessionToken(tt.token(t), testClientID, testClientSecret, now)
			require.ErrorIs(t, err, tt.want)
			assert.ErrorIs(t, err, ErrInvalidSessionToken, "every rejection maps to one 401 check")
		})
	}
}

func TestVerifySessionTokenRequiresKey(t *testing.T) {
	tok := signHS256(t, validClaims(), "")
	_, err := VerifySessionToken(tok, testClientID, "", testNow)
	assert.ErrorIs(t, err, ErrNoVerificationKey)
	_, err = VerifySessionToken(tok, "", testClientSecret, testNow)
	assert.ErrorIs(t, err, ErrNoVerificationKey)
}

func TestSessionTokenErrorsDoNotLeakToken(t *testing.T) {
	tok := signHS256(t, validClaims(), "another-secret")
	_, err := VerifySessionToken(tok, testClientID, testClientSecret, testNow)
	require.Error(t, err)
	for _, part := range strings.Split(tok, ".") {
		assert.NotContains(t, err.Error(), part)
	}
	assert.NotContains(t, err.Error(), testClientSecret)
}

// FuzzVerifySessionToken feeds arbitrary strings, and mutations of a valid
// token, to the verifier: it must never panic, and must never accept a token
// unless it carries a valid HS256 signature made with the secret for the
// exact claims it accepted.
func FuzzVerifySessionToken(f *testing.F) {
	good := signHS256(f, validClaims(), testClientSecret)
	f.Add(good, "")
	f.Add(signHS256(f, validClaims(), "wrong"), "")
	f.Add("e30.e30.", "")
	f.Add("a.b.c", "x")
	f.Add(good, "https://victim.myshopify.com")
	f.Fuzz(func(t *testing.T, token, forgedDest string) {
		s, err := VerifySessionToken(token, testClientID, testClientSecret, testNow)
		if err != nil {
			assert.ErrorIs(t, err, ErrInvalidSessionToken)
			return
		}
		// Accepted: it must be (a re-encoding of) a token signed with the
		// secret whose claims say exactly what we returned.
		parts := strings.Split(token, ".")
		require.Len(t, parts, 3)
		assert.Equal(t, testShop, s.Shop, "only the fuzz seed's shop was ever signed")
		assert.True(t, ValidShopDomain(s.Shop))
		claims, err := base64.RawURLEncoding.DecodeString(parts[1])
		require.NoError(t, err)
		sig, err := base64.RawURLEncoding.DecodeString(parts[2])
		require.NoError(t, err)
		m := hmac.New(sha256.New, []byte(testClientSecret))
		m.Write([]byte(parts[0] + "." + parts[1]))
		assert.True(t, hmac.Equal(m.Sum(nil), sig), "accepted token without a valid signature")
		assert.NotEmpty(t, claims)

		// A token signed with any other secret, whatever its claims, fails.
		c := validClaims()
		if forgedDest != "" {
			c["dest"] = forgedDest
		}
		forged := signHS256(t, c, testClientSecret+"x")
		_, err = VerifySessionToken(forged, testClientID, testClientSecret, testNow)
		assert.ErrorIs(t, err, ErrBadSignature)
	})
}
