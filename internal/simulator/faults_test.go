package simulator

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Each fault is shown the way a client meets it: over HTTP.

// send is one request with its own client and no connection reuse, so
// that Go's transport cannot quietly resend a request whose connection the
// simulator dropped. It returns the status, the body, the transport error,
// if any, and the error of reading the body.
func send(t *testing.T, sim *TestServer, method, rel, body string) (int, []byte, error, error) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, sim.URL+"/v1/"+sim.ProjectID()+rel, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Auth-Token", sim.Token())
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err, nil
	}
	b, readErr := readBody(resp)
	return resp.StatusCode, b, nil, readErr
}

// connectionLost reports whether err is what a client sees when the
// server closes the connection.
func connectionLost(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) ||
		strings.Contains(err.Error(), "server closed") || strings.Contains(err.Error(), "connection reset")
}

func TestFault_rateLimit(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	sim, c := startSim(t, Options{Now: clk.Now})
	if err := sim.AddToken("second-token", DefaultProjectID, TokenScope{}); err != nil {
		t.Fatal(err)
	}
	sim.SetRateLimit(RateLimit{PerSecond: 2, Burst: 3, RetryAfter: 1500 * time.Millisecond})

	for i := range 3 {
		if r := c.do(http.MethodGet, "/instances", ""); r.Status != http.StatusOK {
			t.Fatalf("request %d within the burst: %d", i, r.Status)
		}
	}
	r := c.do(http.MethodGet, "/instances", "")
	e := wantError(t, r, http.StatusTooManyRequests, "iMetal.0005")
	if !strings.Contains(e.Msg, "retry later") {
		t.Errorf("error_msg = %q", e.Msg)
	}
	if got := r.Header.Get("Retry-After"); got != "2" {
		t.Errorf("Retry-After = %q, want 2 (1.5 s rounded up)", got)
	}
	// Each token has its own bucket.
	other := &apiClient{t: t, base: sim.URL, project: DefaultProjectID, token: "second-token"}
	if r := other.do(http.MethodGet, "/instances", ""); r.Status != http.StatusOK {
		t.Errorf("another token was limited: %d", r.Status)
	}
	// A refused POST creates nothing.
	wantError(t, c.do(http.MethodPost, "/instances", bodyWith(nil)), http.StatusTooManyRequests, "iMetal.0005")
	if n := len(sim.Instances()); n != 0 {
		t.Errorf("a rate-limited create created %d instances", n)
	}
	// Half a second gives one request back at 2 per second.
	clk.Advance(500 * time.Millisecond)
	if r := c.do(http.MethodGet, "/instances", ""); r.Status != http.StatusOK {
		t.Errorf("after 0.5 s: %d, want 200", r.Status)
	}
	wantError(t, c.do(http.MethodGet, "/instances", ""), http.StatusTooManyRequests, "iMetal.0005")

	st := sim.Stats()
	if st.RateLimited != 3 || st.Requests[OpListInstances] != 7 || st.Requests[OpCreateInstance] != 1 {
		t.Errorf("stats = %+v, want 3 rate limited, 7 lists and 1 create counted", st)
	}
	// PerSecond 0 turns it off.
	sim.SetRateLimit(RateLimit{})
	for range 10 {
		if r := c.do(http.MethodGet, "/instances", ""); r.Status != http.StatusOK {
			t.Fatalf("with the limit off: %d", r.Status)
		}
	}
}

func TestFault_rateLimitPlainText(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	sim, c := startSim(t, Options{Now: clk.Now})
	sim.SetRateLimit(RateLimit{PerSecond: 1, PlainText: true})
	c.do(http.MethodGet, "/instances", "")
	r := c.do(http.MethodGet, "/instances/"+unknownID+"/status", "")
	if r.Status != http.StatusTooManyRequests || string(r.Body) != "Too Many Requests" {
		t.Fatalf("answer %d %q, want 429 \"Too Many Requests\"", r.Status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type = %q, want text/plain", ct)
	}
	if ra, ok := r.Header["Retry-After"]; ok {
		t.Errorf("Retry-After %q sent, want none", ra)
	}
}

func TestFault_nextRequests(t *testing.T) {
	t.Parallel()
	sim, c := startSim(t, Options{Retention: time.Hour})
	id := c.create(bodyWith(nil))
	sim.InjectFault(Fault{Method: http.MethodPost, Path: "/v1/{project_id}/instances", Count: 2, Status: http.StatusInternalServerError})
	sim.InjectFault(Fault{Path: "/v1/{project_id}/instances/{id}/status", Status: http.StatusServiceUnavailable, PlainText: true})
	sim.InjectFault(Fault{Op: OpListInstances, Status: http.StatusBadGateway, Code: "APIGW.0201", Message: "backend timeout"})

	for range 2 {
		e := wantError(t, c.do(http.MethodPost, "/instances", bodyWith(nil)), http.StatusInternalServerError, "iMetal.0099")
		if !strings.Contains(e.Msg, "fault injected") {
			t.Errorf("error_msg = %q", e.Msg)
		}
	}
	if n := len(sim.Instances()); n != 1 {
		t.Fatalf("faulted creates created %d instances", n-1)
	}
	// The POST fault is used up; batch-create is another path.
	c.create(bodyWith(nil))
	r := c.do(http.MethodGet, "/instances/"+id+"/status", "")
	if r.Status != http.StatusServiceUnavailable || string(r.Body) != "Service Unavailable" {
		t.Errorf("status with a plain-text fault: %d %q", r.Status, r.Body)
	}
	c.status(id) // used up
	e := wantError(t, c.do(http.MethodGet, "/instances", ""), http.StatusBadGateway, "APIGW.0201")
	if e.Msg != "backend timeout" {
		t.Errorf("error_msg = %q", e.Msg)
	}
	c.list("")
	if st := sim.Stats(); st.FaultsInjected != 4 {
		t.Errorf("FaultsInjected = %d, want 4", st.FaultsInjected)
	}

	// Faults are matched in order; a DELETE matches neither POST fault.
	sim.InjectFault(Fault{Method: http.MethodPost, Status: http.StatusTooManyRequests, RetryAfter: time.Second})
	sim.InjectFault(Fault{Method: http.MethodGet, Status: http.StatusForbidden})
	c.delete(id)
	wantError(t, c.do(http.MethodGet, "/instances", ""), http.StatusForbidden, "iMetal.0004")
	r = c.do(http.MethodPost, "/instances", bodyWith(nil))
	wantError(t, r, http.StatusTooManyRequests, "iMetal.0005")
	if r.Header.Get("Retry-After") != "1" {
		t.Errorf("Retry-After = %q", r.Header.Get("Retry-After"))
	}
}

func TestFault_after(t *testing.T) {
	t.Parallel()
	sim, c := startSim(t, Options{})
	sim.InjectFault(Fault{Op: OpCreateInstance, After: true, Status: http.StatusBadGateway})
	wantError(t, c.do(http.MethodPost, "/instances", bodyWith(func(b map[string]any) { b["name"] = "ghost" })), http.StatusBadGateway, "iMetal.0099")
	all := sim.Instances()
	if len(all) != 1 || all[0].Name != "ghost" {
		t.Fatalf("instances after an After fault: %+v, want the created ghost", all)
	}
	// A refused request stays refused: After does not turn a 400 into a
	// created instance.
	sim.InjectFault(Fault{Op: OpCreateInstance, After: true, Status: http.StatusInternalServerError})
	wantError(t, c.do(http.MethodPost, "/instances", "{}"), http.StatusInternalServerError, "iMetal.0099")
	if n := len(sim.Instances()); n != 1 {
		t.Errorf("%d instances, want 1", n)
	}
}

func TestFault_drop(t *testing.T) {
	t.Parallel()
	sim, _ := startSim(t, Options{Retention: time.Hour})

	t.Run("before", func(t *testing.T) {
		sim.InjectFault(Fault{Op: OpCreateInstance, Drop: true})
		_, _, err, _ := send(t, sim, http.MethodPost, "/instances", bodyWith(func(b map[string]any) { b["name"] = "dropped" }))
		if err == nil || !connectionLost(err) {
			t.Fatalf("client error = %v, want the connection closed", err)
		}
		if n := len(sim.Instances()); n != 0 {
			t.Errorf("a dropped request created %d instances", n)
		}
	})
	t.Run("after, mid-body", func(t *testing.T) {
		sim.InjectFault(Fault{Op: OpCreateInstance, Drop: true, After: true})
		status, body, err, readErr := send(t, sim, http.MethodPost, "/instances", bodyWith(func(b map[string]any) { b["name"] = "half" }))
		if err != nil {
			t.Fatalf("the status line and headers should arrive: %v", err)
		}
		if status != http.StatusOK || !errors.Is(readErr, io.ErrUnexpectedEOF) {
			t.Fatalf("status %d, body %q, read error %v; want 200 and io.ErrUnexpectedEOF", status, body, readErr)
		}
		if !strings.HasPrefix(string(body), `{"instance_id":"`) || len(body) >= len(`{"instance_id":"`)+36+2 {
			t.Errorf("partial body %q, want the first half of the answer", body)
		}
		all := sim.Instances()
		if len(all) != 1 || all[0].Name != "half" {
			t.Errorf("instances = %+v, want the one created before the drop", all)
		}
	})
	t.Run("after, no body", func(t *testing.T) {
		id := sim.Instances()[0].ID
		sim.InjectFault(Fault{Method: http.MethodDelete, Drop: true, After: true})
		_, _, err, _ := send(t, sim, http.MethodDelete, "/instances/"+id, "")
		if err == nil || !connectionLost(err) {
			t.Fatalf("client error = %v, want the connection closed", err)
		}
		if in, _ := sim.Instance(id); in.State != "terminated" {
			t.Errorf("state = %s, want the deletion carried out (terminated)", in.State)
		}
	})
}

func TestFault_failureRate(t *testing.T) {
	t.Parallel()
	pattern := func(seed int64) (string, *TestServer) {
		sim, c := startSim(t, Options{})
		sim.SetFailureRate(OpListInstances, 0.5, 0, seed)
		var b strings.Builder
		for range 40 {
			r := c.do(http.MethodGet, "/instances", "")
			switch r.Status {
			case http.StatusOK:
				b.WriteByte('.')
			case http.StatusServiceUnavailable:
				wantError(t, r, http.StatusServiceUnavailable, "iMetal.0099")
				b.WriteByte('x')
			default:
				t.Fatalf("status %d", r.Status)
			}
			c.status(c.create(bodyWith(nil))) // other operations are not affected
			c.delete(sim.Instances()[0].ID)
		}
		return b.String(), sim
	}
	a, sim := pattern(42)
	b, _ := pattern(42)
	other, _ := pattern(7)
	if a != b {
		t.Errorf("the same seed gave\n%s\n%s", a, b)
	}
	if a == other {
		t.Errorf("seeds 42 and 7 gave the same pattern %s", a)
	}
	if n := strings.Count(a, "x"); n < 8 || n > 32 {
		t.Errorf("%d of 40 failed at rate 0.5: %s", n, a)
	}
	if got := sim.Stats().FaultsInjected; got != strings.Count(a, "x") {
		t.Errorf("FaultsInjected = %d, want %d", got, strings.Count(a, "x"))
	}

	// Failed requests are not carried out; op "" covers every operation.
	sim2, c := startSim(t, Options{})
	sim2.SetFailureRate("", 1, http.StatusGatewayTimeout, 1)
	wantError(t, c.do(http.MethodPost, "/instances", bodyWith(nil)), http.StatusGatewayTimeout, "iMetal.0099")
	wantError(t, c.do(http.MethodPost, "/instances/batch-create", runReq(1, 1, nil)), http.StatusGatewayTimeout, "iMetal.0099")
	if n := len(sim2.Instances()); n != 0 {
		t.Errorf("failed creates created %d instances", n)
	}
	// An operation's own rate beats the "" one; rate 0 removes it.
	sim2.SetFailureRate(OpListInstances, 0.000001, 0, 1)
	c.list("")
	sim2.SetFailureRate("", 0, 0, 0)
	c.create(bodyWith(nil))
}

func TestFault_latency(t *testing.T) {
	t.Parallel()
	const d = 150 * time.Millisecond
	sim, c := startSim(t, Options{})
	id := c.create(bodyWith(nil))
	sim.SetLatency(OpListInstances, d)

	start := time.Now()
	done := make(chan time.Duration)
	go func() {
		c.list("")
		done <- time.Since(start)
	}()
	// The delay does not hold the simulator's lock: another operation
	// answers meanwhile.
	time.Sleep(20 * time.Millisecond)
	statusStart := time.Now()
	c.status(id)
	if took := time.Since(statusStart); took >= d/2 {
		t.Errorf("a status read took %v during a delayed list", took)
	}
	if took := <-done; took < d {
		t.Errorf("the delayed list took %v, want at least %v", took, d)
	}

	// The delay ends when the client gives up.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, sim.URL+"/v1/"+DefaultProjectID+"/instances", nil)
	req.Header.Set("X-Auth-Token", DefaultToken)
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		closeBody(t, resp)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("client error = %v, want its deadline", err)
	}

	// op "" delays every operation without its own; 0 removes it.
	sim.SetLatency(OpListInstances, 0)
	sim.SetLatency("", d)
	start = time.Now()
	c.status(id)
	if took := time.Since(start); took < d {
		t.Errorf("status took %v with a latency of %v for every operation", took, d)
	}
	sim.SetLatency("", 0)
	start = time.Now()
	c.list("")
	if took := time.Since(start); took >= d {
		t.Errorf("list took %v after the latency was removed", took)
	}
}

func TestFault_holdDeletes(t *testing.T) {
	t.Parallel()
	sim, c, clk := lifecycleSim(t, 0)
	a, b := c.create(bodyWith(nil)), c.create(bodyWith(nil))
	clk.Advance(createDur)
	sim.HoldDeletes(true)
	c.delete(a)
	clk.Advance(time.Hour)
	c.wantState(a, "shutting-down", "uninstall-processing")
	releasedAt := clk.Now()
	sim.ReleaseDeletes()
	// Still held: deletions that start after the release.
	c.delete(b)
	clk.Advance(deleteDur - time.Nanosecond)
	c.wantState(a, "shutting-down", "uninstall-processing")
	clk.Advance(time.Nanosecond)
	c.wantState(a, "terminated", "uninstall-succeed")
	if at, _ := must(sim.Timeline(a)).EnteredAt("terminated"); !at.Equal(releasedAt.Add(deleteDur)) {
		t.Errorf("terminated at %v, want %v (DeleteDuration after the release)", at, releasedAt.Add(deleteDur))
	}
	clk.Advance(time.Hour)
	c.wantState(b, "shutting-down", "uninstall-processing")
	sim.HoldDeletes(false) // stops holding and releases b
	clk.Advance(deleteDur)
	c.wantState(b, "terminated", "uninstall-succeed")
	d := c.create(bodyWith(nil))
	c.delete(d)
	clk.Advance(deleteDur)
	c.wantState(d, "terminated", "uninstall-succeed")
}

func must[T any](v T, ok bool) T {
	if !ok {
		panic("not found")
	}
	return v
}

func TestFault_tokenExpiry(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	sim, c := startSim(t, Options{Now: clk.Now})
	if err := sim.AddToken("short-lived", DefaultProjectID, TokenScope{}); err != nil {
		t.Fatal(err)
	}
	sim.ExpireToken("short-lived", time.Hour)
	short := &apiClient{t: t, base: sim.URL, project: DefaultProjectID, token: "short-lived"}
	short.list("")
	clk.Advance(time.Hour - time.Nanosecond)
	short.list("")
	clk.Advance(time.Nanosecond)
	for _, r := range []response{short.do(http.MethodGet, "/instances", ""), short.do(http.MethodPost, "/instances", bodyWith(nil))} {
		e := wantError(t, r, http.StatusUnauthorized, "iMetal.0003")
		if !strings.Contains(e.Msg, "expired") {
			t.Errorf("error_msg = %q", e.Msg)
		}
	}
	c.list("") // the other token is unaffected
	if n := len(sim.Instances()); n != 0 {
		t.Errorf("an expired token created %d instances", n)
	}
}

func TestFault_vanishOnTerminate(t *testing.T) {
	t.Parallel()
	sim, c, clk := lifecycleSim(t, 0)
	old := c.create(bodyWith(nil))
	id := c.create(bodyWith(nil))
	clk.Advance(createDur)
	c.delete(old)
	clk.Advance(deleteDur)
	c.wantState(old, "terminated", "uninstall-succeed") // retained, as by default

	vanishAt := clk.Now()
	sim.SetVanishOnTerminate(true)
	wantError(t, c.do(http.MethodGet, "/instances/"+old+"/status", ""), http.StatusNotFound, "iMetal.0200")
	c.delete(id)
	c.wantState(id, "shutting-down", "uninstall-processing")
	clk.Advance(deleteDur)
	wantError(t, c.do(http.MethodGet, "/instances/"+id+"/status", ""), http.StatusNotFound, "iMetal.0200")
	if l := c.list(""); l.Count != 0 {
		t.Errorf("listed %v", l.ids())
	}
	// The timeline keeps when it was terminated and purged.
	tl, ok := sim.Timeline(id)
	at, _ := tl.EnteredAt("terminated")
	if !ok || !tl.Purged || !tl.PurgedAt.Equal(vanishAt.Add(deleteDur)) || !at.Equal(vanishAt.Add(deleteDur)) {
		t.Errorf("timeline = %+v, want terminated and purged at %v", tl, vanishAt.Add(deleteDur))
	}
	if tl, _ := sim.Timeline(old); !tl.Purged || !tl.PurgedAt.Equal(vanishAt) {
		t.Errorf("timeline of the retained instance = %+v, want purged when vanishing was turned on", tl)
	}
}

func TestFault_clearFaults(t *testing.T) {
	t.Parallel()
	sim, c, clk := lifecycleSim(t, 0)
	sim.SetRateLimit(RateLimit{PerSecond: 1})
	sim.InjectFault(Fault{Status: 500, Count: 100})
	sim.SetFailureRate("", 1, 500, 1)
	sim.SetLatency("", time.Hour)
	sim.FailNextCreate("iMetal.0099", "no")
	sim.ClearFaults()
	for range 5 {
		c.list("")
	}
	id := c.create(bodyWith(nil))
	clk.Advance(createDur)
	c.wantState(id, "running", "install-succeed")
}

func TestFault_late(t *testing.T) {
	t.Parallel()
	sim, c := startSim(t, Options{})
	sim.InjectFault(Fault{Op: OpCreateInstance, Status: http.StatusGatewayTimeout, Late: 300 * time.Millisecond})
	wantError(t, c.do(http.MethodPost, "/instances", bodyWith(func(b map[string]any) { b["name"] = "late" })), http.StatusGatewayTimeout, "iMetal.0099")
	if n := len(sim.Instances()); n != 0 {
		t.Fatalf("the late create was carried out at once: %d instances", n)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(sim.Instances()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the late create was never carried out")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if all := sim.Instances(); len(all) != 1 || all[0].Name != "late" {
		t.Fatalf("instances = %+v, want the late one", all)
	}
	// The fault is used up: the next create is answered normally.
	if r := c.do(http.MethodPost, "/instances", bodyWith(func(b map[string]any) { b["name"] = "on-time" })); r.Status != http.StatusOK {
		t.Fatalf("the next create answered %d", r.Status)
	}
}

func TestFault_lateSkippedAfterClose(t *testing.T) {
	t.Parallel()
	sim, c := startSim(t, Options{})
	sim.InjectFault(Fault{Op: OpCreateInstance, Status: http.StatusGatewayTimeout, Late: 200 * time.Millisecond})
	wantError(t, c.do(http.MethodPost, "/instances", bodyWith(nil)), http.StatusGatewayTimeout, "iMetal.0099")
	if err := sim.Close(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(400 * time.Millisecond)
	if n := len(sim.Instances()); n != 0 {
		t.Errorf("a closed simulator carried out a late create: %d instances", n)
	}
}

func TestFault_rawBodyAfterCreating(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ body, contentType string }{
		{"", ""},
		{"<html><body>OK</body></html>", "text/html; charset=utf-8"},
		{`{"instance_id":""}`, "application/json"},
	} {
		t.Run(tc.body, func(t *testing.T) {
			t.Parallel()
			sim, c := startSim(t, Options{})
			body := tc.body
			sim.InjectFault(Fault{Op: OpCreateInstance, After: true, Status: http.StatusOK, RawBody: &body})
			r := c.do(http.MethodPost, "/instances", bodyWith(nil))
			if r.Status != http.StatusOK || string(r.Body) != tc.body || r.Header.Get("Content-Type") != tc.contentType {
				t.Fatalf("answer %d %q (%s), want 200 %q (%s)", r.Status, r.Body, r.Header.Get("Content-Type"), tc.body, tc.contentType)
			}
			if n := len(sim.Instances()); n != 1 {
				t.Errorf("%d instances, want the one created before the odd answer", n)
			}
		})
	}
}

// A held answer to a create that was carried out: the client gives up
// first, and the instance exists all the same.
func TestFault_holdAfterCreating(t *testing.T) {
	t.Parallel()
	sim, _ := startSim(t, Options{})
	sim.InjectFault(Fault{Op: OpCreateInstance, After: true, Status: http.StatusOK, Hold: time.Minute})
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, sim.URL+"/v1/"+sim.ProjectID()+"/instances", strings.NewReader(bodyWith(nil)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Auth-Token", sim.Token())
	client := &http.Client{Timeout: 200 * time.Millisecond}
	if resp, err := client.Do(req); err == nil {
		_ = resp.Body.Close()
		t.Fatalf("the held answer came at once: %d", resp.StatusCode)
	}
	if n := len(sim.Instances()); n != 1 {
		t.Errorf("%d instances; the request is carried out before its answer is held", n)
	}
}
