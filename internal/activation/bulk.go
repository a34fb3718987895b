package activation

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

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
var bulkKinds = [...]opKind{opRemove, opAdd, opMetafields, opDropMetafields}

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

// bulkOperation is one stored batch and its operation.
type bulkOperation struct {
	batch int64
	kind  opKind
	lines int
	id    string

	status, errorCode string
	url, partialURL   string
}

// statusGone marks an operation Shopify no longer knows.
const statusGone = "GONE"

func (b *bulkOperation) done() bool {
	return b.status == statusGone || shopify.BulkOperation{Status: b.status}.Finished()
}

// Kinds of line, for counting failures by customer.
const (
	tagLines = iota
	metafieldLines
)

func (k opKind) lineKind() int {
	if k == opRemove || k == opAdd {
		return tagLines
	}
	return metafieldLines
}

// applyByBulk sends the planner's tag and/or metafield changes through
// bulk mutations. Each attempt walks the plan afresh, so the lines that
// failed (and only what is still unwritten) go again, up to the writer's
// attempts.
func (r *run) applyByBulk(ctx context.Context, pl *planner, tags, metafields bool) error {
	for attempt := 1; attempt <= r.w.maxAttempts && (tags || metafields); attempt++ {
		running, err := r.sendBulk(ctx, pl, tags, metafields)
		if err != nil {
			return err
		}
		if err := r.waitAll(ctx, running); err != nil {
			return err
		}
		failed := [2]map[int64]bool{{}, {}}
		for _, b := range running {
			_, customers, err := r.settleBatch(ctx, b)
			if err != nil {
				return err
			}
			for _, id := range customers {
				failed[b.kind.lineKind()][id] = true
			}
		}
		if tags {
			r.bulkFailed[tagLines], r.bulkDone[tagLines] = failed[tagLines], true
		}
		if metafields {
			r.bulkFailed[metafieldLines], r.bulkDone[metafieldLines] = failed[metafieldLines], true
		}
		tags, metafields = tags && len(failed[tagLines]) > 0, metafields && len(failed[metafieldLines]) > 0
	}
	return nil
}

// sendBulk walks the plan once, writing each change's lines into a file
// per kind; a file that would pass maxUploadBytes is started as its own
// operation at once, so neither the changes nor the files are held.
func (r *run) sendBulk(ctx context.Context, pl *planner, tags, metafields bool) ([]*bulkOperation, error) {
	var (
		running []*bulkOperation
		open    [len(bulkKinds)]*bulkChunk
	)
	defer func() {
		for _, ch := range open {
			r.abandon(ctx, ch)
		}
	}()
	add := func(kind opKind, c *change) error {
		line, stored, err := r.bulkLine(kind, c)
		if err != nil {
			return err
		}
		if ch := open[kind]; ch != nil && ch.size+int64(len(line))+1 > r.w.fileBytes {
			open[kind] = nil
			b, err := r.submit(ctx, ch, running)
			if err != nil {
				return err
			}
			running = append(running, b)
		}
		if open[kind] == nil {
			if open[kind], err = newBulkChunk(kind); err != nil {
				return fmt.Errorf("write back to %s: %w", r.shop, err)
			}
		}
		return r.addLine(ctx, open[kind], line, stored)
	}
	err := pl.walk(ctx, func(c *change) error {
		var err error
		if tags && len(c.remove) > 0 {
			err = add(opRemove, c)
		}
		if tags && len(c.add) > 0 && err == nil {
			err = add(opAdd, c)
		}
		if metafields && len(c.metafields) > 0 && err == nil {
			err = add(opMetafields, c)
		}
		if metafields && len(c.drop) > 0 && err == nil {
			err = add(opDropMetafields, c)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	for _, kind := range bulkKinds {
		if ch := open[kind]; ch != nil {
			open[kind] = nil
			b, err := r.submit(ctx, ch, running)
			if err != nil {
				return nil, err
			}
			running = append(running, b)
		}
	}
	return running, nil
}

// settleBatch reads a finished operation's results and records its
// confirmed lines, deleting the batch in the same transaction. It returns
// which lines Shopify confirmed and the customers of those it did not.
func (r *run) settleBatch(ctx context.Context, b *bulkOperation) (okays []bool, failedCustomers []int64, err error) {
	okays, err = r.readResult(ctx, b)
	if err != nil {
		return nil, nil, err
	}
	if err := r.w.step(ctx, StepResultRead); err != nil {
		return nil, nil, err
	}
	var failed []int32
	for i, ok := range okays {
		if !ok {
			failed = append(failed, int32(i))
		}
	}
	if len(failed) > 0 {
		if failedCustomers, err = r.w.store.BulkLineCustomers(ctx, r.shop, b.batch, failed); err != nil {
			return nil, nil, err
		}
	}
	if err := r.fence(ctx); err != nil {
		return nil, nil, err
	}
	if err := r.w.store.SettleBulkBatch(ctx, r.shop, b.batch, failed); err != nil {
		return nil, nil, err
	}
	return okays, failedCustomers, r.w.step(ctx, StepSettled)
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
		okays, _, err := r.settleBatch(ctx, b)
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

// bulkLinesPerStore is how many lines a file under construction holds
// before they are stored with its batch.
const bulkLinesPerStore = 10_000

// bulkChunk is a variables file being written: its lines go to a
// temporary file and, bulkLinesPerStore at a time, to its batch in
// PostgreSQL, which is created with the first of them.
type bulkChunk struct {
	kind    opKind
	marker  string
	batch   int64 // 0 until its first lines are stored
	file    *os.File
	out     *bufio.Writer
	size    int64
	lines   int
	pending []postgres.BulkLine
}

// bulkFilePattern names the variables files in the temporary directory.
const bulkFilePattern = "cvo-write-back-*.jsonl"

// staleBulkFileAge is the age from which a variables file belongs to no
// running write-back: a job is stopped after 3 hours.
const staleBulkFileAge = 6 * time.Hour

// removeStaleBulkFiles deletes the variables files of workers that died
// while writing or uploading them.
func removeStaleBulkFiles(log *slog.Logger) {
	names, _ := filepath.Glob(filepath.Join(os.TempDir(), bulkFilePattern))
	for _, name := range names {
		if fi, err := os.Stat(name); err == nil && time.Since(fi.ModTime()) > staleBulkFileAge {
			if err := os.Remove(name); err == nil {
				log.Info("removed a stale bulk variables file", "file", filepath.Base(name), "bytes", fi.Size())
			}
		}
	}
}

func newBulkChunk(kind opKind) (*bulkChunk, error) {
	f, err := os.CreateTemp("", bulkFilePattern)
	if err != nil {
		return nil, fmt.Errorf("bulk variables file: %w", err)
	}
	return &bulkChunk{kind: kind, marker: shopify.NewBulkMarker(), file: f, out: bufio.NewWriterSize(f, 256<<10)}, nil
}

// discard removes the chunk's file; nil is a no-op.
func (ch *bulkChunk) discard() {
	if ch == nil || ch.file == nil {
		return
	}
	ch.file.Close()
	os.Remove(ch.file.Name())
	ch.file = nil
}

// abandon removes a chunk that will not be sent: its file, and its batch
// when its first lines were stored, so the next write-back need not look
// for an operation Shopify never saw. When the lock is gone the batch is
// another write-back's to drop. nil is a no-op.
func (r *run) abandon(ctx context.Context, ch *bulkChunk) {
	if ch == nil {
		return
	}
	ch.discard()
	if ch.batch == 0 {
		return
	}
	ctx = context.WithoutCancel(ctx)
	if r.fence(ctx) == nil {
		if err := r.w.store.DropBulkBatch(ctx, r.shop, ch.batch); err != nil {
			r.w.log.Warn("drop an unsent bulk batch", "shop", r.shop, "batch", ch.batch, "err", err)
		}
	}
}

// bulkLine is a change's variables line of the kind and its stored form.
func (r *run) bulkLine(kind opKind, c *change) ([]byte, postgres.BulkLine, error) {
	var vars any
	stored := postgres.BulkLine{CustomerID: c.id}
	switch kind {
	case opRemove:
		vars, stored.Tags = map[string]any{"id": customerGID(c.id), "tags": c.remove}, c.remove
	case opAdd:
		vars, stored.Tags = map[string]any{"id": customerGID(c.id), "tags": c.add}, c.add
	case opDropMetafields:
		vars, stored.Keys = map[string]any{"metafields": dropInputs(c)}, c.drop
	default:
		vars, stored.Metafields = map[string]any{"metafields": metafieldInputs(c)}, c.metafields
	}
	line, err := json.Marshal(vars)
	if err != nil {
		return nil, stored, fmt.Errorf("write back to %s: encode line: %w", r.shop, err)
	}
	return line, stored, nil
}

// addLine appends a line to the chunk, storing its pending lines when
// there are enough.
func (r *run) addLine(ctx context.Context, ch *bulkChunk, line []byte, stored postgres.BulkLine) error {
	if _, err := ch.out.Write(line); err != nil {
		return fmt.Errorf("write back to %s: bulk variables file: %w", r.shop, err)
	}
	if err := ch.out.WriteByte('\n'); err != nil {
		return fmt.Errorf("write back to %s: bulk variables file: %w", r.shop, err)
	}
	ch.size += int64(len(line)) + 1
	ch.lines++
	ch.pending = append(ch.pending, stored)
	if len(ch.pending) >= r.w.linesPerStore {
		return r.storeLines(ctx, ch)
	}
	return nil
}

// storeLines stores the chunk's pending lines with its batch, creating
// the batch with the first ones. Only the lock is checked here: whether
// the shop still has the app matters before Shopify is called, which
// submit checks.
func (r *run) storeLines(ctx context.Context, ch *bulkChunk) error {
	if len(ch.pending) == 0 && ch.batch != 0 {
		return nil
	}
	if err := r.fence(ctx); err != nil {
		return err
	}
	if ch.batch == 0 {
		id, err := r.w.store.CreateBulkBatch(ctx, r.shop,
			postgres.BulkBatch{Kind: ch.kind.field(), Marker: ch.marker, CreatedAt: r.w.now()}, ch.pending)
		if err != nil {
			return err
		}
		ch.batch = id
	} else if err := r.w.store.AddBulkLines(ctx, r.shop, ch.batch, ch.pending); err != nil {
		return err
	}
	clear(ch.pending)
	ch.pending = ch.pending[:0]
	return nil
}

// submit stores the rest of the chunk's lines, stages its file and
// starts the operation, recording each step; the file is removed once
// uploaded. When the shop runs as many bulk operations as it may, it
// waits for one of its own running ones (or, with none, backs off) and
// tries again.
func (r *run) submit(ctx context.Context, ch *bulkChunk, running []*bulkOperation) (*bulkOperation, error) {
	defer ch.discard()
	if err := r.check(ctx); err != nil {
		return nil, err
	}
	if err := r.storeLines(ctx, ch); err != nil {
		return nil, err
	}
	if err := ch.out.Flush(); err != nil {
		return nil, fmt.Errorf("write back to %s: bulk variables file: %w", r.shop, err)
	}
	if err := r.w.step(ctx, StepBatchStored); err != nil {
		return nil, err
	}
	path, err := r.stage(ctx, ch.file, ch.size)
	if err != nil {
		return nil, err
	}
	ch.discard()
	if err := r.w.store.SetBulkStaged(ctx, r.shop, ch.batch, path); err != nil {
		return nil, err
	}
	kind, batch, marker := ch.kind, ch.batch, ch.marker
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
			return &bulkOperation{batch: batch, kind: kind, lines: ch.lines, id: op.ID, status: op.Status}, nil
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

// stage uploads a variables file of size bytes and returns its
// stagedUploadPath.
func (r *run) stage(ctx context.Context, body io.ReaderAt, size int64) (string, error) {
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
	path, err := r.files().Upload(ctx, target, filename, body, size)
	if err != nil {
		return "", fmt.Errorf("write back to %s: %w", r.shop, err)
	}
	r.report.UploadedBytes += size
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
