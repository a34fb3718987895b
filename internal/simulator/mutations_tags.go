package simulator

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// tagsAdd and tagsRemove on customers. Shopify treats tags
// case-insensitively: adding "VIP" to a customer tagged "vip" changes
// nothing, and removing "VIP" removes "vip". The tags argument takes a list
// or one comma-separated string; every element is split on commas and
// trimmed, and blanks are dropped.
//
// Limits the simulator enforces, from Shopify's documentation where it
// states them and named as guesses where it does not: at most 250 items in
// the input array (documented), a tag at most 255 characters (Shopify's
// admin rejects longer ones), at most 250 tags on a customer (the product
// limit; assumed to hold for customers too).
const (
	maxTagLength       = 255
	maxTagsPerCustomer = 250
)

type tagsPayload struct {
	node       *customerRec
	userErrors []any
}

func addTagTypes(sc *schema) {
	for _, name := range []string{"TagsAddPayload", "TagsRemovePayload"} {
		sc.object(name,
			object("node", "Customer", func(_ *execCtx, p any) any {
				if n := p.(tagsPayload).node; n != nil {
					return n
				}
				return nil
			}),
			&fieldDef{name: "userErrors", kind: kindList, typ: "UserError", resolve: func(_ *execCtx, p any, _ map[string]any) (any, error) {
				return nonNilList(p.(tagsPayload).userErrors), nil
			}},
		).payload = true
	}
	sc.object(sc.mutation.name,
		&fieldDef{name: "tagsAdd", kind: kindObject, typ: "TagsAddPayload", mutation: true, scope: "write_customers",
			args:    []argDef{{"id", "ID!"}, {"tags", "[String!]!"}},
			resolve: func(ec *execCtx, _ any, args map[string]any) (any, error) { return ec.changeTags(args, true) }},
		&fieldDef{name: "tagsRemove", kind: kindObject, typ: "TagsRemovePayload", mutation: true, scope: "write_customers",
			args:    []argDef{{"id", "ID!"}, {"tags", "[String!]!"}},
			resolve: func(ec *execCtx, _ any, args map[string]any) (any, error) { return ec.changeTags(args, false) }},
	)
}

func nonNilList(l []any) []any {
	if l == nil {
		return []any{}
	}
	return l
}

// inputSizeError is the top-level error Shopify answers an oversized input
// array with.
func inputSizeError(n int) error {
	return userFacingError{
		msg: fmt.Sprintf("The input array size of %d is greater than the maximum allowed of %d.", n, maxInputArray),
		ext: ext("code", "MAX_INPUT_SIZE_EXCEEDED"),
	}
}

// parseTags splits and trims the tags argument.
func parseTags(raw any) ([]string, error) {
	list, _ := raw.([]any)
	if len(list) > maxInputArray {
		return nil, inputSizeError(len(list))
	}
	var out []string
	for _, e := range list {
		s, _ := e.(string)
		for _, part := range strings.Split(s, ",") {
			if t := strings.TrimSpace(part); t != "" {
				out = append(out, t)
			}
		}
	}
	return out, nil
}

func (ec *execCtx) changeTags(args map[string]any, add bool) (any, error) {
	tags, err := parseTags(args["tags"])
	if err != nil {
		return nil, err
	}
	gid := stringArg(args, "id")
	id, ok := parseGID(gid, "Customer")
	if !ok {
		if strings.HasPrefix(gid, "gid://shopify/") {
			return tagsPayload{userErrors: []any{bulkUserError("", "Resource type not supported by the simulator: only customers can be tagged.", "id")}}, nil
		}
		return nil, userFacingError{msg: fmt.Sprintf("Invalid global id '%s'", gid), ext: ext("code", "argumentLiteralsIncompatible")}
	}
	st := &ec.sh.store
	i := st.customerIndex(id)
	if i < 0 || st.customers[i].deleted {
		return tagsPayload{userErrors: []any{bulkUserError("", "Customer does not exist", "id")}}, nil
	}
	if len(tags) == 0 {
		return tagsPayload{userErrors: []any{bulkUserError("", "Tags can't be blank", "tags")}}, nil
	}
	for _, t := range tags {
		if utf8.RuneCountInString(t) > maxTagLength {
			return tagsPayload{userErrors: []any{bulkUserError("",
				fmt.Sprintf("Tags is too long (maximum is %d characters)", maxTagLength), "tags")}}, nil
		}
	}
	rec := &st.customers[i]
	next, changed := mergeTags(rec.tags, tags, add)
	if len(next) > maxTagsPerCustomer {
		return tagsPayload{userErrors: []any{bulkUserError("",
			fmt.Sprintf("Tags cannot be more than %d", maxTagsPerCustomer), "tags")}}, nil
	}
	if changed {
		rec.tags = next
		rec.updated = ec.now.Unix()
		st.customersVersion++
		if ec.sim.writes.hooksEnabled(ec.sh.domain) {
			ec.sim.writes.queueHook(ec.sh.domain, webhookEvent{"customers/update", ec.sim.customerPayload(ec.sh, rec)})
		}
	}
	return tagsPayload{node: rec, userErrors: []any{}}, nil
}

// mergeTags adds or removes tags case-insensitively, keeping the order and
// spelling of the tags already there.
func mergeTags(have, change []string, add bool) ([]string, bool) {
	key := func(s string) string { return strings.ToLower(s) }
	if add {
		seen := make(map[string]bool, len(have)+len(change))
		for _, t := range have {
			seen[key(t)] = true
		}
		out := have
		cloned := false
		for _, t := range change {
			if seen[key(t)] {
				continue
			}
			if !cloned {
				out = append(make([]string, 0, len(have)+len(change)), have...)
				cloned = true
			}
			seen[key(t)] = true
			out = append(out, t)
		}
		return out, cloned
	}
	drop := make(map[string]bool, len(change))
	for _, t := range change {
		drop[key(t)] = true
	}
	out := make([]string, 0, len(have))
	for _, t := range have {
		if !drop[key(t)] {
			out = append(out, t)
		}
	}
	return out, len(out) != len(have)
}
