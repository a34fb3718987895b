package simulator

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	tagsAddMutation    = `mutation($id: ID!, $tags: [String!]!) { tagsAdd(id: $id, tags: $tags) { node { id } userErrors { field message } } }`
	tagsRemoveMutation = `mutation($id: ID!, $tags: [String!]!) { tagsRemove(id: $id, tags: $tags) { userErrors { field message } } }`
)

func (h *harness) addCustomers(tags ...[]string) []int64 {
	h.t.Helper()
	cs := make([]Customer, len(tags))
	for i, t := range tags {
		cs[i] = Customer{Email: fmt.Sprintf("c%d@example.com", i), Tags: t}
	}
	require.NoError(h.t, h.sim.AddCustomers(testShop, cs))
	ids := make([]int64, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	return ids
}

func customerGID(id int64) string { return fmt.Sprintf("gid://shopify/Customer/%d", id) }

func (h *harness) tagsOf(id int64) []string {
	h.t.Helper()
	c, ok := h.sim.GetCustomer(testShop, id)
	require.True(h.t, ok)
	return c.Tags
}

func TestTagsAddAndRemoveKeepOtherTags(t *testing.T) {
	h := newHarness(t)
	tok := h.longToken(testShop)
	ids := h.addCustomers([]string{"VIP", "wholesale"})

	status, body := h.graphql(testShop, tok, tagsAddMutation, map[string]any{
		"id": customerGID(ids[0]), "tags": []string{" cvo-soulmates ", "vip", "a, b"},
	})
	require.Equal(t, http.StatusOK, status)
	assert.Empty(t, path(body, "data", "tagsAdd", "userErrors"))
	assert.Equal(t, customerGID(ids[0]), path(body, "data", "tagsAdd", "node", "id"))
	// "vip" is already there as "VIP": tags are case-insensitive.
	assert.Equal(t, []string{"VIP", "wholesale", "cvo-soulmates", "a", "b"}, h.tagsOf(ids[0]))

	// A single comma-separated string works too.
	status, body = h.graphql(testShop, tok, tagsRemoveMutation, map[string]any{"id": customerGID(ids[0]), "tags": "CVO-SOULMATES, a"})
	require.Equal(t, http.StatusOK, status)
	assert.Empty(t, path(body, "data", "tagsRemove", "userErrors"))
	assert.Equal(t, []string{"VIP", "wholesale", "b"}, h.tagsOf(ids[0]))

	requested, actual, _ := costOf(body)
	assert.EqualValues(t, 10, requested)
	assert.EqualValues(t, 10, actual)
}

func TestTagsUserErrorsAndLimits(t *testing.T) {
	h := newHarness(t)
	tok := h.longToken(testShop)
	ids := h.addCustomers(nil)

	tests := []struct {
		name    string
		vars    map[string]any
		field   string
		message string
	}{
		{"unknown customer", map[string]any{"id": customerGID(999999), "tags": []string{"x"}}, "id", "Customer does not exist"},
		{"blank tags", map[string]any{"id": customerGID(ids[0]), "tags": []string{" ", ","}}, "tags", "Tags can't be blank"},
		{"tag too long", map[string]any{"id": customerGID(ids[0]), "tags": []string{strings.Repeat("x", 256)}}, "tags", "Tags is too long (maximum is 255 characters)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, body := h.graphql(testShop, tok, tagsAddMutation, tc.vars)
			errs := path(body, "data", "tagsAdd", "userErrors").([]any)
			require.Len(t, errs, 1)
			assert.Equal(t, []any{tc.field}, path(errs[0], "field"))
			assert.Equal(t, tc.message, path(errs[0], "message"))
		})
	}

	t.Run("input array over 250", func(t *testing.T) {
		tags := make([]string, 251)
		for i := range tags {
			tags[i] = fmt.Sprintf("t%d", i)
		}
		_, body := h.graphql(testShop, tok, tagsAddMutation, map[string]any{"id": customerGID(ids[0]), "tags": tags})
		assert.Equal(t, "MAX_INPUT_SIZE_EXCEEDED", path(body, "errors", 0, "extensions", "code"))
		assert.Empty(t, h.tagsOf(ids[0]))
	})

	t.Run("customer tag limit", func(t *testing.T) {
		for round := range 2 {
			tags := make([]string, 200)
			for i := range tags {
				tags[i] = fmt.Sprintf("r%d-%d", round, i)
			}
			_, body := h.graphql(testShop, tok, tagsAddMutation, map[string]any{"id": customerGID(ids[0]), "tags": tags})
			errs := path(body, "data", "tagsAdd", "userErrors").([]any)
			if round == 0 {
				assert.Empty(t, errs)
			} else {
				require.Len(t, errs, 1)
				assert.Equal(t, "Tags cannot be more than 250", path(errs[0], "message"))
			}
		}
		assert.Len(t, h.tagsOf(ids[0]), 200)
	})

	t.Run("needs write_customers", func(t *testing.T) {
		require.NoError(t, h.sim.SetScopes(testShop, []string{"read_customers"}))
		defer func() { require.NoError(t, h.sim.SetScopes(testShop, DefaultScopes)) }()
		_, body := h.graphql(testShop, tok, tagsAddMutation, map[string]any{"id": customerGID(ids[0]), "tags": []string{"x"}})
		assert.Equal(t, "ACCESS_DENIED", path(body, "errors", 0, "extensions", "code"))
	})
}

func TestCallLogCountsCostAndInjectedFaults(t *testing.T) {
	h := newHarness(t)
	tok := h.longToken(testShop)
	ids := h.addCustomers(nil)
	h.sim.ResetCallLog(testShop)

	h.sim.FailNextRequests(testShop, 2, http.StatusServiceUnavailable)
	for range 2 {
		status, _ := h.graphql(testShop, tok, tagsAddMutation, map[string]any{"id": customerGID(ids[0]), "tags": []string{"x"}})
		assert.Equal(t, http.StatusServiceUnavailable, status)
	}
	assert.Empty(t, h.tagsOf(ids[0]), "a faulted request must not run")
	multi := `mutation($id: ID!) { a: tagsAdd(id: $id, tags: ["x"]) { userErrors { message } } r: tagsRemove(id: $id, tags: ["y"]) { userErrors { message } } }`
	status, _ := h.graphql(testShop, tok, multi, map[string]any{"id": customerGID(ids[0])})
	require.Equal(t, http.StatusOK, status)

	log := h.sim.CallLog(testShop)
	require.Len(t, log, 3)
	assert.True(t, log[0].Injected)
	assert.False(t, log[0].Executed())
	assert.Equal(t, "tagsAdd", log[0].Operation)
	assert.Equal(t, CallRecord{Operation: "tagsAdd,tagsRemove", Fields: 2, Mutation: true, Status: 200, RequestedCost: 20, ActualCost: 20}, log[2])
	assert.True(t, log[2].Executed())
}

func TestThrottledCallsAreLogged(t *testing.T) {
	h := newHarness(t)
	tok := h.longToken(testShop)
	ids := h.addCustomers(nil)
	h.sim.ResetCallLog(testShop)
	// 2,000 points in the bucket; each request asks 10 × 50 = 500.
	var aliases []string
	for i := range 50 {
		aliases = append(aliases, fmt.Sprintf(`m%d: tagsAdd(id: $id, tags: ["t%d"]) { userErrors { message } }`, i, i))
	}
	q := "mutation($id: ID!) {" + strings.Join(aliases, " ") + "}"
	for range 5 {
		h.graphql(testShop, tok, q, map[string]any{"id": customerGID(ids[0])})
	}
	log := h.sim.CallLog(testShop)
	require.Len(t, log, 5)
	for i, rec := range log {
		assert.Equal(t, 500, rec.RequestedCost)
		assert.Equal(t, i == 4, rec.Throttled, "request %d", i)
	}
}

func TestMetafieldsSet(t *testing.T) {
	h := newHarness(t)
	tok := h.longToken(testShop)
	ids := h.addCustomers(nil, nil)
	const set = `mutation($m: [MetafieldsSetInput!]!) { metafieldsSet(metafields: $m) { metafields { namespace key value type } userErrors { field message code elementIndex } } }`
	mf := func(id int64, key, typ, value string) map[string]any {
		return map[string]any{"ownerId": customerGID(id), "namespace": "$app:cvo", "key": key, "type": typ, "value": value}
	}

	_, body := h.graphql(testShop, tok, set, map[string]any{"m": []any{
		mf(ids[0], "group", "single_line_text_field", "soulmates"),
		mf(ids[0], "r_score", "number_integer", "5"),
		mf(ids[1], "predicted_clv", "number_decimal", "123.45"),
		mf(ids[1], "next_order_date", "date", "2026-12-01"),
	}})
	require.Empty(t, path(body, "data", "metafieldsSet", "userErrors"), "%v", body)
	ns := h.sim.AppNamespace("cvo")
	assert.Equal(t, ns, path(body, "data", "metafieldsSet", "metafields", 0, "namespace"))
	assert.Regexp(t, `^app--\d+--cvo$`, ns)
	got := h.sim.CustomerMetafields(testShop, ids[0])
	require.Len(t, got, 2)
	assert.Equal(t, "group", got[0].Key)
	assert.Equal(t, "soulmates", got[0].Value)

	// One bad value and nothing of the call is written.
	_, body = h.graphql(testShop, tok, set, map[string]any{"m": []any{
		mf(ids[0], "group", "single_line_text_field", "ex-lovers"),
		mf(ids[0], "r_score", "number_integer", "five"),
	}})
	errs := path(body, "data", "metafieldsSet", "userErrors").([]any)
	require.Len(t, errs, 1)
	assert.Equal(t, "INVALID_VALUE", path(errs[0], "code"))
	assert.EqualValues(t, 1, path(errs[0], "elementIndex"))
	assert.Equal(t, []any{"metafields", "1", "value"}, path(errs[0], "field"))
	assert.Equal(t, "soulmates", h.sim.CustomerMetafields(testShop, ids[0])[0].Value)

	// At most 25 per call.
	var many []any
	for i := range 26 {
		many = append(many, mf(ids[0], fmt.Sprintf("k%d", i), "number_integer", "1"))
	}
	_, body = h.graphql(testShop, tok, set, map[string]any{"m": many})
	assert.Equal(t, "LESS_THAN_OR_EQUAL_TO", path(body, "data", "metafieldsSet", "userErrors", 0, "code"))

	// Keys are 2 to 64 characters.
	_, body = h.graphql(testShop, tok, set, map[string]any{"m": []any{mf(ids[0], "r", "number_integer", "1")}})
	assert.Equal(t, []any{"metafields", "0", "key"}, path(body, "data", "metafieldsSet", "userErrors", 0, "field"))

	// Read back through the customer.
	_, body = h.graphql(testShop, tok, `query($id: ID!) { customer(id: $id) { metafield(namespace: "$app:cvo", key: "group") { value } } }`,
		map[string]any{"id": customerGID(ids[0])})
	assert.Equal(t, "soulmates", path(body, "data", "customer", "metafield", "value"))
}

func TestMetafieldsDelete(t *testing.T) {
	h := newHarness(t)
	tok := h.longToken(testShop)
	ids := h.addCustomers(nil, nil)
	const set = `mutation($m: [MetafieldsSetInput!]!) { metafieldsSet(metafields: $m) { userErrors { code } } }`
	const del = `mutation($m: [MetafieldIdentifierInput!]!) { metafieldsDelete(metafields: $m) { deletedMetafields { ownerId namespace key } userErrors { field message code } } }`
	id := func(owner int64, key string) map[string]any {
		return map[string]any{"ownerId": customerGID(owner), "namespace": "$app:cvo", "key": key}
	}
	_, body := h.graphql(testShop, tok, set, map[string]any{"m": []any{
		map[string]any{"ownerId": customerGID(ids[0]), "namespace": "$app:cvo", "key": "survey_url_nps", "type": "url", "value": "https://app.example/s/x"},
		map[string]any{"ownerId": customerGID(ids[0]), "namespace": "$app:cvo", "key": "group", "type": "single_line_text_field", "value": "lovers"},
	}})
	require.Empty(t, path(body, "data", "metafieldsSet", "userErrors"), "%v", body)

	// The existing one goes, the missing one is null and no error.
	_, body = h.graphql(testShop, tok, del, map[string]any{"m": []any{id(ids[0], "survey_url_nps"), id(ids[1], "survey_url_nps")}})
	require.Empty(t, path(body, "data", "metafieldsDelete", "userErrors"), "%v", body)
	assert.Equal(t, "survey_url_nps", path(body, "data", "metafieldsDelete", "deletedMetafields", 0, "key"))
	assert.Equal(t, h.sim.AppNamespace("cvo"), path(body, "data", "metafieldsDelete", "deletedMetafields", 0, "namespace"))
	assert.Nil(t, path(body, "data", "metafieldsDelete", "deletedMetafields", 1))
	got := h.sim.CustomerMetafields(testShop, ids[0])
	require.Len(t, got, 1, "only the named metafield goes")
	assert.Equal(t, "group", got[0].Key)

	// Deleting it again changes nothing and is no error.
	_, body = h.graphql(testShop, tok, del, map[string]any{"m": []any{id(ids[0], "survey_url_nps")}})
	assert.Empty(t, path(body, "data", "metafieldsDelete", "userErrors"))
	assert.Nil(t, path(body, "data", "metafieldsDelete", "deletedMetafields", 0))

	// At most 25 per call, at least one.
	var many []any
	for i := range 26 {
		many = append(many, id(ids[0], fmt.Sprintf("k%d", i)))
	}
	_, body = h.graphql(testShop, tok, del, map[string]any{"m": many})
	assert.Equal(t, "LESS_THAN_OR_EQUAL_TO", path(body, "data", "metafieldsDelete", "userErrors", 0, "code"))
	_, body = h.graphql(testShop, tok, del, map[string]any{"m": []any{}})
	assert.Equal(t, "PRESENT", path(body, "data", "metafieldsDelete", "userErrors", 0, "code"))
	assert.Len(t, h.sim.CustomerMetafields(testShop, ids[0]), 1)
}

func TestMetafieldDefinitionCreateIsUniquePerKey(t *testing.T) {
	h := newHarness(t)
	tok := h.longToken(testShop)
	ids := h.addCustomers(nil)
	const create = `mutation($d: MetafieldDefinitionInput!) { metafieldDefinitionCreate(definition: $d) { createdDefinition { id namespace key type { name } } userErrors { field message code } } }`
	def := map[string]any{"name": "Predicted CLV", "namespace": "$app:cvo", "key": "predicted_clv", "type": "number_decimal", "ownerType": "CUSTOMER"}

	_, body := h.graphql(testShop, tok, create, map[string]any{"d": def})
	require.Empty(t, path(body, "data", "metafieldDefinitionCreate", "userErrors"))
	assert.Equal(t, "number_decimal", path(body, "data", "metafieldDefinitionCreate", "createdDefinition", "type", "name"))

	_, body = h.graphql(testShop, tok, create, map[string]any{"d": def})
	assert.Equal(t, "TAKEN", path(body, "data", "metafieldDefinitionCreate", "userErrors", 0, "code"))
	assert.Len(t, h.sim.MetafieldDefinitions(testShop), 1)

	// Values must now match the definition's type.
	_, body = h.graphql(testShop, tok, `mutation($m: [MetafieldsSetInput!]!) { metafieldsSet(metafields: $m) { userErrors { code } } }`,
		map[string]any{"m": []any{map[string]any{"ownerId": customerGID(ids[0]), "namespace": "$app:cvo", "key": "predicted_clv", "type": "number_integer", "value": "3"}}})
	assert.Equal(t, "INVALID_TYPE", path(body, "data", "metafieldsSet", "userErrors", 0, "code"))

	_, body = h.graphql(testShop, tok, `{ metafieldDefinitions(first: 10, ownerType: CUSTOMER, namespace: "$app:cvo") { nodes { key } } }`, nil)
	assert.Equal(t, "predicted_clv", path(body, "data", "metafieldDefinitions", "nodes", 0, "key"))
}

func TestSegments(t *testing.T) {
	h := newHarness(t)
	tok := h.longToken(testShop)
	const create = `mutation($n: String!, $q: String!) { segmentCreate(name: $n, query: $q) { segment { id name query } userErrors { field message } } }`
	const update = `mutation($id: ID!, $q: String) { segmentUpdate(id: $id, query: $q) { segment { query } userErrors { field message } } }`

	_, body := h.graphql(testShop, tok, create, map[string]any{"n": "CVO · Soulmates", "q": "customer_tags CONTAINS 'cvo-soulmates'"})
	require.Empty(t, path(body, "data", "segmentCreate", "userErrors"))
	id := path(body, "data", "segmentCreate", "segment", "id").(string)

	tests := []struct{ name, q, field string }{
		{"CVO · Soulmates", "customer_tags CONTAINS 'x'", "name"},
		{"cvo · soulmates", "customer_tags CONTAINS 'x'", "name"},
		{"Other", "customer_tags CONTAINS x", "query"},
		{"Other", "favourite_colour = 'red'", "query"},
		{"Other", "customer_tags CONTAINS 'x", "query"},
	}
	for _, tc := range tests {
		_, body := h.graphql(testShop, tok, create, map[string]any{"n": tc.name, "q": tc.q})
		assert.Equal(t, []any{tc.field}, path(body, "data", "segmentCreate", "userErrors", 0, "field"), "%s / %s", tc.name, tc.q)
	}
	_, body = h.graphql(testShop, tok, create, map[string]any{"n": "Mixed", "q": "customer_tags CONTAINS 'a AND b' AND number_of_orders > 2"})
	assert.Empty(t, path(body, "data", "segmentCreate", "userErrors"))

	_, body = h.graphql(testShop, tok, update, map[string]any{"id": id, "q": "customer_tags CONTAINS 'vip-soulmates'"})
	assert.Equal(t, "customer_tags CONTAINS 'vip-soulmates'", path(body, "data", "segmentUpdate", "segment", "query"))
	_, body = h.graphql(testShop, tok, update, map[string]any{"id": "gid://shopify/Segment/999", "q": "customer_tags CONTAINS 'x'"})
	assert.Equal(t, "Segment does not exist", path(body, "data", "segmentUpdate", "userErrors", 0, "message"))

	_, body = h.graphql(testShop, tok, `{ segments(first: 1) { nodes { name } pageInfo { hasNextPage endCursor } } }`, nil)
	assert.Equal(t, "CVO · Soulmates", path(body, "data", "segments", "nodes", 0, "name"))
	assert.Equal(t, true, path(body, "data", "segments", "pageInfo", "hasNextPage"))
	_, body = h.graphql(testShop, tok, `query($a: String) { segments(first: 5, after: $a) { nodes { name } } }`,
		map[string]any{"a": path(body, "data", "segments", "pageInfo", "endCursor")})
	assert.Equal(t, []any{map[string]any{"name": "Mixed"}}, path(body, "data", "segments", "nodes"))
	assert.Len(t, h.sim.Segments(testShop), 2)
}

// stageAndUpload runs stagedUploadsCreate and uploads body; it returns the
// stagedUploadPath.
func (h *harness) stageAndUpload(tok string, body []byte) string {
	h.t.Helper()
	_, resp := h.graphql(testShop, tok, `mutation { stagedUploadsCreate(input: [{resource: BULK_MUTATION_VARIABLES, filename: "vars.jsonl", mimeType: "text/jsonl", httpMethod: POST}]) {
		stagedTargets { url resourceUrl parameters { name value } } userErrors { field message } } }`, nil)
	require.Empty(h.t, path(resp, "data", "stagedUploadsCreate", "userErrors"), "%v", resp)
	target := path(resp, "data", "stagedUploadsCreate", "stagedTargets", 0).(map[string]any)
	assert.Nil(h.t, target["resourceUrl"])
	var key string
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	for _, p := range target["parameters"].([]any) {
		kv := p.(map[string]any)
		require.NoError(h.t, mw.WriteField(kv["name"].(string), kv["value"].(string)))
		if kv["name"] == "key" {
			key = kv["value"].(string)
		}
	}
	fw, err := mw.CreateFormFile("file", "vars.jsonl")
	require.NoError(h.t, err)
	_, _ = fw.Write(body)
	require.NoError(h.t, mw.Close())
	up, err := h.client.Post(target["url"].(string), mw.FormDataContentType(), &form)
	require.NoError(h.t, err)
	defer up.Body.Close()
	require.Equal(h.t, http.StatusCreated, up.StatusCode)
	return key
}

const bulkRun = `mutation($m: String!, $p: String!) { bulkOperationRunMutation(mutation: $m, stagedUploadPath: $p) { bulkOperation { id status type } userErrors { field message code } } }`

func (h *harness) waitBulkMutation(tok, id string) map[string]any {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, body := h.graphql(testShop, tok, `query($id: ID!) { bulkOperation(id: $id) { status type objectCount url errorCode } }`, map[string]any{"id": id})
		op := path(body, "data", "bulkOperation").(map[string]any)
		if s := op["status"]; s != "CREATED" && s != "RUNNING" {
			return op
		}
		require.True(h.t, time.Now().Before(deadline), "bulk operation did not finish")
		time.Sleep(5 * time.Millisecond)
	}
}

func (h *harness) fetchLines(url string) []map[string]any {
	h.t.Helper()
	resp, err := h.client.Get(url)
	require.NoError(h.t, err)
	defer resp.Body.Close()
	require.Equal(h.t, http.StatusOK, resp.StatusCode)
	var out []map[string]any
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		var m map[string]any
		require.NoError(h.t, json.Unmarshal(sc.Bytes(), &m))
		out = append(out, m)
	}
	return out
}

func TestBulkMutationRunsEveryLineAndReportsFailures(t *testing.T) {
	h := newHarness(t)
	tok := h.longToken(testShop)
	ids := h.addCustomers([]string{"keep"}, nil, nil, nil)
	var file bytes.Buffer
	for i, id := range ids {
		fmt.Fprintf(&file, `{"id":%q,"tags":["cvo-group-%d"]}`+"\n", customerGID(id), i)
	}
	file.WriteString("\n")                                                 // blank lines are skipped
	fmt.Fprintf(&file, `{"id":%q,"tags":["x"]}`+"\n", customerGID(424242)) // line 5: unknown customer
	file.WriteString(`{"tags":["x"]}` + "\n")                              // line 6: missing variable

	h.sim.FailNextBulkMutationLines(testShop, 2)
	h.sim.ResetCallLog(testShop)
	staged := h.stageAndUpload(tok, file.Bytes())
	_, body := h.graphql(testShop, tok, bulkRun, map[string]any{"m": tagsAddMutation, "p": staged})
	require.Empty(t, path(body, "data", "bulkOperationRunMutation", "userErrors"), "%v", body)
	assert.Equal(t, "MUTATION", path(body, "data", "bulkOperationRunMutation", "bulkOperation", "type"))
	op := h.waitBulkMutation(tok, path(body, "data", "bulkOperationRunMutation", "bulkOperation", "id").(string))
	assert.Equal(t, "COMPLETED", op["status"])
	assert.Equal(t, "6", op["objectCount"])

	lines := h.fetchLines(op["url"].(string))
	require.Len(t, lines, 6)
	byLine := map[int]map[string]any{}
	for _, l := range lines {
		byLine[int(l["__lineNumber"].(float64))] = l
	}
	for _, n := range []int{0, 1, 3} {
		assert.Empty(t, path(byLine[n], "data", "tagsAdd", "userErrors"), "line %d", n)
		assert.Equal(t, customerGID(ids[n]), path(byLine[n], "data", "tagsAdd", "node", "id"))
	}
	assert.Equal(t, []string{"keep", "cvo-group-0"}, h.tagsOf(ids[0]))
	assert.NotEmpty(t, path(byLine[2], "data", "tagsAdd", "userErrors"), "injected failure")
	assert.Nil(t, path(byLine[2], "data", "tagsAdd", "node"))
	assert.Empty(t, h.tagsOf(ids[2]))
	assert.Equal(t, "Customer does not exist", path(byLine[5], "data", "tagsAdd", "userErrors", 0, "message"))
	assert.NotNil(t, byLine[6]["errors"])

	// Bulk lines do not draw on the bucket: only the API calls are logged.
	for _, c := range h.sim.CallLog(testShop) {
		assert.NotEqual(t, "tagsAdd", c.Operation)
	}

	// The injection was for one operation: a retry of line 2 succeeds.
	staged = h.stageAndUpload(tok, []byte(fmt.Sprintf(`{"id":%q,"tags":["cvo-group-2"]}`+"\n", customerGID(ids[2]))))
	_, body = h.graphql(testShop, tok, bulkRun, map[string]any{"m": tagsAddMutation, "p": staged})
	op = h.waitBulkMutation(tok, path(body, "data", "bulkOperationRunMutation", "bulkOperation", "id").(string))
	assert.Equal(t, "COMPLETED", op["status"])
	assert.Equal(t, []string{"cvo-group-2"}, h.tagsOf(ids[2]))

	_, body = h.graphql(testShop, tok, `{ m: currentBulkOperation(type: MUTATION) { type status } q: currentBulkOperation { id } }`, nil)
	assert.Equal(t, "MUTATION", path(body, "data", "m", "type"))
	assert.Nil(t, path(body, "data", "q"))

	// bulk_operations/finish says "mutation". It is sent after the status
	// turns COMPLETED, so the second one may still be on its way.
	finishes := func() (n int) {
		for _, hk := range h.receivedHooks() {
			if hk.header.Get("X-Shopify-Topic") == TopicBulkOperationsFinish {
				assert.Contains(t, string(hk.body), `"type":"mutation"`)
				n++
			}
		}
		return n
	}
	assert.Eventually(t, func() bool { return finishes() == 2 }, 5*time.Second, 10*time.Millisecond)
	time.Sleep(50 * time.Millisecond)
	assert.Equal(t, 2, finishes(), "one webhook per operation")
}

func TestBulkMutationRejections(t *testing.T) {
	h := newHarness(t)
	tok := h.longToken(testShop)
	good := h.stageAndUpload(tok, []byte(`{"id":"gid://shopify/Customer/1","tags":["a"]}`+"\n"))
	bad := h.stageAndUpload(tok, []byte("not json\n"))
	tests := []struct {
		name, mutation, path, code string
	}{
		{"unknown upload", tagsAddMutation, "tmp/1/bulk/nope/vars.jsonl", "NO_SUCH_FILE"},
		{"not JSONL", tagsAddMutation, bad, "INVALID_STAGED_UPLOAD_FILE"},
		{"query, not mutation", `{ shop { name } }`, good, "INVALID_MUTATION"},
		{"two fields", `mutation($id: ID!, $tags: [String!]!) { a: tagsAdd(id: $id, tags: $tags) { userErrors { message } } b: tagsRemove(id: $id, tags: $tags) { userErrors { message } } }`, good, "INVALID_MUTATION"},
		{"nested bulk", `mutation($m: String!, $p: String!) { bulkOperationRunMutation(mutation: $m, stagedUploadPath: $p) { userErrors { message } } }`, good, "INVALID_MUTATION"},
		{"unparsable", `mutation {`, good, "INVALID_MUTATION"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, body := h.graphql(testShop, tok, bulkRun, map[string]any{"m": tc.mutation, "p": tc.path})
			assert.Equal(t, tc.code, path(body, "data", "bulkOperationRunMutation", "userErrors", 0, "code"), "%v", body)
			assert.Nil(t, path(body, "data", "bulkOperationRunMutation", "bulkOperation"))
		})
	}
}

func TestBulkMutationConcurrencyLimit(t *testing.T) {
	h := newHarness(t)
	tok := h.longToken(testShop)
	staged := h.stageAndUpload(tok, []byte(`{"id":"gid://shopify/Customer/1","tags":["a"]}`+"\n"))
	release := h.sim.HoldBulkOperations(testShop)
	defer release()
	for i := range 6 {
		_, body := h.graphql(testShop, tok, bulkRun, map[string]any{"m": tagsAddMutation, "p": staged})
		if i < 5 {
			assert.Empty(t, path(body, "data", "bulkOperationRunMutation", "userErrors"))
		} else {
			assert.Equal(t, "LIMIT_REACHED", path(body, "data", "bulkOperationRunMutation", "userErrors", 0, "code"))
		}
	}
	// Before 2026-01: one bulk mutation at a time.
	raw, _ := json.Marshal(map[string]any{"query": bulkRun, "variables": map[string]any{"m": tagsAddMutation, "p": staged}})
	resp := h.do(http.MethodPost, testShop, "/admin/api/2025-10/graphql.json", bytes.NewReader(raw),
		map[string]string{"Content-Type": "application/json", "X-Shopify-Access-Token": tok})
	body := decodeBody(t, resp)
	assert.Equal(t, "OPERATION_IN_PROGRESS", path(body, "data", "bulkOperationRunMutation", "userErrors", 0, "code"))
}

func TestUploadRejectsForgedAndUnknownKeys(t *testing.T) {
	h := newHarness(t)
	post := func(fields map[string]string) int {
		var form bytes.Buffer
		mw := multipart.NewWriter(&form)
		for k, v := range fields {
			require.NoError(t, mw.WriteField(k, v))
		}
		fw, _ := mw.CreateFormFile("file", "x.jsonl")
		_, _ = io.WriteString(fw, "{}\n")
		require.NoError(t, mw.Close())
		resp, err := h.client.Post(h.srv.URL+uploadPath, mw.FormDataContentType(), &form)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	assert.Equal(t, http.StatusForbidden, post(map[string]string{"key": "tmp/1/bulk/x/vars.jsonl"}))

	tok := h.longToken(testShop)
	_, resp := h.graphql(testShop, tok, `mutation { stagedUploadsCreate(input: [{resource: BULK_MUTATION_VARIABLES, filename: "v.jsonl", mimeType: "text/jsonl", httpMethod: POST}]) { stagedTargets { parameters { name value } } } }`, nil)
	fields := map[string]string{}
	for _, p := range path(resp, "data", "stagedUploadsCreate", "stagedTargets", 0, "parameters").([]any) {
		fields[p.(map[string]any)["name"].(string)] = p.(map[string]any)["value"].(string)
	}
	forged := map[string]string{"key": fields["key"], "policy": fields["policy"], "x-goog-signature": strings.Repeat("0", 64)}
	assert.Equal(t, http.StatusForbidden, post(forged))
	assert.Equal(t, http.StatusCreated, post(fields))

	_, resp = h.graphql(testShop, tok, `mutation { stagedUploadsCreate(input: [{resource: IMAGE, filename: "a.png", mimeType: "image/png"}]) { userErrors { field message } } }`, nil)
	assert.Equal(t, []any{"input", "0", "resource"}, path(resp, "data", "stagedUploadsCreate", "userErrors", 0, "field"))
}

func TestTagChangesSendCustomersUpdateWhenAsked(t *testing.T) {
	h := newHarness(t)
	tok := h.longToken(testShop)
	ids := h.addCustomers([]string{"vip"})
	h.sim.NotifyTagChanges(testShop, true)
	h.graphql(testShop, tok, tagsAddMutation, map[string]any{"id": customerGID(ids[0]), "tags": []string{"cvo-soulmates"}})
	h.graphql(testShop, tok, tagsAddMutation, map[string]any{"id": customerGID(ids[0]), "tags": []string{"vip"}}) // no change, no webhook
	require.Eventually(t, func() bool {
		for _, hk := range h.receivedHooks() {
			if hk.header.Get("X-Shopify-Topic") == "customers/update" {
				return strings.Contains(string(hk.body), `"tags":"vip, cvo-soulmates"`)
			}
		}
		return false
	}, 5*time.Second, 5*time.Millisecond)
	time.Sleep(20 * time.Millisecond)
	n := 0
	for _, hk := range h.receivedHooks() {
		if hk.header.Get("X-Shopify-Topic") == "customers/update" {
			n++
		}
	}
	assert.Equal(t, 1, n)
}
