package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/postgres"
	"github.com/cvo-app/cvo/internal/shopify"
)

// Applier applies stored webhook deliveries to the shop's data. It
// satisfies jobs.WebhookApplier.
type Applier struct {
	deliveries Deliveries
	waker      *shopify.BulkWaker
	log        *slog.Logger
	now        func() time.Time
}

// Deliveries is the store of webhook deliveries the applier works through
// (postgres.DeliveryStore satisfies it): Apply runs fn in the transaction
// that marks the delivery applied.
type Deliveries interface {
	Apply(ctx context.Context, shop, webhookID string,
		fn func(ctx context.Context, d cvo.WebhookDelivery, w *postgres.WebhookWriter) error) (postgres.Outcome, postgres.DeliveryInfo, error)
	Stale(ctx context.Context, topics []string, cutoff time.Time, limit, perShop int) ([]cvo.WebhookDelivery, error)
	Revive(ctx context.Context, shop string) ([]cvo.WebhookDelivery, error)
	Expire(ctx context.Context, cutoff time.Time) (postgres.Expired, error)
}

// NewApplier returns an applier. waker may be the Syncer's, so a
// bulk_operations/finish delivery wakes a sync waiting in this process.
func NewApplier(deliveries Deliveries, waker *shopify.BulkWaker, log *slog.Logger) *Applier {
	if waker == nil {
		waker = shopify.NewBulkWaker()
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Applier{deliveries: deliveries, waker: waker, log: log, now: time.Now}
}

// AppliedTopics are the topics ApplyWebhook applies; the receiver hands
// them to jobs and carries out every other topic itself.
var AppliedTopics = []string{
	"orders/create", "orders/updated", "orders/paid", "orders/cancelled", "refunds/create",
	"customers/create", "customers/update", "customers/delete", "bulk_operations/finish",
}

// ErrDeliveryDead is returned (wrapped) when a try was a delivery's last
// allowed one: it is dead, logged and counted, and only the reconciliation
// brings it back, so the job must not retry it (the error says Final).
var ErrDeliveryDead = errors.New("webhook delivery failed too many times")

type deadError struct{ err error }

func (e deadError) Error() string   { return ErrDeliveryDead.Error() + ": " + e.err.Error() }
func (e deadError) Unwrap() []error { return []error{ErrDeliveryDead, e.err} }
func (deadError) Final() bool       { return true }

// ApplyWebhook applies one stored delivery (see AppliedTopics) exactly
// once: its data and its applied mark commit together, and its payload is
// dropped then. Applying is ordered by Shopify's updated_at, so duplicate,
// replayed and late deliveries never overwrite newer data. Applies of one
// shop wait for each other; one that waits too long for a running import
// returns postgres.ErrShopBusy, which is not a failure. A payload that
// cannot be parsed fails with a cvo EINVALID error and the delivery is
// rejected; any other failure counts against the delivery's attempts, and
// the last one makes it dead (ErrDeliveryDead), logged at error level.
func (a *Applier) ApplyWebhook(ctx context.Context, shop, webhookID string) error {
	outcome, info, err := a.deliveries.Apply(ctx, shop, webhookID, a.apply)
	topic := info.Topic
	switch outcome {
	case postgres.OutcomeApplied:
		if topic == "bulk_operations/finish" {
			a.waker.Wake(shop)
		}
	case postgres.OutcomeRejected:
		// The reason may quote the payload: it stays with the delivery.
		a.log.Warn("webhook rejected", "shop", shop, "topic", topic, "webhook_id", webhookID)
	case postgres.OutcomeDead:
		a.log.Error("webhook dead after too many attempts", "shop", shop, "topic", topic, "webhook_id", webhookID,
			"attempts", info.Attempts, "err", err)
		return deadError{err: err}
	}
	return err
}

// StaleDeliveries lists pending deliveries of the applied topics received
// before cutoff, for the sweeper (jobs.Deliveries).
func (a *Applier) StaleDeliveries(ctx context.Context, cutoff time.Time, limit, perShop int) ([]cvo.WebhookDelivery, error) {
	return a.deliveries.Stale(ctx, AppliedTopics, cutoff, limit, perShop)
}

// ReviveDead puts the shop's dead deliveries back to pending, for the
// reconciliation (jobs.Deliveries).
func (a *Applier) ReviveDead(ctx context.Context, shop string) ([]cvo.WebhookDelivery, error) {
	return a.deliveries.Revive(ctx, shop)
}

// ExpireBefore deletes deliveries and data-request exports older than
// cutoff, for the retention job (jobs.Deliveries). Unapplied deliveries
// that old are counted apart: they were retried for the whole retention.
func (a *Applier) ExpireBefore(ctx context.Context, cutoff time.Time) (map[string]int64, error) {
	n, err := a.deliveries.Expire(ctx, cutoff)
	if err != nil {
		return nil, err
	}
	if n.Unapplied > 0 {
		a.log.Warn("unapplied webhooks expired", "deliveries", n.Unapplied)
	}
	return map[string]int64{"deliveries": n.Deliveries, "unapplied_deliveries": n.Unapplied, "data_requests": n.DataRequests}, nil
}

// apply writes one delivery's data with w; nothing is committed before it
// returns.
func (a *Applier) apply(ctx context.Context, d cvo.WebhookDelivery, w *postgres.WebhookWriter) error {
	invalid := func(err error) error {
		return cvo.Errorf(cvo.EINVALID, "Webhook %s %s has a payload that cannot be applied: %v", d.Topic, d.ID, err)
	}
	switch d.Topic {
	case "orders/create", "orders/updated", "orders/paid", "orders/cancelled":
		o, lines, refunds, err := parseOrderWebhook(d.Payload)
		if err != nil {
			return invalid(err)
		}
		o.TriggeredAt = triggeredAt(d)
		applied, err := w.UpsertOrder(ctx, o, lines, refunds)
		if err != nil {
			return fmt.Errorf("apply %s for %s: %w", d.Topic, d.Shop, err)
		}
		a.log.Info("order webhook applied", "shop", d.Shop, "topic", d.Topic, "order", o.ID, "changed", applied)
	case "refunds/create":
		r, err := parseRefundWebhook(d.Payload)
		if err != nil {
			return invalid(err)
		}
		if err := w.AddRefunds(ctx, []postgres.RefundRow{r}); err != nil {
			return fmt.Errorf("apply %s for %s: %w", d.Topic, d.Shop, err)
		}
	case "customers/create", "customers/update":
		c, err := parseCustomerWebhook(d.Payload)
		if err != nil {
			return invalid(err)
		}
		c.TriggeredAt = triggeredAt(d)
		if _, err := w.UpsertCustomer(ctx, c); err != nil {
			return fmt.Errorf("apply %s for %s: %w", d.Topic, d.Shop, err)
		}
	case "customers/delete":
		id, err := parseDeleteWebhook(d.Payload)
		if err != nil {
			return invalid(err)
		}
		at := triggeredAt(d)
		if at.IsZero() {
			at = a.now()
		}
		if err := w.DeleteCustomer(ctx, id, at); err != nil {
			return fmt.Errorf("apply %s for %s: %w", d.Topic, d.Shop, err)
		}
	case "bulk_operations/finish":
		if _, err := parseBulkFinishWebhook(d.Payload); err != nil {
			return invalid(err)
		}
	default:
		return cvo.Errorf(cvo.EINVALID, "Topic %s is not applied to shop data.", d.Topic)
	}
	return nil
}

// triggeredAt is the delivery's X-Shopify-Triggered-At, or zero when it
// came without one (the store reads a missing one as the epoch). It orders
// two versions of a record with the same updated_at, which has one-second
// precision in payloads.
func triggeredAt(d cvo.WebhookDelivery) time.Time {
	if d.TriggeredAt.Unix() <= 0 {
		return time.Time{}
	}
	return d.TriggeredAt
}

// The REST shapes of webhook payloads (webhooks are REST JSON even for
// GraphQL apps). Money comes as a shop-currency string ("total_price") and,
// in current versions, as *_set with shop_money and presentment_money; the
// set is preferred.

type restMoneySet struct {
	ShopMoney struct {
		Amount       string `json:"amount"`
		CurrencyCode string `json:"currency_code"`
	} `json:"shop_money"`
}

func (m *restMoneySet) shop() string {
	if m == nil {
		return ""
	}
	return m.ShopMoney.Amount
}

type restID struct {
	ID int64 `json:"id"`
}

type restOrder struct {
	ID               int64         `json:"id"`
	Name             string        `json:"name"`
	CreatedAt        string        `json:"created_at"`
	UpdatedAt        string        `json:"updated_at"`
	ProcessedAt      string        `json:"processed_at"`
	CancelledAt      string        `json:"cancelled_at"`
	Test             bool          `json:"test"`
	Currency         string        `json:"currency"`
	TotalPrice       string        `json:"total_price"`
	TotalPriceSet    *restMoneySet `json:"total_price_set"`
	SubtotalPrice    string        `json:"subtotal_price"`
	SubtotalPriceSet *restMoneySet `json:"subtotal_price_set"`
	SourceName       string        `json:"source_name"`
	LandingSite      string        `json:"landing_site"`
	ReferringSite    string        `json:"referring_site"`
	DiscountCodes    []struct {
		Code string `json:"code"`
	} `json:"discount_codes"`
	Customer  *restID      `json:"customer"`
	LineItems []restLine   `json:"line_items"`
	Refunds   []restRefund `json:"refunds"`
}

type restLine struct {
	ID        int64         `json:"id"`
	ProductID *int64        `json:"product_id"`
	VariantID *int64        `json:"variant_id"`
	Title     string        `json:"title"`
	Quantity  int32         `json:"quantity"`
	Price     string        `json:"price"`
	PriceSet  *restMoneySet `json:"price_set"`
}

type restRefund struct {
	ID           int64  `json:"id"`
	OrderID      int64  `json:"order_id"`
	CreatedAt    string `json:"created_at"`
	Transactions []struct {
		Kind     string `json:"kind"`
		Status   string `json:"status"`
		Amount   string `json:"amount"`
		Currency string `json:"currency"`
	} `json:"transactions"`
	RefundLineItems []struct {
		SubtotalSet *restMoneySet `json:"subtotal_set"`
		TotalTaxSet *restMoneySet `json:"total_tax_set"`
	} `json:"refund_line_items"`
	OrderAdjustments []struct {
		AmountSet    *restMoneySet `json:"amount_set"`
		TaxAmountSet *restMoneySet `json:"tax_amount_set"`
	} `json:"order_adjustments"`
}

// decodeObject decodes a JSON object, refusing anything else (a null or an
// array would otherwise decode into a zero value silently).
func decodeObject(payload []byte, v any) error {
	p := bytes.TrimSpace(payload)
	if len(p) == 0 || p[0] != '{' {
		return fmt.Errorf("payload is not a JSON object")
	}
	if err := json.Unmarshal(p, v); err != nil {
		return fmt.Errorf("payload: %w", err)
	}
	return nil
}

// parseOrderWebhook reads an orders/* payload.
func parseOrderWebhook(payload []byte) (postgres.OrderRow, []postgres.LineRow, []postgres.RefundRow, error) {
	var p restOrder
	var o postgres.OrderRow
	if err := decodeObject(payload, &p); err != nil {
		return o, nil, nil, err
	}
	if p.ID <= 0 {
		return o, nil, nil, fmt.Errorf("order without id")
	}
	o = postgres.OrderRow{ID: p.ID, Name: p.Name, Test: p.Test, Currency: p.Currency, SourceName: p.SourceName,
		LandingPage: p.LandingSite, ReferrerURL: p.ReferringSite, DiscountCodes: []string{}}
	var err error
	if o.CreatedAt, err = parseTime("created_at", p.CreatedAt); err != nil {
		return o, nil, nil, err
	}
	if o.UpdatedAt, err = parseTime("updated_at", p.UpdatedAt); err != nil {
		return o, nil, nil, err
	}
	if o.ProcessedAt, err = optionalTime("processed_at", p.ProcessedAt); err != nil {
		return o, nil, nil, err
	}
	if o.CancelledAt, err = optionalTime("cancelled_at", p.CancelledAt); err != nil {
		return o, nil, nil, err
	}
	if p.Customer != nil {
		o.CustomerID = p.Customer.ID
	}
	if o.Total = p.TotalPriceSet.shop(); o.Total == "" {
		o.Total = p.TotalPrice
	}
	if err := checkDecimal("total_price", o.Total); err != nil {
		return o, nil, nil, err
	}
	if p.TotalPriceSet != nil && p.TotalPriceSet.ShopMoney.CurrencyCode != "" {
		o.Currency = p.TotalPriceSet.ShopMoney.CurrencyCode
	}
	if o.Subtotal = p.SubtotalPriceSet.shop(); o.Subtotal == "" {
		o.Subtotal = p.SubtotalPrice
	}
	if err := optionalDecimal("subtotal_price", o.Subtotal); err != nil {
		return o, nil, nil, err
	}
	for _, c := range p.DiscountCodes {
		if c.Code != "" {
			o.DiscountCodes = append(o.DiscountCodes, c.Code)
		}
	}
	// REST orders carry no UTM fields; the landing page's query has them.
	o.UTMSource, o.UTMMedium, o.UTMCampaign = utmFrom(p.LandingSite)

	lines := make([]postgres.LineRow, 0, len(p.LineItems))
	for _, l := range p.LineItems {
		if l.ID <= 0 {
			return o, nil, nil, fmt.Errorf("line item without id")
		}
		row := postgres.LineRow{OrderID: o.ID, ID: l.ID, Title: l.Title, Quantity: l.Quantity}
		if l.ProductID != nil {
			row.ProductID = *l.ProductID
		}
		if l.VariantID != nil {
			row.VariantID = *l.VariantID
		}
		if row.UnitPrice = l.PriceSet.shop(); row.UnitPrice == "" {
			row.UnitPrice = l.Price
		}
		if err := checkDecimal("line item price", row.UnitPrice); err != nil {
			return o, nil, nil, err
		}
		lines = append(lines, row)
	}
	refunds := make([]postgres.RefundRow, 0, len(p.Refunds))
	for _, r := range p.Refunds {
		if r.OrderID == 0 {
			r.OrderID = o.ID
		}
		row, err := refundRow(r, o.Currency)
		if err != nil {
			return o, nil, nil, err
		}
		refunds = append(refunds, row)
	}
	return o, lines, refunds, nil
}

// parseRefundWebhook reads a refunds/create payload.
func parseRefundWebhook(payload []byte) (postgres.RefundRow, error) {
	var p restRefund
	if err := decodeObject(payload, &p); err != nil {
		return postgres.RefundRow{}, err
	}
	return refundRow(p, "")
}

// refundRow values a REST refund in shop money. Its successful refund
// transactions say what went back, but in the currency the customer paid;
// when that is not the shop's currency, the refunded lines and adjustments
// (which carry shop money) are summed instead. shopCurrency may be "" when
// unknown: the shop_money sets then name it.
func refundRow(p restRefund, shopCurrency string) (postgres.RefundRow, error) {
	r := postgres.RefundRow{ID: p.ID, OrderID: p.OrderID}
	if p.ID <= 0 || p.OrderID <= 0 {
		return r, fmt.Errorf("refund without id or order_id")
	}
	var err error
	if r.CreatedAt, err = parseTime("refund created_at", p.CreatedAt); err != nil {
		return r, err
	}
	if shopCurrency == "" {
		for _, l := range p.RefundLineItems {
			if l.SubtotalSet != nil && l.SubtotalSet.ShopMoney.CurrencyCode != "" {
				shopCurrency = l.SubtotalSet.ShopMoney.CurrencyCode
				break
			}
		}
	}
	var fromTx decimalSum
	txUsable := true
	for _, t := range p.Transactions {
		if t.Kind != "refund" || (t.Status != "" && t.Status != "success") {
			continue
		}
		if shopCurrency != "" && t.Currency != "" && t.Currency != shopCurrency {
			txUsable = false
		}
		if err := fromTx.add("refund transaction amount", t.Amount); err != nil {
			return r, err
		}
	}
	if txUsable && fromTx.n > 0 {
		r.Amount = fromTx.String()
		return r, nil
	}
	var fromSets decimalSum
	for _, l := range p.RefundLineItems {
		if err := fromSets.addOptional("refund line subtotal", l.SubtotalSet.shop()); err != nil {
			return r, err
		}
		if err := fromSets.addOptional("refund line tax", l.TotalTaxSet.shop()); err != nil {
			return r, err
		}
	}
	// Order adjustments record refunded shipping and discrepancies as
	// negative amounts; the refund gave back their opposite.
	for _, a := range p.OrderAdjustments {
		if err := fromSets.subOptional("order adjustment", a.AmountSet.shop()); err != nil {
			return r, err
		}
		if err := fromSets.subOptional("order adjustment tax", a.TaxAmountSet.shop()); err != nil {
			return r, err
		}
	}
	r.Amount = fromSets.String()
	return r, nil
}

type restCustomer struct {
	ID             int64  `json:"id"`
	Email          string `json:"email"`
	FirstName      string `json:"first_name"`
	LastName       string `json:"last_name"`
	CreatedAt      string `json:"created_at"`
	UpdatedAt      string `json:"updated_at"`
	DefaultAddress *struct {
		City        string `json:"city"`
		Country     string `json:"country"`
		CountryCode string `json:"country_code"`
	} `json:"default_address"`
}

// parseCustomerWebhook reads a customers/create or customers/update payload.
func parseCustomerWebhook(payload []byte) (postgres.CustomerRow, error) {
	var p restCustomer
	if err := decodeObject(payload, &p); err != nil {
		return postgres.CustomerRow{}, err
	}
	c := postgres.CustomerRow{ID: p.ID, Email: p.Email, FirstName: p.FirstName, LastName: p.LastName}
	if p.ID <= 0 {
		return c, fmt.Errorf("customer without id")
	}
	var err error
	if c.CreatedAt, err = optionalTime("created_at", p.CreatedAt); err != nil {
		return c, err
	}
	if c.UpdatedAt, err = parseTime("updated_at", p.UpdatedAt); err != nil {
		return c, err
	}
	if a := p.DefaultAddress; a != nil {
		c.City, c.Country, c.CountryCode = a.City, a.Country, a.CountryCode
	}
	return c, nil
}

// parseDeleteWebhook reads a customers/delete payload ({"id": ...}).
func parseDeleteWebhook(payload []byte) (int64, error) {
	var p restID
	if err := decodeObject(payload, &p); err != nil {
		return 0, err
	}
	if p.ID <= 0 {
		return 0, fmt.Errorf("delete without id")
	}
	return p.ID, nil
}

type bulkFinish struct {
	ID     string `json:"admin_graphql_api_id"`
	Status string `json:"status"`
	Type   string `json:"type"`
}

// parseBulkFinishWebhook reads a bulk_operations/finish payload.
func parseBulkFinishWebhook(payload []byte) (bulkFinish, error) {
	var p bulkFinish
	if err := decodeObject(payload, &p); err != nil {
		return p, err
	}
	if _, err := parseGID(p.ID, "BulkOperation"); err != nil {
		return p, err
	}
	return p, nil
}

// utmFrom reads the UTM parameters of a landing page URL or path.
func utmFrom(landing string) (source, medium, campaign string) {
	if landing == "" {
		return "", "", ""
	}
	u, err := url.Parse(strings.TrimSpace(landing))
	if err != nil {
		return "", "", ""
	}
	q := u.Query()
	return q.Get("utm_source"), q.Get("utm_medium"), q.Get("utm_campaign")
}
