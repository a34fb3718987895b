package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cvo-app/cvo/internal/shopify"
)

// Bulk operation statuses (BulkOperationStatus).
const (
	bulkCreated   = "CREATED"
	bulkRunning   = "RUNNING"
	bulkCompleted = "COMPLETED"
	bulkCanceling = "CANCELING"
	bulkCanceled  = "CANCELED"
	bulkFailed    = "FAILED"
	bulkExpired   = "EXPIRED"
)

// bulkResultLifetime is how long Shopify keeps a result URL valid (seven
// days); a little is taken off so a download never starts on a dying URL.
const bulkResultLifetime = 7*24*time.Hour - time.Hour

// graphQL is what the bulk client needs of shopify.AdminClient.
type graphQL interface {
	Do(ctx context.Context, query string, vars any, out any) (shopify.Cost, error)
}

// bulkClient runs bulk query operations for one shop and downloads their
// results.
type bulkClient struct {
	gql  graphQL
	http *http.Client
	shop string
	log  *slog.Logger
}

// bulkOperation is a BulkOperation as Shopify reports it.
type bulkOperation struct {
	ID             string    `json:"id"`
	Status         string    `json:"status"`
	ErrorCode      string    `json:"errorCode"`
	ObjectCount    string    `json:"objectCount"`
	URL            string    `json:"url"`
	PartialDataURL string    `json:"partialDataUrl"`
	CreatedAt      time.Time `json:"createdAt"`
	CompletedAt    time.Time `json:"completedAt"`
}

func (op bulkOperation) objects() int64 {
	n, _ := strconv.ParseInt(op.ObjectCount, 10, 64)
	return n
}

// errBulkBusy means Shopify refused a new bulk operation because the
// shop already runs as many as the API version allows.
var errBulkBusy = errors.New("bulk operation already in progress")

const runBulkQuery = `mutation RunBulkQuery($query: String!) {
  bulkOperationRunQuery(query: $query) {
    bulkOperation { id status }
    userErrors { field message code }
  }
}`

// run starts a bulk query operation and returns its id.
func (c *bulkClient) run(ctx context.Context, query string) (string, error) {
	var out struct {
		Run struct {
			BulkOperation *struct {
				ID     string `json:"id"`
				Status string `json:"status"`
			} `json:"bulkOperation"`
			UserErrors shopify.UserErrors `json:"userErrors"`
		} `json:"bulkOperationRunQuery"`
	}
	if _, err := c.gql.Do(ctx, runBulkQuery, map[string]any{"query": query}, &out); err != nil {
		return "", fmt.Errorf("start bulk query for %s: %w", c.shop, err)
	}
	if err := out.Run.UserErrors.Err(); err != nil {
		for _, u := range out.Run.UserErrors {
			msg := strings.ToLower(u.Message)
			if u.Code == "OPERATION_IN_PROGRESS" || u.Code == "LIMIT_REACHED" ||
				strings.Contains(msg, "already in progress") || strings.Contains(msg, "limit reached") {
				return "", fmt.Errorf("start bulk query for %s: %w: %w", c.shop, errBulkBusy, err)
			}
		}
		return "", fmt.Errorf("start bulk query for %s: %w", c.shop, err)
	}
	if out.Run.BulkOperation == nil || out.Run.BulkOperation.ID == "" {
		return "", fmt.Errorf("start bulk query for %s: no operation returned", c.shop)
	}
	return out.Run.BulkOperation.ID, nil
}

const getBulkOperation = `query BulkOperation($id: ID!) {
  bulkOperation(id: $id) {
    id status errorCode objectCount url partialDataUrl createdAt completedAt
  }
}`

// get reads an operation's status; a nil operation means Shopify no longer
// knows it.
func (c *bulkClient) get(ctx context.Context, id string) (*bulkOperation, error) {
	var out struct {
		Op *bulkOperation `json:"bulkOperation"`
	}
	if _, err := c.gql.Do(ctx, getBulkOperation, map[string]any{"id": id}, &out); err != nil {
		return nil, fmt.Errorf("read bulk operation for %s: %w", c.shop, err)
	}
	return out.Op, nil
}

// errResultGone means the result file can no longer be downloaded (its URL
// expired), so the operation must be run again.
var errResultGone = errors.New("bulk result no longer available")

// maxDownloadAttempts bounds the requests one import makes for a result
// file: the first, plus retries after failures to open it or breaks in the
// middle of it.
const maxDownloadAttempts = 5

// download opens a result file for reading. A failure to open it (network,
// 5xx) is retried with backoff; a stream that breaks in the middle is
// resumed where it broke with a Range request (or, from a server that
// ignores Range, by skipping what was read), so a large file is never read
// twice and the import above sees one unbroken stream. Attempts are
// bounded by maxDownloadAttempts, waits by backoff; what exhausts them
// fails the import with a read error (worth retrying later), or
// errResultGone when the storage refuses the URL (4xx). The URL is signed
// and points at Shopify's storage, not the shop, so no access token is
// sent with it.
func (c *bulkClient) download(ctx context.Context, url string, backoff func(ctx context.Context, attempt int) error) (io.ReadCloser, error) {
	b := &resumingBody{ctx: ctx, c: c, url: url, backoff: backoff}
	if err := b.open(); err != nil {
		return nil, err
	}
	return b, nil
}

// resumingBody is a result file being read, reopened after breaks.
type resumingBody struct {
	ctx      context.Context
	c        *bulkClient
	url      string
	backoff  func(ctx context.Context, attempt int) error
	body     io.ReadCloser
	off      int64 // bytes handed out so far
	attempts int
	broken   error // a read error seen after returning data, handled next Read
}

// open (re)opens the file at b.off, retrying within the attempt budget.
func (b *resumingBody) open() error {
	var last error
	for b.attempts < maxDownloadAttempts {
		if b.attempts > 0 {
			if err := b.backoff(b.ctx, b.attempts); err != nil {
				return err
			}
		}
		b.attempts++
		body, err := b.request()
		if err == nil {
			b.body = body
			return nil
		}
		if errors.Is(err, errResultGone) || b.ctx.Err() != nil {
			return err
		}
		last = err
	}
	return fmt.Errorf("download bulk result for %s: %d attempts: %w", b.c.shop, b.attempts, last)
}

func (b *resumingBody) request() (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(b.ctx, http.MethodGet, b.url, nil)
	if err != nil {
		return nil, fmt.Errorf("download bulk result for %s: %w", b.c.shop, err)
	}
	if b.off > 0 {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(b.off, 10)+"-")
	}
	resp, err := b.c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("download bulk result for %s: %w", b.c.shop, err)
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
				return nil, fmt.Errorf("download bulk result for %s: skip %d bytes: %w", b.c.shop, b.off, err)
			}
		}
		return resp.Body, nil
	case resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusForbidden ||
		resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		// Signed storage URLs answer 400 or 403 once expired.
		resp.Body.Close()
		return nil, fmt.Errorf("download bulk result for %s: HTTP %d: %w", b.c.shop, resp.StatusCode, errResultGone)
	default:
		resp.Body.Close()
		return nil, fmt.Errorf("download bulk result for %s: HTTP %d", b.c.shop, resp.StatusCode)
	}
}

func (b *resumingBody) Read(p []byte) (int, error) {
	for {
		if b.broken == nil {
			n, err := b.body.Read(p)
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
		b.c.log.Warn("bulk result download broke; resuming", "shop", b.c.shop, "offset", b.off, "attempt", b.attempts, "err", cause)
		if err := b.open(); err != nil {
			// Keep a body to close and report the break that started it.
			b.body = io.NopCloser(strings.NewReader(""))
			return 0, fmt.Errorf("%w (resuming at byte %d: %w)", cause, b.off, err)
		}
	}
}

func (b *resumingBody) Close() error { return b.body.Close() }
