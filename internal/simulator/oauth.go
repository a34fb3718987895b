package simulator

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
)

const (
	grantTokenExchange     = "urn:ietf:params:oauth:grant-type:token-exchange"
	tokenTypeIDToken       = "urn:ietf:params:oauth:token-type:id_token"
	tokenTypeOfflineAccess = "urn:shopify:params:oauth:token-type:offline-access-token"
	tokenTypeOnlineAccess  = "urn:shopify:params:oauth:token-type:online-access-token"
)

// QueryHMAC computes Shopify's hex HMAC of a query: drop hmac and
// signature, sort the remaining key=value pairs, join them with &, and sign
// with the client secret.
func QueryHMAC(secret string, q url.Values) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		if k == "hmac" || k == "signature" {
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		for _, v := range q[k] {
			parts = append(parts, k+"="+v)
		}
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strings.Join(parts, "&")))
	return hex.EncodeToString(mac.Sum(nil))
}

// adminHost is the host parameter Shopify adds for App Bridge: the base64
// of the admin URL the app is embedded in (admin.shopify.com/store/{name}).
func adminHost(shop string) string {
	return base64.StdEncoding.EncodeToString([]byte("admin.shopify.com/store/" + strings.TrimSuffix(shop, ".myshopify.com")))
}

func (s *Simulator) redirectAllowed(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return false
	}
	app, err := url.Parse(s.cfg.AppURL)
	if err != nil || app.Host == "" {
		return false
	}
	if u.Scheme != app.Scheme || !strings.EqualFold(u.Host, app.Host) {
		return false
	}
	base := strings.TrimRight(app.Path, "/")
	return base == "" || u.Path == base || strings.HasPrefix(u.Path, base+"/")
}

// serveAuthorize plays the merchant approving the install: it validates the
// request and redirects to the app's redirect_uri with a code.
func (s *Simulator) serveAuthorize(w http.ResponseWriter, r *http.Request, sh *shopState) {
	if r.Method != http.MethodGet {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	q := r.URL.Query()
	if q.Get("client_id") != s.cfg.ClientID || s.cfg.ClientID == "" {
		http.Error(w, "Oauth error invalid_request: Application not found", http.StatusBadRequest)
		return
	}
	redirect := q.Get("redirect_uri")
	if !s.redirectAllowed(redirect) {
		http.Error(w, "Oauth error invalid_request: The redirect_uri is not whitelisted", http.StatusBadRequest)
		return
	}
	online := slices.Contains(q["grant_options[]"], "per-user")
	if scope := q.Get("scope"); scope != "" {
		var scopes []string
		for _, sc := range strings.Split(scope, ",") {
			if sc = strings.TrimSpace(sc); sc != "" {
				scopes = append(scopes, sc)
			}
		}
		sh.mu.Lock()
		sh.scopes = scopes
		sh.mu.Unlock()
	}
	now := s.now()
	code := s.tokens.newCode(sh.domain, now, online, 1)
	params := url.Values{}
	params.Set("code", code)
	params.Set("host", adminHost(sh.domain))
	params.Set("shop", sh.domain)
	if state := q.Get("state"); state != "" {
		params.Set("state", state)
	}
	params.Set("timestamp", strconv.FormatInt(now.Unix(), 10))
	params.Set("hmac", QueryHMAC(s.cfg.ClientSecret, params))
	target, _ := url.Parse(redirect)
	tq := target.Query()
	for k, vs := range params {
		tq[k] = vs
	}
	target.RawQuery = tq.Encode()
	http.Redirect(w, r, target.String(), http.StatusFound)
}

type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeOAuthError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, oauthError{Error: code, Description: desc})
}

// tokenParams reads the token request as Shopify accepts it: a JSON body or
// form fields (body or query string).
func tokenParams(r *http.Request) (map[string]string, error) {
	out := map[string]string{}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "application/json" {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			return nil, err
		}
		var raw map[string]any
		if err := json.Unmarshal(body, &raw); err != nil {
			return nil, err
		}
		for k, v := range raw {
			switch t := v.(type) {
			case string:
				out[k] = t
			case float64:
				out[k] = strconv.FormatFloat(t, 'f', -1, 64)
			case bool:
				out[k] = strconv.FormatBool(t)
			}
		}
		for k, vs := range r.URL.Query() {
			if _, ok := out[k]; !ok && len(vs) > 0 {
				out[k] = vs[0]
			}
		}
		return out, nil
	}
	r.Body = http.MaxBytesReader(nil, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		return nil, err
	}
	for k, vs := range r.Form {
		if len(vs) > 0 {
			out[k] = vs[0]
		}
	}
	return out, nil
}

func truthy(v string) bool { return v == "1" || v == "true" }

type tokenResponse struct {
	AccessToken           string          `json:"access_token"`
	Scope                 string          `json:"scope"`
	ExpiresIn             *int64          `json:"expires_in,omitempty"`
	RefreshToken          string          `json:"refresh_token,omitempty"`
	RefreshTokenExpiresIn *int64          `json:"refresh_token_expires_in,omitempty"`
	AssociatedUserScope   string          `json:"associated_user_scope,omitempty"`
	AssociatedUser        *associatedUser `json:"associated_user,omitempty"`
}

type associatedUser struct {
	ID            int64  `json:"id"`
	FirstName     string `json:"first_name"`
	LastName      string `json:"last_name"`
	Email         string `json:"email"`
	AccountOwner  bool   `json:"account_owner"`
	Locale        string `json:"locale"`
	Collaborator  bool   `json:"collaborator"`
	EmailVerified bool   `json:"email_verified"`
}

func (s *Simulator) tokenResponse(sh *shopState, is issued) tokenResponse {
	scope := scopeString(sh.grantedScopes())
	resp := tokenResponse{AccessToken: is.access, Scope: scope}
	if is.accessTTL > 0 {
		sec := int64(is.accessTTL.Seconds())
		resp.ExpiresIn = &sec
	}
	if is.refresh != "" {
		resp.RefreshToken = is.refresh
		sec := int64(refreshTokenTTL.Seconds())
		resp.RefreshTokenExpiresIn = &sec
	}
	if is.online {
		resp.AssociatedUserScope = scope
		resp.AssociatedUser = &associatedUser{
			ID: is.userID, FirstName: "Staff", LastName: fmt.Sprintf("User %d", is.userID),
			Email: fmt.Sprintf("staff%d@example.com", is.userID), AccountOwner: is.userID == 1,
			Locale: "en", EmailVerified: true,
		}
	}
	return resp
}

// serveAccessToken is the token endpoint: authorization code, token
// exchange and refresh token grants.
func (s *Simulator) serveAccessToken(w http.ResponseWriter, r *http.Request, sh *shopState) {
	if r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p, err := tokenParams(r)
	if err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "The request body could not be parsed.")
		return
	}
	if p["client_id"] == "" || p["client_id"] != s.cfg.ClientID ||
		subtle.ConstantTimeCompare([]byte(p["client_secret"]), []byte(s.cfg.ClientSecret)) != 1 {
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.")
		return
	}
	now := s.now()
	switch grant := p["grant_type"]; grant {
	case "", "authorization_code":
		code, ok := s.tokens.useCode(p["code"], sh.domain, now)
		if !ok {
			writeOAuthError(w, http.StatusBadRequest, "invalid_request", "The authorization code was not found or was already used")
			return
		}
		s.install(sh)
		is := s.tokens.issue(sh.domain, now, code.online, truthy(p["expiring"]) && !code.online, code.userID)
		writeJSON(w, http.StatusOK, s.tokenResponse(sh, is))
	case grantTokenExchange:
		if p["subject_token"] == "" {
			writeOAuthError(w, http.StatusBadRequest, "missing_subject_token", "The subject_token parameter is required.")
			return
		}
		if p["subject_token_type"] != tokenTypeIDToken {
			writeOAuthError(w, http.StatusBadRequest, "invalid_request", "The subject_token_type must be "+tokenTypeIDToken+".")
			return
		}
		var online bool
		switch p["requested_token_type"] {
		case tokenTypeOfflineAccess, "":
		case tokenTypeOnlineAccess:
			online = true
		default:
			writeOAuthError(w, http.StatusBadRequest, "invalid_request", "The requested_token_type is not supported.")
			return
		}
		claims, err := s.verifySessionToken(p["subject_token"], sh.domain)
		if err != nil {
			s.log.Info("token exchange rejected a session token", "shop", sh.domain, "reason", err.Error())
			writeOAuthError(w, http.StatusBadRequest, "invalid_subject_token", "Invalid subject token.")
			return
		}
		userID, _ := strconv.ParseInt(claims.Subject, 10, 64)
		s.install(sh)
		is := s.tokens.issue(sh.domain, now, online, truthy(p["expiring"]) && !online, userID)
		writeJSON(w, http.StatusOK, s.tokenResponse(sh, is))
	case "refresh_token":
		if p["refresh_token"] == "" {
			writeOAuthError(w, http.StatusBadRequest, "invalid_request", "The refresh_token parameter is required.")
			return
		}
		is, outcome := s.tokens.refreshWith(p["refresh_token"], sh.domain, now)
		switch outcome {
		case refreshOK:
			writeJSON(w, http.StatusOK, s.tokenResponse(sh, is))
		case refreshExpired:
			writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "The refresh token has expired.")
		default:
			writeOAuthError(w, http.StatusBadRequest, "invalid_grant", "The refresh token is invalid or has been revoked.")
		}
	default:
		writeOAuthError(w, http.StatusBadRequest, "unsupported_grant_type", "The grant_type "+strconv.Quote(grant)+" is not supported.")
	}
}

func (s *Simulator) install(sh *shopState) {
	sh.mu.Lock()
	sh.installed = true
	sh.mu.Unlock()
}
