// Package clouddc is a client for the Huawei Cloud CloudDC iMetal instance
// API. It depends on the standard library only, so that it could be
// published as an SDK of its own; the Terraform provider reaches it through
// its exported API and bridges its slog output into Terraform's logs.
package clouddc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"golang.org/x/time/rate"
)

// DefaultUserAgent is sent when no user agent is configured.
const DefaultUserAgent = "clouddc-go"

// maxErrorBody bounds how much of an error answer is read and kept.
const maxErrorBody = 64 << 10

// MaxResponseBody bounds the size of an answer the client reads. The
// largest answer the API gives is a page of MaxPageSize instances: with
// every field at its documented maximum (10 metadata pairs of 255
// characters, a 255-character description, two NICs, an error) it is
// 6.4 MiB, 6.6 KiB an instance (TestMaxResponseBody_holdsTheLargestPage).
// user_data has no documented limit; the margin leaves room for 25 KiB of
// it per instance. Anything larger is not an answer of the API, and reading
// it whole could exhaust the memory of the machine running Terraform.
const MaxResponseBody = 32 << 20

// Client talks to one CloudDC endpoint on behalf of one project.
type Client struct {
	endpoint  *url.URL
	projectID string
	token     string
	aksk      *akskCredentials
	http      *http.Client
	userAgent string
	logger    *slog.Logger
	poll      PollSchedule
	retry     RetryPolicy
	limiter   *rate.Limiter // nil: no limit
	watch     *watcher
	reads     *reader
	creates   createState
	// filters remembers that the API ignored a ListInstances filter.
	filters filterTrust
	// projects shares whole-project listings between create lookups.
	projects *projectLister
	// projectSize is the number of instances the last complete listing of
	// the whole project held, -1 before one was made.
	projectSize atomic.Int64
	// now is the clock that dates AK/SK signatures; tests replace it.
	now func() time.Time
	// background is the context of work no single caller owns (the shared
	// sweep, shared listings), for its logs; nil: the first caller's.
	background context.Context
}

// WithBackgroundContext gives the client the context under which it does
// work that no single caller owns (the waits' shared sweep, the shared
// listings of lookups and reads): its values reach the logger (a
// Terraform provider passes its own context, without any one resource's
// fields). Its cancellation is ignored. Without it, such work logs under
// the context of the call that started it.
func WithBackgroundContext(ctx context.Context) Option {
	return func(c *Client) error {
		if ctx == nil {
			return errors.New("background context must not be nil")
		}
		c.background = context.WithoutCancel(ctx)
		return nil
	}
}

// backgroundCtx is the context for work that ctx's call starts but does
// not own.
func (c *Client) backgroundCtx(ctx context.Context) context.Context {
	if c.background != nil {
		return c.background
	}
	return context.WithoutCancel(ctx)
}

// Option configures a Client.
type Option func(*Client) error

// WithEndpoint sets the API's base URL, such as
// "https://clouddc.cn-east-3.myhuaweicloud.com". It must pass
// CheckEndpoint.
func WithEndpoint(endpoint string) Option {
	return func(c *Client) error {
		if err := CheckEndpoint(endpoint); err != nil {
			return fmt.Errorf("endpoint %q %w", RedactURL(endpoint), err)
		}
		u, _ := url.Parse(endpoint) // CheckEndpoint parsed it
		u.Path = strings.TrimRight(u.Path, "/")
		c.endpoint = u
		return nil
	}
}

// CheckEndpoint returns why raw cannot be the base URL of the API, or nil.
// It must be an absolute URL with a host, without user information (Go
// would send it as Basic authentication with every request), a query or a
// fragment, and it must be https, except to a loopback host (127.0.0.0/8,
// ::1, localhost; the local simulator): the token, the signature and the
// passwords in the requests must never cross a network in clear text. The
// error reads after the endpoint ("endpoint X <error>").
func CheckEndpoint(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		// url.Parse quotes the whole input in its error: leave it out.
		return errors.New("is not a valid URL")
	case !u.IsAbs() || u.Host == "":
		return errors.New("is not an absolute URL such as https://clouddc.cn-east-3.myhuaweicloud.com")
	case u.User != nil:
		return errors.New("must not contain user information (a user name or password); credentials go in the token or the access key, never in the URL")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return errors.New("must not have a query string or a fragment")
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		return nil
	case u.Scheme == "http":
		return errors.New("uses plain http to a host that is not loopback; use https so that credentials are not sent in clear " +
			"text (plain http is accepted only for 127.0.0.1, ::1 and localhost, such as the local simulator)")
	}
	return fmt.Errorf("has the scheme %q; use https", u.Scheme)
}

// isLoopback reports whether host is localhost or a loopback address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// WithProjectID sets the IAM project that every request is made in.
func WithProjectID(projectID string) Option {
	return func(c *Client) error {
		if projectID == "" {
			return errors.New("project ID must not be empty")
		}
		c.projectID = projectID
		return nil
	}
}

// WithToken sets the IAM token sent as X-Auth-Token. A client uses either
// WithToken or WithAKSK.
func WithToken(token string) Option {
	return func(c *Client) error {
		if token == "" {
			return errors.New("token must not be empty")
		}
		c.token = token
		return nil
	}
}

// WithHTTPClient replaces the default *http.Client.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) error {
		if hc == nil {
			return errors.New("HTTP client must not be nil")
		}
		c.http = hc
		return nil
	}
}

// WithUserAgent sets the User-Agent header. An empty ua keeps
// DefaultUserAgent: net/http would otherwise send no User-Agent at all.
func WithUserAgent(ua string) Option {
	return func(c *Client) error {
		if ua == "" {
			ua = DefaultUserAgent
		}
		c.userAgent = ua
		return nil
	}
}

// WithLogger sends the client's debug logs (requests, answers, waits) to l.
// Credentials are never logged.
func WithLogger(l *slog.Logger) Option {
	return func(c *Client) error {
		if l == nil {
			return errors.New("logger must not be nil")
		}
		c.logger = l
		return nil
	}
}

// WithPollSchedule sets how often the client polls while it waits for a
// state change. Tests use it to wait in milliseconds instead of seconds.
func WithPollSchedule(s PollSchedule) Option {
	return func(c *Client) error {
		if err := s.validate(); err != nil {
			return err
		}
		c.poll = s
		return nil
	}
}

// NewClient builds a client. The endpoint, the project ID and one way to
// authenticate (WithToken or WithAKSK) are required.
func NewClient(opts ...Option) (*Client, error) {
	c := &Client{
		http:      &http.Client{Timeout: 60 * time.Second},
		userAgent: DefaultUserAgent,
		logger:    slog.New(slog.DiscardHandler),
		poll:      DefaultPollSchedule(),
		retry:     DefaultRetryPolicy(),
		now:       time.Now,
	}
	for i, opt := range opts {
		if opt == nil {
			return nil, fmt.Errorf("clouddc: option %d is nil", i+1)
		}
		if err := opt(c); err != nil {
			return nil, fmt.Errorf("clouddc: %w", err)
		}
	}
	// A redirect never comes from the CloudDC API, and following one would
	// send the token or the signature, and the create's password, to
	// whatever host it names, over plain http if it says so. The client is
	// copied so that the caller's own *http.Client is left as it was.
	hc := *c.http
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c.http = &hc
	c.watch = newWatcher(c)
	c.reads = newReader(c)
	c.projects = &projectLister{c: c}
	c.projectSize.Store(-1)
	switch {
	case c.endpoint == nil:
		return nil, errors.New("clouddc: an endpoint is required")
	case c.projectID == "":
		return nil, errors.New("clouddc: a project ID is required")
	case c.token == "" && c.aksk == nil:
		return nil, errors.New("clouddc: a token or an access key is required")
	case c.token != "" && c.aksk != nil:
		// Which one the API would believe is not ours to guess.
		return nil, errors.New("clouddc: use a token or an access key, not both")
	}
	return c, nil
}

// ProjectID returns the project the client works in.
func (c *Client) ProjectID() string { return c.projectID }

// projectPath joins the project prefix and the escaped path segments.
func (c *Client) projectPath(segments ...string) string {
	var b strings.Builder
	b.WriteString("/v1/")
	b.WriteString(url.PathEscape(c.projectID))
	for _, s := range segments {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(s))
	}
	return b.String()
}

// call describes one API call.
type call struct {
	method, path string
	query        url.Values
	in, out      any
	// idempotent: sending the request twice has the effect of sending it
	// once, so it may be resent when its outcome is unknown (a 5xx, or a
	// connection lost after the request went out).
	idempotent bool
	// check, when set, judges a decoded 2xx answer (given its request ID);
	// an error makes the answer count as failed, and it is retried when
	// the error is transient.
	check func(requestID string) error
}

// do makes an API call, retrying what is worth retrying (see RetryPolicy),
// and decodes a 2xx JSON answer into c.out. Any other answer becomes an
// *APIError. When a non-idempotent call fails after the request may have
// reached the API, the error is an *OutcomeUnknownError.
func (c *Client) do(ctx context.Context, cl call) error {
	// path is already escaped (projectPath). Setting it as url.URL.Path
	// would escape it a second time ("/" in an ID would reach the API as
	// "%252F"), so the URL is built as a string and parsed once.
	target := c.endpoint.String() + cl.path
	rawQuery := cl.query.Encode()
	if rawQuery != "" {
		target += "?" + rawQuery
	}
	var body []byte
	if cl.in != nil {
		b, err := json.Marshal(cl.in)
		if err != nil {
			return fmt.Errorf("clouddc: encoding the %s %s request: %w", cl.method, cl.path, err)
		}
		body = b
	}
	first := time.Now()
	for attempt := 0; ; attempt++ {
		if err := c.waitForRate(ctx); err != nil {
			return fmt.Errorf("clouddc: %s %s: %w", cl.method, cl.path, err)
		}
		sent, err := c.send(ctx, cl, target, rawQuery, body)
		if err == nil {
			return nil
		}
		retry, unknown := c.classify(ctx, err, sent, cl.idempotent)
		if retry && attempt >= c.retry.MaxRetries {
			// Worth retrying, but the retries are spent: say so, and how
			// many were made, so that a user can tell a lasting failure
			// from a setting that is too low.
			err = &RetriesExhaustedError{Retries: attempt, Elapsed: time.Since(first), Err: err}
		}
		if !retry && IsPermanentNetworkError(err) {
			err = fmt.Errorf("%w (%s)", err, permanentHint(err))
		}
		if !retry || attempt >= c.retry.MaxRetries {
			if unknown {
				return &OutcomeUnknownError{Method: cl.method, Path: cl.path, Err: err}
			}
			return err
		}
		delay := c.retry.delay(attempt, err)
		c.logger.WarnContext(ctx, "CloudDC request failed; retrying", "method", cl.method, "path", cl.path,
			"attempt", attempt+1, "max_retries", c.retry.MaxRetries, "delay_ms", delay.Milliseconds(), "error", err.Error())
		if ctxErr := sleep(ctx, delay); ctxErr != nil {
			return &RetriesStoppedError{Retries: attempt, Elapsed: time.Since(first), Err: err, Cause: ctxErr}
		}
	}
}

// send makes one attempt. sent reports whether the request may have reached
// the API: false only when it certainly did not (no connection was made,
// or the request was never written).
func (c *Client) send(ctx context.Context, cl call, target, rawQuery string, body []byte) (sent bool, _ error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	var wrote atomic.Bool
	trace := &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { wrote.Store(true) }}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), cl.method, target, rd)
	if err != nil {
		return false, fmt.Errorf("clouddc: building the %s %s request: %w", cl.method, cl.path, err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.aksk != nil {
		// Signed here, on each attempt, so that a retry carries a fresh
		// X-Sdk-Date rather than one that may have gone stale meanwhile.
		c.aksk.sign(req, body, c.projectID, c.now())
	} else {
		req.Header.Set("X-Auth-Token", c.token)
	}

	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		c.logger.DebugContext(ctx, "CloudDC request failed", "method", cl.method, "path", cl.path, "error", err.Error())
		return wrote.Load(), fmt.Errorf("clouddc: %s %s: %w", cl.method, cl.path, err)
	}
	// The answer is complete once it is read; a failure to close the body
	// afterwards changes nothing about it.
	defer func() { _ = resp.Body.Close() }()
	c.logger.DebugContext(ctx, "CloudDC request", "method", cl.method, "path", cl.path, "query", rawQuery,
		"status", resp.StatusCode, "request_id", resp.Header.Get("X-Request-Id"), "duration_ms", time.Since(start).Milliseconds())

	if resp.StatusCode >= 300 && resp.StatusCode <= 399 {
		// The client never follows a redirect (see NewClient): the
		// credentials and the body must not go to another host.
		return true, &RedirectError{Method: cl.method, Path: cl.path, StatusCode: resp.StatusCode,
			Location: redirectTarget(resp.Header.Get("Location")), RequestID: resp.Header.Get("X-Request-Id")}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		apiErr := decodeAPIError(resp, cl.method, cl.path)
		apiErr.Auth = c.authMethod()
		return true, apiErr
	}
	if cl.out == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
		return true, nil
	}
	tooLarge := &ResponseTooLargeError{Method: cl.method, Path: cl.path, StatusCode: resp.StatusCode,
		Limit: MaxResponseBody, RequestID: resp.Header.Get("X-Request-Id")}
	if resp.ContentLength > MaxResponseBody {
		tooLarge.Size = resp.ContentLength
		return true, tooLarge
	}
	limited := &io.LimitedReader{R: resp.Body, N: MaxResponseBody + 1}
	if err := json.NewDecoder(limited).Decode(cl.out); err != nil {
		if limited.N <= 0 {
			return true, tooLarge
		}
		return true, &DecodeError{Method: cl.method, Path: cl.path, StatusCode: resp.StatusCode, Err: err}
	}
	if cl.check != nil {
		if err := cl.check(resp.Header.Get("X-Request-Id")); err != nil {
			return true, err
		}
	}
	return true, nil
}

// authMethod says how the client authenticates its requests.
func (c *Client) authMethod() AuthMethod {
	switch {
	case c.aksk == nil:
		return AuthToken
	case c.aksk.securityToken != "":
		return AuthTemporaryAccessKey
	}
	return AuthAccessKey
}

// decodeAPIError reads an error answer. The body may be the API's JSON, a
// gateway's plain text, or nothing at all; each becomes a usable APIError.
func decodeAPIError(resp *http.Response, method, path string) *APIError {
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	e := &APIError{
		StatusCode: resp.StatusCode,
		RequestID:  resp.Header.Get("X-Request-Id"),
		Method:     method,
		Path:       path,
		RetryAfter: resp.Header.Get("Retry-After"),
	}
	var body struct {
		Code    string `json:"error_code"`
		Message string `json:"error_msg"`
	}
	if json.Unmarshal(raw, &body) == nil && (body.Code != "" || body.Message != "") {
		e.Code, e.Message = body.Code, body.Message
		return e
	}
	e.Message = excerpt(raw)
	return e
}

// permanentHint says why a permanent network error was not retried and
// what to check.
func permanentHint(err error) string {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return "not retried: the endpoint's host name does not exist, which another try would not change; check the endpoint, or the region it is derived from"
	}
	return "not retried: the TLS connection to the endpoint failed, which another try would not change; check that the endpoint is an https URL " +
		"of the CloudDC API and that its certificate is trusted by this machine"
}

// RedactURL returns raw with any user information ("user:password@")
// replaced by "REDACTED@", for a URL that is about to be printed or logged.
// It also works on strings that do not parse as URLs.
func RedactURL(raw string) string {
	// Skip "scheme:" and the slashes after it ("https://", or a mistyped
	// "https:/"); without slashes, "user:pass@host" has no scheme.
	start := 0
	if colon := strings.IndexByte(raw, ':'); colon > 0 && strings.HasPrefix(raw[colon+1:], "/") {
		start = colon + 1
		for start < len(raw) && raw[start] == '/' {
			start++
		}
	}
	// The authority ends at the first "/", "?" or "#"; user information is
	// everything in it up to its last "@".
	rest := raw[start:]
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	if at := strings.LastIndex(rest[:end], "@"); at >= 0 {
		return raw[:start] + "REDACTED@" + rest[at+1:]
	}
	return raw
}

// redirectTarget names where a redirect pointed: its scheme and host, with
// any user information left out, or why it names none.
func redirectTarget(location string) string {
	if location == "" {
		return "nowhere (the answer has no Location header)"
	}
	u, err := url.Parse(location)
	if err != nil {
		return "an unreadable Location header"
	}
	if u.Host == "" {
		return "a path on the same host"
	}
	return u.Scheme + "://" + u.Host
}

// excerpt turns a non-JSON body into a short single-line message. The
// message must stay valid UTF-8 (Terraform's protocol rejects anything
// else), so invalid bytes are replaced and the cut falls between runes.
func excerpt(raw []byte) string {
	s := strings.Join(strings.Fields(strings.ToValidUTF8(string(raw), "\uFFFD")), " ")
	const limit = 200
	if len(s) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}
