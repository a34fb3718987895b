package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/cvo-app/cvo/app/internal/wiring"
	"github.com/cvo-app/cvo/internal/fleet"
	"github.com/cvo-app/cvo/internal/shopgen"
	"github.com/cvo-app/cvo/internal/simulator"
)

// The demo's credentials protect nothing real: the demo talks only to the
// simulator, on loopback. They live in this command alone; cvo refuses
// them by their digests (wiring.IsDemoSecret) without carrying them.
const (
	demoClientID      = "cvo-demo-client"
	demoClientSecret  = "cvo-demo-secret-not-for-production"
	demoEncryptionKey = "v1:Y3ZvLWRlbW8ta2V5LW5vdC1mb3ItcHJvZHVjdGlvbiE=" // 32 bytes, demo only
	demoShop          = "cvo-demo.myshopify.com"
)

var demoCredentials = wiring.Credentials{ClientID: demoClientID, ClientSecret: demoClientSecret, EncryptionKey: demoEncryptionKey}

// toolCredentials is the policy of the tools that only talk to the
// simulator: the environment's credentials when set, else the demo's.
var toolCredentials = wiring.ToolCredentials(demoCredentials)

// runDemo is `cvodev demo`: the simulator with the demo shop beside the app
// as `cvo run` wires it, with built-in credentials, on loopback. It says
// DEMO before anything else.
func runDemo(ctx context.Context, log *slog.Logger) error {
	log.Warn("DEMO: built-in credentials, Shopify simulator, loopback only; not for real shops")
	cfg, err := wiring.LoadConfig(wiring.DemoCredentials(demoCredentials))
	if err != nil {
		return err
	}
	sim, err := newDemoSimulator(ctx, cfg, log, "")
	if err != nil {
		return err
	}
	defer sim.Close()
	fmt.Printf("\nDEMO: the app plays against its Shopify simulator with built-in credentials, on loopback.\n"+
		"Open %s/?shop=%s&embedded=1 in a browser.\n\n", cfg.AppURL, demoShop)
	return wiring.RunAll(ctx, log, cfg, func(ctx context.Context) error {
		return simulator.ListenAndServe(ctx, "127.0.0.1:"+cfg.SimulatorPort, sim)
	}, func(ctx context.Context) error {
		return seedDemoSurveys(ctx, cfg, log.With("component", "demo-surveys"))
	})
}

// defaultDemoData is the UCI Online Retail file beside the checkout.
const defaultDemoData = "../shared/data/online-retail/online_retail.csv.gz"

// demoGenerated, as DEMO_DATA, asks for a generated shop.
const demoGenerated = "generated"

// demoSource is which shop the demo plays and why: it is logged and shown
// in the page (as the shop's name), so nobody mistakes a generated or
// extracted shop for the full data set.
type demoSource struct {
	kind, path, why string
}

// pickDemoSource chooses the demo's data: DEMO_DATA when set (a file, or
// "generated"), else the full Online Retail file beside the checkout, else
// the extract bundled with cvodev.
func pickDemoSource(demoData string, exists func(string) bool) (demoSource, error) {
	switch {
	case demoData == demoGenerated:
		return demoSource{kind: "generated", why: "DEMO_DATA=generated"}, nil
	case demoData != "":
		if !exists(demoData) {
			return demoSource{}, fmt.Errorf("DEMO_DATA names %s, which is not a file", demoData)
		}
		return demoSource{kind: "online-retail", path: demoData, why: "DEMO_DATA names it"}, nil
	case exists(defaultDemoData):
		return demoSource{kind: "online-retail", path: defaultDemoData, why: "found beside the checkout"}, nil
	default:
		return demoSource{kind: "extract", why: defaultDemoData + " not found, so the extract bundled with cvodev"}, nil
	}
}

// shopName is the demo shop's name, which the page shows under each title.
func (d demoSource) shopName() string {
	switch d.kind {
	case "online-retail":
		return "CVO Demo Gift Shop · UCI Online Retail, full data"
	case "extract":
		return fmt.Sprintf("CVO Demo Gift Shop · UCI Online Retail extract (%d customers; full file not found)", shopgen.OnlineRetailExtractCustomers)
	default:
		return "CVO Demo · generated shop (not real trading data)"
	}
}

// newDemoSimulator starts a simulator playing the demo shop, seeded with the
// real Online Retail history (see pickDemoSource), or from a snapshot
// written by `cvodev gen` when load names one.
func newDemoSimulator(ctx context.Context, cfg wiring.Config, log *slog.Logger, load string) (*simulator.Simulator, error) {
	sim := simulator.New(simulator.Config{
		ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, AppURL: cfg.AppURL, APIVersion: cfg.APIVersion,
		Logger:    log.With("component", "simulator"),
		PublicURL: cfg.AdminOrigin,
	})
	started := time.Now()
	info := shopgen.OnlineRetailShop
	var (
		stats shopgen.Stats
		src   demoSource
		err   error
	)
	if load != "" {
		src = demoSource{kind: "snapshot", path: load, why: "-load names it"}
		if info, err = shopgen.SnapshotShop(load); err == nil {
			err = addShop(sim, info)
		}
		if err == nil {
			stats, err = shopgen.LoadSnapshot(ctx, load, shopgen.ForShop(sim, demoShop))
		}
	} else if src, err = pickDemoSource(os.Getenv("DEMO_DATA"), fileExists); err == nil {
		// The 2010–2011 history is moved forward by whole weeks so the demo
		// shop trades until this week: scored as of today, its customers are
		// as recent as they were on the data's last day.
		shift := shopgen.WeeksUntil(shopgen.OnlineRetailLastDay, time.Now())
		info.Name = src.shopName()
		switch src.kind {
		case "online-retail":
			if err = addShop(sim, info); err == nil {
				stats, err = shopgen.LoadOnlineRetail(ctx, src.path, shopgen.Shift(shopgen.ForShop(sim, demoShop), shift))
			}
		case "extract":
			log.Warn("demo: the full Online Retail file is not beside the checkout; loading the bundled extract", "path", defaultDemoData)
			if err = addShop(sim, info); err == nil {
				stats, err = shopgen.LoadOnlineRetailExtract(ctx, shopgen.Shift(shopgen.ForShop(sim, demoShop), shift))
			}
		default:
			now := time.Now().UTC().Truncate(24 * time.Hour)
			opts := shopgen.GenOptions{Customers: 4000, Orders: 20000, Seed: 1, Currency: "GBP", Timezone: "Europe/London", Name: src.shopName(),
				Start: now.AddDate(-2, 0, 0), End: now}
			if err = addShop(sim, opts.Shop()); err == nil {
				stats, err = shopgen.Generate(ctx, opts, shopgen.ForShop(sim, demoShop))
			}
		}
	}
	if err != nil {
		sim.Close()
		return nil, fmt.Errorf("seed demo shop: %w", err)
	}
	customers, orders, products := sim.Counts(demoShop)
	log.Info("demo shop seeded", "shop", demoShop, "source", src.kind, "path", src.path, "why", src.why,
		"customers", customers, "orders", orders, "products", products,
		"refunds", stats.Refunds, "seconds", time.Since(started).Seconds())
	return sim, nil
}

func addShop(sim *simulator.Simulator, info shopgen.ShopInfo) error {
	return sim.AddShop(demoShop, simulator.ShopOptions{Name: info.Name, Currency: info.Currency, Timezone: info.Timezone})
}

func fileExists(path string) bool {
	st, err := os.Stat(path)
	return err == nil && !st.IsDir()
}

// runSimulator is `cvodev simulator`: the simulator alone, for testing the app
// (or anything else) against a Shopify stand-in.
func runSimulator(ctx context.Context, log *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("simulator", flag.ContinueOnError)
	port := fs.String("port", wiring.EnvOr("SIMULATOR_PORT", "9100"), "port to listen on")
	shop := fs.String("shop", demoShop, "another, empty shop domain to play beside the demo shop")
	load := fs.String("load", "", "seed the demo shop from a snapshot written by `cvodev gen` instead of the Online Retail data")
	shops := fs.Int("shops", 0, "also play N generated shops, fleet-00.myshopify.com and up")
	faults := fs.String("faults", "", "answer a share of GraphQL requests with faults, e.g. throttle=0.2,5xx=0.05")
	if err := fs.Parse(args); err != nil {
		return err
	}
	f, err := simulator.ParseFaults(*faults)
	if err != nil {
		return err
	}
	cfg, err := wiring.LoadConfig(toolCredentials)
	if err != nil {
		return err
	}
	cfg.SimulatorPort = *port
	cfg.AdminOrigin = "http://127.0.0.1:" + *port
	sim, err := newDemoSimulator(ctx, cfg, log, *load)
	if err != nil {
		return err
	}
	defer sim.Close()
	if *shop != demoShop {
		if err := sim.AddShop(*shop, simulator.ShopOptions{}); err != nil {
			return err
		}
	}
	if *shops > 0 {
		if _, err := fleet.AddShops(ctx, sim, *shops, fleet.ShopSize{Customers: 200, Orders: 800}); err != nil {
			return err
		}
	}
	sim.SetFaults(f)
	log.Info("simulator listening", "addr", "127.0.0.1:"+*port, "client_id", cfg.ClientID)
	return simulator.ListenAndServe(ctx, "127.0.0.1:"+*port, sim)
}
