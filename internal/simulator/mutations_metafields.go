package simulator

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Metafields on customers: metafieldsSet (at most 25 per call, atomic: one
// invalid input and nothing is written), metafieldsDelete (at most 25 per
// call; a missing metafield is no error), metafieldDefinitionCreate, and
// reading them back through Customer.metafield and metafieldDefinitions.
// The reserved namespace "$app" (and "$app:sub") resolves to
// "app--{app id}" ("app--{app id}--sub"), as Shopify documents; an omitted
// namespace means "$app".

const maxMetafieldsPerSet = 25

type metafieldRec struct {
	id                  int64
	namespace, key, typ string
	value               string
	created, updated    int64
}

type metafieldDefinitionRec struct {
	id                        int64
	name, namespace, key, typ string
	description, ownerType    string
}

// Metafield is a stored metafield value, for tests.
type Metafield struct {
	Namespace string
	Key       string
	Type      string
	Value     string
	UpdatedAt time.Time
}

// MetafieldDefinition is a stored definition, for tests.
type MetafieldDefinition struct {
	Name      string
	Namespace string
	Key       string
	Type      string
	OwnerType string
}

// CustomerMetafields lists a customer's metafields sorted by namespace and key.
func (s *Simulator) CustomerMetafields(shop string, customerID int64) []Metafield {
	sh, ok := s.shop(shop)
	if !ok {
		return nil
	}
	sw := s.writes.shop(sh.domain)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	var out []Metafield
	for _, m := range sw.metafields[customerID] {
		out = append(out, Metafield{Namespace: m.namespace, Key: m.key, Type: m.typ, Value: m.value, UpdatedAt: timeOrZero(m.updated)})
	}
	slices.SortFunc(out, func(a, b Metafield) int { return strings.Compare(a.Namespace+"."+a.Key, b.Namespace+"."+b.Key) })
	return out
}

// MetafieldDefinitions lists the shop's metafield definitions in creation order.
func (s *Simulator) MetafieldDefinitions(shop string) []MetafieldDefinition {
	sh, ok := s.shop(shop)
	if !ok {
		return nil
	}
	sw := s.writes.shop(sh.domain)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	out := make([]MetafieldDefinition, 0, len(sw.definitions))
	for _, d := range sw.definitions {
		out = append(out, MetafieldDefinition{Name: d.name, Namespace: d.namespace, Key: d.key, Type: d.typ, OwnerType: d.ownerType})
	}
	return out
}

// AppNamespace is what "$app:sub" resolves to for this simulator's app.
func (s *Simulator) AppNamespace(sub string) string {
	return resolveNamespace(s.cfg.ClientID, "$app:"+sub)
}

func resolveNamespace(clientID, ns string) string {
	base := "app--" + strconv.FormatInt(appNumericID(clientID), 10)
	switch {
	case ns == "" || ns == "$app":
		return base
	case strings.HasPrefix(ns, "$app:"):
		return base + "--" + strings.TrimPrefix(ns, "$app:")
	}
	return ns
}

var metafieldOwnerTypes = []string{"API_PERMISSION", "ARTICLE", "BLOG", "CARTTRANSFORM", "COLLECTION", "COMPANY",
	"COMPANY_LOCATION", "CUSTOMER", "DELIVERY_CUSTOMIZATION", "DISCOUNT", "DRAFTORDER", "FULFILLMENT_CONSTRAINT_RULE",
	"GIFT_CARD_TRANSACTION", "LOCATION", "MARKET", "ORDER", "ORDER_ROUTING_LOCATION_RULE", "PAGE", "PAYMENT_CUSTOMIZATION",
	"PRODUCT", "PRODUCTVARIANT", "SELLING_PLAN", "SHOP", "VALIDATION"}

// metafieldTypes are the value types the simulator checks values of.
var metafieldTypes = map[string]func(string) bool{
	"single_line_text_field": func(v string) bool { return !strings.ContainsAny(v, "\n\r") },
	"multi_line_text_field":  func(string) bool { return true },
	"number_integer": func(v string) bool {
		n, err := strconv.ParseInt(v, 10, 64)
		return err == nil && n <= 9007199254740991 && n >= -9007199254740991
	},
	"number_decimal": func(v string) bool { return decimalPattern.MatchString(v) },
	"boolean":        func(v string) bool { return v == "true" || v == "false" },
	"date": func(v string) bool {
		_, err := time.Parse("2006-01-02", v)
		return err == nil
	},
	"date_time": func(v string) bool {
		_, err := time.Parse(time.RFC3339, v)
		if err != nil {
			_, err = time.Parse("2006-01-02T15:04:05", v)
		}
		return err == nil
	},
	"json": func(v string) bool { return json.Valid([]byte(v)) },
	// Shopify's url type takes the schemes https, http, mailto, sms, tel.
	"url": func(v string) bool {
		u, err := url.Parse(v)
		if err != nil {
			return false
		}
		switch u.Scheme {
		case "https", "http":
			return u.Host != ""
		case "mailto", "sms", "tel":
			return u.Opaque != ""
		}
		return false
	},
	"money": func(v string) bool {
		var m struct {
			Amount   string `json:"amount"`
			Currency string `json:"currency_code"`
		}
		return json.Unmarshal([]byte(v), &m) == nil && decimalPattern.MatchString(m.Amount) && len(m.Currency) == 3
	},
}

// Shopify's number_decimal holds up to 13 digits before the point and 9 after.
var decimalPattern = regexp.MustCompile(`^[-+]?\d{1,13}(\.\d{1,9})?$`)

func addMetafieldTypes(sc *schema) {
	sc.enum("MetafieldOwnerType", metafieldOwnerTypes...)
	// Input objects: registered so arguments of these types coerce to maps.
	sc.object("MetafieldsSetInput")
	sc.object("MetafieldDefinitionInput")
	sc.object("MetafieldIdentifierInput")

	mf := func(p any) *metafieldRec { return p.(*metafieldRec) }
	sc.object("Metafield",
		scalar("id", "ID", func(p any) any { return fmt.Sprintf("gid://shopify/Metafield/%d", mf(p).id) }),
		scalar("namespace", "String", func(p any) any { return mf(p).namespace }),
		scalar("key", "String", func(p any) any { return mf(p).key }),
		scalar("value", "String", func(p any) any { return mf(p).value }),
		scalar("type", "String", func(p any) any { return mf(p).typ }),
		scalar("ownerType", "MetafieldOwnerType", func(any) any { return "CUSTOMER" }),
		scalar("createdAt", "DateTime", func(p any) any { return isoTime(mf(p).created) }),
		scalar("updatedAt", "DateTime", func(p any) any { return isoTime(mf(p).updated) }),
		scalar("compareDigest", "String", func(p any) any {
			sum := sha256.Sum256([]byte(mf(p).value))
			return hex.EncodeToString(sum[:])
		}),
	)
	md := func(p any) *metafieldDefinitionRec { return p.(*metafieldDefinitionRec) }
	sc.object("MetafieldDefinitionType",
		scalar("name", "String", func(p any) any { return p.(string) }),
		scalar("category", "String", func(p any) any {
			switch t := p.(string); {
			case strings.HasPrefix(t, "number"):
				return "NUMBER"
			case strings.HasPrefix(t, "date"):
				return "DATE_TIME"
			default:
				return "TEXT"
			}
		}),
	).cost = 0
	sc.object("MetafieldDefinition",
		scalar("id", "ID", func(p any) any { return fmt.Sprintf("gid://shopify/MetafieldDefinition/%d", md(p).id) }),
		scalar("name", "String", func(p any) any { return md(p).name }),
		scalar("namespace", "String", func(p any) any { return md(p).namespace }),
		scalar("key", "String", func(p any) any { return md(p).key }),
		scalar("description", "String", func(p any) any { return nullIfEmpty(md(p).description) }),
		scalar("ownerType", "MetafieldOwnerType", func(p any) any { return md(p).ownerType }),
		object("type", "MetafieldDefinitionType", func(_ *execCtx, p any) any { return md(p).typ }),
	)
	sc.connectionTypes("MetafieldDefinition")

	userErrorType(sc, "MetafieldsSetUserError", "elementIndex")
	userErrorType(sc, "MetafieldDefinitionCreateUserError")
	sc.object("MetafieldsSetPayload",
		&fieldDef{name: "metafields", kind: kindList, typ: "Metafield", resolve: func(_ *execCtx, p any, _ map[string]any) (any, error) {
			return p.(metafieldsPayload).metafields, nil
		}},
		&fieldDef{name: "userErrors", kind: kindList, typ: "MetafieldsSetUserError", resolve: func(_ *execCtx, p any, _ map[string]any) (any, error) {
			return nonNilList(p.(metafieldsPayload).userErrors), nil
		}},
	).payload = true
	mi := func(p any) metafieldIdentifier { return p.(metafieldIdentifier) }
	sc.object("MetafieldIdentifier",
		scalar("ownerId", "ID", func(p any) any { return mi(p).ownerID }),
		scalar("namespace", "String", func(p any) any { return mi(p).namespace }),
		scalar("key", "String", func(p any) any { return mi(p).key }),
	)
	sc.object("MetafieldsDeletePayload",
		&fieldDef{name: "deletedMetafields", kind: kindList, typ: "MetafieldIdentifier", resolve: func(_ *execCtx, p any, _ map[string]any) (any, error) {
			return p.(metafieldsDeletePayload).deleted, nil
		}},
		&fieldDef{name: "userErrors", kind: kindList, typ: "MetafieldsSetUserError", resolve: func(_ *execCtx, p any, _ map[string]any) (any, error) {
			return nonNilList(p.(metafieldsDeletePayload).userErrors), nil
		}},
	).payload = true
	sc.object("MetafieldDefinitionCreatePayload",
		&fieldDef{name: "createdDefinition", kind: kindObject, typ: "MetafieldDefinition", resolve: func(_ *execCtx, p any, _ map[string]any) (any, error) {
			if d := p.(definitionPayload).created; d != nil {
				return d, nil
			}
			return nil, nil
		}},
		&fieldDef{name: "userErrors", kind: kindList, typ: "MetafieldDefinitionCreateUserError", resolve: func(_ *execCtx, p any, _ map[string]any) (any, error) {
			return nonNilList(p.(definitionPayload).userErrors), nil
		}},
	).payload = true

	sc.object("Customer",
		&fieldDef{name: "metafield", kind: kindObject, typ: "Metafield", args: []argDef{{"namespace", "String"}, {"key", "String!"}},
			resolve: func(ec *execCtx, p any, args map[string]any) (any, error) {
				sw := ec.sim.writes.shop(ec.sh.domain)
				ns := resolveNamespace(ec.sim.cfg.ClientID, stringArg(args, "namespace"))
				if m, ok := sw.metafields[p.(*customerRec).id][ns+"."+stringArg(args, "key")]; ok {
					return m, nil
				}
				return nil, nil
			}},
	)
	sc.object(sc.query.name,
		&fieldDef{name: "metafieldDefinitions", kind: kindConnection, typ: "MetafieldDefinition", scope: "read_customers",
			args:    connectionArgs("", argDef{"ownerType", "MetafieldOwnerType!"}, argDef{"namespace", "String"}, argDef{"key", "String"}),
			resolve: resolveMetafieldDefinitions},
	)
	sc.object(sc.mutation.name,
		&fieldDef{name: "metafieldsSet", kind: kindObject, typ: "MetafieldsSetPayload", mutation: true, scope: "write_customers",
			args: []argDef{{"metafields", "[MetafieldsSetInput!]!"}}, resolve: resolveMetafieldsSet},
		&fieldDef{name: "metafieldsDelete", kind: kindObject, typ: "MetafieldsDeletePayload", mutation: true, scope: "write_customers",
			args: []argDef{{"metafields", "[MetafieldIdentifierInput!]!"}}, resolve: resolveMetafieldsDelete},
		&fieldDef{name: "metafieldDefinitionCreate", kind: kindObject, typ: "MetafieldDefinitionCreatePayload", mutation: true,
			scope: "write_customers", args: []argDef{{"definition", "MetafieldDefinitionInput!"}}, resolve: resolveDefinitionCreate},
	)
}

// userErrorType registers a user error object whose values are
// *jsonObject made by newUserError.
func userErrorType(sc *schema, name string, extra ...string) {
	get := func(k string) func(p any) any {
		return func(p any) any { v, _ := p.(*jsonObject).get(k); return v }
	}
	fields := []*fieldDef{
		scalar("field", "[String!]", get("field")),
		scalar("message", "String", get("message")),
		scalar("code", "String", get("code")),
	}
	for _, k := range extra {
		fields = append(fields, scalar(k, "Int", get(k)))
	}
	sc.object(name, fields...).payload = true
}

type metafieldsPayload struct {
	metafields []any
	userErrors []any
}

type definitionPayload struct {
	created    *metafieldDefinitionRec
	userErrors []any
}

func elementError(code, msg string, index int, field ...string) *jsonObject {
	e := bulkUserError(code, msg, field...)
	e.set("elementIndex", index)
	return e
}

func (sw *shopWrites) definition(ownerType, ns, key string) *metafieldDefinitionRec {
	for _, d := range sw.definitions {
		if d.ownerType == ownerType && d.namespace == ns && d.key == key {
			return d
		}
	}
	return nil
}

func resolveMetafieldsSet(ec *execCtx, _ any, args map[string]any) (any, error) {
	inputs, _ := args["metafields"].([]any)
	if len(inputs) > maxInputArray {
		return nil, inputSizeError(len(inputs))
	}
	if len(inputs) > maxMetafieldsPerSet {
		return metafieldsPayload{userErrors: []any{bulkUserError("LESS_THAN_OR_EQUAL_TO",
			fmt.Sprintf("Exceeded the maximum metafields input limit of %d.", maxMetafieldsPerSet), "metafields")}}, nil
	}
	sw := ec.sim.writes.shop(ec.sh.domain)
	st := &ec.sh.store
	type write struct {
		owner               int64
		ns, key, typ, value string
	}
	var (
		writes []write
		errs   []any
	)
	for i, raw := range inputs {
		in, _ := raw.(map[string]any)
		idx := strconv.Itoa(i)
		field := func(f string) []string { return []string{"metafields", idx, f} }
		str := func(k string) string { s, _ := in[k].(string); return s }
		owner, ok := parseGID(str("ownerId"), "Customer")
		if !ok {
			errs = append(errs, elementError("INVALID", "Owner type is not supported by the simulator: only customers hold metafields.", i, field("ownerId")...))
			continue
		}
		if j := st.customerIndex(owner); j < 0 || st.customers[j].deleted {
			errs = append(errs, elementError("INVALID", "Owner does not exist.", i, field("ownerId")...))
			continue
		}
		ns := resolveNamespace(ec.sim.cfg.ClientID, str("namespace"))
		key := str("key")
		if n := utf8.RuneCountInString(key); n < 2 || n > 64 {
			errs = append(errs, elementError("INVALID", "Key must be between 2 and 64 characters.", i, field("key")...))
			continue
		}
		typ := str("type")
		if def := sw.definition("CUSTOMER", ns, key); def != nil {
			if typ == "" {
				typ = def.typ
			} else if typ != def.typ {
				errs = append(errs, elementError("INVALID_TYPE", "Type must match the definition's type: "+def.typ+".", i, field("type")...))
				continue
			}
		}
		if typ == "" {
			errs = append(errs, elementError("BLANK", "Type can't be blank.", i, field("type")...))
			continue
		}
		check, known := metafieldTypes[typ]
		if !known {
			errs = append(errs, elementError("INVALID_TYPE", "Type is not supported by the simulator: "+typ+".", i, field("type")...))
			continue
		}
		value, isString := in["value"].(string)
		if !isString || value == "" {
			errs = append(errs, elementError("BLANK", "Value can't be blank.", i, field("value")...))
			continue
		}
		if !check(value) {
			errs = append(errs, elementError("INVALID_VALUE", fmt.Sprintf("Value is invalid for type %s.", typ), i, field("value")...))
			continue
		}
		writes = append(writes, write{owner: owner, ns: ns, key: key, typ: typ, value: value})
	}
	if len(errs) > 0 {
		return metafieldsPayload{userErrors: errs}, nil
	}
	now := ec.now.Unix()
	out := make([]any, 0, len(writes))
	for _, w := range writes {
		m := sw.metafields[w.owner]
		if m == nil {
			m = map[string]*metafieldRec{}
			sw.metafields[w.owner] = m
		}
		rec, ok := m[w.ns+"."+w.key]
		if !ok {
			rec = &metafieldRec{id: sw.next(), namespace: w.ns, key: w.key, created: now}
			m[w.ns+"."+w.key] = rec
		}
		rec.typ, rec.value, rec.updated = w.typ, w.value, now
		out = append(out, rec)
	}
	return metafieldsPayload{metafields: out, userErrors: []any{}}, nil
}

type metafieldIdentifier struct{ ownerID, namespace, key string }

type metafieldsDeletePayload struct {
	// deleted has one entry per input, nil where no such metafield was.
	deleted    []any
	userErrors []any
}

// resolveMetafieldsDelete follows Shopify's metafieldsDelete: at most 25
// identifiers, at least one; a metafield that does not exist is no error,
// its entry in deletedMetafields is null. Like metafieldsSet it checks
// every input before deleting anything.
func resolveMetafieldsDelete(ec *execCtx, _ any, args map[string]any) (any, error) {
	inputs, _ := args["metafields"].([]any)
	if len(inputs) > maxInputArray {
		return nil, inputSizeError(len(inputs))
	}
	if len(inputs) == 0 {
		return metafieldsDeletePayload{userErrors: []any{bulkUserError("PRESENT", "At least one metafield must be specified.", "metafields")}}, nil
	}
	if len(inputs) > maxMetafieldsPerSet {
		return metafieldsDeletePayload{userErrors: []any{bulkUserError("LESS_THAN_OR_EQUAL_TO",
			fmt.Sprintf("Exceeded the maximum metafields input limit of %d.", maxMetafieldsPerSet), "metafields")}}, nil
	}
	type target struct {
		owner   int64
		ns, key string
		gid     string
	}
	var (
		targets []target
		errs    []any
	)
	for i, raw := range inputs {
		in, _ := raw.(map[string]any)
		field := func(f string) []string { return []string{"metafields", strconv.Itoa(i), f} }
		str := func(k string) string { s, _ := in[k].(string); return s }
		owner, ok := parseGID(str("ownerId"), "Customer")
		if !ok {
			errs = append(errs, elementError("INVALID", "Owner type is not supported by the simulator: only customers hold metafields.", i, field("ownerId")...))
			continue
		}
		key := str("key")
		if key == "" {
			errs = append(errs, elementError("BLANK", "Key can't be blank.", i, field("key")...))
			continue
		}
		targets = append(targets, target{owner: owner, ns: resolveNamespace(ec.sim.cfg.ClientID, str("namespace")), key: key, gid: str("ownerId")})
	}
	if len(errs) > 0 {
		return metafieldsDeletePayload{userErrors: errs}, nil
	}
	sw := ec.sim.writes.shop(ec.sh.domain)
	out := make([]any, len(targets))
	for i, t := range targets {
		m := sw.metafields[t.owner]
		if _, ok := m[t.ns+"."+t.key]; !ok {
			continue
		}
		delete(m, t.ns+"."+t.key)
		if len(m) == 0 {
			delete(sw.metafields, t.owner)
		}
		out[i] = metafieldIdentifier{ownerID: t.gid, namespace: t.ns, key: t.key}
	}
	return metafieldsDeletePayload{deleted: out, userErrors: []any{}}, nil
}

func resolveDefinitionCreate(ec *execCtx, _ any, args map[string]any) (any, error) {
	in, _ := args["definition"].(map[string]any)
	str := func(k string) string { s, _ := in[k].(string); return s }
	fail := func(code, msg, field string) (any, error) {
		return definitionPayload{userErrors: []any{bulkUserError(code, msg, "definition", field)}}, nil
	}
	name, key, typ, owner := strings.TrimSpace(str("name")), str("key"), str("type"), str("ownerType")
	switch {
	case name == "":
		return fail("BLANK", "Name can't be blank", "name")
	case utf8.RuneCountInString(key) < 2 || utf8.RuneCountInString(key) > 64:
		return fail("INVALID", "Key must be between 2 and 64 characters", "key")
	case !slices.Contains(metafieldOwnerTypes, owner):
		return fail("INVALID", "Owner type is invalid", "ownerType")
	}
	if _, ok := metafieldTypes[typ]; !ok {
		return fail("INCLUSION", "Type is not included in the list", "type")
	}
	ns := resolveNamespace(ec.sim.cfg.ClientID, str("namespace"))
	sw := ec.sim.writes.shop(ec.sh.domain)
	if sw.definition(owner, ns, key) != nil {
		return fail("TAKEN", fmt.Sprintf("Key is in use for %s metafields on the '%s' namespace.",
			strings.ToLower(owner), ns), "key")
	}
	d := &metafieldDefinitionRec{id: sw.next(), name: name, namespace: ns, key: key, typ: typ,
		description: str("description"), ownerType: owner}
	sw.definitions = append(sw.definitions, d)
	return definitionPayload{created: d, userErrors: []any{}}, nil
}

func resolveMetafieldDefinitions(ec *execCtx, _ any, args map[string]any) (any, error) {
	sw := ec.sim.writes.shop(ec.sh.domain)
	owner := stringArg(args, "ownerType")
	ns := ""
	if n := stringArg(args, "namespace"); n != "" {
		ns = resolveNamespace(ec.sim.cfg.ClientID, n)
	}
	var defs []*metafieldDefinitionRec
	for _, d := range sw.definitions {
		if d.ownerType == owner && (ns == "" || d.namespace == ns) && (stringArg(args, "key") == "" || d.key == stringArg(args, "key")) {
			defs = append(defs, d)
		}
	}
	return pageOfList(defs, func(d *metafieldDefinitionRec) int64 { return d.id }, "metafieldDefinitions", args)
}

// pageOfList pages a small in-memory list in id order.
func pageOfList[T any](items []T, id func(T) int64, name string, args map[string]any) (*page, error) {
	src := listSource{
		name: name, n: len(items), cache: &sortCache{m: map[sortCacheKey][]int32{}},
		id:   func(i int) int64 { return id(items[i]) },
		live: func(int) bool { return true },
	}
	pg, idx, err := paginate(src, args)
	if err != nil {
		return nil, err
	}
	pg.items = make([]any, len(idx))
	for j, i := range idx {
		pg.items[j] = items[i]
	}
	return pg, nil
}
