package web

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
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
)

// The pages' API answers from the latest scoring's aggregates, computed at
// scoring time, and from indexed per-customer rows; no request scans orders.

// Snapshots reads scorings.
type Snapshots interface {
	LatestInfo(ctx context.Context, shop string) (cvo.Scoring, error)
	Aggregates(ctx context.Context, shop string, id int64) (json.RawMessage, error)
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
}

// aggregateCache keeps the decoded aggregates of each shop's latest
// scoring: decoding a big shop's reports on every request would cost more
// than the 100 ms a page call may take.
type aggregateCache struct {
	mu      sync.Mutex
	entries map[string]cachedAggregates
}

type cachedAggregates struct {
	scoring cvo.Scoring
	agg     *rescore.Aggregates
}

const aggregateCacheShops = 128

func (c *aggregateCache) get(ctx context.Context, snaps Snapshots, shop string) (cvo.Scoring, *rescore.Aggregates, error) {
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
	raw, err := snaps.Aggregates(ctx, shop, sc.ID)
	if err != nil {
		return sc, nil, err
	}
	agg := &rescore.Aggregates{}
	if err := json.Unmarshal(raw, agg); err != nil {
		return sc, nil, fmt.Errorf("decode aggregates of %s: %w", shop, err)
	}
	if agg.Result == nil {
		return sc, nil, fmt.Errorf("decode aggregates of %s: empty", shop)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) >= aggregateCacheShops {
		c.entries = map[string]cachedAggregates{}
	}
	c.entries[shop] = cachedAggregates{scoring: sc, agg: agg}
	return sc, agg, nil
}

func (s *Server) mountPages(api *echo.Group, d PagesDeps) {
	p := &pages{deps: d, server: s}
	api.GET("/overview", p.overview)
	api.GET("/segments", p.segments)
	api.GET("/segments/:slug/export.csv", p.exportGroup)
	api.GET("/cohorts", p.cohorts)
	api.GET("/products", p.products)
	api.GET("/customers", p.customers)
	api.GET("/insights", p.insights)
	api.GET("/settings", p.getSettings)
	api.PUT("/settings", p.putSettings)
	api.POST("/actions/rescore", p.rescoreNow)
	api.POST("/actions/resync", p.resyncNow)
}

type pages struct {
	deps   PagesDeps
	server *Server
	cache  aggregateCache
}

func (p *pages) latest(c echo.Context) (cvo.Scoring, *rescore.Aggregates, error) {
	return p.cache.get(c.Request().Context(), p.deps.Snapshots, shopOf(c))
}

func (p *pages) overview(c echo.Context) error {
	sc, agg, err := p.latest(c)
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
	trend := make([]map[string]any, 0, len(agg.Reports.Retention.Trend))
	for _, m := range agg.Reports.Retention.Trend {
		trend = append(trend, map[string]any{"month": m.Month.Format("2006-01"), "rate": m.Rate, "customers": m.Customers})
	}
	return c.JSON(http.StatusOK, map[string]any{
		"scored_at":                sc.FinishedAt,
		"as_of":                    sc.AsOf,
		"customers":                t.Customers,
		"repeat_customers":         t.RepeatCustomers,
		"orders":                   t.Orders,
		"revenue":                  t.Revenue,
		"aov":                      t.AOV,
		"repeat_rate":              t.RepeatRate,
		"retention_rate":           t.RetentionRate,
		"retention_trend":          trend,
		"avg_days_between_orders":  agg.Reports.Retention.AvgDaysBetweenOrders,
		"avg_historical_clv":       t.AvgHistoricalCLV,
		"avg_predicted_clv":        t.AvgPredictedCLV,
		"clv_cac":                  t.CLVToCAC,
		"top_groups_revenue_share": top,
		"model":                    map[string]any{"name": agg.Model.Used, "requested": agg.Model.Requested, "fallback": agg.Model.Fallback, "reason": agg.Model.Reason},
		"warnings":                 agg.Warnings,
	})
}

func (p *pages) segments(c echo.Context) error {
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
	byGroup := map[rfm.Group]map[string]any{}
	for _, g := range agg.Groups {
		byGroup[g.Group] = map[string]any{"customers": g.Customers, "share": g.Share, "revenue_share": g.RevenueShare,
			"revenue": g.Revenue, "aov": g.AOV, "avg_days_between_orders": g.AvgDaysBetweenOrders,
			"avg_historical_clv": g.AvgHistoricalCLV, "avg_predicted_clv": g.AvgPredictedCLV, "avg_p_alive": g.AvgPAlive}
	}
	groups := make([]map[string]any, 0, len(rfm.Groups()))
	for _, g := range rfm.Groups() {
		row := byGroup[g]
		if row == nil {
			row = map[string]any{"customers": 0, "share": 0.0, "revenue_share": 0.0, "revenue": 0.0, "aov": 0.0,
				"avg_days_between_orders": 0.0, "avg_historical_clv": 0.0, "avg_predicted_clv": 0.0, "avg_p_alive": 0.0}
		}
		tag := settings.TagPrefix + g.Slug()
		row["slug"], row["name"], row["tag"] = g.Slug(), g.Name(), tag
		row["tag_written"] = settings.GroupEnabled(g.Slug())
		row["meaning"], row["action"] = plays[g].Meaning, plays[g].Action
		row["segment_url"] = segmentURLs[g]
		if row["segment_url"] == "" {
			row["segment_url"] = p.tagFilterURL(shop, tag)
		}
		groups = append(groups, row)
	}
	grid := make([]map[string]any, 0, 25)
	for r := 5; r >= 1; r-- {
		for f := 1; f <= 5; f++ {
			grid = append(grid, map[string]any{"r": r, "f": f, "customers": agg.Grid[r-1][f-1]})
		}
	}
	return c.JSON(http.StatusOK, map[string]any{
		"scored_at": sc.FinishedAt,
		"groups":    groups,
		"grid":      grid,
		"scales":    agg.RFM,
		"movements": movements(agg.Reports.Transitions),
	})
}

// tagFilterURL links to the shop's customers filtered by the group's tag,
// until the group's saved segment exists.
func (p *pages) tagFilterURL(shop, tag string) string {
	return p.server.cfg.AdminBaseURL(shop) + "/admin/customers?" + url.Values{"query": {"customer_tags CONTAINS '" + tag + "'"}}.Encode()
}

func movements(t reports.Transitions) map[string]any {
	var out []map[string]any
	name := func(i int) string {
		if g := rfm.Group(i); g.Valid() {
			return g.Slug()
		}
		return "new"
	}
	for from := range t.Counts {
		for to := range t.Counts[from] {
			if n := t.Counts[from][to]; n > 0 && rfm.Group(to).Valid() {
				out = append(out, map[string]any{"from": name(from), "to": name(to), "customers": n})
			}
		}
	}
	return map[string]any{"transitions": out, "moved": t.Moved, "stayed": t.Stayed, "new": t.New, "gone": t.Gone}
}

func (p *pages) exportGroup(c echo.Context) error {
	ctx := c.Request().Context()
	shop := shopOf(c)
	g, err := rfm.ParseGroup(c.Param("slug"))
	if err != nil {
		return cvo.Errorf(cvo.ENOTFOUND, "No group %q.", c.Param("slug"))
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
	_ = w.Write([]string{"customer_id", "email", "name", "group", "r", "f", "m", "orders", "revenue", "historical_clv", "predicted_clv", "p_alive", "expected_orders", "next_order"})
	const page = 5000
	for offset := 0; ; offset += page {
		rows, _, err := p.deps.Snapshots.ListCustomers(ctx, shop, sc.ID, postgres.CustomerQuery{Group: g.Slug(), Limit: page, Offset: offset})
		if err != nil {
			return err
		}
		for _, r := range rows {
			_ = w.Write([]string{r.CustomerID, csvSafe(r.Email), csvSafe(r.Name), r.Group, strconv.Itoa(r.R), strconv.Itoa(r.F), strconv.Itoa(r.M),
				strconv.Itoa(r.Orders), money(r.Revenue), money(r.HistoricalCLV), money(r.PredictedCLV),
				strconv.FormatFloat(r.PAlive, 'f', 4, 64), strconv.FormatFloat(r.ExpectedOrders, 'f', 3, 64), dateOrEmpty(r.NextOrderAt)})
		}
		w.Flush()
		if err := w.Error(); err != nil || len(rows) < page {
			return err
		}
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

func (p *pages) cohorts(c echo.Context) error {
	_, agg, err := p.latest(c)
	if err != nil {
		return err
	}
	monthly := make([]map[string]any, 0, len(agg.Reports.Cohorts))
	for _, co := range agg.Reports.Cohorts {
		monthly = append(monthly, map[string]any{"cohort": co.Month.Format("2006-01"), "customers": co.Customers,
			"retention": co.ActiveShare, "active": co.Active, "revenue": co.Revenue})
	}
	st := agg.Reports.Stickiness
	return c.JSON(http.StatusOK, map[string]any{
		"monthly":          monthly,
		"baseline":         st.Baseline,
		"window":           st.Window,
		"by_channel":       segmentRows(st.Channels),
		"by_source":        segmentRows(st.Sources),
		"by_campaign":      segmentRows(st.Campaigns),
		"by_discount_code": segmentRows(st.DiscountCodes),
	})
}

func segmentRows(ss []reports.Segment) []map[string]any {
	out := make([]map[string]any, 0, len(ss))
	for _, s := range ss {
		out = append(out, map[string]any{"key": s.Key, "title": s.Label, "customers": s.Customers, "repeaters": s.Repeaters,
			"repeat_rate": s.RepeatRate, "repurchase_rate": s.RepeatRate, "baseline": s.Baseline,
			"avg_later_value": s.AvgLaterValue, "later_value": s.AvgLaterValue, "tested": s.Tested,
			"p_value": s.PValue, "q_value": s.QValue, "verdict": string(s.Verdict)})
	}
	return out
}

func (p *pages) products(c echo.Context) error {
	_, agg, err := p.latest(c)
	if err != nil {
		return err
	}
	pr := agg.Reports.Products
	return c.JSON(http.StatusOK, map[string]any{
		"baseline":       pr.Baseline,
		"window":         pr.Window,
		"products":       segmentRows(topSegments(pr.Products, maxProductRows)),
		"products_total": len(pr.Products),
		"vendors":        segmentRows(topSegments(pr.Vendors, maxProductRows)),
		"product_types":  segmentRows(topSegments(pr.ProductTypes, maxProductRows)),
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

func (p *pages) insights(c echo.Context) error {
	_, agg, err := p.latest(c)
	if err != nil {
		return err
	}
	r := agg.Reports
	curve := make([]map[string]any, 0, len(r.Pareto.RevenueCurve))
	for _, pt := range r.Pareto.RevenueCurve {
		curve = append(curve, map[string]any{"customers_share": pt.CustomerShare, "revenue_share": pt.ValueShare})
	}
	var anomalies []map[string]any
	for _, ch := range r.Anomalies.Changes {
		anomalies = append(anomalies, map[string]any{"kind": ch.Metric, "month": ch.Month.Format("2006-01"), "value": ch.Value,
			"expected": ch.Expected, "score": ch.Z})
	}
	for _, s := range r.Anomalies.Segments {
		anomalies = append(anomalies, map[string]any{"kind": s.Dimension, "key": s.Label, "value": s.RepeatRate,
			"expected": s.Baseline, "score": s.Z, "note": string(s.Verdict)})
	}
	return c.JSON(http.StatusOK, map[string]any{
		"pareto": map[string]any{"top20_revenue_share": r.Pareto.RevenueShareTop20, "top20_margin_share": r.Pareto.MarginShareTop20,
			"margin_coverage": r.Pareto.MarginCoverage, "curve": curve},
		"anomalies":        anomalies,
		"loyalty":          r.Loyalty,
		"icp":              r.ICP,
		"backtest":         agg.Backtest,
		"backtest_skipped": agg.BacktestSkipped,
		"model":            agg.Model,
	})
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
func parseCustomerQuery(c echo.Context) (q postgres.CustomerQuery, page int, err error) {
	page, err = intParam(c, "page", 1, 1, maxOffset)
	if err != nil {
		return q, 0, err
	}
	perPage, err := intParam(c, "per_page", defaultPerPage, 1, maxPerPage)
	if err != nil {
		return q, 0, err
	}
	if (page-1)*perPage > maxOffset {
		return q, 0, cvo.Errorf(cvo.EINVALID, "Page %d is beyond the end of the list.", page)
	}
	if sort := c.QueryParam("sort"); !customerSorts[sort] {
		return q, 0, cvo.Errorf(cvo.EINVALID, "Unknown sort key %q: the list is sorted by predicted_clv.", sort)
	}
	search := c.QueryParam("q")
	if err := checkText("Search", search, maxSearchRunes); err != nil {
		return q, 0, err
	}
	q = postgres.CustomerQuery{Search: strings.TrimSpace(search), Limit: perPage, Offset: (page - 1) * perPage}
	if slug := c.QueryParam("group"); slug != "" {
		g, err := rfm.ParseGroup(slug)
		if err != nil {
			return q, 0, cvo.Errorf(cvo.EINVALID, "No group %q.", slug)
		}
		q.Group = g.Slug()
	}
	return q, page, nil
}

// intParam reads an optional integer query parameter within [lo, hi].
func intParam(c echo.Context, name string, def, lo, hi int) (int, error) {
	raw := c.QueryParam(name)
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
		return cvo.Errorf(cvo.EINVALID, "%s is too long (at most %d characters).", what, maxRunes)
	}
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return cvo.Errorf(cvo.EINVALID, "%s contains control characters.", what)
	}
	return nil
}

func (p *pages) customers(c echo.Context) error {
	q, page, err := parseCustomerQuery(c)
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
	out := make([]map[string]any, 0, len(rows))
	for _, r := range rows {
		out = append(out, map[string]any{"id": r.CustomerID, "name": r.Name, "email": r.Email, "group": r.Group,
			"r": r.R, "f": r.F, "m": r.M, "orders": r.Orders, "revenue": r.Revenue, "historical_clv": r.HistoricalCLV,
			"predicted_clv": r.PredictedCLV, "p_alive": r.PAlive, "expected_orders": r.ExpectedOrders,
			"expected_next_order": dateOrEmpty(r.NextOrderAt),
			"admin_url":           p.server.cfg.AdminBaseURL(shopOf(c)) + "/admin/customers/" + r.CustomerID})
	}
	return c.JSON(http.StatusOK, map[string]any{"customers": out, "total": total, "page": page, "per_page": perPage})
}

// maxCACSources bounds the acquisition costs per source a shop may set.
const maxCACSources = 500

type settingsJSON struct {
	TagPrefix     string             `json:"tag_prefix"`
	GroupsEnabled []string           `json:"groups_enabled"`
	ValueTags     cvo.ValueTags      `json:"value_tags"`
	Metafields    bool               `json:"metafields"`
	Segments      bool               `json:"segments"`
	CAC           float64            `json:"cac"`
	CACBySource   map[string]float64 `json:"cac_by_source"`
	DefaultMargin float64            `json:"default_margin"`
	RefundDating  string             `json:"refund_dating"`
	Schedule      struct {
		NightlyHour int `json:"nightly_hour"`
	} `json:"schedule"`
}

func toSettingsJSON(s cvo.Settings) settingsJSON {
	out := settingsJSON{TagPrefix: s.TagPrefix, GroupsEnabled: s.GroupsEnabled, ValueTags: s.ValueTags, Metafields: s.Metafields,
		Segments: s.Segments, CAC: s.CAC, CACBySource: s.CACBySource, DefaultMargin: s.DefaultMargin, RefundDating: "refund_date"}
	if out.GroupsEnabled == nil {
		for _, g := range rfm.Groups() {
			out.GroupsEnabled = append(out.GroupsEnabled, g.Slug())
		}
	}
	if s.RefundDating == cvo.RefundAtOrderDate {
		out.RefundDating = "order_date"
	}
	out.Schedule.NightlyHour = s.NightlyHour
	return out
}

func (p *pages) getSettings(c echo.Context) error {
	s, err := p.deps.Settings.Get(c.Request().Context(), shopOf(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toSettingsJSON(s))
}

func (p *pages) putSettings(c echo.Context) error {
	ctx := c.Request().Context()
	shop := shopOf(c)
	in := toSettingsJSON(cvo.DefaultSettings())
	dec := json.NewDecoder(c.Request().Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return cvo.Errorf(cvo.EINVALID, "Settings must be a JSON object with known fields: %v", err)
	}
	s := cvo.Settings{TagPrefix: in.TagPrefix, ValueTags: in.ValueTags, Metafields: in.Metafields, Segments: in.Segments,
		CAC: in.CAC, CACBySource: in.CACBySource, DefaultMargin: in.DefaultMargin, NightlyHour: in.Schedule.NightlyHour}
	switch in.RefundDating {
	case "refund_date":
		s.RefundDating = cvo.RefundAtRefundDate
	case "order_date":
		s.RefundDating = cvo.RefundAtOrderDate
	default:
		return cvo.Errorf(cvo.EINVALID, "Refund dating must be refund_date or order_date.")
	}
	// null (or every group) means all groups, including any added later;
	// an empty list means none.
	all := in.GroupsEnabled == nil || len(in.GroupsEnabled) == len(rfm.Groups())
	for _, slug := range in.GroupsEnabled {
		if _, err := rfm.ParseGroup(slug); err != nil {
			return cvo.Errorf(cvo.EINVALID, "Unknown group %q.", slug)
		}
	}
	if !all {
		s.GroupsEnabled = append([]string{}, in.GroupsEnabled...)
	}
	if len(in.CACBySource) > maxCACSources {
		return cvo.Errorf(cvo.EINVALID, "At most %d acquisition sources.", maxCACSources)
	}
	for src := range in.CACBySource {
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

func (p *pages) rescoreNow(c echo.Context) error {
	// One manual rescore per shop per minute, however often it is clicked.
	key := "manual:" + time.Now().UTC().Format("200601021504")
	if err := p.deps.Actions.EnqueueRescore(c.Request().Context(), shopOf(c), string(rescore.ReasonManual), rescore.Due{Key: key}); err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, map[string]string{"state": "queued"})
}

func (p *pages) resyncNow(c echo.Context) error {
	if err := p.deps.Actions.EnqueueSync(c.Request().Context(), shopOf(c)); err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, map[string]string{"state": "queued"})
}
