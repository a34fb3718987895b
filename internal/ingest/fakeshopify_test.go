package ingest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/postgres"
	"github.com/cvo-app/cvo/internal/shopify"
)

// fakeShopify answers bulkOperationRunQuery and bulkOperation(id:) with
// result files the test controls, so exact (and broken) JSONL can be fed
// to a sync.
type fakeShopify struct {
	t   *testing.T
	srv *httptest.Server
	hc  *http.Client

	mu      sync.Mutex
	files   map[postgres.Resource]string
	ops     map[string]string // operation id -> file content at start
	queries []string
	// faults are played, one per request, on result downloads.
	faults    []downloadFault
	downloads []string // the Range header of each result download ("" = whole)
}

// downloadFault is how one result download goes wrong.
type downloadFault int

const (
	faultNone      downloadFault = iota
	faultHTTP500                 // answer 500
	faultHTTP403                 // answer 403, as storage does for a URL it refuses
	faultMidStream               // send half the requested bytes, then drop the connection
	faultNoRange                 // ignore a Range header and send the whole file
)

// failDownloads makes the next result downloads go wrong as given.
func (f *fakeShopify) failDownloads(faults ...downloadFault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = append(f.faults, faults...)
}

func newFakeShopify(t *testing.T) *fakeShopify {
	f := &fakeShopify{t: t, files: map[postgres.Resource]string{}, ops: map[string]string{}}
	for _, r := range postgres.Resources {
		b, err := os.ReadFile(filepath.Join("testdata", "bulk", string(r)+".jsonl"))
		require.NoError(t, err)
		f.files[r] = string(b)
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	var err error
	f.hc, err = shopify.NewHTTPClient(f.srv.URL, 10*time.Second)
	require.NoError(t, err)
	return f
}

func (f *fakeShopify) set(r postgres.Resource, content string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.files[r] = content
}

func (f *fakeShopify) syncer(db *postgres.DB) *Syncer {
	return NewSyncer(SyncerConfig{Store: postgres.NewSyncStore(db), Deliveries: postgres.NewDeliveryStore(db), Tokens: staticTokens("shpat_test"), HTTPClient: f.hc, APIVersion: testVersion,
		PollMin: time.Millisecond, PollMax: 5 * time.Millisecond})
}

func (f *fakeShopify) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if strings.HasPrefix(r.URL.Path, "/files/") {
		content, ok := f.ops["gid://shopify/BulkOperation/"+strings.TrimPrefix(r.URL.Path, "/files/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		f.downloads = append(f.downloads, r.Header.Get("Range"))
		fault := faultNone
		if len(f.faults) > 0 {
			fault, f.faults = f.faults[0], f.faults[1:]
		}
		switch fault {
		case faultHTTP500:
			http.Error(w, "backend error", http.StatusInternalServerError)
		case faultHTTP403:
			http.Error(w, "AccessDenied", http.StatusForbidden)
		case faultMidStream:
			start := 0
			if rg := r.Header.Get("Range"); rg != "" {
				_, err := fmt.Sscanf(rg, "bytes=%d-", &start)
				require.NoError(f.t, err)
				w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, len(content)-1, len(content)))
				w.Header().Set("Content-Length", strconv.Itoa(len(content)-start))
				w.WriteHeader(http.StatusPartialContent)
			} else {
				w.Header().Set("Content-Length", strconv.Itoa(len(content)))
			}
			_, _ = w.Write([]byte(content[start : start+(len(content)-start)/2]))
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler) // the connection drops mid-file
		case faultNoRange:
			_, _ = w.Write([]byte(content))
		default:
			http.ServeContent(w, r, "result.jsonl", time.Time{}, strings.NewReader(content))
		}
		return
	}
	if r.Header.Get("X-Shopify-Access-Token") == "" {
		http.Error(w, `{"errors":"[API] Invalid API key or access token"}`, http.StatusUnauthorized)
		return
	}
	var req struct {
		Query     string         `json:"query"`
		Variables map[string]any `json:"variables"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	switch {
	case strings.Contains(req.Query, "bulkOperationRunQuery"):
		q, _ := req.Variables["query"].(string)
		f.queries = append(f.queries, q)
		var res postgres.Resource
		for _, c := range postgres.Resources {
			if strings.HasPrefix(strings.TrimSpace(strings.TrimPrefix(q, "{")), string(c)) {
				res = c
			}
		}
		id := fmt.Sprintf("gid://shopify/BulkOperation/%d", len(f.ops)+1)
		f.ops[id] = f.files[res]
		fmt.Fprintf(w, `{"data":{"bulkOperationRunQuery":{"bulkOperation":{"id":%q,"status":"CREATED"},"userErrors":[]}}}`, id)
	case strings.Contains(req.Query, "bulkOperation(id:"):
		id, _ := req.Variables["id"].(string)
		content, ok := f.ops[id]
		if !ok {
			fmt.Fprint(w, `{"data":{"bulkOperation":null}}`)
			return
		}
		n := bytes.Count([]byte(content), []byte("\n"))
		url := "null"
		if content != "" {
			url = fmt.Sprintf("%q", f.srv.URL+"/files/"+strings.TrimPrefix(id, "gid://shopify/BulkOperation/"))
		}
		fmt.Fprintf(w, `{"data":{"bulkOperation":{"id":%q,"status":"COMPLETED","errorCode":null,"objectCount":"%d","url":%s,"partialDataUrl":null,"createdAt":"2024-01-01T00:00:00Z","completedAt":%q}}}`,
			id, n, url, time.Now().UTC().Format(time.RFC3339))
	default:
		http.Error(w, "unexpected query", http.StatusBadRequest)
	}
}
