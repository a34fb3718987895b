package simulator

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/vektah/gqlparser/v2/ast"
)

// Phase 3: the write-back mutations an app uses to push results into a
// shop (tagsAdd, tagsRemove, metafieldsSet, metafieldDefinitionCreate,
// segmentCreate, segmentUpdate), staged uploads and bulk mutation
// operations, plus what tests need around them: a log of every GraphQL
// call with its cost, and injected faults.

// maxInputArray is Shopify's limit on the items of one input array
// ("Input arrays hold at most 250 items").
const maxInputArray = 250

// writeState is what the write-back mutations keep beside the store. Its
// zero value is ready to use.
type writeState struct {
	mu    sync.Mutex
	shops map[string]*shopWrites
	// staged uploads by key (the stagedUploadPath), across shops.
	staged map[string]*stagedUpload
}

// shopWrites is one shop's write-back state.
type shopWrites struct {
	// Guarded by shopState.mu: the GraphQL executor holds it while
	// mutations run, and bulk mutations take it per chunk of lines.
	metafields  map[int64]map[string]*metafieldRec // customer id → namespace + "." + key
	definitions []*metafieldDefinitionRec
	segments    []*segmentRec
	nextID      int64

	// Guarded by writeState.mu.
	calls        []CallRecord
	faults       []int        // statuses of the next requests to fail, in order
	failLines    map[int]bool // lines of the next bulk mutation to fail with userErrors
	mutationOps  map[int64]bool
	tagWebhooks  bool
	pendingHooks []webhookEvent
}

func (ws *writeState) shop(domain string) *shopWrites {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	return ws.shopLocked(domain)
}

func (ws *writeState) shopLocked(domain string) *shopWrites {
	if ws.shops == nil {
		ws.shops = map[string]*shopWrites{}
	}
	sw, ok := ws.shops[domain]
	if !ok {
		sw = &shopWrites{metafields: map[int64]map[string]*metafieldRec{}, nextID: 1, mutationOps: map[int64]bool{}}
		ws.shops[domain] = sw
	}
	return sw
}

// nextGID hands out ids for metafields, definitions and segments. Callers
// hold shopState.mu.
func (sw *shopWrites) next() int64 {
	id := sw.nextID
	sw.nextID++
	return id
}

// ---- call log ----------------------------------------------------------------

// CallRecord is one GraphQL request as the simulator answered it.
type CallRecord struct {
	// Operation names the request's top-level fields, comma-separated in
	// document order, e.g. "tagsAdd" or "tagsRemove,tagsAdd".
	Operation string
	// Fields counts the top-level fields (aliases included).
	Fields   int
	Mutation bool
	// Status is the HTTP status of the answer.
	Status        int
	RequestedCost int
	ActualCost    int
	// Throttled: the request was refused with THROTTLED and not run.
	Throttled bool
	// Injected: the answer was an injected fault; the request was not run.
	Injected bool
}

// Executed reports whether the request ran: answered 200, not throttled,
// not an injected fault.
func (c CallRecord) Executed() bool { return c.Status == http.StatusOK && !c.Throttled && !c.Injected }

// maxCallLog bounds the log per shop; older records are dropped.
const maxCallLog = 100_000

// CallLog lists the shop's GraphQL requests so far, oldest first.
func (s *Simulator) CallLog(shop string) []CallRecord {
	sw := s.writes.shop(strings.ToLower(shop))
	s.writes.mu.Lock()
	defer s.writes.mu.Unlock()
	return slices.Clone(sw.calls)
}

// ResetCallLog forgets the shop's logged requests.
func (s *Simulator) ResetCallLog(shop string) {
	sw := s.writes.shop(strings.ToLower(shop))
	s.writes.mu.Lock()
	defer s.writes.mu.Unlock()
	sw.calls = nil
}

// FailNextRequests makes the shop's next n GraphQL requests fail with the
// HTTP status (a 5xx such as 502 or 503) before they run.
func (s *Simulator) FailNextRequests(shop string, n, status int) {
	sw := s.writes.shop(strings.ToLower(shop))
	s.writes.mu.Lock()
	defer s.writes.mu.Unlock()
	for range n {
		sw.faults = append(sw.faults, status)
	}
}

// FailNextBulkMutationLines makes the given lines (0-based, as in
// __lineNumber) of the shop's next bulk mutation operation answer with a
// userError instead of running. A retry of those variables in a later
// operation succeeds.
func (s *Simulator) FailNextBulkMutationLines(shop string, lines ...int) {
	sw := s.writes.shop(strings.ToLower(shop))
	s.writes.mu.Lock()
	defer s.writes.mu.Unlock()
	sw.failLines = map[int]bool{}
	for _, l := range lines {
		sw.failLines[l] = true
	}
}

// NotifyTagChanges turns on customers/update webhooks for tag changes made
// through tagsAdd and tagsRemove, as Shopify sends them. They are off by
// default so that tests and benchmarks writing many tags stay fast;
// deliveries run in the background after the request that caused them.
func (s *Simulator) NotifyTagChanges(shop string, on bool) {
	sw := s.writes.shop(strings.ToLower(shop))
	s.writes.mu.Lock()
	defer s.writes.mu.Unlock()
	sw.tagWebhooks = on
}

func (ws *writeState) takeFault(shop string) (int, bool) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	sw := ws.shopLocked(shop)
	if len(sw.faults) == 0 {
		return 0, false
	}
	status := sw.faults[0]
	sw.faults = sw.faults[1:]
	return status, true
}

func (ws *writeState) record(shop string, rec CallRecord) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	sw := ws.shopLocked(shop)
	if len(sw.calls) >= maxCallLog {
		sw.calls = slices.Delete(sw.calls, 0, len(sw.calls)-maxCallLog+1)
	}
	sw.calls = append(sw.calls, rec)
}

// queueHook keeps a webhook caused by a mutation until the request that
// made it has released the shop's lock. Callers hold shopState.mu.
func (ws *writeState) queueHook(shop string, e webhookEvent) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	sw := ws.shopLocked(shop)
	if sw.tagWebhooks {
		sw.pendingHooks = append(sw.pendingHooks, e)
	}
}

func (ws *writeState) hooksEnabled(shop string) bool {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	return ws.shopLocked(shop).tagWebhooks
}

// flushHooks delivers queued webhooks in the background, one event each
// (every tag change is its own action on Shopify).
func (s *Simulator) flushHooks(shop string) {
	s.writes.mu.Lock()
	sw := s.writes.shopLocked(shop)
	events := sw.pendingHooks
	sw.pendingHooks = nil
	s.writes.mu.Unlock()
	if len(events) == 0 {
		return
	}
	s.bulk.mu.Lock()
	closed := s.bulk.closed
	if !closed {
		s.bulk.wg.Add(1)
	}
	s.bulk.mu.Unlock()
	if closed {
		return
	}
	go func() {
		defer s.bulk.wg.Done()
		for _, e := range events {
			ctx, cancel := context.WithTimeout(context.Background(), s.webhookTimeout)
			s.emit(ctx, shop, []webhookEvent{e})
			cancel()
		}
	}()
}

// serveGraphQLLogged wraps serveGraphQL with fault injection and the call
// log.
func (s *Simulator) serveGraphQLLogged(w http.ResponseWriter, r *http.Request, sh *shopState, version string) {
	if r.Method != http.MethodPost {
		s.serveGraphQL(w, r, sh, version)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 10<<20))
	if err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	rec := callShape(r.Header.Get("Content-Type"), body)
	if status, ok := s.writes.takeFault(sh.domain); ok {
		rec.Status, rec.Injected = status, true
		s.writes.record(sh.domain, rec)
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, `{"errors":"Internal Server Error"}`)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	cw := &captureWriter{ResponseWriter: w, status: http.StatusOK}
	s.serveGraphQL(cw, r, sh, version)
	rec.Status = cw.status
	var env struct {
		Errors     json.RawMessage `json:"errors"`
		Extensions struct {
			Cost struct {
				Requested int  `json:"requestedQueryCost"`
				Actual    *int `json:"actualQueryCost"`
			} `json:"cost"`
		} `json:"extensions"`
	}
	if json.Unmarshal(cw.body.Bytes(), &env) == nil {
		rec.RequestedCost = env.Extensions.Cost.Requested
		if a := env.Extensions.Cost.Actual; a != nil {
			rec.ActualCost = *a
		}
		rec.Throttled = bytes.Contains(env.Errors, []byte(`"THROTTLED"`))
	}
	s.writes.record(sh.domain, rec)
	s.flushHooks(sh.domain)
}

// callShape names a request's top-level fields for the call log.
func callShape(contentType string, body []byte) CallRecord {
	req, err := parseGraphQLRequest(contentType, body)
	if err != nil {
		return CallRecord{}
	}
	_, op, perr := parseDocument(req.Query, req.OperationName)
	if perr != nil {
		return CallRecord{}
	}
	var names []string
	for _, sel := range op.SelectionSet {
		if f, ok := sel.(*ast.Field); ok {
			names = append(names, f.Name)
		}
	}
	rec := CallRecord{Fields: len(names), Mutation: op.Operation == ast.Mutation}
	seen := map[string]bool{}
	var distinct []string
	for _, n := range names {
		if !seen[n] {
			seen[n] = true
			distinct = append(distinct, n)
		}
	}
	rec.Operation = strings.Join(distinct, ",")
	return rec
}

// captureWriter keeps a copy of the answer for the call log.
type captureWriter struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (c *captureWriter) WriteHeader(status int) {
	c.status = status
	c.ResponseWriter.WriteHeader(status)
}

func (c *captureWriter) Write(b []byte) (int, error) {
	c.body.Write(b)
	return c.ResponseWriter.Write(b)
}
