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
	"time"

	"github.com/labstack/echo/v4"

	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/shopify"
)

// MaxBody bounds a delivery. Shopify documents no largest payload; 2 MiB
// holds an order with several hundred line items. A larger delivery is
// answered 413 and what it carried is caught by the reconciliation.
const MaxBody = 2 << 20

// maxHashed bounds how much of a body over MaxBody is read, only through
// the HMAC and never kept, to tell an unsigned one (401) from a signed one
// (413). Anything longer is refused unread.
const maxHashed = 4 * MaxBody

// Deliveries records deliveries for deduplication.
type Deliveries interface {
	Record(ctx context.Context, d cvo.WebhookDelivery) (needsHandling bool, err error)
	// RecordQueued stores a delivery a job will apply, already marked
	// handled, and says whether it must be queued.
	RecordQueued(ctx context.Context, d cvo.WebhookDelivery) (queue bool, err error)
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

// The data topics the app subscribes to, with the GraphQL type of the
// resource each one carries; their deliveries are applied by jobs.
var dataTopics = map[string]string{
	"orders/create": "Order", "orders/updated": "Order", "orders/paid": "Order", "orders/cancelled": "Order",
	"refunds/create": "Refund", "customers/create": "Customer", "customers/update": "Customer", "customers/delete": "Customer",
	"bulk_operations/finish": "BulkOperation",
}

// Handle serves POST /webhooks and /webhooks/compliance.
func (r *Receiver) Handle(c echo.Context) error {
	req := c.Request()
	// The signature comes first: nothing about an unsigned request is trusted,
	// not even its size.
	body, err := readSigned(req, r.secret)
	if err != nil {
		return err
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
	if !shopify.ValidShopDomain(d.Shop) || !validWebhookID(d.ID) || !validTopic(d.Topic) || (d.EventID != "" && !validWebhookID(d.EventID)) {
		return echo.NewHTTPError(http.StatusBadRequest, "Missing or invalid webhook headers.")
	}
	ctx := req.Context()

	// A body that is not of its topic or names another shop is refused
	// before anything is recorded: it may be a signed body replayed with
	// other headers, and Shopify itself never sends one.
	payload, err := validate(d.Topic, d.Shop, body)
	if err != nil {
		r.log.Warn("webhook refused", r.attrs(d, "reason", cvo.ErrorMessage(err))...)
		return echo.NewHTTPError(http.StatusBadRequest, cvo.ErrorMessage(err))
	}
	if dataTopics[d.Topic] != "" {
		return r.handOff(c, d)
	}
	fresh, err := r.deliveries.Record(ctx, d)
	if err != nil {
		return err
	}
	if !fresh {
		r.log.Info("webhook duplicate ignored", r.attrs(d)...)
		return c.NoContent(http.StatusOK)
	}
	if err := r.dispatch(ctx, d, payload); err != nil {
		return r.failed(ctx, d, "webhook handling failed", err)
	}
	if err := r.deliveries.MarkHandled(ctx, d.Shop, d.ID, false); err != nil {
		return err
	}
	r.log.Info("webhook handled", r.attrs(d)...)
	return c.NoContent(http.StatusOK)
}

// handOff stores a data topic's delivery and queues it for a job: one
// statement and one queue call, as this is nearly all of the traffic. The
// delivery is stored pending before it is queued, so a lost queue entry
// (Redis failing here or later) is queued again by the sweeper, or by
// Shopify's retry of this delivery.
func (r *Receiver) handOff(c echo.Context, d cvo.WebhookDelivery) error {
	ctx := c.Request().Context()
	queue, err := r.deliveries.RecordQueued(ctx, d)
	if err != nil {
		return err
	}
	if !queue {
		r.log.Debug("webhook duplicate ignored", r.attrs(d)...)
		return c.NoContent(http.StatusOK)
	}
	if err := r.jobs.EnqueueWebhook(ctx, d); err != nil {
		return r.failed(ctx, d, "webhook not queued", err)
	}
	// Thousands a second: one Info line each would cost more than the
	// delivery. The request log still has every answer's status.
	r.log.Debug("webhook queued", r.attrs(d)...)
	return c.NoContent(http.StatusOK)
}

// failed logs and records on the stored delivery why it was not handled,
// and returns err for the 5xx that makes Shopify retry.
func (r *Receiver) failed(ctx context.Context, d cvo.WebhookDelivery, msg string, err error) error {
	r.log.Error(msg, r.attrs(d, "err", err)...)
	if mErr := r.deliveries.MarkFailed(ctx, d.Shop, d.ID, failureReason(err)); mErr != nil {
		r.log.Error("record webhook failure", r.attrs(d, "err", mErr)...)
	}
	return err
}

// attrs names a delivery in a log line; built only for lines logged, as a
// logger made per request costs on every delivery.
func (r *Receiver) attrs(d cvo.WebhookDelivery, more ...any) []any {
	return append([]any{"shop", d.Shop, "topic", d.Topic, "webhook_id", d.ID}, more...)
}

// validTopic is `^[a-z_]+/[a-z_]+$`, checked byte by byte.
func validTopic(s string) bool {
	slash := -1
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '/':
			if slash >= 0 {
				return false
			}
			slash = i
		case c != '_' && (c < 'a' || c > 'z'):
			return false
		}
	}
	return slash > 0 && slash < len(s)-1
}

// validWebhookID is `^[A-Za-z0-9._:-]{1,128}$`, checked byte by byte.
func validWebhookID(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == ':', c == '-':
		default:
			return false
		}
	}
	return true
}

// readSigned reads a delivery's body through the HMAC. A body is kept
// only while it stays within MaxBody, and not at all when its declared
// length is already over it, so an unsigned request never makes the
// receiver hold more than MaxBody, and a declared-oversized one nothing.
func readSigned(req *http.Request, secret string) ([]byte, error) {
	mac := shopify.NewWebhookMAC(req.Header.Get("X-Shopify-Hmac-Sha256"), secret)
	if req.ContentLength > maxHashed {
		return nil, echo.NewHTTPError(http.StatusRequestEntityTooLarge, "Webhook body too large.")
	}
	keep := &cappedBuffer{max: MaxBody, over: req.ContentLength > MaxBody}
	if req.ContentLength > 0 && !keep.over {
		// A declared length is only a hint until the HMAC is checked: the
		// block it sizes is at most MaxBody, as any other would be, and
		// a body longer than declared is cut off by net/http anyway.
		keep.first = int(req.ContentLength)
	}
	n, err := io.Copy(io.MultiWriter(mac, keep), io.LimitReader(req.Body, maxHashed+1))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge) || n > maxHashed:
		return nil, echo.NewHTTPError(http.StatusRequestEntityTooLarge, "Webhook body too large.")
	case err != nil:
		return nil, echo.NewHTTPError(http.StatusBadRequest, "Could not read the body.")
	case !mac.Valid():
		return nil, echo.NewHTTPError(http.StatusUnauthorized, "Invalid webhook signature.")
	case keep.over:
		return nil, echo.NewHTTPError(http.StatusRequestEntityTooLarge, "Webhook body too large.")
	}
	return keep.Bytes(), nil
}

// cappedBuffer keeps what is written to it until it would pass max, then
// drops it all and only counts. It keeps fixed-size blocks rather than one
// growing slice, so what an unsigned body costs is its own size (at most
// max), not the doubling copies of a growing buffer.
type cappedBuffer struct {
	blocks [][]byte
	n      int
	max    int
	over   bool
	// first sizes the first block when the length is known, so a body of
	// a few KiB costs a few KiB, not a whole block.
	first int
}

const bufferBlock = 64 << 10

func (c *cappedBuffer) Write(p []byte) (int, error) {
	written := len(p)
	if c.over {
		return written, nil
	}
	if c.n+len(p) > c.max {
		c.over, c.blocks, c.n = true, nil, 0
		return written, nil
	}
	c.n += len(p)
	for len(p) > 0 {
		last := len(c.blocks) - 1
		if last < 0 || len(c.blocks[last]) == cap(c.blocks[last]) {
			size := min(bufferBlock, c.max)
			if last < 0 && c.first > 0 {
				size = c.first
			}
			c.blocks = append(c.blocks, make([]byte, 0, size))
			last++
		}
		k := copy(c.blocks[last][len(c.blocks[last]):cap(c.blocks[last])], p)
		c.blocks[last] = c.blocks[last][:len(c.blocks[last])+k]
		p = p[k:]
	}
	return written, nil
}

// Bytes joins the kept blocks.
func (c *cappedBuffer) Bytes() []byte {
	if len(c.blocks) == 1 {
		return c.blocks[0]
	}
	out := make([]byte, 0, c.n)
	for _, b := range c.blocks {
		out = append(out, b...)
	}
	return out
}

// dispatch carries out a delivery the receiver applies itself (every
// topic but the data topics). payload is what validate decoded.
func (r *Receiver) dispatch(ctx context.Context, d cvo.WebhookDelivery, payload any) error {
	switch p := payload.(type) {
	case scopesUpdatePayload:
		return r.installations.UpdateScopes(ctx, d.Shop, *p.Current)
	case dataRequestPayload:
		_, err := r.privacy.ExportCustomer(ctx, d.Shop, p.DataRequest.ID.String(), p.Customer.ref())
		return err
	case customerRedactPayload:
		return r.privacy.RedactCustomer(ctx, d.Shop, p.Customer.ref())
	case shopRedactPayload:
		if err := r.uninstalled(ctx, d.Shop); err != nil {
			return err
		}
		return r.privacy.DeleteShop(ctx, d.Shop)
	}
	if d.Topic == "app/uninstalled" {
		return r.uninstalled(ctx, d.Shop)
	}
	return cvo.Errorf(cvo.EINVALID, "Topic %s is not handled.", d.Topic)
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
