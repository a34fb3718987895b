package web

import (
	"context"
	"fmt"
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
	var purchases []cvo.Order
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
		if status == apigen.Purchase {
			purchases = append(purchases, o)
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
			ExpectedNextOrder: dateOrEmpty(row.NextOrderAt), AdminUrl: adminURL,
			POrderWindow: row.POrderWindow, ChurnRisk: apigen.ChurnRisk(row.ChurnRisk)},
		AsOf:          asOf.In(loc).Format(time.DateOnly),
		Group:         group,
		Scores:        scores,
		Orders:        timeline,
		History:       hist,
		ChanceToOrder: chanceToOrder(agg, row, purchases, dating),
		Shopify:       apigen.ShopifyRfm{RfmGroup: row.ShopifyRFMGroup, PredictedSpendTier: row.ShopifySpendTier},
	}
}

// chanceToOrder is the customer's calibrated chance to order within the
// shop's window and what pulls it up or down most, from the feature model
// of the scoring; nil for scorings made before the chance existed.
func chanceToOrder(agg *scoring.Aggregates, row postgres.ScoredCustomer, purchases []cvo.Order, dating cvo.RefundDating) *apigen.ChanceToOrder {
	if row.ChurnRisk == "" {
		return nil
	}
	out := &apigen.ChanceToOrder{Probability: row.POrderWindow, WindowDays: windowDays(agg.Result), Drivers: []string{}}
	if agg.Prediction == nil || agg.Prediction.Features == nil || len(purchases) == 0 {
		return out
	}
	// The features as the scoring counts them: purchase days in the
	// shop's zone, values net of the refunds known at as-of.
	loc, asOf := agg.Location(), agg.AsOf
	day := func(t time.Time) int64 {
		y, m, d := t.In(loc).Date()
		return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
	}
	days := map[int64]bool{}
	var value float64
	first, lastDay := int64(math.MaxInt64), int64(math.MinInt64)
	for _, o := range purchases {
		d := day(o.CreatedAt)
		days[d] = true
		first, lastDay = min(first, d), max(lastDay, d)
		value += o.NetValueAsOf(asOf, dating)
	}
	now := day(asOf)
	raw := [4]float64{float64(now - lastDay), float64(len(days)), float64(now - first), value / float64(len(days))}
	for _, d := range agg.Prediction.Features.Drivers(raw) {
		if len(out.Drivers) == 3 || math.Abs(d.Effect) < 0.05 {
			break
		}
		out.Drivers = append(out.Drivers, driverText(d))
	}
	return out
}

// driverText says in words how one feature moves the chance.
func driverText(d scoring.Driver) string {
	dir := "raises"
	if d.Effect < 0 {
		dir = "lowers"
	}
	switch d.Feature {
	case "recency":
		return fmt.Sprintf("Last order %.0f days ago (typical customer: %.0f) %s the chance", d.Value, d.Typical, dir)
	case "frequency":
		return fmt.Sprintf("%.0f purchase days (typical customer: %.1f) %s the chance", d.Value, d.Typical, dir)
	case "age":
		return fmt.Sprintf("First order %.0f days ago (typical customer: %.0f) %s the chance", d.Value, d.Typical, dir)
	case "spend":
		return fmt.Sprintf("%.2f spent a purchase day (typical customer: %.2f) %s the chance", d.Value, d.Typical, dir)
	}
	return fmt.Sprintf("%s %.2f %s the chance", d.Feature, d.Value, dir)
}
