package activation

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/cvo-app/cvo/internal/shopify"
)

// Small changes go out as ordinary mutations: tagsRemove, tagsAdd and
// metafieldsSet and metafieldsDelete, one field per customer and kind, packed as aliased fields
// into requests of up to maxFieldsPerRequest. Packing saves round trips,
// not points: every mutation field costs 10 points and the AdminClient
// paces requests by the shop's bucket. A field that comes back with
// userErrors (or no data) is retried alone in the next round.

// maxFieldsPerRequest keeps a request at 250 points: a quarter of the
// 1,000-point limit per query, an eighth of a Standard plan's bucket.
const maxFieldsPerRequest = 25

type opKind uint8

const (
	opRemove opKind = iota
	opAdd
	opMetafields
	opDropMetafields
)

func (k opKind) field() string {
	switch k {
	case opRemove:
		return "tagsRemove"
	case opAdd:
		return "tagsAdd"
	case opDropMetafields:
		return "metafieldsDelete"
	}
	return "metafieldsSet"
}

// op is one ordinary mutation for one customer: change indexes
// run.plan.changes.
type op struct {
	change int
	kind   opKind
}

func customerGID(id int64) string { return "gid://shopify/Customer/" + strconv.FormatInt(id, 10) }

// metafieldInputs are a change's metafieldsSet inputs, in key order.
func metafieldInputs(c *change) []map[string]string {
	keys := make([]string, 0, len(c.metafields))
	for k := range c.metafields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]map[string]string, 0, len(keys))
	for _, k := range keys {
		ns, key := splitKey(k)
		out = append(out, map[string]string{
			"ownerId": customerGID(c.id), "namespace": ns, "key": key, "type": metafieldType(k), "value": c.metafields[k],
		})
	}
	return out
}

// dropInputs are a change's metafieldsDelete inputs, in key order.
func dropInputs(c *change) []map[string]string {
	out := make([]map[string]string, 0, len(c.drop))
	for _, k := range c.drop {
		ns, key := splitKey(k)
		out = append(out, map[string]string{"ownerId": customerGID(c.id), "namespace": ns, "key": key})
	}
	return out
}

// applyByCalls sends ops as ordinary mutations, retrying failed ones up to
// the writer's attempts. It records successes in the run as it goes.
func (r *run) applyByCalls(ctx context.Context, ops []op) error {
	pending := ops
	for attempt := 1; attempt <= r.w.maxAttempts && len(pending) > 0; attempt++ {
		var failed []op
		for start := 0; start < len(pending); start += maxFieldsPerRequest {
			batch := pending[start:min(start+maxFieldsPerRequest, len(pending))]
			if err := r.check(ctx); err != nil {
				return err
			}
			okays, err := r.sendBatch(ctx, batch)
			if err != nil {
				return err
			}
			failed = append(failed, r.settle(batch, okays)...)
			if err := r.flush(ctx); err != nil {
				return err
			}
		}
		pending = failed
	}
	return nil
}

// sendBatch runs ops as aliased fields of one request and says which
// succeeded.
func (r *run) sendBatch(ctx context.Context, batch []op) ([]bool, error) {
	var decl, body strings.Builder
	vars := make(map[string]any, 2*len(batch))
	for i, o := range batch {
		c := &r.plan.changes[o.change]
		if i > 0 {
			decl.WriteString(", ")
		}
		n := strconv.Itoa(i)
		switch o.kind {
		case opRemove, opAdd:
			tags := c.add
			if o.kind == opRemove {
				tags = c.remove
			}
			fmt.Fprintf(&decl, "$i%s: ID!, $t%s: [String!]!", n, n)
			fmt.Fprintf(&body, " m%s: %s(id: $i%s, tags: $t%s) { userErrors { field message } }", n, o.kind.field(), n, n)
			vars["i"+n], vars["t"+n] = customerGID(c.id), tags
		case opMetafields:
			fmt.Fprintf(&decl, "$f%s: [MetafieldsSetInput!]!", n)
			fmt.Fprintf(&body, " m%s: metafieldsSet(metafields: $f%s) { userErrors { field message code } }", n, n)
			vars["f"+n] = metafieldInputs(c)
		case opDropMetafields:
			fmt.Fprintf(&decl, "$f%s: [MetafieldIdentifierInput!]!", n)
			fmt.Fprintf(&body, " m%s: metafieldsDelete(metafields: $f%s) { userErrors { field message } }", n, n)
			vars["f"+n] = dropInputs(c)
		}
	}
	query := "mutation CvoWriteBack(" + decl.String() + ") {" + body.String() + " }"
	var out map[string]*payloadResult
	err := r.api.do(ctx, query, vars, &out)
	var gqlErrs shopify.GraphQLErrors
	if err != nil && (!errors.As(err, &gqlErrs) || errors.Is(err, shopify.ErrAccessDenied) || errors.Is(err, shopify.ErrMaxCostExceeded)) {
		return nil, fmt.Errorf("write back to %s: %w", r.shop, err)
	}
	okays := make([]bool, len(batch))
	for i := range batch {
		okays[i] = out["m"+strconv.Itoa(i)].ok()
	}
	return okays, nil
}
