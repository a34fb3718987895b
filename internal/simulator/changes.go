package simulator

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Live changes: single-record writes that, when asked, send the webhooks
// Shopify would send for them. Bulk loading goes through AddCustomers,
// AddProducts and AddOrders instead.

// ChangeOption adjusts a live change.
type ChangeOption func(*changeOpts)

type changeOpts struct {
	webhooks bool
	collect  func(*WebhookDelivery)
}

// WithWebhooks makes a change send its webhooks to the app (to the topics
// it subscribes to) before the call returns.
func WithWebhooks() ChangeOption { return func(o *changeOpts) { o.webhooks = true } }

func applyOpts(opts []ChangeOption) changeOpts {
	var o changeOpts
	for _, f := range opts {
		f(&o)
	}
	return o
}

// ErrNotFound is returned for a change to a record the shop lacks.
var ErrNotFound = errors.New("not found")

func (s *Simulator) notify(ctx context.Context, sh *shopState, o changeOpts, events []webhookEvent) {
	if o.collect != nil {
		s.collect(sh.domain, events, o.collect)
		return
	}
	if !o.webhooks || !sh.isInstalled() {
		return
	}
	s.emit(ctx, sh.domain, events)
}

// CreateCustomer adds one customer (customers/create).
func (s *Simulator) CreateCustomer(ctx context.Context, shop string, c Customer, opts ...ChangeOption) (Customer, error) {
	sh, err := s.mustShop(shop)
	if err != nil {
		return Customer{}, err
	}
	sh.mu.Lock()
	batch := []Customer{c}
	if err := sh.store.addCustomers(batch, s.now()); err != nil {
		sh.mu.Unlock()
		return Customer{}, fmt.Errorf("create customer in %s: %w", shop, err)
	}
	i := sh.store.customerIndex(batch[0].ID)
	out := sh.store.customerOut(&sh.store.customers[i])
	payload := s.customerPayload(sh, &sh.store.customers[i])
	sh.mu.Unlock()
	s.notify(ctx, sh, applyOpts(opts), []webhookEvent{{"customers/create", payload}})
	return out, nil
}

// UpdateCustomer changes a customer through fn and stamps updatedAt
// (customers/update).
func (s *Simulator) UpdateCustomer(ctx context.Context, shop string, id int64, fn func(*Customer), opts ...ChangeOption) (Customer, error) {
	sh, err := s.mustShop(shop)
	if err != nil {
		return Customer{}, err
	}
	sh.mu.Lock()
	i := sh.store.customerIndex(id)
	if i < 0 {
		sh.mu.Unlock()
		return Customer{}, fmt.Errorf("update customer %d in %s: %w", id, shop, ErrNotFound)
	}
	rec := &sh.store.customers[i]
	c := sh.store.customerOut(rec)
	fn(&c)
	c.ID = id
	c.UpdatedAt = s.now()
	nr := sh.store.customerFromInput(c)
	nr.orders, nr.spent = rec.orders, rec.spent
	*rec = nr
	sh.store.customersVersion++
	out := sh.store.customerOut(rec)
	payload := s.customerPayload(sh, rec)
	sh.mu.Unlock()
	s.notify(ctx, sh, applyOpts(opts), []webhookEvent{{"customers/update", payload}})
	return out, nil
}

// DeleteCustomer deletes a customer (customers/delete). Like Shopify it
// refuses customers who have orders.
func (s *Simulator) DeleteCustomer(ctx context.Context, shop string, id int64, opts ...ChangeOption) error {
	sh, err := s.mustShop(shop)
	if err != nil {
		return err
	}
	sh.mu.Lock()
	i := sh.store.customerIndex(id)
	if i < 0 {
		sh.mu.Unlock()
		return fmt.Errorf("delete customer %d in %s: %w", id, shop, ErrNotFound)
	}
	for j := range sh.store.orders {
		if o := &sh.store.orders[j]; !o.deleted && o.customer == id {
			sh.mu.Unlock()
			return fmt.Errorf("delete customer %d in %s: customer can't be deleted because they have orders", id, shop)
		}
	}
	sh.store.customers[i].deleted = true
	sh.store.liveCustomers--
	sh.store.customersVersion++
	sh.mu.Unlock()
	s.notify(ctx, sh, applyOpts(opts), []webhookEvent{{"customers/delete", map[string]any{
		"id": id, "admin_graphql_api_id": sh.gid("Customer", id),
	}}})
	return nil
}

// CreateOrder adds one order (orders/create, orders/paid).
func (s *Simulator) CreateOrder(ctx context.Context, shop string, o Order, opts ...ChangeOption) (Order, error) {
	sh, err := s.mustShop(shop)
	if err != nil {
		return Order{}, err
	}
	sh.mu.Lock()
	batch := []Order{o}
	if err := sh.store.addOrders(batch, s.now()); err != nil {
		sh.mu.Unlock()
		return Order{}, fmt.Errorf("create order in %s: %w", shop, err)
	}
	out := sh.store.orderOut(&sh.store.orders[sh.store.orderIndex(batch[0].ID)])
	payload := s.orderPayload(sh, out)
	sh.mu.Unlock()
	s.notify(ctx, sh, applyOpts(opts), []webhookEvent{{"orders/create", payload}, {"orders/paid", payload}})
	return out, nil
}

// UpdateOrder changes an order through fn and stamps updatedAt
// (orders/updated; also orders/cancelled when fn cancels it and
// refunds/create for each refund fn adds).
func (s *Simulator) UpdateOrder(ctx context.Context, shop string, id int64, fn func(*Order), opts ...ChangeOption) (Order, error) {
	sh, err := s.mustShop(shop)
	if err != nil {
		return Order{}, err
	}
	sh.mu.Lock()
	st := &sh.store
	i := st.orderIndex(id)
	if i < 0 {
		sh.mu.Unlock()
		return Order{}, fmt.Errorf("update order %d in %s: %w", id, shop, ErrNotFound)
	}
	before := st.orderOut(&st.orders[i])
	o := st.orderOut(&st.orders[i])
	fn(&o)
	o.ID, o.Number = id, before.Number
	now := s.now()
	o.UpdatedAt = now
	if err := st.prepareOrder(&o, now); err != nil {
		sh.mu.Unlock()
		return Order{}, fmt.Errorf("update order %d in %s: %w", id, shop, err)
	}
	st.applyOrderToCustomer(&st.orders[i], -1)
	st.orders[i] = st.orderFromInput(&o)
	st.applyOrderToCustomer(&st.orders[i], 1)
	st.ordersVersion++
	st.customersVersion++
	out := st.orderOut(&st.orders[i])
	payload := s.orderPayload(sh, out)
	events := []webhookEvent{{"orders/updated", payload}}
	if before.CancelledAt.IsZero() && !out.CancelledAt.IsZero() {
		events = append(events, webhookEvent{"orders/cancelled", payload})
	}
	known := map[int64]bool{}
	for _, r := range before.Refunds {
		known[r.ID] = true
	}
	for _, r := range out.Refunds {
		if !known[r.ID] {
			events = append(events, webhookEvent{"refunds/create", s.refundPayload(sh, out, r)})
		}
	}
	sh.mu.Unlock()
	s.notify(ctx, sh, applyOpts(opts), events)
	return out, nil
}

// CancelOrder cancels an order (orders/cancelled, orders/updated).
func (s *Simulator) CancelOrder(ctx context.Context, shop string, id int64, reason string, opts ...ChangeOption) (Order, error) {
	now := s.now()
	return s.UpdateOrder(ctx, shop, id, func(o *Order) {
		if o.CancelledAt.IsZero() {
			o.CancelledAt = now
			o.CancelReason = reason
		}
	}, opts...)
}

// RefundOrder adds a refund to an order (refunds/create, orders/updated).
func (s *Simulator) RefundOrder(ctx context.Context, shop string, id int64, amount Amount, opts ...ChangeOption) (Order, error) {
	now := s.now()
	return s.UpdateOrder(ctx, shop, id, func(o *Order) {
		o.Refunds = append(o.Refunds, Refund{CreatedAt: now, Amount: amount})
	}, opts...)
}

// ---- REST-shaped webhook payloads ----------------------------------------

func restTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.RFC3339)
}

func (s *Simulator) customerPayload(sh *shopState, r *customerRec) map[string]any {
	c := sh.store.customerOut(r)
	tags := ""
	for i, t := range c.Tags {
		if i > 0 {
			tags += ", "
		}
		tags += t
	}
	p := map[string]any{
		"id": c.ID, "admin_graphql_api_id": sh.gid("Customer", c.ID),
		"email": nullIfEmpty(c.Email), "first_name": nullIfEmpty(c.FirstName), "last_name": nullIfEmpty(c.LastName),
		"phone": nullIfEmpty(c.Phone), "tags": tags, "currency": sh.opts.Currency,
		"created_at": restTime(c.CreatedAt), "updated_at": restTime(c.UpdatedAt),
		"orders_count": r.orders, "total_spent": r.spent.String(), "state": "disabled", "verified_email": c.Email != "",
	}
	if a := c.DefaultAddress; a != nil {
		p["default_address"] = map[string]any{
			"city": nullIfEmpty(a.City), "province": nullIfEmpty(a.Province), "country": nullIfEmpty(a.Country),
			"country_code": nullIfEmpty(a.CountryCode), "zip": nullIfEmpty(a.Zip), "default": true,
		}
	}
	return p
}

func (s *Simulator) orderPayload(sh *shopState, o Order) map[string]any {
	lines := make([]any, len(o.LineItems))
	for i, l := range o.LineItems {
		lines[i] = map[string]any{
			"id": l.ID, "admin_graphql_api_id": sh.gid("LineItem", l.ID), "product_id": nullIfZero(l.ProductID),
			"variant_id": nullIfZero(l.VariantID), "title": l.Title, "sku": nullIfEmpty(l.SKU),
			"quantity": l.Quantity, "price": l.UnitPrice.String(),
		}
	}
	refunds := make([]any, len(o.Refunds))
	for i, r := range o.Refunds {
		refunds[i] = s.refundPayload(sh, o, r)
	}
	codes := make([]any, len(o.DiscountCodes))
	for i, c := range o.DiscountCodes {
		codes[i] = map[string]any{"code": c}
	}
	presentment := o.PresentmentCurrency
	if presentment == "" {
		presentment = sh.opts.Currency
	}
	p := map[string]any{
		"id": o.ID, "admin_graphql_api_id": sh.gid("Order", o.ID), "name": "#" + strconv.FormatInt(o.Number, 10),
		"order_number": o.Number, "email": nullIfEmpty(o.Email),
		"created_at": restTime(o.CreatedAt), "updated_at": restTime(o.UpdatedAt), "processed_at": restTime(o.ProcessedAt),
		"cancelled_at": restTime(o.CancelledAt), "cancel_reason": nil, "test": o.Test, "source_name": nullIfEmpty(o.SourceName),
		"currency": sh.opts.Currency, "presentment_currency": presentment,
		"total_price": o.Total.String(), "subtotal_price": o.Subtotal.String(),
		"current_total_price": max(o.Total-o.Refunded(), 0).String(),
		"discount_codes":      codes, "line_items": lines, "refunds": refunds,
		"financial_status": financialStatus(o),
	}
	if !o.CancelledAt.IsZero() {
		p["cancel_reason"] = lowerOr(o.CancelReason, "other")
	}
	if o.CustomerID != 0 {
		p["customer"] = map[string]any{"id": o.CustomerID, "admin_graphql_api_id": sh.gid("Customer", o.CustomerID)}
	} else {
		p["customer"] = nil
	}
	return p
}

func (s *Simulator) refundPayload(sh *shopState, o Order, r Refund) map[string]any {
	return map[string]any{
		"id": r.ID, "admin_graphql_api_id": sh.gid("Refund", r.ID), "order_id": o.ID,
		"created_at": restTime(r.CreatedAt), "processed_at": restTime(r.CreatedAt), "note": nullIfEmpty(r.Note),
		"transactions": []any{map[string]any{"kind": "refund", "status": "success", "amount": r.Amount.String(), "currency": sh.opts.Currency}},
	}
}

func financialStatus(o Order) string {
	switch ref := o.Refunded(); {
	case ref == 0:
		return "paid"
	case ref >= o.Total:
		return "refunded"
	default:
		return "partially_refunded"
	}
}

func nullIfZero(v int64) any {
	if v == 0 {
		return nil
	}
	return v
}

func lowerOr(s, def string) string {
	if s == "" {
		return def
	}
	out := []byte(s)
	for i, c := range out {
		if c >= 'A' && c <= 'Z' {
			out[i] = c + 'a' - 'A'
		}
	}
	return string(out)
}
