package shopify

import (
	"errors"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// SessionTokenLeeway absorbs clock skew between Shopify and this server when
// checking exp and nbf. Session tokens live one minute, so a few seconds
// matter; Shopify's own libraries allow up to 10 s.
const SessionTokenLeeway = 5 * time.Second

// maxSessionTokenLen bounds the work done on hostile input. Real session
// tokens are well under 1 KiB.
const maxSessionTokenLen = 4096

// ErrInvalidSessionToken matches (errors.Is) every session-token rejection
// below, so an HTTP layer can map them all to 401 with one check while logs
// keep the precise reason.
var ErrInvalidSessionToken = errors.New("invalid session token")

// SessionTokenError is the type of every session-token rejection. It never
// carries any part of the token.
type SessionTokenError struct{ reason string }

func (e *SessionTokenError) Error() string { return "session token " + e.reason }

// Is makes each rejection match ErrInvalidSessionToken as well as itself.
func (e *SessionTokenError) Is(target error) bool { return target == ErrInvalidSessionToken }

// Reasons a session token is refused.
var (
	ErrMalformedToken    error = &SessionTokenError{"is malformed"}
	ErrBadAlgorithm      error = &SessionTokenError{"uses a signing algorithm other than HS256"}
	ErrBadSignature      error = &SessionTokenError{"signature is invalid"}
	ErrTokenExpired      error = &SessionTokenError{"has expired"}
	ErrTokenNotYetValid  error = &SessionTokenError{"is not valid yet"}
	ErrWrongAudience     error = &SessionTokenError{"audience is not this app"}
	ErrShopMismatch      error = &SessionTokenError{"issuer and destination do not name the same shop"}
	ErrInvalidTokenShop  error = &SessionTokenError{"names a host that is not a valid shop domain"}
	ErrMissingClaim      error = &SessionTokenError{"lacks a required claim"}
	ErrNoVerificationKey error = &SessionTokenError{"cannot be verified: no client id or secret configured"}
)

// Session is what a verified session token says about the request.
type Session struct {
	Shop      string // the dest host, e.g. "example.myshopify.com"
	UserID    string // sub: the staff member using the embedded app
	SessionID string // sid
	TokenID   string // jti: unique per token, usable for replay checks
	IssuedAt  time.Time
	NotBefore time.Time
	Expires   time.Time
}

type sessionClaims struct {
	jwt.RegisteredClaims
	Dest string `json:"dest"`
	SID  string `json:"sid"`
}

// VerifySessionToken checks an App Bridge session token: HS256 signed with
// the client secret, within exp/nbf (with SessionTokenLeeway), addressed to
// this app (aud = clientID), and issued by and for the same shop
// (iss = https://{shop}/admin, dest = https://{shop}, shop a valid
// myshopify.com domain). now is passed in so callers and tests control the
// clock.
func VerifySessionToken(token, clientID, clientSecret string, now time.Time) (Session, error) {
	if clientID == "" || clientSecret == "" {
		return Session{}, ErrNoVerificationKey
	}
	if token == "" || len(token) > maxSessionTokenLen {
		return Session{}, ErrMalformedToken
	}
	parser := jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithLeeway(SessionTokenLeeway),
		jwt.WithTimeFunc(func() time.Time { return now }),
		jwt.WithExpirationRequired(),
	)
	var claims sessionClaims
	parsed, err := parser.ParseWithClaims(token, &claims, func(t *jwt.Token) (any, error) {
		// WithValidMethods already refuses other algorithms; checking the
		// concrete type as well means a future parser change cannot make
		// this key usable with an asymmetric or "none" method.
		if _, ok := t.Method.(*jwt.SigningMethodHMAC); !ok {
			return nil, ErrBadAlgorithm
		}
		return []byte(clientSecret), nil
	})
	if err != nil {
		return Session{}, classifyJWTError(parsed, err)
	}

	if len(claims.Audience) != 1 || claims.Audience[0] != clientID {
		return Session{}, ErrWrongAudience
	}
	shop, err := shopFromDest(claims.Dest)
	if err != nil {
		return Session{}, err
	}
	if claims.Issuer != "https://"+shop+"/admin" {
		return Session{}, ErrShopMismatch
	}
	if claims.Subject == "" || claims.ExpiresAt == nil {
		return Session{}, ErrMissingClaim
	}

	s := Session{
		Shop:      shop,
		UserID:    claims.Subject,
		SessionID: claims.SID,
		TokenID:   claims.ID,
		Expires:   claims.ExpiresAt.Time,
	}
	if claims.IssuedAt != nil {
		s.IssuedAt = claims.IssuedAt.Time
	}
	if claims.NotBefore != nil {
		s.NotBefore = claims.NotBefore.Time
	}
	return s, nil
}

// shopFromDest accepts only the exact form "https://{shop}": anything with a
// port, path, userinfo, query or other scheme is refused rather than parsed
// leniently.
func shopFromDest(dest string) (string, error) {
	if dest == "" {
		return "", ErrMissingClaim
	}
	host, ok := strings.CutPrefix(dest, "https://")
	if !ok || !ValidShopDomain(host) {
		return "", ErrInvalidTokenShop
	}
	return host, nil
}

// classifyJWTError maps the parser's errors onto this package's sentinels.
// The order matters: golang-jwt v5 verifies the signature before the claims,
// so a token that is both forged and expired reports the signature.
func classifyJWTError(parsed *jwt.Token, err error) error {
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return ErrMalformedToken
	case errors.Is(err, ErrBadAlgorithm),
		parsed != nil && parsed.Header["alg"] != jwt.SigningMethodHS256.Alg(),
		errors.Is(err, jwt.ErrTokenUnverifiable):
		// The parser reports a disallowed but known algorithm ("none",
		// RS256) as an invalid signature and an unknown one as
		// unverifiable; both are really the wrong algorithm.
		return ErrBadAlgorithm
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return ErrBadSignature
	case errors.Is(err, jwt.ErrTokenExpired):
		return ErrTokenExpired
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return ErrTokenNotYetValid
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return ErrMissingClaim
	default:
		return ErrMalformedToken
	}
}
