package postgres

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/cvo-app/cvo/internal/cvo"
)

// customerMatcher decides whether a stored webhook payload concerns one
// customer, on parsed values only.
type customerMatcher struct {
	id    string // decimal Shopify id, "" when unknown
	gid   string // its GraphQL id
	email string // lower case
	phone string // digits only
}

// minPhoneDigits keeps a short or missing phone from matching every
// number-like string.
const minPhoneDigits = 7

func newCustomerMatcher(c cvo.CustomerRef) customerMatcher {
	m := customerMatcher{email: strings.ToLower(strings.TrimSpace(c.Email))}
	if id, ok := customerIDOf(c); ok {
		m.id = strconv.FormatInt(id, 10)
		m.gid = "gid://shopify/Customer/" + m.id
	}
	if d := digits(c.Phone); len(d) >= minPhoneDigits {
		m.phone = d
	}
	return m
}

// payloadConcerns reports whether a delivery of topic names the customer:
// as the resource itself (customers/* topics), as an order's or any
// object's "customer", by customer_id, by GraphQL id, or by email or phone
// anywhere. A payload that is not JSON is matched on its contact details
// and on the id as a whole number, which may drop a little too much but
// never keeps the customer's data.
func (m customerMatcher) payloadConcerns(topic string, payload []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return m.rawConcerns(string(payload))
	}
	if root, ok := v.(map[string]any); ok && strings.HasPrefix(topic, "customers/") && m.isID(root["id"]) {
		return true
	}
	return m.walk(v)
}

func (m customerMatcher) walk(v any) bool {
	switch t := v.(type) {
	case map[string]any:
		for k, child := range t {
			switch k {
			case "customer":
				if c, ok := child.(map[string]any); ok && m.isID(c["id"]) {
					return true
				}
			case "customer_id":
				if m.isID(child) {
					return true
				}
			}
			if m.walk(child) {
				return true
			}
		}
	case []any:
		for _, child := range t {
			if m.walk(child) {
				return true
			}
		}
	case string:
		return m.stringConcerns(t)
	}
	return false
}

// isID reports whether a JSON value is the customer's id, sent as a number
// or as a string.
func (m customerMatcher) isID(v any) bool {
	if m.id == "" {
		return false
	}
	switch t := v.(type) {
	case json.Number:
		return t.String() == m.id
	case string:
		return t == m.id || t == m.gid
	}
	return false
}

func (m customerMatcher) stringConcerns(s string) bool {
	if m.gid != "" && s == m.gid {
		return true
	}
	if m.email != "" && containsEmail(strings.ToLower(s), m.email) {
		return true
	}
	return m.phone != "" && digits(s) == m.phone
}

func (m customerMatcher) rawConcerns(s string) bool {
	if m.email != "" && containsEmail(strings.ToLower(s), m.email) {
		return true
	}
	if m.phone != "" && strings.Contains(s, m.phone) {
		return true
	}
	return m.id != "" && containsWholeNumber(s, m.id)
}

// containsEmail finds email in s as a whole address: bob@example.com is
// not in jimbob@example.com or bob@example.com.au.
func containsEmail(s, email string) bool { return containsWhole(s, email, emailChar) }

func emailChar(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || strings.IndexByte("._%+-", b) >= 0
}

func containsWholeNumber(s, n string) bool { return containsWhole(s, n, isDigit) }

// containsWhole finds sub in s where neither neighbour could continue it.
func containsWhole(s, sub string, continues func(byte) bool) bool {
	for from := 0; ; {
		i := strings.Index(s[from:], sub)
		if i < 0 {
			return false
		}
		start, end := from+i, from+i+len(sub)
		if (start == 0 || !continues(s[start-1])) && (end == len(s) || !continues(s[end])) {
			return true
		}
		from = start + 1
	}
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

func digits(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}
