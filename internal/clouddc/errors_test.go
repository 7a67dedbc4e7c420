package clouddc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"unicode/utf8"
)

func TestAPIError_decoding(t *testing.T) {
	t.Parallel()
	statusPath := "/v1/" + testProject + "/instances/" + testID + "/status"
	hugeJSONish := strings.Repeat("x", 1<<20)
	chinese := strings.Repeat("请求过于频繁", 40) // 240 runes, 720 bytes

	tests := []struct {
		name    string
		status  int
		headers []string
		body    string
		want    APIError
		// wantMessageLen, when set, replaces the Message comparison.
		wantMessageLen int
		wantSuffix     string
	}{
		{
			name:    "JSON not found with request ID",
			status:  http.StatusNotFound,
			headers: []string{"X-Request-Id", "req-404-abc", "Content-Type", "application/json"},
			body:    `{"error_code":"iMetal.0200","error_msg":"Instances not found: [` + testID + `]"}`,
			want: APIError{StatusCode: 404, Code: "iMetal.0200", Message: "Instances not found: [" + testID + "]",
				RequestID: "req-404-abc", Method: http.MethodGet, Path: statusPath},
		},
		{
			name:    "JSON rate limit with Retry-After",
			status:  http.StatusTooManyRequests,
			headers: []string{"Retry-After", "7", "X-Request-Id", "req-429"},
			body:    `{"error_code":"iMetal.0005","error_msg":"Too many requests"}`,
			want: APIError{StatusCode: 429, Code: "iMetal.0005", Message: "Too many requests", RequestID: "req-429",
				Method: http.MethodGet, Path: statusPath, RetryAfter: "7"},
		},
		{
			name:    "gateway 429 with a plain-text body",
			status:  http.StatusTooManyRequests,
			headers: []string{"Content-Type", "text/plain", "Retry-After", "Wed, 21 Oct 2026 07:28:00 GMT"},
			body:    "Too Many Requests\n\n   please   slow down\r\n",
			want: APIError{StatusCode: 429, Message: "Too Many Requests please slow down",
				Method: http.MethodGet, Path: statusPath, RetryAfter: "Wed, 21 Oct 2026 07:28:00 GMT"},
		},
		{
			name:   "gateway 429 with an empty body",
			status: http.StatusTooManyRequests,
			body:   "",
			want:   APIError{StatusCode: 429, Method: http.MethodGet, Path: statusPath},
		},
		{
			name:    "HTML 502 from a proxy",
			status:  http.StatusBadGateway,
			headers: []string{"Content-Type", "text/html"},
			body:    "<html>\n<body><h1>502 Bad Gateway</h1></body>\n</html>\n",
			want: APIError{StatusCode: 502, Message: "<html> <body><h1>502 Bad Gateway</h1></body> </html>",
				Method: http.MethodGet, Path: statusPath},
		},
		{
			name:   "JSON with only a message",
			status: http.StatusInternalServerError,
			body:   `{"error_msg":"internal error, retry later"}`,
			want:   APIError{StatusCode: 500, Message: "internal error, retry later", Method: http.MethodGet, Path: statusPath},
		},
		{
			name:   "JSON in another format is kept as an excerpt",
			status: http.StatusBadRequest,
			body:   `{"code":"APIG.0301","message":"Incorrect IAM authentication information"}`,
			want: APIError{StatusCode: 400, Message: `{"code":"APIG.0301","message":"Incorrect IAM authentication information"}`,
				Method: http.MethodGet, Path: statusPath},
		},
		{
			name:           "huge body is truncated",
			status:         http.StatusServiceUnavailable,
			body:           hugeJSONish,
			want:           APIError{StatusCode: 503, Method: http.MethodGet, Path: statusPath},
			wantMessageLen: 200 + len("…"),
			wantSuffix:     "…",
		},
		{
			name:           "multi-byte body is cut between runes",
			status:         http.StatusTooManyRequests,
			body:           chinese,
			want:           APIError{StatusCode: 429, Method: http.MethodGet, Path: statusPath},
			wantMessageLen: 198 + len("…"), // 66 whole runes of 3 bytes
			wantSuffix:     "…",
		},
		{
			name:   "invalid UTF-8 is replaced",
			status: http.StatusBadGateway,
			body:   "bad \xff\xfe gateway",
			want:   APIError{StatusCode: 502, Message: "bad \uFFFD gateway", Method: http.MethodGet, Path: statusPath},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, _ := newRecordingServer(t, answer(tt.status, tt.body, tt.headers...))
			c := newTestClient(t, srv.URL)
			st, err := c.ShowInstanceStatus(context.Background(), testID)
			if st != nil {
				t.Errorf("status = %+v with an error answer; want nil", st)
			}
			var apiErr *APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("error = %v (%T); want an *APIError", err, err)
			}
			got := *apiErr
			if tt.wantMessageLen > 0 {
				if len(got.Message) != tt.wantMessageLen || !strings.HasSuffix(got.Message, tt.wantSuffix) {
					t.Errorf("message has %d bytes and ends %q; want %d bytes ending %q",
						len(got.Message), got.Message[max(0, len(got.Message)-8):], tt.wantMessageLen, tt.wantSuffix)
				}
				got.Message = ""
			}
			if got.Auth != AuthToken {
				t.Errorf("Auth = %q from a client with a token; want %q", got.Auth, AuthToken)
			}
			got.Auth = ""
			if got != tt.want {
				t.Errorf("APIError = %#v\nwant       %#v", got, tt.want)
			}
			if !utf8.ValidString(apiErr.Message) {
				t.Errorf("message %q is not valid UTF-8", apiErr.Message)
			}
			if msg := err.Error(); strings.Contains(msg, testToken) || len(msg) > 600 {
				t.Errorf("Error() = %q (%d bytes); want a short message without the token", msg, len(msg))
			}
		})
	}
}

func TestAPIError_Error(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  *APIError
		want string
	}{
		{
			name: "every field",
			err: &APIError{StatusCode: 404, Code: CodeInstanceNotFound, Message: "Instances not found: [x]",
				RequestID: "req-1", Method: "GET", Path: "/v1/p/instances/x/status", RetryAfter: "3"},
			want: "CloudDC API: GET /v1/p/instances/x/status answered HTTP 404 (Not Found), error_code iMetal.0200: Instances not found: [x] [request ID req-1]",
		},
		{
			name: "no code, no request ID",
			err:  &APIError{StatusCode: 429, Message: "slow down", Method: "POST", Path: "/v1/p/instances"},
			want: "CloudDC API: POST /v1/p/instances answered HTTP 429 (Too Many Requests): slow down",
		},
		{
			name: "nothing but a status",
			err:  &APIError{StatusCode: 429, Method: "DELETE", Path: "/v1/p/instances/x"},
			want: "CloudDC API: DELETE /v1/p/instances/x answered HTTP 429 (Too Many Requests)",
		},
		{
			name: "a status without a text",
			err:  &APIError{StatusCode: 599, Code: "X.1", Method: "GET", Path: "/p"},
			want: "CloudDC API: GET /p answered HTTP 599, error_code X.1",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() =\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

// TestAPIError_Auth: an error answer says how its request was
// authenticated, so that the advice about a 401 fits the credentials.
func TestAPIError_Auth(t *testing.T) {
	t.Parallel()
	srv, _ := newRecordingServer(t, answer(http.StatusUnauthorized,
		`{"error_code":"APIGW.0301","error_msg":"Incorrect IAM authentication information: verify aksk signature fail"}`))
	for _, tc := range []struct {
		name string
		opt  Option
		want AuthMethod
	}{
		{"token", WithToken(testToken), AuthToken},
		{"access key pair", WithAKSK("AKEXAMPLE", "secret", ""), AuthAccessKey},
		{"temporary access key pair", WithAKSK("AKEXAMPLE", "secret", "security-token"), AuthTemporaryAccessKey},
	} {
		c, err := NewClient(WithEndpoint(srv.URL), WithProjectID(testProject), tc.opt, WithMaxRetries(0))
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.ShowInstanceStatus(context.Background(), testID)
		var apiErr *APIError
		if !errors.As(err, &apiErr) || apiErr.Auth != tc.want {
			t.Errorf("%s: error %v; want an *APIError with Auth %q", tc.name, err, tc.want)
		}
	}
}

// TestAPIError_ErrorFromServer checks a real answer's message end to end.
func TestAPIError_ErrorFromServer(t *testing.T) {
	t.Parallel()
	srv, _ := newRecordingServer(t, answer(http.StatusBadRequest,
		`{"error_code":"iMetal.0201","error_msg":"Instance x is in state terminated, which does not allow DeleteInstance"}`,
		"X-Request-Id", "0f9e8d7c"))
	c := newTestClient(t, srv.URL)
	err := c.DeleteInstance(context.Background(), testID)
	if err == nil {
		t.Fatal("DeleteInstance succeeded; want an error")
	}
	msg := err.Error()
	for _, want := range []string{"HTTP 400", "Bad Request", "iMetal.0201", "does not allow DeleteInstance", "request ID 0f9e8d7c",
		"DELETE", "/v1/" + testProject + "/instances/" + testID} {
		if !strings.Contains(msg, want) {
			t.Errorf("Error() = %q; want it to contain %q", msg, want)
		}
	}
	if strings.Contains(msg, testToken) {
		t.Errorf("Error() = %q contains the token", msg)
	}
}

func TestAPIError_Is(t *testing.T) {
	t.Parallel()
	sentinels := map[string]error{
		"ErrNotFound": ErrNotFound, "ErrUnauthorized": ErrUnauthorized, "ErrForbidden": ErrForbidden,
		"ErrRateLimited": ErrRateLimited, "ErrBadRequest": ErrBadRequest, "ErrInvalidState": ErrInvalidState,
		"ErrServerNotReady": ErrServerNotReady, "ErrServerError": ErrServerError,
	}
	tests := []struct {
		name string
		err  *APIError
		want []string // the sentinels it matches; every other one must not match
	}{
		{name: "404 instance not found", err: &APIError{StatusCode: 404, Code: CodeInstanceNotFound}, want: []string{"ErrNotFound"}},
		{name: "404 server not found", err: &APIError{StatusCode: 404, Code: CodeServerNotFound}, want: []string{"ErrNotFound"}},
		// A 404 without the API's code (a proxy, a wrong base path) must not
		// pass for "the instance is gone".
		{name: "404 without code", err: &APIError{StatusCode: 404}, want: nil},
		{name: "404 from the API gateway", err: &APIError{StatusCode: 404, Code: "APIGW.0101"}, want: nil},
		{name: "iMetal.0200 under another status", err: &APIError{StatusCode: 400, Code: CodeInstanceNotFound}, want: []string{"ErrNotFound", "ErrBadRequest"}},
		{name: "iMetal.0100 without status", err: &APIError{Code: CodeServerNotFound}, want: []string{"ErrNotFound"}},
		{name: "400 invalid parameter", err: &APIError{StatusCode: 400, Code: CodeInvalidParameter}, want: []string{"ErrBadRequest"}},
		{name: "400 missing parameter", err: &APIError{StatusCode: 400, Code: CodeMissingParameter}, want: []string{"ErrBadRequest"}},
		{name: "400 invalid state", err: &APIError{StatusCode: 400, Code: CodeInvalidState}, want: []string{"ErrBadRequest", "ErrInvalidState"}},
		{name: "400 server not ready", err: &APIError{StatusCode: 400, Code: CodeServerNotReady}, want: []string{"ErrBadRequest", "ErrServerNotReady"}},
		{name: "401", err: &APIError{StatusCode: 401, Code: CodeUnauthenticated}, want: []string{"ErrUnauthorized"}},
		{name: "403", err: &APIError{StatusCode: 403, Code: CodeForbidden}, want: []string{"ErrForbidden"}},
		{name: "429 with code", err: &APIError{StatusCode: 429, Code: CodeTooManyRequests}, want: []string{"ErrRateLimited"}},
		{name: "429 without code", err: &APIError{StatusCode: 429}, want: []string{"ErrRateLimited"}},
		{name: "500", err: &APIError{StatusCode: 500, Code: CodeInternalError}, want: []string{"ErrServerError"}},
		{name: "502", err: &APIError{StatusCode: 502}, want: []string{"ErrServerError"}},
		{name: "503", err: &APIError{StatusCode: 503}, want: []string{"ErrServerError"}},
		{name: "504", err: &APIError{StatusCode: 504}, want: []string{"ErrServerError"}},
		{name: "409 matches nothing", err: &APIError{StatusCode: 409, Code: "iMetal.9999"}, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for name, sentinel := range sentinels {
				want := false
				for _, w := range tt.want {
					want = want || w == name
				}
				for _, form := range []struct {
					label string
					err   error
				}{
					{"bare", tt.err},
					{"wrapped", fmt.Errorf("reading instance: %w", tt.err)},
					{"wrapped twice", fmt.Errorf("outer: %w", fmt.Errorf("inner: %w", tt.err))},
					{"joined", errors.Join(errors.New("other"), tt.err)},
				} {
					if got := errors.Is(form.err, sentinel); got != want {
						t.Errorf("errors.Is(%s %v, %s) = %v; want %v", form.label, tt.err, name, got, want)
					}
				}
			}
			if errors.Is(tt.err, errors.New("clouddc: not found")) {
				t.Error("an APIError matched a look-alike error that is not a sentinel")
			}
			if errors.Is(tt.err, io.EOF) {
				t.Error("an APIError matched io.EOF")
			}
		})
	}
}

func TestAPIError_AsThroughWrapping(t *testing.T) {
	t.Parallel()
	srv, _ := newRecordingServer(t, answer(http.StatusForbidden,
		`{"error_code":"iMetal.0004","error_msg":"Insufficient permissions"}`, "X-Request-Id", "req-403"))
	c := newTestClient(t, srv.URL)
	_, err := c.ShowInstanceStatus(context.Background(), testID)
	wrapped := fmt.Errorf("reading instance %s: %w", testID, fmt.Errorf("refresh: %w", err))

	var apiErr *APIError
	if !errors.As(wrapped, &apiErr) {
		t.Fatalf("errors.As(%v) found no *APIError", wrapped)
	}
	if apiErr.StatusCode != http.StatusForbidden || apiErr.Code != CodeForbidden || apiErr.Message != "Insufficient permissions" || apiErr.RequestID != "req-403" {
		t.Errorf("APIError = %+v; want 403 iMetal.0004 with its message and request ID", apiErr)
	}
	if !errors.Is(wrapped, ErrForbidden) || errors.Is(wrapped, ErrUnauthorized) {
		t.Errorf("wrapped 403: Is(ErrForbidden) = %v, Is(ErrUnauthorized) = %v; want true, false",
			errors.Is(wrapped, ErrForbidden), errors.Is(wrapped, ErrUnauthorized))
	}
	if !strings.Contains(wrapped.Error(), "iMetal.0004") || strings.Contains(wrapped.Error(), testToken) {
		t.Errorf("wrapped Error() = %q; want the code and not the token", wrapped)
	}
}

func TestInstanceError_String(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  *InstanceError
		want string
	}{
		{name: "nil", err: nil, want: "no error details reported"},
		{name: "every field", err: &InstanceError{Code: "CDC.1001", Message: "disk failure", Type: ErrorTypeCreate},
			want: "error_type create_instance_error, error_code CDC.1001: disk failure"},
		{name: "empty fields", err: &InstanceError{}, want: "error_type -, error_code -: -"},
		{name: "message only", err: &InstanceError{Message: "oops"}, want: "error_type -, error_code -: oops"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.err.String(); got != tt.want {
				t.Errorf("String() = %q; want %q", got, tt.want)
			}
		})
	}
}

func TestIsTransient(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{name: "nil", err: nil, want: false},
		{name: "429", err: &APIError{StatusCode: 429}, want: true},
		{name: "500", err: &APIError{StatusCode: 500, Code: CodeInternalError}, want: true},
		{name: "502", err: &APIError{StatusCode: 502}, want: true},
		{name: "503", err: &APIError{StatusCode: 503}, want: true},
		{name: "504", err: &APIError{StatusCode: 504}, want: true},
		{name: "wrapped 503", err: fmt.Errorf("polling: %w", &APIError{StatusCode: 503}), want: true},
		{name: "400", err: &APIError{StatusCode: 400, Code: CodeInvalidParameter}, want: false},
		{name: "400 invalid state", err: &APIError{StatusCode: 400, Code: CodeInvalidState}, want: false},
		{name: "401", err: &APIError{StatusCode: 401}, want: false},
		{name: "403", err: &APIError{StatusCode: 403}, want: false},
		{name: "404", err: &APIError{StatusCode: 404, Code: CodeInstanceNotFound}, want: false},
		{name: "501", err: &APIError{StatusCode: 501}, want: false},
		{name: "context.Canceled", err: context.Canceled, want: false},
		{name: "context.DeadlineExceeded", err: context.DeadlineExceeded, want: false},
		{name: "wrapped DeadlineExceeded", err: fmt.Errorf("clouddc: GET /x: %w", context.DeadlineExceeded), want: false},
		{name: "url.Error wrapping Canceled", err: &url.Error{Op: "Get", URL: "http://x", Err: context.Canceled}, want: false},
		{name: "url.Error wrapping a network failure", err: &url.Error{Op: "Get", URL: "http://x", Err: syscall.ECONNRESET}, want: true},
		{name: "unexpected EOF while decoding", err: fmt.Errorf("decoding: %w", io.ErrUnexpectedEOF), want: true},
		{name: "plain error", err: errors.New("something else"), want: false},
		{name: "sentinel alone", err: ErrServerError, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := IsTransient(tt.err); got != tt.want {
				t.Errorf("IsTransient(%v) = %v; want %v", tt.err, got, tt.want)
			}
		})
	}
}

// TestIsTransient_network checks errors that real network failures produce.
func TestIsTransient_network(t *testing.T) {
	t.Parallel()

	t.Run("connection refused", func(t *testing.T) {
		t.Parallel()
		c := newTestClient(t, closedPortURL(t))
		_, err := c.ShowInstanceStatus(context.Background(), testID)
		if err == nil {
			t.Fatal("a request to a closed port succeeded")
		}
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("error = %v; want one wrapping ECONNREFUSED", err)
		}
		if !IsTransient(err) {
			t.Errorf("IsTransient(%v) = false; want true", err)
		}
		var apiErr *APIError
		if errors.As(err, &apiErr) {
			t.Errorf("a network failure gave an *APIError: %v", apiErr)
		}
		if strings.Contains(err.Error(), testToken) {
			t.Errorf("error %q contains the token", err)
		}
	})

	t.Run("connection closed before the answer", func(t *testing.T) {
		t.Parallel()
		srv, rec := newRecordingServer(t, func(w http.ResponseWriter, _ *http.Request) { dropConnection(t, w) })
		c := newTestClient(t, srv.URL)
		_, err := c.ShowInstanceStatus(context.Background(), testID)
		if err == nil {
			t.Fatal("the request succeeded; want an error")
		}
		if rec.count() == 0 {
			t.Fatal("the server saw no request")
		}
		if !IsTransient(err) {
			t.Errorf("IsTransient(%v) = false; want true", err)
		}
	})

	t.Run("connection closed in the middle of the body", func(t *testing.T) {
		t.Parallel()
		srv, _ := newRecordingServer(t, func(w http.ResponseWriter, _ *http.Request) { dropMidBody(t, w) })
		c := newTestClient(t, srv.URL)
		_, err := c.ShowInstanceStatus(context.Background(), testID)
		if err == nil {
			t.Fatal("the request succeeded; want an error")
		}
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("error = %v; want one wrapping io.ErrUnexpectedEOF", err)
		}
		if !IsTransient(err) {
			t.Errorf("IsTransient(%v) = false; want true", err)
		}
	})

	t.Run("server answers 503", func(t *testing.T) {
		t.Parallel()
		srv, _ := newRecordingServer(t, answer(http.StatusServiceUnavailable, "upstream unavailable"))
		c := newTestClient(t, srv.URL)
		_, err := c.ShowInstanceStatus(context.Background(), testID)
		if !IsTransient(err) || !errors.Is(err, ErrServerError) {
			t.Errorf("IsTransient(%v) = %v, Is(ErrServerError) = %v; want true, true", err, IsTransient(err), errors.Is(err, ErrServerError))
		}
	})
}
