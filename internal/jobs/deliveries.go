package jobs

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/hibiken/asynq"

	"github.com/cvo-app/cvo/internal/cvo"
)

// Task types that keep stored webhook deliveries moving and expire
// personal data.
const (
	TypeDeliverySweep = "webhook:sweep"
	TypeRetention     = "privacy:retention"
)

// The sweeper queues again what Redis may have lost: pending deliveries
// older than SweepAge, at most sweepBatch a run and sweepPerShop of one
// shop, so one shop's backlog leaves room for the others'.
const (
	SweepAge     = time.Minute
	sweepBatch   = 1000
	sweepPerShop = 200
)

// DefaultRetention is how long delivery payloads, delivery records and
// data-request exports are kept when no other retention is configured.
const DefaultRetention = 30 * 24 * time.Hour

// Deliveries is the store of webhook deliveries as the sweeper, the
// reconciliation and the retention job see it (ingest.Applier satisfies it).
type Deliveries interface {
	// StaleDeliveries lists pending deliveries of installed shops received
	// before cutoff, oldest first, at most limit and perShop of one shop.
	StaleDeliveries(ctx context.Context, cutoff time.Time, limit, perShop int) ([]cvo.WebhookDelivery, error)
	// ReviveDead puts the shop's dead deliveries back to pending.
	ReviveDead(ctx context.Context, shop string) ([]cvo.WebhookDelivery, error)
	// ExpireBefore deletes deliveries and exports older than cutoff and
	// says how many of each, for the log.
	ExpireBefore(ctx context.Context, cutoff time.Time) (map[string]int64, error)
}

// busy is an error that means "waited for a resource and gave up", not a
// failure (postgres.ErrShopBusy is one).
type busy interface{ Busy() bool }

// IsFailure is the worker's asynq Config.IsFailure: a webhook apply that
// gave up waiting for a running import is retried without using up its
// retries.
func IsFailure(err error) bool {
	var b busy
	return !errors.As(err, &b) || !b.Busy()
}

// busyRetryDelay is how soon a task that waited for a busy shop tries again
// (plus up to as much again at random, so waiting applies spread out).
const busyRetryDelay = 5 * time.Second

// RetryDelay is the worker's asynq Config.RetryDelayFunc: soon after a
// busy wait, asynq's usual backoff after a failure.
func RetryDelay(n int, err error, t *asynq.Task) time.Duration {
	if !IsFailure(err) {
		return busyRetryDelay + rand.N(busyRetryDelay)
	}
	return asynq.DefaultRetryDelayFunc(n, err, t)
}

// final is an error after which retrying is pointless because the failure
// is kept elsewhere (a dead delivery is, in Postgres).
type final interface{ Final() bool }

func isFinal(err error) bool {
	var f final
	return errors.As(err, &f) && f.Final()
}

func webhookTaskID(shop, webhookID string) string { return "webhook:" + shop + ":" + webhookID }

// RequeueWebhook queues a stored delivery again. A task of the delivery
// still queued, scheduled for retry or running keeps it (the task id
// dedupes); one finished or archived is replaced, since the delivery is
// pending again. It reports whether a task was queued.
func (q *Queue) RequeueWebhook(ctx context.Context, d cvo.WebhookDelivery) (bool, error) {
	t, err := NewApplyWebhookTask(d)
	if err != nil {
		return false, err
	}
	id, queue := webhookTaskID(d.Shop, d.ID), q.ns.QueueName(queueOf(t.Type()))
	for range 2 {
		_, err = q.client.EnqueueContext(ctx, t, asynq.Queue(queue))
		if err == nil {
			return true, nil
		}
		if !errors.Is(err, asynq.ErrTaskIDConflict) {
			return false, fmt.Errorf("requeue webhook %s of %s: %w", d.ID, d.Shop, err)
		}
		info, err := q.inspector.GetTaskInfo(queue, id)
		if errors.Is(err, asynq.ErrTaskNotFound) {
			continue // finished and removed in between
		}
		if err != nil {
			return false, fmt.Errorf("requeue webhook %s of %s: %w", d.ID, d.Shop, err)
		}
		if info.State != asynq.TaskStateCompleted && info.State != asynq.TaskStateArchived {
			return false, nil
		}
		if err := q.inspector.DeleteTask(queue, id); err != nil && !errors.Is(err, asynq.ErrTaskNotFound) {
			return false, fmt.Errorf("requeue webhook %s of %s: %w", d.ID, d.Shop, err)
		}
	}
	return false, nil
}

// sweepDeliveries queues again the pending deliveries older than SweepAge:
// a delivery stored and acknowledged is applied even when Redis lost its
// task. Runs are idempotent, so every worker's scheduler may start them.
func (h Handlers) sweepDeliveries(ctx context.Context, _ *asynq.Task) error {
	stale, err := h.Deliveries.StaleDeliveries(ctx, time.Now().Add(-SweepAge), sweepBatch, sweepPerShop)
	if err != nil {
		return fmt.Errorf("delivery sweep: %w", err)
	}
	queued := 0
	var errs []error
	for _, d := range stale {
		ok, err := h.Queue.RequeueWebhook(ctx, d)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if ok {
			queued++
		}
	}
	if queued > 0 || len(errs) > 0 {
		h.Log.Info("delivery sweep", "stale", len(stale), "queued", queued, "failed", len(errs))
	}
	return errors.Join(errs...)
}

// reviveDeliveries queues the shop's dead deliveries again, after the
// reconciliation fetched its data: applied on top of fresh data, an old
// delivery changes nothing it should not, since writes compare updated_at.
// One that fails to queue is pending, so the sweeper queues it.
func (h Handlers) reviveDeliveries(ctx context.Context, shop string) error {
	if h.Deliveries == nil {
		return nil
	}
	dead, err := h.Deliveries.ReviveDead(ctx, shop)
	if err != nil {
		return fmt.Errorf("reconcile %s: %w", shop, err)
	}
	var errs []error
	for _, d := range dead {
		if _, err := h.Queue.RequeueWebhook(ctx, d); err != nil {
			errs = append(errs, err)
		}
	}
	if len(dead) > 0 {
		h.Log.Info("dead webhooks revived", "shop", shop, "deliveries", len(dead), "not_queued", len(errs))
	}
	return nil
}

// expirePersonalData deletes what the retention allows no longer: webhook
// deliveries with their payloads (applied, rejected or never applied) and
// customers/data_request exports.
func (h Handlers) expirePersonalData(ctx context.Context, _ *asynq.Task) error {
	retention := h.Retention
	if retention <= 0 {
		retention = DefaultRetention
	}
	n, err := h.Deliveries.ExpireBefore(ctx, time.Now().Add(-retention))
	if err != nil {
		return fmt.Errorf("retention: %w", err)
	}
	args := []any{"retention_days", retention.Hours() / 24}
	for k, v := range n {
		args = append(args, k, v)
	}
	if h.Surveys != nil {
		// Answers are kept for the survey's own retention, which the
		// merchant sets: trends by month need more than the deliveries'.
		expired, err := h.Surveys.ExpireResponses(ctx, time.Now())
		if err != nil {
			return fmt.Errorf("retention: %w", err)
		}
		args = append(args, "survey_responses", expired)
	}
	h.Log.Info("personal data expired", args...)
	return nil
}

// SurveyResponses deletes survey answers past their survey's retention
// (postgres.SurveyStore satisfies it).
type SurveyResponses interface {
	ExpireResponses(ctx context.Context, now time.Time) (int64, error)
}

// RegisterDeliverySweeps adds the delivery sweeper (every minute) and the
// retention job (hourly) to a scheduler (see NewScheduler). Every worker's
// scheduler may register them: both are idempotent, and the uniqueness
// window makes most duplicate runs no-ops.
func RegisterDeliverySweeps(s *asynq.Scheduler, ns Namespace) error {
	if _, err := s.Register("@every 1m", asynq.NewTask(TypeDeliverySweep, nil), asynq.Queue(ns.QueueName(QueueDefault)),
		asynq.Unique(50*time.Second), asynq.MaxRetry(0), asynq.Timeout(time.Minute)); err != nil {
		return fmt.Errorf("register delivery sweep: %w", err)
	}
	if _, err := s.Register("@every 1h", asynq.NewTask(TypeRetention, nil), asynq.Queue(ns.QueueName(QueueDefault)),
		asynq.Unique(50*time.Minute), asynq.MaxRetry(1), asynq.Timeout(30*time.Minute)); err != nil {
		return fmt.Errorf("register retention: %w", err)
	}
	return nil
}
