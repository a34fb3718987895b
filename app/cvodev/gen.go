package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/cvo-app/cvo/internal/shopgen"
)

// runGen is `cvodev gen`: write a generated shop (or the Online Retail demo
// shop) as a snapshot for `cvodev simulator`, or its orders as CSV for
// `cvo score`.
func runGen(ctx context.Context, log *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	customers := fs.Int("customers", 10000, "customers to generate")
	orders := fs.Int("orders", 50000, "orders to generate, guest orders included (about 5 %)")
	seed := fs.Int64("seed", 1, "random seed: the same flags give the same shop")
	start := fs.String("start", "2024-01-01", "first day of the shop's history (YYYY-MM-DD, UTC)")
	end := fs.String("end", "2026-01-01", "day the history ends, exclusive (YYYY-MM-DD, UTC)")
	currency := fs.String("currency", "USD", "shop currency (USD, GBP or EUR pick customer countries)")
	timezone := fs.String("timezone", "UTC", "shop time zone (IANA name)")
	products := fs.Int("products", 2000, "catalogue size")
	retail := fs.String("online-retail", "", "instead of generating, convert this Online Retail .csv.gz into the demo shop")
	csvPath := fs.String("csv", "", "write orders with customers as CSV here (customer_id,order_id,created_at,total,...); - = stdout")
	out := fs.String("out", "", "write a gzip JSONL snapshot here, for cvodev simulator --load (default shop.jsonl.gz without --csv)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: cvodev gen [--customers N --orders M --seed S] [--csv orders.csv] [--out shop.jsonl.gz]\n")
		fs.PrintDefaults()
	}
	purchasesOnly := fs.Bool("purchases-only", false, "CSV: leave out test, cancelled and fully refunded orders (cvo score reads every row)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return fmt.Errorf("gen: %w", err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("gen: unexpected argument %q", fs.Arg(0))
	}
	if *csvPath == "" && *out == "" {
		*out = "shop.jsonl.gz"
	}
	opts := shopgen.GenOptions{
		Customers: *customers, Orders: *orders, Seed: *seed, Currency: *currency, Timezone: *timezone, Products: *products,
	}
	var err error
	if opts.Start, err = time.Parse(time.DateOnly, *start); err != nil {
		return fmt.Errorf("gen: --start: %w", err)
	}
	if opts.End, err = time.Parse(time.DateOnly, *end); err != nil {
		return fmt.Errorf("gen: --end: %w", err)
	}
	shop := opts.Shop()
	if *retail != "" {
		shop = shopgen.OnlineRetailShop
	}

	var sinks []shopgen.Sink
	var finish []func() error
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			return fmt.Errorf("gen: %w", err)
		}
		defer f.Close()
		snap, err := shopgen.NewSnapshotWriter(f, shop)
		if err != nil {
			return fmt.Errorf("gen: %w", err)
		}
		sinks = append(sinks, snap)
		finish = append(finish, snap.Close, f.Close)
	}
	if *csvPath != "" {
		var w io.Writer = os.Stdout
		closeFile := func() error { return nil }
		if *csvPath != "-" {
			f, err := os.Create(*csvPath)
			if err != nil {
				return fmt.Errorf("gen: %w", err)
			}
			defer f.Close()
			w, closeFile = f, f.Close
		}
		csvw := shopgen.NewOrderCSVWriter(w)
		csvw.PurchasesOnly = *purchasesOnly
		sinks = append(sinks, csvw)
		finish = append(finish, csvw.Flush, closeFile)
	}

	began := time.Now()
	var st shopgen.Stats
	if *retail != "" {
		st, err = shopgen.LoadOnlineRetail(ctx, *retail, shopgen.Tee(sinks...))
	} else {
		st, err = shopgen.Generate(ctx, opts, shopgen.Tee(sinks...))
	}
	if err != nil {
		return fmt.Errorf("gen: %w", err)
	}
	var errs []error
	for _, f := range finish {
		errs = append(errs, f())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("gen: %w", err)
	}
	log.Info("shop written", "shop", shop.Name, "snapshot", *out, "csv", *csvPath,
		"products", st.Products, "customers", st.Customers, "orders", st.Orders, "guest_orders", st.GuestOrders,
		"refunds", st.Refunds, "cancelled", st.CancelledOrders, "test", st.TestOrders,
		"skipped_rows", st.SkippedRows(), "elapsed", time.Since(began).Round(time.Millisecond).String())
	return nil
}
