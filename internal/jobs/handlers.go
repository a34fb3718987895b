package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/rescore"
)

// Syncer imports a shop's whole history.
type Syncer interface {
	SyncShop(ctx context.Context, shop string) error
}

// WebhookApplier applies one stored webhook delivery to the shop's data.
type WebhookApplier interface {
	ApplyWebhook(ctx context.Context, shop, webhookID string) error
}

// Handlers holds what the task handlers call.
type Handlers struct {
	Installations Installations
	Installed     rescore.Installed
	Syncer        Syncer
	Webhooks      WebhookApplier
	Rescorer      Rescorer
	Abandoned     rescore.Abandoned // scorings whose worker died; nil: not looked for
	Writeback     WritebackRunner
	Reconciler    Reconciler
	Deliveries    Deliveries
	// Surveys expires survey responses past their survey's own retention;
	// nil: none are kept.
	Surveys SurveyResponses
	// Retention is how long personal data is kept (DefaultRetention if 0).
	Retention time.Duration
	Queue     *Queue
	Log       *slog.Logger
}

// Mux routes every task type to its handler.
func (h Handlers) Mux() *asynq.ServeMux {
	mux := asynq.NewServeMux()
	mux.HandleFunc(TypeSyncShop, h.syncShop)
	mux.HandleFunc(TypeApplyWebhook, h.applyWebhook)
	mux.HandleFunc(TypeRescoreShop, h.rescoreShop)
	mux.HandleFunc(TypeNightlySweep, h.nightlySweep)
	mux.HandleFunc(TypeWriteback, h.writeback)
	mux.HandleFunc(TypeReconcileShop, h.reconcileShop)
	mux.HandleFunc(TypeReconcileSweep, h.reconcileSweep)
	mux.HandleFunc(TypeDeliverySweep, h.sweepDeliveries)
	mux.HandleFunc(TypeRetention, h.expirePersonalData)
	return mux
}

func (h Handlers) syncShop(ctx context.Context, t *asynq.Task) error {
	var p ShopPayload
	if err := decodePayload(t, &p); err != nil {
		return err
	}
	if ok, err := guard(h.Installations, h.Log, p.Shop, ctx); !ok || err != nil {
		return err
	}
	if err := h.Syncer.SyncShop(ctx, p.Shop); err != nil {
		return fmt.Errorf("sync %s: %w", p.Shop, err)
	}
	// Fresh history means fresh scores.
	return h.Queue.EnqueueRescore(ctx, p.Shop, string(rescore.ReasonSync), rescore.Due{Key: fmt.Sprintf("sync:%d", time.Now().UnixNano())})
}

func (h Handlers) applyWebhook(ctx context.Context, t *asynq.Task) error {
	var p WebhookPayload
	if err := decodePayload(t, &p); err != nil {
		return err
	}
	if ok, err := guard(h.Installations, h.Log, p.Shop, ctx); !ok || err != nil {
		return err
	}
	err := h.Webhooks.ApplyWebhook(ctx, p.Shop, p.WebhookID)
	if cvo.ErrorCode(err) == cvo.EINVALID || cvo.ErrorCode(err) == cvo.ENOTFOUND || isFinal(err) {
		// A payload that cannot be applied will not become applicable by
		// retrying; a dead delivery waits in Postgres for the reconciliation.
		return fmt.Errorf("apply %s for %s: %w: %w", p.Topic, p.Shop, err, asynq.SkipRetry)
	}
	if err != nil {
		return fmt.Errorf("apply %s for %s: %w", p.Topic, p.Shop, err)
	}
	if rescoringTopics[p.Topic] && h.Rescorer != nil {
		return h.Rescorer.RequestAfterOrders(ctx, h.Queue, p.Shop)
	}
	return nil
}

// rescoringTopics change purchases, so they ask for a (debounced) rescore.
// Customer topics do not: a customer's scores come from their orders, and
// the app's own tag writes come back as customers/update, which must not
// start the next rescore.
var rescoringTopics = map[string]bool{
	"orders/create": true, "orders/updated": true, "orders/paid": true, "orders/cancelled": true, "refunds/create": true,
}
