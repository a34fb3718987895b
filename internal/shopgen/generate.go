package shopgen

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/cvo-app/cvo/internal/simulator"
)

// GenOptions describe a shop to generate.
type GenOptions struct {
	Customers int
	// Orders is the total wanted, guest orders included; the result lands
	// within a few percent of it.
	Orders int
	Seed   int64
	// Start and End bound the shop's history; zero values mean
	// 2024-01-01..2026-01-01 UTC.
	Start, End time.Time
	Currency   string // "" = USD
	Timezone   string // IANA name, "" = UTC
	Name       string // "" = "Generated Shop {seed}"
	// Products is the catalogue size; 0 = 2,000.
	Products int
	// GuestShare is the share of orders without a customer; 0 = 5 %,
	// negative = none.
	GuestShare float64
	// Workers generating chunks of customers at once; 0 = GOMAXPROCS. The
	// shop does not depend on it.
	Workers int
	// BasketScale multiplies the value each order is filled up to, so
	// that orders carry more lines (at most 12): a shop of big baskets, a
	// grocer's, for the benchmarks of memory per line. 0 = 1.
	BasketScale float64
}

// Shop returns the shop settings the options produce (defaults applied).
func (o GenOptions) Shop() ShopInfo {
	o = o.withDefaults()
	return ShopInfo{Name: o.Name, Currency: o.Currency, Timezone: o.Timezone}
}

func (o GenOptions) withDefaults() GenOptions {
	if o.Start.IsZero() {
		o.Start = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if o.End.IsZero() {
		o.End = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if o.Currency == "" {
		o.Currency = "USD"
	}
	if o.Timezone == "" {
		o.Timezone = "UTC"
	}
	if o.Name == "" {
		o.Name = "Generated Shop " + strconv.FormatInt(o.Seed, 10)
	}
	if o.BasketScale == 0 {
		o.BasketScale = 1
	}
	if o.Products == 0 {
		o.Products = 2000
	}
	if o.GuestShare == 0 {
		o.GuestShare = 0.05
	}
	if o.GuestShare < 0 {
		o.GuestShare = 0
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	return o
}

// The model's fixed parameters. Purchase rates (per day, before
// calibration) and dropout follow BG/NBD with a heterogeneity close to the
// CDNOW fits in Fader, Hardie and Lee (2005); spend follows Gamma-Gamma with
// a mean order value of 60 currency units.
const (
	bgR = 0.75 // shape of the purchase-rate Gamma: small = very uneven customers
	bgA = 0.9  // dropout Beta(a, b): mean p = a/(a+b) ~ 0.26
	bgB = 2.5

	ggP     = 6.0 // order value ~ Gamma(p, nu) around the customer's mean p/nu
	ggQ     = 4.0 // nu ~ Gamma(q, gamma): q above 3 keeps spend variance finite
	ggMean  = 60.0
	ggGamma = ggMean * (ggQ - 1) / ggP

	refundRate = 0.03
	cancelRate = 0.01
	testRate   = 0.0002

	pilotSize = 50000 // customers simulated to calibrate the purchase rate
	maxPilot  = 4096  // repeat purchases tracked per pilot customer
)

// Stream tags, so that each purpose draws from its own sequence.
const (
	tagTiming uint64 = iota + 1
	tagBasket
	tagCustomer
	tagGuest
	tagCatalog
)

// Generate streams a synthetic shop into sink: products, then customers in
// chunks, each chunk followed by its orders (sorted by time within the
// chunk). Customers arrive over the period (more of them later and in
// November and December); each buys by a BG/NBD process and spends by a
// Gamma-Gamma model, and the purchase rate is calibrated so the order
// count lands near opts.Orders. Memory stays at a few chunks whatever the
// size of the shop. The same options give the same shop.
func Generate(ctx context.Context, opts GenOptions, sink Sink) (Stats, error) {
	g, err := newGenerator(opts)
	if err != nil {
		return Stats{}, err
	}
	var st Stats
	st.Rockstars, st.Toxic = g.cat.rockstars, g.cat.toxic
	products := newBatcher(BatchSize, "products", sink.AddProducts)
	for _, p := range g.cat.products {
		p.Variants = slices.Clone(p.Variants) // the sink may change the batch
		if err := products.push(p); err != nil {
			return st, err
		}
		st.Products++
	}
	if err := products.flush(); err != nil {
		return st, err
	}
	if err := g.calibrate(); err != nil {
		return st, err
	}
	err = g.run(ctx, func(ch *chunk) error {
		if err := sink.AddCustomers(ch.customers); err != nil {
			return fmt.Errorf("add %d customers: %w", len(ch.customers), err)
		}
		st.Customers += len(ch.customers)
		for i := range ch.orders {
			o := &ch.orders[i]
			g.nextOrder++
			o.ID, o.Number = g.nextOrder, 1000+g.nextOrder
			for j := range o.LineItems {
				g.nextLine++
				o.LineItems[j].ID = g.nextLine
			}
			for j := range o.Refunds {
				g.nextRefund++
				o.Refunds[j].ID = g.nextRefund
			}
			st.countOrder(o)
		}
		for lo := 0; lo < len(ch.orders); lo += BatchSize {
			batch := ch.orders[lo:min(lo+BatchSize, len(ch.orders))]
			if err := sink.AddOrders(batch); err != nil {
				return fmt.Errorf("add %d orders: %w", len(batch), err)
			}
		}
		return nil
	})
	return st, err
}

type generator struct {
	opts  GenOptions
	cat   *catalog
	start int64
	end   int64
	// acqCDF is the cumulative weight of customer arrivals over equal bins
	// of the period.
	acqCDF []float64
	// rateScale turns a customer's unit-free rate into purchases per day;
	// calibrate sets it.
	rateScale  float64
	guests     int
	chunkSize  int
	chunks     int
	countries  []weightedPlace
	countryCDF []float64

	nextOrder, nextLine, nextRefund int64
}

func newGenerator(opts GenOptions) (*generator, error) {
	opts = opts.withDefaults()
	switch {
	case opts.Customers <= 0:
		return nil, errors.New("generate: customers must be positive")
	case opts.Customers > math.MaxInt32:
		return nil, errors.New("generate: too many customers")
	case !opts.End.After(opts.Start):
		return nil, errors.New("generate: end must be after start")
	case opts.Products < 1:
		return nil, errors.New("generate: products must be positive")
	case opts.GuestShare >= 1:
		return nil, errors.New("generate: guest share must be below 1")
	case !(opts.BasketScale > 0) || math.IsInf(opts.BasketScale, 1):
		return nil, errors.New("generate: basket scale must be a positive number")
	}
	if _, err := time.LoadLocation(opts.Timezone); err != nil {
		return nil, fmt.Errorf("generate: timezone: %w", err)
	}
	guests := int(math.Round(float64(opts.Orders) * opts.GuestShare))
	if opts.Orders-guests < opts.Customers {
		return nil, fmt.Errorf("generate: %d orders cannot give each of %d customers a first order (%.0f%% are guest orders)",
			opts.Orders, opts.Customers, 100*opts.GuestShare)
	}
	g := &generator{
		opts: opts, start: opts.Start.Unix(), end: opts.End.Unix(), guests: guests,
		cat: newCatalog(opts.Seed, opts.Products, opts.Start), countries: placesFor(opts.Currency),
	}
	g.countryCDF = placeCDF(g.countries)
	g.chunkSize = min(max(BatchSize*opts.Customers/max(opts.Orders, 1), 1), BatchSize)
	g.chunks = (opts.Customers + g.chunkSize - 1) / g.chunkSize
	g.acqCDF = acquisitionCDF(opts.Start, opts.End)
	return g, nil
}

// acquisitionCDF weights 512 bins of the period: arrivals double from the
// first day to the last and run 70 % higher in November and December.
func acquisitionCDF(start, end time.Time) []float64 {
	const bins = 512
	cdf := make([]float64, bins)
	span := end.Sub(start)
	for i := range cdf {
		x := (float64(i) + 0.5) / bins
		at := start.Add(time.Duration(x * float64(span)))
		w := 1 + x
		if m := at.Month(); m == time.November || m == time.December {
			w *= 1.7
		}
		cdf[i] = w
		if i > 0 {
			cdf[i] += cdf[i-1]
		}
	}
	return cdf
}

// arrival maps v in [0, 1) through the arrival distribution to a time.
func (g *generator) arrival(v float64) int64 {
	total := g.acqCDF[len(g.acqCDF)-1]
	target := v * total
	i := sort.SearchFloat64s(g.acqCDF, target)
	i = min(i, len(g.acqCDF)-1)
	lo := 0.0
	if i > 0 {
		lo = g.acqCDF[i-1]
	}
	frac := 0.0
	if hi := g.acqCDF[i]; hi > lo {
		frac = (target - lo) / (hi - lo)
	}
	x := (float64(i) + frac) / float64(len(g.acqCDF))
	t := g.start + int64(x*float64(g.end-g.start))
	return min(max(t, g.start), g.end-1)
}

// plan is one customer's draws that decide how often they buy.
type plan struct {
	first    int64 // unix seconds of the first order
	channel  channel
	rate     float64 // relative purchase rate; times rateScale = per day
	nu       float64 // Gamma-Gamma spend scale
	repeats  int     // repeat purchases before dropping out (uncapped by time)
	firstZ   float64
	firstBuy []simulator.LineItem
}

// planCustomer draws customer i: arrival, channel, rate, dropout, spend
// and the first basket, whose products can change the dropout. Timing
// draws come from s.timing, which is left where the repeat purchases'
// inter-arrival times continue.
func (g *generator) planCustomer(i int, w *workerStreams) plan {
	a, b := w.timing, w.basket
	a.reset(g.opts.Seed, tagTiming, uint64(i))
	b.reset(g.opts.Seed, tagBasket, uint64(i))
	var p plan
	p.first = g.arrival((float64(i) + a.Float64()) / float64(g.opts.Customers))
	p.channel = pickChannel(a.Float64())
	p.rate = a.gamma(bgR, 1)
	dropout := math.Min(a.beta(bgA, bgB)*p.channel.dropoutScale, 0.999)
	p.nu = a.gamma(ggQ, ggGamma)
	p.firstZ = b.gamma(ggP, p.nu)
	var effect int
	p.firstBuy, effect = g.basket(b, p.firstZ)
	switch {
	case effect > 0:
		dropout *= 0.35
		p.rate *= 1.3
	case effect < 0:
		dropout = 1 - (1-dropout)*0.35
		p.rate *= 0.7
	}
	p.repeats = a.geometric(dropout)
	return p
}

// basket fills an order up to about value z from the catalogue by
// popularity; effect is the sign of the rockstar/toxic products in it.
func (g *generator) basket(s *stream, z float64) ([]simulator.LineItem, int) {
	z *= g.opts.BasketScale
	lines := make([]simulator.LineItem, 0, 4)
	var sum float64
	effect := 0
	for len(lines) < 12 {
		pi := g.cat.draw(s)
		prod := &g.cat.products[pi]
		v := &prod.Variants[s.IntN(len(prod.Variants))]
		price := v.Price.Float64()
		if len(lines) > 0 && sum+price/2 > z {
			break
		}
		qty := 1
		if s.Float64() < 0.15 {
			qty += 1 + s.IntN(3)
		}
		sum += price * float64(qty)
		effect += int(g.cat.effect[pi])
		if k := slices.IndexFunc(lines, func(l simulator.LineItem) bool { return l.VariantID == v.ID }); k >= 0 {
			lines[k].Quantity += qty
			continue
		}
		lines = append(lines, simulator.LineItem{
			ProductID: prod.ID, VariantID: v.ID, Title: prod.Title, SKU: v.SKU, Quantity: qty, UnitPrice: v.Price,
		})
	}
	return lines, effect
}

// calibrate sets rateScale so that customers' orders add up to the target:
// a pilot of customers spread over the whole range is simulated once, and
// the scale found by bisection, each pilot customer's purchase count being
// monotone in it with the draws held fixed.
func (g *generator) calibrate() error {
	target := float64(g.opts.Orders - g.guests)
	n := min(g.opts.Customers, pilotSize)
	type pilot struct {
		horizon float64   // days from the first order to the end
		rate    float64   // relative rate
		sums    []float64 // cumulative unit exponential gaps of the repeats
	}
	pilots := make([]pilot, n)
	w := newWorkerStreams()
	for k := range pilots {
		i := int((float64(k) + 0.5) * float64(g.opts.Customers) / float64(n))
		p := g.planCustomer(i, w)
		pl := pilot{horizon: float64(g.end-p.first) / 86400, rate: p.rate}
		m := min(p.repeats, maxPilot)
		pl.sums = make([]float64, m)
		var s float64
		for j := range m {
			s += w.timing.ExpFloat64()
			pl.sums[j] = s
		}
		pilots[k] = pl
	}
	orders := func(scale float64) float64 {
		var total int
		for _, p := range pilots {
			limit := p.horizon * p.rate * scale
			total += 1 + sort.SearchFloat64s(p.sums, limit)
		}
		return float64(total) * float64(g.opts.Customers) / float64(n)
	}
	lo, hi := math.Log(1e-7), math.Log(1e3)
	if orders(math.Exp(hi)) < target*0.98 {
		return fmt.Errorf("generate: %d orders for %d customers is more than the purchase model yields",
			g.opts.Orders, g.opts.Customers)
	}
	for range 60 {
		mid := (lo + hi) / 2
		if orders(math.Exp(mid)) < target {
			lo = mid
		} else {
			hi = mid
		}
	}
	g.rateScale = math.Exp((lo + hi) / 2)
	return nil
}

// workerStreams are a worker's random streams and scratch buffers.
type workerStreams struct {
	timing, basket, customer *stream
	orders                   []simulator.Order // a chunk's orders before sorting
	times                    []int64
}

func newWorkerStreams() *workerStreams {
	return &workerStreams{timing: newStream(), basket: newStream(), customer: newStream()}
}

type chunk struct {
	customers []simulator.Customer
	orders    []simulator.Order
}

// run generates the chunks on worker goroutines and hands them to emit in
// order, keeping at most two per worker in memory.
func (g *generator) run(ctx context.Context, emit func(*chunk) error) error {
	ctx, cancel := context.WithCancel(ctx)
	workers := g.opts.Workers
	slots := make([]chan *chunk, g.chunks)
	for k := range slots {
		slots[k] = make(chan *chunk, 1)
	}
	tokens := make(chan struct{}, 2*workers)
	next := make(chan int)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(next)
		for k := range g.chunks {
			select {
			case tokens <- struct{}{}:
			case <-ctx.Done():
				return
			}
			select {
			case next <- k:
			case <-ctx.Done():
				return
			}
		}
	}()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := newWorkerStreams()
			for k := range next {
				slots[k] <- g.chunk(k, w)
			}
		}()
	}
	// Stop the feeder before waiting for it: it may be blocked handing out
	// work nobody will collect.
	defer func() {
		cancel()
		wg.Wait()
	}()
	for k := range g.chunks {
		var ch *chunk
		select {
		case ch = <-slots[k]:
		case <-ctx.Done():
			return ctx.Err()
		}
		<-tokens
		if err := emit(ch); err != nil {
			return err
		}
	}
	return nil
}

// chunk generates customers [k*chunkSize, ...) with their orders and the
// chunk's share of guest orders, the orders sorted by time.
func (g *generator) chunk(k int, w *workerStreams) *chunk {
	lo := k * g.chunkSize
	hi := min(lo+g.chunkSize, g.opts.Customers)
	out := &chunk{customers: make([]simulator.Customer, 0, hi-lo)}
	for i := lo; i < hi; i++ {
		p := g.planCustomer(i, w)
		id := int64(i + 1)
		email := retailEmail(id)
		times := append(w.times[:0], p.first)
		t := float64(p.first)
		perSecond := p.rate * g.rateScale / 86400
		for range p.repeats {
			t += w.timing.ExpFloat64() / perSecond
			if t >= float64(g.end) {
				break
			}
			times = append(times, int64(t))
		}
		w.times = times
		for n, at := range times {
			lines := p.firstBuy
			if n > 0 {
				z := w.basket.gamma(ggP, p.nu)
				lines, _ = g.basket(w.basket, z)
			}
			ch := p.channel
			if n > 0 {
				ch = repeatChannel(w.basket.Float64(), p.channel)
			}
			o := g.order(w.basket, id, email, n+1, at, ch, lines)
			w.orders = append(w.orders, o)
		}
		out.customers = append(out.customers, g.customer(id, email, p, times[len(times)-1], w.customer))
	}
	// Guest orders: this chunk's share of them, each its own stream.
	glo := int(int64(g.guests) * int64(k) / int64(g.chunks))
	ghi := int(int64(g.guests) * int64(k+1) / int64(g.chunks))
	for j := glo; j < ghi; j++ {
		s := w.basket
		s.reset(g.opts.Seed, tagGuest, uint64(j))
		at := g.arrival(s.Float64())
		ch := pickChannel(s.Float64())
		z := s.gamma(ggP, s.gamma(ggQ, ggGamma))
		lines, _ := g.basket(s, z)
		w.orders = append(w.orders, g.order(s, 0, "", 1, at, ch, lines))
	}
	out.orders = sortedByTime(w.orders)
	clear(w.orders)
	w.orders = w.orders[:0]
	return out
}

// sortedByTime orders a chunk's orders by creation time, keeping generation
// order on ties. It sorts keys rather than the large Order values.
func sortedByTime(orders []simulator.Order) []simulator.Order {
	type key struct {
		at  int64
		pos int32
	}
	keys := make([]key, len(orders))
	for i := range orders {
		keys[i] = key{orders[i].CreatedAt.Unix(), int32(i)}
	}
	slices.SortFunc(keys, func(x, y key) int { return cmp.Or(cmp.Compare(x.at, y.at), cmp.Compare(x.pos, y.pos)) })
	out := make([]simulator.Order, len(orders))
	for i, k := range keys {
		out[i] = orders[k.pos]
	}
	return out
}

var cancelReasons = []struct {
	reason string
	share  float64
}{{"CUSTOMER", 0.5}, {"INVENTORY", 0.2}, {"DECLINED", 0.15}, {"FRAUD", 0.05}, {"OTHER", 0.1}}

// order prices a basket (discount code, shipping) and decides its fate:
// test, cancelled, refunded or kept.
func (g *generator) order(s *stream, customer int64, email string, index int, at int64, ch channel, lines []simulator.LineItem) simulator.Order {
	created := time.Unix(at, 0).UTC()
	o := simulator.Order{CustomerID: customer, Email: email, CreatedAt: created, UpdatedAt: created, LineItems: lines}
	var lineSum simulator.Amount
	for _, l := range lines {
		lineSum += l.UnitPrice * simulator.Amount(l.Quantity)
	}
	discount := 0.0
	u := s.Float64()
	switch {
	case index == 1 && customer != 0 && ch.utmCampaign != "" && u < 0.25:
		o.DiscountCodes, discount = []string{"WELCOME10"}, 0.10
	case isBFCM(created) && u < 0.30:
		o.DiscountCodes, discount = []string{"BFCM25"}, 0.25
	case u < 0.04:
		o.DiscountCodes = []string{"FREESHIP"}
	}
	o.Subtotal = lineSum - simulator.NewAmount(math.Round(lineSum.Float64()*discount*100)/100)
	o.Total = o.Subtotal
	if o.Subtotal < simulator.NewAmount(50) && !slices.Contains(o.DiscountCodes, "FREESHIP") {
		o.Total += simulator.NewAmount(4.95)
	}

	u = s.Float64()
	switch {
	case customer == 0 && u < 0.6:
		o.SourceName = "pos"
	case customer == 0, u < 0.92:
		o.SourceName = "web"
	case u < 0.95:
		o.SourceName = "pos"
	case u < 0.98:
		o.SourceName = "shopify_draft_order"
	default:
		o.SourceName = "iphone"
	}
	days := s.IntN(3)
	if index == 1 {
		days = min(s.geometric(0.3), 30)
	}
	if o.SourceName != "pos" {
		o.Journey = journey(ch, index, days, created, 2+s.IntN(40))
	}

	u = s.Float64()
	later := func(minSec, maxSec int64) time.Time {
		t := at + minSec + s.Int64N(maxSec-minSec)
		return time.Unix(min(max(t, at), g.end), 0).UTC()
	}
	switch {
	case u < testRate:
		o.Test = true
	case u < testRate+cancelRate:
		o.CancelledAt = later(600, 36*3600)
		v, reason := s.Float64(), "OTHER"
		for _, r := range cancelReasons {
			if v < r.share {
				reason = r.reason
				break
			}
			v -= r.share
		}
		o.CancelReason = reason
		// A declined payment took no money, so there is nothing to refund.
		if reason != "DECLINED" {
			o.Refunds = []simulator.Refund{{CreatedAt: o.CancelledAt, Amount: o.Total, Note: "Order cancelled"}}
		}
		o.UpdatedAt = o.CancelledAt
	case u < testRate+cancelRate+refundRate:
		r := simulator.Refund{CreatedAt: later(2*86400, 30*86400), Note: "Return"}
		switch v := s.Float64(); {
		case v < 0.35:
			r.Amount = o.Total
		case v < 0.7:
			l := lines[s.IntN(len(lines))]
			r.Amount = min(l.UnitPrice, o.Total)
			r.Note = "Returned item"
		default:
			r.Amount = simulator.NewAmount(math.Round(o.Total.Float64()*(0.1+0.4*s.Float64())*100) / 100)
			r.Note = "Partial refund"
		}
		o.Refunds = []simulator.Refund{r}
		o.UpdatedAt = r.CreatedAt
	}
	return o
}

// isBFCM is the Black Friday to Cyber Monday sales week, give or take.
func isBFCM(t time.Time) bool {
	return t.Month() == time.November && t.Day() >= 22 || t.Month() == time.December && t.Day() <= 2
}

// customer builds the customer record; lastOrder is their latest order.
func (g *generator) customer(id int64, email string, p plan, lastOrder int64, s *stream) simulator.Customer {
	s.reset(g.opts.Seed, tagCustomer, uint64(id))
	place := g.countries[s.pick(g.countryCDF)]
	marketing := "NOT_SUBSCRIBED"
	subscribe := 0.35
	if p.channel.utmMedium == "email" {
		subscribe = 0.9
	}
	switch u := s.Float64(); {
	case u < subscribe:
		marketing = "SUBSCRIBED"
	case u < subscribe+0.05:
		marketing = "UNSUBSCRIBED"
	}
	created := time.Unix(p.first-int64(60+s.IntN(1800)), 0).UTC()
	return simulator.Customer{
		ID: id, Email: email, FirstName: "Customer", LastName: strconv.FormatInt(id, 10),
		CreatedAt: created, UpdatedAt: time.Unix(max(lastOrder, p.first), 0).UTC(),
		DefaultAddress: &simulator.Address{
			City: place.cities[s.IntN(len(place.cities))], Country: place.country, CountryCode: place.code,
		},
		EmailMarketingState: marketing,
	}
}

type weightedPlace struct {
	country, code string
	weight        float64
	cities        []string
}

var (
	placesUS = []weightedPlace{
		{"United States", "US", 0.86, []string{"New York", "Los Angeles", "Chicago", "Houston", "Phoenix", "Seattle", "Denver", "Boston", "Atlanta", "Austin"}},
		{"Canada", "CA", 0.08, []string{"Toronto", "Vancouver", "Montreal", "Calgary"}},
		{"United Kingdom", "GB", 0.04, []string{"London", "Manchester", "Bristol"}},
		{"Australia", "AU", 0.02, []string{"Sydney", "Melbourne", "Brisbane"}},
	}
	placesGB = []weightedPlace{
		{"United Kingdom", "GB", 0.88, []string{"London", "Manchester", "Birmingham", "Leeds", "Glasgow", "Bristol", "Edinburgh", "Cardiff"}},
		{"Ireland", "IE", 0.05, []string{"Dublin", "Cork", "Galway"}},
		{"Germany", "DE", 0.04, []string{"Berlin", "Hamburg", "Munich"}},
		{"France", "FR", 0.03, []string{"Paris", "Lyon", "Lille"}},
	}
	placesEU = []weightedPlace{
		{"Germany", "DE", 0.32, []string{"Berlin", "Hamburg", "Munich", "Cologne"}},
		{"France", "FR", 0.24, []string{"Paris", "Lyon", "Marseille", "Toulouse"}},
		{"Netherlands", "NL", 0.14, []string{"Amsterdam", "Rotterdam", "Utrecht"}},
		{"Italy", "IT", 0.1, []string{"Milan", "Rome", "Turin"}},
		{"Spain", "ES", 0.1, []string{"Madrid", "Barcelona", "Valencia"}},
		{"Belgium", "BE", 0.05, []string{"Brussels", "Antwerp", "Ghent"}},
		{"Austria", "AT", 0.05, []string{"Vienna", "Graz", "Salzburg"}},
	}
)

func placesFor(currency string) []weightedPlace {
	switch currency {
	case "GBP":
		return placesGB
	case "EUR":
		return placesEU
	default:
		return placesUS
	}
}

func placeCDF(places []weightedPlace) []float64 {
	cdf := make([]float64, len(places))
	for i, p := range places {
		cdf[i] = p.weight
		if i > 0 {
			cdf[i] += cdf[i-1]
		}
	}
	return cdf
}
