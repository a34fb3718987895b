package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
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

// download opens a result file. The URL is signed and points at Shopify's
// storage, not the shop, so no access token is sent with it.
func (c *bulkClient) download(ctx context.Context, url string) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("download bulk result for %s: %w", c.shop, err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("download bulk result for %s: %w", c.shop, err)
	}
	switch {
	case resp.StatusCode == http.StatusOK:
		return resp.Body, nil
	case resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusForbidden ||
		resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		// Signed storage URLs answer 400 or 403 once expired.
		resp.Body.Close()
		return nil, fmt.Errorf("download bulk result for %s: HTTP %d: %w", c.shop, resp.StatusCode, errResultGone)
	default:
		resp.Body.Close()
		return nil, fmt.Errorf("download bulk result for %s: HTTP %d", c.shop, resp.StatusCode)
	}
}
