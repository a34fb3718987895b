package simulator

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
)

// Supported API versions, oldest first. A request for an unsupported
// version falls forward to the oldest supported one, as Shopify documents.
var supportedVersions = []string{
	"2025-10", "2026-01", "2026-04", "2026-07", "2026-10",
}

const latestStableVersion = "2026-10"

func resolveVersion(requested string) string {
	if requested == "unstable" || slices.Contains(supportedVersions, requested) {
		return requested
	}
	return supportedVersions[0]
}

// versionAtLeast compares API versions; "unstable" is newer than all.
func versionAtLeast(v, min string) bool {
	if v == "unstable" {
		return true
	}
	return v >= min
}

const invalidTokenBody = `{"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"}`

// bucket is the leaky bucket of cost points for one app on one shop.
type bucket struct {
	available float64
	last      time.Time
}

type throttleStatus struct {
	max, available, rate float64
}

func (sh *shopState) bucketTake(client string, cost int, now time.Time) (bool, throttleStatus) {
	sh.bucketMu.Lock()
	defer sh.bucketMu.Unlock()
	max, rate := sh.opts.Plan.bucketSize(), sh.opts.Plan.restoreRate()
	b, ok := sh.buckets[client]
	if !ok {
		b = &bucket{available: max, last: now}
		sh.buckets[client] = b
	}
	if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
		b.available = math.Min(max, b.available+elapsed*rate)
	}
	b.last = now
	if b.available < float64(cost) {
		return false, throttleStatus{max: max, available: b.available, rate: rate}
	}
	b.available -= float64(cost)
	return true, throttleStatus{max: max, available: b.available, rate: rate}
}

func (sh *shopState) bucketRefund(client string, points int) throttleStatus {
	sh.bucketMu.Lock()
	defer sh.bucketMu.Unlock()
	max, rate := sh.opts.Plan.bucketSize(), sh.opts.Plan.restoreRate()
	b := sh.buckets[client]
	b.available = math.Min(max, b.available+float64(points))
	return throttleStatus{max: max, available: b.available, rate: rate}
}

func costExtension(requested int, actual any, ts throttleStatus) *jsonObject {
	status := &jsonObject{}
	status.set("maximumAvailable", floatLiteral(strconv.FormatFloat(ts.max, 'f', 1, 64)))
	status.set("currentlyAvailable", int64(math.Floor(ts.available)))
	status.set("restoreRate", floatLiteral(strconv.FormatFloat(ts.rate, 'f', 1, 64)))
	cost := &jsonObject{}
	cost.set("requestedQueryCost", requested)
	cost.set("actualQueryCost", actual)
	cost.set("throttleStatus", status)
	e := &jsonObject{}
	e.set("cost", cost)
	return e
}

type graphqlBody struct {
	Query         string         `json:"query"`
	Variables     map[string]any `json:"variables"`
	OperationName string         `json:"operationName"`
}

// parseGraphQLRequest reads a POST body as Shopify accepts it: JSON with
// query/variables/operationName, or a bare application/graphql document.
func parseGraphQLRequest(contentType string, body []byte) (graphqlBody, error) {
	ct, _, _ := mime.ParseMediaType(contentType)
	if ct == "application/graphql" {
		return graphqlBody{Query: string(body)}, nil
	}
	var req graphqlBody
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&req); err != nil {
		return graphqlBody{}, err
	}
	return req, nil
}

func (s *Simulator) serveGraphQL(w http.ResponseWriter, r *http.Request, sh *shopState, requestedVersion string) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	now := s.now()
	token := r.Header.Get("X-Shopify-Access-Token")
	at, ok := s.tokens.validAccess(token, sh.domain, now)
	if !ok || !sh.isInstalled() {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, invalidTokenBody)
		return
	}
	_ = at
	version := resolveVersion(requestedVersion)
	w.Header().Set("X-Shopify-API-Version", version)
	w.Header().Set("X-Request-Id", uuidV4())
	body, err := io.ReadAll(io.LimitReader(r.Body, 10<<20))
	if err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	req, err := parseGraphQLRequest(r.Header.Get("Content-Type"), body)
	if err != nil {
		// Shopify answers an unparsable JSON body with 400 and a plain error.
		writeJSON(w, http.StatusBadRequest, map[string]any{"errors": "Bad Request"})
		return
	}
	resp := s.runGraphQL(sh, s.cfg.ClientID, version, baseURL(r, s.cfg.PublicURL), req, now)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(appendJSON(nil, resp))
}

func (sh *shopState) isInstalled() bool {
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	return sh.installed
}

func baseURL(r *http.Request, public string) string {
	if public != "" {
		return public
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// runGraphQL validates, costs, throttles and executes one request and
// returns the response body.
func (s *Simulator) runGraphQL(sh *shopState, client, version, base string, req graphqlBody, now time.Time) *jsonObject {
	ec := &execCtx{
		sim: s, sh: sh, schema: adminSchema, scopes: sh.grantedScopes(), version: version, now: now, baseURL: base,
	}
	errorsOnly := func(requested int) *jsonObject {
		_, ts := sh.bucketTake(client, 0, now)
		out := &jsonObject{}
		out.set("errors", errorList(ec.errors))
		out.set("extensions", costExtension(requested, 0, ts))
		return out
	}
	doc, op, perr := parseDocument(req.Query, req.OperationName)
	if perr != nil {
		ec.errors = append(ec.errors, *perr)
		return errorsOnly(0)
	}
	ec.doc, ec.op = doc, op
	root := adminSchema.query
	ec.rootPath = "query"
	switch op.Operation {
	case ast.Mutation:
		root = adminSchema.mutation
		ec.rootPath = "mutation"
	case ast.Subscription:
		ec.fail("Schema is not configured for subscriptions", op.Position, nil, nil)
		return errorsOnly(0)
	}
	if op.Name != "" {
		ec.rootPath += " " + op.Name
	}
	ec.prepareVariables(req.Variables)
	if len(ec.errors) > 0 {
		return errorsOnly(0)
	}
	requested := ec.analyze(root, op.SelectionSet, []any{ec.rootPath})
	if len(ec.errors) > 0 {
		return errorsOnly(requested)
	}
	if requested > maxQueryCost {
		out := &jsonObject{}
		out.set("errors", []any{gqlError{
			message: "Query cost is " + strconv.Itoa(requested) + ", which exceeds the single query max cost limit (" + strconv.Itoa(maxQueryCost) + ").\n\n" +
				"See https://shopify.dev/concepts/about-apis/rate-limits for more information on how the\ncost of a query is calculated.\n\n" +
				"To query larger amounts of data with fewer limits, bulk operations should be used instead.\nSee https://shopify.dev/api/usage/bulk-operations/queries for usage details.\n",
			extensions: ext("code", "MAX_COST_EXCEEDED", "cost", requested, "maxCost", maxQueryCost, "documentation", "https://shopify.dev/api/usage/rate-limits"),
		}.toJSON()})
		return out
	}
	ok, ts := sh.bucketTake(client, requested, now)
	if !ok {
		out := &jsonObject{}
		out.set("errors", []any{gqlError{
			message:    "Throttled",
			extensions: ext("code", "THROTTLED", "documentation", "https://shopify.dev/api/usage/rate-limits"),
		}.toJSON()})
		out.set("extensions", costExtension(requested, nil, ts))
		return out
	}
	var data *jsonObject
	if op.Operation == ast.Mutation {
		sh.mu.Lock()
		data = ec.execSelection(root, sh, op.SelectionSet, nil)
		sh.mu.Unlock()
	} else {
		sh.mu.RLock()
		data = ec.execSelection(root, sh, op.SelectionSet, nil)
		sh.mu.RUnlock()
	}
	actual := min(ec.cost, requested)
	ts = sh.bucketRefund(client, requested-actual)
	out := &jsonObject{}
	if len(ec.errors) > 0 {
		out.set("errors", errorList(ec.errors))
	}
	out.set("data", data)
	out.set("extensions", costExtension(requested, actual, ts))
	return out
}

func errorList(errs []gqlError) []any {
	out := make([]any, len(errs))
	for i, e := range errs {
		out[i] = e.toJSON()
	}
	return out
}
