package simulator

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// This file makes the simulator misbehave on demand, the way the real
// service and the API gateway in front of it can: rate limits, failed and
// dropped requests, latency, operations that end in error, deletions that
// hang, tokens that expire, instances that vanish. Tests set faults from
// Go; a running binary takes them over the admin API (admin.go).

// RateLimit is a per-token request rate limit, as the API gateway applies
// it: a token bucket for every X-Auth-Token value.
type RateLimit struct {
	// PerSecond is the sustained rate; 0 turns the limit off.
	PerSecond float64
	// Burst is the bucket size: how many requests may come at once
	// (minimum 1).
	Burst int
	// RetryAfter is sent as the Retry-After header of the 429, in whole
	// seconds rounded up; 0 sends no header.
	RetryAfter time.Duration
	// PlainText answers the 429 with the body "Too Many Requests" as
	// text/plain, as a gateway does, instead of the API's JSON error
	// iMetal.0005.
	PlainText bool
}

// Fault makes requests fail. A fault matches a request when Method, Path
// and Op all match (an empty one matches anything); the first queued fault
// that matches is used, and it is used up after Count requests.
type Fault struct {
	// Method is an HTTP method such as "POST"; "" matches any.
	Method string `json:"method,omitempty"`
	// Path is a ServeMux-style pattern such as
	// "/v1/{project_id}/instances/{id}/status"; "" matches any path.
	Path string `json:"path,omitempty"`
	// Op is an operation name such as OpCreateInstance; "" matches any.
	Op string `json:"op,omitempty"`
	// Count is how many requests the fault hits; 0 means 1.
	Count int `json:"count,omitempty"`
	// Status is the HTTP status to answer (0 means 503), with the API's
	// JSON error body: iMetal.0005 for 429, iMetal.0099 for 5xx,
	// iMetal.0001, 0003, 0004 and 0200 for 400, 401, 403 and 404.
	Status int `json:"status,omitempty"`
	// Code and Message replace the error_code and error_msg of the body.
	Code    string `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
	// RetryAfter adds a Retry-After header, in whole seconds rounded up.
	RetryAfter time.Duration `json:"-"`
	// After carries the request out first and then answers Status, so that
	// (for example) an instance is created but the client sees an error.
	After bool `json:"after,omitempty"`
	// Drop closes the connection instead of answering. Alone, nothing is
	// carried out and nothing is sent. With After, the request is carried
	// out and the connection is closed in the middle of the response body
	// (the status line, the headers and half of the body are sent); an
	// answer without a body (204, 202) is dropped before its status line.
	// Go's http.Transport resends idempotent requests that fail on a
	// reused connection before any byte arrived, so a client may not see a
	// Drop on a GET.
	Drop bool `json:"drop,omitempty"`
	// PlainText sends http.StatusText(Status) as text/plain instead of
	// the JSON error body, as a gateway does.
	PlainText bool `json:"plain_text,omitempty"`
	// Late answers Status at once and carries the request out Late later,
	// as a backend does that goes on after its gateway timed out (a 504
	// now, the instance a few seconds later). The request is carried out
	// whatever the client does meanwhile, and is skipped only when the
	// simulator is closed by then. With Drop, the connection is closed
	// instead of answering. With Hold, nothing is answered at all: the
	// connection is held for Hold or until the client gives up (Ctrl-C, a
	// timeout), then closed, and the request is still carried out Late
	// after it arrived: a create that hangs and lands when nobody waits.
	Late time.Duration `json:"-"`
	// Hold, with After, holds the answer this long after the request was
	// carried out, or until the client gives up: a create whose answer
	// comes after the client's timeout or Ctrl-C. With Late, see Late.
	Hold time.Duration `json:"-"`
	// Replay carries the request out and answers it as usual, then carries
	// the same request (the same body, so a create's same token) out again
	// Replay later, as a gateway does that replays a request it believes
	// was lost. A replayed create makes a second instance.
	Replay time.Duration `json:"-"`
	// RawBody, with After, replaces the body of the answer with this text
	// verbatim ("" sends an empty body), answered with Status as given:
	// a 200 whose body is empty, an HTML page or {"instance_id":""}, after
	// the request was carried out. A body that starts with "<" is sent as
	// text/html, anything else as application/json.
	RawBody *string `json:"raw_body,omitempty"`

	// The fields below make the answer one that does not come from the
	// API (faultanswers.go); Status then defaults to 200 for Body,
	// LoseItems and BodyBytes, 307 for RedirectTo and 404 for Gateway.

	// Body is sent as it is, as application/json, instead of carrying the
	// request out: `{}` or `{"instances":null}` with Status 200 is a
	// document that is not a listing.
	Body string `json:"body,omitempty"`
	// LoseItems carries a ListInstances out and drops this many items from
	// the end of its page, and its next_marker, while count stays: a page
	// that lost items.
	LoseItems int `json:"lose_items,omitempty"`
	// HideItems carries a ListInstances out and removes up to this many
	// items from the end of its page, lowering count and current_count by
	// as many: a well-formed, self-consistent listing that is wrong, which
	// no completeness check can tell from a true one. The page keeps its
	// next_marker (an opaque cursor), so the pages that follow still add
	// up to count.
	HideItems int `json:"hide_items,omitempty"`
	// IgnoreFilter makes a ListInstances ignore its instance_id filter, as
	// an API does that reads the filter under another name: it lists the
	// project as if unfiltered (other filters still apply), honestly
	// paged, with the whole project's count. It combines with LoseItems
	// and HideItems; see also SetIgnoreIDFilter.
	IgnoreFilter bool `json:"ignore_filter,omitempty"`
	// Gateway answers the API gateway's JSON error (error_code APIGW.0101
	// for a 404) instead of the API's: a 404 without an iMetal code.
	Gateway bool `json:"gateway,omitempty"`
	// RedirectTo answers Status (a 3xx) with a Location of this base URL
	// plus the request's path and query; SinkTarget ("sink") points to the
	// simulator's RedirectSink, which records what follows the redirect.
	RedirectTo string `json:"redirect_to,omitempty"`
	// BodyBytes answers Status with a valid JSON body of this many bytes
	// (an empty listing padded with a long string), streamed.
	BodyBytes int64 `json:"body_bytes,omitempty"`
	// RetryAfterHeader is sent as the Retry-After header as it is, such as
	// "9999999999" or an HTTP date; it wins over RetryAfter.
	RetryAfterHeader string `json:"retry_after_header,omitempty"`
}

// faultState is the part of the simulator that the fault settings change;
// all of it is guarded by Simulator.mu.
type faultState struct {
	faults      []Fault
	rateLimit   RateLimit
	buckets     map[string]*bucket
	failRates   map[string]*failureRate
	latency     map[string]time.Duration
	tokenExpiry map[string]time.Time
	// sink is the RedirectSink, once started.
	sink *Sink
}

// resetFaults turns off the rate limit, the failure rates, the latencies and
// the queued faults. Token expiries are kept (see ClearFaults).
func (f *faultState) resetFaults() {
	f.faults = nil
	f.rateLimit = RateLimit{}
	f.buckets = map[string]*bucket{}
	f.failRates = map[string]*failureRate{}
	f.latency = map[string]time.Duration{}
	if f.tokenExpiry == nil {
		f.tokenExpiry = map[string]time.Time{}
	}
}

type bucket struct {
	tokens float64
	last   time.Time
}

type failureRate struct {
	rate   float64
	status int
	rng    *rand.Rand
}

// SetRateLimit limits the requests of every token (a token bucket per
// X-Auth-Token value, an empty or unknown token included); requests over
// the limit answer 429. PerSecond 0 turns the limit off. Buckets start
// full, and a new limit starts every bucket afresh. The buckets run on the
// simulator's clock, so a fake clock refills them only when it moves.
func (s *Simulator) SetRateLimit(r RateLimit) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.Burst < 1 {
		r.Burst = 1
	}
	s.rateLimit = r
	s.buckets = map[string]*bucket{}
}

// InjectFault queues a fault; faults are matched in the order they were
// queued.
func (s *Simulator) InjectFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.Count <= 0 {
		f.Count = 1
	}
	if f.Status == 0 {
		f.Status = faultDefaultStatus(f)
	}
	s.faults = append(s.faults, f)
}

// SetFailureRate makes a share (0 to 1) of the requests of an operation
// fail with status (0 means 503) before they are carried out. op "" sets
// the rate of every operation that has none of its own. The choice comes
// from a math/rand source seeded with seed, so the same requests in the
// same order fail the same way in every run. A rate of 0 removes it.
func (s *Simulator) SetFailureRate(op string, rate float64, status int, seed int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rate <= 0 {
		delete(s.failRates, op)
		return
	}
	if status == 0 {
		status = http.StatusServiceUnavailable
	}
	// A seeded source on purpose: a test replays the same failures.
	rng := rand.New(rand.NewPCG(uint64(seed), 0x636c6f75646463)) //nolint:gosec // G404: reproducible fault injection, not cryptography
	s.failRates[op] = &failureRate{rate: min(rate, 1), status: status, rng: rng}
}

// SetLatency delays every answer of an operation by d (op "" sets the
// delay of every operation that has none of its own; 0 removes it). The
// delay is real time, spent outside the simulator's lock, and ends early
// when the client gives up (the request's context is done).
func (s *Simulator) SetLatency(op string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d <= 0 {
		delete(s.latency, op)
		return
	}
	s.latency[op] = d
}

// QueuedFaults returns the faults that are still queued: those that no
// request has used up yet. A test that ends with one left did not test it.
func (s *Simulator) QueuedFaults() []Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Fault{}, s.faults...)
}

// ClearFaults removes every queued fault, the rate limit, the failure
// rates, the latencies and the queued FailNext failures. Held deletions,
// token expiries and the settings (legacy, vanish) are left as they are.
func (s *Simulator) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resetFaults()
	s.failNext = map[string][]ErrorInfo{}
	s.dirtyLocked()
}

// FailNextCreate makes the next instance created end in state error with
// error_type create_instance_error instead of running.
func (s *Simulator) FailNextCreate(code, msg string) {
	s.queueFail(kindCreate, ErrorInfo{Code: code, Message: msg, Type: ErrorTypeCreate})
}

// FailNextDelete makes the next deletion end in state error with error_type
// delete_instance_error instead of terminated.
func (s *Simulator) FailNextDelete(code, msg string) {
	s.queueFail(kindDelete, ErrorInfo{Code: code, Message: msg, Type: ErrorTypeDelete})
}

// FailNextReinstall makes the next reinstall end in state error with
// operation_state reinstall-failed and error_type reinstall_error; the
// image stays what it was.
func (s *Simulator) FailNextReinstall(code, msg string) {
	s.queueFail(kindReinstall, ErrorInfo{Code: code, Message: msg, Type: ErrorTypeReinstall})
}

// FailNextModifyIP makes the next IP change end in state error with
// operation_state modify-ip-failed and error_type modify_ip_error; the NICs
// stay what they were.
func (s *Simulator) FailNextModifyIP(code, msg string) {
	s.queueFail(kindModifyIP, ErrorInfo{Code: code, Message: msg, Type: ErrorTypeModifyIP})
}

func (s *Simulator) queueFail(kind string, e ErrorInfo) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext[kind] = append(s.failNext[kind], e)
	s.dirtyLocked()
}

func (s *Simulator) popFailLocked(kind string) *ErrorInfo {
	q := s.failNext[kind]
	if len(q) == 0 {
		return nil
	}
	e := q[0]
	s.failNext[kind] = q[1:]
	return &e
}

// HoldDeletes, while hold is true, keeps every deletion that starts in
// shutting-down until ReleaseDeletes, as a deletion stuck in the service
// would be. HoldDeletes(false) stops holding and releases the held ones.
func (s *Simulator) HoldDeletes(hold bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.holdDeletes = hold
	if !hold {
		s.releaseDeletesLocked()
	}
	s.dirtyLocked()
}

// ReleaseDeletes lets every held deletion finish DeleteDuration from now.
// Deletions that start later are still held while HoldDeletes is on.
func (s *Simulator) ReleaseDeletes() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.releaseDeletesLocked()
	s.dirtyLocked()
}

func (s *Simulator) releaseDeletesLocked() {
	s.advanceLocked()
	at := s.now().Add(s.opts.DeleteDuration)
	for _, r := range s.order {
		if r.Next != nil && r.Next.Held {
			t := *r.Next
			t.Held, t.At = false, at
			s.scheduleLocked(r, &t)
		}
	}
}

// ExpireToken makes a token answer 401 iMetal.0003 once after has passed
// on the simulator's clock, as an IAM token does after 24 hours.
func (s *Simulator) ExpireToken(token string, after time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokenExpiry[token] = s.now().Add(after)
	s.dirtyLocked()
}

// SetVanishOnTerminate makes terminated instances answer 404 at once,
// instead of staying visible for Options.Retention, as some regions of the
// service do. Turning it on also removes the instances that are already
// terminated.
func (s *Simulator) SetVanishOnTerminate(v bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked()
	s.vanish = v
	if v {
		now := s.now()
		for _, r := range slices.Clone(s.order) {
			if r.Instance.State == "terminated" {
				s.removeLocked(r, now)
			}
		}
	}
}

// SetLegacy switches the API's state names to those of the 2025 service
// (see legacyState): terminated is answered as "teminated", error as
// "failed", and the phases of a reinstall, an IP change and a power-off
// as "reinstalling", "modifyIping" and "stopping". The stored states, the
// Go API and the history keep the current names.
func (s *Simulator) SetLegacy(v bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.legacy = v
}

// admission is what the fault settings decided about one request.
type admission struct {
	delay  time.Duration
	reject *rawAnswer // answer this instead of carrying the request out
	fault  *Fault     // a queued fault to apply
}

// admit counts a request and applies the rate limit, the queued faults and
// the failure rates to it.
func (s *Simulator) admit(op string, r *http.Request) admission {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts[op]++
	var a admission
	if s.rateLimit.PerSecond > 0 && !s.takeTokenLocked(callerKey(r)) {
		// The gateway answers at once: no latency.
		s.rateLimited++
		a.reject = rateLimitAnswer(s.rateLimit)
		return a
	}
	a.delay = s.latency[op]
	if _, ok := s.latency[op]; !ok {
		a.delay = s.latency[""]
	}
	for i := range s.faults {
		f := &s.faults[i]
		if !f.matches(op, r) {
			continue
		}
		hit := *f
		if f.Count--; f.Count <= 0 {
			s.faults = slices.Delete(s.faults, i, i+1)
		}
		s.faultsInjected++
		a.fault = &hit
		return a
	}
	fr := s.failRates[op]
	if fr == nil {
		fr = s.failRates[""]
	}
	if fr != nil && fr.rng.Float64() < fr.rate {
		s.faultsInjected++
		ans := faultAnswer(Fault{Status: fr.status})
		a.reject = &ans
	}
	return a
}

// callerKey names whom a request's rate limit bucket belongs to: its
// access key when it is signed, else its token. Unverified, as at a
// gateway, which limits before it authenticates.
func callerKey(r *http.Request) string {
	if isAKSKRequest(r) {
		if a, ok := parseAKSKAuthorization(r.Header.Get("Authorization")); ok {
			return "ak:" + a.access
		}
	}
	return "token:" + r.Header.Get("X-Auth-Token")
}

func (s *Simulator) takeTokenLocked(token string) bool {
	now := s.now()
	rl := s.rateLimit
	b := s.buckets[token]
	if b == nil {
		b = &bucket{tokens: float64(rl.Burst), last: now}
		s.buckets[token] = b
	}
	if elapsed := now.Sub(b.last); elapsed > 0 {
		b.tokens = min(float64(rl.Burst), b.tokens+elapsed.Seconds()*rl.PerSecond)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true
	}
	return false
}

// matches reports whether a fault applies to a request. A fault that
// alters a listing (LoseItems, HideItems, IgnoreFilter) applies to
// ListInstances only, so that no other request uses it up.
func (f *Fault) matches(op string, r *http.Request) bool {
	if f.Method != "" && !strings.EqualFold(f.Method, r.Method) {
		return false
	}
	if f.altersListing() && op != OpListInstances {
		return false
	}
	if f.Op != "" && f.Op != op {
		return false
	}
	return f.Path == "" || matchPattern(f.Path, r.Method, r.URL.Path)
}

// matchPattern matches a path against a ServeMux-style pattern: "{name}"
// matches one segment, "{name...}" the rest of the path, a pattern that
// ends in "/" every path below it, and "METHOD /path" also the method.
func matchPattern(pattern, method, path string) bool {
	if m, p, ok := strings.Cut(pattern, " "); ok {
		if !strings.EqualFold(m, method) {
			return false
		}
		pattern = strings.TrimSpace(p)
	}
	subtree := strings.HasSuffix(pattern, "/") && pattern != "/"
	ps := strings.Split(strings.Trim(pattern, "/"), "/")
	xs := strings.Split(strings.Trim(path, "/"), "/")
	if pattern == "/" {
		return true
	}
	for i, seg := range ps {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "...}") {
			return len(xs) >= i
		}
		if seg == "{$}" {
			return len(xs) == i
		}
		if i >= len(xs) {
			return false
		}
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			if xs[i] == "" {
				return false
			}
			continue
		}
		if seg != xs[i] {
			return false
		}
	}
	return len(xs) == len(ps) || subtree
}

// rawAnswer is an answer written by the fault machinery.
type rawAnswer struct {
	status      int
	contentType string
	body        []byte
	retryAfter  time.Duration
}

func (a rawAnswer) write(w http.ResponseWriter) {
	if a.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(a.retryAfter.Seconds()))))
	}
	if len(a.body) > 0 {
		w.Header().Set("Content-Type", a.contentType)
	}
	w.WriteHeader(a.status)
	_, _ = w.Write(a.body)
}

func rateLimitAnswer(rl RateLimit) *rawAnswer {
	a := faultAnswer(Fault{Status: http.StatusTooManyRequests, PlainText: rl.PlainText,
		Message: "Too many requests: the rate limit of this token is exceeded; retry later"})
	a.retryAfter = rl.RetryAfter
	return &a
}

// faultAnswer is the answer a fault gives, in the API's error format or as
// a gateway's plain text, or the fault's RawBody.
func faultAnswer(f Fault) rawAnswer {
	status := f.Status
	if status == 0 {
		status = http.StatusServiceUnavailable
	}
	a := rawAnswer{status: status, retryAfter: f.RetryAfter}
	if f.RawBody != nil {
		a.contentType = "application/json"
		if strings.HasPrefix(*f.RawBody, "<") {
			a.contentType = "text/html; charset=utf-8"
		}
		a.body = []byte(*f.RawBody)
		return a
	}
	if f.PlainText {
		a.contentType = "text/plain; charset=utf-8"
		a.body = []byte(http.StatusText(status))
		return a
	}
	code, msg := f.Code, f.Message
	if code == "" || msg == "" {
		dc, dm := defaultError(status)
		code = cmpOr(code, dc)
		msg = cmpOr(msg, dm)
	}
	a.contentType = "application/json"
	a.body, _ = json.Marshal(map[string]string{"error_code": code, "error_msg": msg})
	return a
}

func defaultError(status int) (string, string) {
	switch status {
	case http.StatusTooManyRequests:
		return "iMetal.0005", "Too many requests: retry later"
	case http.StatusBadRequest:
		return "iMetal.0001", "Invalid parameter (fault injected by the simulator)"
	case http.StatusUnauthorized:
		return "iMetal.0003", "Authentication failed (fault injected by the simulator)"
	case http.StatusForbidden:
		return "iMetal.0004", "Insufficient permissions (fault injected by the simulator)"
	case http.StatusNotFound:
		return "iMetal.0200", "Instances not found (fault injected by the simulator)"
	default:
		return "iMetal.0099", "Internal error (fault injected by the simulator): retry with exponential back-off"
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// dropMidBody sends the status line, the headers and half of the body of
// the answer the request got, then closes the connection. An answer
// without a body is dropped before anything is sent.
func dropMidBody(w http.ResponseWriter, status int, out any, apiErr *apiError) {
	var b []byte
	switch {
	case apiErr != nil:
		status = apiErr.status
		b, _ = json.Marshal(map[string]string{"error_code": apiErr.code, "error_msg": apiErr.msg})
	case out != nil:
		b, _ = json.Marshal(out)
	}
	if len(b) >= 2 {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.WriteHeader(status)
		_, _ = w.Write(b[:len(b)/2])
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
	}
	// The server recovers this panic silently and closes the connection.
	panic(http.ErrAbortHandler)
}

// sleepCtx waits d, or less if ctx ends first; it reports whether the
// whole wait passed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
