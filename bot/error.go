package bot

import (
	"errors"
	"fmt"
)

// Error codes, in the style of a small closed set every adapter can map to
// its own protocol (an ephemeral Slack message, a Discord reply…).
const (
	ECONFLICT     = "conflict"
	EINVALID      = "invalid"
	ENOTFOUND     = "not_found"
	EUNAUTHORIZED = "unauthorized"
	EINTERNAL     = "internal"
)

// Error is a domain error whose Message is safe to show to the user. Field,
// when set, names the form field the error is about.
type Error struct {
	Code    string
	Message string
	Field   string
}

func (e *Error) Error() string { return fmt.Sprintf("liaison: %s: %s", e.Code, e.Message) }

// Errorf returns an *Error with a formatted, user-facing message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// fieldErrorf returns an EINVALID *Error about one form field.
func fieldErrorf(field, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Message: fmt.Sprintf(format, args...), Field: field}
}

// ErrorCode returns the code of the first *Error in err's chain, or EINTERNAL.
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

// ErrorMessage returns the user-facing message for err. Anything that is not
// a domain error shows only "Internal error." so no detail leaks.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	}
	if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

// Errors callers branch on with errors.Is.
var (
	ErrNotFound          = &Error{Code: ENOTFOUND, Message: "Not found."}
	ErrNotApprover       = &Error{Code: EUNAUTHORIZED, Message: "Sorry, only this route's approvers can do that."}
	ErrSelfApproval      = &Error{Code: EUNAUTHORIZED, Message: "Sorry, you cannot approve your own draft here: another approver has to review it."}
	ErrNotAuthor         = &Error{Code: EUNAUTHORIZED, Message: "Sorry, only the author of this draft can withdraw it."}
	ErrNotResponder      = &Error{Code: EUNAUTHORIZED, Message: "Sorry, only this route's responders and approvers can act on its items."}
	ErrNotSigner         = &Error{Code: EUNAUTHORIZED, Message: "Sorry, only the person this reply is signed by can accept it."}
	ErrSelfTrust         = &Error{Code: EUNAUTHORIZED, Message: "Sorry, nobody can promote or demote themselves: ask another approver of the route."}
	ErrNoConsent         = &Error{Code: EINVALID, Message: "This draft's author has not yet agreed to publish under their name: they need to set up their public profile first (/liaison profile)."}
	ErrAlreadyPublished  = &Error{Code: ECONFLICT, Message: "This draft has already been published."}
	ErrEmptyText         = &Error{Code: EINVALID, Message: "The text is empty.", Field: FieldTextID}
	ErrNoRoute           = &Error{Code: ENOTFOUND, Message: "No route matches this item."}
	ErrIllegalTransition = &Error{Code: ECONFLICT, Message: "That action is not possible in the current state."}
)

// TransitionError reports a state change the state machine does not allow.
// It matches ErrIllegalTransition with errors.Is.
type TransitionError struct {
	Entity   string // "item" or "draft"
	ID       int64
	From, To string
}

func (e *TransitionError) Error() string {
	return fmt.Sprintf("liaison: %s %d cannot go from %s to %s", e.Entity, e.ID, e.From, e.To)
}

// Is makes errors.Is(err, ErrIllegalTransition) true.
func (e *TransitionError) Is(target error) bool { return target == ErrIllegalTransition }

// As lets ErrorMessage/ErrorCode find a user-facing message.
func (e *TransitionError) As(target any) bool {
	if p, ok := target.(**Error); ok {
		*p = &Error{Code: ECONFLICT, Message: fmt.Sprintf("That is not possible: the %s is %s.", e.Entity, humanState(e.From))}
		return true
	}
	return false
}

func humanState(s string) string {
	switch s {
	case "awaiting_approval":
		return "awaiting approval"
	default:
		return s
	}
}
