package simulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func day(s string) time.Time {
	t, err := time.Parse("2006-01-02T15:04:05Z", s)
	if err != nil {
		panic(err)
	}
	return t
}

func ptrAmount(f float64) *Amount { a := NewAmount(f); return &a }

// seedTiny loads a small shop: 2 products, 3 customers, 4 orders.
func seedTiny(t *testing.T, sim *Simulator, shop string) {
	t.Helper()
	require.NoError(t, sim.AddProducts(shop, []Product{
		{Title: "Mug", ProductType: "Kitchen", Vendor: "Acme", CreatedAt: day("2026-01-01T00:00:00Z"),
			Variants: []Variant{{Title: "Blue", SKU: "MUG-B", Price: NewAmount(12.5), UnitCost: ptrAmount(4)}}},
		{Title: "Poster", ProductType: "Art", Vendor: "Studio", CreatedAt: day("2026-01-02T00:00:00Z"),
			Variants: []Variant{{SKU: "POS-1", Price: NewAmount(20)}}},
	}))
	require.NoError(t, sim.AddCustomers(shop, []Customer{
		{Email: "alice@example.com", FirstName: "Alice", LastName: "Archer", Tags: []string{"vip"},
			CreatedAt: day("2026-08-01T10:00:00Z"), DefaultAddress: &Address{City: "London", Country: "United Kingdom", CountryCode: "GB"}},
		{Email: "bob@example.com", FirstName: "Bob", CreatedAt: day("2026-08-02T10:00:00Z"),
			DefaultAddress: &Address{City: "Paris", Country: "France", CountryCode: "FR"}},
		{Email: "carol@example.com", CreatedAt: day("2026-08-03T10:00:00Z"), UpdatedAt: day("2026-09-30T10:00:00Z")},
	}))
	require.NoError(t, sim.AddOrders(shop, []Order{
		{CustomerID: 1, CreatedAt: day("2026-09-01T09:00:00Z"), Total: NewAmount(25), SourceName: "web",
			DiscountCodes: []string{"WELCOME"},
			Journey: &Journey{CustomerOrderIndex: 1, FirstVisit: &Visit{LandingPage: "/products/mug", ReferrerURL: "https://google.com/",
				Source: "google", UTMSource: "google", UTMMedium: "cpc", UTMCampaign: "autumn"}},
			LineItems: []LineItem{{VariantID: 1, Quantity: 2, UnitPrice: NewAmount(12.5)}}},
		{CustomerID: 1, CreatedAt: day("2026-09-15T09:00:00Z"), Total: NewAmount(32.5), SourceName: "web",
			LineItems: []LineItem{{VariantID: 2, Quantity: 1, UnitPrice: NewAmount(20)}, {VariantID: 1, Quantity: 1, UnitPrice: NewAmount(12.5)}},
			Refunds:   []Refund{{CreatedAt: day("2026-09-20T09:00:00Z"), Amount: NewAmount(5)}}},
		{CustomerID: 2, CreatedAt: day("2026-09-20T09:00:00Z"), Total: NewAmount(20), Test: true,
			LineItems: []LineItem{{VariantID: 2, Quantity: 1, UnitPrice: NewAmount(20)}}},
		{CreatedAt: day("2026-09-25T09:00:00Z"), Total: NewAmount(12.5), SourceName: "pos",
			LineItems: []LineItem{{VariantID: 1, Quantity: 1, UnitPrice: NewAmount(12.5)}}},
	}))
}

func TestShopAndInstallationQuery(t *testing.T) {
	h := newHarness(t)
	tok := h.token(testShop)
	status, body := h.graphql(testShop, tok, `{
		shop { id name myshopifyDomain currencyCode ianaTimezone plan { publicDisplayName shopifyPlus } }
		currentAppInstallation { accessScopes { handle } }
	}`, nil)
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, "demo", path(body, "data", "shop", "name"))
	assert.Equal(t, testShop, path(body, "data", "shop", "myshopifyDomain"))
	assert.Equal(t, "GBP", path(body, "data", "shop", "currencyCode"))
	assert.Equal(t, "Europe/London", path(body, "data", "shop", "ianaTimezone"))
	assert.Equal(t, false, path(body, "data", "shop", "plan", "shopifyPlus"))
	assert.Regexp(t, `^gid://shopify/Shop/\d+$`, path(body, "data", "shop", "id"))
	scopes := path(body, "data", "currentAppInstallation", "accessScopes").([]any)
	require.Len(t, scopes, len(DefaultScopes))
	assert.Equal(t, "read_customers", path(scopes[0], "handle"))
}

func TestOrderShape(t *testing.T) {
	h := newHarness(t)
	seedTiny(t, h.sim, testShop)
	tok := h.token(testShop)
	status, body := h.graphql(testShop, tok, `query($id: ID!) {
		order(id: $id) {
			id name createdAt processedAt cancelledAt test sourceName currencyCode discountCodes
			totalPriceSet { shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } }
			currentTotalPriceSet { shopMoney { amount } }
			totalRefundedSet { shopMoney { amount } }
			customer { id email numberOfOrders amountSpent { amount currencyCode } defaultAddress { city country countryCodeV2 } }
			customerJourneySummary { firstVisit { landingPage referrerUrl source utmParameters { source medium campaign } } }
			lineItems(first: 5) { nodes { quantity originalUnitPriceSet { shopMoney { amount } }
				product { id productType vendor } variant { id inventoryItem { unitCost { amount } } } } }
			refunds { createdAt totalRefundedSet { shopMoney { amount } } }
		}
	}`, map[string]any{"id": "gid://shopify/Order/1"})
	require.Equal(t, http.StatusOK, status)
	require.Nil(t, body["errors"], body)
	o := path(body, "data", "order")
	assert.Equal(t, "gid://shopify/Order/1", path(o, "id"))
	assert.Equal(t, "#1001", path(o, "name"))
	assert.Equal(t, "2026-09-01T09:00:00Z", path(o, "createdAt"))
	assert.Equal(t, "2026-09-01T09:00:00Z", path(o, "processedAt"))
	assert.Nil(t, path(o, "cancelledAt"))
	assert.Equal(t, []any{"WELCOME"}, path(o, "discountCodes"))
	assert.Equal(t, "25.0", path(o, "totalPriceSet", "shopMoney", "amount"))
	assert.Equal(t, "GBP", path(o, "totalPriceSet", "presentmentMoney", "currencyCode"))
	assert.Equal(t, "0.0", path(o, "totalRefundedSet", "shopMoney", "amount"))
	assert.Equal(t, "2", path(o, "customer", "numberOfOrders"))
	assert.Equal(t, "52.5", path(o, "customer", "amountSpent", "amount"), "25 + 32.5 - 5 refunded")
	assert.Equal(t, "GB", path(o, "customer", "defaultAddress", "countryCodeV2"))
	assert.Equal(t, "autumn", path(o, "customerJourneySummary", "firstVisit", "utmParameters", "campaign"))
	assert.Equal(t, "/products/mug", path(o, "customerJourneySummary", "firstVisit", "landingPage"))
	line := path(o, "lineItems", "nodes", 0)
	assert.EqualValues(t, 2, path(line, "quantity"))
	assert.Equal(t, "12.5", path(line, "originalUnitPriceSet", "shopMoney", "amount"))
	assert.Equal(t, "Kitchen", path(line, "product", "productType"))
	assert.Equal(t, "4.0", path(line, "variant", "inventoryItem", "unitCost", "amount"))
	assert.Equal(t, []any{}, path(o, "refunds"))

	_, body = h.graphql(testShop, tok, `{ order(id: "gid://shopify/Order/2") { currentTotalPriceSet { shopMoney { amount } }
		refunds { createdAt totalRefundedSet { shopMoney { amount } } } } }`, nil)
	assert.Equal(t, "27.5", path(body, "data", "order", "currentTotalPriceSet", "shopMoney", "amount"))
	assert.Equal(t, "2026-09-20T09:00:00Z", path(body, "data", "order", "refunds", 0, "createdAt"))
	assert.Equal(t, "5.0", path(body, "data", "order", "refunds", 0, "totalRefundedSet", "shopMoney", "amount"))
}

func TestRequestedCost(t *testing.T) {
	h := newHarness(t)
	tok := h.token(testShop)
	tests := []struct {
		name  string
		query string
		cost  float64
	}{
		{"scalars on one object", `{ shop { name currencyCode } }`, 1},
		{"embedded plan object is free", `{ shop { name plan { publicDisplayName } } }`, 1},
		{"typename only", `{ __typename }`, 0},
		{"connection of nodes", `{ customers(first: 10) { nodes { id email } } }`, 12},
		{"edges, cursors and pageInfo cost nothing extra", `{ customers(first: 10) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }`, 12},
		{"objects under nodes multiply", `{ orders(first: 5) { nodes { id totalPriceSet { shopMoney { amount } } } } }`, 2 + 5*3},
		{"nested connection", `{ orders(first: 2) { nodes { lineItems(first: 3) { nodes { quantity } } } } }`, 2 + 2*(1+2+3*1)},
		{"last counts like first", `{ products(last: 7) { nodes { title } } }`, 9},
		{"fragments are costed where spread", `query { customers(first: 4) { nodes { ...C } } } fragment C on Customer { defaultAddress { city } }`, 2 + 4*2},
		{"list with first", `{ orders(first: 1) { nodes { refunds(first: 3) { createdAt } } } }`, 2 + 1*(1+3)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := h.graphql(testShop, tok, tt.query, nil)
			require.Equal(t, http.StatusOK, status)
			require.Nil(t, body["errors"], body)
			requested, _, _ := costOf(body)
			assert.Equal(t, tt.cost, requested)
		})
	}
}

func TestActualCostRefundsUnreturnedNodes(t *testing.T) {
	h := newHarness(t)
	seedTiny(t, h.sim, testShop)
	tok := h.token(testShop)
	_, body := h.graphql(testShop, tok, `{ customers(first: 10) { nodes { id } } }`, nil)
	requested, actual, available := costOf(body)
	assert.Equal(t, 12.0, requested)
	assert.Equal(t, 5.0, actual, "2 for the connection and 1 for each of 3 customers")
	assert.Equal(t, 1995.0, available, "only the actual cost stays spent")
}

func TestCostLimitsAndValidationErrors(t *testing.T) {
	h := newHarness(t)
	tok := h.token(testShop)
	tests := []struct {
		name    string
		query   string
		message string
		code    string
	}{
		{"single query max cost", `{ orders(first: 250) { nodes { lineItems(first: 250) { nodes { id } } } } }`,
			"Query cost is 63252, which exceeds the single query max cost limit (1000).", "MAX_COST_EXCEEDED"},
		{"unknown field", `{ shop { name nonsense } }`, "Field 'nonsense' doesn't exist on type 'Shop'", "undefinedField"},
		{"unknown root field", `{ widgets { id } }`, "Field 'widgets' doesn't exist on type 'QueryRoot'", "undefinedField"},
		{"unknown argument", `{ customers(first: 1, color: "red") { nodes { id } } }`, "Field 'customers' doesn't accept argument 'color'", "argumentNotAccepted"},
		{"wrong argument type", `{ customers(first: "ten") { nodes { id } } }`, "Argument 'first' on Field 'customers' has an invalid value", "argumentLiteralsIncompatible"},
		{"bad enum", `{ orders(first: 1, sortKey: SIZE) { nodes { id } } }`, "Argument 'sortKey' on Field 'orders' has an invalid value", "argumentLiteralsIncompatible"},
		{"connection without first or last", `{ customers { nodes { id } } }`, "you must provide one of first or last", ""},
		{"page over 250", `{ customers(first: 251) { nodes { id } } }`, "first cannot exceed 250.", ""},
		{"selection on a scalar", `{ shop { name { x } } }`, "Selections can't be made on scalars", "selectionMismatch"},
		{"object without selection", `{ shop }`, "Field must have selections", "selectionMismatch"},
		{"parse error", `{ shop { name `, "Parse error", ""},
		{"unknown fragment", `{ shop { ...Missing } }`, "Fragment Missing was used, but not defined", "useAndDefineFragment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := h.graphql(testShop, tok, tt.query, nil)
			assert.Equal(t, http.StatusOK, status, "GraphQL errors come with HTTP 200")
			assert.NotContains(t, body, "data", "validation errors return no data")
			errs, _ := body["errors"].([]any)
			require.NotEmpty(t, errs, body)
			mustContain(t, path(errs[0], "message").(string), tt.message)
			if tt.code != "" {
				assert.Equal(t, tt.code, path(errs[0], "extensions", "code"))
			}
		})
	}
}

func TestThrottle(t *testing.T) {
	h := newHarness(t)
	customers := make([]Customer, 250)
	require.NoError(t, h.sim.AddCustomers(testShop, customers))
	tok := h.token(testShop)
	const q = `{ customers(first: 250) { nodes { id } } }`

	for i := 1; i <= 7; i++ {
		_, body := h.graphql(testShop, tok, q, nil)
		require.Nil(t, body["errors"])
		requested, actual, available := costOf(body)
		require.Equal(t, 252.0, requested)
		require.Equal(t, 252.0, actual)
		require.Equal(t, 2000.0-float64(i)*252, available)
	}
	status, body := h.graphql(testShop, tok, q, nil)
	assert.Equal(t, http.StatusOK, status, "a throttled GraphQL request still answers 200")
	assert.Nil(t, body["data"])
	assert.Equal(t, "Throttled", path(body, "errors", 0, "message"))
	assert.Equal(t, "THROTTLED", path(body, "errors", 0, "extensions", "code"))
	requested, actual, available := costOf(body)
	assert.Equal(t, 252.0, requested)
	assert.Nil(t, actual)
	assert.Equal(t, 236.0, available)

	// A second of restore at 100 points/s makes room again.
	h.clock.Advance(time.Second)
	_, body = h.graphql(testShop, tok, q, nil)
	require.Nil(t, body["errors"])
	_, _, available = costOf(body)
	assert.Equal(t, 84.0, available)

	// The bucket refills to its maximum and no further.
	h.clock.Advance(30 * time.Minute)
	_, body = h.graphql(testShop, tok, `{ shop { name } }`, nil)
	_, _, available = costOf(body)
	assert.Equal(t, 1999.0, available)
}

func TestThrottleStatusByPlan(t *testing.T) {
	h := newHarness(t)
	for _, tt := range []struct {
		plan      Plan
		max, rate string
	}{
		{PlanStandard, "2000.0", "100.0"},
		{PlanAdvanced, "4000.0", "200.0"},
		{PlanPlus, "20000.0", "1000.0"},
		{PlanEnterprise, "40000.0", "2000.0"},
	} {
		t.Run(string(tt.plan), func(t *testing.T) {
			shop := string(tt.plan) + ".myshopify.com"
			require.NoError(t, h.sim.AddShop(shop, ShopOptions{Plan: tt.plan}))
			tok := h.token(shop)
			resp := h.do(http.MethodPost, shop, "/admin/api/2026-10/graphql.json", strings.NewReader(`{"query":"{ shop { name } }"}`),
				map[string]string{"Content-Type": "application/json", "X-Shopify-Access-Token": tok})
			raw, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			mustContain(t, string(raw), fmt.Sprintf(`"maximumAvailable":%s`, tt.max))
			mustContain(t, string(raw), fmt.Sprintf(`"restoreRate":%s`, tt.rate))
		})
	}
}

func TestBucketIsPerShop(t *testing.T) {
	h := newHarness(t)
	require.NoError(t, h.sim.AddShop("other.myshopify.com", ShopOptions{}))
	a, b := h.token(testShop), h.token("other.myshopify.com")
	_, body := h.graphql(testShop, a, `{ customers(first: 250) { nodes { id } } }`, nil)
	_, _, avail := costOf(body)
	assert.Equal(t, 1998.0, avail)
	_, body = h.graphql("other.myshopify.com", b, `{ shop { name } }`, nil)
	_, _, avail = costOf(body)
	assert.Equal(t, 1999.0, avail)
	// A token of one shop does not open another.
	status, _ := h.graphql("other.myshopify.com", a, `{ shop { name } }`, nil)
	assert.Equal(t, http.StatusUnauthorized, status)
}

func TestPagination(t *testing.T) {
	h := newHarness(t)
	cs := make([]Customer, 5)
	for i := range cs {
		cs[i] = Customer{Email: fmt.Sprintf("c%d@example.com", i+1), CreatedAt: day("2026-01-01T00:00:00Z").Add(time.Duration(i) * time.Hour),
			UpdatedAt: day("2026-06-01T00:00:00Z").Add(time.Duration(5-i) * time.Hour)}
	}
	require.NoError(t, h.sim.AddCustomers(testShop, cs))
	tok := h.token(testShop)
	const q = `query($first: Int, $last: Int, $after: String, $before: String, $reverse: Boolean, $sortKey: CustomerSortKeys, $query: String) {
		customers(first: $first, last: $last, after: $after, before: $before, reverse: $reverse, sortKey: $sortKey, query: $query) {
			edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
		}
	}`
	pageOf := func(vars map[string]any) (ids []string, next, prev bool, end, start string) {
		_, body := h.graphql(testShop, tok, q, vars)
		require.Nil(t, body["errors"], body)
		conn := path(body, "data", "customers")
		for _, e := range path(conn, "edges").([]any) {
			ids = append(ids, strings.TrimPrefix(path(e, "node", "id").(string), "gid://shopify/Customer/"))
		}
		end, _ = path(conn, "pageInfo", "endCursor").(string)
		start, _ = path(conn, "pageInfo", "startCursor").(string)
		return ids, path(conn, "pageInfo", "hasNextPage").(bool), path(conn, "pageInfo", "hasPreviousPage").(bool), end, start
	}

	ids, next, prev, end, _ := pageOf(map[string]any{"first": 2})
	assert.Equal(t, []string{"1", "2"}, ids)
	assert.True(t, next)
	assert.False(t, prev)
	ids, next, prev, end, _ = pageOf(map[string]any{"first": 2, "after": end})
	assert.Equal(t, []string{"3", "4"}, ids)
	assert.True(t, next)
	assert.True(t, prev)
	ids, next, _, _, _ = pageOf(map[string]any{"first": 2, "after": end})
	assert.Equal(t, []string{"5"}, ids)
	assert.False(t, next)

	ids, _, prev, _, start := pageOf(map[string]any{"last": 2})
	assert.Equal(t, []string{"4", "5"}, ids)
	assert.True(t, prev)
	ids, _, _, _, _ = pageOf(map[string]any{"last": 2, "before": start})
	assert.Equal(t, []string{"2", "3"}, ids)

	ids, _, _, _, _ = pageOf(map[string]any{"first": 3, "reverse": true})
	assert.Equal(t, []string{"5", "4", "3"}, ids)

	// UPDATED_AT runs opposite to ids here.
	ids, _, _, end, _ = pageOf(map[string]any{"first": 2, "sortKey": "UPDATED_AT"})
	assert.Equal(t, []string{"5", "4"}, ids)
	ids, _, _, _, _ = pageOf(map[string]any{"first": 2, "sortKey": "UPDATED_AT", "after": end})
	assert.Equal(t, []string{"3", "2"}, ids)

	ids, _, _, _, _ = pageOf(map[string]any{"first": 10, "query": "updated_at:>'2026-06-01T03:00:00Z'"})
	assert.Equal(t, []string{"1", "2"}, ids)
	ids, _, _, _, _ = pageOf(map[string]any{"first": 10, "query": "email:c3@example.com OR email:c5*"})
	assert.Equal(t, []string{"3", "5"}, ids)
	ids, _, _, _, _ = pageOf(map[string]any{"first": 10, "query": "-id:1 created_at:<=2026-01-01T02:00:00Z"})
	assert.Equal(t, []string{"2", "3"}, ids)

	_, body := h.graphql(testShop, tok, q, map[string]any{"first": 1, "after": "bm90IGpzb24="})
	assert.Equal(t, "Invalid cursor for current pagination sort.", path(body, "errors", 0, "message"))
}

func TestOrderQueriesAndScopes(t *testing.T) {
	h := newHarness(t)
	seedTiny(t, h.sim, testShop)
	tok := h.longToken(testShop)
	ids := func(body map[string]any) []string {
		var out []string
		for _, n := range path(body, "data", "orders", "nodes").([]any) {
			out = append(out, path(n, "name").(string))
		}
		return out
	}
	_, body := h.graphql(testShop, tok, `{ orders(first: 10, query: "test:false financial_status:paid") { nodes { name } } }`, nil)
	assert.Equal(t, []string{"#1001", "#1004"}, ids(body))
	_, body = h.graphql(testShop, tok, `{ orders(first: 10, sortKey: PROCESSED_AT, reverse: true, query: "created_at:>=2026-09-15") { nodes { name } } }`, nil)
	assert.Equal(t, []string{"#1004", "#1003", "#1002"}, ids(body))
	_, body = h.graphql(testShop, tok, `{ customer(id: "gid://shopify/Customer/1") { orders(first: 5) { nodes { name } } } }`, nil)
	assert.Len(t, path(body, "data", "customer", "orders", "nodes"), 2)

	// Without read_all_orders, orders older than 60 days disappear.
	h.clock.Advance(40 * 24 * time.Hour)
	require.NoError(t, h.sim.SetScopes(testShop, []string{"read_orders", "read_customers", "read_products"}))
	_, body = h.graphql(testShop, tok, `{ orders(first: 10) { nodes { name } } }`, nil)
	assert.Equal(t, []string{"#1002", "#1003", "#1004"}, ids(body), "#1001 is 70 days old")

	// Without read_inventory, unit costs are denied and the rest answers.
	_, body = h.graphql(testShop, tok, `{ products(first: 1) { nodes { title variants(first: 1) { nodes { inventoryItem { unitCost { amount } } } } } } }`, nil)
	assert.Equal(t, "Mug", path(body, "data", "products", "nodes", 0, "title"))
	assert.Equal(t, "ACCESS_DENIED", path(body, "errors", 0, "extensions", "code"))
	assert.Equal(t, []any{"products", "nodes", 0.0, "variants", "nodes", 0.0, "inventoryItem", "unitCost"}, path(body, "errors", 0, "path"))

	require.NoError(t, h.sim.SetScopes(testShop, []string{"read_products"}))
	_, body = h.graphql(testShop, tok, `{ customers(first: 1) { nodes { id } } }`, nil)
	assert.Equal(t, "Access denied for customers field. Required access: `read_customers` access scope.", path(body, "errors", 0, "message"))
	assert.Nil(t, path(body, "data", "customers"))
}

func TestGraphQLRequestForms(t *testing.T) {
	h := newHarness(t)
	tok := h.token(testShop)
	post := func(ct, body string) (int, map[string]any) {
		resp := h.do(http.MethodPost, testShop, "/admin/api/2026-10/graphql.json", strings.NewReader(body),
			map[string]string{"Content-Type": ct, "X-Shopify-Access-Token": tok})
		return resp.StatusCode, decodeBody(t, resp)
	}
	status, body := post("application/graphql", `{ shop { name } }`)
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "demo", path(body, "data", "shop", "name"))

	status, body = post("application/json", `{"query":"query A { shop { name } } query B { shop { currencyCode } }","operationName":"B"}`)
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "GBP", path(body, "data", "shop", "currencyCode"))

	_, body = post("application/json", `{"query":"query A { shop { name } } query B { shop { name } }"}`)
	mustContain(t, path(body, "errors", 0, "message").(string), "operation name is required")

	_, body = post("application/json", `{"query":"query($n: Int!) { customers(first: $n) { nodes { id } } }"}`)
	mustContain(t, path(body, "errors", 0, "message").(string), "Variable $n of type Int! was provided invalid value")

	status, _ = post("application/json", `{not json`)
	assert.Equal(t, http.StatusBadRequest, status)

	resp := h.do(http.MethodPost, testShop, "/admin/api/1999-01/graphql.json", strings.NewReader(`{"query":"{ shop { name } }"}`),
		map[string]string{"Content-Type": "application/json", "X-Shopify-Access-Token": tok})
	assert.Equal(t, supportedVersions[0], resp.Header.Get("X-Shopify-API-Version"), "unsupported versions fall forward")

	resp = h.do(http.MethodPost, "unknown.myshopify.com", "/admin/api/2026-10/graphql.json", strings.NewReader(`{}`), nil)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}

func FuzzGraphQLRequest(f *testing.F) {
	f.Add([]byte(`{"query":"{ shop { name } }"}`), "application/json")
	f.Add([]byte(`{"query":"query($f: Int){ customers(first: $f, query: \"tag:vip -id:>3 (a OR b)\") { edges { node { id ...X } } } } fragment X on Customer { email }","variables":{"f":3}}`), "application/json")
	f.Add([]byte(`{ orders(first: 2, after: "eyJsYXN0X2lkIjoxfQ==") { nodes { lineItems(last: 1) { nodes { id } } } } }`), "application/graphql")
	f.Add([]byte(`{"query":"mutation { bulkOperationRunQuery(query: \"{ customers { edges { node { id } } } }\") { userErrors { message } } }"}`), "application/json")
	f.Add([]byte(`{"query":"{ a: shop { name } a: shop { email } ... on QueryRoot { shop { id } } }","variables":{"x":[1,{"y":null}]}}`), "application/json")
	sim := New(Config{ClientID: testClientID, ClientSecret: testSecret, AppURL: "http://127.0.0.1:1", BulkDir: f.TempDir()})
	f.Cleanup(sim.Close)
	if err := sim.AddShop(testShop, ShopOptions{}); err != nil {
		f.Fatal(err)
	}
	seedTiny(&testing.T{}, sim, testShop)
	sh, _ := sim.shop(testShop)
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		req, err := parseGraphQLRequest(contentType, body)
		if err != nil {
			return
		}
		resp := sim.runGraphQL(sh, testClientID, "2026-10", "http://sim", req, time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC))
		var out map[string]any
		if err := json.Unmarshal(appendJSON(nil, resp), &out); err != nil {
			t.Fatalf("response is not JSON: %v", err)
		}
		_, hasData := out["data"]
		_, hasErrors := out["errors"]
		if !hasData && !hasErrors {
			t.Fatalf("response has neither data nor errors: %s", appendJSON(nil, resp))
		}
	})
}

func TestResponseIsValidJSONForOddStrings(t *testing.T) {
	h := newHarness(t)
	require.NoError(t, h.sim.AddCustomers(testShop, []Customer{{FirstName: "Zoë \"Q\" <b>\u2028\x01", Email: "bad\xffutf8@example.com"}}))
	tok := h.token(testShop)
	resp := h.do(http.MethodPost, testShop, "/admin/api/2026-10/graphql.json", bytes.NewReader([]byte(`{"query":"{ customers(first: 1) { nodes { firstName email } } }"}`)),
		map[string]string{"Content-Type": "application/json", "X-Shopify-Access-Token": tok})
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var out map[string]any
	require.NoError(t, json.Unmarshal(raw, &out), string(raw))
	assert.Equal(t, "Zoë \"Q\" <b>\u2028\x01", path(out, "data", "customers", "nodes", 0, "firstName"))
	mustContain(t, string(raw), "<b>")
}
