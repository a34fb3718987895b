// Package fleet proves the app correct for many shops at once: it compares
// what the Shopify simulator holds for each shop with what the app stored
// and computed, and (cvodev fleet e2e|chaos) drives a fleet of separate
// server and worker processes through installs, webhooks and faults.
package fleet

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cvo-app/cvo/internal/simulator"
)

// ShopCheck is one shop compared with the simulator. Every count but
// Scored, Customers, Orders and Segments is a problem when not zero.
type ShopCheck struct {
	Shop      string
	ScoringID int64
	Scored    int // customers in the app's current scoring
	Customers int // live customers in the simulator
	Orders    int // live orders in the simulator
	Segments  int // the app's segments in the simulator

	WrongTag        int // scored customers without exactly their group's tag
	StrayTag        int // customers with a group tag the scoring does not give them (unscored, or an old prefix)
	WrongMetafield  int // scored customers whose group metafield is not their group
	ForeignToken    int // requests to this shop with another shop's token
	MissingCustomer int // in the simulator, not in the app's database
	ExtraCustomer   int // in the app's database, not (or no longer) in the simulator
	WrongCustomer   int // stored with another last name: a later edit lost
	MissingOrder    int
	ExtraOrder      int
	WrongTotal      int // orders stored with another total
	WrongCancel     int // orders stored cancelled when they are not, or the reverse
	MissingRefund   int // orders stored with fewer refunds than Shopify has
	ExtraRefund     int // orders stored with more refunds than Shopify has: applied twice
	MissingSegments int // groups without their segment
}

// Problems names every non-zero problem count; empty means the shop is right.
func (c ShopCheck) Problems() []string {
	var out []string
	add := func(n int, what string) {
		if n != 0 {
			out = append(out, fmt.Sprintf("%s: %d %s", c.Shop, n, what))
		}
	}
	if c.ScoringID == 0 {
		out = append(out, c.Shop+": no succeeded scoring")
	}
	add(c.WrongTag, "scored customers without exactly their group tag")
	add(c.StrayTag, "customers with a stray group tag (unscored, or under the old prefix)")
	add(c.WrongMetafield, "scored customers with a wrong group metafield")
	add(c.ForeignToken, "requests with another shop's token")
	add(c.MissingCustomer, "customers missing from the database")
	add(c.ExtraCustomer, "customers in the database but not in Shopify")
	add(c.WrongCustomer, "customers stored with another last name")
	add(c.MissingOrder, "orders missing from the database")
	add(c.ExtraOrder, "orders in the database but not in Shopify")
	add(c.WrongTotal, "orders stored with another total")
	add(c.WrongCancel, "orders stored with another cancellation state")
	add(c.MissingRefund, "orders stored with fewer refunds than Shopify has")
	add(c.ExtraRefund, "orders stored with more refunds than Shopify has")
	add(c.MissingSegments, "groups without a segment")
	return out
}

// defaultPrefix is the app's default tag prefix; a shop that moved to
// another must carry no group tag under it any more.
const defaultPrefix = "cvo-"

// groupCount is the number of RFM groups, each with one segment.
const groupCount = 11

// Verify compares one shop's data, current scoring and write-back in the
// app's database with what the simulator holds. Tags and metafields are
// judged against the app's latest succeeded scoring: every scored customer
// carries exactly that group's tag and metafield.
func Verify(ctx context.Context, pool *pgxpool.Pool, sim *simulator.Simulator, shop string) (ShopCheck, error) {
	c := ShopCheck{Shop: shop}
	prefix := defaultPrefix
	err := pool.QueryRow(ctx, `SELECT tag_prefix FROM settings WHERE shop = $1`, shop).Scan(&prefix)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return c, fmt.Errorf("verify %s: settings: %w", shop, err)
	}
	groups, err := currentGroups(ctx, pool, shop, &c.ScoringID)
	if err != nil {
		return c, fmt.Errorf("verify %s: %w", shop, err)
	}
	c.Scored = len(groups)

	customers := sim.Customers(shop)
	c.Customers = len(customers)
	ns := sim.AppNamespace("cvo")
	for _, cu := range customers {
		var mine []string
		stale := false
		for _, tag := range cu.Tags {
			switch {
			case isGroupTag(tag, prefix):
				mine = append(mine, tag)
			case prefix != defaultPrefix && isGroupTag(tag, defaultPrefix):
				stale = true // left behind when the prefix moved
			}
		}
		g, scored := groups[cu.ID]
		switch {
		case stale || (!scored && len(mine) > 0):
			c.StrayTag++
		case scored && (len(mine) != 1 || mine[0] != prefix+g):
			c.WrongTag++
		}
		if scored && metafield(sim.CustomerMetafields(shop, cu.ID), ns, "group") != g {
			c.WrongMetafield++
		}
	}
	if err := compareCustomers(ctx, pool, shop, customers, &c); err != nil {
		return c, fmt.Errorf("verify %s: %w", shop, err)
	}
	orders := sim.Orders(shop)
	c.Orders = len(orders)
	if err := compareOrders(ctx, pool, shop, orders, &c); err != nil {
		return c, fmt.Errorf("verify %s: %w", shop, err)
	}
	segs := map[string]bool{}
	for _, s := range sim.Segments(shop) {
		if strings.Contains(s.Query, "'"+prefix) {
			segs[s.Query] = true
		}
	}
	c.Segments = len(segs)
	c.MissingSegments = max(0, groupCount-len(segs))
	c.ForeignToken = sim.TokenAudit(shop).ForeignToken
	return c, nil
}

// isGroupTag tells the app's group tags from its optional value and churn
// tags and from the merchant's own tags.
func isGroupTag(tag, prefix string) bool {
	if !strings.HasPrefix(tag, prefix) {
		return false
	}
	rest := strings.TrimPrefix(tag, prefix)
	return !strings.HasPrefix(rest, "value-") && !strings.HasPrefix(rest, "churn-")
}

func metafield(ms []simulator.Metafield, ns, key string) string {
	for _, m := range ms {
		if m.Namespace == ns && m.Key == key {
			return m.Value
		}
	}
	return ""
}

// currentGroups reads each customer's group in the shop's latest succeeded
// scoring.
func currentGroups(ctx context.Context, pool *pgxpool.Pool, shop string, id *int64) (map[int64]string, error) {
	err := pool.QueryRow(ctx, `SELECT id FROM scorings WHERE shop = $1 AND state = 'succeeded' ORDER BY id DESC LIMIT 1`, shop).Scan(id)
	if errors.Is(err, pgx.ErrNoRows) {
		return map[int64]string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("latest scoring: %w", err)
	}
	rows, err := pool.Query(ctx, `SELECT customer_id, grp FROM customer_scores WHERE shop = $1 AND scoring_id = $2`, shop, *id)
	if err != nil {
		return nil, fmt.Errorf("scores: %w", err)
	}
	out := map[int64]string{}
	var (
		cid int64
		grp string
	)
	_, err = pgx.ForEachRow(rows, []any{&cid, &grp}, func() error {
		out[cid] = grp
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("scores: %w", err)
	}
	return out, nil
}

// compareCustomers counts missing, extra and outdated customers. Names of
// redacted customers are not kept, so only theirs go unchecked.
func compareCustomers(ctx context.Context, pool *pgxpool.Pool, shop string, sim []simulator.Customer, c *ShopCheck) error {
	rows, err := pool.Query(ctx, `SELECT c.id, CASE WHEN r.customer_id IS NULL THEN COALESCE(c.last_name, '') END
		FROM customers c LEFT JOIN redacted_customers r ON r.shop = c.shop AND r.customer_id = c.id
		WHERE c.shop = $1 AND c.deleted_at IS NULL`, shop)
	if err != nil {
		return fmt.Errorf("customers: %w", err)
	}
	stored := map[int64]*string{}
	var (
		id   int64
		last *string
	)
	if _, err := pgx.ForEachRow(rows, []any{&id, &last}, func() error { stored[id] = last; return nil }); err != nil {
		return fmt.Errorf("customers: %w", err)
	}
	for _, cu := range sim {
		last, ok := stored[cu.ID]
		delete(stored, cu.ID)
		switch {
		case !ok:
			c.MissingCustomer++
		case last != nil && *last != cu.LastName:
			c.WrongCustomer++
		}
	}
	c.ExtraCustomer = len(stored)
	return nil
}

type storedOrder struct {
	total     float64
	cancelled bool
	refunds   int
}

func compareOrders(ctx context.Context, pool *pgxpool.Pool, shop string, sim []simulator.Order, c *ShopCheck) error {
	rows, err := pool.Query(ctx, `SELECT o.id, o.total::float8, o.cancelled_at IS NOT NULL,
			(SELECT count(*) FROM refunds r WHERE r.shop = o.shop AND r.order_id = o.id)
		FROM orders o WHERE o.shop = $1`, shop)
	if err != nil {
		return fmt.Errorf("orders: %w", err)
	}
	stored := map[int64]storedOrder{}
	var (
		id int64
		so storedOrder
	)
	if _, err := pgx.ForEachRow(rows, []any{&id, &so.total, &so.cancelled, &so.refunds}, func() error {
		stored[id] = so
		return nil
	}); err != nil {
		return fmt.Errorf("orders: %w", err)
	}
	for _, o := range sim {
		s, ok := stored[o.ID]
		delete(stored, o.ID)
		switch {
		case !ok:
			c.MissingOrder++
		default:
			if s.refunds > len(o.Refunds) {
				c.ExtraRefund++
			}
			if s.refunds < len(o.Refunds) {
				c.MissingRefund++
			}
			if math.Abs(s.total-o.Total.Float64()) > 0.00005 {
				c.WrongTotal++
			}
			if s.cancelled != !o.CancelledAt.IsZero() {
				c.WrongCancel++
			}
		}
	}
	c.ExtraOrder = len(stored)
	return nil
}

// ShopRows counts the rows every table with a shop column holds for the
// shop: after shop/redact they must all be zero.
func ShopRows(ctx context.Context, pool *pgxpool.Pool, shop string) (map[string]int, error) {
	rows, err := pool.Query(ctx, `SELECT table_name FROM information_schema.columns
		WHERE table_schema = 'public' AND column_name = 'shop' ORDER BY table_name`)
	if err != nil {
		return nil, fmt.Errorf("tables with a shop column: %w", err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("tables with a shop column: %w", err)
	}
	out := map[string]int{}
	for _, t := range tables {
		var n int
		q := "SELECT count(*) FROM " + pgx.Identifier{t}.Sanitize() + " WHERE shop = $1"
		if err := pool.QueryRow(ctx, q, shop).Scan(&n); err != nil {
			return nil, fmt.Errorf("count %s rows of %s: %w", t, shop, err)
		}
		if n > 0 {
			out[t] = n
		}
	}
	return out, nil
}
