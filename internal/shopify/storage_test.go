package shopify

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fileServer serves one file; answers[i] says how request i goes.
type fileServer struct {
	mu      sync.Mutex
	file    string
	answers []string // "ok", "break" (half, then the connection dies), "norange", "500", "403"
	ranges  []string
}

func (f *fileServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	i := len(f.ranges)
	f.ranges = append(f.ranges, r.Header.Get("Range"))
	answer := "ok"
	if i < len(f.answers) {
		answer = f.answers[i]
	}
	f.mu.Unlock()
	from := 0
	if rg := r.Header.Get("Range"); rg != "" && answer != "norange" {
		from, _ = strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(rg, "bytes="), "-"))
		w.Header().Set("Content-Range", "bytes "+strconv.Itoa(from)+"-"+strconv.Itoa(len(f.file)-1)+"/"+strconv.Itoa(len(f.file)))
		w.Header().Set("Content-Length", strconv.Itoa(len(f.file)-from))
		w.WriteHeader(http.StatusPartialContent)
		_, _ = io.WriteString(w, f.file[from:])
		return
	}
	switch answer {
	case "500":
		w.WriteHeader(http.StatusInternalServerError)
		return
	case "403":
		w.WriteHeader(http.StatusForbidden)
		return
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(f.file)))
	if answer == "break" {
		_, _ = io.WriteString(w, f.file[:len(f.file)/2])
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	}
	_, _ = io.WriteString(w, f.file)
}

func TestStorageDownload(t *testing.T) {
	file := strings.Repeat(`{"id":"gid://shopify/Order/1","name":"#1001"}`+"\n", 2000)
	tests := []struct {
		name    string
		answers []string
		ranges  []string // Range header of each request
		waits   []int    // backoff attempts waited
		wantErr error
		errText string
	}{
		{name: "clean", answers: []string{"ok"}, ranges: []string{""}},
		{name: "broken stream resumed with Range", answers: []string{"break", "ok"}, ranges: []string{"", "bytes=" + strconv.Itoa(len(file)/2) + "-"}, waits: []int{1}},
		{name: "server ignoring Range: skip what was read", answers: []string{"break", "norange"}, ranges: []string{"", "bytes=" + strconv.Itoa(len(file)/2) + "-"}, waits: []int{1}},
		{name: "5xx to open, retried", answers: []string{"500", "500", "ok"}, ranges: []string{"", "", ""}, waits: []int{1, 2}},
		{name: "gone", answers: []string{"403"}, ranges: []string{""}, wantErr: ErrBulkResultGone},
		{name: "every attempt fails", answers: []string{"500", "500", "500", "500", "500", "ok"}, ranges: []string{"", "", "", "", ""}, waits: []int{1, 2, 3, 4}, errText: "5 attempts"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &fileServer{file: file, answers: tc.answers}
			srv := httptest.NewServer(f)
			defer srv.Close()
			var waits []int
			s := Storage{HTTP: srv.Client(), Shop: testShop, Backoff: func(ctx context.Context, attempt int) error {
				waits = append(waits, attempt)
				return ctx.Err()
			}}
			body, err := s.Download(context.Background(), srv.URL+"/result.jsonl")
			switch {
			case tc.wantErr != nil:
				require.ErrorIs(t, err, tc.wantErr)
			case tc.errText != "":
				require.ErrorContains(t, err, tc.errText)
			default:
				require.NoError(t, err)
				got, err := io.ReadAll(body)
				require.NoError(t, err)
				require.NoError(t, body.Close())
				assert.Equal(t, file, string(got), "one unbroken stream")
			}
			assert.Equal(t, tc.ranges, f.ranges)
			assert.Equal(t, tc.waits, waits)
		})
	}
}

func TestStorageUpload(t *testing.T) {
	target := StagedTarget{}
	require.NoError(t, json.Unmarshal([]byte(`{"url":"","parameters":[{"name":"key","value":"tmp/1/bulk/a.jsonl"},{"name":"policy","value":"p"}]}`), &target))
	tests := []struct {
		name     string
		statuses []int
		requests int
		wantErr  bool
	}{
		{name: "created", statuses: []int{201}, requests: 1},
		{name: "5xx retried", statuses: []int{503, 502, 204}, requests: 3},
		{name: "5xx three times", statuses: []int{500, 500, 500, 204}, requests: 3, wantErr: true},
		{name: "4xx is final", statuses: []int{400, 204}, requests: 1, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var (
				mu    sync.Mutex
				forms []map[string]string
			)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				require.NoError(t, r.ParseMultipartForm(1<<20))
				file, _, err := r.FormFile("file")
				require.NoError(t, err)
				content, _ := io.ReadAll(file)
				mu.Lock()
				forms = append(forms, map[string]string{"key": r.FormValue("key"), "policy": r.FormValue("policy"), "file": string(content)})
				status := tc.statuses[len(forms)-1]
				mu.Unlock()
				w.WriteHeader(status)
			}))
			defer srv.Close()
			tg := target
			tg.URL = srv.URL
			s := Storage{HTTP: srv.Client(), Shop: testShop, Backoff: func(ctx context.Context, _ int) error { return ctx.Err() }}
			path, err := s.Upload(context.Background(), tg, "vars.jsonl", strings.NewReader("{\"id\":1}\n"), 9)
			if tc.wantErr {
				require.Error(t, err)
			} else {
				require.NoError(t, err)
				assert.Equal(t, "tmp/1/bulk/a.jsonl", path)
			}
			require.Len(t, forms, tc.requests)
			assert.Equal(t, map[string]string{"key": "tmp/1/bulk/a.jsonl", "policy": "p", "file": "{\"id\":1}\n"}, forms[0])
		})
	}

	t.Run("cancelled while waiting", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) }))
		defer srv.Close()
		tg := target
		tg.URL = srv.URL
		stop := errors.New("stopped")
		s := Storage{HTTP: srv.Client(), Shop: testShop, Backoff: func(context.Context, int) error { return stop }}
		_, err := s.Upload(context.Background(), tg, "vars.jsonl", strings.NewReader("{}\n"), 3)
		assert.ErrorIs(t, err, stop)
	})
}

// TestStorageErrorsHideSignatures: a failed download or upload (no
// server, a connection cut before the answer) reports the URL without its
// query string, where a signed URL keeps its signature.
func TestStorageErrorsHideSignatures(t *testing.T) {
	const query = "?X-Goog-Credential=cred&X-Goog-Signature=s3cr3t"
	cut := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) }))
	defer cut.Close()
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	s := Storage{HTTP: cut.Client(), Shop: testShop, Backoff: func(ctx context.Context, _ int) error { return ctx.Err() }}
	for _, tc := range []struct {
		name string
		base string
	}{
		{"connection cut", cut.URL},
		{"nobody listening", gone.URL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Download(context.Background(), tc.base+"/result.jsonl"+query)
			require.Error(t, err)
			assert.NotContains(t, err.Error(), "s3cr3t")
			assert.NotContains(t, err.Error(), "X-Goog")
			assert.Contains(t, err.Error(), "/result.jsonl", "the file is still named")

			target := StagedTarget{URL: tc.base + "/upload" + query}
			_, err = s.Upload(context.Background(), target, "vars.jsonl", strings.NewReader("{}\n"), 3)
			require.Error(t, err)
			assert.NotContains(t, err.Error(), "s3cr3t")
			assert.NotContains(t, err.Error(), "X-Goog")
		})
	}
}
