// Package jobs defines the background tasks of the app (type names,
// payloads, constructors and handlers) on top of asynq. Handlers call the
// same domain functions the HTTP API calls.
package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"github.com/cvo-app/cvo/internal/cvo"
)

// Task type names.
const (
	TypeApplyWebhook = "webhook:apply"
	TypeSyncShop     = "shop:sync"
)

// Queues, by priority: webhooks must not wait behind a long sync.
const (
	QueueWebhooks = "webhooks"
	QueueDefault  = "default"
)

// queueWeights maps each queue to its asynq priority weight.
var queueWeights = map[string]int{QueueWebhooks: 6, QueueDefault: 3}

// queueOf is the one place that says which queue a task type goes to.
func queueOf(taskType string) string {
	if taskType == TypeApplyWebhook {
		return QueueWebhooks
	}
	return QueueDefault
}

// Namespace keeps one deployment's tasks, or one test's, apart from every
// other on the same Redis: its queue names are prefixed with it, and a
// worker only takes tasks from the queues of its own namespace. Task ids and
// uniqueness keys live under the queue in asynq, so they are namespaced too.
// The empty namespace is the plain queue names.
type Namespace string

// QueueName is the name of the base queue in this namespace.
func (ns Namespace) QueueName(base string) string {
	if ns == "" {
		return base
	}
	return string(ns) + ":" + base
}

// Queues is the asynq server's queue configuration for this namespace.
func (ns Namespace) Queues() map[string]int {
	out := make(map[string]int, len(queueWeights))
	for q, w := range queueWeights {
		out[ns.QueueName(q)] = w
	}
	return out
}

// WebhookPayload names a stored delivery; the delivery itself stays in
// Postgres so no customer data passes through Redis.
type WebhookPayload struct {
	Shop      string `json:"shop"`
	WebhookID string `json:"webhook_id"`
	Topic     string `json:"topic"`
}

// ShopPayload names the shop a task works on.
type ShopPayload struct {
	Shop string `json:"shop"`
}

// NewApplyWebhookTask applies one stored webhook delivery.
func NewApplyWebhookTask(d cvo.WebhookDelivery) (*asynq.Task, error) {
	b, err := json.Marshal(WebhookPayload{Shop: d.Shop, WebhookID: d.ID, Topic: d.Topic})
	if err != nil {
		return nil, err
	}
	// A try waits at most postgres.WebhookLockWait for the shop; the timeout
	// bounds the whole try.
	return asynq.NewTask(TypeApplyWebhook, b, asynq.MaxRetry(10), asynq.Timeout(time.Minute),
		asynq.TaskID(webhookTaskID(d.Shop, d.ID)), asynq.Retention(time.Hour)), nil
}

// NewSyncShopTask imports the shop's whole history.
func NewSyncShopTask(shop string) (*asynq.Task, error) {
	b, err := json.Marshal(ShopPayload{Shop: shop})
	if err != nil {
		return nil, err
	}
	return asynq.NewTask(TypeSyncShop, b, asynq.MaxRetry(5),
		asynq.TaskID(syncTaskID(shop)), asynq.Timeout(6*time.Hour)), nil
}

func syncTaskID(shop string) string { return "sync:" + shop }

// shopTaskIDs are the fixed ids of a shop's per-shop tasks, so they can be
// found and stopped when the shop uninstalls.
func shopTaskIDs(shop string) []string { return []string{syncTaskID(shop)} }

// Queue enqueues tasks and stops a shop's tasks, in one namespace.
type Queue struct {
	client    *asynq.Client
	inspector *asynq.Inspector
	ns        Namespace
}

// NewQueue returns a queue on the Redis at opt, in namespace ns.
func NewQueue(opt asynq.RedisConnOpt, ns Namespace) *Queue {
	return &Queue{client: asynq.NewClient(opt), inspector: asynq.NewInspector(opt), ns: ns}
}

// Namespace is the namespace the queue enqueues into.
func (q *Queue) Namespace() Namespace { return q.ns }

// Close releases the Redis connections.
func (q *Queue) Close() error {
	q.inspector.Close()
	return q.client.Close()
}

// EnqueueWebhook queues a stored delivery for applying. A second enqueue of
// the same delivery is a no-op.
func (q *Queue) EnqueueWebhook(ctx context.Context, d cvo.WebhookDelivery) error {
	t, err := NewApplyWebhookTask(d)
	if err != nil {
		return err
	}
	return q.enqueue(ctx, t)
}

// EnqueueSync queues a history sync unless one is already queued or running.
func (q *Queue) EnqueueSync(ctx context.Context, shop string) error {
	t, err := NewSyncShopTask(shop)
	if err != nil {
		return err
	}
	return q.enqueue(ctx, t)
}

func (q *Queue) enqueue(ctx context.Context, t *asynq.Task) error {
	_, err := q.client.EnqueueContext(ctx, t, asynq.Queue(q.ns.QueueName(queueOf(t.Type()))))
	if errors.Is(err, asynq.ErrTaskIDConflict) || errors.Is(err, asynq.ErrDuplicateTask) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("enqueue %s: %w", t.Type(), err)
	}
	return nil
}

// StopShop removes the shop's queued tasks and cancels the running ones.
// Handlers also refuse to work for a shop that is not installed, which
// covers tasks already in flight.
func (q *Queue) StopShop(ctx context.Context, shop string) error {
	for _, id := range shopTaskIDs(shop) {
		for queue := range q.ns.Queues() {
			info, err := q.inspector.GetTaskInfo(queue, id)
			if errors.Is(err, asynq.ErrTaskNotFound) || errors.Is(err, asynq.ErrQueueNotFound) {
				continue
			}
			if err != nil {
				return fmt.Errorf("find task %s: %w", id, err)
			}
			if info.State == asynq.TaskStateActive {
				if err := q.inspector.CancelProcessing(id); err != nil {
					return fmt.Errorf("cancel task %s: %w", id, err)
				}
				continue
			}
			if err := q.inspector.DeleteTask(queue, id); err != nil && !errors.Is(err, asynq.ErrTaskNotFound) {
				return fmt.Errorf("delete task %s: %w", id, err)
			}
		}
	}
	return nil
}

// Installations tells handlers whether a shop still has the app.
type Installations interface {
	Get(ctx context.Context, shop string) (cvo.Shop, error)
}

// guard drops tasks of shops that are no longer installed: uninstall stops
// all work, including tasks already dequeued.
func guard(inst Installations, log *slog.Logger, shop string, ctx context.Context) (bool, error) {
	s, err := inst.Get(ctx, shop)
	if cvo.ErrorCode(err) == cvo.ENOTFOUND {
		log.Info("task dropped: shop unknown", "shop", shop)
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if !s.Installed() {
		log.Info("task dropped: shop uninstalled", "shop", shop)
		return false, nil
	}
	return true, nil
}

func jsonPayload(v any) ([]byte, error) { return json.Marshal(v) }

func decodePayload(t *asynq.Task, v any) error {
	if err := json.Unmarshal(t.Payload(), v); err != nil {
		return fmt.Errorf("decode %s payload: %v: %w", t.Type(), err, asynq.SkipRetry)
	}
	return nil
}
