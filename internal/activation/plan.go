package activation

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/postgres"
	"github.com/cvo-app/cvo/internal/rfm"
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

// plan is the difference between what the scores want on the customers and
// what the app has written to them, customer by customer, in id order.
type plan struct {
	customers int
	changes   []change
}

type wanted struct {
	id   int64
	idx  int
	grp  rfm.Group
	tier ValueTier
}

// makePlan compares the scores with customer_writeback. The scores are the
// shop's whole scored population: a customer the app wrote to who is not
// among them (no longer scored, deleted) loses the app's tags. links, when
// not nil, gives a customer of a group their survey link metafields; they
// are written whatever the shop's metafield setting, because activating a
// survey asks for them, and like every metafield only when they changed.
// With manageLinks, a survey link the app wrote that links no longer
// gives (the survey closed or was deleted, the customer left its groups or
// is no longer scored) is dropped: an email flow selecting customers with
// a link must reach exactly the targeted ones.
func makePlan(ctx context.Context, store Store, shop string, s cvo.Settings, scores []cvo.CustomerScore,
	links func(customerID int64, group string) map[string]string, manageLinks bool) (plan, error) {
	tiers := ValueTiers(scores)
	want := make([]wanted, len(scores))
	for i, sc := range scores {
		id, err := strconv.ParseInt(sc.CustomerID, 10, 64)
		if err != nil || id <= 0 {
			return plan{}, fmt.Errorf("plan write-back of %s: customer id %q is not a Shopify customer id", shop, sc.CustomerID)
		}
		g := rfm.NoGroup
		if sc.Group != "" {
			if g, err = rfm.ParseGroup(sc.Group); err != nil {
				return plan{}, fmt.Errorf("plan write-back of %s: customer %d: %w", shop, id, err)
			}
		}
		want[i] = wanted{id: id, idx: i, grp: g, tier: tiers[i]}
	}
	slices.SortFunc(want, func(a, b wanted) int { return cmp.Compare(a.id, b.id) })
	for i := 1; i < len(want); i++ {
		if want[i].id == want[i-1].id {
			return plan{}, fmt.Errorf("plan write-back of %s: customer %d is scored twice", shop, want[i].id)
		}
	}

	p := plan{customers: len(scores)}
	diff := func(w *wanted, written postgres.Writeback) {
		c := change{id: written.CustomerID, written: written}
		var (
			desired []string
			mf      map[string]string
		)
		if w != nil {
			c.id = w.id
			sc := scores[w.idx]
			desired = DesiredTags(s, w.grp, w.tier, sc.ChurnRisk)
			if s.Metafields {
				mf = DesiredMetafields(sc, w.grp)
			}
			if links != nil && w.grp.Valid() {
				for k, v := range links(w.id, w.grp.Slug()) {
					if mf == nil {
						mf = map[string]string{}
					}
					mf[k] = v
					if s.ShareSurveyLinks {
						mf[sharedKey(k)] = v
					}
				}
			}
			c.metafields = changedMetafields(mf, written.Metafields)
		}
		if manageLinks {
			c.drop = staleLinks(written.Metafields, mf)
		}
		c.add = minus(desired, written.Tags)
		c.remove = minus(written.Tags, desired)
		if c.tagsChange() || c.metafieldsChange() {
			p.changes = append(p.changes, c)
		}
	}
	j := 0
	// Metafields are read even when the shop turned them off: the rows are
	// saved back whole.
	err := store.Scan(ctx, shop, true, func(row postgres.Writeback) error {
		for j < len(want) && want[j].id < row.CustomerID {
			diff(&want[j], postgres.Writeback{CustomerID: want[j].id})
			j++
		}
		if j < len(want) && want[j].id == row.CustomerID {
			diff(&want[j], row)
			j++
			return nil
		}
		diff(nil, row)
		return nil
	})
	if err != nil {
		return plan{}, fmt.Errorf("plan write-back of %s: %w", shop, err)
	}
	for ; j < len(want); j++ {
		diff(&want[j], postgres.Writeback{CustomerID: want[j].id})
	}
	return p, nil
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
