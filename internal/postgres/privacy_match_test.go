package postgres

import (
	"encoding/json"
	"strconv"
	"testing"

	"github.com/cvo-app/cvo/internal/cvo"
)

// FuzzPayloadConcerns feeds stored payloads (outside input) to the
// redaction matcher: it never panics, always finds the customer named by
// id or by an email in any case, and never matches a payload that holds
// neither the id nor the email.
func FuzzPayloadConcerns(f *testing.F) {
	f.Add(int64(7), "Ann@Example.com", `{"id":1,"customer":{"id":7}}`)
	f.Add(int64(17), "a@b.co", `{"created_at":"2026-07-17T07:07:07Z"}`)
	f.Add(int64(1), "", "not json \u0040")
	f.Fuzz(func(t *testing.T, id int64, email, payload string) {
		if id <= 0 {
			return
		}
		m := newCustomerMatcher(cvo.CustomerRef{ID: strconv.FormatInt(id, 10), Email: email})
		m.payloadConcerns("orders/create", []byte(payload))

		named, _ := json.Marshal(map[string]any{"payload": payload, "customer": map[string]any{"id": id}})
		if !m.payloadConcerns("orders/create", named) {
			t.Fatalf("customer %d not found in %s", id, named)
		}
		if m.email != "" {
			mailed, _ := json.Marshal(map[string]any{"id": id + 1, "email": email})
			if !m.payloadConcerns("orders/create", mailed) {
				t.Fatalf("email %q not found in %s", email, mailed)
			}
		}
		other, _ := json.Marshal(map[string]any{"id": id + 1, "customer": map[string]any{"id": id + 1}, "n": id * 10})
		if m.phone == "" && m.payloadConcerns("orders/create", other) {
			t.Fatalf("customer %d matched %s", id, other)
		}
	})
}
