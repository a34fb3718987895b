package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// config is read from the environment, with the names Shopify's own app
// templates use. The README documents each one with its default.
type config struct {
	ClientID      string // SHOPIFY_API_KEY
	ClientSecret  string // SHOPIFY_API_SECRET
	AppURL        string // SHOPIFY_APP_URL
	Scopes        string // SCOPES
	APIVersion    string // SHOPIFY_API_VERSION
	AdminOrigin   string // SHOPIFY_ADMIN_ORIGIN: send Admin API traffic here instead of https://{shop}
	DatabaseURL   string // DATABASE_URL
	RedisURL      string // REDIS_URL
	EncryptionKey string // ENCRYPTION_KEY
	Port          string // PORT
	SimulatorPort string // SIMULATOR_PORT (demo only)

	// WorkerConcurrency is how many jobs a worker runs at once
	// (WORKER_CONCURRENCY); its pool follows from it (postgres.WorkerPoolSize).
	WorkerConcurrency int
	WorkerHealthAddr  string // WORKER_HEALTH_ADDR: the worker's own /healthz ("" in tests: none)

	// Demo is true when no Shopify credentials are configured: the app
	// starts the simulator with a demo shop and plays against it.
	Demo bool
}

const (
	defaultScopes     = "read_customers,write_customers,read_orders,read_all_orders,read_products,read_inventory"
	defaultAPIVersion = "2026-10"
	demoClientID      = "cvo-demo-client"
	// The demo's secret and key protect nothing real: the demo talks only to
	// the in-process simulator. Real deployments must set their own.
	demoClientSecret  = "cvo-demo-secret-not-for-production"
	demoEncryptionKey = "v1:Y3ZvLWRlbW8ta2V5LW5vdC1mb3ItcHJvZHVjdGlvbiE=" // 32 bytes, demo only
	demoShop          = "cvo-demo.myshopify.com"

	defaultWorkerConcurrency = 4
)

func loadConfig() (config, error) {
	c := config{
		ClientID:         os.Getenv("SHOPIFY_API_KEY"),
		ClientSecret:     os.Getenv("SHOPIFY_API_SECRET"),
		AppURL:           os.Getenv("SHOPIFY_APP_URL"),
		Scopes:           envOr("SCOPES", defaultScopes),
		APIVersion:       envOr("SHOPIFY_API_VERSION", defaultAPIVersion),
		AdminOrigin:      os.Getenv("SHOPIFY_ADMIN_ORIGIN"),
		DatabaseURL:      envOr("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cvo?sslmode=disable"),
		RedisURL:         envOr("REDIS_URL", "redis://127.0.0.1:6379/0"),
		EncryptionKey:    os.Getenv("ENCRYPTION_KEY"),
		Port:             envOr("PORT", "8080"),
		SimulatorPort:    envOr("SIMULATOR_PORT", "9100"),
		WorkerHealthAddr: envOr("WORKER_HEALTH_ADDR", "127.0.0.1:8081"),
	}
	n, err := strconv.Atoi(envOr("WORKER_CONCURRENCY", strconv.Itoa(defaultWorkerConcurrency)))
	if err != nil || n < 1 || n > 256 {
		return c, fmt.Errorf("WORKER_CONCURRENCY must be a whole number from 1 to 256")
	}
	c.WorkerConcurrency = n
	if c.ClientID == "" && c.ClientSecret == "" {
		c.Demo = true
		c.ClientID, c.ClientSecret = demoClientID, demoClientSecret
		if c.EncryptionKey == "" {
			c.EncryptionKey = demoEncryptionKey
		}
		if c.AdminOrigin == "" {
			c.AdminOrigin = "http://127.0.0.1:" + c.SimulatorPort
		}
	}
	if c.AppURL == "" {
		c.AppURL = "http://localhost:" + c.Port
	}
	c.AppURL = strings.TrimRight(c.AppURL, "/")
	switch {
	case c.ClientID == "" || c.ClientSecret == "":
		return c, fmt.Errorf("set both SHOPIFY_API_KEY and SHOPIFY_API_SECRET, or neither for the demo")
	case c.EncryptionKey == "":
		return c, fmt.Errorf("ENCRYPTION_KEY is required: a base64 32-byte key (see README)")
	}
	return c, nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
