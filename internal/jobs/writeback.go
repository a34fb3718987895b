package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"github.com/cvo-app/cvo/internal/activation"
)

// TypeWriteback writes a shop's latest scoring back to Shopify.
const TypeWriteback = "shop:writeback"

// WritebackPayload names the scoring that asked for the write-back.
type WritebackPayload struct {
	Shop      string `json:"shop"`
	ScoringID int64  `json:"scoring_id"`
}

// NewWritebackTask builds a write-back task, one per scoring.
func NewWritebackTask(shop string, scoringID int64) (*asynq.Task, error) {
	b, err := jsonPayload(WritebackPayload{Shop: shop, ScoringID: scoringID})
	if err != nil {
		return nil, err
	}
	return asynq.NewTask(TypeWriteback, b, asynq.MaxRetry(10), asynq.Timeout(3*time.Hour),
		asynq.TaskID(fmt.Sprintf("writeback:%s:%d", shop, scoringID)), asynq.Retention(24*time.Hour)), nil
}

// EnqueueWriteback queues the write-back of a scoring.
func (q *Queue) EnqueueWriteback(ctx context.Context, shop string, scoringID int64) error {
	t, err := NewWritebackTask(shop, scoringID)
	if err != nil {
		return err
	}
	return q.enqueue(ctx, t)
}

// WritebackRunner writes a shop's latest scoring back.
type WritebackRunner interface {
	Write(ctx context.Context, shop string) error
}

func (h Handlers) writeback(ctx context.Context, t *asynq.Task) error {
	var p WritebackPayload
	if err := decodePayload(t, &p); err != nil {
		return err
	}
	if ok, err := guard(h.Installations, h.Log, p.Shop, ctx); !ok || err != nil {
		return err
	}
	err := h.Writeback.Write(ctx, p.Shop)
	if errors.Is(err, activation.ErrUninstalled) {
		h.Log.Info("write-back stopped: shop uninstalled", "shop", p.Shop)
		return nil
	}
	// activation.ErrBusy and Shopify's failures are retried with backoff;
	// the next attempt recomputes what is still to write.
	return err
}
