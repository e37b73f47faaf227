package aftercare

import (
	"errors"
	"fmt"
)

// Error codes. The HTTP edge maps each to one status in one place.
const (
	EINVALID      = "invalid"      // signed but unusable input
	EUNAUTHORIZED = "unauthorized" // missing or wrong signature
	ENOTFOUND     = "not_found"    // unknown route or carrier
	ETOOLARGE     = "too_large"    // body over the size cap
	EUNAVAILABLE  = "unavailable"  // a dependency failed; the sender should retry
	ECONFLICT     = "conflict"     // an optimistic write lost a race; retry
	EINTERNAL     = "internal"     // a bug
)

// Error is the domain error: a code for machines and a message for people.
type Error struct {
	Code    string
	Message string
	Err     error // cause, if any; never shown to callers
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an *Error with a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap builds an *Error that keeps its cause for logs.
func Wrap(code string, err error, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Err: err}
}

// ErrorCode returns the code of err, EINTERNAL for errors that carry none.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	}
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the caller-safe message of err.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	}
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
