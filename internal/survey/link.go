package survey

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Link is what a signed link names: one survey, one customer, until the
// start of the expiry day (UTC).
type Link struct {
	SurveyID   int64
	CustomerID int64
	// ExpiresDay counts days since the Unix epoch; the link is good until
	// that day begins.
	ExpiresDay int64
}

// Expires is the moment the link stops working.
func (l Link) Expires() time.Time { return time.Unix(l.ExpiresDay*secondsPerDay, 0).UTC() }

const (
	secondsPerDay = 86400
	linkVersion   = 1
	// tagSize is the MAC truncated to 128 bits: forging one takes about
	// 2^128 tries, and the rate limit allows a handful a minute.
	tagSize = 16
	// MaxTokenLength bounds what the parser reads: a version byte, three
	// varints of at most ten bytes and the tag, base64url.
	MaxTokenLength = (1 + 3*binary.MaxVarintLen64 + tagSize + 2) * 4 / 3
)

// Errors of Verify. Only ErrExpired says anything about a link, and only
// about one whose signature is good.
var (
	ErrMalformed = errors.New("survey link malformed")
	ErrForged    = errors.New("survey link signature invalid")
	ErrExpired   = errors.New("survey link expired")
)

// Signer signs and verifies links with per-shop keys derived from the
// app's client secret.
type Signer struct {
	secret []byte
}

// NewSigner returns a signer for the app's client secret.
func NewSigner(clientSecret string) (*Signer, error) {
	if len(clientSecret) < 16 {
		return nil, fmt.Errorf("survey links: the client secret is too short to derive keys from")
	}
	return &Signer{secret: []byte(clientSecret)}, nil
}

// shopKey derives the shop's key. The salt and label keep these keys apart
// from any other use of the client secret (session tokens, webhooks).
func (s *Signer) shopKey(shop string) []byte {
	key, err := hkdf.Key(sha256.New, s.secret, []byte("cvo survey links"), "v1 shop "+shop, 32)
	if err != nil {
		// Only a key length beyond 255×32 bytes fails.
		panic(fmt.Sprintf("survey link key: %v", err))
	}
	return key
}

func (s *Signer) tag(shop string, body []byte) []byte {
	m := hmac.New(sha256.New, s.shopKey(shop))
	// The shop is in the MAC as well as in the key, length-prefixed, so no
	// two (shop, body) pairs share an input.
	m.Write([]byte{byte(len(shop))})
	m.Write([]byte(shop))
	m.Write(body)
	return m.Sum(nil)[:tagSize]
}

// Sign returns the link's token for the shop.
func (s *Signer) Sign(shop string, l Link) string {
	body := encodeLink(l)
	return base64.RawURLEncoding.EncodeToString(append(body, s.tag(shop, body)...))
}

// Verify checks a token of the shop and returns its link. A forged or
// altered token is ErrForged whatever it claims; a genuine one past its
// expiry is ErrExpired.
func (s *Signer) Verify(shop, token string, now time.Time) (Link, error) {
	l, body, tag, err := parseToken(token)
	if err != nil {
		return Link{}, err
	}
	if !hmac.Equal(tag, s.tag(shop, body)) {
		return Link{}, ErrForged
	}
	if !now.Before(l.Expires()) {
		return l, ErrExpired
	}
	return l, nil
}

// ParseToken reads what a token claims without checking its signature:
// the survey id tells the server which shop's key to verify it with.
// Nothing it returns may be trusted before Verify.
func ParseToken(token string) (Link, error) {
	l, _, _, err := parseToken(token)
	return l, err
}

func parseToken(token string) (l Link, body, tag []byte, err error) {
	if len(token) == 0 || len(token) > MaxTokenLength || strings.ContainsAny(token, "=+/") {
		return Link{}, nil, nil, ErrMalformed
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil || len(raw) < 1+3+tagSize {
		return Link{}, nil, nil, ErrMalformed
	}
	body, tag = raw[:len(raw)-tagSize], raw[len(raw)-tagSize:]
	if body[0] != linkVersion {
		return Link{}, nil, nil, ErrMalformed
	}
	rest := body[1:]
	var vals [3]uint64
	for i := range vals {
		v, n := binary.Uvarint(rest)
		if n <= 0 || v == 0 || v > 1<<62 {
			return Link{}, nil, nil, ErrMalformed
		}
		vals[i], rest = v, rest[n:]
	}
	l = Link{SurveyID: int64(vals[0]), CustomerID: int64(vals[1]), ExpiresDay: int64(vals[2])}
	// One link, one token: trailing bytes and overlong varints are refused,
	// so the rate limit and the logs see every link under a single name.
	if len(rest) != 0 || string(encodeLink(l)) != string(body) {
		return Link{}, nil, nil, ErrMalformed
	}
	return l, body, tag, nil
}

func encodeLink(l Link) []byte {
	b := make([]byte, 0, 1+3*binary.MaxVarintLen64+tagSize)
	b = append(b, linkVersion)
	b = binary.AppendUvarint(b, uint64(l.SurveyID))
	b = binary.AppendUvarint(b, uint64(l.CustomerID))
	return binary.AppendUvarint(b, uint64(l.ExpiresDay))
}

// LinkExpiry is the expiry day of a link issued at now for a survey whose
// links live days days. Time is cut into windows of that many days since
// the epoch; a link issued in one window expires when the next one ends,
// so it lives between days and 2×days, and every link of a survey changes
// once per window: the write-back then rewrites each customer's link
// metafield once a window rather than on every run.
func LinkExpiry(now time.Time, days int) int64 {
	if days < 1 {
		days = 1
	}
	day := now.Unix() / secondsPerDay
	window := day / int64(days)
	return (window + 2) * int64(days)
}

// URL is the page's address for a token under the app's base URL.
func URL(appURL, token string) string {
	return strings.TrimRight(appURL, "/") + PathPrefix + token
}

// PathPrefix is where the public survey page lives.
const PathPrefix = "/s/"
