package survey_test

import (
	"encoding/base64"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/survey"
)

const shop = "a.myshopify.com"

func signer(t *testing.T, secret string) *survey.Signer {
	t.Helper()
	s, err := survey.NewSigner(secret)
	require.NoError(t, err)
	return s
}

func TestLinkRoundTrip(t *testing.T) {
	s := signer(t, "0123456789abcdef-app-secret")
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	l := survey.Link{SurveyID: 42, CustomerID: 7_400_000_000_001, ExpiresDay: survey.LinkExpiry(now, 30)}
	tok := s.Sign(shop, l)
	assert.LessOrEqual(t, len(tok), survey.MaxTokenLength)
	got, err := s.Verify(shop, tok, now)
	require.NoError(t, err)
	assert.Equal(t, l, got)
	claimed, err := survey.ParseToken(tok)
	require.NoError(t, err)
	assert.Equal(t, l, claimed)
	assert.NotContains(t, survey.URL("https://app.example.com/", tok), "//s/")
}

func TestLinksCannotBeForgedOrAltered(t *testing.T) {
	s := signer(t, "0123456789abcdef-app-secret")
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	good := survey.Link{SurveyID: 42, CustomerID: 1001, ExpiresDay: survey.LinkExpiry(now, 30)}
	tok := s.Sign(shop, good)

	flip := func(i int) string {
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		require.NoError(t, err)
		raw[i] ^= 0x01
		return base64.RawURLEncoding.EncodeToString(raw)
	}
	// A link re-signed by another secret: what a forger without the app's
	// secret can make.
	forger := signer(t, "someone-elses-secret-xyz")
	cases := []struct {
		name  string
		token string
		shop  string
		want  error
	}{
		{"another customer", resignBody(t, tok, survey.Link{SurveyID: 42, CustomerID: 1002, ExpiresDay: good.ExpiresDay}), shop, survey.ErrForged},
		{"another survey", resignBody(t, tok, survey.Link{SurveyID: 43, CustomerID: 1001, ExpiresDay: good.ExpiresDay}), shop, survey.ErrForged},
		{"later expiry", resignBody(t, tok, survey.Link{SurveyID: 42, CustomerID: 1001, ExpiresDay: good.ExpiresDay + 365}), shop, survey.ErrForged},
		{"a bit of the tag flipped", flip(len(mustDecode(t, tok)) - 1), shop, survey.ErrForged},
		{"signed with another secret", forger.Sign(shop, good), shop, survey.ErrForged},
		{"used at another shop", tok, "b.myshopify.com", survey.ErrForged},
		{"a bit of the version flipped", flip(0), shop, survey.ErrMalformed},
		{"truncated", tok[:len(tok)-2], shop, survey.ErrForged},
		{"empty", "", shop, survey.ErrMalformed},
		{"padded base64", tok + "==", shop, survey.ErrMalformed},
		{"standard alphabet", "+/" + tok, shop, survey.ErrMalformed},
		{"too long", tok + tok + tok, shop, survey.ErrMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Verify(tc.shop, tc.token, now)
			if tc.want == survey.ErrForged {
				// Truncation may also break the structure; either way it fails.
				assert.True(t, err == survey.ErrForged || err == survey.ErrMalformed, "got %v", err)
				assert.NotEqual(t, survey.ErrExpired, err)
				return
			}
			assert.Equal(t, tc.want, err)
		})
	}
}

// resignBody swaps the claims of tok for l and keeps tok's tag: an
// attacker's edit of a genuine link.
func resignBody(t *testing.T, tok string, l survey.Link) string {
	t.Helper()
	raw := mustDecode(t, tok)
	tag := raw[len(raw)-16:]
	other := mustDecode(t, signer(t, "irrelevant-secret-123456").Sign(shop, l))
	body := other[:len(other)-16]
	return base64.RawURLEncoding.EncodeToString(append(append([]byte{}, body...), tag...))
}

func mustDecode(t *testing.T, tok string) []byte {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	require.NoError(t, err)
	return raw
}

func TestLinkExpiry(t *testing.T) {
	s := signer(t, "0123456789abcdef-app-secret")
	issued := time.Date(2026, 12, 1, 23, 59, 0, 0, time.UTC)
	day := survey.LinkExpiry(issued, 30)
	l := survey.Link{SurveyID: 1, CustomerID: 2, ExpiresDay: day}
	tok := s.Sign(shop, l)
	exp := l.Expires()
	assert.GreaterOrEqual(t, exp.Sub(issued), 30*24*time.Hour-time.Minute, "a link lives at least its days")
	assert.LessOrEqual(t, exp.Sub(issued), 60*24*time.Hour, "and at most twice that")

	_, err := s.Verify(shop, tok, exp.Add(-time.Second))
	assert.NoError(t, err)
	_, err = s.Verify(shop, tok, exp)
	assert.Equal(t, survey.ErrExpired, err)
	_, err = s.Verify(shop, tok, exp.Add(400*24*time.Hour))
	assert.Equal(t, survey.ErrExpired, err)

	// The same window gives the same link, so write-backs send no change.
	assert.Equal(t, day, survey.LinkExpiry(issued.Add(-10*24*time.Hour), 30))
	assert.Equal(t, tok, s.Sign(shop, survey.Link{SurveyID: 1, CustomerID: 2, ExpiresDay: survey.LinkExpiry(issued.Add(-time.Hour), 30)}))
}

func TestNewSignerRefusesShortSecrets(t *testing.T) {
	_, err := survey.NewSigner("short")
	assert.Error(t, err)
}

func FuzzParseToken(f *testing.F) {
	s, _ := survey.NewSigner("0123456789abcdef-app-secret")
	f.Add(s.Sign(shop, survey.Link{SurveyID: 1, CustomerID: 2, ExpiresDay: 3}))
	f.Add(s.Sign(shop, survey.Link{SurveyID: 1 << 40, CustomerID: 1 << 50, ExpiresDay: 1 << 20}))
	f.Add("")
	f.Add("AQEBAQ")
	f.Add("AYCAgICAgICAgAEBAQEBAQEBAQEBAQEBAQEBAQE")
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, tok string) {
		l, err := survey.ParseToken(tok)
		if err != nil {
			return
		}
		if l.SurveyID <= 0 || l.CustomerID <= 0 || l.ExpiresDay <= 0 {
			t.Fatalf("parsed non-positive ids from %q: %+v", tok, l)
		}
		// A parsed token is the one canonical encoding of its claims: the
		// only way to verify is to carry the right tag.
		if _, err := s.Verify(shop, tok, now); err == nil && s.Sign(shop, l) != tok {
			t.Fatalf("token %q verified but is not the canonical one", tok)
		}
	})
}

// BenchmarkVerify measures what the public page pays per request to check
// a link (HKDF of the shop key and one HMAC).
func BenchmarkVerify(b *testing.B) {
	s, _ := survey.NewSigner("0123456789abcdef-app-secret")
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	tok := s.Sign(shop, survey.Link{SurveyID: 42, CustomerID: 7_400_000_000_001, ExpiresDay: survey.LinkExpiry(now, 30)})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Verify(shop, tok, now); err != nil {
			b.Fatal(err)
		}
	}
}
