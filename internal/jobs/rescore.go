package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"github.com/cvo-app/cvo/internal/rescore"
)

// Task types of rescoring.
const (
	TypeRescoreShop  = "shop:rescore"
	TypeNightlySweep = "rescore:nightly-sweep"
)

// RescorePayload asks for one shop's rescore.
type RescorePayload struct {
	Shop   string `json:"shop"`
	Reason string `json:"reason"`
}

// NewRescoreTask builds a rescore task. Its id carries due.Key: the same
// key enqueued twice is one task.
func NewRescoreTask(shop, reason string, due rescore.Due) (*asynq.Task, error) {
	b, err := jsonPayload(RescorePayload{Shop: shop, Reason: reason})
	if err != nil {
		return nil, err
	}
	opts := []asynq.Option{asynq.MaxRetry(20), asynq.Timeout(time.Hour),
		asynq.TaskID("rescore:" + shop + ":" + due.Key),
		// Completed tasks are kept a day and a half so a second sweep the
		// same night finds the id taken.
		asynq.Retention(36 * time.Hour)}
	if due.After > 0 {
		opts = append(opts, asynq.ProcessIn(due.After))
	}
	return asynq.NewTask(TypeRescoreShop, b, opts...), nil
}

// EnqueueRescore queues a rescore (a duplicate key is a no-op).
func (q *Queue) EnqueueRescore(ctx context.Context, shop, reason string, due rescore.Due) error {
	t, err := NewRescoreTask(shop, reason, due)
	if err != nil {
		return err
	}
	return q.enqueue(ctx, t)
}

// Rescorer runs rescores and finds the nightly ones due.
type Rescorer interface {
	Rescore(ctx context.Context, shop string, reason rescore.Reason) (int64, error)
	EnqueueNightly(ctx context.Context, installed rescore.Installed, q rescore.Queue) (int, error)
	RequestAfterOrders(ctx context.Context, q rescore.Queue, shop string) error
	RecoverAbandoned(ctx context.Context, a rescore.Abandoned, q rescore.Queue) (int, error)
}

func (h Handlers) rescoreShop(ctx context.Context, t *asynq.Task) error {
	var p RescorePayload
	if err := decodePayload(t, &p); err != nil {
		return err
	}
	if !rescore.Reason(p.Reason).Valid() {
		return fmt.Errorf("rescore %s: unknown reason %q: %w", p.Shop, p.Reason, asynq.SkipRetry)
	}
	if ok, err := guard(h.Installations, h.Log, p.Shop, ctx); !ok || err != nil {
		return err
	}
	// rescore.ErrBusy is retried with asynq's backoff: the rescore running
	// now may not have seen the data this one was asked for. So is
	// rescore.ErrMemoryBusy: other rescores hold the memory budget now. A
	// shop bigger than the whole budget is not retried; the failed scoring
	// says why, and the nightly sweep tries again.
	_, err := h.Rescorer.Rescore(ctx, p.Shop, rescore.Reason(p.Reason))
	if errors.As(err, new(*rescore.TooBigError)) {
		h.Log.Error("shop too big for the worker's memory budget", "shop", p.Shop, "err", err)
		return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
	}
	return err
}

func (h Handlers) nightlySweep(ctx context.Context, _ *asynq.Task) error {
	if h.Abandoned != nil {
		// Rescores whose worker died and whose task Redis lost run again.
		if n, err := h.Rescorer.RecoverAbandoned(ctx, h.Abandoned, h.Queue); err != nil {
			h.Log.Error("recover abandoned scorings", "err", err)
		} else if n > 0 {
			h.Log.Warn("abandoned scorings queued again", "count", n)
		}
	}
	n, err := h.Rescorer.EnqueueNightly(ctx, h.Installed, h.Queue)
	if err != nil {
		return fmt.Errorf("nightly sweep: %w", err)
	}
	h.Log.Info("nightly sweep", "queued", n)
	return nil
}

// SweepEvery is how often the scheduler looks for shops whose night has come.
const SweepEvery = 15 * time.Minute

// NewScheduler returns the scheduler of the periodic sweep that queues
// nightly rescores. Several schedulers may run: the sweep is idempotent.
func NewScheduler(opt asynq.RedisConnOpt, ns Namespace, log asynq.Logger, every time.Duration) (*asynq.Scheduler, error) {
	s := asynq.NewScheduler(opt, &asynq.SchedulerOpts{Logger: log, Location: time.UTC,
		// The sweep is the one task this scheduler registers; info is nil
		// when the enqueue failed.
		PostEnqueueFunc: func(_ *asynq.TaskInfo, err error) {
			if err != nil && !errors.Is(err, asynq.ErrDuplicateTask) {
				slog.Error("scheduler could not enqueue", "type", TypeNightlySweep, "err", err)
			}
		}})
	// asynq refuses uniqueness windows under a second.
	unique := max(every*2/3, time.Second)
	if _, err := s.Register("@every "+every.String(), asynq.NewTask(TypeNightlySweep, nil), asynq.Queue(ns.QueueName(QueueDefault)),
		asynq.Unique(unique), asynq.MaxRetry(1)); err != nil {
		return nil, fmt.Errorf("register nightly sweep: %w", err)
	}
	return s, nil
}
