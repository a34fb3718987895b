package scoring

import (
	"slices"
	"strings"

	"github.com/cvo-app/cvo/internal/ledger"
	"github.com/cvo-app/cvo/internal/rfm"
)

// ShopifyRFMGroups are Shopify's CustomerRfmGroup values in the order
// Shopify's documentation gives them by value, best first.
var ShopifyRFMGroups = []string{"CHAMPIONS", "LOYAL", "ACTIVE", "NEEDS_ATTENTION", "PROMISING", "NEW",
	"AT_RISK", "ALMOST_LOST", "PREVIOUSLY_LOYAL", "DORMANT", "PROSPECTS"}

// CrosswalkCell counts the scored customers in one of our groups that
// Shopify puts in one of its groups ("" when Shopify gave none).
type CrosswalkCell struct {
	Group        rfm.Group `json:"group"`
	ShopifyGroup string    `json:"shopifyGroup"`
	Customers    int       `json:"customers"`
}

// shopifyGroups are Shopify's own RFM groups of the indexed customers, as
// codes into names (0: none): a byte a customer, so that the crosswalk
// needs nothing of the ledger once the scoring has let go of it.
type shopifyGroups struct {
	names []string
	codes []uint8
}

func shopifyGroupsOf(ix *shopIndex, l *ledger.Ledger) shopifyGroups {
	names := []string{""}
	shopify := make([]uint8, ix.customers())
	codes := map[string]uint8{"": 0}
	for k, n := range ix.ledgerID {
		p, ok := l.Profile(n)
		if !ok || p.ShopifyRFMGroup == "" {
			continue
		}
		code, ok := codes[p.ShopifyRFMGroup]
		if !ok {
			if len(names) == 255 {
				continue // not a Shopify enum: the sync lets through at most a few
			}
			code = uint8(len(names))
			codes[p.ShopifyRFMGroup] = code
			names = append(names, p.ShopifyRFMGroup)
		}
		shopify[k] = code
	}
	return shopifyGroups{names: names, codes: shopify}
}

// crosswalk counts our groups against Shopify's own RFM groups, so the
// merchant sees where the two agree and where ours is finer. Only
// non-empty cells are returned, ours in display order, then Shopify's
// in Shopify's order, then unknown values sorted, then none.
func crosswalk(sg shopifyGroups, scores []CustomerScore) []CrosswalkCell {
	names, shopify := sg.names, sg.codes
	counts := make([][rfm.NumGroups + 1]int, len(names))
	for i := range scores {
		counts[shopify[i]][scores[i].Group]++
	}
	rank := func(name string) int {
		if name == "" {
			return len(ShopifyRFMGroups) + 1
		}
		if i := slices.Index(ShopifyRFMGroups, name); i >= 0 {
			return i
		}
		return len(ShopifyRFMGroups)
	}
	order := make([]int, len(names))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		if ra, rb := rank(names[a]), rank(names[b]); ra != rb {
			return ra - rb
		}
		return strings.Compare(names[a], names[b])
	})
	var out []CrosswalkCell
	for _, g := range rfm.Groups() {
		for _, k := range order {
			if n := counts[k][g]; n > 0 {
				out = append(out, CrosswalkCell{Group: g, ShopifyGroup: names[k], Customers: n})
			}
		}
	}
	return out
}
