package cvo

import (
	"errors"
	"fmt"
)

// Error codes say what kind of failure happened, so the one HTTP error
// handler can answer with the right status without parsing messages.
const (
	EINVALID      = "invalid"
	ENOTFOUND     = "not_found"
	EUNAUTHORIZED = "unauthorized"
	ECONFLICT     = "conflict"
	EINTERNAL     = "internal"
)

// Error is a failure whose Message is safe to show to the merchant.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("cvo error: code=%s message=%s", e.Code, e.Message)
}

// Errorf builds an Error with a merchant-safe message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode is the code of the first *Error in err's chain, EINTERNAL otherwise.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage is the merchant-safe message of err; internal errors never
// leak their text.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}
