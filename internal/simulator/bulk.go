package simulator

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
)

// Bulk query operations, as documented in "Perform bulk operations with the
// GraphQL Admin API": the query runs in the background over the whole
// store and its result is a JSONL file in which every connection node is a
// line, nested connection nodes come on their own lines after their parent
// with a __parentId, and nested plain objects stay inside their line.

const (
	// bulkResultTTL is how long url and partialDataUrl stay valid.
	bulkResultTTL = 7 * 24 * time.Hour
	// From API 2026-01 an app may run five bulk queries per shop at once;
	// before, one.
	bulkConcurrencyVersion = "2026-01"
	bulkConcurrentQueries  = 5
	bulkMaxConnections     = 5
	bulkMaxDepth           = 2
	// bulkChunk is how many root objects are read under one read lock, so
	// a long export never blocks writers for long.
	bulkChunk = 512
)

type bulkOp struct {
	id        int64
	shop      string
	query     string
	version   string
	createdAt time.Time

	// guarded by bulkRunner.mu
	status          string // CREATED, RUNNING, CANCELING, CANCELED, COMPLETED, FAILED
	errorCode       string
	completedAt     time.Time
	objectCount     int64
	rootObjectCount int64
	fileSize        int64
	file            string // complete result
	partialFile     string // result of a failed run
	cancel          context.CancelFunc
	done            chan struct{}
}

// bulkSnapshot is what resolvers read, copied under the runner's lock.
type bulkSnapshot struct {
	bulkOp
	baseURL string
	now     time.Time
}

type bulkFailure struct {
	after int64
	code  string
}

type bulkRunner struct {
	sim *Simulator

	mu       sync.Mutex
	ops      map[int64]*bulkOp
	byShop   map[string][]int64 // newest last
	seq      int64
	dir      string
	ownedDir bool
	holds    map[string]chan struct{}
	failures map[string]bulkFailure
	wg       sync.WaitGroup
	closed   bool
}

func newBulkRunner(s *Simulator) *bulkRunner {
	return &bulkRunner{
		sim: s, ops: map[int64]*bulkOp{}, byShop: map[string][]int64{}, seq: 4400000000,
		holds: map[string]chan struct{}{}, failures: map[string]bulkFailure{}, dir: s.cfg.BulkDir,
	}
}

func (b *bulkRunner) resultDir() (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.dir == "" {
		dir, err := os.MkdirTemp("", "shopify-simulator-bulk-")
		if err != nil {
			return "", fmt.Errorf("bulk result directory: %w", err)
		}
		b.dir, b.ownedDir = dir, true
	}
	return b.dir, nil
}

func (b *bulkRunner) close() {
	b.mu.Lock()
	b.closed = true
	for _, op := range b.ops {
		if op.cancel != nil {
			op.cancel()
		}
	}
	for shop, ch := range b.holds {
		close(ch)
		delete(b.holds, shop)
	}
	b.mu.Unlock()
	b.wg.Wait()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ownedDir {
		_ = os.RemoveAll(b.dir)
	}
}

func (b *bulkRunner) cancelShop(shop string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, id := range b.byShop[shop] {
		op := b.ops[id]
		if running(op.status) {
			op.status = "CANCELING"
			op.cancel()
		}
	}
}

func running(status string) bool {
	return status == "CREATED" || status == "RUNNING" || status == "CANCELING"
}

// HoldBulkOperations keeps the shop's new bulk operations in CREATED until
// release is called, so tests can watch them queue and hit the limit.
func (s *Simulator) HoldBulkOperations(shop string) (release func()) {
	b := s.bulk
	b.mu.Lock()
	defer b.mu.Unlock()
	ch, ok := b.holds[shop]
	if !ok {
		ch = make(chan struct{})
		b.holds[shop] = ch
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			b.mu.Lock()
			defer b.mu.Unlock()
			if cur, ok := b.holds[shop]; ok && cur == ch {
				close(ch)
				delete(b.holds, shop)
			}
		})
	}
}

// FailNextBulkOperation makes the shop's next bulk operation fail with
// errorCode (TIMEOUT or INTERNAL_SERVER_ERROR) once it has written
// afterObjects objects; what it wrote is offered as partialDataUrl.
func (s *Simulator) FailNextBulkOperation(shop string, afterObjects int64, errorCode string) {
	s.bulk.mu.Lock()
	defer s.bulk.mu.Unlock()
	s.bulk.failures[shop] = bulkFailure{after: afterObjects, code: errorCode}
}

func (b *bulkRunner) snapshot(op *bulkOp, base string) *bulkSnapshot {
	b.mu.Lock()
	defer b.mu.Unlock()
	return &bulkSnapshot{bulkOp: *op, baseURL: base, now: b.sim.now()}
}

func (b *bulkRunner) find(shop string, id int64) *bulkOp {
	b.mu.Lock()
	defer b.mu.Unlock()
	if op, ok := b.ops[id]; ok && op.shop == shop {
		return op
	}
	return nil
}

func (b *bulkRunner) latest(shop string) *bulkOp {
	b.mu.Lock()
	defer b.mu.Unlock()
	ids := b.byShop[shop]
	if len(ids) == 0 {
		return nil
	}
	return b.ops[ids[len(ids)-1]]
}

// ---- validation ----------------------------------------------------------

// bulkShape checks Shopify's rules for bulk queries and returns the
// problem, or "" when the query may run.
func (ec *execCtx) bulkShape() string {
	groups := ec.groups(ec.schema.query, ec.op.SelectionSet)
	var fields []fieldGroup
	for _, g := range groups {
		if g.field.Name != "__typename" {
			fields = append(fields, g)
		}
	}
	if len(fields) != 1 {
		return "Bulk queries must contain exactly one top-level field."
	}
	if name := fields[0].field.Name; name == "node" || name == "nodes" {
		return "Bulk queries cannot use the top-level node or nodes fields."
	}
	conns, depth := 0, 0
	var missingID []string
	var walk func(t *objectType, set ast.SelectionSet, level int)
	walk = func(t *objectType, set ast.SelectionSet, level int) {
		for _, g := range ec.groups(t, set) {
			fd, ok := t.fields[g.field.Name]
			if !ok {
				continue
			}
			switch fd.kind {
			case kindObject, kindList:
				walk(ec.schema.types[fd.typ], g.merged, level)
			case kindConnection:
				conns++
				depth = max(depth, level+1)
				nodeT := ec.schema.types[fd.typ]
				sels := ec.nodeSelections(fd, g.merged)
				if hasNestedConnection(ec, nodeT, sels) && !selectsID(ec, nodeT, sels) {
					missingID = append(missingID, g.field.Name)
				}
				walk(nodeT, sels, level+1)
			}
		}
	}
	root := fields[0]
	if fd, ok := ec.schema.query.fields[root.field.Name]; ok && fd.kind == kindObject {
		t := ec.schema.types[fd.typ]
		if hasNestedConnection(ec, t, root.merged) && !selectsID(ec, t, root.merged) {
			missingID = append(missingID, root.field.Name)
		}
	}
	walk(ec.schema.query, ec.op.SelectionSet, 0)
	switch {
	case conns == 0:
		return "Bulk queries must contain at least one connection."
	case conns > bulkMaxConnections:
		return fmt.Sprintf("Bulk queries cannot contain more than %d connections.", bulkMaxConnections)
	case depth > bulkMaxDepth:
		return fmt.Sprintf("Bulk queries cannot contain connections with a nesting depth greater than %d.", bulkMaxDepth)
	case len(missingID) > 0:
		return "The parent 'node' field for a nested connection must select the 'id' field without an alias and must be of 'ID' return type. Connection fields without 'id': " + strings.Join(missingID, ", ") + "."
	}
	return ""
}

func hasNestedConnection(ec *execCtx, t *objectType, set ast.SelectionSet) bool {
	for _, g := range ec.groups(t, set) {
		fd, ok := t.fields[g.field.Name]
		if !ok {
			continue
		}
		switch fd.kind {
		case kindConnection:
			return true
		case kindObject, kindList:
			if hasNestedConnection(ec, ec.schema.types[fd.typ], g.merged) {
				return true
			}
		}
	}
	return false
}

func selectsID(ec *execCtx, t *objectType, set ast.SelectionSet) bool {
	for _, sel := range set {
		if f, ok := sel.(*ast.Field); ok && f.Name == "id" && (f.Alias == "" || f.Alias == "id") {
			return true
		}
	}
	for _, g := range ec.groups(t, set) {
		if g.key == "id" && g.field.Name == "id" {
			return true
		}
	}
	return false
}

// nodeSelections gathers what a connection selects on its nodes, through
// edges { node } or nodes.
func (ec *execCtx) nodeSelections(fd *fieldDef, set ast.SelectionSet) ast.SelectionSet {
	if len(set) == 0 {
		return nil
	}
	// Memoized so that every node of a nested connection shares one
	// selection set, and with it the collected-fields cache entry.
	k := groupKey{typ: fd.typ + "Connection", first: &set[0], n: len(set)}
	if s, ok := ec.nodeSelCache[k]; ok {
		return s
	}
	if ec.nodeSelCache == nil {
		ec.nodeSelCache = map[groupKey]ast.SelectionSet{}
	}
	s := ec.collectNodeSelections(fd, set)
	ec.nodeSelCache[k] = s
	return s
}

func (ec *execCtx) collectNodeSelections(fd *fieldDef, set ast.SelectionSet) ast.SelectionSet {
	var out ast.SelectionSet
	for _, g := range ec.groups(ec.schema.types[fd.typ+"Connection"], set) {
		switch g.field.Name {
		case "nodes":
			out = append(out, g.merged...)
		case "edges":
			for _, eg := range ec.groups(ec.schema.types[fd.typ+"Edge"], g.merged) {
				if eg.field.Name == "node" {
					out = append(out, eg.merged...)
				}
			}
		}
	}
	return out
}

// ---- starting, cancelling -------------------------------------------------

func bulkUserError(code, msg string, field ...string) *jsonObject {
	o := &jsonObject{}
	if len(field) == 0 {
		o.set("field", nil)
	} else {
		f := make([]any, len(field))
		for i, s := range field {
			f[i] = s
		}
		o.set("field", f)
	}
	o.set("message", msg)
	if code != "" {
		o.set("code", code)
	}
	return o
}

type bulkPayload struct {
	op         *bulkSnapshot
	userErrors []any
}

// runQuery validates and starts a bulk query for the request's shop.
func (ec *execCtx) runBulkQuery(query string) (bulkPayload, error) {
	b := ec.sim.bulk
	doc, op, perr := parseDocument(query, "")
	if perr != nil {
		return bulkPayload{userErrors: []any{bulkUserError("INVALID", "Invalid bulk query: "+perr.message, "query")}}, nil
	}
	if op.Operation != ast.Query {
		return bulkPayload{userErrors: []any{bulkUserError("INVALID", "Bulk queries must be query operations; use bulkOperationRunMutation for mutations.", "query")}}, nil
	}
	vc := &execCtx{sim: ec.sim, sh: ec.sh, schema: ec.schema, doc: doc, op: op, vars: map[string]any{},
		scopes: ec.scopes, version: ec.version, now: ec.now, bulk: &bulkWalk{}, rootPath: "query"}
	vc.analyze(ec.schema.query, op.SelectionSet, []any{"query"})
	if len(vc.errors) > 0 {
		return bulkPayload{userErrors: []any{bulkUserError("INVALID", "Invalid bulk query: "+vc.errors[0].message, "query")}}, nil
	}
	if problem := vc.bulkShape(); problem != "" {
		return bulkPayload{userErrors: []any{bulkUserError("INVALID", problem, "query")}}, nil
	}
	if _, err := b.resultDir(); err != nil {
		return bulkPayload{}, err
	}

	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return bulkPayload{}, errors.New("simulator closed")
	}
	var active []int64
	for _, id := range b.byShop[ec.sh.domain] {
		if running(b.ops[id].status) {
			active = append(active, id)
		}
	}
	limit := 1
	if versionAtLeast(ec.version, bulkConcurrencyVersion) {
		limit = bulkConcurrentQueries
	}
	if len(active) >= limit {
		b.mu.Unlock()
		if limit == 1 {
			return bulkPayload{userErrors: []any{bulkUserError("OPERATION_IN_PROGRESS",
				fmt.Sprintf("A bulk query operation for this app and shop is already in progress: gid://shopify/BulkOperation/%d.", active[0]))}}, nil
		}
		return bulkPayload{userErrors: []any{bulkUserError("LIMIT_REACHED", "Bulk operations limit reached. Please try again later.")}}, nil
	}
	b.seq++
	ctx, cancel := context.WithCancel(context.Background())
	bop := &bulkOp{
		id: b.seq, shop: ec.sh.domain, query: query, version: ec.version, createdAt: ec.now,
		status: "CREATED", cancel: cancel, done: make(chan struct{}),
	}
	b.ops[bop.id] = bop
	b.byShop[ec.sh.domain] = append(b.byShop[ec.sh.domain], bop.id)
	hold := b.holds[ec.sh.domain]
	failure, fail := b.failures[ec.sh.domain]
	delete(b.failures, ec.sh.domain)
	b.wg.Add(1)
	snap := &bulkSnapshot{bulkOp: *bop, baseURL: ec.baseURL, now: ec.now}
	b.mu.Unlock()

	var inject *bulkFailure
	if fail {
		inject = &failure
	}
	go b.run(ctx, bop, ec.sh, ec.schema, doc, op, ec.scopes, hold, inject)
	return bulkPayload{op: snap, userErrors: []any{}}, nil
}

func (ec *execCtx) cancelBulk(gid string) (bulkPayload, error) {
	b := ec.sim.bulk
	id, ok := parseGID(gid, "BulkOperation")
	var op *bulkOp
	if ok {
		op = b.find(ec.sh.domain, id)
	}
	if op == nil {
		return bulkPayload{userErrors: []any{bulkUserError("", "Bulk operation does not exist", "id")}}, nil
	}
	b.mu.Lock()
	status := op.status
	if running(status) {
		op.status = "CANCELING"
		op.cancel()
	}
	b.mu.Unlock()
	snap := b.snapshot(op, ec.baseURL)
	if !running(status) {
		return bulkPayload{op: snap, userErrors: []any{bulkUserError("",
			"A bulk operation cannot be canceled when it is "+strings.ToLower(status), "id")}}, nil
	}
	return bulkPayload{op: snap, userErrors: []any{}}, nil
}

// ---- running ---------------------------------------------------------------

// bulkWalk is the executor's state while a bulk operation writes JSONL.
type bulkWalk struct {
	w       *bufio.Writer
	ctx     context.Context
	pending []pendingConnection
	objects int64
	roots   int64
	failAt  int64 // 0 = never
	onCount func(objects, roots int64)
}

type bulkStream struct {
	src  listSource
	item func(i int) any
}

type pendingConnection struct {
	stream *bulkStream
	nodeT  *objectType
	sels   ast.SelectionSet
}

// omitField marks a nested connection that a bulk operation writes as its
// own lines instead of inside the parent's line.
type omitMarker struct{}

var omitField = omitMarker{}

func (w *bulkWalk) stream(src listSource, item func(i int) any) any {
	return &bulkStream{src: src, item: item}
}

var (
	errBulkAccessDenied = errors.New("access denied")
	errBulkInjected     = errors.New("injected failure")
)

func (b *bulkRunner) run(ctx context.Context, op *bulkOp, sh *shopState, sc *schema, doc *ast.QueryDocument, opDef *ast.OperationDefinition,
	scopes []string, hold chan struct{}, fail *bulkFailure) {
	defer b.wg.Done()
	defer close(op.done)
	if hold != nil {
		select {
		case <-hold:
		case <-ctx.Done():
		}
	}
	b.mu.Lock()
	if op.status == "CREATED" {
		op.status = "RUNNING"
	}
	b.mu.Unlock()

	path := filepath.Join(b.dir, fmt.Sprintf("%d.jsonl", op.id))
	f, err := os.Create(path)
	var runErr error
	walk := &bulkWalk{ctx: ctx}
	if err != nil {
		runErr = err
	} else {
		walk.w = bufio.NewWriterSize(f, 256<<10)
		if fail != nil {
			walk.failAt = max(fail.after, 0) + 1
		}
		walk.onCount = func(objects, roots int64) {
			b.mu.Lock()
			op.objectCount, op.rootObjectCount = objects, roots
			b.mu.Unlock()
		}
		ec := &execCtx{sim: b.sim, sh: sh, schema: sc, doc: doc, op: opDef, vars: map[string]any{},
			scopes: scopes, version: op.version, now: b.sim.now(), bulk: walk, rootPath: "query"}
		runErr = ec.bulkExecute()
		if ferr := walk.w.Flush(); ferr != nil && runErr == nil {
			runErr = ferr
		}
		if cerr := f.Close(); cerr != nil && runErr == nil {
			runErr = cerr
		}
	}
	info, _ := os.Stat(path)
	b.finish(op, sh, walk, path, info, runErr, fail)
}

func (b *bulkRunner) finish(op *bulkOp, sh *shopState, walk *bulkWalk, path string, info os.FileInfo, runErr error, fail *bulkFailure) {
	b.mu.Lock()
	op.objectCount, op.rootObjectCount = walk.objects, walk.roots
	op.completedAt = b.sim.now()
	hasData := walk.objects > 0 && info != nil
	switch {
	case op.status == "CANCELING" || errors.Is(runErr, context.Canceled):
		op.status = "CANCELED"
		_ = os.Remove(path)
	case runErr == nil:
		op.status = "COMPLETED"
		if hasData {
			op.file = path
			op.fileSize = info.Size()
		} else {
			_ = os.Remove(path)
		}
	default:
		op.status = "FAILED"
		switch {
		case errors.Is(runErr, errBulkAccessDenied):
			op.errorCode = "ACCESS_DENIED"
		case errors.Is(runErr, errBulkInjected):
			op.errorCode = fail.code
		default:
			op.errorCode = "INTERNAL_SERVER_ERROR"
			b.sim.log.Error("bulk operation failed", "shop", op.shop, "bulk_operation", op.id, "err", runErr)
		}
		if hasData && op.errorCode != "ACCESS_DENIED" {
			op.partialFile = path
		} else {
			_ = os.Remove(path)
		}
	}
	b.notifyFinishedLocked(op, sh, "query")
}

// bulkExecute writes the whole result of the operation's query.
func (ec *execCtx) bulkExecute() error {
	root := ec.groups(ec.schema.query, ec.op.SelectionSet)
	var g fieldGroup
	for _, rg := range root {
		if rg.field.Name != "__typename" {
			g = rg
		}
	}
	fd := ec.schema.query.fields[g.field.Name]
	ec.sh.mu.RLock()
	val := ec.execRootForBulk(fd, g)
	ec.sh.mu.RUnlock()
	if len(ec.errors) > 0 {
		return errBulkAccessDenied
	}
	if val == nil {
		return nil
	}
	nodeT := ec.schema.types[fd.typ]
	if fd.kind == kindObject {
		ec.sh.mu.RLock()
		defer ec.sh.mu.RUnlock()
		return ec.bulkEmit(nodeT, val, g.merged, "")
	}
	stream := val.(*bulkStream)
	sels := ec.nodeSelections(fd, g.merged)
	return ec.bulkEmitStream(stream, nodeT, sels, "", true)
}

func (ec *execCtx) execRootForBulk(fd *fieldDef, g fieldGroup) any {
	if fd.scope != "" && !hasScope(ec.scopes, fd.scope) {
		ec.fail("Access denied for "+fd.name+" field.", g.field.Position, []any{g.key}, ext("code", "ACCESS_DENIED"))
		return nil
	}
	args, ok := ec.args(ec.schema.query, fd, g.field, []any{g.key})
	if !ok {
		return nil
	}
	val, err := fd.resolve(ec, ec.sh, args)
	if err != nil {
		ec.fail(err.Error(), g.field.Position, []any{g.key}, nil)
		return nil
	}
	return val
}

// bulkEmitStream writes every node of a connection. The root connection is
// read in chunks, each under its own read lock.
func (ec *execCtx) bulkEmitStream(s *bulkStream, nodeT *objectType, sels ast.SelectionSet, parentID string, root bool) error {
	src := s.src
	var perm []int32
	if src.key != nil {
		if root {
			ec.sh.mu.RLock()
		}
		perm = src.cache.perm(src)
		if root {
			ec.sh.mu.RUnlock()
		}
	}
	phys := func(k int) int {
		if perm != nil {
			return int(perm[k])
		}
		return k
	}
	emit := func(k int) error {
		i := phys(k)
		if !src.live(i) || (src.match != nil && !src.match(i)) {
			return nil
		}
		return ec.bulkEmit(nodeT, s.item(i), sels, parentID)
	}
	if !root {
		for k := 0; k < src.n; k++ {
			if err := emit(k); err != nil {
				return err
			}
		}
		return nil
	}
	for start := 0; start < src.n; start += bulkChunk {
		if err := ec.bulk.ctx.Err(); err != nil {
			return err
		}
		end := min(start+bulkChunk, src.n)
		ec.sh.mu.RLock()
		var err error
		for k := start; k < end && err == nil; k++ {
			err = emit(k)
		}
		ec.sh.mu.RUnlock()
		if err != nil {
			return err
		}
		if ec.bulk.onCount != nil {
			ec.bulk.onCount(ec.bulk.objects, ec.bulk.roots)
		}
	}
	return nil
}

// bulkEmit writes one node as a line, then the nodes of its nested
// connections as their own lines.
func (ec *execCtx) bulkEmit(t *objectType, val any, sels ast.SelectionSet, parentID string) error {
	w := ec.bulk
	if w.failAt > 0 && w.objects+1 >= w.failAt {
		return errBulkInjected
	}
	mark := len(w.pending)
	obj := ec.execSelection(t, val, sels, nil)
	if len(ec.errors) > 0 {
		return errBulkAccessDenied
	}
	if parentID != "" {
		obj.set("__parentId", parentID)
	}
	line := appendJSON(make([]byte, 0, 256), obj)
	line = append(line, '\n')
	if _, err := w.w.Write(line); err != nil {
		return err
	}
	w.objects++
	if parentID == "" {
		w.roots++
	}
	children := slices.Clone(w.pending[mark:])
	w.pending = w.pending[:mark]
	if len(children) == 0 {
		return nil
	}
	id, _ := obj.get("id")
	idStr, _ := id.(string)
	for _, pc := range children {
		if err := ec.bulkEmitStream(pc.stream, pc.nodeT, pc.sels, idStr, false); err != nil {
			return err
		}
	}
	return nil
}

// ---- result files ----------------------------------------------------------

func (s *bulkSnapshot) expired() bool {
	return !s.completedAt.IsZero() && !s.now.Before(s.completedAt.Add(bulkResultTTL))
}

func (s *bulkSnapshot) fileURL(partial bool) any {
	f := s.file
	if partial {
		f = s.partialFile
	}
	if f == "" || s.expired() {
		return nil
	}
	name := strconv.FormatInt(s.id, 10)
	if partial {
		name += "-partial"
	}
	return s.baseURL + "/simulator/bulk/" + name + ".jsonl"
}

// serveBulkFile serves result files at /simulator/bulk/{id}.jsonl and
// /simulator/bulk/{id}-partial.jsonl while they are valid.
func (s *Simulator) serveBulkFile(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/simulator/bulk/"), ".jsonl")
	partial := strings.HasSuffix(name, "-partial")
	id, err := strconv.ParseInt(strings.TrimSuffix(name, "-partial"), 10, 64)
	if err != nil {
		http.Error(w, "Not Found", http.StatusNotFound)
		return
	}
	b := s.bulk
	b.mu.Lock()
	op, ok := b.ops[id]
	var file string
	var completed time.Time
	if ok {
		file, completed = op.file, op.completedAt
		if partial {
			file = op.partialFile
		}
	}
	b.mu.Unlock()
	if file == "" {
		http.Error(w, "Not Found", http.StatusNotFound)
		return
	}
	if !s.now().Before(completed.Add(bulkResultTTL)) {
		// Shopify's signed storage URLs answer 4xx once they expire.
		http.Error(w, "ExpiredToken: the provided token has expired", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/jsonl")
	http.ServeFile(w, r, file)
}

// ---- schema ----------------------------------------------------------------

func addBulkTypes(sc *schema) {
	sc.enum("BulkOperationType", "QUERY", "MUTATION")
	bo := func(p any) *bulkSnapshot { return p.(*bulkSnapshot) }
	sc.object("BulkOperation",
		scalar("id", "ID", func(p any) any { return fmt.Sprintf("gid://shopify/BulkOperation/%d", bo(p).id) }),
		scalar("status", "BulkOperationStatus", func(p any) any {
			s := bo(p)
			if (s.status == "COMPLETED" || s.status == "FAILED") && s.expired() {
				return "EXPIRED"
			}
			return s.status
		}),
		scalar("errorCode", "BulkOperationErrorCode", func(p any) any { return nullIfEmpty(bo(p).errorCode) }),
		scalar("createdAt", "DateTime", func(p any) any { return bo(p).createdAt.UTC().Format(time.RFC3339) }),
		scalar("completedAt", "DateTime", func(p any) any {
			s := bo(p)
			if s.status != "COMPLETED" {
				return nil
			}
			return s.completedAt.UTC().Format(time.RFC3339)
		}),
		scalar("objectCount", "UnsignedInt64", func(p any) any { return strconv.FormatInt(bo(p).objectCount, 10) }),
		scalar("rootObjectCount", "UnsignedInt64", func(p any) any { return strconv.FormatInt(bo(p).rootObjectCount, 10) }),
		scalar("fileSize", "UnsignedInt64", func(p any) any {
			s := bo(p)
			if s.file == "" || s.expired() {
				return nil
			}
			return strconv.FormatInt(s.fileSize, 10)
		}),
		scalar("url", "URL", func(p any) any { return bo(p).fileURL(false) }),
		scalar("partialDataUrl", "URL", func(p any) any { return bo(p).fileURL(true) }),
		scalar("query", "String", func(p any) any { return bo(p).query }),
		scalar("type", "BulkOperationType", func(any) any { return "QUERY" }),
	)
	ue := func(name string) {
		sc.object(name,
			scalar("field", "[String!]", func(p any) any { v, _ := p.(*jsonObject).get("field"); return v }),
			scalar("message", "String", func(p any) any { v, _ := p.(*jsonObject).get("message"); return v }),
			scalar("code", "BulkOperationUserErrorCode", func(p any) any { v, _ := p.(*jsonObject).get("code"); return v }),
		).payload = true
	}
	ue("BulkOperationUserError")
	ue("UserError")
	payload := func(name, errType string) {
		sc.object(name,
			object("bulkOperation", "BulkOperation", func(_ *execCtx, p any) any {
				if op := p.(bulkPayload).op; op != nil {
					return op
				}
				return nil
			}),
			&fieldDef{name: "userErrors", kind: kindList, typ: errType, resolve: func(_ *execCtx, p any, _ map[string]any) (any, error) {
				return p.(bulkPayload).userErrors, nil
			}},
		).payload = true
	}
	payload("BulkOperationRunQueryPayload", "BulkOperationUserError")
	payload("BulkOperationCancelPayload", "UserError")

	sc.object(sc.query.name,
		&fieldDef{name: "bulkOperation", kind: kindObject, typ: "BulkOperation", args: []argDef{{"id", "ID!"}},
			resolve: func(ec *execCtx, _ any, args map[string]any) (any, error) {
				id, ok := parseGID(stringArg(args, "id"), "BulkOperation")
				if !ok {
					return nil, nil
				}
				if op := ec.sim.bulk.find(ec.sh.domain, id); op != nil {
					return ec.sim.bulk.snapshot(op, ec.baseURL), nil
				}
				return nil, nil
			}},
		&fieldDef{name: "currentBulkOperation", kind: kindObject, typ: "BulkOperation", args: []argDef{{"type", "BulkOperationType"}},
			resolve: func(ec *execCtx, _ any, args map[string]any) (any, error) {
				if t := stringArg(args, "type"); t == "MUTATION" {
					return nil, nil
				}
				if op := ec.sim.bulk.latest(ec.sh.domain); op != nil {
					return ec.sim.bulk.snapshot(op, ec.baseURL), nil
				}
				return nil, nil
			}},
	)
	sc.object(sc.mutation.name,
		&fieldDef{name: "bulkOperationRunQuery", kind: kindObject, typ: "BulkOperationRunQueryPayload", mutation: true,
			args: []argDef{{"query", "String!"}, {"groupObjects", "Boolean"}},
			resolve: func(ec *execCtx, _ any, args map[string]any) (any, error) {
				return ec.runBulkQuery(stringArg(args, "query"))
			}},
		&fieldDef{name: "bulkOperationCancel", kind: kindObject, typ: "BulkOperationCancelPayload", mutation: true,
			args: []argDef{{"id", "ID!"}},
			resolve: func(ec *execCtx, _ any, args map[string]any) (any, error) {
				return ec.cancelBulk(stringArg(args, "id"))
			}},
	)
}

// notifyFinishedLocked sends bulk_operations/finish for a completed
// operation of kind "query" or "mutation". It is called with b.mu held and
// releases it before the delivery, which may take seconds.
func (b *bulkRunner) notifyFinishedLocked(op *bulkOp, sh *shopState, kind string) {
	payload := map[string]any{
		"admin_graphql_api_id": fmt.Sprintf("gid://shopify/BulkOperation/%d", op.id),
		"completed_at":         op.completedAt.In(sh.loc).Format(time.RFC3339),
		"created_at":           op.createdAt.In(sh.loc).Format(time.RFC3339),
		"error_code":           nil,
		"status":               strings.ToLower(op.status),
		"type":                 kind,
	}
	if op.errorCode != "" {
		payload["error_code"] = strings.ToLower(op.errorCode)
	}
	closed := b.closed
	b.mu.Unlock()
	if !closed && sh.isInstalled() && b.sim.subscribed(TopicBulkOperationsFinish) {
		ctx, cancel := context.WithTimeout(context.Background(), b.sim.webhookTimeout)
		defer cancel()
		if _, err := b.sim.SendWebhook(ctx, op.shop, TopicBulkOperationsFinish, payload); err != nil {
			b.sim.log.Warn("bulk_operations/finish not delivered", "shop", op.shop, "err", err)
		}
	}
}
