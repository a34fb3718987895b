package activation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/cvo-app/cvo/internal/postgres"
	"github.com/cvo-app/cvo/internal/shopify"
)

// Large changes go out as bulk mutations, one operation per kind (removes,
// adds, metafields), each a staged JSONL file with one line per customer:
// stagedUploadsCreate → multipart POST of the file → bulkOperationRunMutation
// → poll bulkOperation(id:) (cut short by a bulk_operations/finish webhook
// through the Waker) → read the result file. Each step is
// internal/shopify's; the batches, their state and what to send again are
// ours. Lines whose result has userErrors, errors or no data (a failed
// operation's missing lines) are sent again in a new operation, up to the
// writer's attempts. The
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

// Bulk mutations, with %s for the operation name carrying the batch marker.
const (
	bulkTagsRemove = `mutation %s($id: ID!, $tags: [String!]!) { tagsRemove(id: $id, tags: $tags) { userErrors { field message } } }`
	bulkTagsAdd    = `mutation %s($id: ID!, $tags: [String!]!) { tagsAdd(id: $id, tags: $tags) { userErrors { field message } } }`
	bulkMetafields = `mutation %s($metafields: [MetafieldsSetInput!]!) { metafieldsSet(metafields: $metafields) { userErrors { field message code } } }`
	bulkDrop       = `mutation %s($metafields: [MetafieldIdentifierInput!]!) { metafieldsDelete(metafields: $metafields) { userErrors { field message } } }`
)

// bulkKinds are the kinds of bulk operation, in the order they are started.
var bulkKinds = []opKind{opRemove, opAdd, opMetafields, opDropMetafields}

// bulkMutation is the kind's mutation with the batch marker in its name.
func (k opKind) bulkMutation(marker string) string {
	switch k {
	case opRemove:
		return fmt.Sprintf(bulkTagsRemove, shopify.MarkedName("CvoTagsRemove", marker))
	case opAdd:
		return fmt.Sprintf(bulkTagsAdd, shopify.MarkedName("CvoTagsAdd", marker))
	case opDropMetafields:
		return fmt.Sprintf(bulkDrop, shopify.MarkedName("CvoMetafieldsDelete", marker))
	}
	return fmt.Sprintf(bulkMetafields, shopify.MarkedName("CvoMetafields", marker))
}

func kindOf(field string) (opKind, bool) {
	for _, k := range bulkKinds {
		if k.field() == field {
			return k, true
		}
	}
	return 0, false
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

// statusGone marks an operation Shopify no longer knows.
const statusGone = "GONE"

func (b *bulkOperation) done() bool {
	return b.status == statusGone || shopify.BulkOperation{Status: b.status}.Finished()
}

// applyByBulk sends ops through bulk mutations, retrying failed lines.
func (r *run) applyByBulk(ctx context.Context, ops []op) error {
	pending := ops
	for attempt := 1; attempt <= r.w.maxAttempts && len(pending) > 0; attempt++ {
		var running []*bulkOperation
		for _, kind := range bulkKinds {
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
	if err := r.fence(ctx); err != nil {
		return nil, err
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
				if err := r.fence(ctx); err != nil {
					return err
				}
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
// mutations by the marker in its operation name; "" means Shopify never
// started it.
func (r *run) findOperation(ctx context.Context, bb postgres.BulkBatch) (string, error) {
	id, err := shopify.FindBulkMutation(ctx, r.api, bb.CreatedAt, bb.Marker)
	if err != nil {
		return "", fmt.Errorf("write back to %s: batch %d: %w", r.shop, bb.ID, err)
	}
	return id, nil
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
		case opDropMetafields:
			vars = map[string]any{"metafields": dropInputs(c)}
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
		case opDropMetafields:
			l.Keys = c.drop
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
	if err := r.check(ctx); err != nil {
		return nil, err
	}
	marker := shopify.NewBulkMarker()
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
		if err := r.fence(ctx); err != nil {
			return nil, err
		}
		op, err := shopify.RunBulkMutation(ctx, r.api, kind.bulkMutation(marker), path, marker)
		if err == nil {
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
		if !errors.Is(err, shopify.ErrBulkBusy) {
			return nil, fmt.Errorf("write back to %s: run bulk %s: %w", r.shop, kind.field(), err)
		}
		if ours := pendingOps(running); len(ours) > 0 {
			if err := r.waitAny(ctx, ours); err != nil {
				return nil, err
			}
			continue
		}
		if err := r.w.pause(ctx, r.shop, wait); err != nil {
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
	const filename = "cvo-write-back.jsonl"
	if err := r.fence(ctx); err != nil {
		return "", err
	}
	target, err := shopify.StageBulkVariables(ctx, r.api, filename)
	if err != nil {
		return "", fmt.Errorf("write back to %s: %w", r.shop, err)
	}
	if err := r.w.step(ctx, StepStaged); err != nil {
		return "", err
	}
	if err := r.fence(ctx); err != nil {
		return "", err
	}
	path, err := r.files().Upload(ctx, target, filename, body)
	if err != nil {
		return "", fmt.Errorf("write back to %s: %w", r.shop, err)
	}
	r.report.UploadedBytes += int64(len(body))
	return path, r.w.step(ctx, StepUploaded)
}

// files reaches the staged uploads and result files, waiting pollMin,
// doubled per retry up to pollMax, between attempts.
func (r *run) files() shopify.Storage {
	return shopify.Storage{HTTP: r.w.hc, Shop: r.shop, Log: r.w.log, Backoff: func(ctx context.Context, attempt int) error {
		return r.w.pause(ctx, r.shop, min(r.w.pollMin<<min(attempt-1, 16), r.w.pollMax))
	}}
}

// poll refreshes the status of the given operations in one request.
func (r *run) poll(ctx context.Context, ops []*bulkOperation) error {
	if err := r.check(ctx); err != nil {
		return err
	}
	ids := make([]string, len(ops))
	for i, b := range ops {
		ids[i] = b.id
	}
	got, err := shopify.GetBulkOperations(ctx, r.api, ids)
	if err != nil {
		return fmt.Errorf("write back to %s: %w", r.shop, err)
	}
	for i, b := range ops {
		if got[i] == nil {
			// Unknown to Shopify: nothing of it can be confirmed, so its
			// lines count as failed and go again.
			r.w.log.Warn("bulk write-back operation not found", "shop", r.shop, "operation", b.id)
			b.status, b.errorCode, b.url, b.partialURL = statusGone, "", "", ""
			continue
		}
		b.status, b.errorCode, b.url, b.partialURL = got[i].Status, got[i].ErrorCode, got[i].URL, got[i].PartialDataURL
	}
	return nil
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
		if err := r.w.pause(ctx, r.shop, wait); err != nil {
			return err
		}
		wait = min(2*wait, r.w.pollMax)
		if err := r.poll(ctx, pendingOps(ops)); err != nil {
			return err
		}
	}
	for _, b := range ops {
		if b.status == shopify.BulkCanceled {
			// Shopify cancels a shop's operations when the app is removed.
			if err := r.w.checkInstalled(ctx, r.shop); err != nil {
				return err
			}
		}
	}
	return nil
}

// readResult reads the result (or partial result) file of a finished
// operation and says which lines succeeded. Lines missing from the file
// count as failed.
func (r *run) readResult(ctx context.Context, b *bulkOperation) ([]bool, error) {
	url := b.url
	if url == "" {
		url = b.partialURL
	}
	if url == "" {
		if b.status != shopify.BulkCompleted {
			r.w.log.Warn("bulk write-back operation produced no result", "shop", r.shop, "kind", b.kind.field(),
				"status", b.status, "error_code", b.errorCode)
		}
		return make([]bool, b.lines), nil
	}
	body, err := r.files().Download(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("write back to %s: read result: %w", r.shop, err)
	}
	defer body.Close()
	okays, err := shopify.ReadMutationResults(body, b.kind.field(), b.lines)
	if err != nil {
		return nil, fmt.Errorf("write back to %s: %w", r.shop, err)
	}
	return okays, nil
}
