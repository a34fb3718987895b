package activation

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"time"

	"github.com/cvo-app/cvo/internal/shopify"
)

// Large changes go out as bulk mutations, one operation per kind (removes,
// adds, metafields), each a staged JSONL file with one line per customer:
// stagedUploadsCreate → multipart POST of the file → bulkOperationRunMutation
// → poll bulkOperation(id:) → read the result file. Lines whose result has
// userErrors, errors or no data (a failed operation's missing lines) are
// sent again in a new operation, up to the writer's attempts. The
// operations of one attempt run side by side: removes and adds touch
// disjoint tags, so their order does not matter, and API 2026-01 allows five
// bulk operations per shop at once (LIMIT_REACHED, or before 2026-01
// OPERATION_IN_PROGRESS, makes the writer wait for its own operations and
// try again).
//
// Nothing of an operation is recorded until its result file has been read,
// so a worker that dies mid-operation leaves customer_writeback as it was;
// the next run plans the same changes and sends them again, which is
// harmless: adding a tag a customer has, or removing one it lacks, changes
// nothing.

// maxUploadBytes stays under Shopify's 100 MB limit for a variables file;
// bigger changes are split into several operations.
const maxUploadBytes = 90 << 20

const (
	bulkTagsRemove = `mutation CvoTagsRemove($id: ID!, $tags: [String!]!) { tagsRemove(id: $id, tags: $tags) { userErrors { field message } } }`
	bulkTagsAdd    = `mutation CvoTagsAdd($id: ID!, $tags: [String!]!) { tagsAdd(id: $id, tags: $tags) { userErrors { field message } } }`
	bulkMetafields = `mutation CvoMetafields($metafields: [MetafieldsSetInput!]!) { metafieldsSet(metafields: $metafields) { userErrors { field message code } } }`

	stagedUploadMutation = `mutation CvoStage($input: [StagedUploadInput!]!) { stagedUploadsCreate(input: $input) {
  stagedTargets { url parameters { name value } } userErrors { field message } } }`
	runMutation = `mutation CvoBulkRun($mutation: String!, $path: String!) { bulkOperationRunMutation(mutation: $mutation, stagedUploadPath: $path) {
  bulkOperation { id status } userErrors { field message code } } }`
)

func (k opKind) bulkMutation() string {
	switch k {
	case opRemove:
		return bulkTagsRemove
	case opAdd:
		return bulkTagsAdd
	}
	return bulkMetafields
}

// bulkOperation is one running operation: ops[n] is the op of line n.
type bulkOperation struct {
	kind opKind
	ops  []op
	id   string

	status, errorCode string
	url, partialURL   string
}

func (b *bulkOperation) done() bool {
	switch b.status {
	case "COMPLETED", "FAILED", "CANCELED", "EXPIRED":
		return true
	}
	return false
}

// applyByBulk sends ops through bulk mutations, retrying failed lines.
func (r *run) applyByBulk(ctx context.Context, ops []op) error {
	pending := ops
	for attempt := 1; attempt <= r.w.maxAttempts && len(pending) > 0; attempt++ {
		var running []*bulkOperation
		for _, kind := range []opKind{opRemove, opAdd, opMetafields} {
			var mine []op
			for _, o := range pending {
				if o.kind == kind {
					mine = append(mine, o)
				}
			}
			chunks, err := r.bulkFiles(mine)
			if err != nil {
				return err
			}
			for _, ch := range chunks {
				op, err := r.submit(ctx, kind, ch.ops, ch.body, running)
				if err != nil {
					return err
				}
				running = append(running, op)
			}
		}
		if err := r.waitAll(ctx, running); err != nil {
			return err
		}
		var failed []op
		for _, b := range running {
			okays, err := r.readResult(ctx, b)
			if err != nil {
				return err
			}
			failed = append(failed, r.settle(b.ops, okays)...)
		}
		if err := r.flush(ctx); err != nil {
			return err
		}
		pending = failed
	}
	return nil
}

type bulkFile struct {
	ops  []op
	body []byte
}

// bulkFiles writes the variables lines of ops, split into files under
// maxUploadBytes.
func (r *run) bulkFiles(ops []op) ([]bulkFile, error) {
	var (
		out []bulkFile
		cur bulkFile
	)
	for _, o := range ops {
		c := &r.plan.changes[o.change]
		var vars any
		switch o.kind {
		case opRemove:
			vars = map[string]any{"id": customerGID(c.id), "tags": c.remove}
		case opAdd:
			vars = map[string]any{"id": customerGID(c.id), "tags": c.add}
		default:
			vars = map[string]any{"metafields": metafieldInputs(c)}
		}
		line, err := json.Marshal(vars)
		if err != nil {
			return nil, fmt.Errorf("write back to %s: encode line: %w", r.shop, err)
		}
		if len(cur.body)+len(line)+1 > maxUploadBytes && len(cur.ops) > 0 {
			out = append(out, cur)
			cur = bulkFile{}
		}
		cur.ops = append(cur.ops, o)
		cur.body = append(append(cur.body, line...), '\n')
	}
	if len(cur.ops) > 0 {
		out = append(out, cur)
	}
	return out, nil
}

// submit stages the file and starts the operation. When the shop runs as
// many bulk operations as it may, it waits for one of its own running ones
// (or, with none, backs off) and tries again.
func (r *run) submit(ctx context.Context, kind opKind, ops []op, body []byte, running []*bulkOperation) (*bulkOperation, error) {
	if err := r.w.checkInstalled(ctx, r.shop); err != nil {
		return nil, err
	}
	path, err := r.stage(ctx, body)
	if err != nil {
		return nil, err
	}
	wait := r.w.pollMin
	for {
		var out struct {
			Run struct {
				BulkOperation *struct {
					ID     string `json:"id"`
					Status string `json:"status"`
				} `json:"bulkOperation"`
				UserErrors shopify.UserErrors `json:"userErrors"`
			} `json:"bulkOperationRunMutation"`
		}
		if err := r.api.do(ctx, runMutation, map[string]any{"mutation": kind.bulkMutation(), "path": path}, &out); err != nil {
			return nil, fmt.Errorf("write back to %s: run bulk %s: %w", r.shop, kind.field(), err)
		}
		if op := out.Run.BulkOperation; op != nil && len(out.Run.UserErrors) == 0 {
			r.report.BulkOperations++
			return &bulkOperation{kind: kind, ops: ops, id: op.ID, status: op.Status}, nil
		}
		busy := false
		for _, ue := range out.Run.UserErrors {
			busy = busy || ue.Code == "LIMIT_REACHED" || ue.Code == "OPERATION_IN_PROGRESS"
		}
		if !busy {
			return nil, fmt.Errorf("write back to %s: run bulk %s: %w", r.shop, kind.field(), out.Run.UserErrors.Err())
		}
		if ours := pendingOps(running); len(ours) > 0 {
			if err := r.waitAny(ctx, ours); err != nil {
				return nil, err
			}
			continue
		}
		if err := r.w.sleep(ctx, wait); err != nil {
			return nil, err
		}
		wait = min(2*wait, r.w.pollMax)
	}
}

func pendingOps(ops []*bulkOperation) []*bulkOperation {
	var out []*bulkOperation
	for _, b := range ops {
		if !b.done() {
			out = append(out, b)
		}
	}
	return out
}

// stage uploads a variables file and returns its stagedUploadPath.
func (r *run) stage(ctx context.Context, body []byte) (string, error) {
	var out struct {
		Staged struct {
			Targets []struct {
				URL        string `json:"url"`
				Parameters []struct {
					Name  string `json:"name"`
					Value string `json:"value"`
				} `json:"parameters"`
			} `json:"stagedTargets"`
			UserErrors shopify.UserErrors `json:"userErrors"`
		} `json:"stagedUploadsCreate"`
	}
	input := []map[string]any{{
		"resource": "BULK_MUTATION_VARIABLES", "filename": "cvo-write-back.jsonl", "mimeType": "text/jsonl", "httpMethod": "POST",
	}}
	if err := r.api.do(ctx, stagedUploadMutation, map[string]any{"input": input}, &out); err != nil {
		return "", fmt.Errorf("write back to %s: stage upload: %w", r.shop, err)
	}
	if err := out.Staged.UserErrors.Err(); err != nil {
		return "", fmt.Errorf("write back to %s: stage upload: %w", r.shop, err)
	}
	if len(out.Staged.Targets) != 1 {
		return "", fmt.Errorf("write back to %s: stage upload: %d targets", r.shop, len(out.Staged.Targets))
	}
	t := out.Staged.Targets[0]
	var key string
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	for _, p := range t.Parameters {
		if err := mw.WriteField(p.Name, p.Value); err != nil {
			return "", err
		}
		if p.Name == "key" {
			key = p.Value
		}
	}
	if key == "" {
		return "", fmt.Errorf("write back to %s: stage upload: no key parameter", r.shop)
	}
	fw, err := mw.CreateFormFile("file", "cvo-write-back.jsonl")
	if err != nil {
		return "", err
	}
	if _, err := fw.Write(body); err != nil {
		return "", err
	}
	if err := mw.Close(); err != nil {
		return "", err
	}
	if err := r.upload(ctx, t.URL, mw.FormDataContentType(), form.Bytes()); err != nil {
		return "", err
	}
	r.report.UploadedBytes += int64(len(body))
	return key, nil
}

// upload POSTs the form to the storage URL, retrying 5xx answers and
// network errors a few times. The URL is not Shopify's Admin API, so no
// access token goes with it.
func (r *run) upload(ctx context.Context, url, contentType string, form []byte) error {
	wait := r.w.pollMin
	for attempt := 1; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(form))
		if err != nil {
			return fmt.Errorf("write back to %s: upload: %w", r.shop, err)
		}
		req.Header.Set("Content-Type", contentType)
		resp, err := r.w.hc.Do(req)
		status := 0
		if err == nil {
			status = resp.StatusCode
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			if status >= 200 && status < 300 {
				return nil
			}
			err = fmt.Errorf("HTTP %d", status)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if (status != 0 && status < 500) || attempt >= 3 {
			return fmt.Errorf("write back to %s: upload: %w", r.shop, err)
		}
		if err := r.w.sleep(ctx, wait); err != nil {
			return err
		}
		wait = min(2*wait, r.w.pollMax)
	}
}

const pollFields = `id status errorCode url partialDataUrl`

// poll refreshes the status of the given operations in one request.
func (r *run) poll(ctx context.Context, ops []*bulkOperation) error {
	if err := r.w.checkInstalled(ctx, r.shop); err != nil {
		return err
	}
	var decl, body bytes.Buffer
	vars := map[string]any{}
	for i, b := range ops {
		if i > 0 {
			decl.WriteString(", ")
		}
		fmt.Fprintf(&decl, "$o%d: ID!", i)
		fmt.Fprintf(&body, " o%d: bulkOperation(id: $o%d) { %s }", i, i, pollFields)
		vars["o"+strconv.Itoa(i)] = b.id
	}
	var out map[string]*struct {
		Status     string  `json:"status"`
		ErrorCode  *string `json:"errorCode"`
		URL        *string `json:"url"`
		PartialURL *string `json:"partialDataUrl"`
	}
	if err := r.api.do(ctx, "query CvoBulkPoll("+decl.String()+") {"+body.String()+" }", vars, &out); err != nil {
		return fmt.Errorf("write back to %s: poll bulk operations: %w", r.shop, err)
	}
	for i, b := range ops {
		got := out["o"+strconv.Itoa(i)]
		if got == nil {
			return fmt.Errorf("write back to %s: bulk operation %s not found", r.shop, b.id)
		}
		b.status = got.Status
		b.errorCode, b.url, b.partialURL = deref(got.ErrorCode), deref(got.URL), deref(got.PartialURL)
	}
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// waitAll polls until every operation has finished, backing off from
// pollMin to pollMax.
func (r *run) waitAll(ctx context.Context, ops []*bulkOperation) error {
	return r.waitUntil(ctx, ops, func() bool { return len(pendingOps(ops)) == 0 })
}

// waitAny polls until at least one of the operations has finished.
func (r *run) waitAny(ctx context.Context, ops []*bulkOperation) error {
	return r.waitUntil(ctx, ops, func() bool { return len(pendingOps(ops)) < len(ops) })
}

func (r *run) waitUntil(ctx context.Context, ops []*bulkOperation, done func() bool) error {
	wait := r.w.pollMin
	for !done() {
		if err := r.w.sleep(ctx, wait); err != nil {
			return err
		}
		wait = min(2*wait, r.w.pollMax)
		if err := r.poll(ctx, pendingOps(ops)); err != nil {
			return err
		}
	}
	for _, b := range ops {
		if b.status == "CANCELED" {
			// Shopify cancels a shop's operations when the app is removed.
			if err := r.w.checkInstalled(ctx, r.shop); err != nil {
				return err
			}
		}
	}
	return nil
}

// resultLine is one line of a bulk mutation's result file.
type resultLine struct {
	Data       map[string]*payloadResult `json:"data"`
	Errors     json.RawMessage           `json:"errors"`
	LineNumber *int                      `json:"__lineNumber"`
}

// parseResultLine reads one result line: which input line it answers and
// whether the mutation field succeeded there. A line without a line number
// answers n = -1.
func parseResultLine(raw []byte, field string) (n int, ok bool, err error) {
	var rl resultLine
	if err := json.Unmarshal(raw, &rl); err != nil {
		return -1, false, fmt.Errorf("result line: %w", err)
	}
	if rl.LineNumber == nil {
		return -1, false, nil
	}
	failed := len(rl.Errors) > 0 && !bytes.Equal(rl.Errors, []byte("null")) && !bytes.Equal(rl.Errors, []byte("[]"))
	return *rl.LineNumber, !failed && rl.Data[field].ok(), nil
}

// readResult reads the result (or partial result) file of a finished
// operation and says which lines succeeded. Lines missing from the file
// count as failed.
func (r *run) readResult(ctx context.Context, b *bulkOperation) ([]bool, error) {
	okays := make([]bool, len(b.ops))
	url := b.url
	if url == "" {
		url = b.partialURL
	}
	if url == "" {
		if b.status != "COMPLETED" {
			r.w.log.Warn("bulk write-back operation produced no result", "shop", r.shop, "kind", b.kind.field(),
				"status", b.status, "error_code", b.errorCode)
		}
		return okays, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("write back to %s: read result: %w", r.shop, err)
	}
	resp, err := r.w.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("write back to %s: read result: %w", r.shop, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("write back to %s: read result: HTTP %d", r.shop, resp.StatusCode)
	}
	field := b.kind.field()
	br := bufio.NewReaderSize(resp.Body, 256<<10)
	for {
		line, rerr := br.ReadBytes('\n')
		if t := bytes.TrimSpace(line); len(t) > 0 {
			n, ok, err := parseResultLine(t, field)
			if err != nil {
				return nil, fmt.Errorf("write back to %s: %w", r.shop, err)
			}
			if n >= 0 && n < len(okays) {
				okays[n] = ok
			}
		}
		if rerr != nil {
			if errors.Is(rerr, io.EOF) {
				break
			}
			return nil, fmt.Errorf("write back to %s: read result: %w", r.shop, rerr)
		}
	}
	return okays, nil
}

// sleepContext waits for d or until ctx ends.
func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
