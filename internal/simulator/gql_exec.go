package simulator

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
)

// Query cost rules, from shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits
// and Shopify's "Rate limiting GraphQL APIs by calculating query complexity":
// scalars and enums cost 0, objects 1, a connection 2 plus `first` (or
// `last`) times the cost of one node, a mutation 10; one query may not
// request more than 1,000 points.
const (
	maxQueryCost   = 1000
	connectionCost = 2
	mutationCost   = 10
	maxPageSize    = 250
)

type gqlLocation struct {
	Line   int `json:"line"`
	Column int `json:"column"`
}

type gqlError struct {
	message    string
	locations  []gqlLocation
	path       []any
	extensions *jsonObject
}

func (e gqlError) toJSON() *jsonObject {
	o := &jsonObject{}
	o.set("message", e.message)
	if len(e.locations) > 0 {
		locs := make([]any, len(e.locations))
		for i, l := range e.locations {
			lo := &jsonObject{}
			lo.set("line", l.Line)
			lo.set("column", l.Column)
			locs[i] = lo
		}
		o.set("locations", locs)
	}
	if e.path != nil {
		o.set("path", e.path)
	}
	if e.extensions != nil {
		o.set("extensions", e.extensions)
	}
	return o
}

func ext(kv ...any) *jsonObject {
	o := &jsonObject{}
	for i := 0; i+1 < len(kv); i += 2 {
		o.set(kv[i].(string), kv[i+1])
	}
	return o
}

func locOf(p *ast.Position) []gqlLocation {
	if p == nil {
		return nil
	}
	return []gqlLocation{{Line: p.Line, Column: p.Column}}
}

// execCtx carries one GraphQL request through validation and execution.
type execCtx struct {
	sim     *Simulator
	sh      *shopState
	schema  *schema
	doc     *ast.QueryDocument
	op      *ast.OperationDefinition
	vars    map[string]any
	scopes  []string
	version string
	now     time.Time
	baseURL string

	errors    []gqlError
	cost      int  // actual cost so far
	inPayload bool // inside a mutation payload, whose objects are in its flat cost
	rootPath  string

	// bulk is set while a bulk operation runs the query; connections then
	// stream instead of paging.
	bulk *bulkWalk

	groupCache   map[groupKey][]fieldGroup
	nodeSelCache map[groupKey]ast.SelectionSet
}

func (ec *execCtx) fail(msg string, pos *ast.Position, path []any, extension *jsonObject) {
	ec.errors = append(ec.errors, gqlError{message: msg, locations: locOf(pos), path: slices.Clone(path), extensions: extension})
}

// parseDocument parses a GraphQL document and picks the operation to run.
func parseDocument(query, opName string) (*ast.QueryDocument, *ast.OperationDefinition, *gqlError) {
	if strings.TrimSpace(query) == "" {
		return nil, nil, &gqlError{message: "No query string was present"}
	}
	doc, err := parser.ParseQuery(&ast.Source{Input: query})
	if err != nil {
		var ge *gqlerror.Error
		msg := err.Error()
		var locs []gqlLocation
		if errors.As(err, &ge) {
			msg = "Parse error: " + ge.Message
			for _, l := range ge.Locations {
				locs = append(locs, gqlLocation{Line: l.Line, Column: l.Column})
			}
		}
		return nil, nil, &gqlError{message: msg, locations: locs}
	}
	var op *ast.OperationDefinition
	switch {
	case opName != "":
		op = doc.Operations.ForName(opName)
		if op == nil {
			return nil, nil, &gqlError{message: fmt.Sprintf("No operation named %q", opName)}
		}
	case len(doc.Operations) == 1:
		op = doc.Operations[0]
	case len(doc.Operations) == 0:
		return nil, nil, &gqlError{message: "No operations in query document"}
	default:
		return nil, nil, &gqlError{message: "An operation name is required when sending multiple operations."}
	}
	return doc, op, nil
}

// normalizeJSON turns decoded JSON numbers into int64 where they are whole.
func normalizeJSON(v any) any {
	switch t := v.(type) {
	case float64:
		if t == math.Trunc(t) && math.Abs(t) < 1<<53 {
			return int64(t)
		}
		return t
	case interface{ String() string }:
		// json.Number
		s := t.String()
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return i
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return f
		}
		return s
	case map[string]any:
		for k, e := range t {
			t[k] = normalizeJSON(e)
		}
		return t
	case []any:
		for i, e := range t {
			t[i] = normalizeJSON(e)
		}
		return t
	}
	return v
}

// prepareVariables applies defaults and checks required variables.
func (ec *execCtx) prepareVariables(given map[string]any) {
	vars := map[string]any{}
	for _, vd := range ec.op.VariableDefinitions {
		v, ok := given[vd.Variable]
		if !ok && vd.DefaultValue != nil {
			dv, err := vd.DefaultValue.Value(nil)
			if err == nil {
				v, ok = dv, true
			}
		}
		if (!ok || v == nil) && vd.Type != nil && vd.Type.NonNull {
			ec.fail(fmt.Sprintf("Variable $%s of type %s was provided invalid value", vd.Variable, vd.Type.String()),
				vd.Position, nil, ext("code", "INVALID_VARIABLE"))
			continue
		}
		if ok {
			vars[vd.Variable] = normalizeJSON(v)
		}
	}
	ec.vars = vars
}

// fieldGroup is one response key with the fields merged under it.
type fieldGroup struct {
	key    string
	field  *ast.Field
	merged ast.SelectionSet
}

func (ec *execCtx) included(dirs ast.DirectiveList) bool {
	for _, d := range dirs {
		if d.Name != "skip" && d.Name != "include" {
			continue
		}
		arg := d.Arguments.ForName("if")
		if arg == nil {
			continue
		}
		v, err := arg.Value.Value(ec.vars)
		b, isBool := v.(bool)
		if err != nil || !isBool {
			continue
		}
		if d.Name == "skip" && b {
			return false
		}
		if d.Name == "include" && !b {
			return false
		}
	}
	return true
}

func (ec *execCtx) collect(typeName string, set ast.SelectionSet, groups []fieldGroup, seen map[string]bool) []fieldGroup {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if !ec.included(s.Directives) {
				continue
			}
			key := s.Alias
			if key == "" {
				key = s.Name
			}
			found := false
			for i := range groups {
				if groups[i].key == key {
					groups[i].merged = append(groups[i].merged, s.SelectionSet...)
					found = true
					break
				}
			}
			if !found {
				groups = append(groups, fieldGroup{key: key, field: s, merged: slices.Clone(s.SelectionSet)})
			}
		case *ast.InlineFragment:
			if !ec.included(s.Directives) || !ec.typeMatches(typeName, s.TypeCondition, s.Position) {
				continue
			}
			groups = ec.collect(typeName, s.SelectionSet, groups, seen)
		case *ast.FragmentSpread:
			if !ec.included(s.Directives) || seen[s.Name] {
				continue
			}
			def := ec.doc.Fragments.ForName(s.Name)
			if def == nil {
				ec.fail(fmt.Sprintf("Fragment %s was used, but not defined", s.Name), s.Position, nil,
					ext("code", "useAndDefineFragment", "fragmentName", s.Name))
				continue
			}
			if !ec.typeMatches(typeName, def.TypeCondition, def.Position) {
				continue
			}
			seen[s.Name] = true
			groups = ec.collect(typeName, def.SelectionSet, groups, seen)
			delete(seen, s.Name)
		}
	}
	return groups
}

func (ec *execCtx) typeMatches(typeName, cond string, pos *ast.Position) bool {
	if cond == "" || cond == typeName {
		return true
	}
	if _, ok := ec.schema.types[cond]; !ok && cond != "Node" {
		ec.fail(fmt.Sprintf("No such type %s, so it can't be a fragment condition", cond), pos, nil,
			ext("code", "undefinedType", "typeName", cond))
		return false
	}
	return cond == "Node" && ec.schema.types[typeName].fields["id"] != nil
}

// groups collects a selection set's fields once per request: bulk
// operations execute the same selection for millions of nodes.
func (ec *execCtx) groups(t *objectType, set ast.SelectionSet) []fieldGroup {
	if len(set) == 0 {
		return nil
	}
	k := groupKey{typ: t.name, first: &set[0], n: len(set)}
	if g, ok := ec.groupCache[k]; ok {
		return g
	}
	g := ec.collect(t.name, set, nil, map[string]bool{})
	if ec.groupCache == nil {
		ec.groupCache = map[groupKey][]fieldGroup{}
	}
	ec.groupCache[k] = g
	return g
}

type groupKey struct {
	typ   string
	first *ast.Selection
	n     int
}

// args evaluates a field's arguments and checks them against the field's
// definition; ok is false when an error was recorded.
func (ec *execCtx) args(t *objectType, fd *fieldDef, f *ast.Field, path []any) (map[string]any, bool) {
	if len(f.Arguments) == 0 {
		return nil, true
	}
	out := map[string]any{}
	ok := true
	for _, a := range f.Arguments {
		def, known := fd.arg(a.Name)
		if !known {
			ec.fail(fmt.Sprintf("Field '%s' doesn't accept argument '%s'", fd.name, a.Name), a.Position, path,
				ext("code", "argumentNotAccepted", "name", fd.name, "typeName", "Field", "argumentName", a.Name))
			ok = false
			continue
		}
		v, err := a.Value.Value(ec.vars)
		if err != nil {
			ec.fail(fmt.Sprintf("Argument '%s' on Field '%s' has an invalid value (%s). Expected type '%s'.", a.Name, fd.name, a.Value.String(), def.typ),
				a.Position, path, ext("code", "argumentLiteralsIncompatible", "typeName", "Field", "argumentName", a.Name))
			ok = false
			continue
		}
		v = normalizeJSON(v)
		cv, good := ec.coerceArg(def.typ, v)
		if !good {
			ec.fail(fmt.Sprintf("Argument '%s' on Field '%s' has an invalid value (%s). Expected type '%s'.", a.Name, fd.name, a.Value.String(), def.typ),
				a.Position, path, ext("code", "argumentLiteralsIncompatible", "typeName", "Field", "argumentName", a.Name))
			ok = false
			continue
		}
		out[a.Name] = cv
	}
	return out, ok
}

func (ec *execCtx) coerceArg(typ string, v any) (any, bool) {
	if v == nil {
		return nil, true
	}
	typ = strings.TrimSuffix(typ, "!")
	if strings.HasPrefix(typ, "[") {
		inner := strings.TrimSuffix(strings.TrimPrefix(typ, "["), "]")
		list, isList := v.([]any)
		if !isList {
			list = []any{v}
		}
		out := make([]any, 0, len(list))
		for _, e := range list {
			ce, ok := ec.coerceArg(inner, e)
			if !ok || ce == nil {
				return nil, false
			}
			out = append(out, ce)
		}
		return out, true
	}
	switch typ {
	case "Int":
		i, ok := v.(int64)
		if !ok || i > math.MaxInt32 || i < math.MinInt32 {
			return nil, false
		}
		return int(i), true
	case "String":
		s, ok := v.(string)
		return s, ok
	case "ID":
		switch t := v.(type) {
		case string:
			return t, true
		case int64:
			return strconv.FormatInt(t, 10), true
		}
		return nil, false
	case "Boolean":
		b, ok := v.(bool)
		return b, ok
	case "JSON":
		return v, true
	}
	if values, isEnum := ec.schema.enums[typ]; isEnum {
		s, ok := v.(string)
		if !ok || !slices.Contains(values, s) {
			return nil, false
		}
		return s, true
	}
	if _, isInput := ec.schema.types[typ]; isInput {
		m, ok := v.(map[string]any)
		return m, ok
	}
	return v, true
}

// ---- validation and requested cost ---------------------------------------

// analyze validates a selection on type t and returns its requested cost.
func (ec *execCtx) analyze(t *objectType, set ast.SelectionSet, path []any) int {
	total := 0
	for _, g := range ec.groups(t, set) {
		f := g.field
		if f.Name == "__typename" {
			continue
		}
		fpath := append(path, g.key)
		fd, ok := t.fields[f.Name]
		if !ok {
			ec.fail(fmt.Sprintf("Field '%s' doesn't exist on type '%s'", f.Name, t.name), f.Position, fpath,
				ext("code", "undefinedField", "typeName", t.name, "fieldName", f.Name))
			continue
		}
		args, argsOK := ec.args(t, fd, f, fpath)
		switch fd.kind {
		case kindScalar:
			if len(g.merged) > 0 {
				ec.fail(fmt.Sprintf("Selections can't be made on scalars (field '%s' returns %s but has selections [%s])", f.Name, fd.typ, selectionNames(g.merged)),
					f.Position, fpath, ext("code", "selectionMismatch", "nodeName", "field '"+f.Name+"'", "typeName", fd.typ))
			}
			if fd.costSet {
				total += fd.cost
			}
		case kindObject, kindList:
			if len(g.merged) == 0 {
				ec.fail(fmt.Sprintf("Field must have selections (field '%s' returns %s but has no selections. Did you mean '%s { ... }'?)", f.Name, fd.typ, f.Name),
					f.Position, fpath, ext("code", "selectionMismatch", "nodeName", "field '"+f.Name+"'", "typeName", fd.typ))
				continue
			}
			child := ec.schema.types[fd.typ]
			if fd.mutation {
				saved := ec.inPayload
				ec.inPayload = true
				total += mutationCost + ec.analyze(child, g.merged, fpath)
				ec.inPayload = saved
				continue
			}
			each := ec.objectCost(child) + ec.analyze(child, g.merged, fpath)
			if fd.kind == kindList && argsOK {
				if n, ok := args["first"].(int); ok && n > 0 {
					each *= n
				}
			}
			if fd.costSet {
				each = fd.cost
			}
			total += each
		case kindConnection:
			if len(g.merged) == 0 {
				ec.fail(fmt.Sprintf("Field must have selections (field '%s' returns %sConnection! but has no selections. Did you mean '%s { ... }'?)", f.Name, fd.typ, f.Name),
					f.Position, fpath, ext("code", "selectionMismatch", "nodeName", "field '"+f.Name+"'", "typeName", fd.typ+"Connection"))
				continue
			}
			n := 0
			if argsOK {
				var msg string
				n, msg = pageSize(args, ec.bulk != nil)
				if msg != "" {
					ec.fail(msg, f.Position, fpath, nil)
				}
			}
			total += connectionCost + n*ec.analyzeConnection(fd, g.merged, fpath)
		}
	}
	return total
}

func (ec *execCtx) objectCost(t *objectType) int {
	if ec.inPayload || t.payload {
		return 0
	}
	return t.cost
}

// analyzeConnection validates a connection's selection and returns the cost
// of one node: the larger of what edges.node and nodes select.
func (ec *execCtx) analyzeConnection(fd *fieldDef, set ast.SelectionSet, path []any) int {
	connT := ec.schema.types[fd.typ+"Connection"]
	nodeT := ec.schema.types[fd.typ]
	edgeT := ec.schema.types[fd.typ+"Edge"]
	best := 0
	for _, g := range ec.groups(connT, set) {
		fpath := append(path, g.key)
		switch g.field.Name {
		case "__typename":
		case "nodes":
			if len(g.merged) == 0 {
				ec.fail("Field must have selections (field 'nodes' returns ["+nodeT.name+"!]! but has no selections. Did you mean 'nodes { ... }'?)",
					g.field.Position, fpath, ext("code", "selectionMismatch"))
				continue
			}
			best = max(best, ec.objectCost(nodeT)+ec.analyze(nodeT, g.merged, fpath))
		case "edges":
			for _, eg := range ec.groups(edgeT, g.merged) {
				epath := append(fpath, eg.key)
				switch eg.field.Name {
				case "__typename", "cursor":
				case "node":
					best = max(best, ec.objectCost(nodeT)+ec.analyze(nodeT, eg.merged, epath))
				default:
					ec.fail(fmt.Sprintf("Field '%s' doesn't exist on type '%s'", eg.field.Name, edgeT.name), eg.field.Position, epath,
						ext("code", "undefinedField", "typeName", edgeT.name, "fieldName", eg.field.Name))
				}
			}
		case "pageInfo":
			ec.analyze(ec.schema.types["PageInfo"], g.merged, fpath)
		default:
			ec.fail(fmt.Sprintf("Field '%s' doesn't exist on type '%s'", g.field.Name, connT.name), g.field.Position, fpath,
				ext("code", "undefinedField", "typeName", connT.name, "fieldName", g.field.Name))
		}
	}
	return best
}

// pageSize reads first/last; bulk operations ignore them.
func pageSize(args map[string]any, bulk bool) (int, string) {
	first, hasFirst := args["first"].(int)
	last, hasLast := args["last"].(int)
	if bulk {
		return 1, ""
	}
	switch {
	case !hasFirst && !hasLast:
		return 0, "you must provide one of first or last"
	case hasFirst && hasLast:
		return 0, "providing both first and last is not supported"
	}
	n, name := first, "first"
	if hasLast {
		n, name = last, "last"
	}
	if n < 0 {
		return 0, name + " cannot be negative"
	}
	if n > maxPageSize {
		return 0, name + " cannot exceed 250. To query larger amounts of data with fewer limits, bulk operations should be used instead.\nSee https://shopify.dev/api/usage/bulk-operations/queries for usage details.\n"
	}
	return n, ""
}

func selectionNames(set ast.SelectionSet) string {
	var names []string
	for _, s := range set {
		if f, ok := s.(*ast.Field); ok {
			names = append(names, f.Name)
		}
	}
	return strings.Join(names, ", ")
}

// ---- execution -----------------------------------------------------------

func (ec *execCtx) execSelection(t *objectType, parent any, set ast.SelectionSet, path []any) *jsonObject {
	groups := ec.groups(t, set)
	// Response keys are unique per selection after collection, so values
	// are appended without the duplicate check of set.
	out := &jsonObject{keys: make([]string, 0, len(groups)+1), vals: make([]any, 0, len(groups)+1)}
	for _, g := range groups {
		f := g.field
		if f.Name == "__typename" {
			out.keys = append(out.keys, g.key)
			out.vals = append(out.vals, t.name)
			continue
		}
		fd := t.fields[f.Name]
		fpath := append(path, g.key)
		v := ec.execField(t, fd, f, g.merged, parent, fpath)
		if v == omitField {
			continue
		}
		out.keys = append(out.keys, g.key)
		out.vals = append(out.vals, v)
	}
	return out
}

func (ec *execCtx) execField(t *objectType, fd *fieldDef, f *ast.Field, sels ast.SelectionSet, parent any, path []any) any {
	if fd.scope != "" && !hasScope(ec.scopes, fd.scope) {
		req := "`" + fd.scope + "` access scope."
		ec.fail(fmt.Sprintf("Access denied for %s field. Required access: %s", fd.name, req), f.Position, path,
			ext("code", "ACCESS_DENIED", "documentation", "https://shopify.dev/api/usage/access-scopes", "requiredAccess", req))
		return nil
	}
	args, _ := ec.args(t, fd, f, path)
	saved := ec.inPayload
	if fd.mutation {
		ec.cost += mutationCost
		ec.inPayload = true
		defer func() { ec.inPayload = saved }()
	}
	val, err := fd.resolve(ec, parent, args)
	if err != nil {
		var ue userFacingError
		if errors.As(err, &ue) {
			ec.fail(ue.msg, f.Position, path, ue.ext)
		} else {
			ec.sim.log.Error("graphql resolver failed", "shop", ec.sh.domain, "field", fd.name, "err", err)
			ec.fail("Internal error. Looks like something went wrong on our end.", f.Position, path, ext("code", "INTERNAL_SERVER_ERROR"))
		}
		return nil
	}
	if val == nil {
		return nil
	}
	switch fd.kind {
	case kindScalar:
		return val
	case kindObject:
		child := ec.schema.types[fd.typ]
		ec.cost += ec.objectCost(child)
		return ec.execSelection(child, val, sels, path)
	case kindList:
		child := ec.schema.types[fd.typ]
		items := val.([]any)
		out := make([]any, len(items))
		for i, it := range items {
			if it == nil {
				// A null element ([MetafieldIdentifier] lists have them).
				continue
			}
			ec.cost += ec.objectCost(child)
			out[i] = ec.execSelection(child, it, sels, append(path, i))
		}
		return out
	case kindConnection:
		if stream, ok := val.(*bulkStream); ok {
			ec.bulk.pending = append(ec.bulk.pending, pendingConnection{
				stream: stream, nodeT: ec.schema.types[fd.typ], sels: ec.nodeSelections(fd, sels),
			})
			return omitField
		}
		ec.cost += connectionCost
		return ec.execSelection(ec.schema.types[fd.typ+"Connection"], val, sels, path)
	}
	return nil
}

// userFacingError is a resolver error shown to the client as is.
type userFacingError struct {
	msg string
	ext *jsonObject
}

func (e userFacingError) Error() string { return e.msg }
