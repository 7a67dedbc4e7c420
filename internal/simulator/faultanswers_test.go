package simulator

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The answers that do not come from the API, each as a client meets it.

func TestFault_documentThatIsNotAListing(t *testing.T) {
	t.Parallel()
	for _, body := range []string{`{}`, `{"instances":null}`} {
		t.Run(body, func(t *testing.T) {
			t.Parallel()
			sim, c := startSim(t, Options{})
			c.create(validBodyJSON(t))
			sim.InjectFault(Fault{Op: OpListInstances, Body: body})
			r := c.do(http.MethodGet, "/instances", "")
			if r.Status != http.StatusOK || string(r.Body) != body {
				t.Fatalf("answer = %d %s; want 200 %s", r.Status, r.Body, body)
			}
			// Used up: the next listing is real again.
			if l := c.list(""); len(l.Instances) != 1 {
				t.Errorf("after the fault, %d instances listed; want 1", len(l.Instances))
			}
		})
	}
}

func validBodyJSON(t *testing.T) string {
	t.Helper()
	b, err := json.Marshal(validBody())
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestFault_pageThatLostItems(t *testing.T) {
	t.Parallel()
	sim, c := startSim(t, Options{})
	for range 4 {
		c.create(validBodyJSON(t))
	}
	sim.InjectFault(Fault{Op: OpListInstances, LoseItems: 2})
	r := c.do(http.MethodGet, "/instances", "")
	l := decode[wireList](t, r, http.StatusOK)
	if len(l.Instances) != 2 || l.Count != 4 || l.PageInfo.NextMarker != "" {
		t.Errorf("page = %d instances, count %d, next_marker %q; want 2, 4, none", len(l.Instances), l.Count, l.PageInfo.NextMarker)
	}
}

func TestFault_gatewayNotFound(t *testing.T) {
	t.Parallel()
	sim, c := startSim(t, Options{})
	sim.InjectFault(Fault{Op: OpListInstances, Gateway: true})
	e := wantError(t, c.do(http.MethodGet, "/instances", ""), http.StatusNotFound, "APIGW.0101")
	if strings.Contains(e.Code, "iMetal") {
		t.Errorf("the gateway's 404 carries %s", e.Code)
	}
}

func TestFault_redirectToTheSinkRecordsWhatFollows(t *testing.T) {
	t.Parallel()
	sim, c := startSim(t, Options{})
	sim.InjectFault(Fault{Op: OpCreateInstance, RedirectTo: SinkTarget})
	// http.DefaultClient follows a 307 with the body and, to a host on the
	// same domain (127.0.0.1), with the X-Auth-Token: what the sink is for.
	r := c.do(http.MethodPost, "/instances", validBodyJSON(t))
	if r.Status != http.StatusOK {
		t.Fatalf("following the redirect gave %d %s; want the sink's 200", r.Status, r.Body)
	}
	k, err := sim.RedirectSink()
	if err != nil {
		t.Fatal(err)
	}
	reqs := k.Requests()
	if len(reqs) != 1 {
		t.Fatalf("the sink saw %d requests; want 1", len(reqs))
	}
	got := reqs[0]
	if got.Method != http.MethodPost || got.URI != "/v1/"+sim.ProjectID()+"/instances" {
		t.Errorf("the sink saw %s %s", got.Method, got.URI)
	}
	if got.Credentials()["X-Auth-Token"] != sim.Token() || !strings.Contains(got.Body, `"password"`) {
		t.Errorf("the sink did not record the token and the body: %+v", got)
	}
	if n := len(sim.Instances()); n != 0 {
		t.Errorf("%d instances were created; a redirect carries nothing out", n)
	}

	// Not followed, the answer names the sink.
	sim.InjectFault(Fault{Op: OpListInstances, RedirectTo: SinkTarget, Status: http.StatusFound})
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, sim.URL+"/v1/"+sim.ProjectID()+"/instances?limit=5", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	closeBody(t, resp)
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != k.URL()+"/v1/"+sim.ProjectID()+"/instances?limit=5" {
		t.Errorf("answer = %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func TestFault_hugeBody(t *testing.T) {
	t.Parallel()
	sim, _ := startSim(t, Options{})
	const size = 5 << 20
	sim.InjectFault(Fault{Op: OpListInstances, BodyBytes: size})
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, sim.URL+"/v1/"+sim.ProjectID()+"/instances", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := testHTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer closeBody(t, resp)
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil || n != size || resp.ContentLength != size {
		t.Errorf("read %d bytes (Content-Length %d), %v; want %d", n, resp.ContentLength, err, size)
	}
}

func TestFault_absurdRetryAfter(t *testing.T) {
	t.Parallel()
	sim, c := startSim(t, Options{})
	date := time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC).Format(http.TimeFormat)
	for _, v := range []string{"9999999999", date} {
		sim.InjectFault(Fault{Op: OpListInstances, Status: http.StatusTooManyRequests, RetryAfterHeader: v})
		r := c.do(http.MethodGet, "/instances", "")
		wantError(t, r, http.StatusTooManyRequests, "iMetal.0005")
		if got := r.Header.Get("Retry-After"); got != v {
			t.Errorf("Retry-After = %q; want %q", got, v)
		}
	}
}

func TestAdmin_uncertainFaults(t *testing.T) {
	t.Parallel()
	sim, c := startSim(t, Options{AdminToken: testAdminToken})
	c.create(validBodyJSON(t))
	c.adminOK(http.MethodPost, "/_simulator/faults", `{"op":"ListInstances","body":"{}"}`, http.StatusNoContent)
	if r := c.do(http.MethodGet, "/instances", ""); r.Status != 200 || string(r.Body) != "{}" {
		t.Errorf("body fault: %d %s", r.Status, r.Body)
	}
	c.adminOK(http.MethodPost, "/_simulator/faults", `{"op":"ListInstances","lose_items":1}`, http.StatusNoContent)
	if l := c.list(""); len(l.Instances) != 0 || l.Count != 1 {
		t.Errorf("lose_items fault: %+v", l)
	}
	c.adminOK(http.MethodPost, "/_simulator/faults", `{"op":"ListInstances","gateway":true}`, http.StatusNoContent)
	wantError(t, c.do(http.MethodGet, "/instances", ""), http.StatusNotFound, "APIGW.0101")
	c.adminOK(http.MethodPost, "/_simulator/faults", `{"op":"ListInstances","status":429,"retry_after_header":"9999999999"}`, http.StatusNoContent)
	if r := c.do(http.MethodGet, "/instances", ""); r.Header.Get("Retry-After") != "9999999999" {
		t.Errorf("retry_after_header fault: %d %v", r.Status, r.Header)
	}
	c.adminOK(http.MethodPost, "/_simulator/faults", `{"op":"ListInstances","body_bytes":1048576}`, http.StatusNoContent)
	if r := c.do(http.MethodGet, "/instances", ""); len(r.Body) != 1<<20 {
		t.Errorf("body_bytes fault: %d bytes", len(r.Body))
	}
	c.adminOK(http.MethodPost, "/_simulator/faults", `{"op":"ShowInstanceStatus","redirect_to":"sink"}`, http.StatusNoContent)
	if r := c.do(http.MethodGet, "/instances/x/status", ""); r.Status != 200 {
		t.Errorf("redirect fault, followed: %d %s", r.Status, r.Body)
	}
	var sink struct {
		URL      string        `json:"url"`
		Requests []SinkRequest `json:"requests"`
	}
	if err := json.Unmarshal(c.adminOK(http.MethodGet, "/_simulator/sink", "", http.StatusOK).Body, &sink); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(sink.URL, "http://127.0.0.1:") || len(sink.Requests) != 1 || sink.Requests[0].Credentials()["X-Auth-Token"] != sim.Token() {
		t.Errorf("sink = %+v", sink)
	}
	for _, bad := range []string{`{"redirect_to":"ftp://x"}`, `{"redirect_to":"sink","status":503}`, `{"lose_items":-1}`, `{"body_bytes":-5}`,
		fmt.Sprintf(`{"body_bytes":%d}`, int64(maxFaultBody)+1)} {
		wantError(t, c.admin(http.MethodPost, "/_simulator/faults", bad), http.StatusBadRequest, "SIM.0400")
	}
}
