// Package jobstest gives each test a job namespace of its own on the shared
// Redis, so a worker a test starts can never take another test's tasks (or a
// developer's), and removes what the test created when it ends.
package jobstest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"regexp"
	"testing"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/jobs"
)

// RedisURL is the Redis the tests use; TEST_REDIS_URL overrides it.
func RedisURL() string {
	if u := os.Getenv("TEST_REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/0"
}

// RedisOpt is RedisURL for asynq.
func RedisOpt(t testing.TB) asynq.RedisClientOpt {
	t.Helper()
	opt, err := redis.ParseURL(RedisURL())
	require.NoError(t, err, "TEST_REDIS_URL")
	return asynq.RedisClientOpt{Addr: opt.Addr, DB: opt.DB, Username: opt.Username, Password: opt.Password}
}

var unsafe = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// Namespace returns a namespace no other test or process uses, removed with
// every key under it when the test ends. Call it before starting workers,
// so that they stop before it is removed.
func Namespace(t testing.TB) jobs.Namespace {
	t.Helper()
	var b [6]byte
	_, err := rand.Read(b[:])
	require.NoError(t, err)
	name := unsafe.ReplaceAllString(t.Name(), "_")
	if len(name) > 40 {
		name = name[:40]
	}
	ns := jobs.Namespace("test-" + name + "-" + hex.EncodeToString(b[:]))
	opt := RedisOpt(t)
	t.Cleanup(func() {
		rc := redis.NewClient(&redis.Options{Addr: opt.Addr, DB: opt.DB, Username: opt.Username, Password: opt.Password})
		defer rc.Close()
		if err := ns.Remove(context.Background(), rc); err != nil {
			t.Errorf("clean up: %v", err)
		}
	})
	return ns
}
