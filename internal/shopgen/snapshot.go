package shopgen

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/cvo-app/cvo/internal/simulator"
)

// A snapshot is a shop as gzip-compressed JSON lines: a header line with
// the format and the shop's settings, then one line per product, customer
// or order, in the order a Sink receives them (products, then customers
// before their orders). Amounts are integers in ten-thousandths of the
// currency unit (simulator.Amount), times unix seconds (0 = none): the file
// is for the simulator, not for people, and this keeps millions of orders
// quick to write and read.
const snapshotFormat = "cvo-shop-snapshot/1"

type snapLine struct {
	Format   string        `json:"format,omitempty"`
	Shop     *ShopInfo     `json:"shop,omitempty"`
	Product  *snapProduct  `json:"product,omitempty"`
	Customer *snapCustomer `json:"customer,omitempty"`
	Order    *snapOrder    `json:"order,omitempty"`
}

type snapProduct struct {
	ID          int64         `json:"id"`
	Title       string        `json:"title"`
	Handle      string        `json:"handle,omitempty"`
	ProductType string        `json:"productType,omitempty"`
	Vendor      string        `json:"vendor,omitempty"`
	Status      string        `json:"status,omitempty"`
	Tags        []string      `json:"tags,omitempty"`
	CreatedAt   int64         `json:"createdAt,omitempty"`
	UpdatedAt   int64         `json:"updatedAt,omitempty"`
	Variants    []snapVariant `json:"variants"`
}

type snapVariant struct {
	ID              int64             `json:"id"`
	Title           string            `json:"title,omitempty"`
	SKU             string            `json:"sku,omitempty"`
	Price           simulator.Amount  `json:"price"`
	InventoryItemID int64             `json:"inventoryItemId,omitempty"`
	UnitCost        *simulator.Amount `json:"unitCost,omitempty"`
}

type snapCustomer struct {
	ID        int64        `json:"id"`
	Email     string       `json:"email,omitempty"`
	FirstName string       `json:"firstName,omitempty"`
	LastName  string       `json:"lastName,omitempty"`
	Phone     string       `json:"phone,omitempty"`
	Tags      []string     `json:"tags,omitempty"`
	CreatedAt int64        `json:"createdAt,omitempty"`
	UpdatedAt int64        `json:"updatedAt,omitempty"`
	Address   *snapAddress `json:"address,omitempty"`
	Marketing string       `json:"marketing,omitempty"`
	RFMGroup  string       `json:"rfmGroup,omitempty"`
	SpendTier string       `json:"spendTier,omitempty"`
}

type snapAddress struct {
	City        string `json:"city,omitempty"`
	Province    string `json:"province,omitempty"`
	Country     string `json:"country,omitempty"`
	CountryCode string `json:"countryCode,omitempty"`
	Zip         string `json:"zip,omitempty"`
}

type snapOrder struct {
	ID                  int64            `json:"id"`
	Number              int64            `json:"number,omitempty"`
	CustomerID          int64            `json:"customerId,omitempty"`
	Email               string           `json:"email,omitempty"`
	CreatedAt           int64            `json:"createdAt,omitempty"`
	UpdatedAt           int64            `json:"updatedAt,omitempty"`
	ProcessedAt         int64            `json:"processedAt,omitempty"`
	CancelledAt         int64            `json:"cancelledAt,omitempty"`
	CancelReason        string           `json:"cancelReason,omitempty"`
	Test                bool             `json:"test,omitempty"`
	SourceName          string           `json:"sourceName,omitempty"`
	PresentmentCurrency string           `json:"presentmentCurrency,omitempty"`
	PresentmentRate     float64          `json:"presentmentRate,omitempty"`
	Subtotal            simulator.Amount `json:"subtotal,omitempty"`
	Total               simulator.Amount `json:"total"`
	DiscountCodes       []string         `json:"discountCodes,omitempty"`
	Journey             *snapJourney     `json:"journey,omitempty"`
	Lines               []snapLineItem   `json:"lines,omitempty"`
	Refunds             []snapRefund     `json:"refunds,omitempty"`
}

type snapJourney struct {
	OrderIndex int        `json:"orderIndex,omitempty"`
	Days       int        `json:"days,omitempty"`
	First      *snapVisit `json:"first,omitempty"`
	Last       *snapVisit `json:"last,omitempty"`
}

type snapVisit struct {
	At          int64  `json:"at,omitempty"`
	Landing     string `json:"landing,omitempty"`
	Referrer    string `json:"referrer,omitempty"`
	Source      string `json:"source,omitempty"`
	UTMSource   string `json:"utmSource,omitempty"`
	UTMMedium   string `json:"utmMedium,omitempty"`
	UTMCampaign string `json:"utmCampaign,omitempty"`
	UTMContent  string `json:"utmContent,omitempty"`
	UTMTerm     string `json:"utmTerm,omitempty"`
}

type snapLineItem struct {
	ID        int64            `json:"id,omitempty"`
	ProductID int64            `json:"productId,omitempty"`
	VariantID int64            `json:"variantId,omitempty"`
	Title     string           `json:"title,omitempty"`
	SKU       string           `json:"sku,omitempty"`
	Quantity  int              `json:"qty"`
	Price     simulator.Amount `json:"price"`
}

type snapRefund struct {
	ID     int64            `json:"id,omitempty"`
	At     int64            `json:"at,omitempty"`
	Amount simulator.Amount `json:"amount"`
	Note   string           `json:"note,omitempty"`
}

func unixOf(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

func timeOf(s int64) time.Time {
	if s == 0 {
		return time.Time{}
	}
	return time.Unix(s, 0).UTC()
}

// SnapshotWriter is a Sink that writes a snapshot. Close it to finish the
// file.
type SnapshotWriter struct {
	gz  *gzip.Writer
	bw  *bufio.Writer
	enc *json.Encoder
	err error
}

// NewSnapshotWriter starts a snapshot of shop on w.
func NewSnapshotWriter(w io.Writer, shop ShopInfo) (*SnapshotWriter, error) {
	gz, err := gzip.NewWriterLevel(w, gzip.BestSpeed)
	if err != nil {
		return nil, err
	}
	bw := bufio.NewWriterSize(gz, 1<<16)
	s := &SnapshotWriter{gz: gz, bw: bw, enc: json.NewEncoder(bw)}
	if err := s.enc.Encode(snapLine{Format: snapshotFormat, Shop: &shop}); err != nil {
		return nil, fmt.Errorf("write snapshot header: %w", err)
	}
	return s, nil
}

func (s *SnapshotWriter) write(l snapLine) error {
	if s.err != nil {
		return s.err
	}
	if err := s.enc.Encode(l); err != nil {
		s.err = fmt.Errorf("write snapshot: %w", err)
	}
	return s.err
}

// AddProducts writes products.
func (s *SnapshotWriter) AddProducts(ps []simulator.Product) error {
	for i := range ps {
		if err := s.write(snapLine{Product: productToSnap(&ps[i])}); err != nil {
			return err
		}
	}
	return nil
}

// AddCustomers writes customers.
func (s *SnapshotWriter) AddCustomers(cs []simulator.Customer) error {
	for i := range cs {
		if err := s.write(snapLine{Customer: customerToSnap(&cs[i])}); err != nil {
			return err
		}
	}
	return nil
}

// AddOrders writes orders.
func (s *SnapshotWriter) AddOrders(os []simulator.Order) error {
	var o snapOrder
	for i := range os {
		orderToSnap(&os[i], &o)
		if err := s.write(snapLine{Order: &o}); err != nil {
			return err
		}
	}
	return nil
}

// Close flushes the snapshot; it does not close the underlying writer.
func (s *SnapshotWriter) Close() error {
	if s.err != nil {
		return s.err
	}
	if err := s.bw.Flush(); err != nil {
		return fmt.Errorf("write snapshot: %w", err)
	}
	if err := s.gz.Close(); err != nil {
		return fmt.Errorf("write snapshot: %w", err)
	}
	return nil
}

func productToSnap(p *simulator.Product) *snapProduct {
	out := &snapProduct{
		ID: p.ID, Title: p.Title, Handle: p.Handle, ProductType: p.ProductType, Vendor: p.Vendor, Status: p.Status,
		Tags: p.Tags, CreatedAt: unixOf(p.CreatedAt), UpdatedAt: unixOf(p.UpdatedAt),
		Variants: make([]snapVariant, len(p.Variants)),
	}
	for i, v := range p.Variants {
		out.Variants[i] = snapVariant{
			ID: v.ID, Title: v.Title, SKU: v.SKU, Price: v.Price, InventoryItemID: v.InventoryItemID, UnitCost: v.UnitCost,
		}
	}
	return out
}

func productFromSnap(p *snapProduct) simulator.Product {
	out := simulator.Product{
		ID: p.ID, Title: p.Title, Handle: p.Handle, ProductType: p.ProductType, Vendor: p.Vendor, Status: p.Status,
		Tags: p.Tags, CreatedAt: timeOf(p.CreatedAt), UpdatedAt: timeOf(p.UpdatedAt),
		Variants: make([]simulator.Variant, len(p.Variants)),
	}
	for i, v := range p.Variants {
		out.Variants[i] = simulator.Variant{
			ID: v.ID, Title: v.Title, SKU: v.SKU, Price: v.Price, InventoryItemID: v.InventoryItemID, UnitCost: v.UnitCost,
		}
	}
	return out
}

func customerToSnap(c *simulator.Customer) *snapCustomer {
	out := &snapCustomer{
		ID: c.ID, Email: c.Email, FirstName: c.FirstName, LastName: c.LastName, Phone: c.Phone, Tags: c.Tags,
		CreatedAt: unixOf(c.CreatedAt), UpdatedAt: unixOf(c.UpdatedAt), Marketing: c.EmailMarketingState,
		RFMGroup: c.RFMGroup, SpendTier: c.PredictedSpendTier,
	}
	if a := c.DefaultAddress; a != nil {
		out.Address = &snapAddress{City: a.City, Province: a.Province, Country: a.Country, CountryCode: a.CountryCode, Zip: a.Zip}
	}
	return out
}

func customerFromSnap(c *snapCustomer) simulator.Customer {
	out := simulator.Customer{
		ID: c.ID, Email: c.Email, FirstName: c.FirstName, LastName: c.LastName, Phone: c.Phone, Tags: c.Tags,
		CreatedAt: timeOf(c.CreatedAt), UpdatedAt: timeOf(c.UpdatedAt), EmailMarketingState: c.Marketing,
		RFMGroup: c.RFMGroup, PredictedSpendTier: c.SpendTier,
	}
	if a := c.Address; a != nil {
		out.DefaultAddress = &simulator.Address{City: a.City, Province: a.Province, Country: a.Country, CountryCode: a.CountryCode, Zip: a.Zip}
	}
	return out
}

func visitToSnap(v *simulator.Visit) *snapVisit {
	if v == nil {
		return nil
	}
	return &snapVisit{
		At: unixOf(v.OccurredAt), Landing: v.LandingPage, Referrer: v.ReferrerURL, Source: v.Source,
		UTMSource: v.UTMSource, UTMMedium: v.UTMMedium, UTMCampaign: v.UTMCampaign, UTMContent: v.UTMContent, UTMTerm: v.UTMTerm,
	}
}

func visitFromSnap(v *snapVisit) *simulator.Visit {
	if v == nil {
		return nil
	}
	return &simulator.Visit{
		OccurredAt: timeOf(v.At), LandingPage: v.Landing, ReferrerURL: v.Referrer, Source: v.Source,
		UTMSource: v.UTMSource, UTMMedium: v.UTMMedium, UTMCampaign: v.UTMCampaign, UTMContent: v.UTMContent, UTMTerm: v.UTMTerm,
	}
}

// orderToSnap fills out, reusing its slices: the writer converts millions
// of orders one at a time.
func orderToSnap(o *simulator.Order, out *snapOrder) {
	*out = snapOrder{
		ID: o.ID, Number: o.Number, CustomerID: o.CustomerID, Email: o.Email, CreatedAt: unixOf(o.CreatedAt),
		UpdatedAt: unixOf(o.UpdatedAt), ProcessedAt: unixOf(o.ProcessedAt), CancelledAt: unixOf(o.CancelledAt),
		CancelReason: o.CancelReason, Test: o.Test, SourceName: o.SourceName, PresentmentCurrency: o.PresentmentCurrency,
		PresentmentRate: o.PresentmentRate, Subtotal: o.Subtotal, Total: o.Total, DiscountCodes: o.DiscountCodes,
		Lines: out.Lines[:0], Refunds: out.Refunds[:0],
	}
	if j := o.Journey; j != nil {
		out.Journey = &snapJourney{
			OrderIndex: j.CustomerOrderIndex, Days: j.DaysToConversion, First: visitToSnap(j.FirstVisit), Last: visitToSnap(j.LastVisit),
		}
	}
	for _, l := range o.LineItems {
		out.Lines = append(out.Lines, snapLineItem{
			ID: l.ID, ProductID: l.ProductID, VariantID: l.VariantID, Title: l.Title, SKU: l.SKU, Quantity: l.Quantity, Price: l.UnitPrice,
		})
	}
	for _, r := range o.Refunds {
		out.Refunds = append(out.Refunds, snapRefund{ID: r.ID, At: unixOf(r.CreatedAt), Amount: r.Amount, Note: r.Note})
	}
}

func orderFromSnap(o *snapOrder) simulator.Order {
	out := simulator.Order{
		ID: o.ID, Number: o.Number, CustomerID: o.CustomerID, Email: o.Email, CreatedAt: timeOf(o.CreatedAt),
		UpdatedAt: timeOf(o.UpdatedAt), ProcessedAt: timeOf(o.ProcessedAt), CancelledAt: timeOf(o.CancelledAt),
		CancelReason: o.CancelReason, Test: o.Test, SourceName: o.SourceName, PresentmentCurrency: o.PresentmentCurrency,
		PresentmentRate: o.PresentmentRate, Subtotal: o.Subtotal, Total: o.Total, DiscountCodes: o.DiscountCodes,
	}
	if j := o.Journey; j != nil {
		out.Journey = &simulator.Journey{
			CustomerOrderIndex: j.OrderIndex, DaysToConversion: j.Days, FirstVisit: visitFromSnap(j.First), LastVisit: visitFromSnap(j.Last),
		}
	}
	if len(o.Lines) > 0 {
		out.LineItems = make([]simulator.LineItem, len(o.Lines))
		for i, l := range o.Lines {
			out.LineItems[i] = simulator.LineItem{
				ID: l.ID, ProductID: l.ProductID, VariantID: l.VariantID, Title: l.Title, SKU: l.SKU, Quantity: l.Quantity, UnitPrice: l.Price,
			}
		}
	}
	if len(o.Refunds) > 0 {
		out.Refunds = make([]simulator.Refund, len(o.Refunds))
		for i, r := range o.Refunds {
			out.Refunds[i] = simulator.Refund{ID: r.ID, CreatedAt: timeOf(r.At), Amount: r.Amount, Note: r.Note}
		}
	}
	return out
}

// SnapshotShop reads a snapshot's shop settings from its first line, so
// the shop can be created before LoadSnapshot fills it.
func SnapshotShop(path string) (ShopInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return ShopInfo{}, fmt.Errorf("read snapshot: %w", err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return ShopInfo{}, fmt.Errorf("read snapshot %s: %w", path, err)
	}
	defer gz.Close()
	head, err := bufio.NewReader(gz).ReadBytes('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return ShopInfo{}, fmt.Errorf("read snapshot %s: %w", path, err)
	}
	shop, err := parseSnapshotHeader(head)
	if err != nil {
		return ShopInfo{}, fmt.Errorf("read snapshot %s: %w", path, err)
	}
	return shop, nil
}

// LoadSnapshot feeds a snapshot file to sink in batches, in file order.
func LoadSnapshot(ctx context.Context, path string, sink Sink) (Stats, error) {
	f, err := os.Open(path)
	if err != nil {
		return Stats{}, fmt.Errorf("load snapshot: %w", err)
	}
	defer f.Close()
	st, err := ReadSnapshot(ctx, bufio.NewReaderSize(f, 1<<16), sink)
	if err != nil {
		return st, fmt.Errorf("load snapshot %s: %w", path, err)
	}
	return st, nil
}

// ReadSnapshot is LoadSnapshot on a gzip-compressed stream. Lines are
// decoded on several goroutines, a block at a time, and handed to the sink
// in file order: JSON decoding is most of the work for a big shop.
func ReadSnapshot(ctx context.Context, r io.Reader, sink Sink) (Stats, error) {
	var st Stats
	gz, err := gzip.NewReader(r)
	if err != nil {
		return st, err
	}
	defer gz.Close()
	br := bufio.NewReaderSize(gz, 1<<20)
	head, err := br.ReadBytes('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return st, fmt.Errorf("header: %w", err)
	}
	if _, err := parseSnapshotHeader(head); err != nil {
		return st, err
	}

	ctx, cancel := context.WithCancel(ctx)
	workers := runtime.GOMAXPROCS(0)
	inOrder := make(chan *snapBlock, 2*workers) // bounds the blocks in memory
	work := make(chan *snapBlock)
	var readErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(work)
		defer close(inOrder)
		readErr = readSnapshotBlocks(ctx, br, inOrder, work)
	}()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range work {
				b.decode()
			}
		}()
	}
	defer func() {
		cancel()
		wg.Wait()
	}()

	products := newBatcher(BatchSize, "products", sink.AddProducts)
	customers := newBatcher(BatchSize, "customers", sink.AddCustomers)
	orders := newBatcher(BatchSize, "orders", sink.AddOrders)
	// Records go out in file order: a pending batch of one kind is flushed
	// before a record of another kind, so orders never precede their
	// customers.
	kind := recNone
	flushKind := func() error {
		switch kind {
		case recProduct:
			return products.flush()
		case recCustomer:
			return customers.flush()
		case recOrder:
			return orders.flush()
		}
		return nil
	}
	for b := range inOrder {
		select {
		case <-b.done:
		case <-ctx.Done():
			return st, ctx.Err()
		}
		if b.err != nil {
			return st, b.err
		}
		for i := range b.recs {
			rec := &b.recs[i]
			st.Rows++
			if rec.kind != kind {
				if err := flushKind(); err != nil {
					return st, err
				}
				kind = rec.kind
			}
			switch rec.kind {
			case recProduct:
				err = products.push(rec.product)
				st.Products++
			case recCustomer:
				err = customers.push(rec.customer)
				st.Customers++
			case recOrder:
				st.countOrder(&rec.order)
				err = orders.push(rec.order)
			}
			if err != nil {
				return st, err
			}
		}
	}
	if readErr != nil {
		return st, readErr
	}
	if err := ctx.Err(); err != nil {
		return st, err
	}
	return st, flushKind()
}

func parseSnapshotHeader(line []byte) (ShopInfo, error) {
	var head snapLine
	if err := json.Unmarshal(line, &head); err != nil {
		return ShopInfo{}, fmt.Errorf("header: %w", err)
	}
	if head.Format != snapshotFormat || head.Shop == nil {
		return ShopInfo{}, fmt.Errorf("not a %s file (format %q)", snapshotFormat, head.Format)
	}
	return *head.Shop, nil
}

const snapBlockLines = 1024

type recKind uint8

const (
	recNone recKind = iota
	recProduct
	recCustomer
	recOrder
)

type snapRecord struct {
	kind     recKind
	product  simulator.Product
	customer simulator.Customer
	order    simulator.Order
}

// snapBlock is a run of lines decoded together; done closes when recs or
// err are ready.
type snapBlock struct {
	first int // record number of the first line, from 1
	lines [][]byte
	recs  []snapRecord
	err   error
	done  chan struct{}
}

func (b *snapBlock) decode() {
	defer close(b.done)
	b.recs = make([]snapRecord, len(b.lines))
	for i, raw := range b.lines {
		var line snapLine
		if err := json.Unmarshal(raw, &line); err != nil {
			b.err = fmt.Errorf("record %d: %w", b.first+i, err)
			return
		}
		rec := &b.recs[i]
		switch {
		case line.Product != nil:
			rec.kind, rec.product = recProduct, productFromSnap(line.Product)
		case line.Customer != nil:
			rec.kind, rec.customer = recCustomer, customerFromSnap(line.Customer)
		case line.Order != nil:
			rec.kind, rec.order = recOrder, orderFromSnap(line.Order)
		default:
			b.err = fmt.Errorf("record %d: no product, customer or order", b.first+i)
			return
		}
	}
	b.lines = nil
}

// readSnapshotBlocks cuts the stream into blocks of lines, queueing each
// for the emitter (in order) and for a decoder.
func readSnapshotBlocks(ctx context.Context, br *bufio.Reader, inOrder, work chan<- *snapBlock) error {
	next := 1
	for eof := false; !eof; {
		b := &snapBlock{first: next, done: make(chan struct{})}
		for len(b.lines) < snapBlockLines {
			line, err := br.ReadBytes('\n')
			if err != nil && !errors.Is(err, io.EOF) {
				return fmt.Errorf("record %d: %w", next, err)
			}
			if len(bytes.TrimSpace(line)) > 0 {
				b.lines = append(b.lines, line)
				next++
			}
			if err != nil {
				eof = true
				break
			}
		}
		if len(b.lines) == 0 {
			break
		}
		select {
		case inOrder <- b:
		case <-ctx.Done():
			return ctx.Err()
		}
		select {
		case work <- b:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}
