package simulator

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
)

// Bulk mutations, as documented in "Bulk import data with the GraphQL Admin
// API": stagedUploadsCreate (resource BULK_MUTATION_VARIABLES, httpMethod
// POST) hands out an upload target whose "key" parameter is the
// stagedUploadPath; the app POSTs a multipart form with the target's
// parameters and then the file (a JSONL file, one variables object per
// line, at most 100 MB); bulkOperationRunMutation runs the mutation once
// per line in the background; the result is a JSONL file with one line per
// input line, {"data": {...}, "__lineNumber": n} (plus "errors" when the
// line failed as a whole). The operation is polled with bulkOperation(id:)
// and announced by bulk_operations/finish with type "mutation".
//
// Bulk mutations do not draw on the rate-limit bucket beyond the
// bulkOperationRunMutation call itself (cost 10). From API 2026-01 an app
// may run five bulk operations per shop at once, queries and mutations
// together; before, one query and one mutation.

const (
	maxUploadBytes = 100 << 20
	// bulkMutationChunk is how many lines run under one hold of the shop's
	// write lock.
	bulkMutationChunk = 256
	uploadPath        = "/simulator/uploads/bulk"
	stagedUploadTTL   = time.Hour
)

// Mutations that may not run inside a bulk mutation.
var notBulkable = map[string]bool{
	"bulkOperationRunMutation": true, "bulkOperationRunQuery": true, "bulkOperationCancel": true, "stagedUploadsCreate": true,
}

type stagedUpload struct {
	shop    string
	key     string
	policy  string
	expires time.Time
	file    string // set once uploaded
	size    int64
}

// ---- staged uploads ------------------------------------------------------------

type stagedTarget struct {
	url    string
	params [][2]string
}

type stagedPayload struct {
	targets    []any
	userErrors []any
}

func (s *Simulator) signUpload(policy string) string {
	mac := hmac.New(sha256.New, []byte(s.cfg.ClientSecret))
	mac.Write([]byte(policy))
	return hex.EncodeToString(mac.Sum(nil))
}

func resolveStagedUploads(ec *execCtx, _ any, args map[string]any) (any, error) {
	inputs, _ := args["input"].([]any)
	if len(inputs) > maxInputArray {
		return nil, inputSizeError(len(inputs))
	}
	var errs, targets []any
	for i, raw := range inputs {
		in, _ := raw.(map[string]any)
		str := func(k string) string { s, _ := in[k].(string); return s }
		field := func(f string) []string { return []string{"input", strconv.Itoa(i), f} }
		method := str("httpMethod")
		if method == "" {
			method = "PUT"
		}
		switch {
		case str("resource") != "BULK_MUTATION_VARIABLES":
			errs = append(errs, bulkUserError("", "The simulator stages only BULK_MUTATION_VARIABLES uploads.", field("resource")...))
			continue
		case method != "POST":
			errs = append(errs, bulkUserError("", "The simulator accepts only POST uploads.", field("httpMethod")...))
			continue
		case strings.TrimSpace(str("filename")) == "":
			errs = append(errs, bulkUserError("", "Filename can't be blank", field("filename")...))
			continue
		case str("mimeType") == "":
			errs = append(errs, bulkUserError("", "Mime type can't be blank", field("mimeType")...))
			continue
		}
		key := fmt.Sprintf("tmp/%d/bulk/%s/%s", ec.sh.id, uuidV4(), filepath.Base(str("filename")))
		expires := ec.now.Add(stagedUploadTTL)
		policyJSON, _ := json.Marshal(map[string]any{
			"expiration": expires.Format(time.RFC3339),
			"conditions": []any{map[string]string{"key": key}, []any{"content-length-range", 1, maxUploadBytes}},
		})
		policy := base64.StdEncoding.EncodeToString(policyJSON)
		up := &stagedUpload{shop: ec.sh.domain, key: key, policy: policy, expires: expires}
		ec.sim.writes.mu.Lock()
		if ec.sim.writes.staged == nil {
			ec.sim.writes.staged = map[string]*stagedUpload{}
		}
		ec.sim.writes.staged[key] = up
		ec.sim.writes.mu.Unlock()
		targets = append(targets, stagedTarget{url: ec.baseURL + uploadPath, params: [][2]string{
			{"key", key},
			{"Content-Type", str("mimeType")},
			{"success_action_status", "201"},
			{"acl", "private"},
			{"policy", policy},
			{"x-goog-credential", "simulator/" + ec.now.Format("20060102") + "/auto/storage/goog4_request"},
			{"x-goog-algorithm", "GOOG4-HMAC-SHA256"},
			{"x-goog-date", ec.now.Format("20060102T150405Z")},
			{"x-goog-signature", ec.sim.signUpload(policy)},
		}})
	}
	if len(errs) > 0 {
		return stagedPayload{userErrors: errs}, nil
	}
	return stagedPayload{targets: targets, userErrors: []any{}}, nil
}

func gcsError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml; charset=UTF-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<?xml version='1.0' encoding='UTF-8'?><Error><Code>%s</Code><Message>%s</Message></Error>", code, msg)
}

// serveUpload accepts a staged upload: a multipart POST whose form fields
// (the target's parameters) come before the file, as cloud storage
// requires.
func (s *Simulator) serveUpload(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		gcsError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "Only POST is accepted.")
		return
	}
	mr, err := r.MultipartReader()
	if err != nil {
		gcsError(w, http.StatusBadRequest, "InvalidArgument", "Expected a multipart/form-data body.")
		return
	}
	fields := map[string]string{}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			gcsError(w, http.StatusBadRequest, "InvalidArgument", "The form has no file field.")
			return
		}
		if err != nil {
			gcsError(w, http.StatusBadRequest, "InvalidArgument", "Malformed multipart body.")
			return
		}
		if part.FormName() != "file" {
			v, _ := io.ReadAll(io.LimitReader(part, 64<<10))
			fields[part.FormName()] = string(v)
			continue
		}
		s.storeUpload(w, fields, part)
		return
	}
}

func (s *Simulator) storeUpload(w http.ResponseWriter, fields map[string]string, file io.Reader) {
	s.writes.mu.Lock()
	up := s.writes.staged[fields["key"]]
	s.writes.mu.Unlock()
	switch {
	case up == nil:
		gcsError(w, http.StatusForbidden, "AccessDenied", "Unknown upload key.")
		return
	case fields["policy"] != up.policy || !hmac.Equal([]byte(fields["x-goog-signature"]), []byte(s.signUpload(up.policy))):
		gcsError(w, http.StatusForbidden, "SignatureDoesNotMatch", "The request signature does not match.")
		return
	case !s.now().Before(up.expires):
		gcsError(w, http.StatusBadRequest, "ExpiredToken", "The provided token has expired.")
		return
	}
	dir, err := s.bulk.resultDir()
	if err != nil {
		gcsError(w, http.StatusInternalServerError, "InternalError", "Cannot store the upload.")
		return
	}
	path := filepath.Join(dir, "upload-"+uuidV4()+".jsonl")
	f, err := os.Create(path)
	if err != nil {
		gcsError(w, http.StatusInternalServerError, "InternalError", "Cannot store the upload.")
		return
	}
	n, err := io.Copy(f, io.LimitReader(file, maxUploadBytes+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	switch {
	case err != nil:
		_ = os.Remove(path)
		gcsError(w, http.StatusBadRequest, "InvalidArgument", "The upload was cut short.")
		return
	case n > maxUploadBytes:
		_ = os.Remove(path)
		gcsError(w, http.StatusBadRequest, "EntityTooLarge", "Your proposed upload is larger than the maximum object size specified in your Policy Document.")
		return
	}
	s.writes.mu.Lock()
	old := up.file
	up.file, up.size = path, n
	s.writes.mu.Unlock()
	if old != "" {
		_ = os.Remove(old)
	}
	w.Header().Set("Content-Type", "application/xml; charset=UTF-8")
	w.WriteHeader(http.StatusCreated)
	fmt.Fprintf(w, "<?xml version='1.0' encoding='UTF-8'?><PostResponse><Bucket>shopify-staged-uploads</Bucket><Key>%s</Key></PostResponse>", up.key)
}

// ---- running -------------------------------------------------------------------

func (ws *writeState) isMutationOp(shop string, id int64) bool {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	return ws.shopLocked(shop).mutationOps[id]
}

func (ec *execCtx) runBulkMutation(mutation, stagedPath string) (bulkPayload, error) {
	fail := func(code, msg string, field ...string) (bulkPayload, error) {
		return bulkPayload{userErrors: []any{bulkUserError(code, msg, field...)}}, nil
	}
	doc, op, perr := parseDocument(mutation, "")
	if perr != nil {
		return fail("INVALID_MUTATION", "Failed to parse the mutation - "+perr.message, "mutation")
	}
	if op.Operation != ast.Mutation {
		return fail("INVALID_MUTATION", "The operation must be a mutation.", "mutation")
	}
	var fields []*ast.Field
	for _, sel := range op.SelectionSet {
		if f, ok := sel.(*ast.Field); ok && f.Name != "__typename" {
			fields = append(fields, f)
		}
	}
	if len(fields) != 1 {
		return fail("INVALID_MUTATION", "Bulk mutations must contain exactly one mutation field.", "mutation")
	}
	if _, ok := ec.schema.mutation.fields[fields[0].Name]; !ok || notBulkable[fields[0].Name] {
		return fail("INVALID_MUTATION", "You must use an allowed mutation name.", "mutation")
	}
	ws := &ec.sim.writes
	ws.mu.Lock()
	up := ws.staged[stagedPath]
	var file string
	if up != nil && up.shop == ec.sh.domain {
		file = up.file
	}
	ws.mu.Unlock()
	if file == "" {
		return fail("NO_SUCH_FILE", "The JSONL file could not be found. Try uploading the file again, and check that you've entered the URL correctly for the stagedUploadPath mutation argument.", "stagedUploadPath")
	}
	if !validJSONL(file) {
		return fail("INVALID_STAGED_UPLOAD_FILE", "Unexpected file structure - expected JSONL", "stagedUploadPath")
	}
	if _, err := ec.sim.bulk.resultDir(); err != nil {
		return bulkPayload{}, err
	}

	b := ec.sim.bulk
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return bulkPayload{}, errors.New("simulator closed")
	}
	var active, activeMutations []int64
	for _, id := range b.byShop[ec.sh.domain] {
		if running(b.ops[id].status) {
			active = append(active, id)
			if ws.isMutationOp(ec.sh.domain, id) {
				activeMutations = append(activeMutations, id)
			}
		}
	}
	if versionAtLeast(ec.version, bulkConcurrencyVersion) {
		if len(active) >= bulkConcurrentQueries {
			b.mu.Unlock()
			return fail("LIMIT_REACHED", "Bulk operations limit reached. Please try again later.")
		}
	} else if len(activeMutations) > 0 {
		b.mu.Unlock()
		return fail("OPERATION_IN_PROGRESS", fmt.Sprintf(
			"A bulk mutation operation for this app and shop is already in progress: gid://shopify/BulkOperation/%d.", activeMutations[0]))
	}
	b.seq++
	ctx, cancel := context.WithCancel(context.Background())
	bop := &bulkOp{
		id: b.seq, shop: ec.sh.domain, query: mutation, version: ec.version, createdAt: ec.now,
		status: "CREATED", cancel: cancel, done: make(chan struct{}),
	}
	b.ops[bop.id] = bop
	b.byShop[ec.sh.domain] = append(b.byShop[ec.sh.domain], bop.id)
	hold := b.holds[ec.sh.domain]
	b.wg.Add(1)
	snap := &bulkSnapshot{bulkOp: *bop, baseURL: ec.baseURL, now: ec.now}
	ws.mu.Lock()
	sw := ws.shopLocked(ec.sh.domain)
	sw.mutationOps[bop.id] = true
	failLines := sw.failLines
	sw.failLines = nil
	ws.mu.Unlock()
	b.mu.Unlock()

	run := &mutationRun{
		op: bop, sh: ec.sh, input: file, failLines: failLines,
		ec: &execCtx{sim: ec.sim, sh: ec.sh, schema: ec.schema, doc: doc, op: op, scopes: ec.scopes,
			version: ec.version, baseURL: ec.baseURL, rootPath: "mutation"},
	}
	go b.runMutation(ctx, run, hold)
	return bulkPayload{op: snap, userErrors: []any{}}, nil
}

// validJSONL checks that every non-blank line is a JSON object.
func validJSONL(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	for {
		line, err := r.ReadBytes('\n')
		if t := bytes.TrimSpace(line); len(t) > 0 && (t[0] != '{' || !json.Valid(t)) {
			return false
		}
		if err != nil {
			return errors.Is(err, io.EOF)
		}
	}
}

type mutationRun struct {
	op        *bulkOp
	sh        *shopState
	ec        *execCtx
	input     string
	failLines map[int]bool
	lines     int64
}

var errBulkUninstalled = errors.New("app uninstalled")

func (b *bulkRunner) runMutation(ctx context.Context, run *mutationRun, hold chan struct{}) {
	defer b.wg.Done()
	defer close(run.op.done)
	if hold != nil {
		select {
		case <-hold:
		case <-ctx.Done():
		}
	}
	b.mu.Lock()
	if run.op.status == "CREATED" {
		run.op.status = "RUNNING"
	}
	b.mu.Unlock()
	path := filepath.Join(b.dir, fmt.Sprintf("%d.jsonl", run.op.id))
	err := b.executeMutationFile(ctx, run, path)
	b.finishMutation(run, path, err)
}

func (b *bulkRunner) executeMutationFile(ctx context.Context, run *mutationRun, path string) (err error) {
	in, err := os.Open(run.input)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(out, 256<<10)
	defer func() {
		if ferr := w.Flush(); err == nil {
			err = ferr
		}
		if cerr := out.Close(); err == nil {
			err = cerr
		}
	}()
	r := bufio.NewReaderSize(in, 1<<20)
	root := run.ec.schema.mutation
	lineNo := 0
	var buf []byte
	for eof := false; !eof; {
		if err := ctx.Err(); err != nil {
			return err
		}
		if !run.sh.isInstalled() {
			return errBulkUninstalled
		}
		var chunk [][]byte
		for len(chunk) < bulkMutationChunk {
			line, rerr := r.ReadBytes('\n')
			if len(line) > 0 {
				chunk = append(chunk, line)
			}
			if rerr != nil {
				if !errors.Is(rerr, io.EOF) {
					return rerr
				}
				eof = true
				break
			}
		}
		buf = buf[:0]
		run.sh.mu.Lock()
		for _, line := range chunk {
			n := lineNo
			lineNo++
			if len(bytes.TrimSpace(line)) == 0 {
				continue
			}
			buf = appendJSON(buf, run.ec.bulkMutationLine(root, line, n, run.failLines[n]))
			buf = append(buf, '\n')
			run.lines++
		}
		run.sh.mu.Unlock()
		if _, err := w.Write(buf); err != nil {
			return err
		}
		b.mu.Lock()
		run.op.objectCount, run.op.rootObjectCount = run.lines, run.lines
		b.mu.Unlock()
		b.sim.flushHooks(run.sh.domain)
	}
	return nil
}

// bulkMutationLine runs the mutation with one line's variables. Callers
// hold the shop's write lock.
func (ec *execCtx) bulkMutationLine(root *objectType, line []byte, n int, fail bool) *jsonObject {
	out := &jsonObject{}
	var vars map[string]any
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	if err := dec.Decode(&vars); err != nil {
		out.set("errors", []any{gqlError{message: "Invalid JSON on line " + strconv.Itoa(n)}.toJSON()})
		out.set("__lineNumber", n)
		return out
	}
	if fail {
		out.set("data", ec.injectedLineFailure(root))
		out.set("__lineNumber", n)
		return out
	}
	ec.errors, ec.cost, ec.inPayload, ec.now = nil, 0, false, ec.sim.now()
	ec.prepareVariables(vars)
	if len(ec.errors) == 0 {
		ec.analyze(root, ec.op.SelectionSet, []any{ec.rootPath})
	}
	if len(ec.errors) > 0 {
		out.set("errors", errorList(ec.errors))
		out.set("__lineNumber", n)
		return out
	}
	data := ec.execSelection(root, ec.sh, ec.op.SelectionSet, nil)
	if len(ec.errors) > 0 {
		out.set("errors", errorList(ec.errors))
	}
	out.set("data", data)
	out.set("__lineNumber", n)
	return out
}

// injectedLineFailure is the payload of a line made to fail: userErrors
// holds one error, every other selected field is null.
func (ec *execCtx) injectedLineFailure(root *objectType) *jsonObject {
	data := &jsonObject{}
	for _, g := range ec.groups(root, ec.op.SelectionSet) {
		fd, ok := root.fields[g.field.Name]
		if !ok {
			continue
		}
		payloadT := ec.schema.types[fd.typ]
		p := &jsonObject{}
		for _, pg := range ec.groups(payloadT, g.merged) {
			pf := payloadT.fields[pg.field.Name]
			switch {
			case pg.field.Name == "__typename":
				p.set(pg.key, payloadT.name)
			case pf != nil && pf.name == "userErrors":
				e := bulkUserError("", "Simulated failure: this line was made to fail on its first attempt.")
				p.set(pg.key, []any{ec.execSelection(ec.schema.types[pf.typ], e, pg.merged, nil)})
			default:
				p.set(pg.key, nil)
			}
		}
		data.set(g.key, p)
	}
	return data
}

func (b *bulkRunner) finishMutation(run *mutationRun, path string, runErr error) {
	op, sh := run.op, run.sh
	info, _ := os.Stat(path)
	b.mu.Lock()
	op.objectCount, op.rootObjectCount = run.lines, run.lines
	op.completedAt = b.sim.now()
	hasData := run.lines > 0 && info != nil
	switch {
	case op.status == "CANCELING" || errors.Is(runErr, context.Canceled) || errors.Is(runErr, errBulkUninstalled):
		op.status = "CANCELED"
		_ = os.Remove(path)
	case runErr == nil:
		op.status = "COMPLETED"
		if hasData {
			op.file, op.fileSize = path, info.Size()
		} else {
			_ = os.Remove(path)
		}
	default:
		op.status, op.errorCode = "FAILED", "INTERNAL_SERVER_ERROR"
		b.sim.log.Error("bulk mutation failed", "shop", op.shop, "bulk_operation", op.id, "err", runErr)
		if hasData {
			op.partialFile = path
		} else {
			_ = os.Remove(path)
		}
	}
	b.notifyFinishedLocked(op, sh, "mutation")
}

// ---- schema ----------------------------------------------------------------------

func addBulkMutationTypes(sc *schema) {
	sc.enum("StagedUploadTargetGenerateUploadResource", "BULK_MUTATION_VARIABLES", "COLLECTION_IMAGE", "FILE", "IMAGE",
		"MODEL_3D", "PRODUCT_IMAGE", "RETURN_LABEL", "SHOP_IMAGE", "URL_REDIRECT_IMPORT", "VIDEO")
	sc.enum("StagedUploadHttpMethodType", "POST", "PUT")
	sc.object("StagedUploadInput")
	sc.object("StagedUploadParameter",
		scalar("name", "String", func(p any) any { return p.([2]string)[0] }),
		scalar("value", "String", func(p any) any { return p.([2]string)[1] }),
	).payload = true
	sc.object("StagedMediaUploadTarget",
		scalar("url", "URL", func(p any) any { return p.(stagedTarget).url }),
		scalar("resourceUrl", "URL", func(any) any { return nil }),
		&fieldDef{name: "parameters", kind: kindList, typ: "StagedUploadParameter", resolve: func(_ *execCtx, p any, _ map[string]any) (any, error) {
			params := p.(stagedTarget).params
			out := make([]any, len(params))
			for i, kv := range params {
				out[i] = kv
			}
			return out, nil
		}},
	).payload = true
	sc.object("StagedUploadsCreatePayload",
		&fieldDef{name: "stagedTargets", kind: kindList, typ: "StagedMediaUploadTarget", resolve: func(_ *execCtx, p any, _ map[string]any) (any, error) {
			return p.(stagedPayload).targets, nil
		}},
		&fieldDef{name: "userErrors", kind: kindList, typ: "UserError", resolve: func(_ *execCtx, p any, _ map[string]any) (any, error) {
			return nonNilList(p.(stagedPayload).userErrors), nil
		}},
	).payload = true

	userErrorType(sc, "BulkMutationUserError")
	sc.object("BulkOperationRunMutationPayload",
		object("bulkOperation", "BulkOperation", func(_ *execCtx, p any) any {
			if op := p.(bulkPayload).op; op != nil {
				return op
			}
			return nil
		}),
		&fieldDef{name: "userErrors", kind: kindList, typ: "BulkMutationUserError", resolve: func(_ *execCtx, p any, _ map[string]any) (any, error) {
			return nonNilList(p.(bulkPayload).userErrors), nil
		}},
	).payload = true

	// BulkOperation.type and currentBulkOperation learn about mutations.
	sc.object("BulkOperation",
		&fieldDef{name: "type", kind: kindScalar, typ: "BulkOperationType", resolve: func(ec *execCtx, p any, _ map[string]any) (any, error) {
			if ec.sim.writes.isMutationOp(ec.sh.domain, p.(*bulkSnapshot).id) {
				return "MUTATION", nil
			}
			return "QUERY", nil
		}},
	)
	sc.enum("BulkOperationsSortKeys", "COMPLETED_AT", "CREATED_AT", "ID", "STATUS")
	sc.connectionTypes("BulkOperation")
	sc.object(sc.query.name,
		&fieldDef{name: "bulkOperations", kind: kindConnection, typ: "BulkOperation",
			args: connectionArgs("BulkOperationsSortKeys"), resolve: resolveBulkOperations},
		&fieldDef{name: "currentBulkOperation", kind: kindObject, typ: "BulkOperation", args: []argDef{{"type", "BulkOperationType"}},
			resolve: func(ec *execCtx, _ any, args map[string]any) (any, error) {
				wantMutation := stringArg(args, "type") == "MUTATION"
				b := ec.sim.bulk
				b.mu.Lock()
				var found *bulkOp
				ids := b.byShop[ec.sh.domain]
				for i := len(ids) - 1; i >= 0; i-- {
					if ec.sim.writes.isMutationOp(ec.sh.domain, ids[i]) == wantMutation {
						found = b.ops[ids[i]]
						break
					}
				}
				b.mu.Unlock()
				if found == nil {
					return nil, nil
				}
				return b.snapshot(found, ec.baseURL), nil
			}},
	)
	sc.object(sc.mutation.name,
		&fieldDef{name: "stagedUploadsCreate", kind: kindObject, typ: "StagedUploadsCreatePayload", mutation: true,
			args: []argDef{{"input", "[StagedUploadInput!]!"}}, resolve: resolveStagedUploads},
		&fieldDef{name: "bulkOperationRunMutation", kind: kindObject, typ: "BulkOperationRunMutationPayload", mutation: true,
			args: []argDef{{"mutation", "String!"}, {"stagedUploadPath", "String!"}, {"clientIdentifier", "String"}, {"groupObjects", "Boolean"}},
			resolve: func(ec *execCtx, _ any, args map[string]any) (any, error) {
				return ec.runBulkMutation(stringArg(args, "mutation"), stringArg(args, "stagedUploadPath"))
			}},
	)
}

// bulkOperationsVersion is the API version that brought the
// bulkOperations query.
const bulkOperationsVersion = "2026-01"

// resolveBulkOperations lists the app's bulk operations on the shop,
// newest first as Shopify sorts them by default (reverse: oldest first),
// filtered by operation_type (query|mutation), status, created_at and id.
// Operations are numbered in creation order, so every sort key the
// simulator accepts orders them by id.
func resolveBulkOperations(ec *execCtx, _ any, args map[string]any) (any, error) {
	if !versionAtLeast(ec.version, bulkOperationsVersion) {
		return nil, userFacingError{msg: "Field 'bulkOperations' doesn't exist on type 'QueryRoot'", ext: ext("code", "undefinedField")}
	}
	b := ec.sim.bulk
	b.mu.Lock()
	ids := slices.Clone(b.byShop[ec.sh.domain])
	ops := make([]*bulkSnapshot, 0, len(ids))
	now := b.sim.now()
	for _, id := range ids {
		ops = append(ops, &bulkSnapshot{bulkOp: *b.ops[id], baseURL: ec.baseURL, now: now})
	}
	b.mu.Unlock()
	typeOf := func(op *bulkSnapshot) string {
		if ec.sim.writes.isMutationOp(ec.sh.domain, op.id) {
			return "mutation"
		}
		return "query"
	}
	if q := strings.TrimSpace(stringArg(args, "query")); q != "" {
		match := compileSearch(q, searchFields{
			loc: time.UTC,
			fields: map[string]searchField{
				"id":             {kind: searchNum, num: func(i int) int64 { return ops[i].id }},
				"operation_type": {kind: searchText, text: func(i int) string { return typeOf(ops[i]) }},
				"status":         {kind: searchText, text: func(i int) string { return ops[i].status }},
				"created_at":     {kind: searchTime, num: func(i int) int64 { return ops[i].createdAt.Unix() }},
			},
		})
		if match != nil {
			var hits []*bulkSnapshot
			for i, op := range ops {
				if match(i) {
					hits = append(hits, op)
				}
			}
			ops = hits
		}
	}
	flipped := maps.Clone(args)
	reverse, _ := args["reverse"].(bool)
	flipped["reverse"] = !reverse
	return pageOfList(ops, func(op *bulkSnapshot) int64 { return op.id }, "bulkOperations", flipped)
}

// addWriteTypes registers phase 3. It runs after addBulkTypes, whose
// BulkOperation and currentBulkOperation it extends.
func addWriteTypes(sc *schema) {
	addTagTypes(sc)
	addMetafieldTypes(sc)
	addSegmentTypes(sc)
	addBulkMutationTypes(sc)
}

// BulkMutation describes a bulk mutation operation, for tests.
type BulkMutation struct {
	ID       int64
	Mutation string
	Status   string
	// Lines counts the input lines run.
	Lines int64
}

// BulkMutations lists the shop's bulk mutation operations, oldest first.
func (s *Simulator) BulkMutations(shop string) []BulkMutation {
	shop = strings.ToLower(shop)
	b := s.bulk
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []BulkMutation
	for _, id := range b.byShop[shop] {
		if !s.writes.isMutationOp(shop, id) {
			continue
		}
		op := b.ops[id]
		out = append(out, BulkMutation{ID: op.id, Mutation: op.query, Status: op.status, Lines: op.objectCount})
	}
	return out
}
