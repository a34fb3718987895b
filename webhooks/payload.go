package webhooks

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/cvo-app/cvo/internal/cvo"
)

// Shopify's HMAC covers the body only: a body signed for one topic and shop
// can be resent with other headers. Every delivery is therefore checked,
// before anything is recorded, to have the shape of its topic and to name
// the delivering shop wherever it names a shop at all.

// Shopify sends ids as JSON numbers; json.Number keeps every digit of a
// 64-bit id where float64 would round it.
type customerPayload struct {
	ID    json.Number `json:"id"`
	Email string      `json:"email"`
	Phone string      `json:"phone"`
}

func (c customerPayload) ref() cvo.CustomerRef {
	return cvo.CustomerRef{ID: c.ID.String(), Email: c.Email, Phone: c.Phone}
}

type dataRequestPayload struct {
	ShopID          json.Number     `json:"shop_id"`
	ShopDomain      string          `json:"shop_domain"`
	Customer        customerPayload `json:"customer"`
	OrdersRequested *[]json.Number  `json:"orders_requested"`
	DataRequest     *struct {
		ID json.Number `json:"id"`
	} `json:"data_request"`
}

type customerRedactPayload struct {
	ShopID         json.Number     `json:"shop_id"`
	ShopDomain     string          `json:"shop_domain"`
	Customer       customerPayload `json:"customer"`
	OrdersToRedact *[]json.Number  `json:"orders_to_redact"`
	// A data request's fields: a customers/data_request body resent as
	// customers/redact must not erase the customer it asked about.
	OrdersRequested json.RawMessage `json:"orders_requested"`
	DataRequest     json.RawMessage `json:"data_request"`
}

type shopRedactPayload struct {
	ShopID     json.Number `json:"shop_id"`
	ShopDomain string      `json:"shop_domain"`
}

// shopPayload is the shop resource app/uninstalled carries.
type shopPayload struct {
	ID              json.Number `json:"id"`
	Domain          *string     `json:"domain"`
	MyshopifyDomain *string     `json:"myshopify_domain"`
}

type scopesUpdatePayload struct {
	Previous []string  `json:"previous"`
	Current  *[]string `json:"current"`
}

// resourcePayload is what every data topic's body has in common: the
// resource's numeric id and its GraphQL id, whose type names the resource.
type resourcePayload struct {
	ID                json.Number `json:"id"`
	AdminGraphQLAPIID string      `json:"admin_graphql_api_id"`
	OrderID           json.Number `json:"order_id"`
	Status            string      `json:"status"`
	// Customer is an order's buyer: an object, or null for guest checkouts.
	Customer json.RawMessage `json:"customer"`
}

// shopFields are the top-level fields through which a payload names a shop.
type shopFields struct {
	ShopDomain      *string `json:"shop_domain"`
	Domain          *string `json:"domain"`
	MyshopifyDomain *string `json:"myshopify_domain"`
}

func invalid(format string, args ...any) error {
	return cvo.Errorf(cvo.EINVALID, format, args...)
}

func decode(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return invalid("Malformed webhook payload: %v", err)
	}
	if dec.More() {
		return invalid("Malformed webhook payload: data after the JSON object.")
	}
	return nil
}

// validate checks a signed delivery's body against its topic and shop. It
// returns the decoded payload of the topics the receiver applies itself.
func validate(topic, shop string, body []byte) (any, error) {
	if resource := dataTopics[topic]; resource != "" {
		return nil, validateData(topic, resource, shop, body)
	}
	var obj map[string]json.RawMessage
	if err := decode(body, &obj); err != nil || obj == nil {
		return nil, invalid("A webhook payload must be a JSON object.")
	}
	if err := checkShopFields(topic, shop, body); err != nil {
		return nil, err
	}
	switch topic {
	case "app/uninstalled":
		return nil, validateUninstalled(shop, body)
	case "app/scopes_update":
		var p scopesUpdatePayload
		if err := decode(body, &p); err != nil {
			return nil, err
		}
		if p.Current == nil {
			return nil, invalid("An app/scopes_update payload lists the current scopes.")
		}
		return p, nil
	case "customers/data_request":
		var p dataRequestPayload
		if err := decode(body, &p); err != nil {
			return nil, err
		}
		if err := compliance(p.ShopDomain, shop, p.Customer.ID, p.OrdersRequested); err != nil {
			return nil, err
		}
		if p.DataRequest == nil || !positiveID(p.DataRequest.ID) {
			return nil, invalid("A customers/data_request payload has the data_request id.")
		}
		return p, nil
	case "customers/redact":
		var p customerRedactPayload
		if err := decode(body, &p); err != nil {
			return nil, err
		}
		if p.OrdersRequested != nil || p.DataRequest != nil {
			return nil, invalid("A customers/redact payload is not a data request.")
		}
		return p, compliance(p.ShopDomain, shop, p.Customer.ID, p.OrdersToRedact)
	case "shop/redact":
		var p shopRedactPayload
		if err := decode(body, &p); err != nil {
			return nil, err
		}
		if !positiveID(p.ShopID) || p.ShopDomain == "" {
			return nil, invalid("A shop/redact payload has shop_id and shop_domain.")
		}
		// Every compliance body carries shop_id and shop_domain: a captured
		// customers/redact or data_request resent as shop/redact would erase
		// the whole shop. A shop/redact names nothing smaller than the shop.
		for _, k := range []string{"customer", "orders_to_redact", "orders_requested", "data_request", "id"} {
			if _, ok := obj[k]; ok {
				return nil, invalid("A shop/redact payload names only the shop, not %s.", k)
			}
		}
		return p, nil
	default:
		return nil, invalid("Topic %s is not handled.", topic)
	}
}

// checkShopFields refuses a payload naming another shop in any of the
// fields Shopify uses for it. A shop's domain field may hold its custom
// domain, which cannot be compared; a myshopify.com name can.
func checkShopFields(topic, shop string, body []byte) error {
	var f shopFields
	if err := decode(body, &f); err != nil {
		return invalid("Payload fields shop_domain, domain and myshopify_domain must be strings.")
	}
	return f.check(topic, shop)
}

func (f shopFields) check(topic, shop string) error {
	for _, field := range [...]struct {
		name string
		v    *string
	}{{"shop_domain", f.ShopDomain}, {"myshopify_domain", f.MyshopifyDomain}, {"domain", f.Domain}} {
		name, v := field.name, field.v
		if v == nil || *v == "" {
			continue
		}
		if name == "domain" && !strings.HasSuffix(strings.ToLower(*v), ".myshopify.com") {
			continue
		}
		if !strings.EqualFold(*v, shop) {
			return invalid("The %s payload names another shop in %s than the delivering shop.", topic, name)
		}
	}
	return nil
}

// validateUninstalled accepts only the shop resource of the delivering
// shop: app/uninstalled deletes its tokens.
func validateUninstalled(shop string, body []byte) error {
	var p shopPayload
	if err := decode(body, &p); err != nil {
		return err
	}
	if !positiveID(p.ID) {
		return invalid("An app/uninstalled payload is a shop with an id.")
	}
	name := p.MyshopifyDomain
	if name == nil || *name == "" {
		name = p.Domain
	}
	if name == nil || !strings.EqualFold(*name, shop) {
		return invalid("An app/uninstalled payload is the delivering shop (myshopify_domain or domain).")
	}
	return nil
}

// compliance checks what customers/redact and customers/data_request share.
func compliance(payloadShop, shop string, customerID json.Number, orders *[]json.Number) error {
	if payloadShop == "" || orders == nil {
		return invalid("A compliance payload has shop_domain, the customer and the orders concerned.")
	}
	if !positiveID(customerID) {
		return invalid("Customer id %q is not a Shopify id.", customerID.String())
	}
	for _, id := range *orders {
		if !positiveID(id) {
			return invalid("Order id %q is not a Shopify id.", id.String())
		}
	}
	return nil
}

// validateData checks a data topic's body: the resource of the topic,
// named by a numeric id and a GraphQL id of the resource's type, so a
// customer's body cannot pass as an order's and the reverse.
//
// Data topics are nearly all of the traffic, so their body is decoded
// once, for its shop fields and its resource fields together.
func validateData(topic, resource, shop string, body []byte) error {
	// Unmarshal refuses data after the value as decode does; only an
	// object fills the fields, and null would leave them empty unnoticed.
	if trimmed := bytes.TrimLeft(body, " \t\r\n"); len(trimmed) == 0 || trimmed[0] != '{' {
		return invalid("A webhook payload must be a JSON object.")
	}
	var p struct {
		shopFields
		resourcePayload
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return invalid("The %s payload does not have the shape of a %s: %v", topic, resource, err)
	}
	if err := p.shopFields.check(topic, shop); err != nil {
		return err
	}
	return p.resourcePayload.check(topic, resource)
}

func (p resourcePayload) check(topic, resource string) error {
	if resource == "BulkOperation" {
		id, ok := strings.CutPrefix(p.AdminGraphQLAPIID, "gid://shopify/BulkOperation/")
		if !ok || !positiveID(json.Number(id)) || p.Status == "" {
			return invalid("A bulk_operations/finish payload has the admin_graphql_api_id of a BulkOperation and a status.")
		}
		return nil
	}
	if !positiveID(p.ID) || p.AdminGraphQLAPIID != "gid://shopify/"+resource+"/"+p.ID.String() {
		return invalid("The %s payload is not a %s: it needs an id and the matching admin_graphql_api_id.", topic, resource)
	}
	switch resource {
	case "Refund":
		if !positiveID(p.OrderID) {
			return invalid("A refunds/create payload has the order_id of its order.")
		}
	case "Order":
		if c := bytes.TrimSpace(p.Customer); len(c) > 0 && !bytes.Equal(c, []byte("null")) && c[0] != '{' {
			return invalid("An order's customer is an object or null.")
		}
	}
	return nil
}

// positiveID reports whether id is a Shopify id: a positive 64-bit integer.
func positiveID(id json.Number) bool {
	n, err := strconv.ParseInt(id.String(), 10, 64)
	return err == nil && n > 0
}
