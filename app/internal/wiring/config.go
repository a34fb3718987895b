// Package wiring is the composition both commands share: the configuration
// read from the environment and the app (server and worker) built from it.
// cmd cvo (app/) uses it to serve merchants; cvodev (app/cvodev) to run the
// same app against its simulator. It holds no simulator, generator or
// benchmark code, and no built-in credentials: only cvodev has those.
package wiring

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// Config is read from the environment, with the names Shopify's own app
// templates use. The README documents each one with its default.
type Config struct {
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
	// WorkerMemoryBudget bounds, in bytes, the memory of the rescores a
	// worker runs at once; its Go memory limit is a quarter above it
	// (WORKER_MEMORY_BUDGET, e.g. 4GiB; default: three quarters of the
	// memory the process may use).
	WorkerMemoryBudget int64

	// TrustedProxies are the proxies in front of the server
	// (TRUSTED_PROXIES: comma-separated CIDRs or addresses), whose
	// X-Forwarded-For names the customer the survey page limits.
	TrustedProxies []*net.IPNet

	// Demo is true only for `cvodev demo`: the app plays against its
	// simulator with built-in credentials, on loopback.
	Demo bool
}

// Defaults of the settings the README documents.
const (
	DefaultScopes            = "read_customers,write_customers,read_orders,read_all_orders,read_products,read_inventory"
	DefaultAPIVersion        = "2026-10"
	DefaultWorkerConcurrency = 4
)

// The SHA-256 digests of the demo's public secret and encryption key
// (cvodev holds them): the served binary refuses them without carrying
// them. cvodev's tests keep these in step with its constants.
const (
	demoSecretDigest = "2b79e41284a15d54cf6fe72b6d16c65e0e23824e5e3414f19e28d2b6c4b15f9c"
	demoKeyDigest    = "d2a68c4f4580c37061a7a5aeebcea3f2ee33b2fc875f5693f4f744419c4863e1"
)

// Credentials are what the app signs, verifies and seals with.
type Credentials struct {
	ClientID, ClientSecret, EncryptionKey string
}

// Policy says how a command may fill in missing credentials.
type Policy struct {
	builtin *Credentials
	always  bool
}

// RequireCredentials fails closed: serve, worker, migrate and run serve
// real merchants and must never fall back on a secret anyone can read.
var RequireCredentials = Policy{}

// DemoCredentials is `cvodev demo` alone: these built-in credentials,
// always, and the app in demo mode (loopback, simulator).
func DemoCredentials(c Credentials) Policy { return Policy{builtin: &c, always: true} }

// ToolCredentials is for the tools that only ever talk to the simulator
// (simulator, benchmarks): the environment's credentials when set, so they
// can play against a real deployment's processes, else these.
func ToolCredentials(c Credentials) Policy { return Policy{builtin: &c} }

// IsDemoSecret says whether a secret or key is the demo's public one.
func IsDemoSecret(v string) bool {
	sum := sha256.Sum256([]byte(v))
	d := hex.EncodeToString(sum[:])
	return d == demoSecretDigest || d == demoKeyDigest
}

// LoadConfig reads the environment under a credential policy.
func LoadConfig(policy Policy) (Config, error) {
	c := Config{
		ClientID:         os.Getenv("SHOPIFY_API_KEY"),
		ClientSecret:     os.Getenv("SHOPIFY_API_SECRET"),
		AppURL:           os.Getenv("SHOPIFY_APP_URL"),
		Scopes:           EnvOr("SCOPES", DefaultScopes),
		APIVersion:       EnvOr("SHOPIFY_API_VERSION", DefaultAPIVersion),
		AdminOrigin:      os.Getenv("SHOPIFY_ADMIN_ORIGIN"),
		DatabaseURL:      EnvOr("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cvo?sslmode=disable"),
		RedisURL:         EnvOr("REDIS_URL", "redis://127.0.0.1:6379/0"),
		QueueNamespace:   os.Getenv("QUEUE_NAMESPACE"),
		EncryptionKey:    os.Getenv("ENCRYPTION_KEY"),
		Port:             EnvOr("PORT", "8080"),
		SimulatorPort:    EnvOr("SIMULATOR_PORT", "9100"),
		WorkerHealthAddr: EnvOr("WORKER_HEALTH_ADDR", "127.0.0.1:8081"),
	}
	n, err := strconv.Atoi(EnvOr("WORKER_CONCURRENCY", strconv.Itoa(DefaultWorkerConcurrency)))
	if err != nil || n < 1 || n > 256 {
		return c, fmt.Errorf("WORKER_CONCURRENCY must be a whole number from 1 to 256")
	}
	c.WorkerConcurrency = n
	if c.WorkerMemoryBudget, err = memoryBudget(os.Getenv("WORKER_MEMORY_BUDGET")); err != nil {
		return c, err
	}
	useBuiltin := policy.builtin != nil && (policy.always || (c.ClientID == "" && c.ClientSecret == ""))
	if useBuiltin {
		c.Demo = policy.always
		c.ClientID, c.ClientSecret, c.EncryptionKey = policy.builtin.ClientID, policy.builtin.ClientSecret, policy.builtin.EncryptionKey
		if c.AdminOrigin == "" {
			c.AdminOrigin = "http://127.0.0.1:" + c.SimulatorPort
		}
	}
	days, err := strconv.Atoi(EnvOr("DATA_RETENTION_DAYS", "30"))
	if err != nil || days < 1 || days > 3650 {
		return c, fmt.Errorf("DATA_RETENTION_DAYS must be a whole number of days from 1 to 3650")
	}
	c.Retention = time.Duration(days) * 24 * time.Hour
	if c.TrustedProxies, err = parseProxies(os.Getenv("TRUSTED_PROXIES")); err != nil {
		return c, err
	}
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
			"and an encryption key (see README, Configuration); for a demo against the simulator run `cvodev demo` (make run does when none are set)",
			strings.Join(missing, ", "))
	}
	if !useBuiltin && (IsDemoSecret(c.ClientSecret) || IsDemoSecret(c.EncryptionKey)) {
		return c, fmt.Errorf("the demo's built-in secret or encryption key is set in the environment: they are public and only `cvodev demo` may use them")
	}
	return c, nil
}

// EnvOr is the environment variable name, or def when it is unset or empty.
func EnvOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// parseProxies reads TRUSTED_PROXIES: CIDRs ("10.0.0.0/8") or single
// addresses, separated by commas.
func parseProxies(v string) ([]*net.IPNet, error) {
	var out []*net.IPNet
	for _, f := range strings.Split(v, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			ip := net.ParseIP(f)
			if ip == nil {
				return nil, fmt.Errorf("TRUSTED_PROXIES: %q is no address or CIDR", f)
			}
			bits := 8 * len(ip.To16())
			if ip4 := ip.To4(); ip4 != nil {
				ip, bits = ip4, 32
			}
			out = append(out, &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)})
			continue
		}
		_, n, err := net.ParseCIDR(f)
		if err != nil {
			return nil, fmt.Errorf("TRUSTED_PROXIES: %q is no address or CIDR", f)
		}
		out = append(out, n)
	}
	return out, nil
}
