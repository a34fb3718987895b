package shopify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func hexMAC(secret, message string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(message))
	return hex.EncodeToString(m.Sum(nil))
}

func mustQuery(t testing.TB, raw string) url.Values {
	t.Helper()
	q, err := url.ParseQuery(raw)
	require.NoError(t, err)
	return q
}

func TestVerifyQueryHMAC(t *testing.T) {
	// The first two vectors are Shopify's documentation example (secret
	// "hush"), so they check the rule itself, not just self-consistency.
	const docSecret = "hush"
	tests := []struct {
		name   string
		query  string
		secret string
		want   bool
	}{
		{
			name:   "shopify docs example",
			query:  "code=0907a61c0c8d55e99db179b68161bc00&hmac=700e2dadb827fcc8609e9d5ce208b2e9cdaab9df07390d2cbca10d7c328fc4bf&shop=some-shop.myshopify.com&state=0.6784241404160823&timestamp=1337178173",
			secret: docSecret,
			want:   true,
		},
		{
			name:   "shopify docs example without state",
			query:  "code=0907a61c0c8d55e99db179b68161bc00&hmac=4712bf92ffc2917d15a2f5a273e39f0116667419aa4b6ac0b3baaf26fa3c4d20&shop=some-shop.myshopify.com&timestamp=1337178173",
			secret: docSecret,
			want:   true,
		},
		{
			name:   "parameter order in the URL does not matter",
			query:  "timestamp=1337178173&shop=some-shop.myshopify.com&hmac=4712bf92ffc2917d15a2f5a273e39f0116667419aa4b6ac0b3baaf26fa3c4d20&code=0907a61c0c8d55e99db179b68161bc00",
			secret: docSecret,
			want:   true,
		},
		{
			name:   "upper-case hex digest",
			query:  "code=0907a61c0c8d55e99db179b68161bc00&hmac=" + strings.ToUpper("4712bf92ffc2917d15a2f5a273e39f0116667419aa4b6ac0b3baaf26fa3c4d20") + "&shop=some-shop.myshopify.com&timestamp=1337178173",
			secret: docSecret,
			want:   true,
		},
		{
			name:   "signature parameter is ignored",
			query:  "code=0907a61c0c8d55e99db179b68161bc00&hmac=4712bf92ffc2917d15a2f5a273e39f0116667419aa4b6ac0b3baaf26fa3c4d20&shop=some-shop.myshopify.com&signature=whatever&timestamp=1337178173",
			secret: docSecret,
			want:   true,
		},
		{
			name:   "tampered shop",
			query:  "code=0907a61c0c8d55e99db179b68161bc00&hmac=4712bf92ffc2917d15a2f5a273e39f0116667419aa4b6ac0b3baaf26fa3c4d20&shop=evil-shop.myshopify.com&timestamp=1337178173",
			secret: docSecret,
			want:   false,
		},
		{
			name:   "added parameter",
			query:  "code=0907a61c0c8d55e99db179b68161bc00&hmac=4712bf92ffc2917d15a2f5a273e39f0116667419aa4b6ac0b3baaf26fa3c4d20&shop=some-shop.myshopify.com&timestamp=1337178173&x=1",
			secret: docSecret,
			want:   false,
		},
		{
			name:   "wrong secret",
			query:  "code=0907a61c0c8d55e99db179b68161bc00&hmac=4712bf92ffc2917d15a2f5a273e39f0116667419aa4b6ac0b3baaf26fa3c4d20&shop=some-shop.myshopify.com&timestamp=1337178173",
			secret: "hush2",
			want:   false,
		},
		{
			name:   "empty secret",
			query:  "hmac=" + hexMAC("", "shop=a.myshopify.com") + "&shop=a.myshopify.com",
			secret: "",
			want:   false,
		},
		{name: "missing hmac", query: "code=1&shop=some-shop.myshopify.com&timestamp=1337178173", secret: docSecret, want: false},
		{name: "empty hmac", query: "hmac=&shop=some-shop.myshopify.com", secret: docSecret, want: false},
		{name: "non-hex hmac", query: "hmac=" + strings.Repeat("z", 64) + "&shop=some-shop.myshopify.com", secret: docSecret, want: false},
		{name: "short hmac", query: "hmac=4712bf92&shop=some-shop.myshopify.com", secret: docSecret, want: false},
		{
			name:   "two hmac values",
			query:  "hmac=" + hexMAC("s", "shop=a.myshopify.com") + "&hmac=" + hexMAC("s", "shop=a.myshopify.com") + "&shop=a.myshopify.com",
			secret: "s",
			want:   false,
		},
		{
			name:   "array parameter signed as JSON list",
			query:  "hmac=" + hexMAC("s", `ids=["2074861961283", "2074861830211"]&locale=en&shop=a.myshopify.com&timestamp=1552479578`) + "&ids%5B%5D=2074861961283&ids%5B%5D=2074861830211&locale=en&shop=a.myshopify.com&timestamp=1552479578",
			secret: "s",
			want:   true,
		},
		{
			name:   "array parameter reordered",
			query:  "hmac=" + hexMAC("s", `ids=["2074861961283", "2074861830211"]&shop=a.myshopify.com`) + "&ids%5B%5D=2074861830211&ids%5B%5D=2074861961283&shop=a.myshopify.com",
			secret: "s",
			want:   false,
		},
		{
			name:   "repeated plain parameter is ambiguous",
			query:  "hmac=" + hexMAC("s", "a=1&a=2") + "&a=1&a=2",
			secret: "s",
			want:   false,
		},
		{
			name:   "both key and key[] is ambiguous",
			query:  "hmac=" + hexMAC("s", `ids=1&ids=["2"]`) + "&ids=1&ids%5B%5D=2",
			secret: "s",
			want:   false,
		},
		{
			name:   "delimiters in values are escaped",
			query:  "hmac=" + hexMAC("s", "a=x%26b=y&b=100%25") + "&a=x%26b%3Dy&b=100%25",
			secret: "s",
			want:   true,
		},
		{
			name:   "escaped delimiters cannot be re-split",
			query:  "hmac=" + hexMAC("s", "a=x&b=y") + "&a=x%26b%3Dy",
			secret: "s",
			want:   false,
		},
		{
			name:   "base64 host with padding stays raw",
			query:  "hmac=" + hexMAC("s", "host=YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvYQ==&shop=a.myshopify.com") + "&host=YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvYQ%3D%3D&shop=a.myshopify.com",
			secret: "s",
			want:   true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, VerifyQueryHMAC(mustQuery(t, tt.query), tt.secret))
		})
	}
}

func TestJSONStringArray(t *testing.T) {
	// Expected strings are what Python's json.dumps produces.
	assert.Equal(t, `["1", "2"]`, jsonStringArray([]string{"1", "2"}))
	assert.Equal(t, `[]`, jsonStringArray(nil))
	assert.Equal(t, `["a\"b\\c\n"]`, jsonStringArray([]string{"a\"b\\c\n"}))
	assert.Equal(t, `["\u00e9\u007f\ud83d\ude00\u0001"]`, jsonStringArray([]string{"é\x7f😀\x01"}))
}

func TestVerifyQueryTimestamp(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	tests := []struct {
		ts   string
		want bool
	}{
		{"1700000000", true},
		{"1699999910", true},  // 90 s old
		{"1700000090", true},  // 90 s ahead
		{"1699999909", false}, // 91 s old
		{"1700000091", false},
		{"", false},
		{"abc", false},
		{"1.7e9", false},
	}
	for _, tt := range tests {
		t.Run(tt.ts, func(t *testing.T) {
			q := url.Values{}
			if tt.ts != "" {
				q.Set("timestamp", tt.ts)
			}
			assert.Equal(t, tt.want, VerifyQueryTimestamp(q, now, 90*time.Second))
		})
	}
}

func TestVerifyWebhookHMAC(t *testing.T) {
	body := []byte(`{"id":820982911946154508,"email":"jon@example.com"}`)
	mac := hmac.New(sha256.New, []byte("secret"))
	mac.Write(body)
	good := base64.StdEncoding.EncodeToString(mac.Sum(nil))

	tests := []struct {
		name   string
		body   []byte
		header string
		secret string
		want   bool
	}{
		{"valid", body, good, "secret", true},
		{"surrounding space tolerated", body, " " + good + " ", "secret", true},
		{"body changed", append([]byte(nil), append(body, ' ')...), good, "secret", false},
		{"wrong secret", body, good, "other", false},
		{"empty secret", body, good, "", false},
		{"missing header", body, "", "secret", false},
		{"hex instead of base64", body, hex.EncodeToString(mac.Sum(nil)), "secret", false},
		{"truncated", body, good[:20], "secret", false},
		{"not base64", body, "!!!", "secret", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, VerifyWebhookHMAC(tt.body, tt.header, tt.secret))
		})
	}
}

// FuzzVerifyQueryHMAC: arbitrary queries never panic or verify with a
// guessed digest; a query signed by the canonical rule verifies, and
// changing any value afterwards breaks it.
func FuzzVerifyQueryHMAC(f *testing.F) {
	f.Add("code=1&shop=a.myshopify.com&timestamp=2", "x")
	f.Add("ids%5B%5D=1&ids%5B%5D=2&shop=a.myshopify.com", "y")
	f.Add("a=%26&b=%3D&c=%25", "")
	f.Add("hmac=00&a=1", "1")
	f.Fuzz(func(t *testing.T, rawQuery, tamper string) {
		q, err := url.ParseQuery(rawQuery)
		if err != nil {
			return
		}
		const secret = "fuzz-secret"
		guessed := q.Has("hmac")
		if guessed {
			assert.False(t, VerifyQueryHMAC(q, secret), "a digest present in random input must not verify")
		}

		message, ok := queryHMACMessage(q)
		if !ok {
			q.Set("hmac", strings.Repeat("0", 64))
			assert.False(t, VerifyQueryHMAC(q, secret))
			return
		}
		q.Set("hmac", hexMAC(secret, message))
		require.True(t, VerifyQueryHMAC(q, secret))

		for key, values := range q {
			if key == "hmac" || key == "signature" || tamper == "" {
				continue
			}
			changed := cloneValues(q)
			changed[key] = append([]string(nil), values...)
			changed[key][0] += tamper
			assert.False(t, VerifyQueryHMAC(changed, secret), "tampered %q still verifies", key)
			break
		}
	})
}

func cloneValues(q url.Values) url.Values {
	out := make(url.Values, len(q))
	for k, v := range q {
		out[k] = append([]string(nil), v...)
	}
	return out
}
