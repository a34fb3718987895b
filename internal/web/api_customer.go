package web

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/postgres"
	"github.com/cvo-app/cvo/internal/rfm"
	"github.com/cvo-app/cvo/internal/scoring"
	"github.com/cvo-app/cvo/internal/web/apigen"
)

// CustomerReader reads what the customer screen shows beyond the list row:
// the customer in a scoring, their group in every kept scoring, and their
// orders.
type CustomerReader interface {
	Customer(ctx context.Context, shop string, scoringID, customerID int64) (postgres.ScoredCustomer, bool, error)
	CustomerHistory(ctx context.Context, shop string, customerID int64) ([]postgres.GroupAt, error)
	CustomerOrders(ctx context.Context, shop string, customerID int64) ([]cvo.Order, error)
}

// errNoCustomer answers both an unknown id and another shop's customer,
// so the answer says nothing about other shops.
var errNoCustomer = cvo.Errorf(cvo.ENOTFOUND, "No scored customer with this id in this shop.")

// GetCustomer explains one customer of the latest scoring. Nothing
// personal is logged: the request log writes the route template
// (/api/customers/:id), not the id, and errors name the shop only.
func (a *api) GetCustomer(c echo.Context, rawID string) error {
	p, err := a.page()
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(rawID, 10, 64)
	if err != nil || id <= 0 {
		return cvo.Errorf(cvo.EINVALID, "The customer id must be a positive whole number.")
	}
	if p.deps.Customers == nil {
		return errNoCustomer
	}
	ctx, shop := c.Request().Context(), shopOf(c)
	sc, agg, err := p.latest(c)
	if err != nil {
		return err
	}
	row, found, err := p.deps.Customers.Customer(ctx, shop, sc.ID, id)
	if err != nil {
		return err
	}
	if !found {
		return errNoCustomer
	}
	orders, err := p.deps.Customers.CustomerOrders(ctx, shop, id)
	if err != nil {
		return err
	}
	history, err := p.deps.Customers.CustomerHistory(ctx, shop, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, explainCustomer(agg, row, orders, history,
		p.server.cfg.AdminBaseURL(shop)+"/admin/customers/"+row.CustomerID))
}

// explainCustomer builds the screen's answer from the scoring's scales and
// the customer's stored scores and orders.
func explainCustomer(agg *scoring.Aggregates, row postgres.ScoredCustomer, orders []cvo.Order, history []postgres.GroupAt, adminURL string) apigen.CustomerDetail {
	asOf, loc := agg.AsOf, agg.Location()
	dating := cvo.RefundAtRefundDate
	if agg.Parameters.RefundsAtOrderDate {
		dating = cvo.RefundAtOrderDate
	}
	timeline := make([]apigen.TimelineOrder, 0, len(orders))
	var last time.Time
	for _, o := range orders {
		status := apigen.Purchase
		switch {
		case o.Test:
			status = apigen.Test
		case o.Cancelled:
			status = apigen.Cancelled
		case o.CreatedAt.After(asOf):
			status = apigen.AfterScoring
		case !o.IsPurchaseAsOf(asOf, dating):
			status = apigen.Refunded
		}
		if status == apigen.Purchase && o.CreatedAt.After(last) {
			last = o.CreatedAt
		}
		timeline = append(timeline, apigen.TimelineOrder{Id: o.ID, Date: o.CreatedAt.In(loc).Format(time.DateOnly),
			Total: o.Total, Refunded: o.Refunded(), Status: status})
	}

	horizon := agg.RFM.Cadence.HorizonDays
	active := true
	var recency float64
	if !last.IsZero() {
		recency = rfm.RecencyDays(last, asOf)
		active = asOf.Sub(last).Hours()/24 <= horizon
	}
	aov := 0.0
	if row.Orders > 0 {
		aov = math.Round(row.Revenue/float64(row.Orders)*100) / 100
	}
	scores := []apigen.ScoreExplanation{
		{Dimension: apigen.R, Score: row.R, Levels: agg.RFM.R.Levels, Value: recency,
			Text: agg.RFM.R.Explain(rfm.Recency, recency, row.R, nil)},
		{Dimension: apigen.F, Score: row.F, Levels: agg.RFM.F.Levels, Value: float64(row.Orders),
			Text: agg.RFM.F.Explain(rfm.Frequency, float64(row.Orders), row.F, nil)},
		{Dimension: apigen.M, Score: row.M, Levels: agg.RFM.M.Levels, Value: aov,
			Text: agg.RFM.M.Explain(rfm.Monetary, aov, row.M, nil)},
	}
	group := apigen.GroupExplanation{Group: apigen.GroupSlug(row.Group), Active: active, InactiveAfterDays: horizon}
	if g, err := rfm.ParseGroup(row.Group); err == nil {
		for _, r := range rfm.Rules() {
			if r.Group == g {
				group.Priority, group.Rule = r.Priority, r.Condition
			}
		}
	}
	hist := make([]apigen.GroupHistoryEntry, 0, len(history))
	for _, h := range history {
		hist = append(hist, apigen.GroupHistoryEntry{ScoringId: h.ScoringID, AsOf: h.AsOf.In(loc).Format(time.DateOnly),
			Group: apigen.GroupSlug(h.Group), R: h.R, F: h.F, M: h.M})
	}
	return apigen.CustomerDetail{
		Customer: apigen.CustomerRow{Id: row.CustomerID, Name: row.Name, Email: row.Email, Group: apigen.GroupSlug(row.Group),
			R: row.R, F: row.F, M: row.M, Orders: row.Orders, Revenue: row.Revenue, HistoricalClv: row.HistoricalCLV,
			PredictedClv: row.PredictedCLV, PAlive: row.PAlive, ExpectedOrders: row.ExpectedOrders,
			ExpectedNextOrder: dateOrEmpty(row.NextOrderAt), AdminUrl: adminURL},
		AsOf:    asOf.In(loc).Format(time.DateOnly),
		Group:   group,
		Scores:  scores,
		Orders:  timeline,
		History: hist,
		// The calibrated chance to order (issue 11, items 1–4) is not
		// computed yet; the screen shows a marked slot while it is null.
		ChanceToOrder: nil,
		Shopify:       apigen.ShopifyRfm{RfmGroup: row.ShopifyRFMGroup, PredictedSpendTier: row.ShopifySpendTier},
	}
}
