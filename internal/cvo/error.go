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

// Error is a failure whose Message is safe to show to the merchant. Field,
// when set, names the input it is about (as the request named it), so a
// form can show the message beside that field.
type Error struct {
	Code    string
	Message string
	Field   string
}

func (e *Error) Error() string {
	return fmt.Sprintf("cvo error: code=%s message=%s", e.Code, e.Message)
}

// Errorf builds an Error with a merchant-safe message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldErrorf builds an Error about one input field.
func FieldErrorf(code, field, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Field: field}
}

// ErrorField is the field the first *Error in err's chain is about, if any.
func ErrorField(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
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
