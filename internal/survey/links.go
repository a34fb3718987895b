package survey

import (
	"context"
	"fmt"
	"time"
)

// ActiveLister lists a shop's active surveys.
type ActiveLister interface {
	Active(ctx context.Context, shop string) ([]Survey, error)
}

// Linker makes the links the write-back puts into customers' metafields.
type Linker struct {
	Surveys ActiveLister
	Signer  *Signer
	AppURL  string
}

// ForShop returns, for the shop's active surveys at now, a function giving
// the link metafields one customer of a group should carry: key
// MetafieldKey(), value the URL of their link, for each active survey that
// targets the group. The function is nil when no survey is active.
func (l Linker) ForShop(ctx context.Context, shop string, now time.Time) (func(customerID int64, group string) map[string]string, error) {
	active, err := l.Surveys.Active(ctx, shop)
	if err != nil {
		return nil, fmt.Errorf("survey links of %s: %w", shop, err)
	}
	if len(active) == 0 {
		return nil, nil
	}
	type target struct {
		id      int64
		key     string
		expires int64
	}
	byGroup := map[string][]target{}
	for _, sv := range active {
		t := target{id: sv.ID, key: sv.MetafieldKey(), expires: LinkExpiry(now, sv.LinkDays)}
		for _, g := range sv.Groups {
			byGroup[g] = append(byGroup[g], t)
		}
	}
	return func(customerID int64, group string) map[string]string {
		ts := byGroup[group]
		if len(ts) == 0 || customerID <= 0 {
			return nil
		}
		out := make(map[string]string, len(ts))
		for _, t := range ts {
			out[t.key] = URL(l.AppURL, l.Signer.Sign(shop, Link{SurveyID: t.id, CustomerID: customerID, ExpiresDay: t.expires}))
		}
		return out
	}, nil
}
