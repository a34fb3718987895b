package shopgen

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/scoring"
	"github.com/cvo-app/cvo/internal/simulator"
)

// domainSink turns the demo shop into the domain types the scoring reads,
// as the sync would store them.
type domainSink struct {
	customers []cvo.Customer
	orders    []cvo.Order
}

func (s *domainSink) AddProducts([]simulator.Product) error { return nil }

func (s *domainSink) AddCustomers(cs []simulator.Customer) error {
	for _, c := range cs {
		s.customers = append(s.customers, cvo.Customer{ID: strconv.FormatInt(c.ID, 10), CreatedAt: c.CreatedAt})
	}
	return nil
}

func (s *domainSink) AddOrders(os []simulator.Order) error {
	for _, o := range os {
		d := cvo.Order{ID: strconv.FormatInt(o.ID, 10), CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt, Total: o.Total.Float64(),
			Currency: "GBP", Cancelled: !o.CancelledAt.IsZero(), Test: o.Test, DiscountCodes: o.DiscountCodes}
		if o.CustomerID != 0 {
			d.CustomerID = strconv.FormatInt(o.CustomerID, 10)
		}
		for _, r := range o.Refunds {
			d.Refunds = append(d.Refunds, cvo.Refund{CreatedAt: r.CreatedAt, Amount: r.Amount.Float64()})
		}
		s.orders = append(s.orders, d)
	}
	return nil
}

// TestDemoScoresUseEveryLevel scores the demo shop (UCI Online Retail) as
// the app does and checks that R, F and M each fill levels 1–5: before the
// tie rule, F had no level 5 on this data because a third of the customers
// bought once and the nearest-quantile cuts merged.
func TestDemoScoresUseEveryLevel(t *testing.T) {
	if testing.Short() {
		t.Skip("reads the whole Online Retail file")
	}
	if _, err := os.Stat(onlineRetailPath); err != nil {
		t.Skipf("the full Online Retail file is not beside the checkout: %v", err)
	}
	sink := &domainSink{}
	_, err := LoadOnlineRetail(context.Background(), onlineRetailPath, sink)
	require.NoError(t, err)
	asOf := OnlineRetailLastDay.Add(24*time.Hour - time.Second)
	res, err := scoring.Score(context.Background(), sink.customers, sink.orders, scoring.Settings{AsOf: asOf, Location: time.UTC})
	require.NoError(t, err)

	var perLevel [3][6]int
	for _, c := range res.Customers {
		perLevel[0][c.R]++
		perLevel[1][c.F]++
		perLevel[2][c.M]++
	}
	for k, s := range []struct {
		name   string
		levels int
		shares []float64
	}{{"R", res.RFM.R.Levels, res.RFM.R.Shares}, {"F", res.RFM.F.Levels, res.RFM.F.Shares}, {"M", res.RFM.M.Levels, res.RFM.M.Shares}} {
		assert.Equal(t, 5, s.levels, "%s levels", s.name)
		for level := 1; level <= 5; level++ {
			assert.Positive(t, perLevel[k][level], "%s %d is empty", s.name, level)
		}
		t.Logf("%s shares %.3f (customers per level %v)", s.name, s.shares, perLevel[k][1:])
	}
	for _, g := range res.Groups {
		t.Logf("%-18s %5d customers, %d repeat", g.Name, g.Customers, g.RepeatCustomers)
	}
	t.Logf("R: %s", res.RFM.R.Reason)
	t.Logf("F: %s", res.RFM.F.Reason)
	t.Logf("M: %s", res.RFM.M.Reason)
}
