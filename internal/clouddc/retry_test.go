package clouddc

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fastRetry retries quickly, so that tests of the retry layer take
// milliseconds; Retry-After is capped at 30ms.
var fastRetry = RetryPolicy{MaxRetries: 3, BaseDelay: time.Millisecond, MaxDelay: 4 * time.Millisecond, MaxRetryAfter: 30 * time.Millisecond}

// reply is one scripted HTTP reply; drop closes the connection instead.
type reply struct {
	status     int
	body       string
	retryAfter string
	drop       bool
}

// scriptedServer answers requests from the list in turn, repeating the last.
func scriptedServer(t *testing.T, answers ...reply) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		a := answers[min(i, len(answers)-1)]
		if a.drop {
			hj, ok := w.(http.Hijacker)
			if !ok {
				t.Error("cannot hijack")
				return
			}
			conn, _, _ := hj.Hijack()
			_ = conn.Close()
			return
		}
		if a.retryAfter != "" {
			w.Header().Set("Retry-After", a.retryAfter)
		}
		w.Header().Set("X-Request-Id", "req")
		w.WriteHeader(a.status)
		_, _ = w.Write([]byte(a.body))
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

const runningBody = `{"state":"running","operation_state":"install-succeed"}`

func TestRetry_table(t *testing.T) {
	t.Parallel()
	errJSON := func(code string) string { return `{"error_code":"` + code + `","error_msg":"x"}` }
	tests := []struct {
		name     string
		answers  []reply
		create   bool // POST CreateInstance instead of GET status
		wantReqs int32
		wantErr  func(error) bool
	}{
		{"429 then success", []reply{{status: 429, body: errJSON("iMetal.0005")}, {status: 200, body: runningBody}}, false, 2, nil},
		{"429 with a plain-text body", []reply{{status: 429, body: "Too Many Requests"}, {status: 200, body: runningBody}}, false, 2, nil},
		{"429 with an empty body", []reply{{status: 429}, {status: 200, body: runningBody}}, false, 2, nil},
		{"500", []reply{{status: 500, body: errJSON("iMetal.0099")}, {status: 200, body: runningBody}}, false, 2, nil},
		{"502", []reply{{status: 502, body: "<html>bad gateway</html>"}, {status: 200, body: runningBody}}, false, 2, nil},
		{"503", []reply{{status: 503}, {status: 200, body: runningBody}}, false, 2, nil},
		{"504", []reply{{status: 504}, {status: 200, body: runningBody}}, false, 2, nil},
		{"connection dropped", []reply{{drop: true}, {status: 200, body: runningBody}}, false, 2, nil},
		{"several failures in a row", []reply{{status: 503}, {status: 429}, {drop: true}, {status: 200, body: runningBody}}, false, 4, nil},
		{"gives up after MaxRetries", []reply{{status: 503, body: errJSON("iMetal.0099")}}, false, 4,
			func(err error) bool { return errors.Is(err, ErrServerError) }},
		{"400 is not retried", []reply{{status: 400, body: errJSON("iMetal.0001")}}, false, 1,
			func(err error) bool { return errors.Is(err, ErrBadRequest) }},
		{"401 is not retried", []reply{{status: 401, body: errJSON("iMetal.0003")}}, false, 1,
			func(err error) bool { return errors.Is(err, ErrUnauthorized) }},
		{"403 is not retried", []reply{{status: 403, body: errJSON("iMetal.0004")}}, false, 1,
			func(err error) bool { return errors.Is(err, ErrForbidden) }},
		{"404 is not retried", []reply{{status: 404, body: errJSON("iMetal.0200")}}, false, 1,
			func(err error) bool { return errors.Is(err, ErrNotFound) }},
		{"create: 429 is retried (refused, so nothing was created)",
			[]reply{{status: 429}, {status: 200, body: `{"instance_id":"` + testID + `"}`}}, true, 2, nil},
		{"create: a 5xx is not resent", []reply{{status: 503}, {status: 200, body: `{"instance_id":"` + testID + `"}`}}, true, 1,
			func(err error) bool {
				var u *OutcomeUnknownError
				return errors.As(err, &u) && errors.Is(err, ErrServerError)
			}},
		{"create: a connection lost after sending is not resent", []reply{{drop: true}, {status: 200, body: `{"instance_id":"` + testID + `"}`}}, true, 1,
			func(err error) bool {
				var u *OutcomeUnknownError
				return errors.As(err, &u)
			}},
		{"create: 400 is an ordinary error", []reply{{status: 400, body: errJSON("iMetal.0001")}}, true, 1,
			func(err error) bool {
				var u *OutcomeUnknownError
				return !errors.As(err, &u) && errors.Is(err, ErrBadRequest)
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, n := scriptedServer(t, tc.answers...)
			c := newTestClient(t, srv.URL, WithRetryPolicy(fastRetry))
			var err error
			if tc.create {
				_, err = c.CreateInstanceByHand(context.Background(), CreateInstanceInput{Name: "x"})
			} else {
				_, err = c.ShowInstanceStatus(context.Background(), testID)
			}
			if got := n.Load(); got != tc.wantReqs {
				t.Errorf("%d requests, want %d", got, tc.wantReqs)
			}
			switch {
			case tc.wantErr == nil && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.wantErr != nil && (err == nil || !tc.wantErr(err)):
				t.Fatalf("error %v does not match", err)
			}
		})
	}
}

func TestRetry_retryAfterIsHonouredAndCapped(t *testing.T) {
	t.Parallel()
	for _, ra := range []string{"1", time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)} {
		t.Run(ra, func(t *testing.T) {
			t.Parallel()
			srv, n := scriptedServer(t, reply{status: 429, retryAfter: ra}, reply{status: 200, body: runningBody})
			// Back-off alone would wait at most 1ms; Retry-After asks for
			// more and is capped at MaxRetryAfter (30ms).
			c := newTestClient(t, srv.URL, WithRetryPolicy(fastRetry))
			start := time.Now()
			if _, err := c.ShowInstanceStatus(context.Background(), testID); err != nil {
				t.Fatal(err)
			}
			if el := time.Since(start); el < 30*time.Millisecond || el > 900*time.Millisecond {
				t.Errorf("took %v; want the capped Retry-After of 30ms", el)
			}
			if n.Load() != 2 {
				t.Errorf("%d requests", n.Load())
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"0", 0, true},
		{"7", 7 * time.Second, true},
		{"120", 2 * time.Minute, true},
		{"Wed, 25 Nov 2026 12:00:30 GMT", 30 * time.Second, true},
		{"Wed, 25 Nov 2026 11:59:00 GMT", 0, true}, // in the past: retry now
		{"-3", 0, false},
		{"soon", 0, false},
		{"1.5", 0, false},
	}
	for _, tc := range tests {
		got, ok := parseRetryAfter(tc.in, now)
		if ok != tc.ok || got != tc.want {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestRetryPolicy_fullJitter(t *testing.T) {
	t.Parallel()
	p := RetryPolicy{MaxRetries: 10, BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second}
	for attempt, ceiling := range []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond,
		800 * time.Millisecond, time.Second, time.Second} {
		seen := map[time.Duration]bool{}
		var top time.Duration
		for range 500 {
			d := p.delay(attempt, errors.New("network"))
			if d < 0 || d > ceiling {
				t.Fatalf("attempt %d: delay %v outside [0, %v]", attempt, d, ceiling)
			}
			seen[d] = true
			top = max(top, d)
		}
		// Full jitter spreads the delays over the whole range.
		if len(seen) < 100 || top < ceiling/2 {
			t.Errorf("attempt %d: %d distinct delays, largest %v: not full jitter up to %v", attempt, len(seen), top, ceiling)
		}
	}
	if d := p.delay(200, errors.New("x")); d > time.Second {
		t.Errorf("a huge attempt number overflowed the cap: %v", d)
	}
}

func TestRetry_stopsAtOnceWhenCancelled(t *testing.T) {
	t.Parallel()
	srv, n := scriptedServer(t, reply{status: 503})
	c := newTestClient(t, srv.URL, WithRetryPolicy(RetryPolicy{MaxRetries: 10, BaseDelay: 10 * time.Second, MaxDelay: 10 * time.Second}))
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err := c.ShowInstanceStatus(ctx, testID)
	if !errors.Is(err, context.Canceled) || !errors.Is(err, ErrServerError) {
		t.Fatalf("error %v should carry both the cancellation and the last API error", err)
	}
	if el := time.Since(start); el > time.Second {
		t.Errorf("took %v to stop after cancellation", el)
	}
	if n.Load() > 2 {
		t.Errorf("%d requests after cancellation", n.Load())
	}
}

// dialFailTransport fails the first round trips before anything is written,
// as a refused connection does, then passes requests on.
type dialFailTransport struct {
	fails atomic.Int32
	next  http.RoundTripper
}

func (d *dialFailTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if d.fails.Add(-1) >= 0 {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	}
	return d.next.RoundTrip(r)
}

func TestRetry_createIsResentWhenNothingWasSent(t *testing.T) {
	t.Parallel()
	srv, n := scriptedServer(t, reply{status: 200, body: `{"instance_id":"` + testID + `"}`})
	tr := &dialFailTransport{next: http.DefaultTransport}
	tr.fails.Store(2)
	c := newTestClient(t, srv.URL, WithRetryPolicy(fastRetry), WithHTTPClient(&http.Client{Transport: tr}))
	id, err := c.CreateInstanceByHand(context.Background(), CreateInstanceInput{Name: "x"})
	if err != nil || id != testID {
		t.Fatalf("CreateInstance = %q, %v", id, err)
	}
	if n.Load() != 1 {
		t.Errorf("the API received %d creates, want exactly 1", n.Load())
	}
}

func TestRetry_certificateErrorsAreNotRetried(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { n.Add(1) }))
	t.Cleanup(srv.Close)
	c := newTestClient(t, srv.URL, WithRetryPolicy(fastRetry)) // the default client does not trust the test CA
	start := time.Now()
	_, err := c.ShowInstanceStatus(context.Background(), testID)
	if err == nil || IsTransient(err) {
		t.Fatalf("error %v should be a permanent certificate error", err)
	}
	if !strings.Contains(err.Error(), "certificate") {
		t.Errorf("error does not say it is about the certificate: %v", err)
	}
	if time.Since(start) > time.Second {
		t.Error("certificate failure was retried")
	}
}

func TestRetry_truncatedAnswerIsRetried(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if n.Add(1) == 1 {
			// Promise more than is sent, then close: the client reads a
			// cut-off JSON document.
			w.Header().Set("Content-Length", "500")
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte(`{"state":"run`))
			hj, _ := w.(http.Hijacker)
			conn, _, _ := hj.Hijack()
			_ = conn.Close()
			return
		}
		_, _ = w.Write([]byte(runningBody))
	}))
	t.Cleanup(srv.Close)
	c := newTestClient(t, srv.URL, WithRetryPolicy(fastRetry))
	st, err := c.ShowInstanceStatus(context.Background(), testID)
	if err != nil || st.State != StateRunning {
		t.Fatalf("ShowInstanceStatus = %+v, %v", st, err)
	}
	if n.Load() != 2 {
		t.Errorf("%d requests, want 2", n.Load())
	}
}

func TestRateLimit_sharedByAllCalls(t *testing.T) {
	t.Parallel()
	srv, n := scriptedServer(t, reply{status: 200, body: runningBody})
	start := time.Now()
	c := newTestClient(t, srv.URL, WithRateLimit(50)) // a burst of 50, then one request every 20ms
	var wg sync.WaitGroup
	for range 12 {
		wg.Go(func() {
			for range 5 {
				if _, err := c.ShowInstanceStatus(context.Background(), testID); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	// 60 requests at 50/s with a burst of 50: the last 10 need 10 tokens
	// that come one every 20ms, however the calls are spread.
	if el := time.Since(start); el < 200*time.Millisecond {
		t.Errorf("60 requests at 50/s took only %v", el)
	}
	if n.Load() != 60 {
		t.Errorf("%d requests", n.Load())
	}
}

func TestRateLimit_waitIsCancellable(t *testing.T) {
	t.Parallel()
	srv, _ := scriptedServer(t, reply{status: 200, body: runningBody})
	c := newTestClient(t, srv.URL, WithRateLimit(0.1)) // one request every 10s
	if _, err := c.ShowInstanceStatus(context.Background(), testID); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := c.ShowInstanceStatus(ctx, testID); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	if time.Since(start) > time.Second {
		t.Error("the rate limiter ignored the context")
	}
}

func TestRetryOptions_validation(t *testing.T) {
	t.Parallel()
	for _, opt := range []Option{
		WithRetryPolicy(RetryPolicy{MaxRetries: -1}),
		WithRetryPolicy(RetryPolicy{BaseDelay: time.Second, MaxDelay: time.Millisecond}),
		WithRetryPolicy(RetryPolicy{MaxRetryAfter: -1}),
		WithMaxRetries(-1),
		WithRateLimit(-1),
	} {
		if _, err := NewClient(WithEndpoint("https://x.example.com"), WithProjectID("p"), WithToken("t"), opt); err == nil {
			t.Error("an invalid retry option was accepted")
		}
	}
}

// TestRetry_clientTimeoutIsRetried: the HTTP client's own timeout (an
// endpoint that holds a request) is a blip while the caller's context
// lives: an idempotent request is sent again, and a create whose request
// was written has an unknown outcome, never "nothing was made".
func TestRetry_clientTimeoutIsRetried(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			select { // the first request hangs past the client's timeout
			case <-r.Context().Done():
			case <-time.After(2 * time.Second):
			}
			return
		}
		if r.Method == http.MethodPost {
			select {
			case <-r.Context().Done():
			case <-time.After(2 * time.Second):
			}
			return
		}
		_, _ = w.Write([]byte(`{"state":"running","operation_state":"install-succeed"}`))
	}))
	t.Cleanup(srv.Close)
	c := newTestClient(t, srv.URL, WithHTTPClient(&http.Client{Timeout: 100 * time.Millisecond}), WithRetryPolicy(fastRetry))
	st, err := c.ShowInstanceStatus(testContext(t), testID)
	if err != nil || st.State != StateRunning || n.Load() != 2 {
		t.Fatalf("ShowInstanceStatus = %+v, %v after %d requests; want running after a retry", st, err, n.Load())
	}
	_, err = c.postCreate(testContext(t), CreateInstanceInput{Name: "x"})
	if classifyCreate(err) != maybeCreated {
		t.Errorf("a create that timed out after it was written: %v; want an unknown outcome", err)
	}
}
