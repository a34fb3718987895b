package simulator

import (
	"cmp"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// What a fleet of shops needs beyond one shop: injected faults on a share
// of GraphQL requests (a flaky, throttling Shopify), an audit of which
// shop's token each request presented (so a test can prove no shop's calls
// used another shop's credentials), and whole-shop reads for checking
// write-back.

// Faults are shares (0..1) of GraphQL requests answered with a fault
// instead of being run.
type Faults struct {
	// Throttle answers THROTTLED with an empty bucket, as Shopify does when
	// another app or a burst drained it.
	Throttle float64
	// ServerError answers 503.
	ServerError float64
}

// ParseFaults reads "throttle=0.2,5xx=0.05"; "" is no faults.
func ParseFaults(s string) (Faults, error) {
	var f Faults
	for _, part := range strings.Split(s, ",") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		name, val, ok := strings.Cut(part, "=")
		if !ok {
			return Faults{}, fmt.Errorf("fault %q: want name=share", part)
		}
		share, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if err != nil || !(share >= 0 && share <= 1) { // NaN fails both
			return Faults{}, fmt.Errorf("fault %q: share must be a number from 0 to 1", part)
		}
		switch strings.TrimSpace(name) {
		case "throttle":
			f.Throttle = share
		case "5xx":
			f.ServerError = share
		default:
			return Faults{}, fmt.Errorf("fault %q: unknown (throttle, 5xx)", part)
		}
	}
	if f.Throttle+f.ServerError > 1 {
		return Faults{}, fmt.Errorf("faults %q: shares add up to more than 1", s)
	}
	return f, nil
}

func (f Faults) String() string {
	return fmt.Sprintf("throttle=%g,5xx=%g", f.Throttle, f.ServerError)
}

// TokenAudit counts a shop's GraphQL requests by whose access token they
// carried.
type TokenAudit struct {
	Requests int
	// OwnToken: a token issued for this shop (valid or since expired).
	OwnToken int
	// ForeignToken: a token issued for another shop. Must stay 0.
	ForeignToken int
	// UnknownToken: no token, or one the simulator never issued.
	UnknownToken int
}

type fleetState struct {
	mu     sync.Mutex
	faults Faults
	audits map[string]*TokenAudit
}

// SetFaults changes the injected faults for every shop from now on.
func (s *Simulator) SetFaults(f Faults) {
	s.fleet.mu.Lock()
	defer s.fleet.mu.Unlock()
	s.fleet.faults = f
}

// TokenAudit reports the shop's GraphQL requests by token owner.
func (s *Simulator) TokenAudit(shop string) TokenAudit {
	s.fleet.mu.Lock()
	defer s.fleet.mu.Unlock()
	if a := s.fleet.audits[strings.ToLower(shop)]; a != nil {
		return *a
	}
	return TokenAudit{}
}

// interceptGraphQL audits the request's token and, by the configured
// shares, answers it with a fault. It reports whether it answered.
func (s *Simulator) interceptGraphQL(w http.ResponseWriter, r *http.Request, sh *shopState) bool {
	owner := s.tokens.owner(r.Header.Get("X-Shopify-Access-Token"))
	s.fleet.mu.Lock()
	if s.fleet.audits == nil {
		s.fleet.audits = map[string]*TokenAudit{}
	}
	a := s.fleet.audits[sh.domain]
	if a == nil {
		a = &TokenAudit{}
		s.fleet.audits[sh.domain] = a
	}
	a.Requests++
	switch owner {
	case "":
		a.UnknownToken++
	case sh.domain:
		a.OwnToken++
	default:
		a.ForeignToken++
	}
	f := s.fleet.faults
	s.fleet.mu.Unlock()
	if r.Method != http.MethodPost || f.Throttle+f.ServerError == 0 {
		return false
	}
	p := rand.Float64()
	switch {
	case p < f.Throttle:
		_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 10<<20))
		s.writes.record(sh.domain, CallRecord{Status: http.StatusOK, Throttled: true, Injected: true})
		// An empty bucket: the app must wait for points to restore.
		rate := sh.opts.Plan.restoreRate()
		out := &jsonObject{}
		out.set("errors", []any{gqlError{
			message:    "Throttled",
			extensions: ext("code", "THROTTLED", "documentation", "https://shopify.dev/api/usage/rate-limits"),
		}.toJSON()})
		out.set("extensions", costExtension(int(rate/10), nil, throttleStatus{max: sh.opts.Plan.bucketSize(), rate: rate}))
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(appendJSON(nil, out))
		return true
	case p < f.Throttle+f.ServerError:
		_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 10<<20))
		s.writes.record(sh.domain, CallRecord{Status: http.StatusServiceUnavailable, Injected: true})
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, `{"errors":"Service Unavailable"}`)
		return true
	}
	return false
}

// owner is the shop a token was issued for, "" when unknown.
func (ts *tokenStore) owner(token string) string {
	if token == "" {
		return ""
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if at, ok := ts.access[token]; ok {
		return at.shop
	}
	return ""
}

// Customers lists the shop's live customers, by id.
func (s *Simulator) Customers(shop string) []Customer {
	sh, ok := s.shop(shop)
	if !ok {
		return nil
	}
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	out := make([]Customer, 0, sh.store.liveCustomers)
	for i := range sh.store.customers {
		if r := &sh.store.customers[i]; !r.deleted {
			out = append(out, sh.store.customerOut(r))
		}
	}
	slices.SortFunc(out, func(a, b Customer) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// Orders lists the shop's live orders, by id.
func (s *Simulator) Orders(shop string) []Order {
	sh, ok := s.shop(shop)
	if !ok {
		return nil
	}
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	out := make([]Order, 0, sh.store.liveOrders)
	for i := range sh.store.orders {
		if r := &sh.store.orders[i]; !r.deleted {
			out = append(out, sh.store.orderOut(r))
		}
	}
	slices.SortFunc(out, func(a, b Order) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// CollectWebhooks makes a change hand the deliveries Shopify would send for
// it to fn instead of sending them, so a test can send them later, again,
// out of order or with a broken signature.
func CollectWebhooks(fn func(*WebhookDelivery)) ChangeOption {
	return func(o *changeOpts) { o.collect = fn }
}

func (s *Simulator) collect(shop string, events []webhookEvent, fn func(*WebhookDelivery)) {
	eventID := uuidV4()
	for _, e := range events {
		if !s.subscribed(e.topic) {
			continue
		}
		d, err := s.NewWebhook(shop, e.topic, e.payload)
		if err != nil {
			s.log.Error("webhook not built", "shop", shop, "topic", e.topic, "err", err)
			continue
		}
		d.EventID = eventID
		fn(d)
	}
}

// WebhookURL is where a delivery of the topic is sent.
func (s *Simulator) WebhookURL(topic string) string {
	uri, _ := s.webhookURI(topic)
	return s.cfg.AppURL + uri
}
