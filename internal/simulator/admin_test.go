package simulator

import (
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"
)

const testAdminToken = "admin-s3cret"

// admin sends an admin API request with the admin token.
func (c *apiClient) admin(method, path, body string) response {
	c.t.Helper()
	return c.adminAs(testAdminToken, method, path, body)
}

func (c *apiClient) adminAs(token, method, path, body string) response {
	c.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(c.t.Context(), method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set(AdminTokenHeader, token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	b, err := readBody(resp)
	if err != nil {
		c.t.Fatalf("%s %s: reading the answer: %v", method, path, err)
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// adminOK sends an admin request and checks its status.
func (c *apiClient) adminOK(method, path, body string, status int) response {
	c.t.Helper()
	r := c.admin(method, path, body)
	if r.Status != status {
		c.t.Fatalf("%s %s = %d %s, want %d", method, path, r.Status, r.Body, status)
	}
	return r
}

func TestAdmin_offAndAuth(t *testing.T) {
	t.Parallel()
	_, off := startSim(t, Options{})
	wantError(t, off.adminAs(testAdminToken, http.MethodGet, "/_simulator/stats", ""), http.StatusNotFound, "APIGW.0101")
	wantError(t, off.adminAs("", http.MethodPut, "/_simulator/settings", `{"legacy": true}`), http.StatusNotFound, "APIGW.0101")

	sim, c := startSim(t, Options{AdminToken: testAdminToken})
	for _, tok := range []string{"", "wrong", strings.ToUpper(testAdminToken), DefaultToken} {
		e := wantError(t, c.adminAs(tok, http.MethodPut, "/_simulator/settings", `{"legacy": true}`), http.StatusUnauthorized, "SIM.0401")
		if !strings.Contains(e.Msg, AdminTokenHeader) {
			t.Errorf("error_msg %q does not name the header", e.Msg)
		}
	}
	if got := c.adminOK(http.MethodGet, "/_simulator/settings", "", 200); !strings.Contains(string(got.Body), `"legacy":false`) {
		t.Errorf("refused requests changed the settings: %s", got.Body)
	}
	// The API token does not open the admin API, nor the admin token the API.
	wantError(t, c.raw(http.MethodGet, "/v1/"+DefaultProjectID+"/instances", testAdminToken, ""), http.StatusUnauthorized, "iMetal.0003")
	wantError(t, c.admin(http.MethodGet, "/_simulator/nothing", ""), http.StatusNotFound, "SIM.0404")
	wantError(t, c.admin(http.MethodPost, "/_simulator/stats", ""), http.StatusNotFound, "SIM.0404")
	if n := len(sim.Stats().Requests); n != 1 {
		t.Errorf("admin requests were counted: %v", sim.Stats().Requests)
	}
}

func TestAdmin_statsAndInstances(t *testing.T) {
	t.Parallel()
	sim, c, clk := opsSim(t, Options{AdminToken: testAdminToken})
	id := c.create(bodyWith(nil))
	clk.Advance(createDur)
	c.list("")
	c.delete(id)
	clk.Advance(deleteDur)
	c.status(id)

	var st Stats
	if err := json.Unmarshal(c.adminOK(http.MethodGet, "/_simulator/stats", "", 200).Body, &st); err != nil {
		t.Fatal(err)
	}
	wantReq := map[string]int{OpCreateInstance: 1, OpListInstances: 1, OpDeleteInstance: 1, OpShowInstanceStatus: 1}
	if !maps.Equal(st.Requests, wantReq) || st.Instances["terminated"] != 1 || st.RateLimited != 0 {
		t.Errorf("stats = %+v, want requests %v and one terminated", st, wantReq)
	}
	c.adminOK(http.MethodPost, "/_simulator/stats/reset", "", 204)
	if st := sim.Stats(); len(st.Requests) != 0 || st.Instances["terminated"] != 1 {
		t.Errorf("after the reset: %+v, want no requests and the instance kept", st)
	}

	var all struct {
		Instances []Timeline `json:"instances"`
	}
	if err := json.Unmarshal(c.adminOK(http.MethodGet, "/_simulator/instances", "", 200).Body, &all); err != nil {
		t.Fatal(err)
	}
	if len(all.Instances) != 1 || all.Instances[0].ID != id || all.Instances[0].State != "terminated" || len(all.Instances[0].History) != 4 {
		t.Fatalf("instances = %+v", all.Instances)
	}
	var tl Timeline
	if err := json.Unmarshal(c.adminOK(http.MethodGet, "/_simulator/instances/"+id+"/history", "", 200).Body, &tl); err != nil {
		t.Fatal(err)
	}
	at, ok := tl.EnteredAt("terminated")
	if !ok || !at.Equal(t0.Add(createDur+deleteDur)) || tl.Purged {
		t.Errorf("history = %+v; terminated at %v, want %v and not purged", tl, at, t0.Add(createDur+deleteDur))
	}
	wantError(t, c.admin(http.MethodGet, "/_simulator/instances/"+unknownID+"/history", ""), http.StatusNotFound, "SIM.0404")
	// Purged instances keep their timeline.
	clk.Advance(time.Hour)
	c.list("")
	if err := json.Unmarshal(c.adminOK(http.MethodGet, "/_simulator/instances/"+id+"/history", "", 200).Body, &tl); err != nil {
		t.Fatal(err)
	}
	if !tl.Purged || !tl.PurgedAt.Equal(t0.Add(createDur+deleteDur+time.Hour)) {
		t.Errorf("after the retention: %+v", tl)
	}
}

func TestAdmin_faults(t *testing.T) {
	t.Parallel()
	sim, c, clk := opsSim(t, Options{AdminToken: testAdminToken})

	// Queued faults.
	c.adminOK(http.MethodPost, "/_simulator/faults", `{"method": "GET", "path": "/v1/{project_id}/instances", "count": 2, "status": 503, "retry_after": 4}`, 204)
	var q struct {
		Faults []Fault `json:"faults"`
	}
	_ = json.Unmarshal(c.adminOK(http.MethodGet, "/_simulator/faults", "", 200).Body, &q)
	if len(q.Faults) != 1 || q.Faults[0].Count != 2 || q.Faults[0].Path != "/v1/{project_id}/instances" {
		t.Errorf("queued faults = %+v", q.Faults)
	}
	for range 2 {
		r := c.do(http.MethodGet, "/instances", "")
		wantError(t, r, http.StatusServiceUnavailable, "iMetal.0099")
		if r.Header.Get("Retry-After") != "4" {
			t.Errorf("Retry-After = %q, want 4", r.Header.Get("Retry-After"))
		}
	}
	c.list("")
	for _, bad := range []string{`{"status": 99}`, `{"count": -1}`, `{"statuss": 500}`, `[]`} {
		wantError(t, c.admin(http.MethodPost, "/_simulator/faults", bad), http.StatusBadRequest, "SIM.0400")
	}

	// The rate limit, with retry_after as a duration string.
	c.adminOK(http.MethodPut, "/_simulator/rate-limit", `{"per_second": 1, "burst": 1, "retry_after": "2500ms"}`, 204)
	c.list("")
	r := c.do(http.MethodGet, "/instances", "")
	wantError(t, r, http.StatusTooManyRequests, "iMetal.0005")
	if r.Header.Get("Retry-After") != "3" {
		t.Errorf("Retry-After = %q, want 3", r.Header.Get("Retry-After"))
	}
	// Admin requests are neither limited nor counted.
	for range 5 {
		c.adminOK(http.MethodGet, "/_simulator/stats", "", 200)
	}
	c.adminOK(http.MethodPut, "/_simulator/rate-limit", `{"per_second": 1, "plain_text": true}`, 204)
	c.list("")
	if r := c.do(http.MethodGet, "/instances", ""); r.Status != 429 || string(r.Body) != "Too Many Requests" {
		t.Errorf("plain-text limit: %d %q", r.Status, r.Body)
	}
	wantError(t, c.admin(http.MethodPut, "/_simulator/rate-limit", `{"per_second": -1}`), http.StatusBadRequest, "SIM.0400")
	wantError(t, c.admin(http.MethodPut, "/_simulator/rate-limit", `{"retry_after": "soon"}`), http.StatusBadRequest, "SIM.0400")
	c.adminOK(http.MethodDelete, "/_simulator/faults", "", 204)
	c.list("")

	// The failure rate.
	c.adminOK(http.MethodPut, "/_simulator/failure-rate", `{"op": "CreateInstance", "rate": 1, "status": 500, "seed": 3}`, 204)
	wantError(t, c.do(http.MethodPost, "/instances", bodyWith(nil)), http.StatusInternalServerError, "iMetal.0099")
	wantError(t, c.admin(http.MethodPut, "/_simulator/failure-rate", `{"op": "Create", "rate": 1}`), http.StatusBadRequest, "SIM.0400")
	wantError(t, c.admin(http.MethodPut, "/_simulator/failure-rate", `{"rate": 1.5}`), http.StatusBadRequest, "SIM.0400")
	c.adminOK(http.MethodPut, "/_simulator/failure-rate", `{"op": "CreateInstance", "rate": 0}`, 204)

	// Latency.
	c.adminOK(http.MethodPut, "/_simulator/latency", `{"op": "ListInstances", "latency": "120ms"}`, 204)
	start := time.Now()
	c.list("")
	if took := time.Since(start); took < 120*time.Millisecond {
		t.Errorf("list took %v with 120ms of latency", took)
	}
	c.adminOK(http.MethodPut, "/_simulator/latency", `{"op": "ListInstances", "latency": 0}`, 204)

	// fail-next of every kind, as the client sees it.
	id := runningInstance(c, clk, nil)
	for _, tt := range []struct{ kind, errorType, opState string }{
		{"reinstall", "reinstall_error", "reinstall-failed"},
		{"modify-ip", "modify_ip_error", "modify-ip-failed"},
	} {
		c.adminOK(http.MethodPost, "/_simulator/fail-next", `{"kind": "`+tt.kind+`", "code": "CDC.0001", "msg": "broken `+tt.kind+`"}`, 204)
		if tt.kind == "reinstall" {
			c.reinstall("", testPassword, id)
			clk.Advance(reinstallDur)
		} else {
			c.reinstall("", testPassword, id) // a reinstall clears the reinstall error first
			clk.Advance(reinstallDur)
			c.modifyIP(id, DefaultVPCID, ipNICs(DefaultSubnetID, ""))
			clk.Advance(modifyIPDur)
		}
		st := c.wantState(id, "error", tt.opState)
		if st.Error == nil || *st.Error != (wireInstanceError{Code: "CDC.0001", Msg: "broken " + tt.kind, Type: tt.errorType}) {
			t.Errorf("%s: error = %+v", tt.kind, st.Error)
		}
	}
	c.adminOK(http.MethodPost, "/_simulator/fail-next", `{"kind": "create"}`, 204)
	failed := c.create(bodyWith(nil))
	clk.Advance(createDur)
	if st := c.wantState(failed, "error", "install-failed"); st.Error == nil || st.Error.Code != "iMetal.0099" || st.Error.Type != "create_instance_error" {
		t.Errorf("create: error = %+v", st.Error)
	}
	c.adminOK(http.MethodPost, "/_simulator/fail-next", `{"kind": "delete", "msg": "stuck"}`, 204)
	c.delete(failed)
	clk.Advance(deleteDur)
	if st := c.wantState(failed, "error", "uninstall-failed"); st.Error == nil || st.Error.Msg != "stuck" || st.Error.Type != "delete_instance_error" {
		t.Errorf("delete: error = %+v", st.Error)
	}
	wantError(t, c.admin(http.MethodPost, "/_simulator/fail-next", `{"kind": "power"}`), http.StatusBadRequest, "SIM.0400")

	// Held deletions.
	c.adminOK(http.MethodPut, "/_simulator/deletes", `{"hold": true}`, 204)
	c.delete(failed)
	clk.Advance(time.Hour)
	c.wantState(failed, "shutting-down", "uninstall-processing")
	c.adminOK(http.MethodPost, "/_simulator/deletes/release", "", 204)
	clk.Advance(deleteDur)
	c.wantState(failed, "terminated", "uninstall-succeed")
	c.adminOK(http.MethodPut, "/_simulator/deletes", `{"hold": false}`, 204)
	wantError(t, c.admin(http.MethodPut, "/_simulator/deletes", `{}`), http.StatusBadRequest, "SIM.0400")

	// Token expiry: later, and at once without a body.
	if err := sim.AddToken("ci-token", DefaultProjectID, TokenScope{}); err != nil {
		t.Fatal(err)
	}
	ci := &apiClient{t: t, base: sim.URL, project: DefaultProjectID, token: "ci-token"}
	c.adminOK(http.MethodPost, "/_simulator/tokens/ci-token/expire", `{"after": "1m"}`, 204)
	ci.list("")
	clk.Advance(time.Minute)
	wantError(t, ci.do(http.MethodGet, "/instances", ""), http.StatusUnauthorized, "iMetal.0003")
	c.adminOK(http.MethodPost, "/_simulator/tokens/"+DefaultToken+"/expire", "", 204)
	wantError(t, c.do(http.MethodGet, "/instances", ""), http.StatusUnauthorized, "iMetal.0003")
	wantError(t, c.admin(http.MethodPost, "/_simulator/tokens/x/expire", `{"after": -1}`), http.StatusBadRequest, "SIM.0400")
}

func TestAdmin_settings(t *testing.T) {
	t.Parallel()
	sim, c, clk := opsSim(t, Options{AdminToken: testAdminToken})
	id := c.create(bodyWith(nil))
	clk.Advance(createDur)
	c.delete(id)
	clk.Advance(deleteDur)
	const rest = `"page_size_cap":0,"ignore_id_filter":false,"operation_lag":"0s"}`
	r := c.adminOK(http.MethodPut, "/_simulator/settings", `{"legacy": true}`, 200)
	if string(r.Body) != `{"legacy":true,"vanish_on_terminate":false,`+rest {
		t.Errorf("settings = %s", r.Body)
	}
	if st := c.status(id); st.State != "teminated" {
		t.Errorf("legacy state = %q", st.State)
	}
	r = c.adminOK(http.MethodPut, "/_simulator/settings", `{"vanish_on_terminate": true}`, 200)
	if string(r.Body) != `{"legacy":true,"vanish_on_terminate":true,`+rest {
		t.Errorf("settings = %s", r.Body)
	}
	wantError(t, c.do(http.MethodGet, "/instances/"+id+"/status", ""), http.StatusNotFound, "iMetal.0200")
	if got := string(c.adminOK(http.MethodGet, "/_simulator/settings", "", 200).Body); got != `{"legacy":true,"vanish_on_terminate":true,`+rest {
		t.Errorf("GET settings = %s", got)
	}
	wantError(t, c.admin(http.MethodPut, "/_simulator/settings", `{"legacy": "yes"}`), http.StatusBadRequest, "SIM.0400")
	wantError(t, c.admin(http.MethodPut, "/_simulator/settings", `{"legasy": true}`), http.StatusBadRequest, "SIM.0400")
	want := map[string]int{OpCreateInstance: 1, OpDeleteInstance: 1, OpShowInstanceStatus: 2}
	if got := sim.Stats().Requests; !maps.Equal(got, want) {
		t.Errorf("counted %v, want only the API requests %v", got, want)
	}
}

// A create answered at once and carried out later, and an odd 2xx body,
// set over the admin API.
func TestAdmin_lateCreateAndRawBody(t *testing.T) {
	t.Parallel()
	sim, c := startSim(t, Options{AdminToken: testAdminToken})
	c.adminOK(http.MethodPost, "/_simulator/faults", `{"op": "CreateInstance", "status": 504, "late": "200ms"}`, 204)
	wantError(t, c.do(http.MethodPost, "/instances", bodyWith(nil)), http.StatusGatewayTimeout, "iMetal.0099")
	deadline := time.Now().Add(10 * time.Second)
	for len(sim.Instances()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the late create set over the admin API was never carried out")
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.adminOK(http.MethodPost, "/_simulator/faults", `{"op": "CreateInstance", "status": 200, "after": true, "raw_body": "<html>gateway</html>"}`, 204)
	if r := c.do(http.MethodPost, "/instances", bodyWith(nil)); r.Status != 200 || string(r.Body) != "<html>gateway</html>" {
		t.Errorf("raw body answer: %d %q", r.Status, r.Body)
	}
	if n := len(sim.Instances()); n != 2 {
		t.Errorf("%d instances, want 2", n)
	}
	c.adminOK(http.MethodPost, "/_simulator/faults", `{"op": "CreateInstance", "status": 200, "after": true, "hold": "300ms"}`, 204)
	start := time.Now()
	if r := c.do(http.MethodPost, "/instances", bodyWith(nil)); r.Status != 200 || time.Since(start) < 300*time.Millisecond {
		t.Errorf("held answer: %d after %v", r.Status, time.Since(start))
	}
	wantError(t, c.admin(http.MethodPost, "/_simulator/faults", `{"late": "-1s"}`), http.StatusBadRequest, "SIM.0400")
	wantError(t, c.admin(http.MethodPost, "/_simulator/faults", `{"hold": "-1s"}`), http.StatusBadRequest, "SIM.0400")
	wantError(t, c.admin(http.MethodPost, "/_simulator/faults", `{"late": "soon"}`), http.StatusBadRequest, "SIM.0400")
}
