package shopify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rotatingTokens hands out tok1, tok2, … one per call.
type rotatingTokens struct {
	mu    sync.Mutex
	calls int
	fail  error
}

func (r *rotatingTokens) AccessToken(_ context.Context, shop string) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return "", r.fail
	}
	r.calls++
	return "tok" + strconv.Itoa(r.calls), nil
}

func newTestConn(t *testing.T, tokens TokenSource, responses ...func(w http.ResponseWriter)) (*Admin, *scripted) {
	t.Helper()
	clock := &fakeClock{now: testNow}
	fake := &scripted{clock: clock, responses: responses}
	hc, err := NewHTTPClient(httptestServer(t, fake), 5*time.Second)
	require.NoError(t, err)
	return NewAdmin(testShop, "2026-10", hc, tokens, WithClock(clock.Now, clock.Sleep)), fake
}

func TestAdminFetchesANewTokenWhenRejected(t *testing.T) {
	unauthorized := reply(401, `{"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"}`)
	ok := okReply(`{"shop":{"name":"Example"}}`, 1, 999)
	errGone := errors.New("shop uninstalled")
	tests := []struct {
		name      string
		responses []func(w http.ResponseWriter)
		rejected  error
		wantErr   error
		tokens    []string
	}{
		{name: "accepted", responses: []func(http.ResponseWriter){ok}, tokens: []string{"tok1"}},
		{name: "rejected once, retried with a fresh token", responses: []func(http.ResponseWriter){unauthorized, ok}, tokens: []string{"tok1", "tok2"}},
		{name: "rejected twice: the error", responses: []func(http.ResponseWriter){unauthorized, unauthorized}, wantErr: ErrUnauthorized, tokens: []string{"tok1", "tok2"}},
		{name: "the check stops it", responses: []func(http.ResponseWriter){unauthorized, ok}, rejected: errGone, wantErr: errGone, tokens: []string{"tok1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, fake := newTestConn(t, &rotatingTokens{}, tc.responses...)
			a.OnTokenRejected(func(context.Context) error { return tc.rejected })
			var out shopData
			_, err := a.Do(context.Background(), shopQuery, nil, &out)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
			} else {
				require.NoError(t, err)
				assert.Equal(t, "Example", out.Shop.Name)
			}
			var sent []string
			for _, r := range fake.seen() {
				sent = append(sent, r.Token)
			}
			assert.Equal(t, tc.tokens, sent)
			assert.Equal(t, len(tc.tokens), a.Calls())
		})
	}

	t.Run("refresh keeps the client while the token is the same", func(t *testing.T) {
		tokens := &rotatingTokens{}
		a, _ := newTestConn(t, tokens, ok)
		require.NoError(t, a.Refresh(context.Background()))
		first := a.client
		tokens.calls = 0 // hands out tok1 again
		require.NoError(t, a.Refresh(context.Background()))
		assert.Same(t, first, a.client)
		tokens.fail = errors.New("no token")
		assert.ErrorContains(t, a.Refresh(context.Background()), "access token for "+testShop)
	})
}

func TestRunBulkOperations(t *testing.T) {
	started := okReply(`{"bulkOperationRunQuery":{"bulkOperation":{"id":"gid://shopify/BulkOperation/1","status":"CREATED"},"userErrors":[]}}`, 10, 990)
	limit := okReply(`{"bulkOperationRunQuery":{"bulkOperation":null,"userErrors":[{"field":null,"message":"A bulk query operation for this app and shop is already in progress","code":"OPERATION_IN_PROGRESS"}]}}`, 10, 990)
	limitNoCode := okReply(`{"bulkOperationRunQuery":{"bulkOperation":null,"userErrors":[{"field":null,"message":"Limit reached"}]}}`, 10, 990)
	invalid := okReply(`{"bulkOperationRunQuery":{"bulkOperation":null,"userErrors":[{"field":["query"],"message":"Invalid bulk query"}]}}`, 10, 990)
	none := okReply(`{"bulkOperationRunQuery":{"bulkOperation":null,"userErrors":[]}}`, 10, 990)
	tests := []struct {
		name    string
		reply   func(http.ResponseWriter)
		id      string
		busy    bool
		wantErr string
	}{
		{name: "started", reply: started, id: "gid://shopify/BulkOperation/1"},
		{name: "busy by code", reply: limit, busy: true, wantErr: "already in progress"},
		{name: "busy by message", reply: limitNoCode, busy: true, wantErr: "Limit reached"},
		{name: "refused", reply: invalid, wantErr: "Invalid bulk query"},
		{name: "no operation", reply: none, wantErr: "no operation returned"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, fake, _ := newTestAdmin(t, tc.reply)
			id, err := RunBulkQuery(context.Background(), c, "{ orders { edges { node { id } } } }")
			assert.Equal(t, tc.busy, errors.Is(err, ErrBulkBusy))
			if tc.wantErr != "" {
				assert.ErrorContains(t, err, tc.wantErr)
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tc.id, id)
			assert.Equal(t, map[string]any{"query": "{ orders { edges { node { id } } } }"}, fake.seen()[0].Variables)
		})
	}

	t.Run("mutation", func(t *testing.T) {
		c, fake, _ := newTestAdmin(t,
			okReply(`{"bulkOperationRunMutation":{"bulkOperation":null,"userErrors":[{"field":null,"message":"x","code":"LIMIT_REACHED"}]}}`, 10, 990),
			okReply(`{"bulkOperationRunMutation":{"bulkOperation":{"id":"gid://shopify/BulkOperation/2","status":"CREATED"},"userErrors":[]}}`, 10, 990))
		_, err := RunBulkMutation(context.Background(), c, "mutation M { x }", "tmp/1/a.jsonl", "m")
		require.ErrorIs(t, err, ErrBulkBusy)
		op, err := RunBulkMutation(context.Background(), c, "mutation M { x }", "tmp/1/a.jsonl", "m")
		require.NoError(t, err)
		assert.Equal(t, BulkOperation{ID: "gid://shopify/BulkOperation/2", Status: BulkCreated}, op)
		assert.Equal(t, map[string]any{"mutation": "mutation M { x }", "path": "tmp/1/a.jsonl"}, fake.seen()[1].Variables)
	})
}

func TestGetBulkOperations(t *testing.T) {
	c, fake, _ := newTestAdmin(t, okReply(`{"o0":{"id":"gid://shopify/BulkOperation/1","status":"COMPLETED","errorCode":null,"objectCount":"12","url":"https://storage.example/r1","partialDataUrl":null,"createdAt":"2026-10-01T00:00:00Z","completedAt":"2026-10-01T00:01:00Z"},"o1":null}`, 2, 990))
	ops, err := GetBulkOperations(context.Background(), c, []string{"gid://shopify/BulkOperation/1", "gid://shopify/BulkOperation/9"})
	require.NoError(t, err)
	require.Len(t, ops, 2)
	require.NotNil(t, ops[0])
	assert.Equal(t, int64(12), ops[0].Objects())
	assert.True(t, ops[0].Finished())
	assert.Equal(t, "https://storage.example/r1", ops[0].URL)
	assert.Empty(t, ops[0].PartialDataURL)
	assert.Nil(t, ops[1], "unknown to Shopify")
	assert.Equal(t, map[string]any{"o0": "gid://shopify/BulkOperation/1", "o1": "gid://shopify/BulkOperation/9"}, fake.seen()[0].Variables)
	assert.False(t, BulkOperation{Status: BulkRunning}.Finished())
}

func TestFindBulkMutation(t *testing.T) {
	marker := NewBulkMarker()
	other := NewBulkMarker()
	require.NotEqual(t, marker, other)
	mutation := func(m string) string {
		return "mutation " + MarkedName("CvoTagsAdd", m) + "($id: ID!) { tagsAdd(id: $id) { userErrors { message } } }"
	}
	page := func(next bool, nodes ...string) func(http.ResponseWriter) {
		var ns []string
		for i, q := range nodes {
			ns = append(ns, fmt.Sprintf(`{"id":"gid://shopify/BulkOperation/%d","query":%q}`, i+1, q))
		}
		return okReply(fmt.Sprintf(`{"bulkOperations":{"nodes":[%s],"pageInfo":{"hasNextPage":%t,"endCursor":"c1"}}}`, strings.Join(ns, ","), next), 5, 990)
	}
	noBulkOperationsQuery := reply(200, `{"errors":[{"message":"Field 'bulkOperations' doesn't exist on type 'QueryRoot'","extensions":{"code":"undefinedField"}}]}`)
	current := func(q string) func(http.ResponseWriter) {
		return okReply(fmt.Sprintf(`{"currentBulkOperation":{"id":"gid://shopify/BulkOperation/7","query":%q}}`, q), 1, 990)
	}
	tests := []struct {
		name      string
		responses []func(http.ResponseWriter)
		want      string
	}{
		{name: "on the second page", responses: []func(http.ResponseWriter){page(true, mutation(other)), page(false, mutation(other), mutation(marker))}, want: "gid://shopify/BulkOperation/2"},
		{name: "never started", responses: []func(http.ResponseWriter){page(false, mutation(other))}},
		{name: "before 2026-01: the current one", responses: []func(http.ResponseWriter){noBulkOperationsQuery, current(mutation(marker))}, want: "gid://shopify/BulkOperation/7"},
		{name: "before 2026-01: another one runs", responses: []func(http.ResponseWriter){noBulkOperationsQuery, current(mutation(other))}},
	}
	since := time.Date(2026, 10, 2, 0, 30, 0, 0, time.UTC)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, fake, _ := newTestAdmin(t, tc.responses...)
			id, err := FindBulkMutation(context.Background(), c, since, marker)
			require.NoError(t, err)
			assert.Equal(t, tc.want, id)
			assert.Equal(t, "operation_type:mutation created_at:>=2026-10-01", fake.seen()[0].Variables["q"])
		})
	}
}

func TestReadMutationResults(t *testing.T) {
	file := `{"data":{"tagsAdd":{"userErrors":[]}},"__lineNumber":0}
{"data":{"tagsAdd":{"userErrors":[{"field":["id"],"message":"Customer does not exist"}]}},"__lineNumber":1}

{"data":{"tagsAdd":{"userErrors":[]}},"__lineNumber":3}
{"data":{"tagsAdd":{"userErrors":[]}},"__lineNumber":99}
{"data":{"tagsAdd":{"userErrors":[]}},"__lineNumber":-1}`
	got, err := ReadMutationResults(strings.NewReader(file), "tagsAdd", 5)
	require.NoError(t, err)
	assert.Equal(t, []bool{true, false, false, true, false}, got, "line 2 and 4 are not answered; 99 and -1 name no input line")

	_, err = ReadMutationResults(strings.NewReader("{\"data\":\n"), "tagsAdd", 1)
	assert.Error(t, err)
	_, err = ReadMutationResults(io.MultiReader(strings.NewReader(file), iotestErr{}), "tagsAdd", 5)
	assert.ErrorContains(t, err, "read result")
}

type iotestErr struct{}

func (iotestErr) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

func TestParseMutationResultLine(t *testing.T) {
	tests := []struct {
		line string
		n    int
		ok   bool
	}{
		{`{"data":{"tagsAdd":{"userErrors":[]}},"__lineNumber":4}`, 4, true},
		{`{"data":{"tagsAdd":{"userErrors":[{"field":["id"],"message":"Customer does not exist"}]}},"__lineNumber":0}`, 0, false},
		{`{"data":{"tagsAdd":null},"errors":[{"message":"boom"}],"__lineNumber":2}`, 2, false},
		{`{"errors":[{"message":"Variable $id was provided invalid value"}],"__lineNumber":7}`, 7, false},
		{`{"data":{"tagsRemove":{"userErrors":[]}},"__lineNumber":1}`, 1, false}, // another mutation's field
		{`{"data":{"tagsAdd":{"userErrors":[]}}}`, -1, false},
	}
	for _, tc := range tests {
		n, ok, err := ParseMutationResultLine([]byte(tc.line), "tagsAdd")
		assert.NoError(t, err, tc.line)
		assert.Equal(t, tc.n, n, tc.line)
		assert.Equal(t, tc.ok, ok, tc.line)
	}
	_, _, err := ParseMutationResultLine([]byte(`{"data":`), "tagsAdd")
	assert.Error(t, err)
}

func FuzzParseMutationResultLine(f *testing.F) {
	f.Add([]byte(`{"data":{"tagsAdd":{"userErrors":[]}},"__lineNumber":4}`))
	f.Add([]byte(`{"errors":[],"__lineNumber":-3}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, line []byte) {
		n, ok, err := ParseMutationResultLine(line, "tagsAdd")
		if err != nil {
			assert.False(t, ok)
			assert.Equal(t, -1, n)
		}
	})
}

func TestBulkWakerCutsAWaitShort(t *testing.T) {
	ctx := context.Background()
	w := NewBulkWaker()
	woken := w.Woken(testShop)
	other := w.Woken("other.myshopify.com")
	assert.Equal(t, woken, w.Woken(testShop), "waiters of one shop share the wake-up")
	w.Wake(testShop)

	done := make(chan error, 1)
	go func() { done <- SleepUntil(ctx, time.Hour, woken) }()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("the woken wait did not end")
	}
	select {
	case <-other:
		t.Fatal("another shop's waiter was woken")
	default:
	}
	assert.NotEqual(t, woken, w.Woken(testShop), "a new wait waits for the next wake-up")

	var none *BulkWaker
	assert.Nil(t, none.Woken(testShop), "no waker: polling only")
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	assert.ErrorIs(t, SleepUntil(cctx, time.Hour, none.Woken(testShop)), context.Canceled)
	assert.NoError(t, Sleep(ctx, time.Millisecond))
}

// TestRunBulkAfterLostAnswer: a run mutation whose answer is lost (a 5xx
// after Shopify may have run it) is never sent again blindly: the
// operation is looked for first (bulk mutations by marker, bulk queries by
// their query) and sent again only when Shopify does not have it.
func TestRunBulkAfterLostAnswer(t *testing.T) {
	const query = "{ orders { edges { node { id } } } }"
	marker := NewBulkMarker()
	mutation := "mutation " + MarkedName("CvoTagsAdd", marker) + "($id: ID!) { tagsAdd(id: $id) { userErrors { message } } }"
	lost := reply(http.StatusBadGateway, `{"errors":"Bad Gateway"}`)
	found := func(q string) func(http.ResponseWriter) {
		return okReply(fmt.Sprintf(`{"bulkOperations":{"nodes":[{"id":"gid://shopify/BulkOperation/1","query":"{ other }"},{"id":"gid://shopify/BulkOperation/5","query":%q}],"pageInfo":{"hasNextPage":false,"endCursor":"c"}}}`, q), 5, 990)
	}
	notFound := okReply(`{"bulkOperations":{"nodes":[],"pageInfo":{"hasNextPage":false,"endCursor":null}}}`, 5, 990)
	startedQuery := okReply(`{"bulkOperationRunQuery":{"bulkOperation":{"id":"gid://shopify/BulkOperation/6","status":"CREATED"},"userErrors":[]}}`, 10, 990)
	startedMutation := okReply(`{"bulkOperationRunMutation":{"bulkOperation":{"id":"gid://shopify/BulkOperation/6","status":"CREATED"},"userErrors":[]}}`, 10, 990)
	tests := []struct {
		name      string
		mutation  bool
		responses []func(http.ResponseWriter)
		want      string
		sends     int
		wantErr   error
	}{
		{name: "mutation ran: found by marker", mutation: true, responses: []func(http.ResponseWriter){lost, found(mutation)}, want: "gid://shopify/BulkOperation/5", sends: 1},
		{name: "mutation never ran: sent again", mutation: true, responses: []func(http.ResponseWriter){lost, notFound, startedMutation}, want: "gid://shopify/BulkOperation/6", sends: 2},
		{name: "query ran: found by its query", responses: []func(http.ResponseWriter){lost, found(query)}, want: "gid://shopify/BulkOperation/5", sends: 1},
		{name: "query never ran: sent again", responses: []func(http.ResponseWriter){lost, notFound, startedQuery}, want: "gid://shopify/BulkOperation/6", sends: 2},
		{name: "every answer lost: bounded", mutation: true, responses: []func(http.ResponseWriter){lost, notFound, lost, notFound, lost, notFound}, sends: 3, wantErr: ErrOutcomeUnknown},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, fake, _ := newTestAdmin(t, tc.responses...)
			var (
				id  string
				err error
			)
			if tc.mutation {
				var op BulkOperation
				op, err = RunBulkMutation(context.Background(), c, mutation, "tmp/1/a.jsonl", marker)
				id = op.ID
			} else {
				id, err = RunBulkQuery(context.Background(), c, query)
			}
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tc.want, id)
			sends := 0
			for _, r := range fake.seen() {
				if strings.Contains(r.Query, "bulkOperationRun") {
					sends++
				}
			}
			assert.Equal(t, tc.sends, sends, "run mutations sent")
		})
	}
}
