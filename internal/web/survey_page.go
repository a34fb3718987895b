package web

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/base64"
	"errors"
	"html/template"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/postgres"
	"github.com/cvo-app/cvo/internal/survey"
)

// The public survey page: the one page of the app a customer sees. It is
// served without any Shopify login; the signed link in its path is the
// only capability, so it is never logged (requestLogger) nor sent on as a
// Referer, and every POST carries it in its URL. The page is one
// server-rendered document with its CSS and script inline under a
// per-answer nonce and nothing from any other origin, so it loads in one
// round trip on a phone and no third party learns who answered.

//go:embed survey_page.html
var surveyPageFS embed.FS

var surveyPage = template.Must(template.ParseFS(surveyPageFS, "survey_page.html"))

// SurveyAnswers is what the public page needs from storage.
type SurveyAnswers interface {
	ByID(ctx context.Context, id int64) (survey.Survey, error)
	Submit(ctx context.Context, shop string, r survey.Response, scoresOnly bool) (bool, error)
}

// Rate limits of the public page. Per link: a customer answering and
// correcting makes a few requests; a script replaying one link makes
// many. Per address: a household or an office behind one address may
// answer together, so it is looser. Each limiter holds at most
// surveyLimiterKeys counters (about 1 MB).
const (
	surveyPerLinkPerMinute    = 20
	surveyPerAddressPerMinute = 60
	surveyLimiterKeys         = 10_000
	// surveyBodyBytes fits the longest valid answer: the open question and
	// every custom one as text boxes filled to their limit with characters
	// a browser percent-encodes as twelve bytes (emoji), and room for the
	// field names and scores.
	surveyBodyBytes = (1+survey.MaxQuestions)*survey.MaxAnswerText*12 + 16<<10
)

type surveyPages struct {
	store   SurveyAnswers
	signer  *survey.Signer
	appURL  *url.URL
	perLink *rateLimiter
	perAddr *rateLimiter
	now     func() time.Time
	server  *Server
	// address is the client's address the per-address limit counts.
	address func(*http.Request) string
}

func (s *Server) mountSurveyPage(store SurveyAnswers, signer *survey.Signer) {
	u, _ := url.Parse(s.cfg.AppURL)
	p := &surveyPages{store: store, signer: signer, appURL: u, server: s, now: time.Now,
		perLink: newRateLimiter(surveyPerLinkPerMinute, time.Minute, surveyLimiterKeys),
		perAddr: newRateLimiter(surveyPerAddressPerMinute, time.Minute, surveyLimiterKeys), address: clientAddress}
	if len(s.cfg.TrustedProxies) > 0 {
		trust := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
		for _, n := range s.cfg.TrustedProxies {
			trust = append(trust, echo.TrustIPRange(n))
		}
		p.address = echo.ExtractIPFromXFFHeader(trust...)
	}
	g := s.echo.Group(strings.TrimSuffix(survey.PathPrefix, "/"), p.headers, middleware.BodyLimit(strconv.Itoa(surveyBodyBytes)))
	g.GET("/:token", p.show)
	g.POST("/:token", p.answer)
}

// headers replace the admin page's policies: no framing at all, scripts
// and styles only by the answer's nonce, forms posting only here, and no
// Referer to any other origin, since the URL is the capability. The
// policy is same-origin rather than no-referrer: under no-referrer a
// browser sends the page's own form posts with "Origin: null", and one
// without Sec-Fetch-Site (Safari before 16.4) could then not be told from
// another site, so its customers could not answer.
func (p *surveyPages) headers(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		nonce := make([]byte, 16)
		_, _ = rand.Read(nonce)
		n := base64.RawStdEncoding.EncodeToString(nonce)
		c.Set("csp-nonce", n)
		h := c.Response().Header()
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'nonce-"+n+"'; script-src 'nonce-"+n+
			"'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Robots-Tag", "noindex, nofollow")
		h.Set("X-Frame-Options", "DENY")
		return next(c)
	}
}

// pageData is what the template renders.
type pageData struct {
	W              surveyWords
	Nonce          string
	Title          string
	Brand, OnBrand string
	Heading, Body  string
	S              survey.Survey
	NPSScale       []int
	CESScale       []int
	Score, CES     optInt
	Why            string
	Questions      []questionView
	Error          string
	MaxText        int
	AutoSave       bool
}

type optInt struct {
	Set   bool
	Value int
}

func (o optInt) Is(v int) bool { return o.Set && o.Value == v }

type questionView struct {
	survey.Question
	Value  string
	chosen map[string]bool
}

func (q questionView) Chosen(o string) bool { return q.chosen[o] }

// opened is a link that verified, with its survey.
type opened struct {
	sv   survey.Survey
	link survey.Link
}

// open checks the rate limits and the link, and renders the page that
// explains why when it cannot be answered.
func (p *surveyPages) open(c echo.Context) (opened, error) {
	words := wordsFor("", c.Request().Header.Get("Accept-Language"))
	if !p.perAddr.allow(p.address(c.Request())) {
		return opened{}, p.message(c, http.StatusTooManyRequests, words, words.BusyTitle, words.BusyBody, nil)
	}
	token := c.Param("token")
	claimed, err := survey.ParseToken(token)
	if err != nil {
		return opened{}, p.message(c, http.StatusNotFound, words, words.InvalidTitle, words.InvalidBody, nil)
	}
	if !p.perLink.allow(token) {
		return opened{}, p.message(c, http.StatusTooManyRequests, words, words.BusyTitle, words.BusyBody, nil)
	}
	sv, err := p.store.ByID(c.Request().Context(), claimed.SurveyID)
	if cvo.ErrorCode(err) == cvo.ENOTFOUND {
		return opened{}, p.message(c, http.StatusNotFound, words, words.InvalidTitle, words.InvalidBody, nil)
	}
	if err != nil {
		return opened{}, err
	}
	// The link verifies against the shop the survey belongs to: a link of
	// another shop, or one naming another survey, fails here.
	link, err := p.signer.Verify(sv.Shop, token, p.now())
	switch {
	case errors.Is(err, survey.ErrExpired):
		words = wordsFor(sv.Language, c.Request().Header.Get("Accept-Language"))
		return opened{}, p.message(c, http.StatusGone, words, words.ExpiredTitle, words.ExpiredBody, &sv)
	case err != nil:
		return opened{}, p.message(c, http.StatusNotFound, words, words.InvalidTitle, words.InvalidBody, nil)
	}
	if sv.Status != survey.Active {
		words = wordsFor(sv.Language, c.Request().Header.Get("Accept-Language"))
		return opened{}, p.message(c, http.StatusGone, words, words.ClosedTitle, words.ClosedBody, &sv)
	}
	return opened{sv: sv, link: link}, nil
}

var errAnswered = errors.New("page answered")

func (p *surveyPages) message(c echo.Context, status int, w surveyWords, heading, body string, sv *survey.Survey) error {
	d := pageData{W: w, Heading: heading, Body: body, Title: heading, Brand: survey.DefaultBrandColor}
	if sv != nil {
		d.Brand = sv.BrandColor
	}
	if err := p.render(c, status, "message", d); err != nil {
		return err
	}
	return errAnswered
}

func (p *surveyPages) render(c echo.Context, status int, name string, d pageData) error {
	d.Nonce, _ = c.Get("csp-nonce").(string)
	d.OnBrand = onColor(d.Brand)
	var b strings.Builder
	if err := surveyPage.ExecuteTemplate(&b, name, d); err != nil {
		return err
	}
	return c.HTML(status, b.String())
}

// show answers GET /s/{token}[?score=N]: the form, with the score from the
// email chosen. The page saves that score by itself with a POST from its
// script: a GET never changes anything, so mail scanners that follow every
// link in a message record no score, while a customer's one click does.
// The script first drops the score from the page's address, so the back
// button or a reloaded tab does not save it again over a score the
// customer chose on the form since.
func (p *surveyPages) show(c echo.Context) error {
	o, err := p.open(c)
	if err != nil {
		return ignoreAnswered(err)
	}
	d := p.formData(c, o.sv)
	if v, ok := parseScore(c.QueryParam("score"), survey.NPSMin, survey.NPSMax); ok && o.sv.NPSQuestion != "" {
		d.Score, d.AutoSave = optInt{Set: true, Value: v}, true
	}
	return p.render(c, http.StatusOK, "form", d)
}

func (p *surveyPages) formData(c echo.Context, sv survey.Survey) pageData {
	d := pageData{W: wordsFor(sv.Language, c.Request().Header.Get("Accept-Language")), S: sv, Title: sv.Title, Brand: sv.BrandColor,
		MaxText: survey.MaxAnswerText}
	for i := survey.NPSMin; i <= survey.NPSMax; i++ {
		d.NPSScale = append(d.NPSScale, i)
	}
	for i := survey.CESMin; i <= survey.CESMax; i++ {
		d.CESScale = append(d.CESScale, i)
	}
	for _, q := range sv.Questions {
		d.Questions = append(d.Questions, questionView{Question: q, chosen: map[string]bool{}})
	}
	return d
}

// answer takes POST /s/{token}: mode=quick saves the score clicked in the
// email (the page's script), anything else the whole form. The link in the
// URL is the capability; a POST from another site's page is refused
// besides, by its Origin or Sec-Fetch-Site, so a page elsewhere that knows
// a link cannot make a visitor's browser answer for them.
func (p *surveyPages) answer(c echo.Context) error {
	if !p.sameOrigin(c.Request()) {
		return echo.NewHTTPError(http.StatusForbidden, "Cross-site submissions are refused.")
	}
	o, err := p.open(c)
	if err != nil {
		return ignoreAnswered(err)
	}
	if err := c.Request().ParseForm(); err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "The form could not be read.")
	}
	form := c.Request().PostForm
	quick := form.Get("mode") == "quick"
	d := p.formData(c, o.sv)
	r := survey.Response{SurveyID: o.sv.ID, CustomerID: o.link.CustomerID}
	problem := ""
	if v := form.Get("score"); v != "" {
		n, ok := parseScore(v, survey.NPSMin, survey.NPSMax)
		if !ok {
			problem = "score"
		}
		r.NPS, d.Score = &n, optInt{Set: ok, Value: n}
	}
	if v := form.Get("ces"); v != "" && !quick {
		n, ok := parseScore(v, survey.CESMin, survey.CESMax)
		if !ok {
			problem = "ces"
		}
		r.CES, d.CES = &n, optInt{Set: ok, Value: n}
	}
	if !quick {
		r.Why, d.Why = form.Get("why"), form.Get("why")
		for i := range d.Questions {
			q := &d.Questions[i]
			values := form["q_"+q.ID]
			a := survey.Answer{QuestionID: q.ID}
			if q.Kind == survey.Text {
				if len(values) > 0 {
					a.Text, q.Value = values[0], values[0]
				}
			} else {
				a.Choices = values
				for _, v := range values {
					q.chosen[v] = true
				}
			}
			r.Answers = append(r.Answers, a)
		}
	}
	if quick && r.NPS == nil {
		return echo.NewHTTPError(http.StatusBadRequest, "No score.")
	}
	if err := o.sv.Check(&r); problem != "" || err != nil {
		if quick {
			return echo.NewHTTPError(http.StatusBadRequest, "Invalid score.")
		}
		d.Error = cvo.ErrorMessage(err)
		if err == nil {
			d.Error = "The scores must be whole numbers on the scale shown."
		}
		return p.render(c, http.StatusBadRequest, "form", d)
	}
	if _, err := p.store.Submit(c.Request().Context(), o.sv.Shop, r, quick); err != nil {
		if errors.Is(err, postgres.ErrSurveyNotOpen) {
			return ignoreAnswered(p.message(c, http.StatusGone, d.W, d.W.ClosedTitle, d.W.ClosedBody, &o.sv))
		}
		p.server.log.Error("survey answer not saved", "request_id", requestID(c), "survey", o.sv.ID, "err", err)
		return ignoreAnswered(p.message(c, http.StatusInternalServerError, d.W, d.W.ErrorTitle, d.W.ErrorBody, &o.sv))
	}
	if quick {
		return c.NoContent(http.StatusNoContent)
	}
	return ignoreAnswered(p.message(c, http.StatusOK, d.W, d.W.ThanksTitle, d.W.ThanksBody, &o.sv))
}

func ignoreAnswered(err error) error {
	if errors.Is(err, errAnswered) {
		return nil
	}
	return err
}

// sameOrigin admits a POST whose browser says it comes from this app's
// own pages, or that says nothing (no browser at all, which holds the link
// anyway). Sec-Fetch-Site is the browser's own word and pages cannot set
// it. A page still open under the former no-referrer policy sends its
// form posts with "Origin: null": that is accepted only with
// Sec-Fetch-Site: same-origin, because a sandboxed frame on another site
// sends "null" too.
func (p *surveyPages) sameOrigin(r *http.Request) bool {
	site := r.Header.Get("Sec-Fetch-Site")
	if site != "" && site != "same-origin" && site != "none" {
		return false
	}
	origin := r.Header.Get("Origin")
	switch origin {
	case "":
		return true
	case "null":
		return site == "same-origin"
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	if p.appURL != nil && strings.EqualFold(u.Host, p.appURL.Host) && u.Scheme == p.appURL.Scheme {
		return true
	}
	return strings.EqualFold(u.Host, r.Host)
}

// parseScore reads a whole number in [min, max] written plainly: no sign,
// no spaces, no leading zeros beyond "0" itself.
func parseScore(v string, lo, hi int) (int, bool) {
	if v == "" || len(v) > 2 || (len(v) > 1 && v[0] == '0') {
		return 0, false
	}
	for _, r := range v {
		if r < '0' || r > '9' {
			return 0, false
		}
	}
	n, _ := strconv.Atoi(v)
	return n, n >= lo && n <= hi
}

// clientAddress is the peer's address, when no trusted proxy is
// configured. Forwarded-for headers are then not read: anyone can write
// them, and a limit keyed by them limits nothing. Behind a proxy, set
// Config.TrustedProxies: otherwise every customer shares the proxy's
// address, and an email campaign's clicks share one address's limit.
func clientAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// onColor is black or white, whichever reads better on the brand colour
// (WCAG relative luminance).
func onColor(hex string) string {
	if len(hex) != 7 {
		return "#ffffff"
	}
	v, err := strconv.ParseUint(hex[1:], 16, 32)
	if err != nil {
		return "#ffffff"
	}
	lin := func(c uint64) float64 {
		x := float64(c) / 255
		if x <= 0.03928 {
			return x / 12.92
		}
		return math.Pow((x+0.055)/1.055, 2.4)
	}
	l := 0.2126*lin(v>>16&0xff) + 0.7152*lin(v>>8&0xff) + 0.0722*lin(v&0xff)
	if l > 0.179 {
		return "#000000"
	}
	return "#ffffff"
}
