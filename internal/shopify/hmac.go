package shopify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
)

// VerifyQueryHMAC checks the hmac parameter Shopify adds to redirects and
// admin links (install request, OAuth callback, app/admin links).
//
// The signed message follows Shopify's documented rule, as implemented by its
// own API libraries:
//   - drop the "hmac" and "signature" parameters;
//   - a parameter sent as "key[]" (admin bulk-action links send ids[]=1&ids[]=2)
//     becomes key=["1", "2"]: the values as a JSON array, ", " between items;
//   - in keys "%" becomes %25 and "=" becomes %3D, in values "%" becomes %25,
//     and "&" becomes %26 in both, so the pairs cannot be re-split differently;
//   - the "key=value" strings are sorted and joined with "&";
//   - the message is signed with HMAC-SHA256 under the client secret and
//     compared, in constant time, with the hex digest in hmac.
//
// A parameter repeated without "[]", or sent both with and without "[]",
// has no documented encoding and fails verification.
func VerifyQueryHMAC(query url.Values, secret string) bool {
	if secret == "" {
		return false
	}
	got := query["hmac"]
	if len(got) != 1 || len(got[0]) != sha256.Size*2 {
		return false
	}
	want, err := hex.DecodeString(got[0])
	if err != nil {
		return false
	}
	message, ok := queryHMACMessage(query)
	if !ok {
		return false
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(message))
	return hmac.Equal(mac.Sum(nil), want)
}

var (
	hmacKeyEscaper   = strings.NewReplacer("%", "%25", "=", "%3D", "&", "%26")
	hmacValueEscaper = strings.NewReplacer("%", "%25", "&", "%26")
)

// queryHMACMessage builds the string Shopify signs. ok is false for queries
// whose encoding would be ambiguous.
func queryHMACMessage(query url.Values) (message string, ok bool) {
	pairs := make([]string, 0, len(query))
	for key, values := range query {
		if key == "hmac" || key == "signature" {
			continue
		}
		name, isArray := strings.CutSuffix(key, "[]")
		var value string
		switch {
		case isArray:
			if _, clash := query[name]; clash {
				return "", false
			}
			value = jsonStringArray(values)
		case len(values) == 1:
			value = values[0]
		default:
			return "", false
		}
		pairs = append(pairs, hmacKeyEscaper.Replace(name)+"="+hmacValueEscaper.Replace(value))
	}
	sort.Strings(pairs)
	return strings.Join(pairs, "&"), true
}

// jsonStringArray renders values the way Python's json.dumps renders a list
// of strings, which is the form Shopify signs: ["a", "b"], with everything
// outside printable ASCII escaped as \uXXXX (UTF-16 surrogate pairs above
// the BMP).
func jsonStringArray(values []string) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, v := range values {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('"')
		for _, r := range v {
			switch {
			case r == '"':
				b.WriteString(`\"`)
			case r == '\\':
				b.WriteString(`\\`)
			case r == '\n':
				b.WriteString(`\n`)
			case r == '\r':
				b.WriteString(`\r`)
			case r == '\t':
				b.WriteString(`\t`)
			case r == '\b':
				b.WriteString(`\b`)
			case r == '\f':
				b.WriteString(`\f`)
			case r >= 0x20 && r <= 0x7e:
				b.WriteRune(r)
			case r > 0xffff:
				hi, lo := utf16.EncodeRune(r)
				fmt.Fprintf(&b, `\u%04x\u%04x`, hi, lo)
			default:
				fmt.Fprintf(&b, `\u%04x`, r)
			}
		}
		b.WriteByte('"')
	}
	b.WriteByte(']')
	return b.String()
}

// VerifyQueryTimestamp reports whether the query's timestamp parameter (Unix
// seconds, set by Shopify when it signs a redirect) lies within tolerance of
// now. Checked together with the HMAC it limits how long a captured signed
// URL can be replayed.
func VerifyQueryTimestamp(query url.Values, now time.Time, tolerance time.Duration) bool {
	ts, err := strconv.ParseInt(query.Get("timestamp"), 10, 64)
	if err != nil {
		return false
	}
	d := now.Sub(time.Unix(ts, 0))
	return d <= tolerance && d >= -tolerance
}

// VerifyWebhookHMAC checks the X-Shopify-Hmac-Sha256 header: the base64
// HMAC-SHA256 of the raw request body under the client secret. body must be
// the bytes exactly as received, before any JSON decoding.
func VerifyWebhookHMAC(body []byte, header string, secret string) bool {
	m := NewWebhookMAC(header, secret)
	_, _ = m.Write(body)
	return m.Valid()
}

// WebhookMAC verifies X-Shopify-Hmac-Sha256 over a body written through it
// as it is read, so a receiver never has to hold an unverified body whole
// before knowing whether it is signed.
type WebhookMAC struct {
	mac  hash.Hash
	want []byte
}

// NewWebhookMAC starts verifying a body against the header's signature.
// A missing secret or a header that is not a base64 SHA-256 digest makes
// every body invalid.
func NewWebhookMAC(header, secret string) *WebhookMAC {
	m := &WebhookMAC{mac: hmac.New(sha256.New, []byte(secret))}
	want, err := base64.StdEncoding.DecodeString(strings.TrimSpace(header))
	if secret != "" && err == nil && len(want) == sha256.Size {
		m.want = want
	}
	return m
}

// Write adds body bytes; it never fails.
func (m *WebhookMAC) Write(p []byte) (int, error) { return m.mac.Write(p) }

// Valid reports whether the bytes written so far are the signed body.
func (m *WebhookMAC) Valid() bool {
	return m.want != nil && hmac.Equal(m.mac.Sum(nil), m.want)
}
