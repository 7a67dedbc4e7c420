package clouddc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// These tests hold the client to one rule: an instance is gone only when
// the API certainly said so (a 404 with iMetal.0200, or a complete
// listing). Every other answer a gateway or a proxy can give is a blip.

// notListings are 200 answers to ListInstances that are well-formed JSON
// but not a listing: absence from them proves nothing.
var notListings = map[string]string{
	"empty document":      `{}`,
	"null instances":      `{"instances":null,"count":0}`,
	"no count":            `{"instances":[]}`,
	"null count":          `{"instances":[],"count":null}`,
	"short page":          `{"instances":[],"page_info":{"next_marker":""},"count":1}`,
	"page longer than it": `{"instances":[{"id":"a"},{"id":"b"}],"page_info":{"next_marker":""},"count":1}`,
}

func TestListInstances_refusesWhatIsNotACompleteListing(t *testing.T) {
	t.Parallel()
	for name, body := range notListings {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv, n := scriptedServer(t, reply{status: 200, body: body})
			c := newTestClient(t, srv.URL, WithRetryPolicy(fastRetry))
			_, err := c.ListInstances(context.Background(), ListInstancesInput{InstanceIDs: []string{testID}})
			var incomplete *IncompleteListingError
			if !errors.As(err, &incomplete) {
				t.Fatalf("error = %v; want an *IncompleteListingError", err)
			}
			if errors.Is(err, ErrNotFound) {
				t.Errorf("%v matches ErrNotFound", err)
			}
			if incomplete.RequestID != "req" {
				t.Errorf("request ID = %q; want req", incomplete.RequestID)
			}
			// It is a blip: retried like a 503.
			if got := int(n.Load()); got != fastRetry.MaxRetries+1 {
				t.Errorf("%d requests; want %d (retried)", got, fastRetry.MaxRetries+1)
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("gave up after %d retries", fastRetry.MaxRetries)) {
				t.Errorf("error %q does not say how many retries were made", err)
			}
			if _, err := c.GetInstance(context.Background(), testID); errors.Is(err, ErrNotFound) || err == nil {
				t.Errorf("GetInstance on %s = %v; want an error that is not ErrNotFound", body, err)
			}
		})
	}
}

func TestListInstances_acceptsRealListings(t *testing.T) {
	t.Parallel()
	for _, body := range []string{
		`{"instances":[],"page_info":{"next_marker":""},"count":0}`,
		`{"instances":[],"count":0}`,
		// A first page of a longer listing: the rest is on the next pages.
		`{"instances":[{"id":"a"}],"page_info":{"next_marker":"a"},"count":3}`,
	} {
		srv, _ := scriptedServer(t, reply{status: 200, body: body})
		c := newTestClient(t, srv.URL)
		if _, err := c.ListInstances(context.Background(), ListInstancesInput{}); err != nil {
			t.Errorf("ListInstances on %s: %v", body, err)
		}
	}
}

// pagedServer lists ids over pages of size items; lose removes the given
// IDs from their page (a page that lost items), without changing count,
// in the listings of the whole project (and, with filtered, in the
// listings filtered by ID too).
func pagedServer(t *testing.T, ids []string, size int, filtered bool, lose ...string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		lose := lose
		if q.Get("instance_id") != "" && !filtered {
			lose = nil
		}
		var list []string
		if f := q.Get("instance_id"); f != "" {
			for _, id := range strings.Split(f, ",") {
				if containsString(ids, id) {
					list = append(list, id)
				}
			}
		} else {
			list = ids
		}
		start := 0
		if m := q.Get("marker"); m != "" {
			for i, id := range list {
				if id == m {
					start = i + 1
				}
			}
		}
		end := min(start+size, len(list))
		var items []string
		for _, id := range list[start:end] {
			if !containsString(lose, id) {
				items = append(items, fmt.Sprintf(`{"id":%q,"state":"running"}`, id))
			}
		}
		next := ""
		if end < len(list) {
			next = list[end-1]
		}
		w.Header().Set("Content-Type", "application/json")
		//nolint:gosec // G705: a test server answering JSON to the client under test
		_, _ = fmt.Fprintf(w, `{"instances":[%s],"page_info":{"next_marker":%q},"count":%d}`, strings.Join(items, ","), next, len(list))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestListAllInstances_comparesThePagesWithCount(t *testing.T) {
	t.Parallel()
	ids := []string{"a", "b", "c", "d", "e"}
	t.Run("complete", func(t *testing.T) {
		t.Parallel()
		srv := pagedServer(t, ids, 2, true)
		c := newTestClient(t, srv.URL)
		all, err := c.ListAllInstances(context.Background(), ListInstancesInput{})
		if err != nil || len(all) != 5 {
			t.Fatalf("ListAllInstances = %d instances, %v; want 5", len(all), err)
		}
	})
	t.Run("a page lost an item", func(t *testing.T) {
		t.Parallel()
		srv := pagedServer(t, ids, 2, true, "c")
		c := newTestClient(t, srv.URL)
		_, err := c.ListAllInstances(context.Background(), ListInstancesInput{})
		var incomplete *IncompleteListingError
		if !errors.As(err, &incomplete) || !strings.Contains(err.Error(), "4 distinct instances, count says 5") {
			t.Fatalf("error = %v; want an *IncompleteListingError that counts 4 of 5", err)
		}
	})
}

func TestListAllInstances_listsAgainWhenThePagesDoNotAddUp(t *testing.T) {
	t.Parallel()
	first := reply{status: 200, body: `{"instances":[{"id":"a"}],"page_info":{"next_marker":"a"},"count":2}`}
	srv, n := scriptedServer(t, first,
		reply{status: 200, body: `{"instances":[],"page_info":{"next_marker":""},"count":2}`}, // lost b
		first,
		reply{status: 200, body: `{"instances":[{"id":"b"}],"page_info":{"next_marker":""},"count":2}`})
	c := newTestClient(t, srv.URL, WithRetryPolicy(fastRetry))
	all, err := c.ListAllInstances(context.Background(), ListInstancesInput{})
	if err != nil || len(all) != 2 {
		t.Fatalf("ListAllInstances = %d instances, %v; want a and b", len(all), err)
	}
	if got := n.Load(); got != 4 {
		t.Errorf("%d requests; want 4 (the listing read twice)", got)
	}
}

// A page that is incomplete on its own is retried by the request's own
// retries; the listing must not retry those retries again, or a gateway
// that keeps cutting pages short would cost max_retries squared requests.
func TestListAllInstances_doesNotMultiplyRetries(t *testing.T) {
	t.Parallel()
	srv, n := scriptedServer(t, reply{status: 200, body: `{"instances":[{"id":"a"}],"page_info":{"next_marker":""},"count":2}`})
	policy := fastRetry
	policy.MaxRetries = 3
	c := newTestClient(t, srv.URL, WithRetryPolicy(policy))
	_, err := c.ListAllInstances(context.Background(), ListInstancesInput{})
	var incomplete *IncompleteListingError
	var spent *RetriesExhaustedError
	if !errors.As(err, &incomplete) || !errors.As(err, &spent) || spent.Retries != 3 {
		t.Fatalf("error = %v; want an *IncompleteListingError after 3 retries", err)
	}
	if got := n.Load(); got != 4 {
		t.Errorf("%d requests; want 4 (one, then 3 retries)", got)
	}
}

// TestGetInstanceCoalesced_lossyPageIsNotGone is scenario 5: the whole-project
// listing behind a refresh has a page that lost an instance. The reads
// must not report it not found; they fall back to reading by ID.
func TestGetInstanceCoalesced_lossyPageIsNotGone(t *testing.T) {
	t.Parallel()
	var ids []string
	for i := range 30 {
		ids = append(ids, fmt.Sprintf("00000000-0000-4000-8000-%012d", i))
	}
	// The whole-project listing loses an item; filtered reads do not.
	srv := pagedServer(t, ids, 10, false, ids[7])
	c := newTestClient(t, srv.URL)
	got, errs := readAll(c, ids, 10)
	for _, id := range ids {
		if errs[id] != nil || got[id] == nil || got[id].ID != id {
			t.Errorf("read %s: %+v, %v", id, got[id], errs[id])
		}
	}
}

func TestGetInstanceCoalesced_emptyDocumentIsNotGone(t *testing.T) {
	t.Parallel()
	for name, body := range notListings {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv, _ := scriptedServer(t, reply{status: 200, body: body})
			c := newTestClient(t, srv.URL)
			// One read, and a refresh's worth of reads (the snapshot).
			for _, n := range []int{1, 8} {
				ids := make([]string, n)
				for i := range ids {
					ids[i] = fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
				}
				_, errs := readAll(c, ids, n)
				for id, err := range errs {
					if err == nil || errors.Is(err, ErrNotFound) {
						t.Errorf("%d reads: read %s = %v; want an error that is not ErrNotFound", n, id, err)
					}
				}
			}
		})
	}
}

// TestWait_uncertainAnswersAreBlips is scenario 4 and the gateway 404 for
// the waits: none of these answers ends a wait, and a delete wait does not
// return success while the instance is still shutting down.
func TestWait_uncertainAnswersAreBlips(t *testing.T) {
	t.Parallel()
	blips := []step{
		{body: `{}`},
		{body: `{"instances":null}`},
		{body: `{"instances":[],"count":1}`},
		{status: 404, body: `{"error_code":"APIGW.0101","error_msg":"The API does not exist or has not been published in the environment"}`},
		{status: 404, body: `Not Found`},
		{body: `<html>captive portal</html>`},
	}
	for _, blip := range blips {
		t.Run("delete "+blip.body, func(t *testing.T) {
			t.Parallel()
			srv := newRawScriptServer(t, statusOK("shutting-down", "uninstall-processing"), blip, blip,
				statusOK("shutting-down", "uninstall-processing"), blip, statusOK("terminated", "uninstall-succeed"))
			c := newTestClient(t, srv.url)
			st, err := c.WaitForInstanceTerminated(testContext(t), testID)
			if err != nil || st.State != StateTerminated {
				t.Fatalf("wait = %+v, %v; want terminated", st, err)
			}
			if n := srv.requests(); n != 6 {
				t.Errorf("%d polls; want 6 (the wait ended before the instance was terminated)", n)
			}
		})
		t.Run("create "+blip.body, func(t *testing.T) {
			t.Parallel()
			srv := newRawScriptServer(t, blip, statusOK("pending", "install-processing"), blip, statusOK("running", "install-succeed"))
			c := newTestClient(t, srv.url)
			st, err := c.WaitForInstanceRunning(testContext(t), testID)
			if err != nil || st.State != StateRunning {
				t.Fatalf("wait = %+v, %v; want running", st, err)
			}
		})
		t.Run("timeout "+blip.body, func(t *testing.T) {
			t.Parallel()
			srv := newRawScriptServer(t, statusOK("shutting-down", "uninstall-processing"), blip)
			c := newTestClient(t, srv.url)
			// Long enough for the first poll on a loaded machine (the
			// race detector, beside the acceptance tests): 500 ms once
			// ended before any state was read.
			st, err := c.WaitForInstanceTerminated(testContextFor(t, 3*time.Second), testID)
			var waitErr *WaitError
			if !errors.As(err, &waitErr) || waitErr.LastState != StateShuttingDown || waitErr.LastPollError == nil {
				t.Fatalf("wait = %+v, %v; want a timeout that names shutting-down and the last poll's failure", st, err)
			}
		})
	}
}

func TestWait_apiNotFoundIsGone(t *testing.T) {
	t.Parallel()
	srv := newRawScriptServer(t, statusOK("shutting-down", "uninstall-processing"),
		apiErrorStep(404, CodeInstanceNotFound, "Instances not found: ["+testID+"]"))
	c := newTestClient(t, srv.url)
	st, err := c.WaitForInstanceTerminated(testContext(t), testID)
	if err != nil || st.State != StateTerminated {
		t.Fatalf("wait = %+v, %v; want terminated", st, err)
	}
}

func TestWait_permanentErrorsEndIt(t *testing.T) {
	t.Parallel()
	srv := newRawScriptServer(t, apiErrorStep(401, CodeUnauthenticated, "token expired"))
	c := newTestClient(t, srv.url)
	if _, err := c.WaitForInstanceTerminated(testContext(t), testID); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("wait = %v; want ErrUnauthorized at once", err)
	}
}

// TestWatcher_notFoundForSeveralIDsAsksEachAlone: the API's 404 for a
// filter of several IDs does not say which one it means.
func TestWatcher_notFoundForSeveralIDsAsksEachAlone(t *testing.T) {
	t.Parallel()
	gone, alive := "00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002"
	var mu sync.Mutex
	var filters []string
	var confirms []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/status") {
			// The confirmation of the absence, by ShowInstanceStatus.
			mu.Lock()
			confirms = append(confirms, r.URL.Path)
			mu.Unlock()
			w.WriteHeader(http.StatusNotFound)
			_, _ = fmt.Fprintf(w, `{"error_code":"iMetal.0200","error_msg":"Instances not found: [%s]"}`, gone)
			return
		}
		f := r.URL.Query().Get("instance_id")
		mu.Lock()
		filters = append(filters, f)
		mu.Unlock()
		switch {
		case strings.Contains(f, gone):
			w.WriteHeader(http.StatusNotFound)
			_, _ = fmt.Fprintf(w, `{"error_code":"iMetal.0200","error_msg":"Instances not found: [%s]"}`, gone)
		default:
			_, _ = fmt.Fprintf(w, `{"instances":[{"id":%q,"state":"terminated"}],"count":1}`, alive)
		}
	}))
	t.Cleanup(srv.Close)
	// A first poll after 300ms: both waits have registered by then, so
	// the first sweep asks for both IDs at once.
	c := newTestClient(t, srv.URL, WithPollSchedule(PollSchedule{Delay: 300 * time.Millisecond, Interval: 300 * time.Millisecond,
		MinInterval: 10 * time.Millisecond, MaxInterval: time.Second}))
	sts, errs := waitAll(testContext(t), []string{gone, alive}, c.WaitForInstanceTerminated)
	for _, id := range []string{gone, alive} {
		if errs[id] != nil || sts[id].State != StateTerminated {
			t.Errorf("wait %s = %+v, %v; want terminated", id, sts[id], errs[id])
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(filters) != 3 || !strings.Contains(filters[0], ",") || strings.Contains(filters[1], ",") || strings.Contains(filters[2], ",") {
		t.Errorf("filters = %q; want one for both IDs, then one for each", filters)
	}
	if len(confirms) != 1 || !strings.Contains(confirms[0], gone) {
		t.Errorf("ShowInstanceStatus calls = %q; want one, confirming that %s is gone", confirms, gone)
	}
}

// newRawScriptServer is newScriptServer, except that a 200 step whose body
// is not a status object is sent as it is, not wrapped in a listing.
func newRawScriptServer(t *testing.T, steps ...step) *scriptServer {
	t.Helper()
	for i, st := range steps {
		if (st.status == 0 || st.status == 200) && !strings.Contains(st.body, `"state"`) {
			steps[i] = step{status: 299, body: st.body}
		}
	}
	return newScriptServer(t, steps...)
}

func TestRedirects_areNeverFollowed(t *testing.T) {
	t.Parallel()
	sink, sinkRec := newRecordingServer(t, nil)
	sinkURL, _ := url.Parse(sink.URL)
	for _, status := range []int{301, 302, 303, 307, 308} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			t.Parallel()
			var n atomic.Int32
			redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n.Add(1)
				w.Header().Set("Location", "http://user:pw@"+sinkURL.Host+r.URL.RequestURI())
				w.WriteHeader(status)
			}))
			t.Cleanup(redirect.Close)
			hc := &http.Client{Timeout: 5 * time.Second}
			c := newTestClient(t, redirect.URL, WithRetryPolicy(fastRetry), WithHTTPClient(hc))
			_, err := c.CreateInstanceByHand(context.Background(), CreateInstanceInput{Name: "x", Password: "Pa55word-SECRET"})
			var redirectErr *RedirectError
			if !errors.As(err, &redirectErr) {
				t.Fatalf("CreateInstance = %v; want a *RedirectError", err)
			}
			msg := err.Error()
			for _, want := range []string{sinkURL.Host, "does not redirect", fmt.Sprint(status)} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not contain %q", msg, want)
				}
			}
			if strings.Contains(msg, "pw") || strings.Contains(msg, testToken) {
				t.Errorf("error %q quotes a credential", msg)
			}
			if _, err := c.ListInstances(context.Background(), ListInstancesInput{}); !errors.As(err, &redirectErr) {
				t.Errorf("ListInstances = %v; want a *RedirectError", err)
			}
			if got := n.Load(); got != 2 {
				t.Errorf("%d requests reached the redirecting server; want 2 (a redirect is not retried)", got)
			}
			if hc.CheckRedirect != nil {
				t.Error("the caller's *http.Client was changed")
			}
		})
	}
	if got := sinkRec.count(); got != 0 {
		t.Errorf("the redirect's target received %d requests; want none", got)
	}
}

func TestParseRetryAfter_absurdValues(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for _, v := range []string{"9999999999", "99999999999999999999999999", "Fri, 31 Dec 9999 23:59:59 GMT", "86401"} {
		d, ok := parseRetryAfter(v, now)
		if !ok || d != maxRetryAfter {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want the clamp %v", v, d, ok, maxRetryAfter)
		}
	}
	p := DefaultRetryPolicy()
	for _, v := range []string{"9999999999", "99999999999999999999999999"} {
		d := p.delay(0, &APIError{StatusCode: 429, RetryAfter: v})
		if d < p.MaxRetryAfter || d > p.MaxRetryAfter+p.MaxRetryAfter/5 {
			t.Errorf("Retry-After %s gave a delay of %v; want the cap %v plus at most a fifth", v, d, p.MaxRetryAfter)
		}
	}
}

func TestRetryAfter_isJittered(t *testing.T) {
	t.Parallel()
	p := DefaultRetryPolicy()
	seen := map[time.Duration]bool{}
	for range 50 {
		d := p.delay(0, &APIError{StatusCode: 429, RetryAfter: "5"})
		if d < 5*time.Second || d > 6*time.Second {
			t.Fatalf("Retry-After 5 gave %v; want 5s plus at most a fifth", d)
		}
		seen[d] = true
	}
	if len(seen) < 10 {
		t.Errorf("50 requests told Retry-After: 5 would retry at only %d distinct times", len(seen))
	}
}

func TestResponseBody_isLimited(t *testing.T) {
	t.Parallel()
	for _, announce := range []bool{true, false} {
		t.Run(fmt.Sprintf("content-length %v", announce), func(t *testing.T) {
			t.Parallel()
			size := int64(MaxResponseBody + 1<<20)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if announce {
					w.Header().Set("Content-Length", fmt.Sprint(size))
				}
				_, _ = io.WriteString(w, `{"instances":[],"count":0,"pad":"`)
				chunk := strings.Repeat("x", 1<<16)
				for written := int64(0); written < size; written += int64(len(chunk)) {
					if _, err := io.WriteString(w, chunk); err != nil {
						return
					}
				}
			}))
			t.Cleanup(srv.Close)
			c := newTestClient(t, srv.URL, WithRetryPolicy(fastRetry))
			_, err := c.ListInstances(context.Background(), ListInstancesInput{})
			var tooLarge *ResponseTooLargeError
			if !errors.As(err, &tooLarge) || !strings.Contains(err.Error(), "32 MiB") {
				t.Fatalf("error = %v; want a *ResponseTooLargeError naming the limit", err)
			}
		})
	}
}

func discardLog() *log.Logger { return log.New(io.Discard, "", 0) }

// failingTransport fails every request with err, counting them.
type failingTransport struct {
	err error
	n   atomic.Int32
}

func (f *failingTransport) RoundTrip(*http.Request) (*http.Response, error) {
	f.n.Add(1)
	return nil, f.err
}

func TestRetry_failFast(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		err  error
		want string
	}{
		"no such host": {&net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "clouddc.cn-esat-3.myhuaweicloud.com", IsNotFound: true}},
			"host name does not exist"},
		"plain http behind https": {http.ErrSchemeMismatch, "TLS connection"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			tr := &failingTransport{err: tt.err}
			c := newTestClient(t, "https://clouddc.example", WithRetryPolicy(DefaultRetryPolicy()), WithHTTPClient(&http.Client{Transport: tr}))
			_, err := c.ShowInstanceStatus(context.Background(), testID)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "not retried") {
				t.Fatalf("error = %v; want one that says %q and not retried", err, tt.want)
			}
			if n := tr.n.Load(); n != 1 {
				t.Errorf("%d attempts; want 1", n)
			}
		})
	}
	t.Run("untrusted certificate", func(t *testing.T) {
		t.Parallel()
		var n atomic.Int32
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
		srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				n.Add(1)
			}
		}
		srv.Config.ErrorLog = discardLog()
		srv.StartTLS()
		t.Cleanup(srv.Close)
		c := newTestClient(t, srv.URL, WithRetryPolicy(DefaultRetryPolicy()))
		_, err := c.ShowInstanceStatus(context.Background(), testID)
		if err == nil || !strings.Contains(err.Error(), "not retried") {
			t.Fatalf("error = %v; want a TLS error, not retried", err)
		}
		if got := n.Load(); got != 1 {
			t.Errorf("%d connections; want 1", got)
		}
	})
}

func TestRetry_exhaustedErrorSaysHowMany(t *testing.T) {
	t.Parallel()
	srv, _ := scriptedServer(t, reply{status: 503, body: `{"error_code":"iMetal.0099","error_msg":"busy"}`})
	c := newTestClient(t, srv.URL, WithRetryPolicy(fastRetry))
	_, err := c.ShowInstanceStatus(context.Background(), testID)
	var exhausted *RetriesExhaustedError
	if !errors.As(err, &exhausted) || exhausted.Retries != fastRetry.MaxRetries {
		t.Fatalf("error = %v; want a *RetriesExhaustedError with %d retries", err, fastRetry.MaxRetries)
	}
	if !errors.Is(err, ErrServerError) || !strings.Contains(err.Error(), "max_retries") {
		t.Errorf("error = %v; want the API's error, and how to change the number of retries", err)
	}
	c = newTestClient(t, srv.URL) // no retries
	if _, err := c.ShowInstanceStatus(context.Background(), testID); err == nil || !strings.Contains(err.Error(), "not retried: retries are turned off") {
		t.Errorf("error = %v; want it to say retries are off", err)
	}
}

func TestRedactURL(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"https://user:pass@clouddc.example/v1":  "https://REDACTED@clouddc.example/v1",
		"https://user@clouddc.example":          "https://REDACTED@clouddc.example",
		"http://a:b@c@host:8080/x?y=@z":         "http://REDACTED@host:8080/x?y=@z",
		"user:pass@host/path":                   "REDACTED@host/path",
		"https://clouddc.example/p@th":          "https://clouddc.example/p@th",
		"https://clouddc.example":               "https://clouddc.example",
		"https:/user:s3cret@host":               "https:/REDACTED@host",
		"https:user:s3cret@bad url with spaces": "REDACTED@bad url with spaces",
	}
	for in, want := range tests {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q; want %q", in, got, want)
		}
	}
	for _, ep := range []string{"https://admin:hunter2@clouddc.example", "ftp://admin:hunter2@clouddc.example", "https://admin:hunter2@clouddc.example/?q=1",
		"https://admin:hunter2@clouddc.example/%zz"} {
		_, err := NewClient(WithEndpoint(ep), WithProjectID(testProject), WithToken(testToken))
		if err == nil || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("NewClient(%q) = %v; want an error that does not quote the password", ep, err)
		}
	}
}

// TestMaxResponseBody_holdsTheLargestPage measures the largest page the
// API can answer without user_data (MaxPageSize instances with every field
// at its documented maximum) and checks that the limit leaves room for it
// several times over, user_data included.
func TestMaxResponseBody_holdsTheLargestPage(t *testing.T) {
	t.Parallel()
	long := func(n int) string { return strings.Repeat("x", n) }
	meta := map[string]string{}
	for i := range 10 {
		meta[fmt.Sprintf("%02d%s", i, long(253))] = long(255)
	}
	inst := Instance{
		ID: testID, Name: long(63), VPCID: testID, Description: long(255),
		NetworkInterfaces: []NetworkInterface{{SubnetID: testID, IPv4Address: "192.168.100.100"}, {SubnetID: testID, IPv4Address: "192.168.100.101"}},
		Tags:              []Tag{{Key: long(36), Value: long(43)}},
		Image:             Image{ID: testID, Name: long(128), OSType: "Windows"},
		State:             StateShuttingDown, OperationState: "uninstall-processing", Metadata: meta, ServerID: testID,
		CreatedAt: "2026-11-27T11:00:00Z", UpdatedAt: "2026-11-27T11:00:00Z", LaunchedAt: "2026-11-27T11:00:00Z",
		Error: &InstanceError{Code: "iMetal.0099", Message: long(255), Type: ErrorTypeDelete},
	}
	page := ListInstancesOutput{Instances: make([]Instance, MaxPageSize), Count: MaxPageSize}
	for i := range page.Instances {
		page.Instances[i] = inst
	}
	b, err := json.Marshal(page)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("the largest page without user_data: %d bytes (%.1f MiB, %d bytes per instance)", len(b), float64(len(b))/(1<<20), len(b)/MaxPageSize)
	if len(b)*4 > MaxResponseBody {
		t.Errorf("the largest page (%d bytes) is more than a quarter of MaxResponseBody (%d)", len(b), MaxResponseBody)
	}
}
