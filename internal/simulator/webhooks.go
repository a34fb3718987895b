package simulator

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Compliance topics every App Store app must handle.
const (
	TopicCustomersDataRequest = "customers/data_request"
	TopicCustomersRedact      = "customers/redact"
	TopicShopRedact           = "shop/redact"
	TopicAppUninstalled       = "app/uninstalled"
	TopicBulkOperationsFinish = "bulk_operations/finish"
)

// WebhookSubscription is an app-specific subscription from
// shopify.app.toml: topics delivered to AppURL + URI.
type WebhookSubscription struct {
	Topics []string
	URI    string
}

// DefaultWebhookSubscriptions are the subscriptions the app declares.
var DefaultWebhookSubscriptions = []WebhookSubscription{
	{
		Topics: []string{
			"orders/create", "orders/updated", "orders/paid", "orders/cancelled", "refunds/create",
			"customers/create", "customers/update", "customers/delete",
			TopicAppUninstalled, "app/scopes_update", TopicBulkOperationsFinish,
		},
		URI: "/webhooks",
	},
	{
		Topics: []string{TopicCustomersDataRequest, TopicCustomersRedact, TopicShopRedact},
		URI:    "/webhooks/compliance",
	},
}

// WebhookDelivery is one delivery of a webhook. Delivering it again is a
// retry: same body, same X-Shopify-Webhook-Id.
type WebhookDelivery struct {
	Shop        string
	Topic       string
	WebhookID   string
	EventID     string
	APIVersion  string
	TriggeredAt time.Time
	Body        []byte
}

// DeliveryAttempt records one POST of a webhook to the app.
type DeliveryAttempt struct {
	Shop      string
	Topic     string
	WebhookID string
	EventID   string
	URL       string
	Status    int    // 0 when no response arrived
	Err       string // transport error, "" when a response arrived
	At        time.Time
}

type webhookLog struct {
	mu       sync.Mutex
	attempts []DeliveryAttempt
}

// WebhookAttempts lists every delivery attempt so far, oldest first.
func (s *Simulator) WebhookAttempts() []DeliveryAttempt {
	s.hooks.mu.Lock()
	defer s.hooks.mu.Unlock()
	return slices.Clone(s.hooks.attempts)
}

// Sign computes X-Shopify-Hmac-Sha256 for a body: base64 HMAC-SHA256 with
// the client secret.
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// webhookURI is where a topic is delivered: its subscription's URI, or
// /webhooks for a topic the app does not subscribe to.
func (s *Simulator) webhookURI(topic string) (string, bool) {
	for _, sub := range s.cfg.Webhooks {
		if slices.Contains(sub.Topics, topic) {
			return sub.URI, true
		}
	}
	return "/webhooks", false
}

func (s *Simulator) subscribed(topic string) bool {
	_, ok := s.webhookURI(topic)
	return ok
}

// NewWebhook prepares a delivery. payload is sent as is when it is []byte
// or json.RawMessage, and JSON-encoded otherwise.
func (s *Simulator) NewWebhook(shop, topic string, payload any) (*WebhookDelivery, error) {
	sh, err := s.mustShop(shop)
	if err != nil {
		return nil, fmt.Errorf("webhook %s: %w", topic, err)
	}
	var body []byte
	switch p := payload.(type) {
	case []byte:
		body = p
	case json.RawMessage:
		body = p
	default:
		body, err = json.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("webhook %s for %s: encode payload: %w", topic, shop, err)
		}
	}
	return &WebhookDelivery{
		Shop: sh.domain, Topic: topic, WebhookID: uuidV4(), EventID: uuidV4(),
		APIVersion: s.cfg.APIVersion, TriggeredAt: s.now(), Body: body,
	}, nil
}

// Deliver POSTs a delivery to the app with Shopify's headers and returns
// the app's status code. Shopify counts only 2xx as success; the error is
// set only when no response arrived (including the 5 s timeout).
func (s *Simulator) Deliver(ctx context.Context, d *WebhookDelivery) (int, error) {
	uri, _ := s.webhookURI(d.Topic)
	url := s.cfg.AppURL + uri
	attempt := DeliveryAttempt{Shop: d.Shop, Topic: d.Topic, WebhookID: d.WebhookID, EventID: d.EventID, URL: url, At: s.now()}
	status, err := s.post(ctx, url, d)
	attempt.Status = status
	if err != nil {
		attempt.Err = err.Error()
	}
	s.hooks.mu.Lock()
	s.hooks.attempts = append(s.hooks.attempts, attempt)
	s.hooks.mu.Unlock()
	s.log.Info("webhook delivered", "shop", d.Shop, "topic", d.Topic, "webhook_id", d.WebhookID, "status", status)
	if err != nil {
		return 0, fmt.Errorf("deliver %s to %s: %w", d.Topic, d.Shop, err)
	}
	return status, nil
}

func (s *Simulator) post(ctx context.Context, url string, d *WebhookDelivery) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, s.webhookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(d.Body))
	if err != nil {
		return 0, err
	}
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "Shopify-Captain-Hook")
	h.Set("X-Shopify-Topic", d.Topic)
	h.Set("X-Shopify-Hmac-Sha256", Sign(s.cfg.ClientSecret, d.Body))
	h.Set("X-Shopify-Shop-Domain", d.Shop)
	h.Set("X-Shopify-API-Version", d.APIVersion)
	h.Set("X-Shopify-Webhook-Id", d.WebhookID)
	h.Set("X-Shopify-Event-Id", d.EventID)
	h.Set("X-Shopify-Triggered-At", d.TriggeredAt.UTC().Format(time.RFC3339Nano))
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, nil
}

// SendWebhook sends one webhook to the app now and returns its status.
func (s *Simulator) SendWebhook(ctx context.Context, shop, topic string, payload any) (int, error) {
	d, err := s.NewWebhook(shop, topic, payload)
	if err != nil {
		return 0, err
	}
	return s.Deliver(ctx, d)
}

// emit sends the webhooks caused by one action, sharing an event id, to
// the topics the app subscribes to. Failed deliveries are logged, not
// returned: the action happened whether or not the app heard of it.
func (s *Simulator) emit(ctx context.Context, shop string, events []webhookEvent) {
	s.collect(shop, events, func(d *WebhookDelivery) {
		if _, err := s.Deliver(ctx, d); err != nil {
			s.log.Warn("webhook delivery failed", "shop", shop, "topic", d.Topic, "err", err)
		}
	})
}

type webhookEvent struct {
	topic   string
	payload any
}

// ---- compliance and lifecycle --------------------------------------------

type complianceCustomer struct {
	ID    int64   `json:"id"`
	Email *string `json:"email"`
	Phone *string `json:"phone"`
}

func (s *Simulator) complianceCustomer(sh *shopState, customerID int64) (complianceCustomer, []int64) {
	cc := complianceCustomer{ID: customerID}
	var orders []int64
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	if i := sh.store.customerIndex(customerID); i >= 0 {
		c := &sh.store.customers[i]
		if c.email != "" {
			e := c.email
			cc.Email = &e
		}
		if c.phone != "" {
			p := c.phone
			cc.Phone = &p
		}
	}
	for i := range sh.store.orders {
		if o := &sh.store.orders[i]; !o.deleted && o.customer == customerID {
			orders = append(orders, o.id)
		}
	}
	return cc, orders
}

// CustomersDataRequest sends customers/data_request for a customer; nil
// orders means all of the customer's orders.
func (s *Simulator) CustomersDataRequest(ctx context.Context, shop string, customerID int64, orders []int64) (int, error) {
	sh, err := s.mustShop(shop)
	if err != nil {
		return 0, err
	}
	cc, all := s.complianceCustomer(sh, customerID)
	if orders == nil {
		orders = all
	}
	payload := map[string]any{
		"shop_id": sh.id, "shop_domain": sh.domain, "orders_requested": nonNil(orders), "customer": cc,
		"data_request": map[string]any{"id": s.seq.Add(1)},
	}
	return s.SendWebhook(ctx, shop, TopicCustomersDataRequest, payload)
}

// CustomersRedact sends customers/redact for a customer; nil orders means
// all of the customer's orders.
func (s *Simulator) CustomersRedact(ctx context.Context, shop string, customerID int64, orders []int64) (int, error) {
	sh, err := s.mustShop(shop)
	if err != nil {
		return 0, err
	}
	cc, all := s.complianceCustomer(sh, customerID)
	if orders == nil {
		orders = all
	}
	payload := map[string]any{"shop_id": sh.id, "shop_domain": sh.domain, "customer": cc, "orders_to_redact": nonNil(orders)}
	return s.SendWebhook(ctx, shop, TopicCustomersRedact, payload)
}

// ShopRedact sends shop/redact, which Shopify sends 48 hours after the app
// was uninstalled.
func (s *Simulator) ShopRedact(ctx context.Context, shop string) (int, error) {
	sh, err := s.mustShop(shop)
	if err != nil {
		return 0, err
	}
	return s.SendWebhook(ctx, shop, TopicShopRedact, map[string]any{"shop_id": sh.id, "shop_domain": sh.domain})
}

func nonNil(ids []int64) []int64 {
	if ids == nil {
		return []int64{}
	}
	return ids
}

// Uninstall plays the merchant removing the app: every token of the shop is
// revoked, running bulk operations are cancelled, and app/uninstalled is
// sent with the shop's REST representation.
func (s *Simulator) Uninstall(ctx context.Context, shop string) (int, error) {
	sh, err := s.mustShop(shop)
	if err != nil {
		return 0, err
	}
	sh.mu.Lock()
	sh.installed = false
	sh.mu.Unlock()
	s.tokens.revokeShop(sh.domain)
	s.bulk.cancelShop(sh.domain)
	return s.SendWebhook(ctx, shop, TopicAppUninstalled, s.shopPayload(sh))
}

func (s *Simulator) shopPayload(sh *shopState) map[string]any {
	return map[string]any{
		"id": sh.id, "name": sh.opts.Name, "email": sh.opts.Email, "domain": sh.domain,
		"myshopify_domain": sh.domain, "currency": sh.opts.Currency, "iana_timezone": sh.opts.Timezone,
		"plan_name": string(sh.opts.Plan), "plan_display_name": sh.opts.Plan.displayName(),
	}
}
