package clouddc

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"
)

// RetryPolicy says how the client retries a failed request. Rate limits
// (429), server failures (500, 502, 503, 504) and network errors are
// retried with exponential back-off and full jitter; a Retry-After header is
// honoured up to MaxRetryAfter. Other 4xx answers are never retried, and a
// cancelled context stops at once.
//
// A request that is not idempotent (CreateInstance) is resent only when it
// certainly had no effect: a 429, or a connection that failed before the
// request was written. Otherwise its error is an *OutcomeUnknownError.
type RetryPolicy struct {
	// MaxRetries is how many times a request is resent; 0 disables retries.
	MaxRetries int
	// BaseDelay and MaxDelay bound the back-off: before retry n (from 0)
	// the client sleeps a random time in [0, min(MaxDelay, BaseDelay·2ⁿ)].
	BaseDelay time.Duration
	MaxDelay  time.Duration
	// MaxRetryAfter caps how long a Retry-After header can make it wait.
	MaxRetryAfter time.Duration
}

// DefaultRetryPolicy retries ten times, backing off from half a second up
// to 30 seconds, and honours Retry-After up to a minute.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{MaxRetries: 10, BaseDelay: 500 * time.Millisecond, MaxDelay: 30 * time.Second, MaxRetryAfter: time.Minute}
}

func (p RetryPolicy) validate() error {
	switch {
	case p.MaxRetries < 0:
		return errors.New("max retries must not be negative")
	case p.BaseDelay < 0 || p.MaxDelay < p.BaseDelay:
		return errors.New("retry delays must satisfy 0 <= base <= max")
	case p.MaxRetryAfter < 0:
		return errors.New("the Retry-After cap must not be negative")
	}
	return nil
}

// WithRetryPolicy replaces DefaultRetryPolicy.
func WithRetryPolicy(p RetryPolicy) Option {
	return func(c *Client) error {
		if err := p.validate(); err != nil {
			return err
		}
		c.retry = p
		return nil
	}
}

// WithMaxRetries changes only the number of retries of the policy.
func WithMaxRetries(n int) Option {
	return func(c *Client) error {
		if n < 0 {
			return errors.New("max retries must not be negative")
		}
		c.retry.MaxRetries = n
		return nil
	}
}

// WithRateLimit keeps every call the client makes under perSecond
// requests a second on average, so that one Terraform run stays under an
// account's API quota: a token bucket (golang.org/x/time/rate) that lets a
// second's worth of requests (at least one) go at once after a quiet
// spell, then spaces them 1/perSecond apart. Zero means no limit.
func WithRateLimit(perSecond float64) Option {
	return func(c *Client) error {
		if perSecond < 0 {
			return errors.New("the rate limit must not be negative")
		}
		c.limiter = nil
		if perSecond > 0 {
			c.limiter = rate.NewLimiter(rate.Limit(perSecond), max(1, int(math.Ceil(perSecond))))
		}
		return nil
	}
}

// delay is how long to sleep before retry number attempt (from 0).
//
// A Retry-After header is honoured up to MaxRetryAfter, plus a random
// spread of a fifth of it (at least BaseDelay): parallel requests that were
// refused together get the same header, and would otherwise all come back
// at the same instant and be refused together again.
func (p RetryPolicy) delay(attempt int, err error) time.Duration {
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.RetryAfter != "" {
		if d, ok := parseRetryAfter(apiErr.RetryAfter, time.Now()); ok {
			d = min(d, p.MaxRetryAfter)
			spread := max(d/5, p.BaseDelay)
			if spread <= 0 {
				return d
			}
			return d + rand.N(spread+1) //nolint:gosec // G404: jitter, not cryptography
		}
	}
	ceiling := p.MaxDelay
	if attempt < 62 {
		if c := p.BaseDelay << attempt; c > 0 && c < ceiling {
			ceiling = c
		}
	}
	if ceiling <= 0 {
		return 0
	}
	// Full jitter only spreads clients apart; nothing depends on the delay
	// being unpredictable.
	return rand.N(ceiling + 1) //nolint:gosec // G404: jitter, not cryptography
}

// maxRetryAfter is the longest delay parseRetryAfter returns; the policy's
// cap is far below it. Anything longer (an absurd 9999999999 seconds, or a
// date centuries away) would overflow time.Duration.
const maxRetryAfter = 24 * time.Hour

// parseRetryAfter reads a Retry-After value: delay seconds or an HTTP date.
// Absurdly large values are clamped to maxRetryAfter, never wrapped round
// to a negative delay.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v != "" && strings.Trim(v, "0123456789") == "" {
		secs, err := strconv.ParseUint(v, 10, 64)
		if err != nil || secs > uint64(maxRetryAfter/time.Second) {
			return maxRetryAfter, true // too many digits for any integer: absurd, so clamped
		}
		return time.Duration(secs) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		if t.After(now.Add(maxRetryAfter)) {
			return maxRetryAfter, true
		}
		return max(0, t.Sub(now)), true
	}
	return 0, false
}

// classify decides whether a failed attempt is retried, and whether the
// outcome of a non-idempotent request is unknown.
func (c *Client) classify(ctx context.Context, err error, sent, idempotent bool) (retry, unknown bool) {
	if ctx.Err() != nil {
		// The caller gave up: no retry. A request that was written may
		// have been carried out all the same.
		return false, sent && !idempotent
	}
	if !IsTransient(err) {
		return false, false
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusTooManyRequests {
		return true, false // refused, so it had no effect
	}
	if idempotent || !sent {
		return true, false
	}
	return false, true
}

// sleep waits for d or until ctx ends, whichever is first.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// waitForRate waits until the client's rate limit lets one more request
// go (see WithRateLimit), or ctx ends, or the wait would outlast ctx's
// deadline (then at once, with an error that matches
// context.DeadlineExceeded).
func (c *Client) waitForRate(ctx context.Context) error {
	if c.limiter == nil {
		return ctx.Err()
	}
	if err := c.limiter.Wait(ctx); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		return fmt.Errorf("the rate limit (max_requests_per_second) would delay the request past the deadline: %w", context.DeadlineExceeded)
	}
	return nil
}

// OutcomeUnknownError is returned when a request that must not be sent
// twice (CreateInstance) failed after it may have reached the API: a 5xx,
// or a connection lost after the request was written. The API may or may
// not have acted on it.
type OutcomeUnknownError struct {
	Method, Path string
	Err          error
}

func (e *OutcomeUnknownError) Error() string {
	return fmt.Sprintf("the outcome of %s %s is unknown (the API may have acted on it): %v", e.Method, e.Path, e.Err)
}

func (e *OutcomeUnknownError) Unwrap() error { return e.Err }

// DecodeError is a 2xx answer whose body could not be decoded. When the
// body was cut short (the connection closed mid-answer) it is transient.
type DecodeError struct {
	Method, Path string
	StatusCode   int
	Err          error
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("clouddc: decoding the answer to %s %s (HTTP %d): %v", e.Method, e.Path, e.StatusCode, e.Err)
}

func (e *DecodeError) Unwrap() error { return e.Err }

// RetriesExhaustedError is a failure that was worth retrying, after the
// retries of the RetryPolicy were spent.
type RetriesExhaustedError struct {
	// Retries is how many times the request was resent (0 when retries
	// are turned off).
	Retries int
	Elapsed time.Duration
	Err     error
}

func (e *RetriesExhaustedError) Error() string {
	if e.Retries == 0 {
		return fmt.Sprintf("%v (not retried: retries are turned off; max_retries sets how many are made)", e.Err)
	}
	return fmt.Sprintf("%v (gave up after %d retries over %s; max_retries sets how many are made)",
		e.Err, e.Retries, e.Elapsed.Round(time.Second))
}

func (e *RetriesExhaustedError) Unwrap() error { return e.Err }

// RetriesStoppedError is a failure that was being retried when the
// caller's context ended (Ctrl-C, a timeout): Err is the last attempt's
// error, Cause the context's.
type RetriesStoppedError struct {
	// Retries is how many times the request had been resent.
	Retries int
	Elapsed time.Duration
	Err     error
	Cause   error
}

func (e *RetriesStoppedError) Error() string {
	return fmt.Sprintf("%v (retried %d times over %s, then stopped: %v)", e.Err, e.Retries, e.Elapsed.Round(time.Millisecond), e.Cause)
}

// Unwrap exposes both the last attempt's error and the context's.
func (e *RetriesStoppedError) Unwrap() []error { return []error{e.Err, e.Cause} }

// IsTransient reports whether an error is worth retrying: a rate limit, a
// server-side failure, a network failure, or a listing that is not
// complete. Context errors, the API's other 4xx answers, redirects, answers
// that are too large, and what cannot succeed on a second try (a host name
// that does not resolve, a TLS failure, an undecodable answer) are not.
func IsTransient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var urlErr *url.Error
	if errors.As(err, &urlErr) && urlErr.Timeout() {
		// The HTTP client's own timeout (a hung endpoint or a slow
		// answer): another try may be answered. A caller whose context
		// ended is told apart by its context, and not retried.
		return true
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		switch apiErr.StatusCode {
		case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
			http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return true
		}
		return false
	}
	var incomplete *IncompleteListingError
	if errors.As(err, &incomplete) {
		return true
	}
	var redirect *RedirectError
	var tooLarge *ResponseTooLargeError
	if errors.As(err, &redirect) || errors.As(err, &tooLarge) || IsPermanentNetworkError(err) {
		return false
	}
	var decodeErr *DecodeError
	if errors.As(err, &decodeErr) {
		return errors.Is(err, io.ErrUnexpectedEOF) || isNetError(err)
	}
	// Transport failures: the connection failed, was reset, or closed in
	// the middle of an answer.
	return errors.As(err, &urlErr) || isNetError(err) || errors.Is(err, io.ErrUnexpectedEOF)
}

// IsPermanentNetworkError reports a network failure that a retry would
// meet again at once: a host name that does not exist (a mistyped
// endpoint or region), or a TLS failure (an untrusted or mismatched
// certificate, or an endpoint that does not speak TLS).
func IsPermanentNetworkError(err error) bool {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
		return true
	}
	var record tls.RecordHeaderError
	var alert tls.AlertError
	// http.ErrSchemeMismatch: an https endpoint that answers in plain http.
	return isCertificateError(err) || errors.As(err, &record) || errors.As(err, &alert) || errors.Is(err, http.ErrSchemeMismatch)
}

func isNetError(err error) bool {
	var netErr net.Error
	return errors.As(err, &netErr)
}

func isCertificateError(err error) bool {
	var unknownAuthority x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	var hostname x509.HostnameError
	var verify *tls.CertificateVerificationError
	return errors.As(err, &unknownAuthority) || errors.As(err, &invalid) || errors.As(err, &hostname) || errors.As(err, &verify)
}
