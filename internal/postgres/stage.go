package postgres

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Resource names what one bulk export holds.
type Resource string

// The resources a history sync imports, each through its own bulk operation.
const (
	ResourceCustomers Resource = "customers"
	ResourceOrders    Resource = "orders"
	ResourceProducts  Resource = "products"
)

// Resources lists every resource in the order a sync merges them.
var Resources = []Resource{ResourceProducts, ResourceCustomers, ResourceOrders}

// StageRow is one row for a staging table: exactly one field is set, of the
// kinds its resource holds (customers: Customer; orders: Order, Line,
// Refund; products: Product, Variant).
type StageRow struct {
	Customer *CustomerRow
	Order    *OrderRow
	Line     *LineRow
	Refund   *RefundRow
	Product  *ProductRow
	Variant  *VariantRow
}

// StageSource yields the rows of one bulk export, children and parents in
// any order. Row's pointers need only stay valid until the next Next.
type StageSource interface {
	Next() bool
	Row() StageRow
	Err() error
}

// Row kinds in the orders and products staging tables.
const (
	kindParent int16 = 0 // order, product
	kindChild  int16 = 1 // line item, variant
	kindRefund int16 = 2
)

// Stage is an unlogged table holding one resource of one sync run of one
// shop while it is imported. Children are kept with their parent's id, so
// the file's line order does not matter: the merge joins them in SQL.
type Stage struct {
	db       *DB
	shop     string
	run      int64
	resource Resource
	table    string
}

// Stage returns the staging table of a run's resource (not yet created).
func (s *SyncStore) Stage(shop string, run int64, r Resource) *Stage {
	return &Stage{db: s.db, shop: shop, run: run, resource: r, table: stageTable(run, r)}
}

func stageTable(run int64, r Resource) string {
	return "sync_stage_" + strconv.FormatInt(run, 10) + "_" + string(r)
}

var stageColumns = map[Resource][]string{
	ResourceCustomers: {"id", "email", "first_name", "last_name", "city", "country", "country_code", "created_at", "updated_at",
		"shopify_rfm_group", "shopify_predicted_spend_tier"},
	ResourceOrders: {"kind", "id", "parent_id", "customer_id", "name", "created_at", "processed_at", "updated_at", "cancelled_at",
		"test", "currency", "total", "subtotal", "source_name", "landing_page", "referrer_url", "utm_source", "utm_medium",
		"utm_campaign", "discount_codes", "product_id", "variant_id", "title", "quantity", "amount"},
	ResourceProducts: {"kind", "id", "parent_id", "title", "product_type", "vendor", "created_at", "updated_at", "sku", "price", "unit_cost"},
}

var stageDDL = map[Resource]string{
	ResourceCustomers: `id bigint NOT NULL, email text, first_name text, last_name text, city text, country text, country_code text,
		created_at timestamptz, updated_at timestamptz NOT NULL, shopify_rfm_group text, shopify_predicted_spend_tier text`,
	ResourceOrders: `kind int2 NOT NULL, id bigint NOT NULL, parent_id bigint, customer_id bigint, name text, created_at timestamptz,
		processed_at timestamptz, updated_at timestamptz, cancelled_at timestamptz, test boolean, currency text, total text,
		subtotal text, source_name text, landing_page text, referrer_url text, utm_source text, utm_medium text, utm_campaign text,
		discount_codes text[], product_id bigint, variant_id bigint, title text, quantity int4, amount text`,
	ResourceProducts: `kind int2 NOT NULL, id bigint NOT NULL, parent_id bigint, title text, product_type text, vendor text,
		created_at timestamptz, updated_at timestamptz, sku text, price text, unit_cost text`,
}

// Reset (re)creates the staging table empty. Staging tables are unlogged:
// a crash loses them, which only means the import starts that resource
// again. The shop column is filled by its default, so the table is covered
// by shop/redact like every other table.
func (st *Stage) Reset(ctx context.Context) error {
	ddl, ok := stageDDL[st.resource]
	if !ok {
		return fmt.Errorf("stage %s: unknown resource", st.resource)
	}
	id := pgx.Identifier{st.table}.Sanitize()
	sql := fmt.Sprintf(`DROP TABLE IF EXISTS %s; CREATE UNLOGGED TABLE %s (shop text NOT NULL DEFAULT %s, %s)`,
		id, id, quoteLiteral(st.shop), ddl)
	if _, err := st.db.Pool.Exec(ctx, sql); err != nil {
		return fmt.Errorf("create stage %s for %s: %w", st.table, st.shop, err)
	}
	return nil
}

// Drop removes the staging table (and what a merge kept beside it).
func (st *Stage) Drop(ctx context.Context) error {
	q := "DROP TABLE IF EXISTS " + pgx.Identifier{st.table}.Sanitize() + ", " + pgx.Identifier{st.table + "_stale"}.Sanitize()
	if _, err := st.db.Pool.Exec(ctx, q); err != nil {
		return fmt.Errorf("drop stage %s for %s: %w", st.table, st.shop, err)
	}
	return nil
}

// Copy streams src into the staging table with COPY and returns the rows
// written. It fails as a whole: on error the table holds none of src.
func (st *Stage) Copy(ctx context.Context, src StageSource) (int64, error) {
	cs := &copySource{src: src, resource: st.resource, vals: make([]any, len(stageColumns[st.resource]))}
	n, err := st.db.Pool.CopyFrom(ctx, pgx.Identifier{st.table}, stageColumns[st.resource], cs)
	if err != nil {
		// The server reports a source failure only as text; the source's
		// own error keeps its chain (and names the bad line).
		if srcErr := cs.Err(); srcErr != nil {
			err = srcErr
		}
		return n, fmt.Errorf("copy %s of %s into stage: %w", st.resource, st.shop, err)
	}
	if _, err := st.db.Pool.Exec(ctx, "ANALYZE "+pgx.Identifier{st.table}.Sanitize()); err != nil {
		return n, fmt.Errorf("analyze stage of %s: %w", st.shop, err)
	}
	return n, nil
}

// copySource adapts a StageSource to pgx's COPY, reusing one value slice.
type copySource struct {
	src      StageSource
	resource Resource
	vals     []any
	err      error
}

func (c *copySource) Next() bool { return c.err == nil && c.src.Next() }
func (c *copySource) Err() error {
	if c.err != nil {
		return c.err
	}
	return c.src.Err()
}

func (c *copySource) Values() ([]any, error) {
	r := c.src.Row()
	v := c.vals
	clear(v)
	switch c.resource {
	case ResourceCustomers:
		x := r.Customer
		if x == nil {
			return nil, c.fail("customers stage got a row of another kind")
		}
		v[0], v[1], v[2], v[3] = x.ID, nullText(x.Email), nullText(x.FirstName), nullText(x.LastName)
		v[4], v[5], v[6], v[7], v[8] = nullText(x.City), nullText(x.Country), nullText(x.CountryCode), nullTime(x.CreatedAt), x.UpdatedAt
		v[9], v[10] = nullText(x.ShopifyRFMGroup), nullText(x.ShopifyPredictedSpendTier)
	case ResourceOrders:
		switch {
		case r.Order != nil:
			o := r.Order
			codes := o.DiscountCodes
			if codes == nil {
				codes = []string{}
			}
			v[0], v[1], v[3], v[4] = kindParent, o.ID, nullID(o.CustomerID), o.Name
			v[5], v[6], v[7], v[8] = o.CreatedAt, nullTime(o.ProcessedAt), o.UpdatedAt, nullTime(o.CancelledAt)
			v[9], v[10], v[11], v[12] = o.Test, o.Currency, o.Total, nullText(o.Subtotal)
			v[13], v[14], v[15] = nullText(o.SourceName), nullText(o.LandingPage), nullText(o.ReferrerURL)
			v[16], v[17], v[18], v[19] = nullText(o.UTMSource), nullText(o.UTMMedium), nullText(o.UTMCampaign), codes
		case r.Line != nil:
			l := r.Line
			v[0], v[1], v[2] = kindChild, l.ID, l.OrderID
			v[20], v[21], v[22], v[23], v[24] = nullID(l.ProductID), nullID(l.VariantID), l.Title, l.Quantity, l.UnitPrice
		case r.Refund != nil:
			f := r.Refund
			v[0], v[1], v[2], v[5], v[24] = kindRefund, f.ID, f.OrderID, f.CreatedAt, f.Amount
		default:
			return nil, c.fail("orders stage got a row of another kind")
		}
	case ResourceProducts:
		switch {
		case r.Product != nil:
			p := r.Product
			v[0], v[1], v[3], v[4], v[5], v[6], v[7] = kindParent, p.ID, p.Title, p.ProductType, p.Vendor, nullTime(p.CreatedAt), p.UpdatedAt
		case r.Variant != nil:
			x := r.Variant
			v[0], v[1], v[2], v[3], v[8], v[9], v[10] = kindChild, x.ID, x.ProductID, x.Title, nullText(x.SKU), nullText(x.Price), nullText(x.UnitCost)
		default:
			return nil, c.fail("products stage got a row of another kind")
		}
	}
	return v, nil
}

func (c *copySource) fail(msg string) error {
	c.err = fmt.Errorf("%s", msg)
	return c.err
}

// mergePlan is how a staged resource moves into the real tables: prepare
// runs first (it finds the staged parents whose stored version is newer),
// then the groups run side by side, each in its own transaction, one
// statement per table.
type mergePlan struct {
	prepare string
	groups  [][]mergeStmt
	cleanup string
}

// mergeStmt is one statement of a merge and the table it writes.
type mergeStmt struct {
	table, sql string
	// whenEmpty, if set, replaces sql when the table holds nothing of the
	// shop yet.
	whenEmpty string
	// bookkeeping statements write what the merge needs beside the rows
	// it imports (the line sums, a snapshot of costs): their rows are not
	// counted as changed.
	bookkeeping bool
	// alone: the statement reads rows another group's merge writes (the
	// variants group's re-summing reads order_lines), so its group takes
	// the shop's data lock exclusively, as webhooks do, instead of shared.
	alone bool
	// hashJoins: the statement joins the shop's lines to its variants
	// (the line sums), and runs with nested loops turned off. The merge
	// analyzes the tables it wrote only after a large one (SyncStore.Merge,
	// over 100,000 rows changed), and autovacuum only after the commit,
	// maybe never for one shop's share of a shared table: on a first
	// import the planner has no statistics on the lines just written nor
	// on the variants a small products merge wrote before, takes the
	// shop's variants for a handful, and joins every line against all of
	// them. For a shop of 1M customers and ten lines an order (48M lines,
	// 2,786 variants) the sums had run for over 16 minutes on one core
	// when they were stopped. A hash join of the shop's variants costs one
	// probe a line whatever the estimates.
	hashJoins bool
	// rebuildBelow, on a table's first statement in its group, is a query
	// of how many rows the stage brings for the table; when the shop holds
	// fewer of the table's rows than that, they are all deleted and the
	// table is merged as empty (whenEmpty), rebuilt whole. A shop's first
	// import finds a few line sums already when order webhooks came in
	// during its export; re-summing its millions of orders one list of ids
	// at a time (order_id = ANY(ARRAY(...))) is, with no statistics yet, a
	// filter that compares every line with every id, where summing the
	// whole shop costs one pass over its lines.
	rebuildBelow string
}

// forEmptyTable is the statement when the table holds nothing of the shop
// yet (the first import): an upsert becomes a plain insert, which
// PostgreSQL runs at about twice the speed (no speculative insertion), and
// a delete of replaced children has nothing to do. The caller holds the
// shop's data lock, so no webhook can add a row meanwhile.
func (m mergeStmt) forEmptyTable() (string, bool) {
	if m.whenEmpty != "" {
		return m.whenEmpty, true
	}
	if strings.HasPrefix(strings.TrimSpace(m.sql), "DELETE") {
		return "", false
	}
	if i := strings.Index(m.sql, "ON CONFLICT"); i >= 0 {
		return m.sql[:i], true
	}
	return m.sql, true
}

// plan returns the merge of a staged resource. Every upsert keeps a stored
// row that is newer (by updated_at) than the staged one; on a tie the
// staged row wins only if it differs (so re-running a merge rewrites
// nothing) and is newer by state_at (see importTies). Orders and customers
// the merge writes get asOf as their state_at (see ImportAsOf). Children
// (lines, variants) of a staged parent are replaced by the staged set,
// unless the stored parent wins: then its children are newer too.
func (st *Stage) plan(asOf time.Time) (mergePlan, error) {
	t := pgx.Identifier{st.table}.Sanitize()
	stale := pgx.Identifier{st.table + "_stale"}.Sanitize()
	// CREATE TABLE AS takes no parameters, so the shop goes in as a literal.
	lit := quoteLiteral(st.shop)
	var p mergePlan
	switch st.resource {
	case ResourceCustomers:
		p.groups = [][]mergeStmt{{{table: "customers", sql: fmt.Sprintf(`INSERT INTO customers AS c (shop, id, email, first_name, last_name, city, country, country_code, created_at, updated_at, state_at,
				shopify_rfm_group, shopify_predicted_spend_tier)
			SELECT $1, s.id, CASE WHEN r.customer_id IS NULL THEN s.email END, CASE WHEN r.customer_id IS NULL THEN s.first_name END,
				CASE WHEN r.customer_id IS NULL THEN s.last_name END, CASE WHEN r.customer_id IS NULL THEN s.city END,
				CASE WHEN r.customer_id IS NULL THEN s.country END, CASE WHEN r.customer_id IS NULL THEN s.country_code END,
				s.created_at, s.updated_at, $2::timestamptz, s.shopify_rfm_group, s.shopify_predicted_spend_tier
			FROM %[1]s s LEFT JOIN redacted_customers r ON r.shop = $1 AND r.customer_id = s.id
			ON CONFLICT (shop, id) DO UPDATE SET `+customerUpdateSet+`
			WHERE c.deleted_at IS NULL AND (c.updated_at < excluded.updated_at OR (c.updated_at = excluded.updated_at AND `+importTies("c")+` AND
				(c.email, c.first_name, c.last_name, c.city, c.country, c.country_code, c.created_at) IS DISTINCT FROM
				(excluded.email, excluded.first_name, excluded.last_name, excluded.city, excluded.country, excluded.country_code, excluded.created_at)))`, t)},
			// Shopify recomputes its statistics without a new updated_at,
			// so they follow every import that read them.
			{table: "customers", sql: fmt.Sprintf(`UPDATE customers c SET shopify_rfm_group = s.shopify_rfm_group,
				shopify_predicted_spend_tier = s.shopify_predicted_spend_tier
			FROM %[1]s s WHERE c.shop = $1 AND c.id = s.id AND c.deleted_at IS NULL
				AND (c.shopify_rfm_group, c.shopify_predicted_spend_tier) IS DISTINCT FROM (s.shopify_rfm_group, s.shopify_predicted_spend_tier)`, t)}}}
	case ResourceOrders:
		p.prepare = fmt.Sprintf(`DROP TABLE IF EXISTS %[3]s; CREATE UNLOGGED TABLE %[3]s AS
				SELECT %[2]s::text AS shop, s.id FROM %[1]s s JOIN orders o ON o.shop = %[2]s AND o.id = s.id
				WHERE s.kind = 0 AND (o.updated_at > s.updated_at OR (o.updated_at = s.updated_at AND NOT %[4]s))`,
			t, lit, stale, importTiesAt("o", asOf))
		p.groups = [][]mergeStmt{{
			{table: "orders", sql: fmt.Sprintf(`INSERT INTO orders AS o (shop, id, customer_id, name, created_at, processed_at, updated_at, cancelled_at, test, currency,
					total, subtotal, source_name, landing_page, referrer_url, utm_source, utm_medium, utm_campaign, discount_codes, state_at)
				SELECT $1, s.id, s.customer_id, COALESCE(s.name, ''), s.created_at, s.processed_at, s.updated_at, s.cancelled_at,
					COALESCE(s.test, false), COALESCE(s.currency, ''), s.total::numeric, s.subtotal::numeric, s.source_name,
					CASE WHEN r.customer_id IS NULL THEN s.landing_page END, CASE WHEN r.customer_id IS NULL THEN s.referrer_url END,
					s.utm_source, s.utm_medium, s.utm_campaign, COALESCE(s.discount_codes, '{}'), $2::timestamptz
				FROM %[1]s s LEFT JOIN redacted_customers r ON r.shop = $1 AND r.customer_id = s.customer_id
				WHERE s.kind = 0
				ON CONFLICT (shop, id) DO UPDATE SET `+orderUpdateSet+`
				WHERE o.updated_at < excluded.updated_at OR (o.updated_at = excluded.updated_at AND `+importTies("o")+` AND
					(o.customer_id, o.name, o.created_at, o.processed_at, o.cancelled_at, o.test, o.currency, o.total, o.subtotal,
					 o.source_name, o.landing_page, o.referrer_url, o.utm_source, o.utm_medium, o.utm_campaign, o.discount_codes) IS DISTINCT FROM
					(excluded.customer_id, excluded.name, excluded.created_at, excluded.processed_at, excluded.cancelled_at, excluded.test,
					 excluded.currency, excluded.total, excluded.subtotal, excluded.source_name, excluded.landing_page, excluded.referrer_url,
					 excluded.utm_source, excluded.utm_medium, excluded.utm_campaign, excluded.discount_codes))`, t)},
		}, {
			{table: "order_lines", sql: fmt.Sprintf(`DELETE FROM order_lines d USING %[1]s p
				WHERE p.kind = 0 AND d.shop = $1 AND d.order_id = p.id
				  AND NOT EXISTS (SELECT 1 FROM %[2]s x WHERE x.id = p.id)
				  AND NOT EXISTS (SELECT 1 FROM %[1]s c WHERE c.kind = 1 AND c.parent_id = d.order_id AND c.id = d.id)`, t, stale)},
			{table: "order_lines", sql: fmt.Sprintf(`INSERT INTO order_lines AS l (shop, order_id, id, product_id, variant_id, title, quantity, unit_price)
				SELECT $1, s.parent_id, s.id, s.product_id, s.variant_id, COALESCE(s.title, ''), COALESCE(s.quantity, 0), COALESCE(s.amount, '0')::numeric
				FROM %[1]s s WHERE s.kind = 1 AND NOT EXISTS (SELECT 1 FROM %[2]s x WHERE x.id = s.parent_id)
				ON CONFLICT (shop, order_id, id) DO UPDATE SET product_id = excluded.product_id, variant_id = excluded.variant_id,
					title = excluded.title, quantity = excluded.quantity, unit_price = excluded.unit_price
				WHERE (l.product_id, l.variant_id, l.title, l.quantity, l.unit_price) IS DISTINCT FROM
					(excluded.product_id, excluded.variant_id, excluded.title, excluded.quantity, excluded.unit_price)`, t, stale)},
			// The sums of the lines just replaced, in the same
			// transaction (see linesums.go); on the shop's first import,
			// of all its lines at once.
			{table: "order_line_sums", bookkeeping: true, sql: fmt.Sprintf(`DELETE FROM order_line_sums d USING %[1]s p
				WHERE p.kind = 0 AND d.shop = $1 AND d.order_id = p.id AND NOT EXISTS (SELECT 1 FROM %[2]s x WHERE x.id = p.id)`, t, stale),
				rebuildBelow: fmt.Sprintf(`SELECT count(*) FROM %s WHERE kind = 0`, t)},
			{table: "order_line_sums", bookkeeping: true, hashJoins: true, sql: insertLineSums + fmt.Sprintf(` AND order_id = ANY(ARRAY(
				SELECT p.id FROM %[1]s p WHERE p.kind = 0 AND NOT EXISTS (SELECT 1 FROM %[2]s x WHERE x.id = p.id)))`, t, stale),
				whenEmpty: insertLineSums},
			{table: "refunds", sql: fmt.Sprintf(`INSERT INTO refunds AS r (shop, id, order_id, created_at, amount)
				SELECT $1, s.id, s.parent_id, s.created_at, s.amount::numeric FROM %[1]s s WHERE s.kind = 2
				ON CONFLICT (shop, id) DO UPDATE SET order_id = excluded.order_id, created_at = excluded.created_at, amount = excluded.amount
				WHERE (r.order_id, r.created_at, r.amount) IS DISTINCT FROM (excluded.order_id, excluded.created_at, excluded.amount)`, t)},
		}}
		p.cleanup = "DROP TABLE IF EXISTS " + stale
	case ResourceProducts:
		p.prepare = fmt.Sprintf(`DROP TABLE IF EXISTS %[3]s; CREATE UNLOGGED TABLE %[3]s AS
				SELECT %[2]s::text AS shop, s.id FROM %[1]s s JOIN products p ON p.shop = %[2]s AND p.id = s.id WHERE s.kind = 0 AND p.updated_at > s.updated_at`, t, lit, stale)
		p.groups = [][]mergeStmt{{
			{table: "products", sql: fmt.Sprintf(`INSERT INTO products AS p (shop, id, title, product_type, vendor, created_at, updated_at)
				SELECT $1, s.id, COALESCE(s.title, ''), COALESCE(s.product_type, ''), COALESCE(s.vendor, ''), s.created_at, s.updated_at
				FROM %[1]s s WHERE s.kind = 0
				ON CONFLICT (shop, id) DO UPDATE SET title = excluded.title, product_type = excluded.product_type, vendor = excluded.vendor,
					created_at = excluded.created_at, updated_at = excluded.updated_at
				WHERE p.updated_at < excluded.updated_at OR (p.updated_at = excluded.updated_at AND
					(p.title, p.product_type, p.vendor, p.created_at) IS DISTINCT FROM (excluded.title, excluded.product_type, excluded.vendor, excluded.created_at))`, t)},
		}, {
			// The costs before the merge, to find the orders whose line
			// sums it changes.
			{table: "variants", bookkeeping: true, sql: fmt.Sprintf(`CREATE TEMP TABLE variant_costs_before ON COMMIT DROP AS
				SELECT id, unit_cost FROM variants WHERE shop = %s`, lit)},
			{table: "variants", sql: fmt.Sprintf(`DELETE FROM variants d USING %[1]s p
				WHERE p.kind = 0 AND d.shop = $1 AND d.product_id = p.id
				  AND NOT EXISTS (SELECT 1 FROM %[2]s x WHERE x.id = p.id)
				  AND NOT EXISTS (SELECT 1 FROM %[1]s c WHERE c.kind = 1 AND c.parent_id = d.product_id AND c.id = d.id)`, t, stale)},
			// A variant's cost can change without its product's updated_at
			// moving, so variants follow the latest export.
			{table: "variants", sql: fmt.Sprintf(`INSERT INTO variants AS v (shop, id, product_id, title, sku, price, unit_cost)
				SELECT $1, s.id, s.parent_id, COALESCE(s.title, ''), s.sku, s.price::numeric, s.unit_cost::numeric
				FROM %[1]s s WHERE s.kind = 1
				ON CONFLICT (shop, id) DO UPDATE SET product_id = excluded.product_id, title = excluded.title, sku = excluded.sku,
					price = excluded.price, unit_cost = excluded.unit_cost
				WHERE (v.product_id, v.title, v.sku, v.price, v.unit_cost) IS DISTINCT FROM
					(excluded.product_id, excluded.title, excluded.sku, excluded.price, excluded.unit_cost)`, t)},
			// The sums of the orders with a line of a variant whose cost
			// the merge changed, added or removed, in the same
			// transaction (see linesums.go).
			{table: "order_line_sums", bookkeeping: true, alone: true, sql: fmt.Sprintf(`CREATE TEMP TABLE line_sums_stale ON COMMIT DROP AS
				SELECT DISTINCT l.order_id FROM order_lines l WHERE l.shop = %[1]s AND l.variant_id IN (
					SELECT COALESCE(a.id, b.id) FROM (SELECT id, unit_cost FROM variants WHERE shop = %[1]s) a
					FULL JOIN variant_costs_before b ON b.id = a.id WHERE a.unit_cost IS DISTINCT FROM b.unit_cost)`, lit)},
			{table: "order_line_sums", bookkeeping: true, sql: `DELETE FROM order_line_sums d USING line_sums_stale s WHERE d.shop = $1 AND d.order_id = s.order_id`},
			{table: "order_line_sums", bookkeeping: true, hashJoins: true, sql: insertLineSums + ` AND order_id = ANY(ARRAY(SELECT order_id FROM line_sums_stale))`},
		}}
		p.cleanup = "DROP TABLE IF EXISTS " + stale
	default:
		return p, fmt.Errorf("merge stage: unknown resource %s", st.resource)
	}
	return p, nil
}

// runGroup runs one group of merge statements in one transaction, under
// the shop's data lock shared with the other groups of the merge (webhooks
// take it exclusively), or exclusively for a group with a statement that
// must run alone.
func (st *Stage) runGroup(ctx context.Context, stmts []mergeStmt, asOf time.Time) (int64, error) {
	var changed int64
	err := pgx.BeginFunc(ctx, st.db.Pool, func(tx pgx.Tx) error {
		alone := slices.ContainsFunc(stmts, func(m mergeStmt) bool { return m.alone })
		if err := LockShopData(ctx, tx, st.shop, !alone); err != nil {
			return err
		}
		empty := map[string]bool{}
		for _, m := range stmts {
			if _, seen := empty[m.table]; !seen {
				none, err := st.holdsNone(ctx, tx, m)
				if err != nil {
					return err
				}
				empty[m.table] = none
			}
			q := m.sql
			if empty[m.table] {
				var run bool
				if q, run = m.forEmptyTable(); !run {
					continue
				}
			}
			var args []any
			if strings.Contains(q, "$1") {
				args = []any{st.shop}
			}
			if strings.Contains(q, "$2") {
				args = append(args, nullTime(asOf))
			}
			var tag pgconn.CommandTag
			err := withPlanner(ctx, tx, m, func() (err error) {
				if tag, err = tx.Exec(ctx, q, args...); err == nil && mergeStmtRan != nil {
					mergeStmtRan(ctx, tx, q, args)
				}
				return err
			})
			if err != nil {
				return err
			}
			if !m.bookkeeping {
				changed += tag.RowsAffected()
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("merge %s of %s: %w", st.resource, st.shop, err)
	}
	return changed, nil
}

// holdsNone says whether the shop holds none of the rows of m's table, m
// being the table's first statement in its group; with m.rebuildBelow,
// it first deletes them all when they are fewer than the stage brings.
func (st *Stage) holdsNone(ctx context.Context, tx pgx.Tx, m mergeStmt) (bool, error) {
	table := pgx.Identifier{m.table}.Sanitize()
	var none bool
	if err := tx.QueryRow(ctx, fmt.Sprintf("SELECT NOT EXISTS (SELECT 1 FROM %s WHERE shop = $1)", table), st.shop).Scan(&none); err != nil {
		return false, err
	}
	if none || m.rebuildBelow == "" {
		return none, nil
	}
	var staged int64
	if err := tx.QueryRow(ctx, m.rebuildBelow).Scan(&staged); err != nil {
		return false, err
	}
	// Counted up to the stage's size only: an established shop's rows are
	// not all counted at each merge.
	var held int64
	err := tx.QueryRow(ctx, fmt.Sprintf("SELECT count(*) FROM (SELECT 1 FROM %s WHERE shop = $1 LIMIT $2) h", table), st.shop, staged).Scan(&held)
	if err != nil || held >= staged {
		return false, err
	}
	if _, err := tx.Exec(ctx, fmt.Sprintf("DELETE FROM %s WHERE shop = $1", table), st.shop); err != nil {
		return false, err
	}
	return true, nil
}

// mergeStmtRan, when set (by tests), is called with each statement a
// merge has run, in its transaction, before its planner settings are put
// back.
var mergeStmtRan func(ctx context.Context, tx pgx.Tx, sql string, args []any)

// withPlanner runs fn, which runs m's statement in tx, with the planner
// settings m asks for, and puts them back for the statements after it.
func withPlanner(ctx context.Context, tx pgx.Tx, m mergeStmt, fn func() error) error {
	if !m.hashJoins {
		return fn()
	}
	if _, err := tx.Exec(ctx, `SET LOCAL enable_nestloop = off`); err != nil {
		return err
	}
	if err := fn(); err != nil {
		return err
	}
	// TO DEFAULT, not RESET: RESET in a transaction would also undo a
	// value the session had set before it.
	_, err := tx.Exec(ctx, `SET LOCAL enable_nestloop TO DEFAULT`)
	return err
}

// stageTables lists the staging tables that exist for a resource.
func stageTables(ctx context.Context, q pgxQuerier, shop string, r Resource) ([]string, error) {
	rows, err := q.Query(ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_name LIKE 'sync\_stage\_%' AND table_name LIKE '%\_' || $1`, string(r))
	if err != nil {
		return nil, fmt.Errorf("list staging tables: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// importSkew is how far the clock of the worker that started a sync may be
// ahead of Shopify's, which stamps X-Shopify-Triggered-At.
const importSkew = time.Minute

// ImportAsOf is the state_at of the rows a sync run writes: a time before
// any of its bulk exports read anything (they are created after the run
// starts), less importSkew. A lower bound keeps ties safe: a delivery
// triggered before it is certainly older than what the export read, and
// one triggered after it that is older still loses to the delivery of the
// later change. Zero (NULL, unknown) when the run's start is not known.
func ImportAsOf(st SyncState) time.Time {
	if st.StartedAt.IsZero() {
		return time.Time{}
	}
	return st.StartedAt.Add(-importSkew)
}

// importTies is when an imported version (excluded, stamped with the
// merge's asOf) may replace a stored row (alias t) of the same updated_at:
// the stored state_at is unknown or before the import's. A row a webhook
// wrote later than the export began is kept: the delivery of any change
// after it will come too.
func importTies(t string) string {
	return `(` + t + `.state_at IS NULL OR ` + t + `.state_at < excluded.state_at)`
}

// importTiesAt is importTies for a statement that takes no parameters.
func importTiesAt(t string, asOf time.Time) string {
	if asOf.IsZero() {
		return `(` + t + `.state_at IS NULL)`
	}
	return `(` + t + `.state_at IS NULL OR ` + t + `.state_at < ` + quoteLiteral(asOf.UTC().Format(time.RFC3339Nano)) + `::timestamptz)`
}

func quoteLiteral(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
