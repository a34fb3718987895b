package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// config is read from the environment, with the names Shopify's own app
// templates use. The README documents each one with its default.
type config struct {
	ClientID       string // SHOPIFY_API_KEY
	ClientSecret   string // SHOPIFY_API_SECRET
	AppURL         string // SHOPIFY_APP_URL
	Scopes         string // SCOPES
	APIVersion     string // SHOPIFY_API_VERSION
	AdminOrigin    string // SHOPIFY_ADMIN_ORIGIN: send Admin API traffic here instead of https://{shop}
	DatabaseURL    string // DATABASE_URL
	RedisURL       string // REDIS_URL
	QueueNamespace string // QUEUE_NAMESPACE: prefix of the job queues, so deployments can share a Redis
	EncryptionKey  string // ENCRYPTION_KEY
	Port           string // PORT
	SimulatorPort  string // SIMULATOR_PORT (demo only)
	// Retention is how long webhook payloads and data-request exports are
	// kept (DATA_RETENTION_DAYS).
	Retention time.Duration

	// WorkerConcurrency is how many jobs a worker runs at once
	// (WORKER_CONCURRENCY); its pool follows from it (postgres.WorkerPoolSize).
	WorkerConcurrency int
	WorkerHealthAddr  string // WORKER_HEALTH_ADDR: the worker's own /healthz ("" in tests: none)

	// Demo is true only for `cvo demo`: the app plays against its simulator
	// with built-in credentials, on loopback.
	Demo bool
}

const (
	defaultScopes     = "read_customers,write_customers,read_orders,read_all_orders,read_products,read_inventory"
	defaultAPIVersion = "2026-10"
	demoClientID      = "cvo-demo-client"
	// The demo's secret and key protect nothing real: the demo talks only to
	// the in-process simulator, on loopback. No other command uses them.
	demoClientSecret  = "cvo-demo-secret-not-for-production"
	demoEncryptionKey = "v1:Y3ZvLWRlbW8ta2V5LW5vdC1mb3ItcHJvZHVjdGlvbiE=" // 32 bytes, demo only
	demoShop          = "cvo-demo.myshopify.com"

	defaultWorkerConcurrency = 4
)

// How a command may fill in missing credentials.
type credentialPolicy int

const (
	// requireCredentials fails closed: serve, worker, migrate and run serve
	// real merchants and must never fall back on a secret anyone can read.
	requireCredentials credentialPolicy = iota
	// demoCredentials is `cvo demo` alone: the built-in credentials, always.
	demoCredentials
	// toolCredentials is for the tools that only ever talk to the simulator
	// (simulator, benchmarks): the environment's credentials when set, so
	// they can play against a real deployment's processes, else the demo's.
	toolCredentials
)

func loadConfig(policy credentialPolicy) (config, error) {
	c := config{
		ClientID:         os.Getenv("SHOPIFY_API_KEY"),
		ClientSecret:     os.Getenv("SHOPIFY_API_SECRET"),
		AppURL:           os.Getenv("SHOPIFY_APP_URL"),
		Scopes:           envOr("SCOPES", defaultScopes),
		APIVersion:       envOr("SHOPIFY_API_VERSION", defaultAPIVersion),
		AdminOrigin:      os.Getenv("SHOPIFY_ADMIN_ORIGIN"),
		DatabaseURL:      envOr("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cvo?sslmode=disable"),
		RedisURL:         envOr("REDIS_URL", "redis://127.0.0.1:6379/0"),
		QueueNamespace:   os.Getenv("QUEUE_NAMESPACE"),
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
	useDemo := policy == demoCredentials ||
		(policy == toolCredentials && c.ClientID == "" && c.ClientSecret == "")
	if useDemo {
		c.Demo = policy == demoCredentials
		c.ClientID, c.ClientSecret, c.EncryptionKey = demoClientID, demoClientSecret, demoEncryptionKey
		if c.AdminOrigin == "" {
			c.AdminOrigin = "http://127.0.0.1:" + c.SimulatorPort
		}
	}
	days, err := strconv.Atoi(envOr("DATA_RETENTION_DAYS", "30"))
	if err != nil || days < 1 || days > 3650 {
		return c, fmt.Errorf("DATA_RETENTION_DAYS must be a whole number of days from 1 to 3650")
	}
	c.Retention = time.Duration(days) * 24 * time.Hour
	if c.AppURL == "" {
		c.AppURL = "http://localhost:" + c.Port
	}
	c.AppURL = strings.TrimRight(c.AppURL, "/")
	var missing []string
	for _, v := range []struct{ name, value string }{
		{"SHOPIFY_API_KEY", c.ClientID}, {"SHOPIFY_API_SECRET", c.ClientSecret}, {"ENCRYPTION_KEY", c.EncryptionKey},
	} {
		if v.value == "" {
			missing = append(missing, v.name)
		}
	}
	if len(missing) > 0 {
		return c, fmt.Errorf("%s not set: this command serves real shops and will not start without the app's credentials "+
			"and an encryption key (see README, Configuration); for a demo against the simulator run `cvo demo` (make run does when none are set)",
			strings.Join(missing, ", "))
	}
	if !useDemo && (c.ClientSecret == demoClientSecret || c.EncryptionKey == demoEncryptionKey) {
		return c, fmt.Errorf("the demo's built-in secret or encryption key is set in the environment: they are public and only `cvo demo` may use them")
	}
	return c, nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
