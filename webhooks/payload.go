package webhooks

import (
	"bytes"
	"encoding/json"

	"github.com/cvo-app/cvo/internal/cvo"
)

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
	ShopDomain  string          `json:"shop_domain"`
	Customer    customerPayload `json:"customer"`
	DataRequest struct {
		ID json.Number `json:"id"`
	} `json:"data_request"`
}

// requestID names the export: Shopify's data request id, or the delivery's
// id when a payload lacks one.
func (p dataRequestPayload) requestID(webhookID string) string {
	if p.DataRequest.ID != "" {
		return p.DataRequest.ID.String()
	}
	return webhookID
}

type customerRedactPayload struct {
	ShopDomain string          `json:"shop_domain"`
	Customer   customerPayload `json:"customer"`
}

type shopRedactPayload struct {
	ShopDomain string `json:"shop_domain"`
}

type scopesUpdatePayload struct {
	Previous []string `json:"previous"`
	Current  []string `json:"current"`
}

func decode(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return cvo.Errorf(cvo.EINVALID, "Malformed webhook payload: %v", err)
	}
	return nil
}

func checkShop(payloadShop, headerShop string) error {
	if payloadShop != "" && payloadShop != headerShop {
		return cvo.Errorf(cvo.EINVALID, "Payload shop_domain does not match the delivering shop.")
	}
	return nil
}

func validCustomerID(id json.Number) error {
	if _, err := id.Int64(); err != nil {
		return cvo.Errorf(cvo.EINVALID, "Customer id %q is not a Shopify id.", id.String())
	}
	return nil
}

func parseDataRequest(body []byte, shop string) (dataRequestPayload, error) {
	var p dataRequestPayload
	if err := decode(body, &p); err != nil {
		return p, err
	}
	if err := checkShop(p.ShopDomain, shop); err != nil {
		return p, err
	}
	return p, validCustomerID(p.Customer.ID)
}

func parseCustomerRedact(body []byte, shop string) (customerRedactPayload, error) {
	var p customerRedactPayload
	if err := decode(body, &p); err != nil {
		return p, err
	}
	if err := checkShop(p.ShopDomain, shop); err != nil {
		return p, err
	}
	return p, validCustomerID(p.Customer.ID)
}

func parseShopRedact(body []byte, shop string) (shopRedactPayload, error) {
	var p shopRedactPayload
	if err := decode(body, &p); err != nil {
		return p, err
	}
	return p, checkShop(p.ShopDomain, shop)
}

func parseScopesUpdate(body []byte) (scopesUpdatePayload, error) {
	var p scopesUpdatePayload
	return p, decode(body, &p)
}
