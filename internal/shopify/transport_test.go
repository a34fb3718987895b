package shopify

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// seenRequest is what a fake Shopify observed.
type seenRequest struct {
	Host, Path, Token, Body string
}

// recorder is an httptest server that records requests and answers with
// handler.
func recorder(t *testing.T, handler func(w http.ResponseWriter, r *http.Request)) (*httptest.Server, func() []seenRequest) {
	t.Helper()
	var mu sync.Mutex
	var seen []seenRequest
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen = append(seen, seenRequest{Host: r.Host, Path: r.URL.Path, Token: r.Header.Get("X-Shopify-Access-Token"), Body: string(body)})
		mu.Unlock()
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		handler(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []seenRequest {
		mu.Lock()
		defer mu.Unlock()
		return append([]seenRequest(nil), seen...)
	}
}

func TestParseAdminOrigin(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr bool
	}{
		{"", "", false},
		{"http://127.0.0.1:9100", "http://127.0.0.1:9100", false},
		{"http://127.0.0.1:9100/", "http://127.0.0.1:9100", false},
		{"https://sim.internal", "https://sim.internal", false},
		{"127.0.0.1:9100", "", true},
		{"ftp://host", "", true},
		{"http://", "", true},
		{"http://u:p@host", "", true},
		{"http://host/prefix", "", true},
		{"http://host?x=1", "", true},
		{"://bad", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			u, err := ParseAdminOrigin(tt.in)
			if tt.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			if tt.want == "" {
				assert.Nil(t, u)
				return
			}
			assert.Equal(t, tt.want, u.String())
		})
	}
}

func TestOriginRewriteKeepsHost(t *testing.T) {
	srv, seen := recorder(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok "+r.Host)
	})
	hc, err := NewHTTPClient(srv.URL, 5*time.Second)
	require.NoError(t, err)

	for _, shop := range []string{"alpha.myshopify.com", "beta.myshopify.com"} {
		req, err := http.NewRequest(http.MethodGet, "https://"+shop+"/admin/api/2026-10/graphql.json?x=1", nil)
		require.NoError(t, err)
		resp, err := hc.Do(req)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, "ok "+shop, string(body))
		assert.Equal(t, "https://"+shop+"/admin/api/2026-10/graphql.json?x=1", req.URL.String(), "caller's request untouched")
	}
	got := seen()
	require.Len(t, got, 2)
	assert.Equal(t, "alpha.myshopify.com", got[0].Host)
	assert.Equal(t, "beta.myshopify.com", got[1].Host)
	assert.Equal(t, "/admin/api/2026-10/graphql.json", got[0].Path)
}

func TestOriginRewriteLeavesOtherHostsAlone(t *testing.T) {
	sim, simSeen := recorder(t, func(w http.ResponseWriter, r *http.Request) {})
	other, otherSeen := recorder(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "other")
	})
	hc, err := NewHTTPClient(sim.URL, 5*time.Second)
	require.NoError(t, err)

	// A bulk-operation result URL on another host goes where it points.
	resp, err := hc.Get(other.URL + "/bulk/result.jsonl")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Len(t, otherSeen(), 1)
	assert.Empty(t, simSeen())

	// Hosts that only look like shops are not rewritten (they fail to
	// resolve instead of reaching the simulator).
	for _, raw := range []string{
		"http://alpha.myshopify.com/admin",          // not https
		"https://alpha.myshopify.com:8443/admin",    // explicit port
		"https://alpha.myshopify.com.invalid/admin", // suffix trick
	} {
		req, err := http.NewRequest(http.MethodGet, raw, nil)
		require.NoError(t, err)
		assert.False(t, isShopURL(req.URL), raw)
	}
}

func TestHTTPClientDoesNotFollowRedirects(t *testing.T) {
	var leaked bool
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leaked = r.Header.Get("X-Shopify-Access-Token") != ""
	}))
	defer target.Close()
	srv, _ := recorder(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL, http.StatusFound)
	})
	hc, err := NewHTTPClient(srv.URL, 5*time.Second)
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodGet, "https://alpha.myshopify.com/admin", nil)
	require.NoError(t, err)
	req.Header.Set("X-Shopify-Access-Token", "shpat_secret")
	resp, err := hc.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusFound, resp.StatusCode)
	assert.False(t, leaked)
}

func TestHTTPClientWithoutOriginTalksToShopDirectly(t *testing.T) {
	hc, err := NewHTTPClient("", time.Second)
	require.NoError(t, err)
	_, rewrites := hc.Transport.(*originRewriter)
	assert.False(t, rewrites)
	assert.Equal(t, time.Second, hc.Timeout)
}

// httptestServer starts handler and returns its URL, closed with the test.
func httptestServer(t *testing.T, handler http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	return srv.URL
}
