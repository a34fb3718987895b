package shopify

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Bulk operations: the one place the app starts, watches and reads them.
// A bulk query (history sync) is bulkOperationRunQuery → poll
// bulkOperation(id:) (or be woken by bulk_operations/finish) → download the
// JSONL result. A bulk mutation (write-back) is stagedUploadsCreate →
// upload the variables file → bulkOperationRunMutation → poll → read the
// per-line results. Callers keep their own state between the steps (in
// PostgreSQL) so a process that dies between any two of them resumes
// without starting an operation twice; this file holds no state.

// Bulk operation statuses (BulkOperationStatus).
const (
	BulkCreated   = "CREATED"
	BulkRunning   = "RUNNING"
	BulkCompleted = "COMPLETED"
	BulkCanceling = "CANCELING"
	BulkCanceled  = "CANCELED"
	BulkFailed    = "FAILED"
	BulkExpired   = "EXPIRED"
)

// BulkResultLifetime is how long Shopify keeps a result URL valid (seven
// days), less an hour so a download never starts on a dying URL.
const BulkResultLifetime = 7*24*time.Hour - time.Hour

// BulkOperation is a BulkOperation as Shopify reports it; fields Shopify
// sends as null are empty.
type BulkOperation struct {
	ID             string    `json:"id"`
	Status         string    `json:"status"`
	ErrorCode      string    `json:"errorCode"`
	ObjectCount    string    `json:"objectCount"`
	URL            string    `json:"url"`
	PartialDataURL string    `json:"partialDataUrl"`
	CreatedAt      time.Time `json:"createdAt"`
	CompletedAt    time.Time `json:"completedAt"`
}

// Objects is ObjectCount as a number (0 when absent).
func (op BulkOperation) Objects() int64 {
	n, _ := strconv.ParseInt(op.ObjectCount, 10, 64)
	return n
}

// Finished reports whether the operation has stopped for good.
func (op BulkOperation) Finished() bool {
	switch op.Status {
	case BulkCompleted, BulkFailed, BulkCanceled, BulkExpired:
		return true
	}
	return false
}

// ErrBulkBusy means Shopify refused a new bulk operation because the shop
// already runs as many as the API version allows (one before 2026-01,
// five from it): wait for one to finish and try again.
var ErrBulkBusy = errors.New("bulk operation already in progress")

const bulkOperationFields = `id status errorCode objectCount url partialDataUrl createdAt completedAt`

const runBulkQuery = `mutation RunBulkQuery($query: String!) {
  bulkOperationRunQuery(query: $query) {
    bulkOperation { id status }
    userErrors { field message code }
  }
}`

const runBulkMutation = `mutation CvoBulkRun($mutation: String!, $path: String!) { bulkOperationRunMutation(mutation: $mutation, stagedUploadPath: $path) {
  bulkOperation { id status } userErrors { field message code } } }`

// startedOperation is the payload of both run mutations.
type startedOperation struct {
	BulkOperation *struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	} `json:"bulkOperation"`
	UserErrors UserErrors `json:"userErrors"`
}

// started reads a run mutation's payload: the new operation, ErrBulkBusy,
// or the user errors.
func (p startedOperation) started() (BulkOperation, error) {
	if err := p.UserErrors.Err(); err != nil {
		for _, u := range p.UserErrors {
			msg := strings.ToLower(u.Message)
			if u.Code == "OPERATION_IN_PROGRESS" || u.Code == "LIMIT_REACHED" ||
				strings.Contains(msg, "already in progress") || strings.Contains(msg, "limit reached") {
				return BulkOperation{}, fmt.Errorf("%w: %w", ErrBulkBusy, err)
			}
		}
		return BulkOperation{}, err
	}
	if p.BulkOperation == nil || p.BulkOperation.ID == "" {
		return BulkOperation{}, errors.New("no operation returned")
	}
	return BulkOperation{ID: p.BulkOperation.ID, Status: p.BulkOperation.Status}, nil
}

// maxRunSends bounds how often one run mutation is sent when its answers
// are lost and Shopify is found not to have started it.
const maxRunSends = 3

// runBulk sends a run mutation (field is its payload's name) without the
// client's blind retries: a 5xx or a network error may come after Shopify
// started the operation, and sending the mutation again would run it
// twice. After such a loss, find looks for the operation at Shopify; only
// when it is not there is the mutation sent again.
func runBulk(ctx context.Context, gql GraphQL, mutation, field string, vars map[string]any, find func(context.Context) (string, error)) (BulkOperation, error) {
	for sends := 1; ; sends++ {
		var out map[string]startedOperation
		_, err := gql.Do(SendOnce(ctx), mutation, vars, &out)
		if err == nil {
			return out[field].started()
		}
		if !errors.Is(err, ErrOutcomeUnknown) || sends >= maxRunSends {
			return BulkOperation{}, err
		}
		id, ferr := find(ctx)
		if ferr != nil {
			return BulkOperation{}, fmt.Errorf("%w (then looking for the operation: %w)", err, ferr)
		}
		if id != "" {
			// Its status is learnt by the caller's first poll.
			return BulkOperation{ID: id}, nil
		}
	}
}

// RunBulkQuery starts a bulk query operation and returns its id. When the
// answer is lost, the app's recent bulk queries are searched for this very
// query before it is sent again.
func RunBulkQuery(ctx context.Context, gql GraphQL, query string) (string, error) {
	since := time.Now()
	op, err := runBulk(ctx, gql, runBulkQuery, "bulkOperationRunQuery", map[string]any{"query": query},
		func(ctx context.Context) (string, error) {
			return findBulkOperation(ctx, gql, "QUERY", since, func(q string) bool { return strings.TrimSpace(q) == strings.TrimSpace(query) })
		})
	if err != nil {
		return "", fmt.Errorf("start bulk query: %w", err)
	}
	return op.ID, nil
}

// RunBulkMutation starts a bulk mutation over a staged variables file
// (UploadStaged's path). mutation's operation name carries marker
// (MarkedName): when the answer is lost, the operation is looked for by it
// (FindBulkMutation) before the mutation is sent again.
func RunBulkMutation(ctx context.Context, gql GraphQL, mutation, stagedPath, marker string) (BulkOperation, error) {
	since := time.Now()
	op, err := runBulk(ctx, gql, runBulkMutation, "bulkOperationRunMutation", map[string]any{"mutation": mutation, "path": stagedPath},
		func(ctx context.Context) (string, error) { return FindBulkMutation(ctx, gql, since, marker) })
	if err != nil {
		return BulkOperation{}, fmt.Errorf("start bulk mutation: %w", err)
	}
	return op, nil
}

const getBulkOperation = `query BulkOperation($id: ID!) {
  bulkOperation(id: $id) {
    ` + bulkOperationFields + `
  }
}`

// GetBulkOperation reads an operation; nil means Shopify no longer knows it.
func GetBulkOperation(ctx context.Context, gql GraphQL, id string) (*BulkOperation, error) {
	var out struct {
		Op *BulkOperation `json:"bulkOperation"`
	}
	if _, err := gql.Do(ctx, getBulkOperation, map[string]any{"id": id}, &out); err != nil {
		return nil, fmt.Errorf("read bulk operation: %w", err)
	}
	return out.Op, nil
}

// GetBulkOperations reads several operations in one request; an entry is
// nil where Shopify no longer knows the operation.
func GetBulkOperations(ctx context.Context, gql GraphQL, ids []string) ([]*BulkOperation, error) {
	var decl, body strings.Builder
	vars := make(map[string]any, len(ids))
	for i, id := range ids {
		if i > 0 {
			decl.WriteString(", ")
		}
		fmt.Fprintf(&decl, "$o%d: ID!", i)
		fmt.Fprintf(&body, " o%d: bulkOperation(id: $o%d) { %s }", i, i, bulkOperationFields)
		vars["o"+strconv.Itoa(i)] = id
	}
	var out map[string]*BulkOperation
	if _, err := gql.Do(ctx, "query CvoBulkPoll("+decl.String()+") {"+body.String()+" }", vars, &out); err != nil {
		return nil, fmt.Errorf("poll bulk operations: %w", err)
	}
	ops := make([]*BulkOperation, len(ids))
	for i := range ids {
		ops[i] = out["o"+strconv.Itoa(i)]
	}
	return ops, nil
}

// NewBulkMarker returns a token unique to one bulk mutation, to put in its
// operation name (MarkedName) so FindBulkMutation finds the operation
// again after a crash lost its id.
func NewBulkMarker() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "b" + hex.EncodeToString(b[:])
}

// MarkedName is a GraphQL operation name carrying marker.
func MarkedName(name, marker string) string { return name + "_" + marker }

const findBulkOperations = `query CvoBulkFind($q: String!, $after: String) { bulkOperations(first: 50, after: $after, query: $q) {
  nodes { id query } pageInfo { hasNextPage endCursor } } }`

// FindBulkMutation looks for the bulk mutation whose operation name
// carries marker among the app's bulk mutations created since (a day
// earlier, for clock skew); "" means Shopify never started it.
func FindBulkMutation(ctx context.Context, gql GraphQL, since time.Time, marker string) (string, error) {
	named := "_" + marker + "("
	id, err := findBulkOperation(ctx, gql, "MUTATION", since, func(q string) bool { return strings.Contains(q, named) })
	if err != nil {
		return "", fmt.Errorf("find bulk mutation: %w", err)
	}
	return id, nil
}

// findBulkOperation looks for the app's bulk operation of kind (QUERY or
// MUTATION) created since (a day earlier, for clock skew) whose query
// matches; "" when there is none.
func findBulkOperation(ctx context.Context, gql GraphQL, kind string, since time.Time, match func(query string) bool) (string, error) {
	type node struct {
		ID    string `json:"id"`
		Query string `json:"query"`
	}
	q := "operation_type:" + strings.ToLower(kind) + " created_at:>=" + since.UTC().AddDate(0, 0, -1).Format("2006-01-02")
	var found string
	err := EachNode(ctx, gql, findBulkOperations, "bulkOperations", map[string]any{"q": q}, func(n node) bool {
		if match(n.Query) {
			found = n.ID
		}
		return found == ""
	})
	var gqlErrs GraphQLErrors
	if errors.As(err, &gqlErrs) {
		// Before API 2026-01 there is no bulkOperations query, but a shop
		// runs one bulk operation of a kind at a time, and one whose id is
		// unknown can only be the last one started: the current one, if any.
		return currentBulkOperation(ctx, gql, kind, match)
	}
	return found, err
}

func currentBulkOperation(ctx context.Context, gql GraphQL, kind string, match func(query string) bool) (string, error) {
	var out struct {
		Op *struct {
			ID    string `json:"id"`
			Query string `json:"query"`
		} `json:"currentBulkOperation"`
	}
	// kind is one of two constants, not outside input.
	if _, err := gql.Do(ctx, `query CvoBulkCurrent { currentBulkOperation(type: `+kind+`) { id query } }`, nil, &out); err != nil {
		return "", err
	}
	if out.Op != nil && match(out.Op.Query) {
		return out.Op.ID, nil
	}
	return "", nil
}

// mutationResultLine is one line of a bulk mutation's result file.
type mutationResultLine struct {
	Data map[string]*struct {
		UserErrors UserErrors `json:"userErrors"`
	} `json:"data"`
	Errors     json.RawMessage `json:"errors"`
	LineNumber *int            `json:"__lineNumber"`
}

// ParseMutationResultLine reads one line of a bulk mutation's result:
// which input line it answers (-1 when it names none) and whether the
// mutation field ran there without errors or user errors.
func ParseMutationResultLine(raw []byte, field string) (n int, ok bool, err error) {
	var rl mutationResultLine
	if err := json.Unmarshal(raw, &rl); err != nil {
		return -1, false, fmt.Errorf("result line: %w", err)
	}
	if rl.LineNumber == nil {
		return -1, false, nil
	}
	failed := len(rl.Errors) > 0 && !bytes.Equal(rl.Errors, []byte("null")) && !bytes.Equal(rl.Errors, []byte("[]"))
	p := rl.Data[field]
	return *rl.LineNumber, !failed && p != nil && len(p.UserErrors) == 0, nil
}

// ReadMutationResults reads a bulk mutation's result (or partial result)
// file of an input of lines lines and says which lines succeeded; a line
// the file does not answer counts as failed.
func ReadMutationResults(r io.Reader, field string, lines int) ([]bool, error) {
	okays := make([]bool, lines)
	br := bufio.NewReaderSize(r, 256<<10)
	for {
		line, rerr := br.ReadBytes('\n')
		if t := bytes.TrimSpace(line); len(t) > 0 {
			n, ok, err := ParseMutationResultLine(t, field)
			if err != nil {
				return nil, err
			}
			if n >= 0 && n < len(okays) {
				okays[n] = ok
			}
		}
		if rerr != nil {
			if errors.Is(rerr, io.EOF) {
				return okays, nil
			}
			return nil, fmt.Errorf("read result: %w", rerr)
		}
	}
}
