package cvo

import "time"

// WebhookDelivery is one delivery of a Shopify webhook, as received.
type WebhookDelivery struct {
	Shop        string
	ID          string // X-Shopify-Webhook-Id: unique per delivery, kept by retries
	Topic       string
	EventID     string
	TriggeredAt time.Time
	Payload     []byte
}
