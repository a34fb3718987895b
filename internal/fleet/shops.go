package fleet

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/cvo-app/cvo/internal/shopgen"
	"github.com/cvo-app/cvo/internal/simulator"
)

// ShopName is the fleet's i-th shop, named by host as the simulator serves
// it.
func ShopName(i int) string { return fmt.Sprintf("fleet-%02d.myshopify.com", i) }

// ShopSize is how much history each generated shop has.
type ShopSize struct {
	Customers, Orders int
}

// zones give the fleet's shops different currencies and local days, so a
// mix-up between shops shows in their numbers.
var zones = []struct{ currency, timezone string }{
	{"USD", "America/New_York"}, {"EUR", "Europe/Paris"}, {"GBP", "Europe/London"},
	{"JPY", "Asia/Tokyo"}, {"AUD", "Australia/Sydney"}, {"CAD", "America/Vancouver"},
}

// AddShops adds n generated shops to the simulator, each with its own seed,
// currency and timezone, two years of history up to yesterday.
func AddShops(ctx context.Context, sim *simulator.Simulator, n int, size ShopSize) ([]string, error) {
	now := time.Now().UTC()
	names := make([]string, n)
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(2)
	for i := range n {
		names[i] = ShopName(i)
		z := zones[i%len(zones)]
		opts := shopgen.GenOptions{Customers: size.Customers, Orders: size.Orders, Seed: int64(1000 + i),
			Currency: z.currency, Timezone: z.timezone, Name: fmt.Sprintf("Fleet shop %02d", i),
			Products: 200, Workers: 1, Start: now.AddDate(-2, 0, 0), End: now.AddDate(0, 0, -1)}
		info := opts.Shop()
		if err := sim.AddShop(names[i], simulator.ShopOptions{Name: info.Name, Currency: info.Currency, Timezone: info.Timezone}); err != nil {
			return nil, err
		}
		g.Go(func() error {
			if _, err := shopgen.Generate(ctx, opts, shopgen.ForShop(sim, names[i])); err != nil {
				return fmt.Errorf("generate %s: %w", names[i], err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return names, nil
}
