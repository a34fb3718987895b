package simulator

// The resolver layer: a hand-written schema of object types whose fields
// resolve against the store. Adding a field is one entry in a type's field
// list; adding a mutation is one entry on MutationRoot.

type fieldKind uint8

const (
	kindScalar     fieldKind = iota // String, Int, ID, DateTime, enums, lists of them
	kindObject                      // a single object of type typ
	kindList                        // a list of objects of type typ
	kindConnection                  // a Relay connection of typ nodes
)

type resolveFn func(ec *execCtx, parent any, args map[string]any) (any, error)

// argDef names an argument and the GraphQL type its value must have.
type argDef struct {
	name string
	typ  string // "Int", "String", "Boolean", "ID", "[ID!]", "[String!]", an enum type name
}

type fieldDef struct {
	name    string
	kind    fieldKind
	typ     string // scalar or object type name; the node type for connections
	args    []argDef
	resolve resolveFn
	// scope is the access scope the field needs; "" = none.
	scope string
	// cost overrides the type's cost for this field when costSet is true.
	cost    int
	costSet bool
	// mutation fields cost a flat 10 (shopify.dev rate limits: "Mutation 10").
	mutation bool
}

func (f *fieldDef) arg(name string) (argDef, bool) {
	for _, a := range f.args {
		if a.name == name {
			return a, true
		}
	}
	return argDef{}, false
}

type objectType struct {
	name   string
	fields map[string]*fieldDef
	order  []string
	// cost of selecting an object of this type; 1 by default as documented
	// ("Object 1"), 0 for connection plumbing.
	cost int
	// payload types of mutations are part of the mutation's flat cost.
	payload bool
}

type schema struct {
	types    map[string]*objectType
	enums    map[string][]string
	query    *objectType
	mutation *objectType
}

func newSchema() *schema {
	return &schema{types: map[string]*objectType{}, enums: map[string][]string{}}
}

func (sc *schema) object(name string, fields ...*fieldDef) *objectType {
	t, ok := sc.types[name]
	if !ok {
		t = &objectType{name: name, fields: map[string]*fieldDef{}, cost: 1}
		sc.types[name] = t
	}
	for _, f := range fields {
		if _, dup := t.fields[f.name]; !dup {
			t.order = append(t.order, f.name)
		}
		t.fields[f.name] = f
	}
	return t
}

func (sc *schema) enum(name string, values ...string) { sc.enums[name] = values }

// connectionTypes adds XConnection, XEdge and PageInfo for node type X.
func (sc *schema) connectionTypes(node string) {
	conn := sc.object(node+"Connection",
		&fieldDef{name: "edges", kind: kindList, typ: node + "Edge", resolve: func(_ *execCtx, p any, _ map[string]any) (any, error) {
			pg := p.(*page)
			out := make([]any, len(pg.items))
			for i := range pg.items {
				out[i] = edge{cursor: pg.cursors[i], node: pg.items[i]}
			}
			return out, nil
		}},
		&fieldDef{name: "nodes", kind: kindList, typ: node, resolve: func(_ *execCtx, p any, _ map[string]any) (any, error) {
			return p.(*page).items, nil
		}},
		&fieldDef{name: "pageInfo", kind: kindObject, typ: "PageInfo", resolve: func(_ *execCtx, p any, _ map[string]any) (any, error) {
			return p, nil
		}},
	)
	conn.cost = 0
	e := sc.object(node+"Edge",
		&fieldDef{name: "cursor", kind: kindScalar, typ: "String", resolve: func(_ *execCtx, p any, _ map[string]any) (any, error) {
			return p.(edge).cursor, nil
		}},
		&fieldDef{name: "node", kind: kindObject, typ: node, resolve: func(_ *execCtx, p any, _ map[string]any) (any, error) {
			return p.(edge).node, nil
		}},
	)
	e.cost = 0
	if _, ok := sc.types["PageInfo"]; !ok {
		pi := sc.object("PageInfo",
			scalar("hasNextPage", "Boolean", func(p any) any { return p.(*page).hasNext }),
			scalar("hasPreviousPage", "Boolean", func(p any) any { return p.(*page).hasPrev }),
			scalar("startCursor", "String", func(p any) any {
				if pg := p.(*page); len(pg.cursors) > 0 {
					return pg.cursors[0]
				}
				return nil
			}),
			scalar("endCursor", "String", func(p any) any {
				if pg := p.(*page); len(pg.cursors) > 0 {
					return pg.cursors[len(pg.cursors)-1]
				}
				return nil
			}),
		)
		pi.cost = 0
	}
}

type edge struct {
	cursor string
	node   any
}

// page is one page of a connection.
type page struct {
	items   []any
	cursors []string
	hasNext bool
	hasPrev bool
}

// scalar is a field returning a scalar computed from the parent alone.
func scalar(name, typ string, get func(parent any) any) *fieldDef {
	return &fieldDef{name: name, kind: kindScalar, typ: typ, resolve: func(_ *execCtx, p any, _ map[string]any) (any, error) {
		return get(p), nil
	}}
}

// object is a field returning one object computed from the parent alone.
func object(name, typ string, get func(ec *execCtx, parent any) any) *fieldDef {
	return &fieldDef{name: name, kind: kindObject, typ: typ, resolve: func(ec *execCtx, p any, _ map[string]any) (any, error) {
		return get(ec, p), nil
	}}
}

// connectionArgs are the arguments every connection field accepts.
func connectionArgs(sortEnum string, extra ...argDef) []argDef {
	args := []argDef{
		{"first", "Int"}, {"last", "Int"}, {"after", "String"}, {"before", "String"},
		{"reverse", "Boolean"}, {"query", "String"},
	}
	if sortEnum != "" {
		args = append(args, argDef{"sortKey", sortEnum})
	}
	return append(args, extra...)
}
