package activation

import (
	"context"
	"fmt"
	"slices"

	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/postgres"
)

// change is what one customer needs written.
type change struct {
	id      int64
	written postgres.Writeback
	add     []string
	remove  []string
	// metafields holds the keys whose values changed, with the new values.
	metafields map[string]string
	// drop holds the keys of survey links the app wrote that the customer
	// must no longer carry, sorted.
	drop []string
}

func (c *change) metafieldsChange() bool { return len(c.metafields) > 0 || len(c.drop) > 0 }

func (c *change) tagsChange() bool { return len(c.add) > 0 || len(c.remove) > 0 }

// plan holds the changes a write-back sends by ordinary calls, in
// customer id order. Bulk changes are never held: they are streamed from
// the planner into their files.
type plan struct {
	changes []change
}

// planner compares the scores with customer_writeback, customer by
// customer. The scores are the shop's whole scored population: a customer
// the app wrote to who is not among them (no longer scored, deleted)
// loses the app's tags. links, when not nil, gives a customer of a group
// their survey link metafields; they are written whatever the shop's
// metafield setting, because activating a survey asks for them, and like
// every metafield only when they changed. With manageLinks, a survey link
// the app wrote that links no longer gives (the survey closed or was
// deleted, the customer left its groups or is no longer scored) is
// dropped: an email flow selecting customers with a link must reach
// exactly the targeted ones.
type planner struct {
	store       Store
	shop        string
	s           cvo.Settings
	scores      []Score // by customer id, value tiers set
	links       func(customerID int64, group string) map[string]string
	manageLinks bool
}

// newPlanner sorts scores by customer id and sets their value tiers.
func newPlanner(store Store, shop string, s cvo.Settings, scores []Score,
	links func(customerID int64, group string) map[string]string, manageLinks bool) (*planner, error) {
	if err := sortScores(scores); err != nil {
		return nil, fmt.Errorf("plan write-back of %s: %w", shop, err)
	}
	setValueTiers(scores)
	return &planner{store: store, shop: shop, s: s, scores: scores, links: links, manageLinks: manageLinks}, nil
}

// walk calls fn with every customer's change that is not empty, in
// customer id order. Each walk reads customer_writeback afresh, so a walk
// after some changes were recorded finds only what is still to write.
// The change is fn's to keep.
func (p *planner) walk(ctx context.Context, fn func(c *change) error) error {
	emit := func(sc *Score, written postgres.Writeback) error {
		c := p.diff(sc, written)
		if c.tagsChange() || c.metafieldsChange() {
			return fn(&c)
		}
		return nil
	}
	j := 0
	// Metafields are read even when the shop turned them off: the rows are
	// saved back whole.
	err := p.store.Scan(ctx, p.shop, true, func(row postgres.Writeback) error {
		for j < len(p.scores) && p.scores[j].CustomerID < row.CustomerID {
			if err := emit(&p.scores[j], postgres.Writeback{CustomerID: p.scores[j].CustomerID}); err != nil {
				return err
			}
			j++
		}
		if j < len(p.scores) && p.scores[j].CustomerID == row.CustomerID {
			j++
			return emit(&p.scores[j-1], row)
		}
		return emit(nil, row)
	})
	if err != nil {
		return err
	}
	for ; j < len(p.scores); j++ {
		if err := emit(&p.scores[j], postgres.Writeback{CustomerID: p.scores[j].CustomerID}); err != nil {
			return err
		}
	}
	return nil
}

// diff is what the customer scored sc (nil when not scored) needs written
// over what the app wrote before.
func (p *planner) diff(sc *Score, written postgres.Writeback) change {
	c := change{id: written.CustomerID, written: written}
	var (
		desired []string
		mf      map[string]string
	)
	if sc != nil {
		c.id = sc.CustomerID
		desired = DesiredTags(p.s, sc.group, tierNames[sc.tier], sc.ChurnRisk())
		if p.s.Metafields {
			mf = DesiredMetafields(*sc)
		}
		if p.links != nil && sc.group.Valid() {
			for k, v := range p.links(sc.CustomerID, sc.group.Slug()) {
				if mf == nil {
					mf = map[string]string{}
				}
				mf[k] = v
				if p.s.ShareSurveyLinks {
					mf[sharedKey(k)] = v
				}
			}
		}
		c.metafields = changedMetafields(mf, written.Metafields)
	}
	if p.manageLinks {
		c.drop = staleLinks(written.Metafields, mf)
	}
	c.add = minus(desired, written.Tags)
	c.remove = minus(written.Tags, desired)
	return c
}

// maxDeletesPerCustomer is Shopify's limit of identifiers per
// metafieldsDelete; a customer's one call or bulk line stays within it.
const maxDeletesPerCustomer = 25

// staleLinks are the survey link keys (app-owned or shared) written that
// are not desired,
// sorted, at most maxDeletesPerCustomer: the rest stay recorded as written
// and go in the next write-back.
func staleLinks(written, desired map[string]string) []string {
	var out []string
	for k := range written {
		if _, ok := desired[k]; !ok && isLinkKey(k) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out[:min(len(out), maxDeletesPerCustomer)]
}

// minus returns the tags of a not in b.
func minus(a, b []string) []string {
	var out []string
	for _, t := range a {
		if !slices.Contains(b, t) {
			out = append(out, t)
		}
	}
	return out
}

// outcome is what came of one change.
type outcome struct {
	added, removed, metafields, dropped bool
}

// result is the customer's new write-back row given what succeeded.
func (c *change) result(o outcome) postgres.Writeback {
	w := postgres.Writeback{CustomerID: c.id}
	for _, t := range c.written.Tags {
		if o.removed && slices.Contains(c.remove, t) {
			continue
		}
		w.Tags = append(w.Tags, t)
	}
	if o.added {
		w.Tags = append(w.Tags, c.add...)
	}
	if len(c.written.Metafields) > 0 || (o.metafields && len(c.metafields) > 0) {
		w.Metafields = make(map[string]string, len(c.written.Metafields)+len(c.metafields))
		for k, v := range c.written.Metafields {
			if o.dropped && slices.Contains(c.drop, k) {
				continue
			}
			w.Metafields[k] = v
		}
		if o.metafields {
			for k, v := range c.metafields {
				w.Metafields[k] = v
			}
		}
	}
	return w
}
