package discordfake

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// apiError is an error response as Discord sends it: {"message","code"[,"errors"]}.
type apiError struct {
	status  int
	code    int
	message string
	errors  obj // nested Discord error object, for 50035
}

func (e *apiError) Error() string {
	return strconv.Itoa(e.status) + " " + e.message + " (code " + strconv.Itoa(e.code) + ")"
}

func (e *apiError) body() obj {
	o := obj{"message": e.message, "code": e.code}
	if e.errors != nil {
		o["errors"] = e.errors
	}
	return o
}

// codeError is Discord's answer with a JSON error code, in Discord's words.
func codeError(status, code int) *apiError {
	return &apiError{status: status, code: code, message: knownCodes[code]}
}

// statusError is Discord's answer without a JSON error code: "404: Not Found".
func statusError(status int) *apiError {
	return &apiError{status: status, message: fmt.Sprintf("%d: %s", status, http.StatusText(status))}
}

func errUnknown(code int) *apiError    { return codeError(http.StatusNotFound, code) }
func errBadRequest(code int) *apiError { return codeError(http.StatusBadRequest, code) }
func errMissingAccess() *apiError      { return codeError(http.StatusForbidden, 50001) }
func errMissingPermissions() *apiError { return codeError(http.StatusForbidden, 50013) }
func errInvalidJSON() *apiError        { return errBadRequest(50109) }

// knownCodes are the JSON error codes the fake returns
// (https://discord.com/developers/docs/topics/opcodes-and-status-codes#json-json-error-codes).
var knownCodes = map[int]string{
	0:      "General error",
	10003:  "Unknown Channel",
	10004:  "Unknown Guild",
	10007:  "Unknown Member",
	10008:  "Unknown Message",
	10011:  "Unknown Role",
	10013:  "Unknown User",
	10015:  "Unknown Webhook",
	10062:  "Unknown interaction",
	10063:  "Unknown application command",
	30007:  "Maximum number of webhooks reached (15)",
	40005:  "Request entity too large",
	40060:  "Interaction has already been acknowledged.",
	50001:  "Missing Access",
	50005:  "Cannot edit a message authored by another user",
	50006:  "Cannot send an empty message",
	50008:  "Cannot send messages in a non-text channel",
	50013:  "Missing Permissions",
	50024:  "Cannot execute action on this channel type",
	50027:  "Invalid Webhook Token",
	50035:  "Invalid Form Body",
	50109:  "The request body contains invalid JSON.",
	160004: "A thread has already been created for this message",
	220001: "Webhooks posted to forum channels must have a thread_name or thread_id",
	220003: "Webhooks can only create threads in forum channels",
}

// formErrors collects field errors into Discord's nested error object:
// {"content": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": "…"}]}}, where a path
// like components.0.custom_id nests one object per segment.
type formErrors struct {
	root obj
}

func (fe *formErrors) add(path, code, msg string) {
	if fe.root == nil {
		fe.root = obj{}
	}
	cur := fe.root
	for _, seg := range strings.Split(path, ".") {
		next, ok := cur[seg].(obj)
		if !ok {
			next = obj{}
			cur[seg] = next
		}
		cur = next
	}
	list, _ := cur["_errors"].([]obj)
	cur["_errors"] = append(list, obj{"code": code, "message": msg})
}

func (fe *formErrors) empty() bool { return len(fe.root) == 0 }

func (fe *formErrors) err() *apiError {
	if fe.empty() {
		return nil
	}
	e := errBadRequest(50035)
	e.errors = fe.root
	return e
}

func formError(path, code, msg string) *apiError {
	var fe formErrors
	fe.add(path, code, msg)
	return fe.err()
}
