package simulator

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const runBulk = `mutation($q: String!) { bulkOperationRunQuery(query: $q) {
	bulkOperation { id status } userErrors { field message code } } }`

const bulkStatusQuery = `query($id: ID!) { bulkOperation(id: $id) {
	id status errorCode createdAt completedAt objectCount rootObjectCount fileSize url partialDataUrl query type } }`

// startBulk runs bulkOperationRunQuery and returns the operation id, or
// the user errors.
func (h *harness) startBulk(tok, query, version string) (string, []any) {
	h.t.Helper()
	raw, err := json.Marshal(map[string]any{"query": runBulk, "variables": map[string]any{"q": query}})
	require.NoError(h.t, err)
	resp := h.do(http.MethodPost, testShop, "/admin/api/"+version+"/graphql.json", strings.NewReader(string(raw)),
		map[string]string{"Content-Type": "application/json", "X-Shopify-Access-Token": tok})
	body := decodeBody(h.t, resp)
	require.Nil(h.t, body["errors"], body)
	errs, _ := path(body, "data", "bulkOperationRunQuery", "userErrors").([]any)
	if len(errs) > 0 {
		return "", errs
	}
	id, _ := path(body, "data", "bulkOperationRunQuery", "bulkOperation", "id").(string)
	require.NotEmpty(h.t, id, body)
	return id, nil
}

// waitBulk polls bulkOperation(id:) until it leaves CREATED/RUNNING/CANCELING.
func (h *harness) waitBulk(tok, id string) map[string]any {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, body := h.graphql(testShop, tok, bulkStatusQuery, map[string]any{"id": id})
		op, _ := path(body, "data", "bulkOperation").(map[string]any)
		require.NotNil(h.t, op, body)
		if !running(op["status"].(string)) {
			return op
		}
		require.True(h.t, time.Now().Before(deadline), "bulk operation still %s", op["status"])
		time.Sleep(5 * time.Millisecond)
	}
}

func (h *harness) download(url string) (int, string) {
	h.t.Helper()
	resp, err := http.Get(url)
	require.NoError(h.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(h.t, err)
	return resp.StatusCode, string(raw)
}

func (h *harness) waitHook(topic string) receivedHook {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		for _, hk := range h.receivedHooks() {
			if hk.header.Get("X-Shopify-Topic") == topic {
				return hk
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	h.t.Fatalf("no %s webhook arrived", topic)
	return receivedHook{}
}

func TestBulkQueryGolden(t *testing.T) {
	tests := []struct {
		name, golden, query string
		objects, roots      string
	}{
		{"orders with nested line items", "bulk_orders.jsonl", `{
			orders {
				edges { node {
					id name createdAt test
					totalPriceSet { shopMoney { amount currencyCode } }
					customer { id }
					lineItems { edges { node { id quantity variant { id } } } }
				} }
			}
		}`, "9", "4"},
		{"products and variants through nodes", "bulk_products.jsonl",
			`{ products { nodes { id title variants(first: 1) { nodes { id title } } } } }`, "4", "2"},
		{"customers without nested connections", "bulk_customers.jsonl",
			`{ customers { edges { node { id email tags numberOfOrders amountSpent { amount currencyCode } defaultAddress { city countryCodeV2 } } } } }`, "3", "3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			seedTiny(t, h.sim, testShop)
			tok := h.token(testShop)
			id, errs := h.startBulk(tok, tt.query, "2026-10")
			require.Empty(t, errs)
			op := h.waitBulk(tok, id)
			require.Equal(t, "COMPLETED", op["status"], op)
			assert.Equal(t, tt.objects, op["objectCount"])
			assert.Equal(t, tt.roots, op["rootObjectCount"])
			assert.Nil(t, op["errorCode"])
			assert.Nil(t, op["partialDataUrl"])
			assert.Equal(t, "QUERY", op["type"])
			assert.Equal(t, tt.query, op["query"])
			assert.NotNil(t, op["completedAt"])

			status, got := h.download(op["url"].(string))
			require.Equal(t, http.StatusOK, status)
			want, err := os.ReadFile(filepath.Join("testdata", tt.golden))
			require.NoError(t, err)
			assert.Equal(t, string(want), got)
			assert.Equal(t, fmt.Sprint(len(got)), op["fileSize"])
		})
	}
}

func TestBulkResultHasParentsBeforeChildren(t *testing.T) {
	h := newHarness(t)
	seedTiny(t, h.sim, testShop)
	tok := h.token(testShop)
	id, errs := h.startBulk(tok, `{ customers { edges { node { id orders { edges { node { id lineItems(first: 1) { edges { node { id } } } } } } } } } }`, "2026-10")
	require.NotEmpty(t, errs, "three levels of connections are refused")
	require.Empty(t, id)

	id, errs = h.startBulk(tok, `{ customers { edges { node { id orders { edges { node { id name } } } } } } }`, "2026-10")
	require.Empty(t, errs)
	op := h.waitBulk(tok, id)
	_, got := h.download(op["url"].(string))
	seen := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(got))
	lines := 0
	for sc.Scan() {
		var line map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &line))
		if parent, ok := line["__parentId"].(string); ok {
			assert.True(t, seen[parent], "parent %s must come first", parent)
			assert.Regexp(t, `^gid://shopify/Order/\d+$`, line["id"])
		}
		seen[line["id"].(string)] = true
		lines++
	}
	assert.Equal(t, 3+3, lines, "3 customers and the 3 orders that have customers")
}

func TestBulkQueryRules(t *testing.T) {
	h := newHarness(t)
	tok := h.token(testShop)
	tests := []struct {
		name, query, message string
	}{
		{"no connection", `{ shop { name } }`, "at least one connection"},
		{"two top-level fields", `{ customers { edges { node { id } } } products { edges { node { id } } } }`, "exactly one top-level field"},
		{"three levels", `{ customers { edges { node { id orders { edges { node { id lineItems { edges { node { id } } } } } } } } } }`, "nesting depth greater than 2"},
		{"six connections", `{ products { edges { node { id
			a: variants { edges { node { id } } } b: variants { edges { node { id } } } c: variants { edges { node { id } } }
			d: variants { edges { node { id } } } e: variants { edges { node { id } } } } } } }`, "more than 5 connections"},
		{"parent without id", `{ products { edges { node { title variants { edges { node { id } } } } } } }`, "Connection fields without 'id': products"},
		{"unknown field", `{ products { edges { node { id colour } } } }`, "Invalid bulk query: Field 'colour' doesn't exist on type 'Product'"},
		{"not a query", `mutation { bulkOperationCancel(id: "x") { userErrors { message } } }`, "must be query operations"},
		{"parse error", `{ products {`, "Invalid bulk query"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, errs := h.startBulk(tok, tt.query, "2026-10")
			assert.Empty(t, id)
			require.Len(t, errs, 1)
			mustContain(t, path(errs[0], "message").(string), tt.message)
			assert.Equal(t, []any{"query"}, path(errs[0], "field"))
			assert.Equal(t, "INVALID", path(errs[0], "code"))
		})
	}
}

func TestBulkMutationCost(t *testing.T) {
	h := newHarness(t)
	tok := h.token(testShop)
	_, body := h.graphql(testShop, tok, runBulk, map[string]any{"q": `{ products { edges { node { id } } } }`})
	requested, actual, _ := costOf(body)
	assert.Equal(t, 10.0, requested, "a mutation costs 10")
	assert.Equal(t, 10.0, actual)
}

func TestBulkConcurrencyLimit(t *testing.T) {
	const q = `{ products { edges { node { id } } } }`
	t.Run("five at once from 2026-01", func(t *testing.T) {
		h := newHarness(t)
		seedTiny(t, h.sim, testShop)
		tok := h.token(testShop)
		release := h.sim.HoldBulkOperations(testShop)
		var ids []string
		for range 5 {
			id, errs := h.startBulk(tok, q, "2026-01")
			require.Empty(t, errs)
			ids = append(ids, id)
		}
		_, body := h.graphql(testShop, tok, `{ currentBulkOperation { id status } }`, nil)
		assert.Equal(t, ids[4], path(body, "data", "currentBulkOperation", "id"))
		assert.Equal(t, "CREATED", path(body, "data", "currentBulkOperation", "status"))

		_, errs := h.startBulk(tok, q, "2026-01")
		require.Len(t, errs, 1)
		assert.Equal(t, "LIMIT_REACHED", path(errs[0], "code"))
		release()
		for _, id := range ids {
			assert.Equal(t, "COMPLETED", h.waitBulk(tok, id)["status"])
		}
		_, errs = h.startBulk(tok, q, "2026-01")
		assert.Empty(t, errs, "finished operations free their places")
	})
	t.Run("one at a time before 2026-01", func(t *testing.T) {
		h := newHarness(t)
		tok := h.token(testShop)
		release := h.sim.HoldBulkOperations(testShop)
		first, errs := h.startBulk(tok, q, "2025-10")
		require.Empty(t, errs)
		_, errs = h.startBulk(tok, q, "2025-10")
		require.Len(t, errs, 1)
		assert.Equal(t, "OPERATION_IN_PROGRESS", path(errs[0], "code"))
		mustContain(t, path(errs[0], "message").(string), first)
		release()
		op := h.waitBulk(tok, first)
		assert.Equal(t, "COMPLETED", op["status"])
		assert.Nil(t, op["url"], "an empty result has no file")
		assert.Equal(t, "0", op["objectCount"])
	})
}

func TestBulkFailureOffersPartialData(t *testing.T) {
	h := newHarness(t)
	seedTiny(t, h.sim, testShop)
	tok := h.token(testShop)
	h.sim.FailNextBulkOperation(testShop, 3, "TIMEOUT")
	id, errs := h.startBulk(tok, `{ orders { edges { node { id lineItems { edges { node { id } } } } } } }`, "2026-10")
	require.Empty(t, errs)
	op := h.waitBulk(tok, id)
	assert.Equal(t, "FAILED", op["status"])
	assert.Equal(t, "TIMEOUT", op["errorCode"])
	assert.Nil(t, op["url"])
	assert.Nil(t, op["completedAt"])
	assert.Equal(t, "3", op["objectCount"])
	status, partial := h.download(op["partialDataUrl"].(string))
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, 3, strings.Count(partial, "\n"))
	assert.True(t, strings.HasPrefix(partial, `{"id":"gid://shopify/Order/1"}`+"\n"), partial)

	hook := h.waitHook(TopicBulkOperationsFinish)
	var payload map[string]any
	require.NoError(t, json.Unmarshal(hook.body, &payload))
	assert.Equal(t, id, payload["admin_graphql_api_id"])
	assert.Equal(t, "failed", payload["status"])
	assert.Equal(t, "timeout", payload["error_code"])
	assert.Equal(t, "query", payload["type"])
	assert.Equal(t, "2026-10-01T13:00:00+01:00", payload["created_at"], "in the shop's time zone")

	// The next operation runs normally.
	id, _ = h.startBulk(tok, `{ orders { edges { node { id } } } }`, "2026-10")
	assert.Equal(t, "COMPLETED", h.waitBulk(tok, id)["status"])
}

func TestBulkFinishWebhookAndExpiry(t *testing.T) {
	h := newHarness(t)
	seedTiny(t, h.sim, testShop)
	tok := h.longToken(testShop)
	id, errs := h.startBulk(tok, `{ products { edges { node { id } } } }`, "2026-10")
	require.Empty(t, errs)
	op := h.waitBulk(tok, id)
	hook := h.waitHook(TopicBulkOperationsFinish)
	assert.Equal(t, "/webhooks", hook.path)
	var payload map[string]any
	require.NoError(t, json.Unmarshal(hook.body, &payload))
	assert.Equal(t, map[string]any{
		"admin_graphql_api_id": id, "completed_at": "2026-10-01T13:00:00+01:00", "created_at": "2026-10-01T13:00:00+01:00",
		"error_code": nil, "status": "completed", "type": "query",
	}, payload)

	url := op["url"].(string)
	h.clock.Advance(bulkResultTTL)
	status, _ := h.download(url)
	assert.Equal(t, http.StatusBadRequest, status, "the URL expires after seven days")
	op = h.waitBulk(tok, id)
	assert.Equal(t, "EXPIRED", op["status"])
	assert.Nil(t, op["url"])
}

func TestBulkCancel(t *testing.T) {
	h := newHarness(t)
	seedTiny(t, h.sim, testShop)
	tok := h.token(testShop)
	release := h.sim.HoldBulkOperations(testShop)
	defer release()
	id, errs := h.startBulk(tok, `{ products { edges { node { id } } } }`, "2026-10")
	require.Empty(t, errs)
	const cancel = `mutation($id: ID!) { bulkOperationCancel(id: $id) { bulkOperation { id status } userErrors { field message } } }`
	_, body := h.graphql(testShop, tok, cancel, map[string]any{"id": id})
	assert.Equal(t, "CANCELING", path(body, "data", "bulkOperationCancel", "bulkOperation", "status"))
	assert.Empty(t, path(body, "data", "bulkOperationCancel", "userErrors"))
	op := h.waitBulk(tok, id)
	assert.Equal(t, "CANCELED", op["status"])
	assert.Nil(t, op["url"])
	var payload map[string]any
	require.NoError(t, json.Unmarshal(h.waitHook(TopicBulkOperationsFinish).body, &payload))
	assert.Equal(t, "canceled", payload["status"])

	_, body = h.graphql(testShop, tok, cancel, map[string]any{"id": id})
	assert.Equal(t, "A bulk operation cannot be canceled when it is canceled", path(body, "data", "bulkOperationCancel", "userErrors", 0, "message"))
	_, body = h.graphql(testShop, tok, cancel, map[string]any{"id": "gid://shopify/BulkOperation/1"})
	assert.Equal(t, "Bulk operation does not exist", path(body, "data", "bulkOperationCancel", "userErrors", 0, "message"))
}

func TestBulkAccessDenied(t *testing.T) {
	h := newHarness(t)
	seedTiny(t, h.sim, testShop)
	tok := h.token(testShop)
	require.NoError(t, h.sim.SetScopes(testShop, []string{"read_products"}))
	id, errs := h.startBulk(tok, `{ customers { edges { node { id } } } }`, "2026-10")
	require.Empty(t, errs)
	op := h.waitBulk(tok, id)
	assert.Equal(t, "FAILED", op["status"])
	assert.Equal(t, "ACCESS_DENIED", op["errorCode"])
	assert.Nil(t, op["partialDataUrl"])

	id, _ = h.startBulk(tok, `{ products { edges { node { id variants { edges { node { id inventoryItem { unitCost { amount } } } } } } } } }`, "2026-10")
	op = h.waitBulk(tok, id)
	assert.Equal(t, "ACCESS_DENIED", op["errorCode"], "a nested field without its scope fails the operation too")
}

// BenchmarkBulkExport measures writing the JSONL of orders with line items.
func BenchmarkBulkExport(b *testing.B) {
	sim := New(Config{ClientID: testClientID, ClientSecret: testSecret, BulkDir: b.TempDir()})
	defer sim.Close()
	if err := sim.AddShop(testShop, ShopOptions{Installed: true}); err != nil {
		b.Fatal(err)
	}
	seedTiny(&testing.T{}, sim, testShop)
	const n = 100000
	batch := make([]Order, 0, 10000)
	for i := range n {
		batch = append(batch, Order{CustomerID: int64(i%3 + 1), CreatedAt: day("2025-01-01T00:00:00Z").Add(time.Duration(i) * time.Minute),
			Total: NewAmount(25), SourceName: "web", LineItems: []LineItem{{VariantID: 1, Quantity: 2, UnitPrice: NewAmount(12.5)}}})
		if len(batch) == cap(batch) {
			if err := sim.AddOrders(testShop, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	sh, _ := sim.shop(testShop)
	query := `{ orders { edges { node { id createdAt totalPriceSet { shopMoney { amount } } customer { id } lineItems { edges { node { quantity variant { id } } } } } } } }`
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ec := &execCtx{sim: sim, sh: sh, schema: adminSchema, scopes: DefaultScopes, version: "2026-10", now: sim.now()}
		p, err := ec.runBulkQuery(query)
		if err != nil || p.op == nil {
			b.Fatalf("start: %v %v", err, p.userErrors)
		}
		op := sim.bulk.find(testShop, p.op.id)
		<-op.done
		if op.status != "COMPLETED" {
			b.Fatalf("status %s", op.status)
		}
		b.ReportMetric(float64(op.objectCount), "objects/op")
	}
}

// TestBulkCachesDoNotGrowWithNodes guards memory on big exports: the
// executor's per-request caches must not gain an entry per exported node.
func TestBulkCachesDoNotGrowWithNodes(t *testing.T) {
	cacheSize := func(orders int) int {
		sim := New(Config{BulkDir: t.TempDir()})
		defer sim.Close()
		require.NoError(t, sim.AddShop(testShop, ShopOptions{}))
		seedTiny(t, sim, testShop)
		extra := make([]Order, orders)
		for i := range extra {
			extra[i] = Order{CustomerID: 1, LineItems: []LineItem{{VariantID: 1, Quantity: 1}, {VariantID: 2, Quantity: 1}}}
		}
		require.NoError(t, sim.AddOrders(testShop, extra))
		sh, _ := sim.shop(testShop)
		doc, op, perr := parseDocument(`{ orders { edges { node { id customer { id } lineItems { edges { node { id variant { id } } } } } } } }`, "")
		require.Nil(t, perr)
		var out strings.Builder
		w := bufio.NewWriter(&out)
		ec := &execCtx{sim: sim, sh: sh, schema: adminSchema, doc: doc, op: op, scopes: DefaultScopes, version: "2026-10",
			now: sim.now(), bulk: &bulkWalk{w: w, ctx: t.Context()}}
		require.NoError(t, ec.bulkExecute())
		require.NoError(t, w.Flush())
		require.Equal(t, 4+orders+5+2*orders, strings.Count(out.String(), "\n"))
		return len(ec.groupCache) + len(ec.nodeSelCache)
	}
	assert.Equal(t, cacheSize(10), cacheSize(200))
}

// TestBulkOperationsConnection lists the app's bulk operations as Shopify's
// bulkOperations query does: newest first, filtered by operation_type,
// status and created_at, paginated.
func TestBulkOperationsConnection(t *testing.T) {
	h := newHarness(t)
	seedTiny(t, h.sim, testShop)
	tok := h.token(testShop)
	var ids []string
	for range 3 {
		id, errs := h.startBulk(tok, `{ products { edges { node { id } } } }`, "2026-10")
		require.Empty(t, errs)
		h.waitBulk(tok, id)
		ids = append(ids, id)
	}
	const list = `query($q: String, $after: String, $reverse: Boolean) { bulkOperations(first: 2, after: $after, query: $q, reverse: $reverse) {
		nodes { id status type query } pageInfo { hasNextPage endCursor } } }`
	nodeIDs := func(body map[string]any) []any {
		var out []any
		nodes, _ := path(body, "data", "bulkOperations", "nodes").([]any)
		for _, n := range nodes {
			out = append(out, path(n, "id"))
		}
		return out
	}

	_, body := h.graphql(testShop, tok, list, map[string]any{"q": "operation_type:query status:completed"})
	require.Nil(t, body["errors"], body)
	assert.Equal(t, []any{ids[2], ids[1]}, nodeIDs(body), "newest first")
	assert.Equal(t, true, path(body, "data", "bulkOperations", "pageInfo", "hasNextPage"))
	assert.Equal(t, "QUERY", path(body, "data", "bulkOperations", "nodes", 0, "type"))
	assert.Contains(t, path(body, "data", "bulkOperations", "nodes", 0, "query"), "products")

	_, body = h.graphql(testShop, tok, list, map[string]any{"after": path(body, "data", "bulkOperations", "pageInfo", "endCursor")})
	assert.Equal(t, []any{ids[0]}, nodeIDs(body))
	assert.Equal(t, false, path(body, "data", "bulkOperations", "pageInfo", "hasNextPage"))

	_, body = h.graphql(testShop, tok, list, map[string]any{"reverse": true})
	assert.Equal(t, []any{ids[0], ids[1]}, nodeIDs(body), "reverse: oldest first")

	for _, q := range []string{"operation_type:mutation", "status:running", "created_at:>2999-01-01"} {
		_, body = h.graphql(testShop, tok, list, map[string]any{"q": q})
		assert.Empty(t, nodeIDs(body), q)
	}
	_, body = h.graphql(testShop, tok, list, map[string]any{"q": "created_at:>=2000-01-01"})
	assert.Len(t, nodeIDs(body), 2)
}
