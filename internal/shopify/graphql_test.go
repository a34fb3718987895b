package shopify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeClock is a clock whose sleeps advance it instantly and are recorded,
// so tests see exactly how long the client decided to wait.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	slept []time.Duration
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.slept = append(c.slept, d)
	c.now = c.now.Add(d)
	return nil
}

func (c *fakeClock) Slept() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.slept...)
}

// scripted is a fake GraphQL endpoint answering from a list of responses,
// repeating the last one; it records each request and the fake time it
// arrived at.
type scripted struct {
	mu        sync.Mutex
	clock     *fakeClock
	responses []func(w http.ResponseWriter)
	requests  []gqlSeen
}

type gqlSeen struct {
	Host, Path, Token string
	At                time.Time
	Query             string
	Variables         map[string]any
}

func (s *scripted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	var body struct {
		Query     string         `json:"query"`
		Variables map[string]any `json:"variables"`
	}
	_ = json.NewDecoder(r.Body).Decode(&body)
	s.requests = append(s.requests, gqlSeen{
		Host: r.Host, Path: r.URL.Path, Token: r.Header.Get("X-Shopify-Access-Token"),
		At: s.clock.Now(), Query: body.Query, Variables: body.Variables,
	})
	i := min(len(s.requests)-1, len(s.responses)-1)
	respond := s.responses[i]
	s.mu.Unlock()
	respond(w)
}

func (s *scripted) seen() []gqlSeen {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]gqlSeen(nil), s.requests...)
}

func reply(status int, body string, headers ...string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

func costJSON(requested, actual, available, max, rate float64) string {
	return fmt.Sprintf(`{"cost":{"requestedQueryCost":%g,"actualQueryCost":%g,"throttleStatus":{"maximumAvailable":%g,"currentlyAvailable":%g,"restoreRate":%g}}}`,
		requested, actual, max, available, rate)
}

func okReply(data string, requested, available float64) func(w http.ResponseWriter) {
	return reply(200, `{"data":`+data+`,"extensions":`+costJSON(requested, requested, available, 1000, 100)+`}`)
}

func throttledReply(requested, available, rate float64) func(w http.ResponseWriter) {
	return reply(200, `{"errors":[{"message":"Throttled","extensions":{"code":"THROTTLED","documentation":"https://shopify.dev/api/usage/rate-limits"}}],`+
		`"extensions":{"cost":{"requestedQueryCost":`+fmt.Sprint(requested)+`,"actualQueryCost":null,"throttleStatus":{"maximumAvailable":1000.0,"currentlyAvailable":`+fmt.Sprint(available)+`,"restoreRate":`+fmt.Sprint(rate)+`}}}}`)
}

func newTestAdmin(t *testing.T, responses ...func(w http.ResponseWriter)) (*AdminClient, *scripted, *fakeClock) {
	return newTestAdminWith(t, nil, responses...)
}

func newTestAdminWith(t *testing.T, opts []AdminOption, responses ...func(w http.ResponseWriter)) (*AdminClient, *scripted, *fakeClock) {
	t.Helper()
	clock := &fakeClock{now: testNow}
	fake := &scripted{clock: clock, responses: responses}
	hc, err := NewHTTPClient(httptestServer(t, fake), 5*time.Second)
	require.NoError(t, err)
	opts = append([]AdminOption{WithClock(clock.Now, clock.Sleep), WithJitter(func() float64 { return 0.5 })}, opts...)
	c, err := NewAdminClient(testShop, "shpat_secret_token", "2026-10", hc, opts...)
	require.NoError(t, err)
	return c, fake, clock
}

const shopQuery = `query { shop { name } }`

type shopData struct {
	Shop struct {
		Name string `json:"name"`
	} `json:"shop"`
}

func TestAdminClientDo(t *testing.T) {
	c, fake, clock := newTestAdmin(t, okReply(`{"shop":{"name":"Example"}}`, 1, 999))
	var out shopData
	cost, err := c.Do(context.Background(), shopQuery, map[string]any{"first": 10}, &out)
	require.NoError(t, err)
	assert.Equal(t, "Example", out.Shop.Name)
	assert.Equal(t, Cost{RequestedQueryCost: 1, ActualQueryCost: 1,
		ThrottleStatus: ThrottleStatus{MaximumAvailable: 1000, CurrentlyAvailable: 999, RestoreRate: 100}}, cost)

	got := fake.seen()
	require.Len(t, got, 1)
	assert.Equal(t, testShop, got[0].Host)
	assert.Equal(t, "/admin/api/2026-10/graphql.json", got[0].Path)
	assert.Equal(t, "shpat_secret_token", got[0].Token)
	assert.Equal(t, shopQuery, got[0].Query)
	assert.Equal(t, map[string]any{"first": float64(10)}, got[0].Variables)
	assert.Empty(t, clock.Slept())
}

func TestAdminClientWaitsOutThrottle(t *testing.T) {
	// requested 200, 50 available, restoring 100/s: 1.5 s missing.
	c, fake, clock := newTestAdmin(t,
		throttledReply(200, 50, 100),
		okReply(`{"shop":{"name":"Example"}}`, 200, 0),
	)
	start := time.Now()
	var out shopData
	cost, err := c.Do(context.Background(), shopQuery, nil, &out)
	require.NoError(t, err)
	assert.Equal(t, "Example", out.Shop.Name)
	assert.Equal(t, float64(200), cost.RequestedQueryCost)

	assert.Equal(t, []time.Duration{1500 * time.Millisecond}, clock.Slept(), "waited (requested - available) / restoreRate")
	got := fake.seen()
	require.Len(t, got, 2)
	assert.Equal(t, testNow.Add(1500*time.Millisecond), got[1].At, "the retry went out after the wait")
	assert.Less(t, time.Since(start), time.Second, "the wait was on the injected clock, not wall time")
}

func TestAdminClientThrottleBare429(t *testing.T) {
	c, _, clock := newTestAdmin(t,
		reply(429, ``, "Retry-After", "2"),
		okReply(`{"shop":{"name":"x"}}`, 1, 999),
	)
	_, err := c.Do(context.Background(), shopQuery, nil, nil)
	require.NoError(t, err)
	assert.Equal(t, []time.Duration{2 * time.Second}, clock.Slept())
}

func TestAdminClientGivesUpWhenAlwaysThrottled(t *testing.T) {
	c, fake, _ := newTestAdminWith(t, []AdminOption{WithRetries(0, 3)}, throttledReply(100, 0, 100))
	_, err := c.Do(context.Background(), shopQuery, nil, nil)
	require.ErrorIs(t, err, ErrThrottled)
	assert.Len(t, fake.seen(), 4)

	c, fake, _ = newTestAdminWith(t, []AdminOption{WithRetries(1, 0)}, reply(500, ``))
	_, err = c.Do(context.Background(), shopQuery, nil, nil)
	require.ErrorIs(t, err, ErrServerError)
	assert.Len(t, fake.seen(), 2)
}

func TestAdminClientPacesBeforeSending(t *testing.T) {
	// Each answer reports the bucket after the query: 300 requested, 100
	// left, restoring 50/s.
	answer := reply(200, `{"data":{"shop":{"name":"x"}},"extensions":`+costJSON(300, 280, 100, 1000, 50)+`}`)
	c, fake, clock := newTestAdmin(t, answer)
	ctx := context.Background()

	_, err := c.Do(ctx, shopQuery, nil, nil)
	require.NoError(t, err)
	assert.Empty(t, clock.Slept(), "an unknown query is not delayed")

	// Same query at once: it needs 300 and 100 are there: (300-100)/50 = 4 s.
	_, err = c.Do(ctx, shopQuery, nil, nil)
	require.NoError(t, err)
	assert.Equal(t, []time.Duration{4 * time.Second}, clock.Slept())
	got := fake.seen()
	assert.Equal(t, testNow.Add(4*time.Second), got[1].At)

	// After 3 s of refill 250 are there: wait the last second only.
	clock.Advance(3 * time.Second)
	_, err = c.Do(ctx, shopQuery, nil, nil)
	require.NoError(t, err)
	assert.Equal(t, []time.Duration{4 * time.Second, time.Second}, clock.Slept())

	// After a long pause the bucket is full again: no wait.
	clock.Advance(time.Minute)
	_, err = c.Do(ctx, shopQuery, nil, nil)
	require.NoError(t, err)
	assert.Len(t, clock.Slept(), 2)

	// A different query has no known cost and goes straight out.
	_, err = c.Do(ctx, `query { other }`, nil, nil)
	require.NoError(t, err)
	assert.Len(t, clock.Slept(), 2)
}

func TestAdminClientPacingNeverWaitsForMoreThanTheBucket(t *testing.T) {
	// A query whose requested cost exceeds the bucket would wait forever if
	// taken literally; the client waits for a full bucket at most.
	answer := reply(200, `{"data":{},"extensions":`+costJSON(5000, 10, 0, 1000, 100)+`}`)
	c, _, clock := newTestAdmin(t, answer)
	_, err := c.Do(context.Background(), shopQuery, nil, nil)
	require.NoError(t, err)
	_, err = c.Do(context.Background(), shopQuery, nil, nil)
	require.NoError(t, err)
	assert.Equal(t, []time.Duration{10 * time.Second}, clock.Slept())
}

func TestAdminClientRetries5xx(t *testing.T) {
	c, fake, clock := newTestAdmin(t,
		reply(503, `{"errors":"unavailable"}`),
		reply(500, `<html>oops</html>`),
		reply(200, `not json`), // a broken proxy answer is retried like a 5xx
		okReply(`{"shop":{"name":"x"}}`, 1, 999),
	)
	var out shopData
	_, err := c.Do(context.Background(), shopQuery, nil, &out)
	require.NoError(t, err)
	assert.Equal(t, "x", out.Shop.Name)
	assert.Len(t, fake.seen(), 4)
	// Equal jitter with jitter 0.5: 3/4 of 0.5 s, 1 s, 2 s.
	assert.Equal(t, []time.Duration{375 * time.Millisecond, 750 * time.Millisecond, 1500 * time.Millisecond}, clock.Slept())
}

func TestAdminClientHonoursRetryAfterOn503(t *testing.T) {
	c, _, clock := newTestAdmin(t,
		reply(503, ``, "Retry-After", "7"),
		okReply(`{}`, 1, 999),
	)
	_, err := c.Do(context.Background(), shopQuery, nil, nil)
	require.NoError(t, err)
	assert.Equal(t, []time.Duration{7 * time.Second}, clock.Slept())
}

func TestAdminClient5xxExhausted(t *testing.T) {
	c, fake, clock := newTestAdmin(t, reply(502, `{"errors":"bad gateway"}`))
	_, err := c.Do(context.Background(), shopQuery, nil, nil)
	require.ErrorIs(t, err, ErrServerError)
	var he *HTTPError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, 502, he.Status)
	assert.Len(t, fake.seen(), defaultMaxRetries+1)
	slept := clock.Slept()
	require.Len(t, slept, defaultMaxRetries)
	for i := 1; i < len(slept); i++ {
		assert.GreaterOrEqual(t, slept[i], slept[i-1], "backoff grows")
		assert.LessOrEqual(t, slept[i], defaultMaxBackoff)
	}
}

func TestAdminClientRetriesNetworkErrors(t *testing.T) {
	var calls int
	var mu sync.Mutex
	srv := httptestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		if n == 1 {
			// Drop the connection without an answer.
			conn, _, err := w.(http.Hijacker).Hijack()
			require.NoError(t, err)
			conn.Close()
			return
		}
		okReply(`{"shop":{"name":"x"}}`, 1, 999)(w)
	}))
	clock := &fakeClock{now: testNow}
	hc, err := NewHTTPClient(srv, 5*time.Second)
	require.NoError(t, err)
	c, err := NewAdminClient(testShop, "t", "2026-10", hc, WithClock(clock.Now, clock.Sleep), WithJitter(func() float64 { return 0 }))
	require.NoError(t, err)
	var out shopData
	_, err = c.Do(context.Background(), shopQuery, nil, &out)
	require.NoError(t, err)
	assert.Equal(t, "x", out.Shop.Name)
	assert.Equal(t, 2, calls)
	assert.Equal(t, []time.Duration{250 * time.Millisecond}, clock.Slept())
}

func TestAdminClientWaitEndsWithContext(t *testing.T) {
	fake := &scripted{clock: &fakeClock{now: testNow}, responses: []func(http.ResponseWriter){throttledReply(1000, 0, 1)}}
	hc, err := NewHTTPClient(httptestServer(t, fake), 5*time.Second)
	require.NoError(t, err)
	// Real sleeping here: the throttle asks for 1000 s, the context allows 20 ms.
	c, err := NewAdminClient(testShop, "t", "2026-10", hc)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = c.Do(ctx, shopQuery, nil, nil)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 5*time.Second)
	assert.Len(t, fake.seen(), 1)
}

func TestAdminClientErrors(t *testing.T) {
	tests := []struct {
		name     string
		response func(http.ResponseWriter)
		want     error
		requests int
	}{
		{
			name:     "401 invalid token",
			response: reply(401, `{"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"}`),
			want:     ErrUnauthorized,
			requests: 1,
		},
		{name: "402 frozen shop", response: reply(402, `{"errors":"Unavailable Shop"}`), want: ErrPaymentRequired, requests: 1},
		{name: "403 forbidden", response: reply(403, ``), want: ErrForbidden, requests: 1},
		{name: "404 unknown version", response: reply(404, `{"errors":"Not Found"}`), want: ErrNotFound, requests: 1},
		{name: "423 locked", response: reply(423, `{"errors":"locked"}`), want: ErrShopLocked, requests: 1},
		{
			name: "max cost exceeded is not retried",
			response: reply(200, `{"errors":[{"message":"Query cost is 1502, which exceeds the single query max cost limit (1000).","extensions":{"code":"MAX_COST_EXCEEDED","cost":1502,"maxCost":1000}}],`+
				`"extensions":`+costJSON(1502, 0, 1000, 1000, 100)+`}`),
			want:     ErrMaxCostExceeded,
			requests: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, fake, _ := newTestAdmin(t, tt.response)
			_, err := c.Do(context.Background(), shopQuery, nil, nil)
			require.ErrorIs(t, err, tt.want)
			assert.Len(t, fake.seen(), tt.requests)
			assert.NotContains(t, err.Error(), "shpat_secret_token")
			assert.Contains(t, err.Error(), testShop)
		})
	}
}

func TestAdminClientPartialDataWithErrors(t *testing.T) {
	c, _, _ := newTestAdmin(t, reply(200, `{"data":{"shop":{"name":"x"}},"errors":[{"message":"Access denied for unitCost field.","path":["orders","edges",0,"node","unitCost"],"extensions":{"code":"ACCESS_DENIED","requiredAccess":"read_inventory"}}],"extensions":`+costJSON(10, 10, 990, 1000, 100)+`}`))
	var out shopData
	cost, err := c.Do(context.Background(), shopQuery, nil, &out)
	require.ErrorIs(t, err, ErrAccessDenied)
	assert.NotErrorIs(t, err, ErrThrottled)
	assert.Equal(t, "x", out.Shop.Name, "data that did come back is decoded")
	assert.Equal(t, float64(10), cost.ActualQueryCost)

	var gqlErrs GraphQLErrors
	require.True(t, errors.As(err, &gqlErrs))
	require.Len(t, gqlErrs, 1)
	assert.Equal(t, "ACCESS_DENIED", gqlErrs[0].Code())
	assert.Equal(t, []any{"orders", "edges", float64(0), "node", "unitCost"}, gqlErrs[0].Path)
	assert.Contains(t, err.Error(), "ACCESS_DENIED: Access denied for unitCost field.")
}

func TestUserErrors(t *testing.T) {
	var payload struct {
		TagsAdd struct {
			UserErrors UserErrors `json:"userErrors"`
		} `json:"tagsAdd"`
	}
	require.NoError(t, json.Unmarshal([]byte(`{"tagsAdd":{"node":null,"userErrors":[{"field":["id"],"message":"Customer does not exist","code":"INVALID"},{"field":null,"message":"Tags are too long"}]}}`), &payload))
	err := payload.TagsAdd.UserErrors.Err()
	require.Error(t, err)
	assert.Equal(t, "shopify user errors: id: Customer does not exist (INVALID); Tags are too long", err.Error())
	var ue UserErrors
	require.ErrorAs(t, fmt.Errorf("tag customer: %w", err), &ue)
	assert.Len(t, ue, 2)

	require.NoError(t, json.Unmarshal([]byte(`{"tagsAdd":{"userErrors":[]}}`), &payload))
	assert.NoError(t, payload.TagsAdd.UserErrors.Err())
	assert.NoError(t, UserErrors(nil).Err())
}

func TestNewAdminClientValidates(t *testing.T) {
	_, err := NewAdminClient("evil.com/x.myshopify.com", "t", "2026-10", nil)
	assert.ErrorIs(t, err, ErrInvalidShop)
	_, err = NewAdminClient(testShop, "", "2026-10", nil)
	assert.Error(t, err)
	for _, v := range []string{"", "latest", "2026-1", "../2026-10"} {
		_, err = NewAdminClient(testShop, "t", v, nil)
		assert.Error(t, err, v)
	}
	c, err := NewAdminClient("Example.MyShopify.com", "t", "unstable", nil)
	require.NoError(t, err)
	assert.Equal(t, testShop, c.Shop())
}

func TestBackoffBounds(t *testing.T) {
	c, _, _ := newTestAdmin(t, okReply(`{}`, 1, 1))
	for _, j := range []float64{0, 0.999} {
		c.jitter = func() float64 { return j }
		for attempt := 0; attempt < 64; attempt++ {
			d := c.backoff(attempt)
			assert.Greater(t, d, time.Duration(0))
			assert.LessOrEqual(t, d, defaultMaxBackoff)
		}
	}
}
