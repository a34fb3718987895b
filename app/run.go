package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"

	"golang.org/x/sync/errgroup"

	"github.com/cvo-app/cvo/internal/simulator"
)

// runAll is `make run`: migrate, then serve and work in one process. With no
// Shopify credentials it also starts the simulator with a demo shop.
func runAll(ctx context.Context, log *slog.Logger) error {
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	if err := migrate(ctx); err != nil {
		return err
	}
	a, err := openApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.close()

	g, ctx := errgroup.WithContext(ctx)
	if cfg.Demo {
		sim, err := newDemoSimulator(cfg, log)
		if err != nil {
			return err
		}
		defer sim.Close()
		g.Go(func() error { return simulator.ListenAndServe(ctx, "127.0.0.1:"+cfg.SimulatorPort, sim) })
		fmt.Printf("\nDemo mode: no Shopify credentials set, so the app plays against its Shopify simulator.\n"+
			"Open %s/?shop=%s&embedded=1 in a browser.\n\n", cfg.AppURL, demoShop)
	}
	g.Go(func() error { return a.serve(ctx) })
	g.Go(func() error { return a.work(ctx) })
	return g.Wait()
}

func newDemoSimulator(cfg config, log *slog.Logger) (*simulator.Simulator, error) {
	sim := simulator.New(simulator.Config{
		ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, AppURL: cfg.AppURL, APIVersion: cfg.APIVersion,
		Logger:    log.With("component", "simulator"),
		PublicURL: cfg.AdminOrigin,
	})
	if err := sim.AddShop(demoShop, simulator.ShopOptions{Name: "CVO Demo Gift Shop", Currency: "GBP", Timezone: "Europe/London"}); err != nil {
		return nil, fmt.Errorf("add demo shop: %w", err)
	}
	return sim, nil
}

// runSimulator is `cvo simulator`: the simulator alone, for testing the app
// (or anything else) against a Shopify stand-in.
func runSimulator(ctx context.Context, log *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("simulator", flag.ContinueOnError)
	port := fs.String("port", envOr("SIMULATOR_PORT", "9100"), "port to listen on")
	shop := fs.String("shop", demoShop, "shop domain to play")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	cfg.SimulatorPort = *port
	sim, err := newDemoSimulator(cfg, log)
	if err != nil {
		return err
	}
	defer sim.Close()
	if *shop != demoShop {
		if err := sim.AddShop(*shop, simulator.ShopOptions{}); err != nil {
			return err
		}
	}
	log.Info("simulator listening", "addr", "127.0.0.1:"+*port, "client_id", cfg.ClientID)
	return simulator.ListenAndServe(ctx, "127.0.0.1:"+*port, sim)
}

// notYet stands in for capabilities that later work adds.
type notYet struct{}

var errNotYet = errors.New("not available yet")

func (notYet) SyncShop(context.Context, string) error             { return errNotYet }
func (notYet) ApplyWebhook(context.Context, string, string) error { return errNotYet }
