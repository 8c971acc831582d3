package wshub

import (
	"errors"
	"fmt"
	"net"
)

// The hub's error codes (docs/hub-protocol.md, "Codes"); the API answers them in
// {"error":{"code","message"}} and webhook refusals may use them too. Application codes are
// 1000 and up.
const (
	CodeInternal              = 100
	CodeUnauthorized          = 101
	CodeUnknownChannel        = 102
	CodePermissionDenied      = 103
	CodeMethodNotFound        = 104
	CodeAlreadySubscribed     = 105
	CodeLimitExceeded         = 106
	CodeBadRequest            = 107
	CodeNotAvailable          = 108
	CodeTokenExpired          = 109
	CodeTooManyRequests       = 111
	CodeUnrecoverablePosition = 112
	CodeTooLarge              = 114
	CodeInboxFull             = 115
	CodeBackendUnavailable    = 116
	CodeTimeout               = 504 // the API's own: the hub did not answer within [api] response_timeout_ms
)

// Error is the API's refusal: the HTTP status and the {"error":{"code","message"}} it came
// with. Errors in the HTTP framing (413, 431, …) come as plain text: Code is 0 and Message
// holds that text.
type Error struct {
	Status  int    // HTTP status, e.g. 400
	Code    int    // the hub's error code, e.g. 107; 0 when the answer had no JSON error
	Message string // the server's sentence naming the problem
	Method  string // the request's method and path, e.g. "POST /api/publish"
	Path    string
}

func (e *Error) Error() string {
	return fmt.Sprintf("wshub: %s %s: HTTP %d, code %d: %s", e.Method, e.Path, e.Status, e.Code, e.Message)
}

// Retryable says whether the same request may succeed if sent again later, unchanged: the
// hub was overloaded, could not reach a broker or a backend, or did not answer in time. A
// refusal of the request itself (a bad key, a bad channel, a body too large) is not, and
// neither is 501 (send and messages with the memory store). A publish or send without an
// idempotency key that is retried after a 504 may be delivered twice.
func (e *Error) Retryable() bool {
	switch e.Code {
	case CodeInternal, CodeTooManyRequests, CodeInboxFull, CodeBackendUnavailable:
		return true
	}
	switch {
	case e.Status == 408 || e.Status == 429:
		return true
	case e.Status == 501:
		return false
	case e.Status >= 500:
		return true
	}
	return false
}

// NotImplemented is true for the endpoints this build of wshub answers 501 (send and
// messages: they arrive with the durable store).
func (e *Error) NotImplemented() bool { return e.Status == 501 }

// IsRetryable reports whether err, returned by a Client method, is worth retrying: a
// retryable *Error, or a network failure before any answer (connection refused or reset, a
// timeout of the client's own). It is false for a cancelled context.
func IsRetryable(err error) bool {
	var apiError *Error
	if errors.As(err, &apiError) {
		return apiError.Retryable()
	}
	var transport *TransportError
	return errors.As(err, &transport) && !transport.Cancelled
}

// TransportError is a request that got no answer from the API: the connection failed, broke,
// or timed out (Client's timeout or the context's deadline), or the answer was not readable.
type TransportError struct {
	Method, Path string
	Cancelled    bool // the caller's context was cancelled or its deadline passed
	Err          error
}

func (e *TransportError) Error() string {
	return fmt.Sprintf("wshub: %s %s: %v", e.Method, e.Path, e.Err)
}

func (e *TransportError) Unwrap() error { return e.Err }

// Timeout is true when the request ran out of time (the client's timeout or a deadline).
func (e *TransportError) Timeout() bool {
	var netError net.Error
	return errors.As(e.Err, &netError) && netError.Timeout()
}
