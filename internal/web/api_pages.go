package web

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/cvo-app/cvo/internal/activation"
	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/postgres"
	"github.com/cvo-app/cvo/internal/reports"
	"github.com/cvo-app/cvo/internal/rescore"
	"github.com/cvo-app/cvo/internal/rfm"
	"github.com/cvo-app/cvo/internal/scoring"
	"github.com/cvo-app/cvo/internal/web/apigen"
)

// The pages' API answers from the latest scoring's aggregates, computed at
// scoring time, and from indexed per-customer rows; no request scans orders.

// Snapshots reads scorings.
type Snapshots interface {
	LatestInfo(ctx context.Context, shop string) (cvo.Scoring, error)
	Aggregates(ctx context.Context, shop string, id int64) (*scoring.Aggregates, error)
	LastRun(ctx context.Context, shop string) (cvo.Scoring, error)
	ListCustomers(ctx context.Context, shop string, scoringID int64, q postgres.CustomerQuery) ([]postgres.CustomerListing, int, error)
}

// SettingsStore reads and saves a shop's settings.
type SettingsStore interface {
	Get(ctx context.Context, shop string) (cvo.Settings, error)
	Save(ctx context.Context, shop string, s cvo.Settings) error
}

// Actions starts background work on the merchant's request.
type Actions interface {
	EnqueueRescore(ctx context.Context, shop, reason string, due rescore.Due) error
	EnqueueSync(ctx context.Context, shop string) error
}

// Segments lists the Shopify segments the app saved for the groups.
type Segments interface {
	Segments(ctx context.Context, shop string) ([]activation.SegmentLink, error)
}

// PagesDeps are what the pages' API reads.
type PagesDeps struct {
	Snapshots Snapshots
	Settings  SettingsStore
	Actions   Actions
	Segments  Segments // may be nil
	// Customers serves the customer screen; nil answers 404.
	Customers CustomerReader
}

// aggregateCache keeps the aggregates of each shop's latest scoring:
// decoding a big shop's reports on every request would cost more than the
// 100 ms a page call may take.
type aggregateCache struct {
	mu      sync.Mutex
	entries map[string]cachedAggregates
}

type cachedAggregates struct {
	scoring cvo.Scoring
	agg     *scoring.Aggregates
}

const aggregateCacheShops = 128

func (c *aggregateCache) get(ctx context.Context, snaps Snapshots, shop string) (cvo.Scoring, *scoring.Aggregates, error) {
	sc, err := snaps.LatestInfo(ctx, shop)
	if err != nil {
		return sc, nil, err
	}
	c.mu.Lock()
	if e, ok := c.entries[shop]; ok && e.scoring.ID == sc.ID {
		c.mu.Unlock()
		return e.scoring, e.agg, nil
	}
	c.mu.Unlock()
	agg, err := snaps.Aggregates(ctx, shop, sc.ID)
	if err != nil {
		return sc, nil, err
	}
	if agg == nil || agg.Result == nil {
		return sc, nil, fmt.Errorf("aggregates of %s: empty", shop)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) >= aggregateCacheShops {
		c.entries = map[string]cachedAggregates{}
	}
	c.entries[shop] = cachedAggregates{scoring: sc, agg: agg}
	return sc, agg, nil
}

type pages struct {
	deps   PagesDeps
	server *Server
	cache  aggregateCache
}

// page is the pages' API when the server has it, errNoRoute otherwise.
func (a *api) page() (*pages, error) {
	if a.pages == nil {
		return nil, errNoRoute
	}
	return a.pages, nil
}

// latest is the shop's latest scoring, for the routes that show only it.
func (a *api) latest(c echo.Context) (cvo.Scoring, *scoring.Aggregates, error) {
	p, err := a.page()
	if err != nil {
		return cvo.Scoring{}, nil, err
	}
	return p.latest(c)
}

func (p *pages) latest(c echo.Context) (cvo.Scoring, *scoring.Aggregates, error) {
	return p.cache.get(c.Request().Context(), p.deps.Snapshots, shopOf(c))
}

// scoringStatus is the state of the shop's newest scoring run.
func (p *pages) scoringStatus(c echo.Context, shop string) (*apigen.ScoringStatus, error) {
	ctx := c.Request().Context()
	run, err := p.deps.Snapshots.LastRun(ctx, shop)
	switch {
	case cvo.ErrorCode(err) == cvo.ENOTFOUND:
		return &apigen.ScoringStatus{State: "none"}, nil
	case err != nil:
		return nil, err
	}
	out := &apigen.ScoringStatus{State: run.State, Reason: &run.Reason, StartedAt: &run.StartedAt, Error: &run.Error,
		FinishedAt: timePtr(run.FinishedAt)}
	if last, err := p.deps.Snapshots.LatestInfo(ctx, shop); err == nil {
		out.LastScoredAt, out.Customers = &last.FinishedAt, &last.Customers
	}
	return out, nil
}

// GetOverview answers GET /api/overview.
func (a *api) GetOverview(c echo.Context) error {
	sc, agg, err := a.latest(c)
	if err != nil {
		return err
	}
	t := agg.Totals
	var top float64
	for _, g := range agg.Groups {
		if g.Group == rfm.Soulmates || g.Group == rfm.Lovers {
			top += g.RevenueShare
		}
	}
	trend := make([]apigen.RetentionPoint, 0, len(agg.Reports.Retention.Trend))
	for _, m := range agg.Reports.Retention.Trend {
		trend = append(trend, apigen.RetentionPoint{Month: m.Month.Format("2006-01"), Rate: m.Rate, Customers: m.Customers,
			Buyers: m.Buyers, Returning: m.Returning, ReturningRate: m.ReturningRate, Partial: m.Partial})
	}
	return c.JSON(http.StatusOK, apigen.Overview{
		ScoredAt:              sc.FinishedAt,
		AsOf:                  sc.AsOf,
		Customers:             t.Customers,
		RepeatCustomers:       t.RepeatCustomers,
		Orders:                t.Orders,
		Revenue:               t.Revenue,
		Aov:                   t.AOV,
		RepeatRate:            t.RepeatRate,
		RetentionRate:         t.RetentionRate,
		RetentionTrend:        trend,
		AvgDaysBetweenOrders:  agg.Reports.Retention.AvgDaysBetweenOrders,
		AvgHistoricalClv:      t.AvgHistoricalCLV,
		AvgPredictedClv:       t.AvgPredictedCLV,
		ClvCac:                t.CLVToCAC,
		TopGroupsRevenueShare: top,
		Model: apigen.ModelSummary{Name: agg.Model.Used, Requested: agg.Model.Requested, Fallback: agg.Model.Fallback,
			Reason: agg.Model.Reason},
		Warnings: orEmpty(agg.Warnings),
	})
}

// orEmpty sends a list that may be nil as [], as the contract says.
func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// GetSegments answers GET /api/segments.
func (a *api) GetSegments(c echo.Context) error {
	p, err := a.page()
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	shop := shopOf(c)
	sc, agg, err := p.latest(c)
	if err != nil {
		return err
	}
	settings, err := p.deps.Settings.Get(ctx, shop)
	if err != nil {
		return err
	}
	segmentURLs := map[rfm.Group]string{}
	if p.deps.Segments != nil {
		links, err := p.deps.Segments.Segments(ctx, shop)
		if err != nil {
			return err
		}
		for _, l := range links {
			segmentURLs[l.Group] = l.AdminURL
		}
	}
	plays := map[rfm.Group]rfm.Play{}
	for _, pl := range rfm.Playbooks() {
		plays[pl.Group] = pl
	}
	byGroup := map[rfm.Group]scoring.GroupAggregate{}
	for _, g := range agg.Groups {
		byGroup[g.Group] = g
	}
	groups := make([]apigen.Group, 0, len(rfm.Groups()))
	for _, g := range rfm.Groups() {
		ga := byGroup[g]
		tag := settings.TagPrefix + g.Slug()
		row := apigen.Group{
			Slug: apigen.GroupSlug(g.Slug()), Name: g.Name(), Tag: tag, TagWritten: settings.GroupEnabled(g.Slug()),
			Meaning: plays[g].Meaning, Action: plays[g].Action, SegmentUrl: segmentURLs[g],
			Customers: ga.Customers, Share: ga.Share, RevenueShare: ga.RevenueShare, Revenue: ga.Revenue, Aov: ga.AOV,
			AvgDaysBetweenOrders: daysBetween(ga), AvgHistoricalClv: ga.AvgHistoricalCLV,
			AvgPredictedClv: ga.AvgPredictedCLV, AvgPAlive: ga.AvgPAlive, AvgPOrderWindow: ga.AvgPOrderWindow,
		}
		if row.SegmentUrl == "" {
			row.SegmentUrl = p.tagFilterURL(shop, tag)
		}
		groups = append(groups, row)
	}
	grid := make([]apigen.GridCell, 0, 25)
	for r := 5; r >= 1; r-- {
		for f := 1; f <= 5; f++ {
			grid = append(grid, apigen.GridCell{R: r, F: f, Customers: agg.Grid[r-1][f-1]})
		}
	}
	return c.JSON(http.StatusOK, apigen.Segments{
		ScoredAt:   sc.FinishedAt,
		Groups:     groups,
		Grid:       grid,
		Scales:     agg.RFM,
		Movements:  movements(agg.Reports.Transitions),
		WindowDays: windowDays(agg.Result),
	})
}

// tagFilterURL links to the shop's customers filtered by the group's tag,
// until the group's saved segment exists.
// daysBetween is a group's average gap between orders, or nil when nobody
// in it ordered twice: a group of one-time buyers has no gap, not a gap of 0.
func daysBetween(ga scoring.GroupAggregate) *float64 {
	if ga.RepeatCustomers == 0 {
		return nil
	}
	v := ga.AvgDaysBetweenOrders
	return &v
}

func (p *pages) tagFilterURL(shop, tag string) string {
	return p.server.cfg.AdminBaseURL(shop) + "/admin/customers?" + url.Values{"query": {"customer_tags CONTAINS '" + tag + "'"}}.Encode()
}

func movements(t reports.Transitions) apigen.Movements {
	out := []apigen.Transition{}
	name := func(i int) string {
		if g := rfm.Group(i); g.Valid() {
			return g.Slug()
		}
		return "new"
	}
	for from := range t.Counts {
		for to := range t.Counts[from] {
			if n := t.Counts[from][to]; n > 0 && rfm.Group(to).Valid() {
				out = append(out, apigen.Transition{From: name(from), To: apigen.GroupSlug(name(to)), Customers: n})
			}
		}
	}
	return apigen.Movements{Transitions: out, Moved: t.Moved, Stayed: t.Stayed, New: t.New, Gone: t.Gone}
}

// ExportGroup answers GET /api/segments/{slug}/export.csv.
func (a *api) ExportGroup(c echo.Context, slug apigen.GroupSlug) error {
	p, err := a.page()
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	shop := shopOf(c)
	g, err := rfm.ParseGroup(string(slug))
	if err != nil {
		return cvo.Errorf(cvo.ENOTFOUND, "No group %q.", slug)
	}
	sc, _, err := p.latest(c)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	h.Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="cvo-%s-%s.csv"`, g.Slug(), sc.AsOf.Format("2006-01-02")))
	c.Response().WriteHeader(http.StatusOK)
	w := csv.NewWriter(c.Response())
	_ = w.Write([]string{"customer_id", "email", "name", "group", "r", "f", "m", "orders", "revenue", "historical_clv", "predicted_clv", "p_alive", "expected_orders", "next_order", "p_order_window", "churn_risk"})
	const page = 5000
	var after *postgres.ListingKey
	for {
		rows, _, err := p.deps.Snapshots.ListCustomers(ctx, shop, sc.ID, postgres.CustomerQuery{Group: g.Slug(), Limit: page, After: after})
		if err != nil {
			return err
		}
		for _, r := range rows {
			_ = w.Write([]string{r.CustomerID, csvSafe(r.Email), csvSafe(r.Name), r.Group, strconv.Itoa(r.R), strconv.Itoa(r.F), strconv.Itoa(r.M),
				strconv.Itoa(r.Orders), money(r.Revenue), money(r.HistoricalCLV), money(r.PredictedCLV),
				strconv.FormatFloat(r.PAlive, 'f', 4, 64), strconv.FormatFloat(r.ExpectedOrders, 'f', 3, 64), dateOrEmpty(r.NextOrderAt),
				strconv.FormatFloat(r.POrderWindow, 'f', 4, 64), r.ChurnRisk})
		}
		w.Flush()
		if err := w.Error(); err != nil || len(rows) < page {
			return err
		}
		key := rows[len(rows)-1].Key()
		after = &key
	}
}

// csvSafe defuses spreadsheet formulas: a cell starting with =, +, - or @
// would run when the merchant opens the export.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func money(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

func dateOrEmpty(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format("2006-01-02")
}

// GetCohorts answers GET /api/cohorts.
func (a *api) GetCohorts(c echo.Context) error {
	_, agg, err := a.latest(c)
	if err != nil {
		return err
	}
	monthly := make([]apigen.MonthlyCohort, 0, len(agg.Reports.Cohorts))
	for _, co := range agg.Reports.Cohorts {
		monthly = append(monthly, apigen.MonthlyCohort{Cohort: co.Month.Format("2006-01"), Customers: co.Customers,
			Retention: orEmpty(co.ActiveShare), Active: orEmpty(co.Active), Revenue: orEmpty(co.Revenue)})
	}
	st := agg.Reports.Stickiness
	var partial *string
	if tr := agg.Reports.Retention.Trend; len(tr) > 0 && tr[len(tr)-1].Partial {
		m := tr[len(tr)-1].Month.Format("2006-01")
		partial = &m
	}
	return c.JSON(http.StatusOK, apigen.Cohorts{
		PartialMonth:   partial,
		Monthly:        monthly,
		Baseline:       st.Baseline,
		Window:         st.Window,
		ByChannel:      segmentRows(st.Channels),
		BySource:       segmentRows(st.Sources),
		ByCampaign:     segmentRows(st.Campaigns),
		ByDiscountCode: segmentRows(st.DiscountCodes),
	})
}

func segmentRows(ss []reports.Segment) []apigen.SegmentRow {
	out := make([]apigen.SegmentRow, 0, len(ss))
	for _, s := range ss {
		out = append(out, apigen.SegmentRow{Key: s.Key, Title: s.Label, Customers: s.Customers, Repeaters: s.Repeaters,
			RepeatRate: s.RepeatRate, RepurchaseRate: s.RepeatRate, Baseline: s.Baseline,
			AvgLaterValue: s.AvgLaterValue, LaterValue: s.AvgLaterValue, Tested: s.Tested,
			PValue: s.PValue, QValue: s.QValue, Verdict: apigen.Verdict(s.Verdict)})
	}
	return out
}

// GetProducts answers GET /api/products.
func (a *api) GetProducts(c echo.Context) error {
	_, agg, err := a.latest(c)
	if err != nil {
		return err
	}
	pr := agg.Reports.Products
	return c.JSON(http.StatusOK, apigen.Products{
		Baseline:      pr.Baseline,
		Window:        pr.Window,
		Products:      segmentRows(topSegments(pr.Products, maxProductRows)),
		ProductsTotal: len(pr.Products),
		Vendors:       segmentRows(topSegments(pr.Vendors, maxProductRows)),
		ProductTypes:  segmentRows(topSegments(pr.ProductTypes, maxProductRows)),
	})
}

// maxProductRows bounds the products page's answer: every product with a
// verdict, then the most bought, so a catalogue of thousands stays small.
const maxProductRows = 500

func topSegments(ss []reports.Segment, n int) []reports.Segment {
	if len(ss) <= n {
		return ss
	}
	out := append([]reports.Segment(nil), ss...)
	sort.SliceStable(out, func(i, j int) bool {
		vi, vj := out[i].Verdict != "", out[j].Verdict != ""
		if vi != vj {
			return vi
		}
		return out[i].Customers > out[j].Customers
	})
	return out[:n]
}

// GetInsights answers GET /api/insights.
func (a *api) GetInsights(c echo.Context) error {
	_, agg, err := a.latest(c)
	if err != nil {
		return err
	}
	r := agg.Reports
	curve := make([]apigen.ParetoPoint, 0, len(r.Pareto.RevenueCurve))
	for _, pt := range r.Pareto.RevenueCurve {
		curve = append(curve, apigen.ParetoPoint{CustomersShare: pt.CustomerShare, RevenueShare: pt.ValueShare})
	}
	anomalies := []apigen.Anomaly{}
	for _, ch := range r.Anomalies.Changes {
		month := ch.Month.Format("2006-01")
		anomalies = append(anomalies, apigen.Anomaly{Kind: ch.Metric, Month: &month, Value: ch.Value, Expected: ch.Expected, Score: ch.Z})
	}
	for _, s := range r.Anomalies.Segments {
		key, note := s.Label, string(s.Verdict)
		anomalies = append(anomalies, apigen.Anomaly{Kind: s.Dimension, Key: &key, Value: s.RepeatRate, Expected: s.Baseline,
			Score: s.Z, Note: &note})
	}
	return c.JSON(http.StatusOK, apigen.Insights{
		Pareto: apigen.Pareto{Top20RevenueShare: r.Pareto.RevenueShareTop20, Top20MarginShare: r.Pareto.MarginShareTop20,
			MarginCoverage: r.Pareto.MarginCoverage, Curve: curve},
		Anomalies:        anomalies,
		Loyalty:          r.Loyalty,
		Icp:              r.ICP,
		Backtest:         agg.Backtest,
		BacktestSkipped:  agg.BacktestSkipped,
		Model:            agg.Model,
		ShopifyCrosswalk: shopifyCrosswalk(agg.ShopifyCrosswalk),
		Prediction:       agg.Prediction,
	})
}

// windowDays is the window of a scoring's chance to order: the one it was
// made with, or the default for scorings made before it existed.
func windowDays(r *scoring.Result) int {
	if r != nil && r.Prediction != nil && r.Prediction.WindowDays > 0 {
		return r.Prediction.WindowDays
	}
	return scoring.DefaultWindowDays
}

// shopifyCrosswalk lists Shopify's groups in Shopify's order, then any
// other value the data held, then "" for customers Shopify gave none.
func shopifyCrosswalk(cells []scoring.CrosswalkCell) apigen.ShopifyCrosswalk {
	out := apigen.ShopifyCrosswalk{Cells: make([]apigen.CrosswalkCell, 0, len(cells)), ShopifyGroups: []string{}}
	seen := map[string]bool{}
	var extra []string
	none := false
	for _, c := range cells {
		out.Cells = append(out.Cells, apigen.CrosswalkCell{Group: apigen.GroupSlug(c.Group.Slug()), ShopifyGroup: c.ShopifyGroup,
			Customers: c.Customers})
		if c.ShopifyGroup == "" {
			none = true
			continue
		}
		out.WithShopifyGroup += c.Customers
		if !seen[c.ShopifyGroup] && !slices.Contains(scoring.ShopifyRFMGroups, c.ShopifyGroup) {
			extra = append(extra, c.ShopifyGroup)
		}
		seen[c.ShopifyGroup] = true
	}
	out.ShopifyGroups = append(out.ShopifyGroups, scoring.ShopifyRFMGroups...)
	slices.Sort(extra)
	out.ShopifyGroups = append(out.ShopifyGroups, extra...)
	if none {
		out.ShopifyGroups = append(out.ShopifyGroups, "")
	}
	return out
}

const (
	defaultPerPage = 50
	maxPerPage     = 250
	// maxOffset bounds how deep the list pages, far beyond any shop's
	// customer count, so a page number can never overflow an offset.
	maxOffset = 100_000_000
	// maxSearchRunes bounds a search: the longest email or name searched
	// by prefix is far shorter.
	maxSearchRunes = 200
)

// customerSorts are the orders the customer list offers; "" is the default.
var customerSorts = map[string]bool{"": true, "predicted_clv": true}

// parseCustomerQuery reads the customer list's parameters. Anything out of
// range is refused with a message, never clamped silently nor passed on
// for the database to reject.
func parseCustomerQuery(params apigen.GetCustomersParams) (q postgres.CustomerQuery, page int, err error) {
	page, err = intParam("page", deref(params.Page), 1, 1, maxOffset)
	if err != nil {
		return q, 0, err
	}
	perPage, err := intParam("per_page", deref(params.PerPage), defaultPerPage, 1, maxPerPage)
	if err != nil {
		return q, 0, err
	}
	if (page-1)*perPage > maxOffset {
		return q, 0, cvo.Errorf(cvo.EINVALID, "Page %d is beyond the end of the list.", page)
	}
	if sort := string(deref(params.Sort)); !customerSorts[sort] {
		return q, 0, cvo.Errorf(cvo.EINVALID, "Unknown sort key %q: the list is sorted by predicted_clv.", sort)
	}
	search := deref(params.Q)
	if err := checkText("Search", search, maxSearchRunes); err != nil {
		if e := (*cvo.Error)(nil); errors.As(err, &e) {
			e.Field = "q"
		}
		return q, 0, err
	}
	q = postgres.CustomerQuery{Search: strings.TrimSpace(search), Limit: perPage, Offset: (page - 1) * perPage}
	if slug := string(deref(params.Group)); slug != "" {
		g, err := rfm.ParseGroup(slug)
		if err != nil {
			return q, 0, cvo.Errorf(cvo.EINVALID, "No group %q.", slug)
		}
		q.Group = g.Slug()
	}
	return q, page, nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// intParam reads an optional integer query parameter within [lo, hi].
func intParam(name, raw string, def, lo, hi int) (int, error) {
	if raw == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || n < int64(lo) || n > int64(hi) {
		return 0, cvo.Errorf(cvo.EINVALID, "%s must be a whole number from %d to %d.", name, lo, hi)
	}
	return int(n), nil
}

// checkText refuses text PostgreSQL cannot store (NUL, invalid UTF-8),
// other control characters and text longer than maxRunes.
func checkText(what, s string, maxRunes int) error {
	if !utf8.ValidString(s) {
		return cvo.Errorf(cvo.EINVALID, "%s is not valid UTF-8.", what)
	}
	if utf8.RuneCountInString(s) > maxRunes {
		return cvo.Errorf(cvo.EINVALID, "%s is too long: at most %d characters, this has %d. Shorten it and try again.", what, maxRunes, utf8.RuneCountInString(s))
	}
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return cvo.Errorf(cvo.EINVALID, "%s contains control characters.", what)
	}
	return nil
}

// GetCustomers answers GET /api/customers.
func (a *api) GetCustomers(c echo.Context, params apigen.GetCustomersParams) error {
	p, err := a.page()
	if err != nil {
		return err
	}
	q, page, err := parseCustomerQuery(params)
	if err != nil {
		return err
	}
	perPage := q.Limit
	sc, agg, err := p.latest(c)
	if err != nil {
		return err
	}
	rows, total, err := p.deps.Snapshots.ListCustomers(c.Request().Context(), shopOf(c), sc.ID, q)
	if err != nil {
		return err
	}
	if q.Search == "" {
		// The count comes from the scoring's aggregates, not a count(*).
		total = agg.Totals.Customers
		if q.Group != "" {
			total = 0
			for _, g := range agg.Groups {
				if g.Group.Slug() == q.Group {
					total = g.Customers
				}
			}
		}
	}
	out := make([]apigen.CustomerRow, 0, len(rows))
	for _, r := range rows {
		out = append(out, apigen.CustomerRow{Id: r.CustomerID, Name: r.Name, Email: r.Email, Group: apigen.GroupSlug(r.Group),
			R: r.R, F: r.F, M: r.M, Orders: r.Orders, Revenue: r.Revenue, HistoricalClv: r.HistoricalCLV,
			PredictedClv: r.PredictedCLV, PAlive: r.PAlive, ExpectedOrders: r.ExpectedOrders,
			ExpectedNextOrder: dateOrEmpty(r.NextOrderAt), POrderWindow: r.POrderWindow, ChurnRisk: apigen.ChurnRisk(r.ChurnRisk),
			AdminUrl: p.server.cfg.AdminBaseURL(shopOf(c)) + "/admin/customers/" + r.CustomerID})
	}
	return c.JSON(http.StatusOK, apigen.CustomersPage{Customers: out, Total: total, Page: page, PerPage: perPage,
		WindowDays: windowDays(agg.Result)})
}

// maxCACSources bounds the acquisition costs per source a shop may set.
const maxCACSources = 500

func toSettingsJSON(s cvo.Settings) apigen.Settings {
	out := apigen.Settings{TagPrefix: s.TagPrefix, ValueTags: s.ValueTags, Metafields: s.Metafields,
		Segments: s.Segments, Cac: s.CAC, DefaultMargin: s.DefaultMargin, RefundDating: apigen.RefundDate,
		Schedule: apigen.Schedule{NightlyHour: s.NightlyHour},
		Prediction: apigen.PredictionSettings{WindowDays: s.PredictionWindowDays, ChurnRiskHigh: s.ChurnRiskHigh,
			ChurnRiskMedium: s.ChurnRiskMedium}, ShareSurveyLinks: s.ShareSurveyLinks}
	if s.CACBySource != nil {
		out.CacBySource = &s.CACBySource
	}
	if s.GroupsEnabled == nil {
		for _, g := range rfm.Groups() {
			out.GroupsEnabled = append(out.GroupsEnabled, apigen.GroupSlug(g.Slug()))
		}
	} else {
		out.GroupsEnabled = make([]apigen.GroupSlug, 0, len(s.GroupsEnabled))
		for _, g := range s.GroupsEnabled {
			out.GroupsEnabled = append(out.GroupsEnabled, apigen.GroupSlug(g))
		}
	}
	if s.RefundDating == cvo.RefundAtOrderDate {
		out.RefundDating = apigen.OrderDate
	}
	return out
}

// GetSettings answers GET /api/settings.
func (a *api) GetSettings(c echo.Context) error {
	p, err := a.page()
	if err != nil {
		return err
	}
	s, err := p.deps.Settings.Get(c.Request().Context(), shopOf(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toSettingsJSON(s))
}

// PutSettings answers PUT /api/settings. A field left out keeps its
// default.
func (a *api) PutSettings(c echo.Context) error {
	p, err := a.page()
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	shop := shopOf(c)
	in := toSettingsJSON(cvo.DefaultSettings())
	dec := json.NewDecoder(c.Request().Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return cvo.Errorf(cvo.EINVALID, "Settings must be a JSON object with known fields: %v", err)
	}
	s := cvo.Settings{TagPrefix: in.TagPrefix, ValueTags: in.ValueTags, Metafields: in.Metafields, Segments: in.Segments,
		CAC: in.Cac, CACBySource: deref(in.CacBySource), DefaultMargin: in.DefaultMargin, NightlyHour: in.Schedule.NightlyHour,
		PredictionWindowDays: in.Prediction.WindowDays, ChurnRiskHigh: in.Prediction.ChurnRiskHigh,
		ChurnRiskMedium: in.Prediction.ChurnRiskMedium, ShareSurveyLinks: in.ShareSurveyLinks}
	switch in.RefundDating {
	case apigen.RefundDate:
		s.RefundDating = cvo.RefundAtRefundDate
	case apigen.OrderDate:
		s.RefundDating = cvo.RefundAtOrderDate
	default:
		return cvo.FieldErrorf(cvo.EINVALID, "refund_dating", "Refund dating must be refund_date or order_date.")
	}
	// null (or every group) means all groups, including any added later;
	// an empty list means none.
	all := in.GroupsEnabled == nil || len(in.GroupsEnabled) == len(rfm.Groups())
	enabled := make([]string, 0, len(in.GroupsEnabled))
	for _, slug := range in.GroupsEnabled {
		if _, err := rfm.ParseGroup(string(slug)); err != nil {
			return cvo.FieldErrorf(cvo.EINVALID, "groups_enabled", "Unknown group %q.", slug)
		}
		enabled = append(enabled, string(slug))
	}
	if !all {
		s.GroupsEnabled = enabled
	}
	if len(s.CACBySource) > maxCACSources {
		return cvo.FieldErrorf(cvo.EINVALID, "cac_by_source", "At most %d acquisition sources.", maxCACSources)
	}
	for src := range s.CACBySource {
		if err := checkText("Source name", src, 100); err != nil {
			return err
		}
	}
	if err := p.deps.Settings.Save(ctx, shop, s); err != nil {
		return err
	}
	// Costs, margins and refund dating change the scores; tag choices
	// change what write-back sends. A rescore covers both, one per window
	// however many saves fall in it.
	if err := p.deps.Actions.EnqueueRescore(ctx, shop, string(rescore.ReasonSettings), settingsRescoreDue(p.server.now())); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toSettingsJSON(s))
}

// SettingsRescoreWindow is how long settings saves are gathered into one
// rescore: a merchant adjusting several settings in a row starts one.
const SettingsRescoreWindow = 30 * time.Second

// settingsRescoreDue names the save's window and runs the rescore when the
// window has closed (plus a margin for clocks of other servers), so every
// save of the window is stored before the rescore reads the settings.
func settingsRescoreDue(now time.Time) rescore.Due {
	const clockMargin = 2 * time.Second
	start := now.Truncate(SettingsRescoreWindow)
	return rescore.Due{
		Key:   fmt.Sprintf("settings:%d", start.UnixMilli()),
		After: start.Add(SettingsRescoreWindow).Sub(now) + clockMargin,
	}
}

// RescoreNow answers POST /api/actions/rescore.
func (a *api) RescoreNow(c echo.Context) error {
	p, err := a.page()
	if err != nil {
		return err
	}
	// One manual rescore per shop per minute, however often it is clicked.
	key := "manual:" + time.Now().UTC().Format("200601021504")
	if err := p.deps.Actions.EnqueueRescore(c.Request().Context(), shopOf(c), string(rescore.ReasonManual), rescore.Due{Key: key}); err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, apigen.ActionResult{State: apigen.Queued})
}

// ResyncNow answers POST /api/actions/resync.
func (a *api) ResyncNow(c echo.Context) error {
	p, err := a.page()
	if err != nil {
		return err
	}
	if err := p.deps.Actions.EnqueueSync(c.Request().Context(), shopOf(c)); err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, apigen.ActionResult{State: apigen.Queued})
}

// GetLifetimeValue answers GET /api/lifetime-value.
func (a *api) GetLifetimeValue(c echo.Context) error {
	sc, agg, err := a.latest(c)
	if err != nil {
		return err
	}
	out := apigen.LifetimeValue{ScoredAt: sc.FinishedAt, Cohorts: []apigen.LtvCohort{}, Overall: ltvCurve(reports.LTVCurve{Key: "all", Label: "All customers"}),
		ByFirstProduct: []apigen.LtvCurve{}, ByDiscountCode: []apigen.LtvCurve{}, BySource: []apigen.LtvCurve{}}
	lv := agg.Reports.LifetimeValue
	if lv == nil {
		// A scoring stored before the report existed; the page offers a rescore.
		return c.JSON(http.StatusOK, out)
	}
	out.Available, out.PartialMonth, out.Cac = true, lv.PartialMonth, lv.CAC
	for _, co := range lv.Cohorts {
		out.Cohorts = append(out.Cohorts, apigen.LtvCohort{Cohort: co.Month.Format("2006-01"), Customers: co.Customers, Cac: co.CAC,
			Revenue: orEmpty(co.Revenue), GrossProfit: orEmpty(co.GrossProfit), Partial: co.Partial, Payback: ltvPayback(co.Payback),
			Steady: co.Steady, SteadyOnSchedule: co.SteadyOnSchedule})
	}
	out.Overall = ltvCurve(lv.Overall)
	out.ByFirstProduct, out.ByDiscountCode, out.BySource = ltvCurves(lv.ByFirstProduct), ltvCurves(lv.ByDiscountCode), ltvCurves(lv.BySource)
	out.FirstProducts, out.DiscountCodes, out.Sources = lv.FirstProducts, lv.DiscountCodes, lv.Sources
	r := lv.Steady
	out.Steady = apigen.SteadyRule{MinPurchaseDays: r.MinPurchaseDays, MinGapDays: r.MinGapDays, MaxGapDays: r.MaxGapDays,
		MaxVariation: r.MaxVariation, OverdueFactor: r.OverdueFactor, Customers: r.Customers, OnSchedule: r.OnSchedule,
		AvgGapDays: r.AvgGapDays}
	return c.JSON(http.StatusOK, out)
}

func ltvPayback(p reports.Payback) apigen.LtvPayback {
	state := p.State
	if state == "" {
		state = reports.PaybackNoCAC
	}
	return apigen.LtvPayback{State: apigen.LtvPaybackState(state), Month: p.Month}
}

func ltvCurve(cv reports.LTVCurve) apigen.LtvCurve {
	return apigen.LtvCurve{Key: cv.Key, Title: cv.Label, Customers: cv.Customers, Cac: cv.CAC, Observed: orEmpty(cv.Observed),
		Revenue: orEmpty(cv.Revenue), GrossProfit: orEmpty(cv.GrossProfit), Payback: ltvPayback(cv.Payback), Steady: cv.Steady}
}

func ltvCurves(cs []reports.LTVCurve) []apigen.LtvCurve {
	out := make([]apigen.LtvCurve, 0, len(cs))
	for _, cv := range cs {
		out = append(out, ltvCurve(cv))
	}
	return out
}
