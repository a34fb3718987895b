package rescore

import (
	"context"
	"fmt"
	"runtime/debug"
	"slices"
	"time"

	"github.com/cvo-app/cvo/internal/cvo"
	"github.com/cvo-app/cvo/internal/ledger"
	"github.com/cvo-app/cvo/internal/scoring"
)

// counter is what a History may offer to size the scoring up front.
type counter interface {
	Counts(ctx context.Context, shop string) (customers, orders int64, err error)
}

// streamer is what a History may offer to stream orders without an
// allocation per order (the builder copies what it keeps).
type streamer interface {
	StreamOrders(ctx context.Context, shop string, fn func(*cvo.Order) error) error
}

// summedReader is what a History may offer to read orders with their
// lines summed, reading lines one by one only where the ledger wants them
// (postgres.OrderStore.ReadSummedOrders).
type summedReader interface {
	ReadSummedOrders(ctx context.Context, shop string, into *ledger.Builder) error
}

// ShopScorer scores a shop with internal/scoring, streaming its history
// from storage into the scoring builder.
type ShopScorer struct{}

// Score implements Scorer.
func (ShopScorer) Score(ctx context.Context, in Input) (Scores, *scoring.Aggregates, error) {
	// Sizing the builder up front spares a million-customer shop the
	// repeated copying of a growing slice of five million orders.
	size := in.Size
	if c, ok := in.History.(counter); ok && !size.Counted {
		if customers, orders, err := c.Counts(ctx, in.Shop.Domain); err == nil {
			size = Size{Customers: customers, Orders: orders, Counted: true}
		}
	}
	b := scoring.NewBuilder(int(size.Customers), int(size.Orders))
	if err := in.History.ShopCustomers(ctx, in.Shop.Domain, func(c cvo.Customer) error { b.AddCustomer(c); return nil }); err != nil {
		return nil, nil, fmt.Errorf("load customers: %w", err)
	}
	// The previous groups go into the scoring's ledger, a byte a
	// customer.
	if in.PreviousGroups != nil {
		if err := in.PreviousGroups(ctx, b.AddPreviousGroupDecimal); err != nil {
			return nil, nil, fmt.Errorf("load previous groups: %w", err)
		}
	}
	var err error
	if r, ok := in.History.(summedReader); ok {
		err = r.ReadSummedOrders(ctx, in.Shop.Domain, b.OrderBuilder())
	} else if st, ok := in.History.(streamer); ok {
		err = st.StreamOrders(ctx, in.Shop.Domain, func(o *cvo.Order) error { b.AddOrder(o); return nil })
	} else {
		err = in.History.ShopOrders(ctx, in.Shop.Domain, func(o cvo.Order) error { b.AddOrder(&o); return nil })
	}
	if err != nil {
		return nil, nil, fmt.Errorf("load orders: %w", err)
	}
	settings := scoring.DefaultSettings(in.AsOf)
	if loc, err := time.LoadLocation(in.Shop.Timezone); err == nil && in.Shop.Timezone != "" {
		settings.Location = loc
	}
	settings.RefundDating = in.Settings.RefundDating
	settings.CAC = in.Settings.CAC
	settings.CACBySource = in.Settings.CACBySource
	settings.DefaultMarginRate = in.Settings.DefaultMargin
	settings.WindowDays = in.Settings.PredictionWindowDays
	settings.Churn = scoring.ChurnThresholds{High: in.Settings.ChurnRiskHigh, Medium: in.Settings.ChurnRiskMedium}
	res, err := b.Score(ctx, settings)
	if err != nil {
		return nil, nil, err
	}
	agg := &scoring.Aggregates{Result: res}
	agg.CountGrid()
	scores := newScoredRows(res.Customers, settings.Location)
	// The aggregates are stored without the per-customer rows, which the
	// scores carry.
	res.Customers = nil
	if scoring.BigShop(int(size.Orders)) {
		// What the scoring left is garbage the collector's goal still
		// stands on: the write would grow the process past it (a
		// million-customer rescore's RSS rose from 580 to 850 MiB while
		// it wrote) instead of into it.
		debug.FreeOSMemory()
	}
	return scores, agg, nil
}

// scoredRows are a scoring's customers as the snapshot's rows, each made
// when it is read: a slice of them made up front held a million-customer
// shop's scores twice (152 MB beside 184) where the job peaked.
type scoredRows struct {
	customers []scoring.CustomerScore
	// valid lists the customers with a group, when some have none (nil:
	// all have one).
	valid []int32
	loc   *time.Location
}

// newScoredRows makes the rows of the customers that have a group.
func newScoredRows(customers []scoring.CustomerScore, loc *time.Location) scoredRows {
	s := scoredRows{customers: customers, loc: loc}
	if !slices.ContainsFunc(customers, func(c scoring.CustomerScore) bool { return !c.Group.Valid() }) {
		return s
	}
	// Rare (a group this version cannot name): only then are the rows
	// with a group listed.
	s.valid = []int32{}
	for i := range customers {
		if customers[i].Group.Valid() {
			s.valid = append(s.valid, int32(i))
		}
	}
	return s
}

func (s scoredRows) Len() int {
	if s.valid != nil {
		return len(s.valid)
	}
	return len(s.customers)
}

func (s scoredRows) Row(i int) cvo.CustomerScore {
	if s.valid != nil {
		i = int(s.valid[i])
	}
	c := &s.customers[i]
	row := cvo.CustomerScore{
		CustomerID: c.CustomerID, Group: c.Group.Slug(), R: int(c.R), F: int(c.F), M: int(c.M), Orders: int(c.Orders),
		Revenue: c.Revenue, HistoricalCLV: c.HistoricalCLV, PredictedCLV: c.PredictedCLV, PAlive: c.PAlive,
		ExpectedOrders: c.ExpectedOrders, POrderWindow: c.POrderWindow, ChurnRisk: c.ChurnRisk.String(),
	}
	if c.HasNextOrder {
		// In the shop's zone, whose midnight it is: the snapshot keeps
		// its date.
		row.NextOrderAt = time.Unix(c.NextOrder, 0).In(s.loc)
	}
	return row
}
