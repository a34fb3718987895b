package jobs

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/hibiken/asynq"
)

// Task types of the daily reconciliation, which fetches what changed since
// a shop's last good sync to catch webhooks that never arrived.
const (
	TypeReconcileShop  = "shop:reconcile"
	TypeReconcileSweep = "reconcile:daily-sweep"
)

// Reconciler fetches what changed in a shop since its last good sync
// (ingest.Syncer satisfies it).
type Reconciler interface {
	ReconcileShop(ctx context.Context, shop string) error
}

// NewReconcileTask builds one shop's reconciliation for a day. Its id
// carries the day, and completed tasks are kept a day and a half, so a
// second sweep the same day queues nothing; the delay spreads the shops
// over the day instead of sending every bulk query at midnight.
func NewReconcileTask(shop string, day time.Time) (*asynq.Task, error) {
	b, err := jsonPayload(ShopPayload{Shop: shop})
	if err != nil {
		return nil, err
	}
	return asynq.NewTask(TypeReconcileShop, b, asynq.MaxRetry(5), asynq.Timeout(6*time.Hour),
		asynq.TaskID(reconcileTaskID(shop, day)), asynq.Retention(36*time.Hour), asynq.ProcessIn(spread(shop, 20*time.Hour))), nil
}

func reconcileTaskID(shop string, day time.Time) string {
	return "reconcile:" + shop + ":" + day.UTC().Format(time.DateOnly)
}

// spread gives each shop a stable offset within window.
func spread(shop string, window time.Duration) time.Duration {
	h := fnv.New64a()
	h.Write([]byte(shop))
	return time.Duration(h.Sum64() % uint64(window))
}

// EnqueueReconcile queues a shop's reconciliation for the day (a second
// one the same day is a no-op).
func (q *Queue) EnqueueReconcile(ctx context.Context, shop string, day time.Time) error {
	t, err := NewReconcileTask(shop, day)
	if err != nil {
		return err
	}
	return q.enqueue(ctx, t)
}

func (h Handlers) reconcileShop(ctx context.Context, t *asynq.Task) error {
	var p ShopPayload
	if err := decodePayload(t, &p); err != nil {
		return err
	}
	if ok, err := guard(h.Installations, h.Log, p.Shop, ctx); !ok || err != nil {
		return err
	}
	if h.Reconciler == nil {
		return fmt.Errorf("reconcile %s: no reconciler configured: %w", p.Shop, asynq.SkipRetry)
	}
	if err := h.Reconciler.ReconcileShop(ctx, p.Shop); err != nil {
		return fmt.Errorf("reconcile %s: %w", p.Shop, err)
	}
	return h.reviveDeliveries(ctx, p.Shop)
}

func (h Handlers) reconcileSweep(ctx context.Context, _ *asynq.Task) error {
	shops, err := h.Installed.ListInstalled(ctx)
	if err != nil {
		return fmt.Errorf("reconcile sweep: %w", err)
	}
	today := time.Now()
	var errs []error
	for _, shop := range shops {
		if err := h.Queue.EnqueueReconcile(ctx, shop, today); err != nil {
			errs = append(errs, err)
		}
	}
	h.Log.Info("reconcile sweep", "shops", len(shops), "failed", len(errs))
	return errors.Join(errs...)
}

// RegisterReconcileSweep adds the daily sweep that queues every installed
// shop's reconciliation to a scheduler (see NewScheduler). Several
// schedulers may run: the per-day task ids make the sweep idempotent.
func RegisterReconcileSweep(s *asynq.Scheduler, ns Namespace) error {
	if _, err := s.Register("@every 6h", asynq.NewTask(TypeReconcileSweep, nil), asynq.Queue(ns.QueueName(QueueDefault)),
		asynq.Unique(time.Hour), asynq.MaxRetry(1)); err != nil {
		return fmt.Errorf("register reconcile sweep: %w", err)
	}
	return nil
}
