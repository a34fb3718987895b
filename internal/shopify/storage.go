package shopify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	neturl "net/url"
	"strconv"
	"strings"
)

// Storage reaches the signed URLs of Shopify's file storage: staged uploads
// of bulk mutation variables and bulk operation results. They are not the
// shop's Admin API, so no access token is ever sent to them.
type Storage struct {
	// HTTP sends the requests. A result file streams for a long time, so
	// for downloads it should have no overall timeout.
	HTTP *http.Client
	// Shop names the shop in errors and logs.
	Shop string
	Log  *slog.Logger
	// Backoff waits before the attempt-th retry (attempt ≥ 1); it returns
	// ctx's error when ctx ends first.
	Backoff func(ctx context.Context, attempt int) error
}

// ErrBulkResultGone means a result file can no longer be downloaded (its
// signed URL expired or was revoked): ask Shopify for the operation again,
// and run it anew when Shopify agrees the result is gone.
var ErrBulkResultGone = errors.New("bulk result no longer available")

// Attempt budgets of one transfer: the first request plus its retries.
const (
	MaxDownloadAttempts = 5
	maxUploadAttempts   = 3
)

// unsigned hides the query string of the signed URL in err: Go's
// *url.Error quotes the whole URL, and its signature would otherwise reach
// logs, sync_state.last_error and the admin API. The URL's host and path
// stay, to tell one file from another.
func unsigned(err error) error {
	var ue *neturl.Error
	if errors.As(err, &ue) {
		ue.URL = withoutQuery(ue.URL)
	}
	return err
}

func withoutQuery(u string) string {
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		return u[:i] + "?…"
	}
	return u
}

func (s Storage) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

// Download opens a bulk result file for reading. A failure to open it
// (network, 5xx) is retried with Backoff; a stream that breaks in the
// middle is resumed where it broke with a Range request (or, from a server
// that ignores Range, by skipping what was read), so a large file is never
// read twice and the reader sees one unbroken stream. At most five
// requests are made for a file; what exhausts them fails with a read
// error (worth retrying later), or ErrBulkResultGone when the storage
// refuses the URL (4xx).
func (s Storage) Download(ctx context.Context, url string) (io.ReadCloser, error) {
	b := &resumingBody{ctx: ctx, s: s, url: url}
	if err := b.open(); err != nil {
		return nil, err
	}
	return b, nil
}

// resumingBody is a result file being read, reopened after breaks.
type resumingBody struct {
	ctx      context.Context
	s        Storage
	url      string
	body     io.ReadCloser
	off      int64 // bytes handed out so far
	attempts int
	broken   error // a read error seen after returning data, handled next Read
}

// open (re)opens the file at b.off, retrying within the attempt budget.
func (b *resumingBody) open() error {
	var last error
	for b.attempts < MaxDownloadAttempts {
		if b.attempts > 0 {
			if err := b.s.Backoff(b.ctx, b.attempts); err != nil {
				return err
			}
		}
		b.attempts++
		body, err := b.request()
		if err == nil {
			b.body = body
			return nil
		}
		if errors.Is(err, ErrBulkResultGone) || b.ctx.Err() != nil {
			return err
		}
		last = err
	}
	return fmt.Errorf("download bulk result for %s: %d attempts: %w", b.s.Shop, b.attempts, last)
}

func (b *resumingBody) request() (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(b.ctx, http.MethodGet, b.url, nil)
	if err != nil {
		return nil, fmt.Errorf("download bulk result for %s: %w", b.s.Shop, unsigned(err))
	}
	if b.off > 0 {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(b.off, 10)+"-")
	}
	resp, err := b.s.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("download bulk result for %s: %w", b.s.Shop, unsigned(err))
	}
	switch {
	case resp.StatusCode == http.StatusPartialContent && b.off > 0 &&
		strings.HasPrefix(resp.Header.Get("Content-Range"), "bytes "+strconv.FormatInt(b.off, 10)+"-"):
		return resp.Body, nil
	case resp.StatusCode == http.StatusOK:
		if b.off > 0 {
			// The server sent the whole file again: skip what was read.
			if _, err := io.CopyN(io.Discard, resp.Body, b.off); err != nil {
				resp.Body.Close()
				return nil, fmt.Errorf("download bulk result for %s: skip %d bytes: %w", b.s.Shop, b.off, err)
			}
		}
		return resp.Body, nil
	case resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusForbidden ||
		resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		// Signed storage URLs answer 400 or 403 once expired.
		resp.Body.Close()
		return nil, fmt.Errorf("download bulk result for %s: HTTP %d: %w", b.s.Shop, resp.StatusCode, ErrBulkResultGone)
	default:
		resp.Body.Close()
		return nil, fmt.Errorf("download bulk result for %s: HTTP %d", b.s.Shop, resp.StatusCode)
	}
}

func (b *resumingBody) Read(p []byte) (int, error) {
	for {
		if b.broken == nil {
			n, err := b.body.Read(p)
			err = unsigned(err)
			b.off += int64(n)
			if err == nil || errors.Is(err, io.EOF) {
				return n, err
			}
			if b.ctx.Err() != nil {
				return n, err
			}
			if n > 0 {
				b.broken = err
				return n, nil
			}
			b.broken = err
		}
		cause := b.broken
		b.broken = nil
		b.body.Close()
		b.s.log().Warn("bulk result download broke; resuming", "shop", b.s.Shop, "offset", b.off, "attempt", b.attempts, "err", cause)
		if err := b.open(); err != nil {
			// Keep a body to close and report the break that started it.
			b.body = io.NopCloser(strings.NewReader(""))
			return 0, fmt.Errorf("%w (resuming at byte %d: %w)", cause, b.off, err)
		}
	}
}

func (b *resumingBody) Close() error { return b.body.Close() }

// StagedTarget is where stagedUploadsCreate says to upload a file.
type StagedTarget struct {
	URL        string `json:"url"`
	Parameters []struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	} `json:"parameters"`
}

// Path is the stagedUploadPath a bulk mutation names the file by: the
// form's "key" parameter ("" when Shopify sent none).
func (t StagedTarget) Path() string {
	for _, p := range t.Parameters {
		if p.Name == "key" {
			return p.Value
		}
	}
	return ""
}

const stagedUploadMutation = `mutation CvoStage($input: [StagedUploadInput!]!) { stagedUploadsCreate(input: $input) {
  stagedTargets { url parameters { name value } } userErrors { field message } } }`

// StageBulkVariables asks Shopify where to upload a bulk mutation's
// variables file (JSONL, one variables object a line).
func StageBulkVariables(ctx context.Context, gql GraphQL, filename string) (StagedTarget, error) {
	var out struct {
		Staged struct {
			Targets    []StagedTarget `json:"stagedTargets"`
			UserErrors UserErrors     `json:"userErrors"`
		} `json:"stagedUploadsCreate"`
	}
	input := []map[string]any{{
		"resource": "BULK_MUTATION_VARIABLES", "filename": filename, "mimeType": "text/jsonl", "httpMethod": "POST",
	}}
	if _, err := gql.Do(ctx, stagedUploadMutation, map[string]any{"input": input}, &out); err != nil {
		return StagedTarget{}, fmt.Errorf("stage upload: %w", err)
	}
	if err := out.Staged.UserErrors.Err(); err != nil {
		return StagedTarget{}, fmt.Errorf("stage upload: %w", err)
	}
	if len(out.Staged.Targets) != 1 {
		return StagedTarget{}, fmt.Errorf("stage upload: %d targets", len(out.Staged.Targets))
	}
	if out.Staged.Targets[0].Path() == "" {
		return StagedTarget{}, errors.New("stage upload: no key parameter")
	}
	return out.Staged.Targets[0], nil
}

// Upload POSTs a file (size bytes read from body) to a staged target as
// the multipart form it asks for, streaming it, and returns its
// stagedUploadPath. 5xx answers and network errors are retried with
// Backoff, up to three requests; a 4xx is final.
func (s Storage) Upload(ctx context.Context, t StagedTarget, filename string, body io.ReaderAt, size int64) (string, error) {
	// The form's fields and the file part's header go before the file,
	// the closing boundary after it; only the file is streamed.
	var head, tail bytes.Buffer
	mw := multipart.NewWriter(&head)
	for _, p := range t.Parameters {
		if err := mw.WriteField(p.Name, p.Value); err != nil {
			return "", fmt.Errorf("upload for %s: %w", s.Shop, err)
		}
	}
	if _, err := mw.CreateFormFile("file", filename); err != nil {
		return "", fmt.Errorf("upload for %s: %w", s.Shop, err)
	}
	split := head.Len()
	if err := mw.Close(); err != nil {
		return "", fmt.Errorf("upload for %s: %w", s.Shop, err)
	}
	tail.Write(head.Bytes()[split:])
	head.Truncate(split)
	form := func() io.Reader {
		return io.MultiReader(bytes.NewReader(head.Bytes()), io.NewSectionReader(body, 0, size), bytes.NewReader(tail.Bytes()))
	}
	length := int64(head.Len()) + size + int64(tail.Len())
	for attempt := 1; ; attempt++ {
		status, err := s.post(ctx, t.URL, mw.FormDataContentType(), form(), length)
		if err == nil {
			return t.Path(), nil
		}
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		if (status != 0 && status < 500) || attempt >= maxUploadAttempts {
			return "", fmt.Errorf("upload for %s: %w", s.Shop, err)
		}
		if err := s.Backoff(ctx, attempt); err != nil {
			return "", err
		}
	}
}

// post sends one upload; status is 0 when no answer came.
func (s Storage) post(ctx context.Context, url, contentType string, form io.Reader, length int64) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, form)
	if err != nil {
		return 0, unsigned(err)
	}
	req.ContentLength = length
	req.Header.Set("Content-Type", contentType)
	resp, err := s.HTTP.Do(req)
	if err != nil {
		return 0, unsigned(err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp.StatusCode, nil
	}
	return resp.StatusCode, fmt.Errorf("HTTP %d", resp.StatusCode)
}
