package activation

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
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cvo-app/cvo/internal/postgres"
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
// A batch (one operation) is stored in PostgreSQL, with the lines it
// covers, before its file is staged; its operation id as soon as Shopify
// returns it; and its confirmed lines are recorded and the batch deleted in
// one transaction once the result file has been read. The mutation's
// operation name carries a marker unique to the batch. So a worker that
// dies at any point leaves a batch row, and the next write-back of the shop
// first settles it (resume): it finds the operation by its id, or by the
// marker among the app's bulk operations when the id was never stored,
// waits for it and reads its results, without staging or starting the file
// again. Only a batch whose operation Shopify never started, or that ended
// without results, is dropped; its changes are then planned and sent anew,
// which is harmless: adding a tag a customer has, or removing one it
// lacks, changes nothing.

// maxUploadBytes stays under Shopify's 100 MB limit for a variables file;
// bigger changes are split into several operations.
const maxUploadBytes = 90 << 20

// Bulk mutations, with %s for the operation name's batch marker.
const (
	bulkTagsRemove = `mutation CvoTagsRemove%s($id: ID!, $tags: [String!]!) { tagsRemove(id: $id, tags: $tags) { userErrors { field message } } }`
	bulkTagsAdd    = `mutation CvoTagsAdd%s($id: ID!, $tags: [String!]!) { tagsAdd(id: $id, tags: $tags) { userErrors { field message } } }`
	bulkMetafields = `mutation CvoMetafields%s($metafields: [MetafieldsSetInput!]!) { metafieldsSet(metafields: $metafields) { userErrors { field message code } } }`

	stagedUploadMutation = `mutation CvoStage($input: [StagedUploadInput!]!) { stagedUploadsCreate(input: $input) {
  stagedTargets { url parameters { name value } } userErrors { field message } } }`
	runMutation = `mutation CvoBulkRun($mutation: String!, $path: String!) { bulkOperationRunMutation(mutation: $mutation, stagedUploadPath: $path) {
  bulkOperation { id status } userErrors { field message code } } }`
	findOperations = `query CvoBulkFind($q: String!, $after: String) { bulkOperations(first: 50, after: $after, query: $q) {
  nodes { id query } pageInfo { hasNextPage endCursor } } }`
)

// bulkMutation is the kind's mutation with the batch marker in its name.
func (k opKind) bulkMutation(marker string) string {
	switch k {
	case opRemove:
		return fmt.Sprintf(bulkTagsRemove, "_"+marker)
	case opAdd:
		return fmt.Sprintf(bulkTagsAdd, "_"+marker)
	}
	return fmt.Sprintf(bulkMetafields, "_"+marker)
}

func kindOf(field string) (opKind, bool) {
	for _, k := range []opKind{opRemove, opAdd, opMetafields} {
		if k.field() == field {
			return k, true
		}
	}
	return 0, false
}

// newMarker returns a token unique to one batch, usable in a GraphQL name.
func newMarker() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "b" + hex.EncodeToString(b[:])
}

// bulkOperation is one stored batch and its operation: line n of its
// file is ops[n] (ops is nil for a batch resumed from an earlier run).
type bulkOperation struct {
	batch int64
	kind  opKind
	lines int
	ops   []op
	id    string

	status, errorCode string
	url, partialURL   string
}

func (b *bulkOperation) done() bool {
	switch b.status {
	case "COMPLETED", "FAILED", "CANCELED", "EXPIRED", "GONE":
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
				op, err := r.submit(ctx, kind, ch, running)
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
			okays, err := r.settleBatch(ctx, b)
			if err != nil {
				return err
			}
			failed = append(failed, r.settle(b.ops, okays, false)...)
		}
		pending = failed
	}
	return nil
}

// settleBatch reads a finished operation's results and records its
// confirmed lines, deleting the batch in the same transaction.
func (r *run) settleBatch(ctx context.Context, b *bulkOperation) ([]bool, error) {
	okays, err := r.readResult(ctx, b)
	if err != nil {
		return nil, err
	}
	if err := r.w.step(ctx, StepResultRead); err != nil {
		return nil, err
	}
	var failed []int32
	for i, ok := range okays {
		if !ok {
			failed = append(failed, int32(i))
		}
	}
	if err := r.w.store.SettleBulkBatch(ctx, r.shop, b.batch, failed); err != nil {
		return nil, err
	}
	return okays, r.w.step(ctx, StepSettled)
}

// resume settles the batches an earlier write-back of the shop left
// behind (its worker died), before anything is planned: it finds each
// batch's operation at Shopify, waits for it and records its confirmed
// lines, so nothing already sent is sent again.
func (r *run) resume(ctx context.Context) error {
	batches, err := r.w.store.BulkBatches(ctx, r.shop)
	if err != nil || len(batches) == 0 {
		return err
	}
	var ops []*bulkOperation
	for _, bb := range batches {
		kind, ok := kindOf(bb.Kind)
		if !ok {
			return fmt.Errorf("write back to %s: bulk batch %d has unknown kind %q", r.shop, bb.ID, bb.Kind)
		}
		b := &bulkOperation{batch: bb.ID, kind: kind, lines: bb.Lines, id: bb.OperationID}
		if b.id == "" {
			id, err := r.findOperation(ctx, bb)
			if err != nil {
				return err
			}
			if id == "" {
				// Shopify never started it: its changes are planned again.
				r.w.log.Info("bulk write-back batch never started; sending its changes again", "shop", r.shop, "batch", bb.ID)
				if err := r.w.store.DropBulkBatch(ctx, r.shop, bb.ID); err != nil {
					return err
				}
				continue
			}
			b.id = id
			if err := r.w.store.SetBulkStarted(ctx, r.shop, bb.ID, id, r.w.now()); err != nil {
				return err
			}
		}
		r.w.log.Info("bulk write-back operation resumed", "shop", r.shop, "batch", bb.ID, "operation", b.id, "lines", bb.Lines)
		ops = append(ops, b)
	}
	if len(ops) == 0 {
		return nil
	}
	if err := r.poll(ctx, ops); err != nil {
		return err
	}
	if err := r.waitAll(ctx, ops); err != nil {
		return err
	}
	for _, b := range ops {
		okays, err := r.settleBatch(ctx, b)
		if err != nil {
			return err
		}
		r.report.ResumedOperations++
		for _, ok := range okays {
			if ok {
				r.report.ResumedLines++
			}
		}
	}
	return nil
}

// findOperation looks for the batch's operation among the app's bulk
// mutations created since the batch (a day earlier, for clock skew), by
// the marker in its operation name; "" means Shopify never started it.
func (r *run) findOperation(ctx context.Context, bb postgres.BulkBatch) (string, error) {
	type node struct {
		ID    string `json:"id"`
		Query string `json:"query"`
	}
	q := "operation_type:mutation created_at:>=" + bb.CreatedAt.UTC().AddDate(0, 0, -1).Format("2006-01-02")
	var found string
	err := eachNode(ctx, r.api, findOperations, "bulkOperations", map[string]any{"q": q}, func(n node) bool {
		if strings.Contains(n.Query, "_"+bb.Marker+"(") {
			found = n.ID
		}
		return found == ""
	})
	var gqlErrs shopify.GraphQLErrors
	if errors.As(err, &gqlErrs) {
		// Before API 2026-01 there is no bulkOperations query, but a shop
		// runs one bulk mutation at a time, and a batch without a stored
		// id can only be the last one started: the current one, if any.
		return r.currentOperation(ctx, bb)
	}
	if err != nil {
		return "", fmt.Errorf("write back to %s: find bulk operation of batch %d: %w", r.shop, bb.ID, err)
	}
	return found, nil
}

func (r *run) currentOperation(ctx context.Context, bb postgres.BulkBatch) (string, error) {
	var out struct {
		Op *struct {
			ID    string `json:"id"`
			Query string `json:"query"`
		} `json:"currentBulkOperation"`
	}
	if err := r.api.do(ctx, `query CvoBulkCurrent { currentBulkOperation(type: MUTATION) { id query } }`, nil, &out); err != nil {
		return "", fmt.Errorf("write back to %s: find bulk operation of batch %d: %w", r.shop, bb.ID, err)
	}
	if out.Op != nil && strings.Contains(out.Op.Query, "_"+bb.Marker+"(") {
		return out.Op.ID, nil
	}
	return "", nil
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

// bulkLines are the stored form of a file's lines.
func (r *run) bulkLines(ops []op) []postgres.BulkLine {
	out := make([]postgres.BulkLine, len(ops))
	for i, o := range ops {
		c := &r.plan.changes[o.change]
		l := postgres.BulkLine{CustomerID: c.id}
		switch o.kind {
		case opRemove:
			l.Tags = c.remove
		case opAdd:
			l.Tags = c.add
		default:
			l.Metafields = c.metafields
		}
		out[i] = l
	}
	return out
}

// submit stores the batch, stages its file and starts the operation,
// recording each step. When the shop runs as many bulk operations as it
// may, it waits for one of its own running ones (or, with none, backs off)
// and tries again.
func (r *run) submit(ctx context.Context, kind opKind, f bulkFile, running []*bulkOperation) (*bulkOperation, error) {
	if err := r.w.checkInstalled(ctx, r.shop); err != nil {
		return nil, err
	}
	marker := newMarker()
	batch, err := r.w.store.CreateBulkBatch(ctx, r.shop,
		postgres.BulkBatch{Kind: kind.field(), Marker: marker, CreatedAt: r.w.now()}, r.bulkLines(f.ops))
	if err != nil {
		return nil, err
	}
	if err := r.w.step(ctx, StepBatchStored); err != nil {
		return nil, err
	}
	path, err := r.stage(ctx, f.body)
	if err != nil {
		return nil, err
	}
	if err := r.w.store.SetBulkStaged(ctx, r.shop, batch, path); err != nil {
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
		if err := r.api.do(ctx, runMutation, map[string]any{"mutation": kind.bulkMutation(marker), "path": path}, &out); err != nil {
			return nil, fmt.Errorf("write back to %s: run bulk %s: %w", r.shop, kind.field(), err)
		}
		if op := out.Run.BulkOperation; op != nil && len(out.Run.UserErrors) == 0 {
			r.report.BulkOperations++
			if err := r.w.step(ctx, StepStarted); err != nil {
				return nil, err
			}
			if err := r.w.store.SetBulkStarted(ctx, r.shop, batch, op.ID, r.w.now()); err != nil {
				return nil, err
			}
			if err := r.w.step(ctx, StepIDStored); err != nil {
				return nil, err
			}
			return &bulkOperation{batch: batch, kind: kind, lines: len(f.ops), ops: f.ops, id: op.ID, status: op.Status}, nil
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
	if err := r.w.step(ctx, StepStaged); err != nil {
		return "", err
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
	return key, r.w.step(ctx, StepUploaded)
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
			// Unknown to Shopify: nothing of it can be confirmed, so its
			// lines count as failed and go again.
			r.w.log.Warn("bulk write-back operation not found", "shop", r.shop, "operation", b.id)
			b.status, b.errorCode, b.url, b.partialURL = "GONE", "", "", ""
			continue
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
	okays := make([]bool, b.lines)
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
