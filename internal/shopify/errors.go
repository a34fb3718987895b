package shopify

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Sentinels for Admin API failures, matched with errors.Is against the
// *HTTPError and GraphQLErrors values AdminClient.Do returns.
var (
	// ErrUnauthorized: the access token is invalid or expired. Refresh it
	// (OAuth.Refresh) and retry; if refresh fails with ErrInvalidGrant the
	// shop must re-install.
	ErrUnauthorized = errors.New("shopify: access token rejected")
	// ErrPaymentRequired: the shop is frozen (unpaid plan); retry much later.
	ErrPaymentRequired = errors.New("shopify: shop is frozen")
	// ErrForbidden: the token lacks a scope the request needs.
	ErrForbidden = errors.New("shopify: forbidden")
	// ErrNotFound: unknown shop or API version.
	ErrNotFound = errors.New("shopify: not found")
	// ErrShopLocked: the shop is locked (HTTP 423); do not retry soon.
	ErrShopLocked = errors.New("shopify: shop is locked")
	// ErrServerError: Shopify kept answering 5xx after all retries.
	ErrServerError = errors.New("shopify: server error")
	// ErrThrottled: still throttled after the allowed number of waits.
	ErrThrottled = errors.New("shopify: throttled")
	// ErrAccessDenied: a GraphQL ACCESS_DENIED error, usually a missing
	// scope (e.g. read_all_orders for orders older than 60 days).
	ErrAccessDenied = errors.New("shopify: access denied")
	// ErrMaxCostExceeded: the query alone costs more than the bucket can
	// ever hold (1,000 points); it must be split, retrying cannot help.
	ErrMaxCostExceeded = errors.New("shopify: query cost exceeds the maximum")
	// ErrOutcomeUnknown: a request sent with SendOnce got a 5xx answer or
	// none at all, so it may or may not have run at Shopify; look before
	// sending it again.
	ErrOutcomeUnknown = errors.New("shopify: request may or may not have run")
)

const maxErrorMessage = 300

// HTTPError is a non-200 answer from the GraphQL endpoint.
type HTTPError struct {
	Shop    string
	Status  int
	Message string // Shopify's "errors" text, bounded; never request data
}

func (e *HTTPError) Error() string {
	msg := fmt.Sprintf("shopify admin api for %s: HTTP %d", e.Shop, e.Status)
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// Is maps HTTP statuses onto the sentinels.
func (e *HTTPError) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.Status == http.StatusUnauthorized
	case ErrPaymentRequired:
		return e.Status == http.StatusPaymentRequired
	case ErrForbidden:
		return e.Status == http.StatusForbidden
	case ErrNotFound:
		return e.Status == http.StatusNotFound
	case ErrShopLocked:
		return e.Status == http.StatusLocked
	case ErrServerError:
		return e.Status >= 500
	case ErrThrottled:
		return e.Status == http.StatusTooManyRequests
	}
	return false
}

// GraphQLError is one entry of a response's top-level "errors".
type GraphQLError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path,omitempty"`
	Extensions map[string]any `json:"extensions,omitempty"`
}

// Code is extensions.code, e.g. THROTTLED, ACCESS_DENIED,
// MAX_COST_EXCEEDED, INTERNAL_SERVER_ERROR; empty when absent.
func (e GraphQLError) Code() string {
	code, _ := e.Extensions["code"].(string)
	return code
}

// GraphQLErrors are top-level GraphQL errors (HTTP 200 with "errors"). When
// Shopify also returned data, Do has decoded it before returning these.
type GraphQLErrors []GraphQLError

func (es GraphQLErrors) Error() string {
	parts := make([]string, 0, len(es))
	for _, e := range es {
		s := bounded(e.Message)
		if code := e.Code(); code != "" {
			s = code + ": " + s
		}
		parts = append(parts, s)
	}
	return "shopify graphql errors: " + strings.Join(parts, "; ")
}

// HasCode reports whether any error carries extensions.code == code.
func (es GraphQLErrors) HasCode(code string) bool {
	for _, e := range es {
		if e.Code() == code {
			return true
		}
	}
	return false
}

// Is maps error codes onto the sentinels.
func (es GraphQLErrors) Is(target error) bool {
	switch target {
	case ErrAccessDenied:
		return es.HasCode("ACCESS_DENIED")
	case ErrMaxCostExceeded:
		return es.HasCode("MAX_COST_EXCEEDED")
	case ErrThrottled:
		return es.HasCode("THROTTLED")
	}
	return false
}

// UserError is one entry of a mutation payload's userErrors.
type UserError struct {
	Field   []string `json:"field"`
	Message string   `json:"message"`
	Code    string   `json:"code,omitempty"`
}

// UserErrors is the userErrors list of a mutation payload. Mutations report
// validation problems this way with HTTP 200, so every payload must be
// checked: declare the field as UserErrors and call Err.
//
//	var out struct{ TagsAdd struct{ UserErrors shopify.UserErrors `json:"userErrors"` } `json:"tagsAdd"` }
//	if _, err := c.Do(ctx, m, vars, &out); err != nil { ... }
//	if err := out.TagsAdd.UserErrors.Err(); err != nil { ... }
type UserErrors []UserError

func (us UserErrors) Error() string {
	parts := make([]string, 0, len(us))
	for _, u := range us {
		s := bounded(u.Message)
		if len(u.Field) > 0 {
			s = strings.Join(u.Field, ".") + ": " + s
		}
		if u.Code != "" {
			s += " (" + u.Code + ")"
		}
		parts = append(parts, s)
	}
	return "shopify user errors: " + strings.Join(parts, "; ")
}

// Err returns nil for an empty list and the list itself otherwise, so a nil
// check stays correct (a nil UserErrors in an error interface is not nil).
func (us UserErrors) Err() error {
	if len(us) == 0 {
		return nil
	}
	return us
}

func bounded(s string) string {
	if len(s) > maxErrorMessage {
		s = strings.ToValidUTF8(s[:maxErrorMessage], "") + "…"
	}
	return s
}
