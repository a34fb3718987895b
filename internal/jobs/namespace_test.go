package jobs

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A worker of one namespace never takes another namespace's tasks, and
// removing a namespace leaves every other key alone.
func TestNamespacesKeepTasksApart(t *testing.T) {
	ctx := context.Background()
	mine, other := testNamespace(t), testNamespace(t)
	qMine, qOther := NewQueue(reconcileRedis, mine), NewQueue(reconcileRedis, other)
	defer qMine.Close()
	defer qOther.Close()

	var took atomic.Int32
	srv := asynq.NewServer(reconcileRedis, asynq.Config{Concurrency: 1, Queues: mine.Queues(), LogLevel: asynq.FatalLevel})
	mux := asynq.NewServeMux()
	mux.HandleFunc(TypeSyncShop, func(context.Context, *asynq.Task) error { took.Add(1); return nil })
	require.NoError(t, srv.Start(mux))

	require.NoError(t, qOther.EnqueueSync(ctx, "b.myshopify.com"))
	require.NoError(t, qMine.EnqueueSync(ctx, "a.myshopify.com"))
	require.Eventually(t, func() bool { return took.Load() == 1 }, 10*time.Second, 20*time.Millisecond)
	time.Sleep(300 * time.Millisecond)
	srv.Shutdown()
	assert.EqualValues(t, 1, took.Load(), "only its own namespace's task")

	insp := asynq.NewInspector(reconcileRedis)
	defer insp.Close()
	info, err := insp.GetTaskInfo(other.QueueName(QueueDefault), syncTaskID("b.myshopify.com"))
	require.NoError(t, err, "the other namespace's task is still there")
	assert.Equal(t, asynq.TaskStatePending, info.State)

	rc := redis.NewClient(&redis.Options{Addr: reconcileRedis.Addr, DB: reconcileRedis.DB})
	defer rc.Close()
	require.NoError(t, mine.Remove(ctx, rc))
	n, err := rc.Keys(ctx, "asynq:{"+mine.QueueName(QueueDefault)+"}*").Result()
	require.NoError(t, err)
	assert.Empty(t, n)
	_, err = insp.GetTaskInfo(other.QueueName(QueueDefault), syncTaskID("b.myshopify.com"))
	assert.NoError(t, err, "removing one namespace keeps the other's tasks")
}

func TestNamespaceQueueNames(t *testing.T) {
	assert.Equal(t, map[string]int{"webhooks": 6, "default": 3}, Namespace("").Queues())
	assert.Equal(t, map[string]int{"x:webhooks": 6, "x:default": 3}, Namespace("x").Queues())
	rc := redis.NewClient(&redis.Options{Addr: reconcileRedis.Addr, DB: reconcileRedis.DB})
	defer rc.Close()
	assert.Error(t, Namespace("a*").Remove(context.Background(), rc), "a glob could match other queues")
}
