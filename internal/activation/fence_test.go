package activation_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/activation"
	"github.com/cvo-app/cvo/internal/postgres"
)

// endWritebackLockSession ends, as a PostgreSQL restart or a cut
// connection would, the session holding the shop's write-back lock (the
// test's database is its own, so the one advisory lock of that namespace
// in it is the write-back's).
func (e *env) endWritebackLockSession() {
	e.t.Helper()
	ctx := context.Background()
	var ended bool
	require.NoError(e.t, e.db.Pool.QueryRow(ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks
		WHERE locktype = 'advisory' AND classid = 7284 AND granted
		AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&ended))
	require.True(e.t, ended)
}

// TestWriteBackWhoseLockDiedStopsBeforeSending: the session holding a
// bulk write-back's lock dies right after its first batch is stored, and
// another worker's write-back to another group takes the shop, drops the
// batch (never started) and moves every customer. The first write-back,
// still alive, must stop with ErrLockLost before staging or running
// anything: every customer ends with exactly the second write-back's group
// tag, as recorded, and Shopify ran only the second's operations.
func TestWriteBackWhoseLockDiedStopsBeforeSending(t *testing.T) {
	t.Parallel()
	const n = 30
	e := newEnv(t, func(c *activation.Config) { c.BulkThreshold = 5 })
	ids := e.addCustomers(n, "m")
	e.apply(tagsOnly(), scores(ids, all("soulmates")))
	require.Len(t, e.sim.BulkMutations(testShop), 1)

	var second activation.Report
	taken := false
	activation.SetAfterStep(e.w, func(step string) error {
		if step != activation.StepBatchStored || taken {
			return nil
		}
		taken = true
		e.endWritebackLockSession()
		other := activation.New(e.cfg)
		var err error
		// The lock is free once the server has ended the session.
		require.Eventually(t, func() bool {
			second, err = other.Apply(context.Background(), testShop, tagsOnly(), compact(scores(ids, all("lovers"))))
			return !errors.Is(err, activation.ErrBusy)
		}, 10*time.Second, 10*time.Millisecond)
		require.NoError(t, err)
		return nil
	})
	_, err := e.w.Apply(context.Background(), testShop, tagsOnly(), compact(scores(ids, all("ex-lovers"))))
	require.True(t, taken)
	require.ErrorIs(t, err, postgres.ErrLockLost)
	assert.Zero(t, second.Failed)

	e.carry(ids, "cvo-lovers", "m")
	ops := e.sim.BulkMutations(testShop)[1:]
	assert.Len(t, ops, 2, "the second write-back's remove and add, nothing of the first's")
	for _, op := range ops {
		assert.Equal(t, int64(n), op.Lines)
	}
	batches, err := e.store.BulkBatches(context.Background(), testShop)
	require.NoError(t, err)
	assert.Empty(t, batches)
}

// answerLost forwards requests, but the first n bulkOperationRunMutation
// requests lose their answer after Shopify ran them: the caller gets a
// 502, as from a proxy whose upstream connection broke.
type answerLost struct {
	base http.RoundTripper
	mu   sync.Mutex
	left int
}

func (a *answerLost) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body == nil {
		return a.base.RoundTrip(req)
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	req.Body.Close()
	req.Body = io.NopCloser(bytes.NewReader(body))
	a.mu.Lock()
	lose := a.left > 0 && bytes.Contains(body, []byte("bulkOperationRunMutation"))
	if lose {
		a.left--
	}
	a.mu.Unlock()
	resp, err := a.base.RoundTrip(req)
	if err != nil || !lose {
		return resp, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return &http.Response{StatusCode: http.StatusBadGateway, Status: "502 Bad Gateway", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(strings.NewReader(`{"errors":"Bad Gateway"}`)), Request: req}, nil
}

// TestLostRunAnswerRunsTheFileOnce: Shopify starts each bulk mutation of a
// write-back but the answer is lost (502). The writer finds the operation
// by its marker instead of sending the mutation again: exactly one
// operation per batch at Shopify, every line run once, tags exact.
func TestLostRunAnswerRunsTheFileOnce(t *testing.T) {
	t.Parallel()
	const n = 30
	var lossy *answerLost
	e := newEnv(t, func(c *activation.Config) {
		c.BulkThreshold = 5
		base := c.HTTPClient.Transport
		if base == nil {
			base = http.DefaultTransport
		}
		lossy = &answerLost{base: base}
		hc := *c.HTTPClient
		hc.Transport = lossy
		c.HTTPClient = &hc
	})
	ids := e.addCustomers(n, "m")
	lossy.mu.Lock()
	lossy.left = 3 // more than the one operation, so every answer is lost
	lossy.mu.Unlock()
	rep := e.apply(tagsOnly(), scores(ids, all("lovers")))
	assert.Zero(t, rep.Failed)
	lossy.mu.Lock()
	assert.Equal(t, 2, lossy.left, "the one run mutation was sent once")
	lossy.mu.Unlock()

	ops := e.sim.BulkMutations(testShop)
	require.Len(t, ops, 1, "one operation at Shopify")
	assert.Equal(t, int64(n), ops[0].Lines)
	assert.Equal(t, "COMPLETED", ops[0].Status)
	e.carry(ids, "cvo-lovers", "m")
}
