package clouddc

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Error codes that the CloudDC API documents. They are exported so that
// callers can switch on APIError.Code without repeating string literals.
const (
	CodeInvalidParameter = "iMetal.0001"
	CodeMissingParameter = "iMetal.0002"
	CodeUnauthenticated  = "iMetal.0003"
	CodeForbidden        = "iMetal.0004"
	CodeTooManyRequests  = "iMetal.0005"
	CodeInternalError    = "iMetal.0099"
	CodeServerNotFound   = "iMetal.0100"
	CodeServerNotReady   = "iMetal.0101"
	CodeInstanceNotFound = "iMetal.0200"
	CodeInvalidState     = "iMetal.0201"
)

// Sentinel errors matched with errors.Is against an *APIError. They classify
// an error by what the caller should do about it, never by its message text.
var (
	// ErrNotFound: the instance or physical server does not exist (HTTP 404
	// with error_code iMetal.0200 or iMetal.0100).
	ErrNotFound = errors.New("clouddc: not found")
	// ErrUnauthorized: the token is missing, invalid or expired (HTTP 401).
	ErrUnauthorized = errors.New("clouddc: not authenticated")
	// ErrForbidden: the credentials lack a permission (HTTP 403).
	ErrForbidden = errors.New("clouddc: permission denied")
	// ErrRateLimited: the API asked the client to slow down (HTTP 429).
	ErrRateLimited = errors.New("clouddc: rate limited")
	// ErrBadRequest: the request was rejected as invalid (HTTP 400).
	ErrBadRequest = errors.New("clouddc: bad request")
	// ErrInvalidState: the instance's state does not allow the operation.
	ErrInvalidState = errors.New("clouddc: operation not allowed in the current state")
	// ErrServerNotReady: the physical server is not in state ready.
	ErrServerNotReady = errors.New("clouddc: physical server not ready")
	// ErrServerError: the API failed on its side (HTTP 5xx).
	ErrServerError = errors.New("clouddc: server error")
)

// APIError is the error returned for every answer outside 2xx. It carries
// what the API said, so that a user can quote it in a support ticket.
type APIError struct {
	// StatusCode is the HTTP status of the answer.
	StatusCode int
	// Code is the API's error_code, such as "iMetal.0200"; empty when the
	// body was not the API's JSON error (a gateway's 429, for example).
	Code string
	// Message is the API's error_msg, or a short excerpt of a non-JSON body.
	Message string
	// RequestID is the X-Request-Id header of the answer, when present.
	RequestID string
	// Method and Path name the request that failed (the path has no query).
	Method string
	Path   string
	// RetryAfter is the raw Retry-After header, when the API sent one.
	RetryAfter string
	// Auth is how the request was authenticated: AuthToken,
	// AuthAccessKey or AuthTemporaryAccessKey. What to do about a 401
	// depends on it; the credentials themselves are never kept here.
	Auth AuthMethod
}

// AuthMethod is how a client authenticates its requests.
type AuthMethod string

// The ways a client authenticates: WithToken, or WithAKSK without and with
// a security token.
const (
	AuthToken              AuthMethod = "token"
	AuthAccessKey          AuthMethod = "access key pair"
	AuthTemporaryAccessKey AuthMethod = "temporary access key pair"
)

// Error renders the error on one line without any credential.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "CloudDC API: %s %s answered HTTP %d", e.Method, e.Path, e.StatusCode)
	if t := http.StatusText(e.StatusCode); t != "" {
		fmt.Fprintf(&b, " (%s)", t)
	}
	if e.Code != "" {
		fmt.Fprintf(&b, ", error_code %s", e.Code)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " [request ID %s]", e.RequestID)
	}
	return b.String()
}

// Is lets errors.Is match an APIError against the package's sentinels.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		// Only the API's own "not found" codes count. A 404 from a gateway
		// or a proxy (a wrong endpoint path, say) must not make the provider
		// believe an instance is gone and forget it.
		return e.Code == CodeInstanceNotFound || e.Code == CodeServerNotFound
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden
	case ErrRateLimited:
		return e.StatusCode == http.StatusTooManyRequests
	case ErrBadRequest:
		return e.StatusCode == http.StatusBadRequest
	case ErrInvalidState:
		return e.Code == CodeInvalidState
	case ErrServerNotReady:
		return e.Code == CodeServerNotReady
	case ErrServerError:
		return e.StatusCode >= 500
	}
	return false
}

// InstanceError is the error object the API attaches to an instance whose
// last long-running operation failed.
type InstanceError struct {
	Code    string `json:"error_code"`
	Message string `json:"error_msg"`
	Type    string `json:"error_type"`
}

// Error types the API reports in InstanceError.Type.
const (
	ErrorTypeCreate       = "create_instance_error"
	ErrorTypeDelete       = "delete_instance_error"
	ErrorTypeReinstall    = "reinstall_error"
	ErrorTypeModifyIP     = "modify_ip_error"
	ErrorTypeVerifyServer = "verify_server_error"
	ErrorTypeDeleteServer = "delete_server_error"
)

func (e *InstanceError) String() string {
	if e == nil {
		return "no error details reported"
	}
	return fmt.Sprintf("error_type %s, error_code %s: %s", orDash(e.Type), orDash(e.Code), orDash(e.Message))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// IncompleteListingError is a ListInstances answer that is well-formed but
// is not a complete listing: "instances" or "count" missing or null (a
// gateway's "{}"), or pages that together hold fewer or more instances than
// count says. An instance missing from such an answer may exist, so it is
// never taken as gone. It is transient: the client lists again.
type IncompleteListingError struct {
	Method, Path string
	RequestID    string
	// Reason says what was wrong with the answer.
	Reason string
	// filterIgnored: the answer listed instances that the filters did not
	// ask for (listComplete then lists unfiltered).
	filterIgnored bool
}

func (e *IncompleteListingError) Error() string {
	msg := fmt.Sprintf("clouddc: %s %s answered a listing that is not complete (%s), so it cannot tell which instances exist", e.Method, e.Path, e.Reason)
	if e.RequestID != "" {
		msg += fmt.Sprintf(" [request ID %s]", e.RequestID)
	}
	return msg
}

// RedirectError is a 3xx answer. The CloudDC API never redirects, so a
// redirect comes from something else on the path (a proxy, a captive
// portal, a wrong endpoint); the client does not follow it, so that no
// credential and no request body goes to the host it names.
type RedirectError struct {
	Method, Path string
	StatusCode   int
	// Location is the scheme and host the redirect pointed to, without any
	// user information, or a note that it named none.
	Location  string
	RequestID string
}

func (e *RedirectError) Error() string {
	status := fmt.Sprintf("HTTP %d", e.StatusCode)
	if t := http.StatusText(e.StatusCode); t != "" {
		status += " (" + t + ")"
	}
	msg := fmt.Sprintf("clouddc: %s %s answered %s, a redirect to %s; the CloudDC API does not redirect, "+
		"so the answer came from something else between this machine and the API (a proxy, a captive portal, or an endpoint "+
		"that is not CloudDC's). The redirect was not followed: no credential and no request body was sent there",
		e.Method, e.Path, status, e.Location)
	if e.RequestID != "" {
		msg += fmt.Sprintf(" [request ID %s]", e.RequestID)
	}
	return msg
}

// ResponseTooLargeError is an answer larger than MaxResponseBody. It was
// not read: no answer of the API is that large.
type ResponseTooLargeError struct {
	Method, Path string
	StatusCode   int
	// Size is the announced Content-Length, or 0 when it was not announced
	// and the limit was reached while reading.
	Size      int64
	Limit     int64
	RequestID string
}

func (e *ResponseTooLargeError) Error() string {
	size := fmt.Sprintf("more than %d MiB", e.Limit>>20)
	if e.Size > 0 {
		size = fmt.Sprintf("%d bytes (the limit is %d MiB)", e.Size, e.Limit>>20)
	}
	msg := fmt.Sprintf("clouddc: the answer to %s %s (HTTP %d) is %s, larger than any answer of the CloudDC API; it was not read. "+
		"Check that the endpoint is CloudDC's and that no proxy rewrites its answers", e.Method, e.Path, e.StatusCode, size)
	if e.RequestID != "" {
		msg += fmt.Sprintf(" [request ID %s]", e.RequestID)
	}
	return msg
}
