package simulator

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Customer segments: segmentCreate, segmentUpdate, and the segments and
// segment queries. Names are unique per shop. Queries are checked against
// a small part of Shopify's segment query language: conditions of the form
// `attribute OPERATOR value` joined with AND or OR, on attributes the
// simulator knows. Membership is not computed.

type segmentRec struct {
	id              int64
	name, query     string
	created, edited int64
}

// Segment is a saved segment, for tests.
type Segment struct {
	ID    int64
	Name  string
	Query string
}

// Segments lists the shop's segments in creation order.
func (s *Simulator) Segments(shop string) []Segment {
	sh, ok := s.shop(shop)
	if !ok {
		return nil
	}
	sw := s.writes.shop(sh.domain)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	out := make([]Segment, 0, len(sw.segments))
	for _, g := range sw.segments {
		out = append(out, Segment{ID: g.id, Name: g.name, Query: g.query})
	}
	return out
}

type segmentPayload struct {
	segment    *segmentRec
	userErrors []any
}

const maxSegmentName = 255

var segmentAttributes = []string{
	"customer_tags", "email_subscription_status", "sms_subscription_status", "number_of_orders", "amount_spent",
	"first_order_date", "last_order_date", "customer_added_date", "customer_account_status", "customer_email_domain",
	"customer_countries", "customer_cities", "customer_language", "predicted_spend_tier", "rfm_group",
	"products_purchased", "abandoned_checkout_date", "companies", "anniversary",
}

var (
	segmentCondition = regexp.MustCompile(`^([a-z_]+(?:\.[a-zA-Z0-9_-]+)*)\s+(NOT CONTAINS|CONTAINS|IS NOT NULL|IS NULL|BETWEEN|>=|<=|!=|=|>|<)\s*(.*)$`)
	segmentJoiner    = regexp.MustCompile(`\s+(?:AND|OR)\s+`)
)

// checkSegmentQuery returns a problem with a segment query, or "".
func checkSegmentQuery(q string) string {
	q = strings.TrimSpace(q)
	if q == "" {
		return "Query can't be blank"
	}
	if strings.Count(q, "'")%2 != 0 {
		return "Query has an unterminated string"
	}
	// Split on AND/OR outside quoted values.
	var parts []string
	masked := maskQuoted(q)
	idx := segmentJoiner.FindAllStringIndex(masked, -1)
	start := 0
	for _, m := range idx {
		parts = append(parts, q[start:m[0]])
		start = m[1]
	}
	parts = append(parts, q[start:])
	for _, p := range parts {
		p = strings.TrimSpace(strings.Trim(strings.TrimSpace(p), "()"))
		m := segmentCondition.FindStringSubmatch(p)
		if m == nil {
			return fmt.Sprintf("Query is invalid near '%s'", p)
		}
		attr := m[1]
		if !slices.Contains(segmentAttributes, attr) && !strings.HasPrefix(attr, "metafields.") {
			return fmt.Sprintf("'%s' filter cannot be found.", attr)
		}
		if needsValue := !strings.HasPrefix(m[2], "IS "); needsValue && strings.TrimSpace(m[3]) == "" {
			return fmt.Sprintf("Query is missing a value after '%s %s'", attr, m[2])
		}
		if attr == "customer_tags" && (m[2] == "CONTAINS" || m[2] == "NOT CONTAINS") {
			v := strings.TrimSpace(m[3])
			if len(v) < 2 || v[0] != '\'' || v[len(v)-1] != '\'' {
				return "customer_tags values must be quoted strings"
			}
		}
	}
	return ""
}

// maskQuoted replaces quoted text by underscores so joiners inside values
// are not split on; lengths are kept so indexes line up.
func maskQuoted(q string) string {
	out := []byte(q)
	in := false
	for i := range out {
		if out[i] == '\'' {
			in = !in
			continue
		}
		if in {
			out[i] = '_'
		}
	}
	return string(out)
}

func addSegmentTypes(sc *schema) {
	sc.enum("SegmentSortKeys", "CREATION_DATE", "ID", "LAST_EDIT_DATE", "RELEVANCE")
	sg := func(p any) *segmentRec { return p.(*segmentRec) }
	date := func(unix int64) any { return time.Unix(unix, 0).UTC().Format(time.RFC3339) }
	sc.object("Segment",
		scalar("id", "ID", func(p any) any { return fmt.Sprintf("gid://shopify/Segment/%d", sg(p).id) }),
		scalar("name", "String", func(p any) any { return sg(p).name }),
		scalar("query", "String", func(p any) any { return sg(p).query }),
		scalar("creationDate", "DateTime", func(p any) any { return date(sg(p).created) }),
		scalar("lastEditDate", "DateTime", func(p any) any { return date(sg(p).edited) }),
	)
	sc.connectionTypes("Segment")
	for _, name := range []string{"SegmentCreatePayload", "SegmentUpdatePayload"} {
		sc.object(name,
			&fieldDef{name: "segment", kind: kindObject, typ: "Segment", resolve: func(_ *execCtx, p any, _ map[string]any) (any, error) {
				if s := p.(segmentPayload).segment; s != nil {
					return s, nil
				}
				return nil, nil
			}},
			&fieldDef{name: "userErrors", kind: kindList, typ: "UserError", resolve: func(_ *execCtx, p any, _ map[string]any) (any, error) {
				return nonNilList(p.(segmentPayload).userErrors), nil
			}},
		).payload = true
	}
	sc.object(sc.query.name,
		&fieldDef{name: "segments", kind: kindConnection, typ: "Segment", scope: "read_customers",
			args: connectionArgs("SegmentSortKeys"), resolve: resolveSegments},
		&fieldDef{name: "segment", kind: kindObject, typ: "Segment", scope: "read_customers", args: []argDef{{"id", "ID!"}},
			resolve: func(ec *execCtx, _ any, args map[string]any) (any, error) {
				if g := ec.segmentByGID(stringArg(args, "id")); g != nil {
					return g, nil
				}
				return nil, nil
			}},
	)
	sc.object(sc.mutation.name,
		&fieldDef{name: "segmentCreate", kind: kindObject, typ: "SegmentCreatePayload", mutation: true, scope: "write_customers",
			args: []argDef{{"name", "String!"}, {"query", "String!"}}, resolve: resolveSegmentCreate},
		&fieldDef{name: "segmentUpdate", kind: kindObject, typ: "SegmentUpdatePayload", mutation: true, scope: "write_customers",
			args: []argDef{{"id", "ID!"}, {"name", "String"}, {"query", "String"}}, resolve: resolveSegmentUpdate},
	)
}

func (ec *execCtx) segmentByGID(gid string) *segmentRec {
	id, ok := parseGID(gid, "Segment")
	if !ok {
		return nil
	}
	for _, g := range ec.sim.writes.shop(ec.sh.domain).segments {
		if g.id == id {
			return g
		}
	}
	return nil
}

func (ec *execCtx) segmentNameProblem(name string, self *segmentRec) string {
	switch {
	case strings.TrimSpace(name) == "":
		return "Name can't be blank"
	case utf8.RuneCountInString(name) > maxSegmentName:
		return fmt.Sprintf("Name is too long (maximum is %d characters)", maxSegmentName)
	}
	for _, g := range ec.sim.writes.shop(ec.sh.domain).segments {
		if g != self && strings.EqualFold(g.name, name) {
			return "Name has already been taken"
		}
	}
	return ""
}

func resolveSegmentCreate(ec *execCtx, _ any, args map[string]any) (any, error) {
	name, query := stringArg(args, "name"), stringArg(args, "query")
	if p := ec.segmentNameProblem(name, nil); p != "" {
		return segmentPayload{userErrors: []any{bulkUserError("", p, "name")}}, nil
	}
	if p := checkSegmentQuery(query); p != "" {
		return segmentPayload{userErrors: []any{bulkUserError("", p, "query")}}, nil
	}
	sw := ec.sim.writes.shop(ec.sh.domain)
	now := ec.now.Unix()
	g := &segmentRec{id: sw.next(), name: name, query: query, created: now, edited: now}
	sw.segments = append(sw.segments, g)
	return segmentPayload{segment: g, userErrors: []any{}}, nil
}

func resolveSegmentUpdate(ec *execCtx, _ any, args map[string]any) (any, error) {
	g := ec.segmentByGID(stringArg(args, "id"))
	if g == nil {
		return segmentPayload{userErrors: []any{bulkUserError("", "Segment does not exist", "id")}}, nil
	}
	name, hasName := args["name"].(string)
	query, hasQuery := args["query"].(string)
	if hasName {
		if p := ec.segmentNameProblem(name, g); p != "" {
			return segmentPayload{userErrors: []any{bulkUserError("", p, "name")}}, nil
		}
	}
	if hasQuery {
		if p := checkSegmentQuery(query); p != "" {
			return segmentPayload{userErrors: []any{bulkUserError("", p, "query")}}, nil
		}
	}
	if hasName {
		g.name = name
	}
	if hasQuery {
		g.query = query
	}
	g.edited = ec.now.Unix()
	return segmentPayload{segment: g, userErrors: []any{}}, nil
}

func resolveSegments(ec *execCtx, _ any, args map[string]any) (any, error) {
	segs := ec.sim.writes.shop(ec.sh.domain).segments
	if q := strings.TrimSpace(stringArg(args, "query")); q != "" {
		// Shopify searches segment names; the simulator matches a substring,
		// case-insensitively, with an optional "name:" prefix.
		q = strings.ToLower(strings.Trim(strings.TrimPrefix(q, "name:"), `"'`))
		var hits []*segmentRec
		for _, g := range segs {
			if strings.Contains(strings.ToLower(g.name), q) {
				hits = append(hits, g)
			}
		}
		segs = hits
	}
	return pageOfList(segs, func(g *segmentRec) int64 { return g.id }, "segments", args)
}
