package simulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Session tokens (App Bridge "ID tokens") live one minute.
const sessionTokenTTL = time.Minute

// sessionClaims are the claims App Bridge puts in a session token.
type sessionClaims struct {
	Dest string `json:"dest"`
	Sid  string `json:"sid"`
	jwt.RegisteredClaims
}

// SessionToken mints the session token App Bridge would hand the app's page
// for a staff user of the shop: HS256 with the client secret, one minute.
func (s *Simulator) SessionToken(shop string, userID int64) (string, error) {
	sh, err := s.mustShop(shop)
	if err != nil {
		return "", fmt.Errorf("session token: %w", err)
	}
	now := s.now()
	claims := sessionClaims{
		Dest: "https://" + sh.domain,
		Sid:  randomHex(16),
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    "https://" + sh.domain + "/admin",
			Subject:   strconv.FormatInt(userID, 10),
			Audience:  jwt.ClaimStrings{s.cfg.ClientID},
			ExpiresAt: jwt.NewNumericDate(now.Add(sessionTokenTTL)),
			NotBefore: jwt.NewNumericDate(now),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        uuidV4(),
		},
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(s.cfg.ClientSecret))
	if err != nil {
		return "", fmt.Errorf("session token for %s: %w", shop, err)
	}
	return tok, nil
}

func uuidV4() string {
	b := []byte(randomHex(16))
	// Shape a random hex string as a version-4 UUID.
	b[12] = '4'
	b[16] = "89ab"[b[16]%4]
	return fmt.Sprintf("%s-%s-%s-%s-%s", b[0:8], b[8:12], b[12:16], b[16:20], b[20:32])
}

// verifySessionToken checks a session token the way Shopify's token
// endpoint does for token exchange, for the shop the request came to.
func (s *Simulator) verifySessionToken(raw, shop string) (*sessionClaims, error) {
	var claims sessionClaims
	_, err := jwt.ParseWithClaims(raw, &claims, func(*jwt.Token) (any, error) {
		return []byte(s.cfg.ClientSecret), nil
	},
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithAudience(s.cfg.ClientID),
		jwt.WithTimeFunc(s.now),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
	)
	if err != nil {
		return nil, err
	}
	dest, err := url.Parse(claims.Dest)
	if err != nil || dest.Scheme != "https" || dest.Host != shop {
		return nil, errors.New("dest does not match the shop")
	}
	if claims.Issuer != claims.Dest+"/admin" {
		return nil, errors.New("iss does not match dest")
	}
	return &claims, nil
}

// serveSessionToken is the simulator-only endpoint the demo page's local
// App Bridge stand-in calls to get a session token:
// GET /simulator/session-token?shop={shop}[&user_id={id}] -> {"token": "..."}.
func (s *Simulator) serveSessionToken(w http.ResponseWriter, r *http.Request) {
	if s.cfg.AppURL != "" {
		if u, err := url.Parse(s.cfg.AppURL); err == nil {
			w.Header().Set("Access-Control-Allow-Origin", u.Scheme+"://"+u.Host)
			w.Header().Set("Vary", "Origin")
		}
	}
	if r.Method == http.MethodOptions {
		w.Header().Set("Access-Control-Allow-Methods", "GET")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if r.Method != http.MethodGet {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	shop := r.URL.Query().Get("shop")
	userID := int64(1)
	if v := r.URL.Query().Get("user_id"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			http.Error(w, "bad user_id", http.StatusBadRequest)
			return
		}
		userID = id
	}
	tok, err := s.SessionToken(shop, userID)
	if err != nil {
		http.Error(w, "unknown shop", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(map[string]string{"token": tok})
}
