package clouddc

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// testToken is distinctive so that a test can assert that it never leaks
// into an error message or a log line.
const (
	testToken   = "tok-SECRET-5f1c9a7e-do-not-log"
	testProject = "0123456789abcdef0123456789abcdef"
	testID      = "11111111-2222-4333-8444-555555555555"
)

// fastPoll makes waits poll every few milliseconds.
var fastPoll = PollSchedule{Delay: time.Millisecond, Interval: 2 * time.Millisecond, MinInterval: time.Millisecond, MaxInterval: 5 * time.Millisecond}

// noRetry turns the retry layer off, for tests that count requests or
// check what one failed request gives; retry_test.go tests the layer.
var noRetry = WithRetryPolicy(RetryPolicy{})

// newTestClient builds a client for endpoint with the test project, token,
// fast poll schedule and no retries; opts come last and may override them.
func newTestClient(t *testing.T, endpoint string, opts ...Option) *Client {
	t.Helper()
	base := []Option{WithEndpoint(endpoint), WithProjectID(testProject), WithToken(testToken), WithPollSchedule(fastPoll), noRetry}
	c, err := NewClient(append(base, opts...)...)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c
}

// recordedRequest is what a recording server saw of one request.
type recordedRequest struct {
	Method     string
	Path       string // decoded
	RequestURI string // as sent on the wire
	Query      map[string][]string
	Header     http.Header
	Body       []byte
}

// recorder keeps the requests a test server received.
type recorder struct {
	mu   sync.Mutex
	reqs []recordedRequest
}

func (r *recorder) add(req recordedRequest) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reqs = append(r.reqs, req)
}

func (r *recorder) all() []recordedRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]recordedRequest(nil), r.reqs...)
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.reqs)
}

// last returns the last request, failing the test when there was none.
func (r *recorder) last(t *testing.T) recordedRequest {
	t.Helper()
	all := r.all()
	if len(all) == 0 {
		t.Fatal("the server received no request")
	}
	return all[len(all)-1]
}

// newRecordingServer starts a server that records every request and then
// lets h answer it. A nil h answers 200 with an empty, complete listing.
func newRecordingServer(t *testing.T, h http.HandlerFunc) (*httptest.Server, *recorder) {
	t.Helper()
	rec := &recorder{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rec.add(recordedRequest{
			Method: r.Method, Path: r.URL.Path, RequestURI: r.RequestURI,
			Query: r.URL.Query(), Header: r.Header.Clone(), Body: body,
		})
		if h == nil {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"instances":[],"page_info":{"next_marker":""},"count":0}`)
			return
		}
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, rec
}

// answer returns a handler that answers every request with status, the
// headers in kv (name, value, ...) and body.
func answer(status int, body string, kv ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(kv); i += 2 {
			w.Header().Set(kv[i], kv[i+1])
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// dropConnection closes the connection without sending anything.
func dropConnection(t *testing.T, w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		t.Error("the response writer cannot be hijacked")
		return
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		t.Errorf("hijack: %v", err)
		return
	}
	_ = conn.Close()
}

// dropMidBody sends a 200 that announces a longer body than it sends, then
// closes the connection.
func dropMidBody(t *testing.T, w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		t.Error("the response writer cannot be hijacked")
		return
	}
	conn, buf, err := hj.Hijack()
	if err != nil {
		t.Errorf("hijack: %v", err)
		return
	}
	_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{\"state\":\"pen")
	_ = buf.Flush()
	_ = conn.Close()
}

// closedPortURL returns the URL of a loopback port that nothing listens on.
func closedPortURL(t *testing.T) string {
	t.Helper()
	var lc net.ListenConfig
	l, err := lc.Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	return "http://" + addr
}

// step is one scripted answer of a status server.
type step struct {
	status int    // HTTP status; 0 means 200
	body   string // answer body
	drop   bool   // close the connection without answering
}

// statusOK is a 200 ShowInstanceStatus answer.
func statusOK(state, opState string) step {
	return step{body: fmt.Sprintf(`{"state":%q,"operation_state":%q}`, state, opState)}
}

// statusWithError is a 200 ShowInstanceStatus answer with an error object.
func statusWithError(state, opState, code, msg, typ string) step {
	return step{body: fmt.Sprintf(`{"state":%q,"operation_state":%q,"error":{"error_code":%q,"error_msg":%q,"error_type":%q}}`,
		state, opState, code, msg, typ)}
}

// apiErrorStep is an error answer in the API's format.
func apiErrorStep(status int, code, msg string) step {
	return step{status: status, body: fmt.Sprintf(`{"error_code":%q,"error_msg":%q}`, code, msg)}
}

// scriptServer answers the waits' status sweeps (ListInstances filtered by
// testID) with its steps in order, repeating the last one when the script
// runs out. A step is written as the instance's status; the server lists
// the instance with that status, lists nothing for a 404 step (the list
// does not 404 for an unknown ID), and passes other errors through.
type scriptServer struct {
	t     *testing.T
	url   string
	mu    sync.Mutex
	steps []step
	n     int
	times []time.Time
	// confirms counts the ShowInstanceStatus calls that confirm an absence.
	confirms int
}

func newScriptServer(t *testing.T, steps ...step) *scriptServer {
	t.Helper()
	if len(steps) == 0 {
		t.Fatal("a script needs at least one step")
	}
	s := &scriptServer{t: t, steps: steps}
	wantPath := "/v1/" + testProject + "/instances"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Path == wantPath+"/"+testID+"/status" {
			// A confirmation that an instance the listing did not show is
			// gone: answered from the step last served, unless counted.
			s.mu.Lock()
			st := s.steps[max(min(s.n, len(s.steps))-1, 0)]
			s.confirms++
			s.mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			if st.status == http.StatusNotFound || strings.Contains(st.body, `"instances":[]`) {
				w.WriteHeader(http.StatusNotFound)
				_, _ = io.WriteString(w, `{"error_code":"iMetal.0200","error_msg":"Instances not found: [`+testID+`]"}`)
				return
			}
			_, _ = io.WriteString(w, `{"state":"running","operation_state":"install-succeed"}`)
			return
		}
		if r.Method != http.MethodGet || r.URL.Path != wantPath || !strings.Contains(r.URL.Query().Get("instance_id"), testID) {
			t.Errorf("unexpected request %s %s?%s; want GET %s?instance_id=%s", r.Method, r.URL.Path, r.URL.RawQuery, wantPath, testID)
			w.WriteHeader(http.StatusTeapot)
			return
		}
		s.mu.Lock()
		st := s.steps[min(s.n, len(s.steps)-1)]
		s.n++
		s.times = append(s.times, time.Now())
		s.mu.Unlock()
		if st.drop {
			dropConnection(t, w)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Request-Id", fmt.Sprintf("req-%d", s.requests()))
		status, body := st.status, st.body
		var fields map[string]any
		switch {
		case status == http.StatusNotFound && strings.Contains(body, CodeInstanceNotFound):
			status, body = http.StatusOK, `{"instances":[],"page_info":{"next_marker":""},"count":0}`
		case (status == 0 || status == http.StatusOK) && json.Unmarshal([]byte(body), &fields) == nil:
			fields["id"] = testID
			b, _ := json.Marshal(map[string]any{"instances": []any{fields}, "page_info": map[string]string{"next_marker": ""}, "count": 1})
			body = string(b)
		}
		if status == 0 {
			status = http.StatusOK
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	s.url = srv.URL
	return s
}

// requests returns how many requests the script has answered.
func (s *scriptServer) requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

// requestTimes returns when each request arrived.
func (s *scriptServer) requestTimes() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.times...)
}

// testTimeout bounds a test that talks to a server, so that a hang fails
// the test instead of the whole run.
const testTimeout = 5 * time.Second

// testContext returns a context that ends with the test or after testTimeout.
func testContext(t *testing.T) context.Context {
	t.Helper()
	return testContextFor(t, testTimeout)
}

// testContextFor returns a context that ends with the test or after d, for
// tests that wait on many instances.
func testContextFor(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
