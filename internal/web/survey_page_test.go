package web_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/postgres"
	"github.com/cvo-app/cvo/internal/postgres/pgtest"
	"github.com/cvo-app/cvo/internal/survey"
	"github.com/cvo-app/cvo/internal/web"
	"github.com/cvo-app/cvo/webhooks"
)

type surveyFixture struct {
	srv    http.Handler
	store  *postgres.SurveyStore
	signer *survey.Signer
	sv     survey.Survey
	shop   string
	logs   *strings.Builder
	mu     *sync.Mutex
}

func newSurveyFixture(t *testing.T) surveyFixture {
	t.Helper()
	return newSurveyFixtureWith(t, func(*web.Config) {})
}

func newSurveyFixtureWith(t *testing.T, configure func(*web.Config)) surveyFixture {
	t.Helper()
	db := pgtest.New(t)
	store := postgres.NewSurveyStore(db)
	logs := &strings.Builder{}
	mu := &sync.Mutex{}
	log := slog.New(slog.NewTextHandler(lockedWriter{logs, mu}, nil))
	cfg := web.Config{ClientID: clientID, ClientSecret: clientSecret, AppURL: "https://app.example",
		AdminBaseURL: func(s string) string { return "https://" + s }}
	configure(&cfg)
	srv := web.NewServer(cfg,
		web.Deps{Installer: noInstall{}, Webhooks: webhooks.NewReceiver(clientSecret, nil, nil, nil, nil, log), Log: log, Surveys: store})
	shop := fmt.Sprintf("s%d.myshopify.com", time.Now().UnixNano())
	tp, _ := survey.TemplateByID("why-stopped")
	sv := tp.Survey
	sv.Shop, sv.Status, sv.Language = shop, survey.Active, "auto"
	sv.Normalize()
	sv, err := store.Create(context.Background(), sv)
	require.NoError(t, err)
	signer, err := survey.NewSigner(clientSecret)
	require.NoError(t, err)
	return surveyFixture{srv: srv, store: store, signer: signer, sv: sv, shop: shop, logs: logs, mu: mu}
}

type lockedWriter struct {
	b  *strings.Builder
	mu *sync.Mutex
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

var _ io.Writer = lockedWriter{}

func (f surveyFixture) link(customer int64, expires time.Time) string {
	return f.signer.Sign(f.shop, survey.Link{SurveyID: f.sv.ID, CustomerID: customer, ExpiresDay: expires.Unix()/86400 + 1})
}

func (f surveyFixture) get(token, query string, hdr map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, "/s/"+token+query, nil)
	req.RemoteAddr = "192.0.2.1:1234"
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	f.srv.ServeHTTP(rec, req)
	return rec
}

func (f surveyFixture) post(token string, form url.Values, addr string, hdr map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/s/"+token, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.RemoteAddr = addr
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	f.srv.ServeHTTP(rec, req)
	return rec
}

func TestSurveyPageShowsTheFormWithTheClickedScore(t *testing.T) {
	f := newSurveyFixture(t)
	tok := f.link(1001, time.Now().Add(24*time.Hour))
	rec := f.get(tok, "?score=3", map[string]string{"Accept-Language": "de-CH, de;q=0.9, en;q=0.5"})
	require.Equal(t, http.StatusOK, rec.Code)
	body := rec.Body.String()
	assert.Contains(t, body, `lang="de"`, "the page speaks the browser's language")
	assert.Contains(t, body, "Senden")
	assert.Contains(t, body, `value="3" checked`, "the score from the email is chosen")
	assert.Contains(t, body, "What made you stop buying from us?")
	assert.Contains(t, body, `<script nonce=`, "the page saves the clicked score by itself")
	assert.NotContains(t, body, "https://", "nothing is loaded from another origin")

	h := rec.Header()
	csp := h.Get("Content-Security-Policy")
	assert.Contains(t, csp, "default-src 'none'")
	assert.Contains(t, csp, "frame-ancestors 'none'")
	assert.Contains(t, csp, "form-action 'self'")
	assert.NotContains(t, csp, "unsafe-inline")
	assert.Contains(t, []string{"no-referrer", "same-origin"}, h.Get("Referrer-Policy"), "the link must not leak as a Referer to another origin")
	assert.Equal(t, "no-store", h.Get("Cache-Control"))

	got, err := f.store.CustomerResponses(context.Background(), f.shop, 1001)
	require.NoError(t, err)
	assert.Empty(t, got, "a GET saves nothing: mail scanners follow links")

	f.mu.Lock()
	logs := f.logs.String()
	f.mu.Unlock()
	assert.NotContains(t, logs, tok, "the link is never logged")

	rec = f.get(tok, "?score=11", nil)
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.NotContains(t, rec.Body.String(), "<script", "a score off the scale is ignored")
	assert.Contains(t, rec.Body.String(), `lang="en"`, "English without a known language")
}

func TestSurveyPageRefusesBadLinks(t *testing.T) {
	f := newSurveyFixture(t)
	good := f.link(1001, time.Now().Add(24*time.Hour))
	otherShop := f.signer.Sign("other.myshopify.com", survey.Link{SurveyID: f.sv.ID, CustomerID: 1001, ExpiresDay: time.Now().Unix()/86400 + 2})
	expired := f.signer.Sign(f.shop, survey.Link{SurveyID: f.sv.ID, CustomerID: 1001, ExpiresDay: time.Now().Unix()/86400 - 1})
	forger, _ := survey.NewSigner("not-the-apps-secret-at-all")
	forged := forger.Sign(f.shop, survey.Link{SurveyID: f.sv.ID, CustomerID: 1001, ExpiresDay: time.Now().Unix()/86400 + 2})
	noSurvey := f.signer.Sign(f.shop, survey.Link{SurveyID: f.sv.ID + 1000, CustomerID: 1001, ExpiresDay: time.Now().Unix()/86400 + 2})
	altered := []byte(good)
	altered[len(altered)-1] ^= 'A' ^ 'B'
	cases := []struct {
		name, token string
		want        int
		says        string
	}{
		{"forged", forged, 404, "This link does not work"},
		{"altered", string(altered), 404, "This link does not work"},
		{"another shop's link", otherShop, 404, "This link does not work"},
		{"no such survey", noSurvey, 404, "This link does not work"},
		{"garbage", "not-a-link", 404, "This link does not work"},
		{"expired", expired, 410, "This link has expired"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := f.get(tc.token, "", nil)
			assert.Equal(t, tc.want, rec.Code)
			assert.Contains(t, rec.Body.String(), tc.says)
			rec = f.post(tc.token, url.Values{"score": {"10"}}, "192.0.2.9:1", nil)
			assert.Equal(t, tc.want, rec.Code)
		})
	}
	var n int
	got, err := f.store.CustomerResponses(context.Background(), f.shop, 1001)
	require.NoError(t, err)
	n = len(got)
	assert.Zero(t, n, "no bad link stored anything")

	// A closed survey has a page of its own.
	f.sv.Status = survey.Closed
	_, err = f.store.Update(context.Background(), f.sv)
	require.NoError(t, err)
	rec := f.get(good, "", nil)
	assert.Equal(t, http.StatusGone, rec.Code)
	assert.Contains(t, rec.Body.String(), "This survey is closed")
}

func TestSurveyAnswersReplaceAndStayOne(t *testing.T) {
	f := newSurveyFixture(t)
	ctx := context.Background()
	tok := f.link(2002, time.Now().Add(24*time.Hour))
	same := map[string]string{"Origin": "https://app.example", "Sec-Fetch-Site": "same-origin"}

	// The page's own one-click save.
	rec := f.post(tok, url.Values{"mode": {"quick"}, "score": {"2"}}, "192.0.2.2:1", same)
	require.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())
	// Then the whole form, twice (a double submission).
	form := url.Values{"score": {"4"}, "why": {"Shipping took three weeks"}, "q_reason": {"Delivery or service"}, "q_comeback": {"Faster shipping"}}
	for range 2 {
		rec = f.post(tok, form, "192.0.2.2:1", same)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		assert.Contains(t, rec.Body.String(), "Thank you!")
	}
	got, err := f.store.CustomerResponses(ctx, f.shop, 2002)
	require.NoError(t, err)
	require.Len(t, got, 1, "one response per customer and survey")
	assert.Equal(t, 4, *got[0].NPS)
	assert.Equal(t, "Shipping took three weeks", got[0].Why)
	assert.Len(t, got[0].Answers, 2)

	// A replayed link's later answer replaces the earlier one.
	rec = f.post(tok, url.Values{"score": {"9"}}, "192.0.2.2:1", nil)
	require.Equal(t, http.StatusOK, rec.Code)
	got, err = f.store.CustomerResponses(ctx, f.shop, 2002)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, 9, *got[0].NPS)

	// Bad input is refused beside the form and keeps what was typed.
	rec = f.post(tok, url.Values{"score": {"12"}, "why": {"kept text"}}, "192.0.2.2:1", nil)
	assert.Equal(t, http.StatusBadRequest, rec.Code)
	assert.Contains(t, rec.Body.String(), "kept text")
	rec = f.post(tok, url.Values{"q_reason": {"Aliens"}}, "192.0.2.2:1", nil)
	assert.Equal(t, http.StatusBadRequest, rec.Code)

	// Another site's page cannot post for a visitor.
	rec = f.post(tok, url.Values{"score": {"0"}}, "192.0.2.2:1", map[string]string{"Origin": "https://evil.example"})
	assert.Equal(t, http.StatusForbidden, rec.Code)
	rec = f.post(tok, url.Values{"score": {"0"}}, "192.0.2.2:1", map[string]string{"Sec-Fetch-Site": "cross-site"})
	assert.Equal(t, http.StatusForbidden, rec.Code)
	rec = f.post(tok, url.Values{"score": {"0"}}, "192.0.2.2:1", map[string]string{"Origin": "null"})
	assert.Equal(t, http.StatusForbidden, rec.Code, "a sandboxed frame elsewhere sends Origin: null")
	// The page's own form when the browser blanks its origin.
	rec = f.post(tok, url.Values{"score": {"9"}}, "192.0.2.2:1", map[string]string{"Origin": "null", "Sec-Fetch-Site": "same-origin"})
	assert.Equal(t, http.StatusOK, rec.Code)
	got, err = f.store.CustomerResponses(ctx, f.shop, 2002)
	require.NoError(t, err)
	assert.Equal(t, 9, *got[0].NPS, "refused posts changed nothing")
}

func TestConcurrentSubmissionsOfOneLinkThroughThePage(t *testing.T) {
	f := newSurveyFixture(t)
	tok := f.link(3003, time.Now().Add(24*time.Hour))
	const n = 12
	var wg sync.WaitGroup
	codes := make(chan int, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := f.post(tok, url.Values{"score": {fmt.Sprint(i % 11)}, "why": {fmt.Sprint("answer ", i)}}, fmt.Sprintf("198.51.100.%d:1", i), nil)
			codes <- rec.Code
		}()
	}
	wg.Wait()
	close(codes)
	for c := range codes {
		assert.Equal(t, http.StatusOK, c)
	}
	got, err := f.store.CustomerResponses(context.Background(), f.shop, 3003)
	require.NoError(t, err)
	assert.Len(t, got, 1)
	assert.Equal(t, n, got[0].Revisions)
}

func TestSurveyPageIsRateLimited(t *testing.T) {
	f := newSurveyFixture(t)
	tok := f.link(4004, time.Now().Add(24*time.Hour))
	// Per link: from many addresses, one link gets 20 a minute.
	limited := 0
	for i := range 30 {
		if f.post(tok, url.Values{"score": {"5"}}, fmt.Sprintf("203.0.113.%d:1", i), nil).Code == http.StatusTooManyRequests {
			limited++
		}
	}
	assert.Equal(t, 10, limited)
	// Per address: one address trying many links (forged ones included).
	limited = 0
	for i := range 70 {
		rec := f.get(f.link(int64(5000+i), time.Now().Add(24*time.Hour)), "", nil)
		if rec.Code == http.StatusTooManyRequests {
			limited++
			assert.Contains(t, rec.Body.String(), "Too many attempts")
		}
	}
	assert.Equal(t, 10, limited)
}

// browserOrigin is the Origin header a browser following the Fetch
// standard ("append a request Origin header") sends with a same-origin,
// non-CORS POST (a form's) from a page served under the given
// Referrer-Policy, on https.
func browserOrigin(policy, pageOrigin string) string {
	switch policy {
	case "no-referrer":
		return "null"
	default: // same-origin, strict-origin…, origin…, unsafe-url: the request is same-origin and stays on https
		return pageOrigin
	}
}

func TestSurveyFormPostsFromBrowsersWithoutFetchMetadata(t *testing.T) {
	// Safari before 16.4 (iOS 15 and older phones) sends no Sec-Fetch-Site:
	// its Origin header alone must show the form is the page's own.
	f := newSurveyFixture(t)
	tok := f.link(2102, time.Now().Add(24*time.Hour))
	page := f.get(tok, "", nil)
	require.Equal(t, http.StatusOK, page.Code)
	origin := browserOrigin(page.Header().Get("Referrer-Policy"), "https://app.example")
	rec := f.post(tok, url.Values{"score": {"8"}, "why": {"Good service"}}, "192.0.2.21:1", map[string]string{"Origin": origin})
	require.Equal(t, http.StatusOK, rec.Code, "the page's own form is accepted: %s", rec.Body.String())
	got, err := f.store.CustomerResponses(context.Background(), f.shop, 2102)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, 8, *got[0].NPS)
}

func TestLongestValidAnswersFitTheBodyLimit(t *testing.T) {
	// Every text box filled to its limit with characters a browser sends
	// as twelve bytes each (emoji) is a valid answer and must be read,
	// not refused as too large.
	f := newSurveyFixture(t)
	f.sv.Questions = nil
	for i := range survey.MaxQuestions {
		f.sv.Questions = append(f.sv.Questions, survey.Question{ID: fmt.Sprintf("t%d", i), Kind: survey.Text, Text: fmt.Sprint("Tell us more ", i)})
	}
	require.NoError(t, f.sv.Validate())
	_, err := f.store.Update(context.Background(), f.sv)
	require.NoError(t, err)
	tok := f.link(2203, time.Now().Add(24*time.Hour))
	long := strings.Repeat("😀", survey.MaxAnswerText)
	form := url.Values{"score": {"7"}, "why": {long}}
	for _, q := range f.sv.Questions {
		form.Set("q_"+q.ID, long)
	}
	rec := f.post(tok, form, "192.0.2.22:1", nil)
	require.Equal(t, http.StatusOK, rec.Code, "%d bytes", len(form.Encode()))
	got, err := f.store.CustomerResponses(context.Background(), f.shop, 2203)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, long, got[0].Why)
	assert.Len(t, got[0].Answers, survey.MaxQuestions)
}

func TestSurveyPageLimitsCustomersBehindATrustedProxyOneByOne(t *testing.T) {
	// Behind a load balancer every request comes from its address: the
	// per-address limit must count the customer it forwards for, or one
	// email campaign's clicks share 60 requests a minute.
	_, proxies, err := net.ParseCIDR("10.0.0.0/8")
	require.NoError(t, err)
	f := newSurveyFixtureWith(t, func(c *web.Config) { c.TrustedProxies = []*net.IPNet{proxies} })
	link := func(i int) string { return f.link(int64(6000+i), time.Now().Add(24*time.Hour)) }
	getFrom := func(peer, forwardedFor string, i int) int {
		req := httptest.NewRequest(http.MethodGet, "/s/"+link(i), nil)
		req.RemoteAddr = peer
		req.Header.Set("X-Forwarded-For", forwardedFor)
		rec := httptest.NewRecorder()
		f.srv.ServeHTTP(rec, req)
		return rec.Code
	}
	count := func(get func(i int) int) (limited int) {
		for i := range 70 {
			if get(i) == http.StatusTooManyRequests {
				limited++
			}
		}
		return limited
	}
	assert.Zero(t, count(func(i int) int { return getFrom("10.0.0.7:443", fmt.Sprintf("198.51.100.%d", i), i) }),
		"seventy customers through the proxy are seventy addresses")
	assert.Equal(t, 10, count(func(i int) int { return getFrom("10.0.0.7:443", "192.0.2.50", i) }),
		"one customer through the proxy is one address")
	assert.Equal(t, 10, count(func(i int) int { return getFrom("203.0.113.9:1", fmt.Sprintf("198.51.100.%d", i), i) }),
		"a peer that is no trusted proxy cannot choose its address")
}

func TestTheClickedScoreIsSavedOncePerClick(t *testing.T) {
	// The page saves the email's score by itself. Coming back to it (the
	// back button after sending the form, a phone reloading a tab) must
	// not save that score again over the one the customer chose since:
	// the script takes the score out of the address before saving it.
	f := newSurveyFixture(t)
	body := f.get(f.link(2304, time.Now().Add(24*time.Hour)), "?score=3", nil).Body.String()
	script := body[strings.Index(body, "<script"):]
	replace := strings.Index(script, "history.replaceState(null,\"\",location.pathname)")
	require.GreaterOrEqual(t, replace, 0, "the score leaves the address")
	assert.Less(t, replace, strings.Index(script, "fetch("), "before the save, so no later load repeats it")
}
