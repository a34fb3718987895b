package simulator

import (
	"fmt"
	"slices"
	"sync"
	"time"
)

// Customer.statistics: Shopify computes each customer's RFM group and
// predicted spend tier itself, without saying how. The simulator gives
// plausible values the same way an RFM analysis would: recency, frequency
// and spend each scored 1–5 by the customer's percentile among the shop's
// customers with orders, then read through the descriptions of Shopify's
// CustomerRfmGroup values. A value set on the customer (a snapshot's)
// wins over the computed one.

// Shopify's CustomerRfmGroup values.
const (
	RFMChampions       = "CHAMPIONS"
	RFMLoyal           = "LOYAL"
	RFMActive          = "ACTIVE"
	RFMNeedsAttention  = "NEEDS_ATTENTION"
	RFMPromising       = "PROMISING"
	RFMNew             = "NEW"
	RFMAtRisk          = "AT_RISK"
	RFMAlmostLost      = "ALMOST_LOST"
	RFMPreviouslyLoyal = "PREVIOUSLY_LOYAL"
	RFMDormant         = "DORMANT"
	RFMProspects       = "PROSPECTS"
)

// customerStats is one customer's computed statistics.
type customerStats struct {
	rfmGroup, spendTier string
}

// statsCache keeps the statistics computed for one version of the orders:
// tag writes and new customers without orders do not change them.
type statsCache struct {
	mu      sync.Mutex
	version uint64
	valid   bool
	by      map[int64]customerStats
}

// statsOf returns the computed statistics of a customer; one without
// orders is a prospect with no spend tier.
func (st *store) statsOf(id int64, now time.Time) customerStats {
	c := &st.stats
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.valid || c.version != st.ordersVersion {
		c.by = computeStats(st.orders, now)
		c.version, c.valid = st.ordersVersion, true
	}
	if s, ok := c.by[id]; ok {
		return s
	}
	return customerStats{rfmGroup: RFMProspects}
}

type buyer struct {
	id      int64
	last    int64
	orders  int
	spent   float64
	r, f, m int
}

func computeStats(orders []orderRec, now time.Time) map[int64]customerStats {
	index := map[int64]int{}
	var buyers []buyer
	for i := range orders {
		o := &orders[i]
		if o.deleted || o.test || o.cancelled != 0 || o.customer == 0 {
			continue
		}
		k, ok := index[o.customer]
		if !ok {
			k = len(buyers)
			index[o.customer] = k
			buyers = append(buyers, buyer{id: o.customer})
		}
		b := &buyers[k]
		at := o.processed
		if at == 0 {
			at = o.created
		}
		b.last = max(b.last, at)
		b.orders++
		spent := o.total.Float64()
		for _, r := range o.refunds {
			spent -= r.amount.Float64()
		}
		b.spent += spent
	}
	nowUnix := now.Unix()
	percentileScores(buyers, func(b *buyer) float64 { return -float64(nowUnix - b.last) }, func(b *buyer, s int) { b.r = s })
	percentileScores(buyers, func(b *buyer) float64 { return float64(b.orders) }, func(b *buyer, s int) { b.f = s })
	percentileScores(buyers, func(b *buyer) float64 { return b.spent }, func(b *buyer, s int) { b.m = s })
	out := make(map[int64]customerStats, len(buyers))
	for i := range buyers {
		b := &buyers[i]
		out[b.id] = customerStats{rfmGroup: shopifyGroup(b.r, b.f, b.m), spendTier: spendTier(b.r, b.m)}
	}
	return out
}

// percentileScores gives each buyer 1 + ⌊5 × (share of buyers with a
// smaller value)⌋: ties share the lower score, as percentile ranks do.
func percentileScores(buyers []buyer, value func(*buyer) float64, set func(*buyer, int)) {
	n := len(buyers)
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		va, vb := value(&buyers[a]), value(&buyers[b])
		switch {
		case va < vb:
			return -1
		case va > vb:
			return 1
		}
		return 0
	})
	below := 0
	for i, k := range order {
		if i > 0 && value(&buyers[k]) != value(&buyers[order[i-1]]) {
			below = i
		}
		set(&buyers[k], 1+5*below/n)
	}
}

// shopifyGroup reads the descriptions of CustomerRfmGroup: "very recent"
// is R 5, "recent" R 4–5, R 3 still recent enough to need attention, and
// "without recent purchases" R 1–2.
func shopifyGroup(r, f, m int) string {
	switch {
	case r == 5 && f >= 4 && m >= 4:
		return RFMChampions
	case r >= 4 && f >= 4 && m >= 4:
		return RFMLoyal
	case r == 5 && f <= 2 && m <= 3:
		return RFMNew
	case r >= 4 && f <= 2:
		return RFMPromising
	case r >= 4:
		return RFMActive
	case r == 3:
		return RFMNeedsAttention
	case f >= 4 && m >= 4:
		return RFMPreviouslyLoyal
	case f >= 3 || m >= 4:
		return RFMAtRisk
	case r == 2:
		return RFMAlmostLost
	}
	return RFMDormant
}

// spendTier guesses the predicted spend from what the customer spent and
// whether they still buy: big spenders who are still around are HIGH,
// small or lapsed ones LOW.
func spendTier(r, m int) string {
	switch {
	case m >= 4 && r >= 3:
		return "HIGH"
	case m <= 2 || r <= 1:
		return "LOW"
	}
	return "MEDIUM"
}

// CustomerStatistics returns what Customer.statistics answers for a
// customer: the value set on the customer, or the computed one.
func (s *Simulator) CustomerStatistics(shop string, id int64) (rfmGroup, spendTier string, ok bool) {
	sh, found := s.shop(shop)
	if !found {
		return "", "", false
	}
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	i := sh.store.customerIndex(id)
	if i < 0 {
		return "", "", false
	}
	r := &sh.store.customers[i]
	computed := sh.store.statsOf(id, s.now())
	rfmGroup, spendTier = sh.store.strs.str(r.rfmGroup), sh.store.strs.str(r.spendTier)
	if rfmGroup == "" {
		rfmGroup = computed.rfmGroup
	}
	if spendTier == "" {
		spendTier = computed.spendTier
	}
	return rfmGroup, spendTier, true
}

// SetCustomerStatistics sets a customer's statistics the way Shopify's
// own recomputation does: without a webhook and without touching the
// customer's updatedAt, so only the next sync can notice.
func (s *Simulator) SetCustomerStatistics(shop string, id int64, rfmGroup, spendTier string) error {
	sh, err := s.mustShop(shop)
	if err != nil {
		return err
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	i := sh.store.customerIndex(id)
	if i < 0 {
		return fmt.Errorf("set statistics of customer %d of %s: no such customer", id, shop)
	}
	r := &sh.store.customers[i]
	r.rfmGroup, r.spendTier = sh.store.strs.id(rfmGroup), sh.store.strs.id(spendTier)
	return nil
}
