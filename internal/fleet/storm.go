package fleet

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cvo-app/cvo/internal/simulator"
)

// mutator makes random live changes in one shop, as its merchant and
// customers would: orders, refunds, cancellations, customer edits and new
// customers. Some changes come in pairs on one record (a refund and then
// a cancel, two edits of a customer), so the record changes twice within
// one second: Shopify's payloads give updated_at to the second, and the app
// must still keep the later change (by X-Shopify-Triggered-At).
type mutator struct {
	sim       *simulator.Simulator
	shop      string
	rnd       *rand.Rand
	customers []int64
	orders    []int64
}

func newMutator(sim *simulator.Simulator, shop string, seed int64) *mutator {
	m := &mutator{sim: sim, shop: shop, rnd: rand.New(rand.NewPCG(uint64(seed), 7))}
	for _, c := range sim.Customers(shop) {
		m.customers = append(m.customers, c.ID)
	}
	for _, o := range sim.Orders(shop) {
		if o.CancelledAt.IsZero() && o.CustomerID != 0 {
			m.orders = append(m.orders, o.ID)
		}
	}
	return m
}

func (m *mutator) change(ctx context.Context, opt simulator.ChangeOption) error {
	now := time.Now().UTC()
	customer := m.customers[m.rnd.IntN(len(m.customers))]
	p := m.rnd.Float64()
	if len(m.orders) == 0 {
		p = 0 // nothing to refund or cancel: a new order
	}
	switch {
	case p < 0.35:
		total := simulator.NewAmount(float64(20 + m.rnd.IntN(120)))
		o, err := m.sim.CreateOrder(ctx, m.shop, simulator.Order{
			CustomerID: customer, CreatedAt: now, Total: total,
			LineItems: []simulator.LineItem{{Title: "Fleet gift", Quantity: 1, UnitPrice: total}},
		}, opt)
		if err != nil {
			return err
		}
		m.orders = append(m.orders, o.ID)
	case p < 0.55:
		return m.refund(ctx, m.orders[m.rnd.IntN(len(m.orders))], opt)
	case p < 0.62:
		order := m.orders[m.rnd.IntN(len(m.orders))]
		if m.rnd.IntN(2) == 0 {
			if err := m.refund(ctx, order, opt); err != nil {
				return err
			}
		}
		if _, err := m.sim.CancelOrder(ctx, m.shop, order, "CUSTOMER", opt); err != nil {
			return err
		}
		m.orders = slices.DeleteFunc(m.orders, func(id int64) bool { return id == order })
	case p < 0.95:
		for range 1 + m.rnd.IntN(2) {
			suffix := fmt.Sprintf("%d", m.rnd.IntN(1000))
			if _, err := m.sim.UpdateCustomer(ctx, m.shop, customer, func(c *simulator.Customer) { c.LastName = "Changed " + suffix }, opt); err != nil {
				return err
			}
		}
	default:
		c, err := m.sim.CreateCustomer(ctx, m.shop, simulator.Customer{FirstName: "New", LastName: "Customer",
			Email: fmt.Sprintf("new-%d@example.com", m.rnd.Int64())}, opt)
		if err != nil {
			return err
		}
		m.customers = append(m.customers, c.ID)
	}
	return nil
}

// refund gives back part of an order, if anything is left to give back.
func (m *mutator) refund(ctx context.Context, id int64, opt simulator.ChangeOption) error {
	o, ok := m.sim.GetOrder(m.shop, id)
	if !ok {
		return fmt.Errorf("order %d of %s vanished", id, m.shop)
	}
	refunded := simulator.Amount(0)
	for _, r := range o.Refunds {
		refunded += r.Amount
	}
	amount := min(simulator.NewAmount(5), o.Total-refunded)
	if amount <= 0 {
		return nil
	}
	_, err := m.sim.RefundOrder(ctx, m.shop, id, amount, opt)
	return err
}

// stormSend is one POST of the storm.
type stormSend struct {
	d      *simulator.WebhookDelivery
	secret string
	kind   int // sendUnique, sendDuplicate, sendForged

	status  int
	latency time.Duration
}

const (
	sendUnique = iota
	sendDuplicate
	sendForged
)

// storm sends StormDeliveries webhooks at once, shuffled: 75 % first
// deliveries of real changes, 20 % duplicates of them, 5 % forged (signed
// with another secret, for records the shops do not have).
func (h *harness) storm(ctx context.Context) error {
	n := h.opt.StormDeliveries
	forged := n * 5 / 100
	unique, err := h.collectChanges(ctx, n-forged-n*20/100)
	if err != nil {
		return err
	}
	rnd := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 11))
	sends := make([]*stormSend, 0, n)
	for _, d := range unique {
		sends = append(sends, &stormSend{d: d, secret: clientSecret, kind: sendUnique})
	}
	for len(sends) < n-forged {
		sends = append(sends, &stormSend{d: unique[rnd.IntN(len(unique))], secret: clientSecret, kind: sendDuplicate})
	}
	for i := range forged {
		d, err := h.forge(unique[rnd.IntN(len(unique))], 900_000_000+int64(i))
		if err != nil {
			return err
		}
		sends = append(sends, &stormSend{d: d, secret: "not-the-app-secret", kind: sendForged})
	}
	rnd.Shuffle(len(sends), func(i, j int) { sends[i], sends[j] = sends[j], sends[i] })

	start := time.Now()
	h.send(ctx, sends)
	intake := time.Since(start)

	lat := make([]time.Duration, 0, len(sends))
	refused, forgedOK := 0, 0
	var forgedIDs, uniqueIDs []string
	for _, s := range sends {
		lat = append(lat, s.latency)
		switch s.kind {
		case sendUnique:
			uniqueIDs = append(uniqueIDs, s.d.WebhookID)
			if s.status/100 != 2 {
				refused++
			}
		case sendDuplicate:
			if s.status/100 != 2 {
				refused++
			}
		case sendForged:
			forgedIDs = append(forgedIDs, s.d.WebhookID)
			if s.status/100 == 2 {
				forgedOK++
			}
		}
	}
	sortDurations(lat)
	rate := float64(len(sends)) / intake.Seconds()
	h.report.add(fmt.Sprintf("storm: %d deliveries (%d unique, %d duplicates, %d forged)", len(sends), len(unique), n-forged-len(unique), forged),
		fmt.Sprintf("%.1f s intake", intake.Seconds()), "", "")
	p99 := percentile(lat, 0.99)
	h.report.target(fmt.Sprintf("webhook intake while workers apply (32 senders, load %s)", loadAverage()), fmt.Sprintf("%.0f/s", rate), ">= 2000/s", rate >= 2000)
	h.report.add("webhook intake latency p50", fmt.Sprintf("%.1f ms", ms(percentile(lat, 0.50))), "", "")
	h.report.target("webhook intake latency p99", fmt.Sprintf("%.1f ms", ms(p99)), "< 50 ms", p99 < 50*time.Millisecond)
	h.report.must("valid storm deliveries answered non-2xx", refused)

	// Every first delivery of a change must end applied.
	deadline := time.Now().Add(h.opt.StepTimeout)
	var applied int
	for {
		err := h.pool.QueryRow(ctx, `SELECT count(*) FROM webhook_deliveries WHERE webhook_id = ANY($1) AND state = 'applied'`,
			uniqueIDs).Scan(&applied)
		if err == nil && applied == len(uniqueIDs) || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	applyTime := time.Since(start)
	problem := ""
	if applied < len(uniqueIDs) {
		problem = fmt.Sprintf("%d of %d applied after %s", applied, len(uniqueIDs), h.opt.StepTimeout)
	}
	h.report.add("storm fully applied", dur(applyTime), "< 60 s", problem)
	if problem == "" && applyTime > time.Minute {
		h.report.target("storm fully applied within a minute", dur(applyTime), "< 60 s", false)
	}
	h.report.must("storm deliveries lost (not applied within the step timeout)", len(uniqueIDs)-applied)
	var dead int
	if err := h.pool.QueryRow(ctx, `SELECT count(*) FROM webhook_deliveries WHERE state = 'dead'`).Scan(&dead); err != nil {
		return fmt.Errorf("count dead deliveries: %w", err)
	}
	h.report.must("deliveries dead (gave up applying)", dead)

	var stored int
	if err := h.pool.QueryRow(ctx, `SELECT count(*) FROM webhook_deliveries WHERE webhook_id = ANY($1)`, forgedIDs).Scan(&stored); err != nil {
		return fmt.Errorf("count forged deliveries: %w", err)
	}
	h.report.must("bad signatures accepted", forgedOK+stored)

	// Applied twice would show as extra or changed rows against the
	// simulator (a refund counted twice, an order total off).
	_, err = h.waitVerified(ctx, "storm", nil)
	twice := 0
	if err != nil {
		checks, _, verr := h.verifyAll(ctx)
		if verr != nil {
			return verr
		}
		for _, c := range checks {
			twice += c.ExtraOrder + c.ExtraRefund + c.ExtraCustomer
		}
	}
	h.report.must("storm changes applied twice (extra orders, refunds, customers)", twice)
	h.report.add("storm: every shop matches the simulator", dur(time.Since(start)), "", errString(err))
	return nil
}

// collectChanges makes changes in every installed shop until they caused
// at least want webhook deliveries, and returns those deliveries unsent.
func (h *harness) collectChanges(ctx context.Context, want int) ([]*simulator.WebhookDelivery, error) {
	var (
		mu     sync.Mutex
		unique []*simulator.WebhookDelivery
	)
	collect := simulator.CollectWebhooks(func(d *simulator.WebhookDelivery) {
		mu.Lock()
		unique = append(unique, d)
		mu.Unlock()
	})
	muts := map[string]*mutator{}
	for i, shop := range h.live {
		muts[shop] = newMutator(h.sim, shop, int64(i)+time.Now().UnixNano())
	}
	for {
		mu.Lock()
		enough := len(unique) >= want
		mu.Unlock()
		if enough {
			return unique, nil
		}
		for _, shop := range h.live {
			if err := muts[shop].change(ctx, collect); err != nil {
				return nil, err
			}
		}
	}
}

// send posts every delivery from 32 senders at once and records each
// answer's status and latency.
func (h *harness) send(ctx context.Context, sends []*stormSend) {
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64}}
	work := make(chan *stormSend)
	var wg sync.WaitGroup
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range work {
				t0 := time.Now()
				s.status = h.post(ctx, client, s.d, s.secret)
				s.latency = time.Since(t0)
			}
		}()
	}
	for _, s := range sends {
		work <- s
	}
	close(work)
	wg.Wait()
}

// intakeAlone measures the server's webhook intake with the workers
// stopped, so it does not share the CPU with applying: n first deliveries
// of real changes, then the workers start again and apply them.
func (h *harness) intakeAlone(ctx context.Context, n int) error {
	unique, err := h.collectChanges(ctx, n)
	if err != nil {
		return err
	}
	for _, w := range h.workers {
		w.stop(30 * time.Second)
	}
	sends := make([]*stormSend, len(unique))
	for i, d := range unique {
		sends[i] = &stormSend{d: d, secret: clientSecret, kind: sendUnique}
	}
	cpu0 := h.server.cpu()
	start := time.Now()
	h.send(ctx, sends)
	intake := time.Since(start)
	cpu := h.server.cpu() - cpu0
	lat := make([]time.Duration, 0, len(sends))
	refused := 0
	for _, s := range sends {
		lat = append(lat, s.latency)
		if s.status/100 != 2 {
			refused++
		}
	}
	sortDurations(lat)
	rate := float64(len(sends)) / intake.Seconds()
	p99 := percentile(lat, 0.99)
	what := fmt.Sprintf("webhook intake, workers stopped (%d deliveries, load %s)", len(sends), loadAverage())
	h.report.target(what, fmt.Sprintf("%.0f/s", rate), ">= 2000/s", rate >= 2000)
	h.report.add("  latency p50", fmt.Sprintf("%.1f ms", ms(percentile(lat, 0.50))), "", "")
	h.report.target("  latency p99", fmt.Sprintf("%.1f ms", ms(p99)), "< 50 ms", p99 < 50*time.Millisecond)
	h.report.must("  answered non-2xx", refused)
	if cpu > 0 {
		// What the load does not change: the server's own CPU per delivery
		// (PostgreSQL's and Redis's work for it not counted).
		h.report.add("  server CPU per delivery", fmt.Sprintf("%.2f ms", ms(cpu)/float64(len(sends))), "", "")
	}
	for _, w := range h.workers {
		if err := w.start(); err != nil {
			return err
		}
	}
	restarted := time.Now()
	_, err = h.waitVerified(ctx, "deliveries taken while the workers were stopped", nil)
	h.report.add("  applied once the workers started", dur(time.Since(restarted)), "", errString(err))
	return err
}

// loadAverage is the machine's one-minute load, for reading timings.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "unknown"
	}
	return f[0]
}

// forge makes a delivery the app must refuse: the body of a real delivery
// rewritten for a record the shop does not have, under a new webhook id.
func (h *harness) forge(from *simulator.WebhookDelivery, id int64) (*simulator.WebhookDelivery, error) {
	var body map[string]any
	if err := json.Unmarshal(from.Body, &body); err != nil {
		return nil, fmt.Errorf("forge from %s: %w", from.Topic, err)
	}
	body["id"] = id
	return h.sim.NewWebhook(from.Shop, from.Topic, body)
}

// post sends one delivery with Shopify's headers, signed with secret.
func (h *harness) post(ctx context.Context, client *http.Client, d *simulator.WebhookDelivery, secret string) int {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.sim.WebhookURL(d.Topic), bytes.NewReader(d.Body))
	if err != nil {
		return 0
	}
	hd := req.Header
	hd.Set("Content-Type", "application/json")
	hd.Set("X-Shopify-Topic", d.Topic)
	hd.Set("X-Shopify-Hmac-Sha256", simulator.Sign(secret, d.Body))
	hd.Set("X-Shopify-Shop-Domain", d.Shop)
	hd.Set("X-Shopify-API-Version", d.APIVersion)
	hd.Set("X-Shopify-Webhook-Id", d.WebhookID)
	hd.Set("X-Shopify-Event-Id", d.EventID)
	hd.Set("X-Shopify-Triggered-At", d.TriggeredAt.UTC().Format(time.RFC3339Nano))
	res, err := client.Do(req)
	if err != nil {
		return 0
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	return res.StatusCode
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
