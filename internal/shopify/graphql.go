package shopify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"regexp"
	"strconv"
	"time"
)

// This client is ours, not go-shopify's GraphQL.Query: see the package doc.

const (
	maxGraphQLResponseBytes = 64 << 20
	defaultMaxRetries       = 4
	defaultMaxThrottleWaits = 10
	defaultBaseBackoff      = 500 * time.Millisecond
	defaultMaxBackoff       = 15 * time.Second
	maxRetryAfter           = time.Minute
	// minThrottleWait keeps a throttled retry from spinning when Shopify's
	// figures already show enough points (they are a snapshot).
	minThrottleWait = 50 * time.Millisecond
	// maxRememberedQueries bounds the per-query cost memory.
	maxRememberedQueries = 256
)

var apiVersionPattern = regexp.MustCompile(`^(\d{4}-\d{2}|unstable)$`)

// ThrottleStatus is the shop's bucket as Shopify last reported it.
type ThrottleStatus struct {
	MaximumAvailable   float64 `json:"maximumAvailable"`
	CurrentlyAvailable float64 `json:"currentlyAvailable"`
	RestoreRate        float64 `json:"restoreRate"`
}

// Cost is a response's extensions.cost. ActualQueryCost is 0 when Shopify
// sends null (throttled requests are not run).
type Cost struct {
	RequestedQueryCost float64        `json:"requestedQueryCost"`
	ActualQueryCost    float64        `json:"actualQueryCost"`
	ThrottleStatus     ThrottleStatus `json:"throttleStatus"`
}

// AdminClient talks to one shop's GraphQL Admin API with one access token.
//
// It is NOT safe for concurrent use and must not be shared: create one per
// shop and goroutine (they are cheap). It keeps its own view of the shop's
// cost bucket, learned from every response, and uses it to wait before a
// query whose expected cost (the requested cost the same query text had last
// time) exceeds the points it estimates are available. Several clients for
// one shop each pace themselves; THROTTLED answers cover the rest.
type AdminClient struct {
	shop     string
	endpoint string
	token    string
	hc       *http.Client

	now    func() time.Time
	sleep  func(context.Context, time.Duration) error
	jitter func() float64

	maxRetries       int
	maxThrottleWaits int
	baseBackoff      time.Duration
	maxBackoff       time.Duration

	bucket   bucketView
	expected map[string]float64
}

// bucketView is the last throttle status and when it was observed.
type bucketView struct {
	known                bool
	available, max, rate float64
	observedAt           time.Time
}

// availableAt extrapolates the leaky bucket: points refill at rate per
// second up to max.
func (b bucketView) availableAt(t time.Time) float64 {
	elapsed := t.Sub(b.observedAt).Seconds()
	if elapsed < 0 {
		elapsed = 0
	}
	return math.Min(b.max, b.available+b.rate*elapsed)
}

// AdminOption adjusts an AdminClient.
type AdminOption func(*AdminClient)

// WithClock replaces the clock and the context-aware sleep, so tests can
// observe waits without spending wall time. sleep must return ctx.Err() if
// the context ends first.
func WithClock(now func() time.Time, sleep func(context.Context, time.Duration) error) AdminOption {
	return func(c *AdminClient) {
		c.now = now
		c.sleep = sleep
	}
}

// WithJitter replaces the random source for backoff jitter; f returns a
// value in [0, 1).
func WithJitter(f func() float64) AdminOption {
	return func(c *AdminClient) { c.jitter = f }
}

// WithRetries sets how often 5xx answers and network errors are retried
// (default 4) and how many THROTTLED answers are waited out (default 10).
func WithRetries(maxRetries, maxThrottleWaits int) AdminOption {
	return func(c *AdminClient) {
		c.maxRetries = maxRetries
		c.maxThrottleWaits = maxThrottleWaits
	}
}

// NewAdminClient builds a client for https://{shop}/admin/api/{apiVersion}/graphql.json.
// httpClient should come from NewHTTPClient so SHOPIFY_ADMIN_ORIGIN applies.
func NewAdminClient(shop, accessToken, apiVersion string, httpClient *http.Client, opts ...AdminOption) (*AdminClient, error) {
	shop, err := NormalizeShop(shop)
	if err != nil {
		return nil, fmt.Errorf("admin client: %w", err)
	}
	if accessToken == "" {
		return nil, fmt.Errorf("admin client for %s: empty access token", shop)
	}
	if !apiVersionPattern.MatchString(apiVersion) {
		return nil, fmt.Errorf("admin client for %s: invalid api version %q", shop, apiVersion)
	}
	if httpClient == nil {
		httpClient = http.DefaultClient
	}
	c := &AdminClient{
		shop:             shop,
		endpoint:         "https://" + shop + "/admin/api/" + apiVersion + "/graphql.json",
		token:            accessToken,
		hc:               httpClient,
		now:              time.Now,
		sleep:            Sleep,
		jitter:           rand.Float64,
		maxRetries:       defaultMaxRetries,
		maxThrottleWaits: defaultMaxThrottleWaits,
		baseBackoff:      defaultBaseBackoff,
		maxBackoff:       defaultMaxBackoff,
		expected:         make(map[string]float64),
	}
	for _, opt := range opts {
		opt(c)
	}
	return c, nil
}

// Shop is the shop this client talks to.
func (c *AdminClient) Shop() string { return c.shop }

// sendOnceKey marks a context whose requests are never sent twice.
type sendOnceKey struct{}

// SendOnce marks ctx so that Do never retries a request after a 5xx answer
// or a network error, which may come after Shopify ran it: it returns
// ErrOutcomeUnknown instead, for the caller to find out. THROTTLED answers
// are still waited out, as Shopify ran nothing. It is for mutations that
// must not run twice: a bulk operation run twice runs its file twice.
func SendOnce(ctx context.Context) context.Context {
	return context.WithValue(ctx, sendOnceKey{}, true)
}

func sendsOnce(ctx context.Context) bool {
	once, _ := ctx.Value(sendOnceKey{}).(bool)
	return once
}

// Do runs one GraphQL query or mutation and decodes "data" into out (a
// pointer, or nil to discard). It returns the cost of the last response.
//
// It waits as needed to stay within the cost bucket, waits out THROTTLED
// answers for exactly the missing points, and retries 5xx answers and
// network errors with capped exponential backoff and jitter; every wait ends
// early if ctx does. Retried requests may run twice on Shopify's side, which
// is harmless for the idempotent mutations this app sends (tagsAdd,
// tagsRemove, metafieldsSet); a ctx marked with SendOnce turns those
// retries off.
//
// Errors: *HTTPError for other non-200 statuses (errors.Is ErrUnauthorized
// etc.), GraphQLErrors (wrapped; use errors.As) for top-level GraphQL errors
// (data, if any, is still decoded into out). Mutation userErrors are not errors here: check them
// with UserErrors.Err.
func (c *AdminClient) Do(ctx context.Context, query string, vars any, out any) (Cost, error) {
	body, err := json.Marshal(graphQLRequest{Query: query, Variables: vars})
	if err != nil {
		return Cost{}, fmt.Errorf("graphql for %s: encode request: %w", c.shop, err)
	}

	var (
		retries, throttleWaits int
		skipPacing             bool
		lastErr                error
		cost                   Cost
	)
	for {
		if !skipPacing {
			if err := c.pace(ctx, query); err != nil {
				return cost, fmt.Errorf("graphql for %s: pacing: %w", c.shop, err)
			}
		}
		skipPacing = false

		res, err := c.send(ctx, body)
		if err != nil {
			if ctx.Err() != nil {
				return cost, fmt.Errorf("graphql for %s: %w", c.shop, ctx.Err())
			}
			lastErr = fmt.Errorf("graphql for %s: %w", c.shop, err)
			if sendsOnce(ctx) {
				return cost, fmt.Errorf("%w: %w", ErrOutcomeUnknown, lastErr)
			}
			if retries >= c.maxRetries {
				return cost, lastErr
			}
			if err := c.sleep(ctx, c.backoff(retries)); err != nil {
				return cost, fmt.Errorf("graphql for %s: %w (after: %v)", c.shop, err, lastErr)
			}
			retries++
			continue
		}
		if res.cost != nil {
			cost = *res.cost
			c.observe(query, cost)
		}

		switch {
		case res.throttled():
			throttleWaits++
			if throttleWaits > c.maxThrottleWaits {
				return cost, fmt.Errorf("graphql for %s: gave up after %d throttled attempts: %w",
					c.shop, throttleWaits, ErrThrottled)
			}
			if err := c.sleep(ctx, c.throttleWait(res, throttleWaits-1)); err != nil {
				return cost, fmt.Errorf("graphql for %s: waiting out throttle: %w", c.shop, err)
			}
			// The wait above was computed from this very response; pacing
			// again from the same snapshot would wait twice.
			skipPacing = true
			continue

		case res.status >= 500:
			lastErr = &HTTPError{Shop: c.shop, Status: res.status, Message: res.message}
			if sendsOnce(ctx) {
				return cost, fmt.Errorf("graphql: %w: %w", ErrOutcomeUnknown, lastErr)
			}
			if retries >= c.maxRetries {
				return cost, fmt.Errorf("graphql: %w (after %d retries)", lastErr, retries)
			}
			wait := c.backoff(retries)
			if res.retryAfter > 0 {
				wait = res.retryAfter
			}
			if err := c.sleep(ctx, wait); err != nil {
				return cost, fmt.Errorf("graphql for %s: %w (after: %v)", c.shop, err, lastErr)
			}
			retries++
			continue

		case res.status != http.StatusOK:
			return cost, &HTTPError{Shop: c.shop, Status: res.status, Message: res.message}
		}

		if out != nil && len(res.data) > 0 && !bytes.Equal(res.data, []byte("null")) {
			if err := json.Unmarshal(res.data, out); err != nil {
				return cost, fmt.Errorf("graphql for %s: decode data: %w", c.shop, err)
			}
		}
		if len(res.errors) > 0 {
			return cost, fmt.Errorf("graphql for %s: %w", c.shop, res.errors)
		}
		return cost, nil
	}
}

type graphQLRequest struct {
	Query     string `json:"query"`
	Variables any    `json:"variables,omitempty"`
}

type graphQLEnvelope struct {
	Data       json.RawMessage `json:"data"`
	Errors     json.RawMessage `json:"errors"`
	Extensions struct {
		Cost *Cost `json:"cost"`
	} `json:"extensions"`
}

// response is one HTTP exchange, reduced to what Do decides on.
type response struct {
	status     int
	data       json.RawMessage
	errors     GraphQLErrors
	message    string // error text of non-200 answers
	cost       *Cost
	retryAfter time.Duration
}

func (r *response) throttled() bool {
	return r.status == http.StatusTooManyRequests ||
		(r.status == http.StatusOK && r.errors.HasCode("THROTTLED"))
}

func (c *AdminClient) send(ctx context.Context, body []byte) (*response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-Shopify-Access-Token", c.token)

	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxGraphQLResponseBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read response: %w", err)
	}
	if len(raw) > maxGraphQLResponseBytes {
		return nil, fmt.Errorf("response larger than %d bytes", maxGraphQLResponseBytes)
	}

	res := &response{status: resp.StatusCode, retryAfter: parseRetryAfter(resp.Header.Get("Retry-After"))}
	var env graphQLEnvelope
	if err := json.Unmarshal(raw, &env); err != nil {
		if res.status == http.StatusOK {
			// A 200 that is not JSON is a broken proxy or server: treat it
			// like a 5xx so it is retried.
			res.status = http.StatusBadGateway
			res.message = "response is not JSON"
		}
		return res, nil
	}
	res.data = env.Data
	res.cost = env.Extensions.Cost
	res.errors, res.message = parseErrors(env.Errors)
	return res, nil
}

// parseErrors reads "errors", which is a list of GraphQL errors on 200
// answers but a plain string (or an object) on some 4xx answers.
func parseErrors(raw json.RawMessage) (GraphQLErrors, string) {
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, ""
	}
	var list GraphQLErrors
	if json.Unmarshal(raw, &list) == nil {
		msg := ""
		if len(list) > 0 {
			msg = bounded(list[0].Message)
		}
		return list, msg
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return nil, bounded(s)
	}
	return nil, bounded(string(raw))
}

// observe records Shopify's view of the bucket and the query's requested cost.
func (c *AdminClient) observe(query string, cost Cost) {
	ts := cost.ThrottleStatus
	if ts.MaximumAvailable > 0 && ts.RestoreRate > 0 {
		c.bucket = bucketView{
			known:      true,
			available:  ts.CurrentlyAvailable,
			max:        ts.MaximumAvailable,
			rate:       ts.RestoreRate,
			observedAt: c.now(),
		}
	}
	if cost.RequestedQueryCost > 0 {
		if _, seen := c.expected[query]; !seen && len(c.expected) >= maxRememberedQueries {
			clear(c.expected)
		}
		c.expected[query] = cost.RequestedQueryCost
	}
}

// pace waits until the bucket should hold the query's expected cost. A query
// never seen before, or a bucket never observed, goes straight out.
func (c *AdminClient) pace(ctx context.Context, query string) error {
	need, ok := c.expected[query]
	if !ok || !c.bucket.known {
		return nil
	}
	// A query can never need more than the bucket holds; waiting for more
	// would never end (Shopify rejects it with MAX_COST_EXCEEDED instead).
	need = math.Min(need, c.bucket.max)
	deficit := need - c.bucket.availableAt(c.now())
	if deficit <= 0 {
		return nil
	}
	return c.sleep(ctx, pointsToDuration(deficit, c.bucket.rate))
}

// throttleWait is how long a THROTTLED answer asks us to wait: the missing
// points divided by the restore rate, from the cost in that very answer.
// Without cost data (a bare 429) Retry-After or backoff is used instead.
func (c *AdminClient) throttleWait(res *response, attempt int) time.Duration {
	if res.cost != nil && res.cost.ThrottleStatus.RestoreRate > 0 {
		ts := res.cost.ThrottleStatus
		need := math.Min(res.cost.RequestedQueryCost, ts.MaximumAvailable)
		wait := pointsToDuration(need-ts.CurrentlyAvailable, ts.RestoreRate)
		return max(wait, minThrottleWait)
	}
	if res.retryAfter > 0 {
		return res.retryAfter
	}
	return c.backoff(attempt)
}

// backoff is capped exponential backoff with "equal jitter": half the step
// is fixed, half random, so retries spread out but never bunch at zero.
func (c *AdminClient) backoff(attempt int) time.Duration {
	step := c.baseBackoff << min(attempt, 20)
	if step <= 0 || step > c.maxBackoff {
		step = c.maxBackoff
	}
	return step/2 + time.Duration(c.jitter()*float64(step/2))
}

func pointsToDuration(points, rate float64) time.Duration {
	if points <= 0 || rate <= 0 {
		return 0
	}
	// Round up to the millisecond so the bucket has refilled when we wake.
	d := time.Duration(math.Ceil(points / rate * float64(time.Second/time.Millisecond)))
	return d * time.Millisecond
}

func parseRetryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	secs, err := strconv.ParseFloat(v, 64)
	if err != nil || secs <= 0 || math.IsNaN(secs) {
		return 0
	}
	d := time.Duration(secs * float64(time.Second))
	return min(d, maxRetryAfter)
}
