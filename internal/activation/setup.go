package activation

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/postgres"
	"github.com/cvo-app/cvo/internal/rfm"
	"github.com/cvo-app/cvo/internal/shopify"
)

// Set-up: the metafield definitions (so merchants see and filter by the
// scores) and one saved customer segment per group. Both are idempotent and
// cheap to repeat: definitions are created once per definitionsVersion (an
// existing one, code TAKEN, is fine), and segments are only touched when
// their name or query differ from what the database says they are.

// SegmentName is the saved segment's name for a group, e.g. "CVO · Soulmates".
func SegmentName(g rfm.Group) string { return "CVO · " + g.Name() }

// SegmentQuery selects the customers carrying the group's tag.
func SegmentQuery(prefix string, g rfm.Group) string {
	return "customer_tags CONTAINS '" + GroupTag(prefix, g) + "'"
}

// EnsureSetup creates what the write-back needs in the shop: the metafield
// definitions when settings.Metafields is on, the group segments when
// settings.Segments is on. Apply calls it too; call it at install so the
// merchant finds the segments before the first scoring.
func (w *Writer) EnsureSetup(ctx context.Context, shop string, s cvo.Settings) error {
	if err := s.Validate(); err != nil {
		return err
	}
	if err := w.checkInstalled(ctx, shop); err != nil {
		return err
	}
	a, err := w.connect(ctx, shop)
	if err != nil {
		return err
	}
	return w.ensureSetup(ctx, a, shop, s)
}

func (w *Writer) ensureSetup(ctx context.Context, a *api, shop string, s cvo.Settings) error {
	setup, err := w.store.Setup(ctx, shop)
	if err != nil {
		return err
	}
	var errs []error
	if s.Metafields && setup.DefinitionsVersion < definitionsVersion {
		if err := w.createDefinitions(ctx, a, shop); err != nil {
			errs = append(errs, err)
		}
	}
	if s.Segments {
		if err := w.ensureSegments(ctx, a, shop, s.TagPrefix); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (w *Writer) createDefinitions(ctx context.Context, a *api, shop string) error {
	if err := defineMetafields(ctx, a, shop, Namespace, metafieldSpecs); err != nil {
		return err
	}
	return w.store.SaveDefinitionsVersion(ctx, shop, definitionsVersion)
}

// defineMetafields creates customer metafield definitions in namespace,
// in one request; a definition that exists already (TAKEN) is fine.
func defineMetafields(ctx context.Context, a *api, shop, namespace string, specs []metafieldSpec) error {
	var decl, body strings.Builder
	vars := map[string]any{}
	for i, spec := range specs {
		n := strconv.Itoa(i)
		if i > 0 {
			decl.WriteString(", ")
		}
		fmt.Fprintf(&decl, "$d%s: MetafieldDefinitionInput!", n)
		fmt.Fprintf(&body, " d%s: metafieldDefinitionCreate(definition: $d%s) { createdDefinition { id } userErrors { field message code } }", n, n)
		vars["d"+n] = map[string]any{
			"name": spec.Name, "namespace": namespace, "key": spec.Key, "type": spec.Type,
			"description": spec.Description, "ownerType": "CUSTOMER",
		}
	}
	var out map[string]*payloadResult
	if err := a.do(ctx, "mutation CvoDefinitions("+decl.String()+") {"+body.String()+" }", vars, &out); err != nil {
		return fmt.Errorf("create metafield definitions in %s: %w", shop, err)
	}
	for i, spec := range specs {
		res := out["d"+strconv.Itoa(i)]
		if res == nil {
			return fmt.Errorf("create metafield definition %s in %s: no answer", spec.Key, shop)
		}
		for _, ue := range res.UserErrors {
			if ue.Code != "TAKEN" {
				return fmt.Errorf("create metafield definition %s in %s: %w", spec.Key, shop, res.UserErrors)
			}
		}
	}
	return nil
}

type shopSegment struct {
	id          int64
	name, query string
}

func parseSegmentGID(gid string) int64 {
	id, _ := strconv.ParseInt(strings.TrimPrefix(gid, "gid://shopify/Segment/"), 10, 64)
	return id
}

// ensureSegments makes each group's segment exist with the current name and
// query. It reads the shop's segments only when the database shows
// something to do.
func (w *Writer) ensureSegments(ctx context.Context, a *api, shop, prefix string) error {
	stored, err := w.store.Segments(ctx, shop)
	if err != nil {
		return err
	}
	have := make(map[string]postgres.SegmentRecord, len(stored))
	for _, rec := range stored {
		have[rec.Group] = rec
	}
	var todo []rfm.Group
	for _, g := range rfm.Groups() {
		rec, ok := have[g.Slug()]
		if !ok || rec.Name != SegmentName(g) || rec.Query != SegmentQuery(prefix, g) {
			todo = append(todo, g)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	live, err := listSegments(ctx, a)
	if err != nil {
		return fmt.Errorf("list segments of %s: %w", shop, err)
	}
	byID := make(map[int64]shopSegment, len(live))
	byName := make(map[string]shopSegment, len(live))
	for _, sg := range live {
		byID[sg.id] = sg
		byName[strings.ToLower(sg.name)] = sg
	}
	for _, g := range todo {
		name, query := SegmentName(g), SegmentQuery(prefix, g)
		cur, found := byID[have[g.Slug()].SegmentID]
		if !found {
			cur, found = byName[strings.ToLower(name)]
		}
		var id int64
		switch {
		case found && cur.name == name && cur.query == query:
			id = cur.id
		case found:
			id, err = segmentWrite(ctx, a, "segmentUpdate", map[string]any{"id": "gid://shopify/Segment/" + strconv.FormatInt(cur.id, 10), "name": name, "query": query})
		default:
			id, err = segmentWrite(ctx, a, "segmentCreate", map[string]any{"name": name, "query": query})
		}
		if err != nil {
			return fmt.Errorf("segment %q of %s: %w", name, shop, err)
		}
		if err := w.store.SaveSegment(ctx, shop, postgres.SegmentRecord{Group: g.Slug(), SegmentID: id, Name: name, Query: query}); err != nil {
			return err
		}
	}
	return nil
}

func listSegments(ctx context.Context, a *api) ([]shopSegment, error) {
	type node struct {
		ID    string `json:"id"`
		Name  string `json:"name"`
		Query string `json:"query"`
	}
	var out []shopSegment
	err := shopify.EachNode(ctx, a, `query CvoSegments($after: String) { segments(first: 250, after: $after) { nodes { id name query } pageInfo { hasNextPage endCursor } } }`,
		"segments", nil, func(n node) bool {
			out = append(out, shopSegment{id: parseSegmentGID(n.ID), name: n.Name, query: n.Query})
			return true
		})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func segmentWrite(ctx context.Context, a *api, mutation string, vars map[string]any) (int64, error) {
	var q string
	if mutation == "segmentCreate" {
		q = `mutation CvoSegmentCreate($name: String!, $query: String!) { segmentCreate(name: $name, query: $query) { segment { id } userErrors { field message } } }`
	} else {
		q = `mutation CvoSegmentUpdate($id: ID!, $name: String, $query: String) { segmentUpdate(id: $id, name: $name, query: $query) { segment { id } userErrors { field message } } }`
	}
	var out map[string]*struct {
		Segment *struct {
			ID string `json:"id"`
		} `json:"segment"`
		UserErrors shopify.UserErrors `json:"userErrors"`
	}
	if err := a.do(ctx, q, vars, &out); err != nil {
		return 0, err
	}
	res := out[mutation]
	if res == nil {
		return 0, errors.New("no answer")
	}
	if err := res.UserErrors.Err(); err != nil {
		return 0, err
	}
	if res.Segment == nil {
		return 0, errors.New("no segment in the answer")
	}
	return parseSegmentGID(res.Segment.ID), nil
}

// SegmentLink is a group's saved segment, for the admin page.
type SegmentLink struct {
	Group rfm.Group
	Name  string
	Query string
	// ID is the numeric id; GID the Admin API id.
	ID  int64
	GID string
	// AdminURL opens the segment in the Shopify admin.
	AdminURL string
}

// Segments lists the segments the app owns in the shop, in group order,
// from the database (no API call).
func (w *Writer) Segments(ctx context.Context, shop string) ([]SegmentLink, error) {
	recs, err := w.store.Segments(ctx, shop)
	if err != nil {
		return nil, err
	}
	bySlug := make(map[string]postgres.SegmentRecord, len(recs))
	for _, r := range recs {
		bySlug[r.Group] = r
	}
	store := strings.TrimSuffix(shop, ".myshopify.com")
	var out []SegmentLink
	for _, g := range rfm.Groups() {
		r, ok := bySlug[g.Slug()]
		if !ok {
			continue
		}
		id := strconv.FormatInt(r.SegmentID, 10)
		out = append(out, SegmentLink{Group: g, Name: r.Name, Query: r.Query, ID: r.SegmentID,
			GID:      "gid://shopify/Segment/" + id,
			AdminURL: "https://admin.shopify.com/store/" + store + "/customers/segments/" + id})
	}
	return out, nil
}
