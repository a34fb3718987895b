package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/cvo"
)

// The tests of this package share the Redis other packages and processes
// use; each keeps to a namespace of its own (jobstest cannot be imported
// here: it imports this package).
var reconcileRedis = asynq.RedisClientOpt{Addr: "127.0.0.1:6379"}

func testNamespace(t *testing.T) Namespace {
	var b [6]byte
	_, err := rand.Read(b[:])
	require.NoError(t, err)
	ns := Namespace("test-jobs-" + hex.EncodeToString(b[:]))
	t.Cleanup(func() {
		rc := redis.NewClient(&redis.Options{Addr: reconcileRedis.Addr, DB: reconcileRedis.DB})
		defer rc.Close()
		assert.NoError(t, ns.Remove(context.Background(), rc))
	})
	return ns
}

type shopsFake map[string]bool // shop -> installed

func (s shopsFake) Get(_ context.Context, shop string) (cvo.Shop, error) {
	installed, ok := s[shop]
	if !ok {
		return cvo.Shop{}, cvo.Errorf(cvo.ENOTFOUND, "no shop")
	}
	out := cvo.Shop{Domain: shop, AccessToken: "t"}
	if !installed {
		out.UninstalledAt = time.Now()
	}
	return out, nil
}

func (s shopsFake) ListInstalled(context.Context) ([]string, error) {
	var out []string
	for shop, ok := range s {
		if ok {
			out = append(out, shop)
		}
	}
	return out, nil
}

type reconcilerFake struct {
	mu    sync.Mutex
	shops []string
}

func (r *reconcilerFake) ReconcileShop(_ context.Context, shop string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.shops = append(r.shops, shop)
	return nil
}

func newReconcileEnv(t *testing.T) (*Queue, *asynq.Inspector) {
	t.Helper()
	q := NewQueue(reconcileRedis, testNamespace(t))
	t.Cleanup(func() { _ = q.Close() })
	return q, asynq.NewInspector(reconcileRedis)
}

func TestReconcileIsQueuedOncePerShopAndDay(t *testing.T) {
	ctx := context.Background()
	q, insp := newReconcileEnv(t)
	defer insp.Close()
	day := time.Date(2026, 5, 1, 3, 0, 0, 0, time.UTC)
	require.NoError(t, q.EnqueueReconcile(ctx, "a.myshopify.com", day))
	require.NoError(t, q.EnqueueReconcile(ctx, "a.myshopify.com", day.Add(5*time.Hour)))
	require.NoError(t, q.EnqueueReconcile(ctx, "b.myshopify.com", day))
	tasks, err := insp.ListScheduledTasks(q.Namespace().QueueName(QueueDefault))
	require.NoError(t, err)
	assert.Len(t, tasks, 2, "a second sweep the same day queues nothing")
	require.NoError(t, q.EnqueueReconcile(ctx, "a.myshopify.com", day.Add(24*time.Hour)))
	tasks, err = insp.ListScheduledTasks(q.Namespace().QueueName(QueueDefault))
	require.NoError(t, err)
	assert.Len(t, tasks, 3)
	assert.NotEqual(t, spread("a.myshopify.com", 20*time.Hour), spread("b.myshopify.com", 20*time.Hour), "shops are spread over the day")
}

func TestReconcileHandlersRunInstalledShopsOnly(t *testing.T) {
	ctx := context.Background()
	q, insp := newReconcileEnv(t)
	defer insp.Close()
	shops := shopsFake{"on.myshopify.com": true, "off.myshopify.com": false}
	rec := &reconcilerFake{}
	h := Handlers{Installations: shops, Installed: shops, Reconciler: rec, Queue: q, Log: slog.New(slog.DiscardHandler)}

	require.NoError(t, h.reconcileSweep(ctx, asynq.NewTask(TypeReconcileSweep, nil)))
	tasks, err := insp.ListScheduledTasks(q.Namespace().QueueName(QueueDefault))
	require.NoError(t, err)
	require.Len(t, tasks, 1)
	assert.Equal(t, TypeReconcileShop, tasks[0].Type)

	for _, shop := range []string{"on.myshopify.com", "off.myshopify.com", "gone.myshopify.com"} {
		b, err := json.Marshal(ShopPayload{Shop: shop})
		require.NoError(t, err)
		require.NoError(t, h.Mux().ProcessTask(ctx, asynq.NewTask(TypeReconcileShop, b)))
	}
	assert.Equal(t, []string{"on.myshopify.com"}, rec.shops)
}
