// Package webhooks receives Shopify's webhook deliveries: it checks their
// signature before anything else, deduplicates them by webhook id, carries
// out the lifecycle and privacy topics itself and hands data topics to jobs.
package webhooks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/shopify"
)

// MaxBody bounds a delivery: Shopify's largest order payloads stay far below it.
const MaxBody = 8 << 20

// Deliveries records deliveries for deduplication.
type Deliveries interface {
	Record(ctx context.Context, d cvo.WebhookDelivery) (needsHandling bool, err error)
	MarkHandled(ctx context.Context, shop, webhookID string, keepPayload bool) error
	MarkFailed(ctx context.Context, shop, webhookID, reason string) error
}

// Installations changes a shop's installation state.
type Installations interface {
	MarkUninstalled(ctx context.Context, shop string) error
	UpdateScopes(ctx context.Context, shop string, scopes []string) error
}

// Privacy carries out the mandatory compliance requests.
type Privacy interface {
	ExportCustomer(ctx context.Context, shop, requestID string, c cvo.CustomerRef) (map[string]any, error)
	RedactCustomer(ctx context.Context, shop string, c cvo.CustomerRef) error
	DeleteShop(ctx context.Context, shop string) error
}

// Jobs is the background queue: data topics are applied by a job, and an
// uninstalled shop's jobs are stopped.
type Jobs interface {
	EnqueueWebhook(ctx context.Context, d cvo.WebhookDelivery) error
	StopShop(ctx context.Context, shop string) error
}

// Receiver is the HTTP endpoint Shopify delivers webhooks to.
type Receiver struct {
	secret        string
	deliveries    Deliveries
	installations Installations
	privacy       Privacy
	jobs          Jobs
	log           *slog.Logger
}

// NewReceiver returns a receiver that verifies deliveries with the app's
// client secret.
func NewReceiver(clientSecret string, d Deliveries, i Installations, p Privacy, j Jobs, log *slog.Logger) *Receiver {
	return &Receiver{secret: clientSecret, deliveries: d, installations: i, privacy: p, jobs: j, log: log}
}

// The data topics the app subscribes to; their deliveries are applied by jobs.
var dataTopics = map[string]bool{
	"orders/create": true, "orders/updated": true, "orders/paid": true, "orders/cancelled": true,
	"refunds/create": true, "customers/create": true, "customers/update": true, "customers/delete": true,
	"bulk_operations/finish": true,
}

var (
	topicPattern     = regexp.MustCompile(`^[a-z_]+/[a-z_]+$`)
	webhookIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)
)

// Handle serves POST /webhooks and /webhooks/compliance.
func (r *Receiver) Handle(c echo.Context) error {
	req := c.Request()
	body, err := io.ReadAll(io.LimitReader(req.Body, MaxBody+1))
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "Could not read the body.")
	}
	// The signature comes first: nothing about an unsigned request is trusted,
	// not even its size.
	if !shopify.VerifyWebhookHMAC(body, req.Header.Get("X-Shopify-Hmac-Sha256"), r.secret) {
		return echo.NewHTTPError(http.StatusUnauthorized, "Invalid webhook signature.")
	}
	if len(body) > MaxBody {
		return echo.NewHTTPError(http.StatusRequestEntityTooLarge, "Webhook body too large.")
	}
	d := cvo.WebhookDelivery{
		Shop:    req.Header.Get("X-Shopify-Shop-Domain"),
		ID:      req.Header.Get("X-Shopify-Webhook-Id"),
		Topic:   req.Header.Get("X-Shopify-Topic"),
		EventID: req.Header.Get("X-Shopify-Event-Id"),
		Payload: body,
	}
	if t, err := time.Parse(time.RFC3339Nano, req.Header.Get("X-Shopify-Triggered-At")); err == nil {
		d.TriggeredAt = t
	}
	if !shopify.ValidShopDomain(d.Shop) || !webhookIDPattern.MatchString(d.ID) || !topicPattern.MatchString(d.Topic) || (d.EventID != "" && !webhookIDPattern.MatchString(d.EventID)) {
		return echo.NewHTTPError(http.StatusBadRequest, "Missing or invalid webhook headers.")
	}
	ctx := req.Context()
	log := r.log.With("shop", d.Shop, "topic", d.Topic, "webhook_id", d.ID)

	fresh, err := r.deliveries.Record(ctx, d)
	if err != nil {
		return err
	}
	if !fresh {
		log.Info("webhook duplicate ignored")
		return c.NoContent(http.StatusOK)
	}
	keepPayload, err := r.dispatch(ctx, d)
	if err != nil {
		log.Error("webhook handling failed", "err", err)
		if mErr := r.deliveries.MarkFailed(ctx, d.Shop, d.ID, failureReason(err)); mErr != nil {
			log.Error("record webhook failure", "err", mErr)
		}
		if cvo.ErrorCode(err) == cvo.EINVALID {
			// A payload that can never be applied is acknowledged, so Shopify
			// does not retry it for hours; the failure is kept with the delivery.
			return c.NoContent(http.StatusOK)
		}
		return err
	}
	if err := r.deliveries.MarkHandled(ctx, d.Shop, d.ID, keepPayload); err != nil {
		return err
	}
	log.Info("webhook handled")
	return c.NoContent(http.StatusOK)
}

// dispatch handles one delivery and says whether its payload must be kept
// for a job.
func (r *Receiver) dispatch(ctx context.Context, d cvo.WebhookDelivery) (keepPayload bool, err error) {
	switch {
	case d.Topic == "app/uninstalled":
		return false, r.uninstalled(ctx, d.Shop)
	case d.Topic == "app/scopes_update":
		p, err := parseScopesUpdate(d.Payload)
		if err != nil {
			return false, err
		}
		return false, r.installations.UpdateScopes(ctx, d.Shop, p.Current)
	case d.Topic == "customers/data_request":
		p, err := parseDataRequest(d.Payload, d.Shop)
		if err != nil {
			return false, err
		}
		_, err = r.privacy.ExportCustomer(ctx, d.Shop, p.requestID(d.ID), p.Customer.ref())
		return false, err
	case d.Topic == "customers/redact":
		p, err := parseCustomerRedact(d.Payload, d.Shop)
		if err != nil {
			return false, err
		}
		return false, r.privacy.RedactCustomer(ctx, d.Shop, p.Customer.ref())
	case d.Topic == "shop/redact":
		if _, err := parseShopRedact(d.Payload, d.Shop); err != nil {
			return false, err
		}
		if err := r.uninstalled(ctx, d.Shop); err != nil {
			return false, err
		}
		return false, r.privacy.DeleteShop(ctx, d.Shop)
	case dataTopics[d.Topic]:
		return true, r.jobs.EnqueueWebhook(ctx, d)
	default:
		return false, cvo.Errorf(cvo.EINVALID, "Topic %s is not handled.", d.Topic)
	}
}

// uninstalled stops everything for the shop; the data stays until shop/redact.
func (r *Receiver) uninstalled(ctx context.Context, shop string) error {
	if err := r.installations.MarkUninstalled(ctx, shop); err != nil {
		return err
	}
	if err := r.jobs.StopShop(ctx, shop); err != nil {
		return fmt.Errorf("stop jobs of %s: %w", shop, err)
	}
	return nil
}

func failureReason(err error) string {
	var e *cvo.Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
