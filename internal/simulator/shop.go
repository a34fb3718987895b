package simulator

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// Plan is a shop's Shopify plan, which sets its GraphQL rate limit.
type Plan string

// The plans the simulator knows.
const (
	PlanStandard   Plan = "standard"   // Basic, Grow, Shopify: 100 points/s
	PlanAdvanced   Plan = "advanced"   // Advanced Shopify: 200 points/s
	PlanPlus       Plan = "plus"       // Shopify Plus: 1,000 points/s
	PlanEnterprise Plan = "enterprise" // Commerce Components: 2,000 points/s
)

// restoreRate is the documented GraphQL Admin API restore rate per plan
// (shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits).
func (p Plan) restoreRate() float64 {
	switch p {
	case PlanAdvanced:
		return 200
	case PlanPlus:
		return 1000
	case PlanEnterprise:
		return 2000
	default:
		return 100
	}
}

// bucketSize is twenty seconds of restore: real responses report
// maximumAvailable 2000.0 at 100/s, 4000.0 at 200/s and 20000.0 at 1000/s.
func (p Plan) bucketSize() float64 { return 20 * p.restoreRate() }

func (p Plan) displayName() string {
	switch p {
	case PlanAdvanced:
		return "Advanced"
	case PlanPlus:
		return "Shopify Plus"
	case PlanEnterprise:
		return "Commerce Components"
	default:
		return "Basic"
	}
}

// ShopOptions describe a shop the simulator plays.
type ShopOptions struct {
	ID       int64  // shop id for webhook payloads; 0 = assign one
	Name     string // "" = derived from the domain
	Email    string
	Currency string // ISO 4217, "" = USD
	Timezone string // IANA name, "" = UTC
	Plan     Plan   // "" = PlanStandard
	// Scopes granted when the app is installed; nil = Config.Scopes.
	Scopes []string
	// Installed marks the app as installed from the start (as after a
	// Shopify-managed install); token exchange installs it otherwise.
	Installed bool
}

var shopDomainPattern = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9-]*\.myshopify\.com$`)

type shopState struct {
	domain string
	id     int64
	opts   ShopOptions
	loc    *time.Location

	mu        sync.RWMutex // guards the fields below and the store
	installed bool
	scopes    []string
	store     store

	bucketMu sync.Mutex
	buckets  map[string]*bucket // by client id
}

// AddShop adds a shop the simulator answers for. The domain must look like
// {name}.myshopify.com.
func (s *Simulator) AddShop(domain string, opts ShopOptions) error {
	if !shopDomainPattern.MatchString(domain) {
		return fmt.Errorf("add shop %q: not a myshopify.com domain", domain)
	}
	domain = strings.ToLower(domain)
	if opts.Currency == "" {
		opts.Currency = "USD"
	}
	if opts.Timezone == "" {
		opts.Timezone = "UTC"
	}
	loc, err := time.LoadLocation(opts.Timezone)
	if err != nil {
		return fmt.Errorf("add shop %s: timezone: %w", domain, err)
	}
	switch opts.Plan {
	case "":
		opts.Plan = PlanStandard
	case PlanStandard, PlanAdvanced, PlanPlus, PlanEnterprise:
	default:
		return fmt.Errorf("add shop %s: unknown plan %q", domain, opts.Plan)
	}
	if opts.Name == "" {
		opts.Name = strings.TrimSuffix(domain, ".myshopify.com")
	}
	scopes := opts.Scopes
	if scopes == nil {
		scopes = s.cfg.Scopes
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.shops[domain]; ok {
		return fmt.Errorf("add shop %s: already exists", domain)
	}
	s.shopSeq++
	id := opts.ID
	if id == 0 {
		id = 60000000000 + s.shopSeq
	}
	sh := &shopState{
		domain:    domain,
		id:        id,
		opts:      opts,
		loc:       loc,
		installed: opts.Installed,
		scopes:    slices.Clone(scopes),
		buckets:   map[string]*bucket{},
	}
	sh.store.init()
	s.shops[domain] = sh
	return nil
}

// Shops lists the shop domains the simulator plays, sorted.
func (s *Simulator) Shops() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]string, 0, len(s.shops))
	for d := range s.shops {
		out = append(out, d)
	}
	slices.Sort(out)
	return out
}

func (s *Simulator) shop(domain string) (*shopState, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	sh, ok := s.shops[strings.ToLower(domain)]
	return sh, ok
}

func (s *Simulator) mustShop(domain string) (*shopState, error) {
	sh, ok := s.shop(domain)
	if !ok {
		return nil, fmt.Errorf("unknown shop %q", domain)
	}
	return sh, nil
}

// Installed reports whether the app is installed on the shop.
func (s *Simulator) Installed(domain string) bool {
	sh, ok := s.shop(domain)
	if !ok {
		return false
	}
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	return sh.installed
}

// SetScopes changes the scopes granted to the app on a shop, as when the
// merchant approves new scopes. Existing tokens get the new scopes too,
// since Shopify checks the installation's scopes at request time.
func (s *Simulator) SetScopes(domain string, scopes []string) error {
	sh, err := s.mustShop(domain)
	if err != nil {
		return err
	}
	sh.mu.Lock()
	sh.scopes = slices.Clone(scopes)
	sh.mu.Unlock()
	return nil
}

func (sh *shopState) grantedScopes() []string {
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	return slices.Clone(sh.scopes)
}

// hasScope reports whether the scopes grant access; write_x implies read_x
// as on Shopify.
func hasScope(scopes []string, want string) bool {
	for _, sc := range scopes {
		if sc == want {
			return true
		}
		if strings.HasPrefix(want, "read_") && sc == "write_"+strings.TrimPrefix(want, "read_") {
			return true
		}
	}
	return false
}

func (sh *shopState) gid(kind string, id int64) string {
	return fmt.Sprintf("gid://shopify/%s/%d", kind, id)
}
