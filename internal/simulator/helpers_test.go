package simulator

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// The tests talk to the simulator over plain net/http and decode answers into
// their own wire types, written from DESIGN.md's API notes rather than
// borrowed from model.go: a wrong json tag in the simulator must make a test fail.

// testPassword satisfies every password rule for both Linux and Windows images.
const testPassword = "Cl0ud-Dc.2026"

// otherVPCID and otherSubnetID form a second VPC, for the "subnet not in the
// VPC" checks.
const (
	otherVPCID    = "c0000000-0000-4000-8000-000000000009"
	otherSubnetID = "d0000000-0000-4000-8000-000000000009"
	// unknownID is a well-formed UUID that names nothing in any catalogue.
	unknownID = "e0000000-0000-4000-8000-0000000000ff"
)

var contractUUID = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// t0 is the fake clock's starting time; it is deliberately not UTC so that
// the RFC 3339 UTC formatting of timestamps is exercised.
var t0 = time.Date(2026, 3, 14, 15, 9, 26, 0, time.FixedZone("CST", 8*3600))

// fakeClock is a clock that moves only when a test advances it.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: t0} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward and returns the new time.
func (c *fakeClock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return c.now
}

type wireError struct {
	Code string `json:"error_code"`
	Msg  string `json:"error_msg"`
}

type wireInstanceError struct {
	Code string `json:"error_code"`
	Msg  string `json:"error_msg"`
	Type string `json:"error_type"`
}

type wireNIC struct {
	SubnetID    string `json:"subnet_id"`
	IPv4Address string `json:"ipv4_address"`
}

type wireInstance struct {
	ID                string             `json:"id"`
	Name              string             `json:"name"`
	VPCID             string             `json:"vpc_id"`
	Description       string             `json:"description"`
	NetworkInterfaces []wireNIC          `json:"network_interfaces"`
	Tags              []map[string]any   `json:"tags"`
	Image             map[string]string  `json:"image"`
	State             string             `json:"state"`
	OperationState    string             `json:"operation_state"`
	Metadata          map[string]string  `json:"metadata"`
	UserData          string             `json:"user_data"`
	ServerID          string             `json:"server_id"`
	CreatedAt         string             `json:"created_at"`
	UpdatedAt         string             `json:"updated_at"`
	LaunchedAt        string             `json:"launched_at"`
	Error             *wireInstanceError `json:"error"`
}

// wirePageInfo is the page_info of the list answers.
type wirePageInfo struct {
	NextMarker     string `json:"next_marker"`
	PreviousMarker string `json:"previous_marker"`
	CurrentCount   int    `json:"current_count"`
}

type wireList struct {
	Instances []wireInstance `json:"instances"`
	PageInfo  wirePageInfo   `json:"page_info"`
	Count     int            `json:"count"`
}

func (l wireList) ids() []string {
	out := make([]string, len(l.Instances))
	for i, in := range l.Instances {
		out[i] = in.ID
	}
	return out
}

type wireStatus struct {
	State          string             `json:"state"`
	OperationState string             `json:"operation_state"`
	Error          *wireInstanceError `json:"error"`
}

type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// apiClient is a minimal CloudDC client for tests.
type apiClient struct {
	t       testing.TB
	base    string
	project string
	token   string
}

// startSim starts a simulator for one test and returns a client for it that
// uses the default project and token.
func startSim(t testing.TB, opts Options) (*TestServer, *apiClient) {
	t.Helper()
	sim := StartTest(t, opts)
	return sim, &apiClient{t: t, base: sim.URL, project: sim.ProjectID(), token: sim.Token()}
}

// with returns a copy of the client that reports to t, for subtests.
func (c *apiClient) with(t testing.TB) *apiClient {
	cc := *c
	cc.t = t
	return &cc
}

// raw sends one request. path is absolute; an empty token sends no
// X-Auth-Token header. A transport failure is reported with Errorf (so
// that raw is usable from goroutines) and gives status 0.
func (c *apiClient) raw(method, path, token, body string) response {
	c.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(c.t.Context(), method, c.base+path, rd)
	if err != nil {
		c.t.Errorf("building %s %s: %v", method, path, err)
		return response{}
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("X-Auth-Token", token)
	}
	resp, err := testHTTP.Do(req)
	if err != nil {
		c.t.Errorf("%s %s: %v", method, path, err)
		return response{}
	}
	b, err := readBody(resp)
	if err != nil {
		c.t.Errorf("%s %s: reading the body: %v", method, path, err)
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// readBody reads an answer to its end and closes it. The error is the
// first of reading and closing.
func readBody(resp *http.Response) ([]byte, error) {
	b, err := io.ReadAll(resp.Body)
	if cerr := resp.Body.Close(); err == nil {
		err = cerr
	}
	return b, err
}

// closeBody closes an answer that the test does not read.
func closeBody(t testing.TB, resp *http.Response) {
	t.Helper()
	if err := resp.Body.Close(); err != nil {
		t.Errorf("closing the answer: %v", err)
	}
}

// do sends a request with the client's token to a path below
// /v1/{project_id}.
func (c *apiClient) do(method, rel, body string) response {
	c.t.Helper()
	return c.raw(method, "/v1/"+c.project+rel, c.token, body)
}

// wantError checks that r is an error answer in the API's format and
// returns it.
func wantError(t testing.TB, r response, status int, code string) wireError {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status = %d, want %d; body: %s", r.Status, status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	var e wireError
	if err := json.Unmarshal(r.Body, &e); err != nil {
		t.Fatalf("error body is not JSON: %v; body: %s", err, r.Body)
	}
	if e.Code != code {
		t.Fatalf("error_code = %q, want %q; error_msg: %q", e.Code, code, e.Msg)
	}
	if e.Msg == "" {
		t.Errorf("error_msg is empty")
	}
	return e
}

// decode checks the status and decodes a JSON answer.
func decode[T any](t testing.TB, r response, status int) T {
	t.Helper()
	var v T
	if r.Status != status {
		t.Fatalf("status = %d, want %d; body: %s", r.Status, status, r.Body)
	}
	if err := json.Unmarshal(r.Body, &v); err != nil {
		t.Fatalf("decoding %s: %v", r.Body, err)
	}
	return v
}

// validBody is a CreateInstance body that passes every check.
func validBody() map[string]any {
	return map[string]any{
		"name":               "web-01",
		"image_id":           DefaultImageID,
		"vpc_id":             DefaultVPCID,
		"network_interfaces": []any{map[string]any{"subnet_id": DefaultSubnetID}},
		"password":           testPassword,
	}
}

// bodyWith is validBody changed by mutate, as JSON.
func bodyWith(mutate func(b map[string]any)) string {
	b := validBody()
	if mutate != nil {
		mutate(b)
	}
	out, err := json.Marshal(b)
	if err != nil {
		panic(err)
	}
	return string(out)
}

// nics builds a network_interfaces value from subnet/address pairs; an empty
// address is left out.
func nics(pairs ...string) []any {
	out := []any{}
	for i := 0; i+1 < len(pairs); i += 2 {
		n := map[string]any{"subnet_id": pairs[i]}
		if pairs[i+1] != "" {
			n["ipv4_address"] = pairs[i+1]
		}
		out = append(out, n)
	}
	return out
}

// create posts body and returns the new instance's ID.
func (c *apiClient) create(body string) string {
	c.t.Helper()
	r := c.do(http.MethodPost, "/instances", body)
	out := decode[map[string]any](c.t, r, http.StatusOK)
	id, _ := out["instance_id"].(string)
	if len(out) != 1 || !contractUUID.MatchString(id) {
		c.t.Fatalf("CreateInstance answered %s, want exactly {\"instance_id\": <uuid>}", r.Body)
	}
	return id
}

// createWith creates an instance from validBody changed by mutate.
func (c *apiClient) createWith(mutate func(b map[string]any)) string {
	c.t.Helper()
	return c.create(bodyWith(mutate))
}

func (c *apiClient) status(id string) wireStatus {
	c.t.Helper()
	return decode[wireStatus](c.t, c.do(http.MethodGet, "/instances/"+id+"/status", ""), http.StatusOK)
}

func (c *apiClient) list(query string) wireList {
	c.t.Helper()
	path := "/instances"
	if query != "" {
		path += "?" + query
	}
	l := decode[wireList](c.t, c.do(http.MethodGet, path, ""), http.StatusOK)
	if l.Instances == nil {
		c.t.Errorf("GET %s: instances is null, want an array", path)
	}
	if l.PageInfo.CurrentCount != len(l.Instances) {
		c.t.Errorf("GET %s: current_count = %d, but %d instances", path, l.PageInfo.CurrentCount, len(l.Instances))
	}
	return l
}

// get reads one instance the only way the API allows: ListInstances
// filtered by its ID.
func (c *apiClient) get(id string) wireInstance {
	c.t.Helper()
	l := c.list("instance_id=" + id)
	if len(l.Instances) != 1 || l.Instances[0].ID != id || l.Count != 1 {
		c.t.Fatalf("listing instance %s gave %v (count %d), want exactly it", id, l.ids(), l.Count)
	}
	return l.Instances[0]
}

// delete deletes an instance and checks the 204 with an empty body.
func (c *apiClient) delete(id string) {
	c.t.Helper()
	r := c.do(http.MethodDelete, "/instances/"+id, "")
	if r.Status != http.StatusNoContent || len(r.Body) != 0 {
		c.t.Fatalf("DELETE %s = %d %q, want 204 with an empty body", id, r.Status, r.Body)
	}
}

// wantState checks an instance's state through ShowInstanceStatus.
func (c *apiClient) wantState(id, state, opState string) wireStatus {
	c.t.Helper()
	st := c.status(id)
	if st.State != state || st.OperationState != opState {
		c.t.Fatalf("instance %s is %s/%s, want %s/%s", id, st.State, st.OperationState, state, opState)
	}
	return st
}

// rfc3339 is how the simulator must write a time: RFC 3339 in UTC.
func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// stateHistory is the list of "state/operation_state" of a history.
func stateHistory(h []StateChange) []string {
	out := make([]string, len(h))
	for i, c := range h {
		out[i] = c.State + "/" + c.OperationState
	}
	return out
}

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// eventHandler is a slog handler that reports the simulator's state-change
// log lines on a channel, so a test can watch changes without sending a
// request (which would itself advance the lifecycle).
type eventHandler struct{ ch chan string }

func (h eventHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h eventHandler) Handle(_ context.Context, r slog.Record) error {
	attrs := map[string]string{}
	r.Attrs(func(a slog.Attr) bool {
		attrs[a.Key] = a.Value.String()
		return true
	})
	ev := attrs["instance_id"] + " " + attrs["to"]
	if r.Message == "instance purged" {
		ev = attrs["instance_id"] + " purged"
	}
	select {
	case h.ch <- ev:
	default: // never block the simulator, which logs under its lock
	}
	return nil
}

func (h eventHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h eventHandler) WithGroup(string) slog.Handler      { return h }

// jsonBody marshals a request body.
func jsonBody(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// wireIDs is the {"instances": [{"id"}]} answer of the batch operations.
type wireIDs struct {
	Instances []struct {
		ID string `json:"id"`
	} `json:"instances"`
}

func (w wireIDs) ids() []string {
	out := make([]string, len(w.Instances))
	for i, in := range w.Instances {
		out[i] = in.ID
	}
	return out
}

// runReq is a RunInstances body for minCount to maxCount instances.
func runReq(minCount, maxCount int, mutate func(b map[string]any)) string {
	return bodyWith(func(b map[string]any) {
		b["min_count"] = minCount
		b["max_count"] = maxCount
		if mutate != nil {
			mutate(b)
		}
	})
}

// run calls RunInstances and returns the new instances' IDs.
func (c *apiClient) run(body string) []string {
	c.t.Helper()
	ids := decode[wireIDs](c.t, c.do(http.MethodPost, "/instances/batch-create", body), http.StatusOK).ids()
	for _, id := range ids {
		if !contractUUID.MatchString(id) {
			c.t.Fatalf("RunInstances answered the ID %q", id)
		}
	}
	return ids
}

// runN creates n instances with RunInstances, 100 at a time.
func (c *apiClient) runN(n int) []string {
	c.t.Helper()
	var ids []string
	for n > 0 {
		k := min(n, 100)
		ids = append(ids, c.run(runReq(k, k, nil))...)
		n -= k
	}
	return ids
}

// batchDelete calls DeleteInstances and checks the 202.
func (c *apiClient) batchDelete(ids ...string) {
	c.t.Helper()
	got := decode[wireIDs](c.t, c.do(http.MethodPost, "/instances/batch-delete", jsonBody(map[string]any{"instance_id_set": ids})), http.StatusAccepted)
	if !slices.Equal(got.ids(), ids) {
		c.t.Fatalf("DeleteInstances answered %v, want %v", got.ids(), ids)
	}
}

// reinstall calls ReinstallOs and checks the 202.
func (c *apiClient) reinstall(imageID, password string, ids ...string) {
	c.t.Helper()
	body := map[string]any{"password": password, "instance_id_set": ids}
	if imageID != "" {
		body["image_id"] = imageID
	}
	got := decode[wireIDs](c.t, c.do(http.MethodPut, "/instances/reinstall", jsonBody(body)), http.StatusAccepted)
	if !slices.Equal(got.ids(), ids) {
		c.t.Fatalf("ReinstallOs answered %v, want %v", got.ids(), ids)
	}
}

// modifyIP calls ModifyInstanceIp with NICs made by ipNICs and checks the
// 202 with an empty body.
func (c *apiClient) modifyIP(id, vpcID string, nics []any) {
	c.t.Helper()
	r := c.do(http.MethodPut, "/instances/"+id+"/ip", jsonBody(map[string]any{"vpc_id": vpcID, "nics": nics}))
	if r.Status != http.StatusAccepted || len(r.Body) != 0 {
		c.t.Fatalf("ModifyInstanceIp %s = %d %q, want 202 with an empty body", id, r.Status, r.Body)
	}
}

// ipNICs builds a ModifyInstanceIp nics value from subnet/address pairs.
func ipNICs(pairs ...string) []any {
	out := []any{}
	for i := 0; i+1 < len(pairs); i += 2 {
		n := map[string]any{"subnet_id": pairs[i]}
		if pairs[i+1] != "" {
			n["ip_address"] = pairs[i+1]
		}
		out = append(out, n)
	}
	return out
}

// power calls ChangePhysicalServerPowerState and checks the 202.
func (c *apiClient) power(action string, servers ...string) {
	c.t.Helper()
	r := c.do(http.MethodPut, "/physicalservers/power-state", jsonBody(map[string]any{"action": action, "server_id_set": servers}))
	out := decode[struct {
		Servers []struct {
			ID string `json:"id"`
		} `json:"physical_servers"`
	}](c.t, r, http.StatusAccepted)
	if len(out.Servers) != len(servers) {
		c.t.Fatalf("power-state answered %s, want the %d servers", r.Body, len(servers))
	}
}

// wireServer is a physical server as the API notes (DESIGN.md, 8.3) describe it.
type wireServer struct {
	ID          string           `json:"id"`
	Name        string           `json:"name"`
	ProjectID   string           `json:"project_id"`
	ManageState string           `json:"manage_state"`
	PowerState  string           `json:"power_state"`
	OnboardTime string           `json:"onboard_time"`
	Tags        []map[string]any `json:"tags"`
}

type wireServerList struct {
	Servers  []wireServer `json:"servers"`
	PageInfo wirePageInfo `json:"page_info"`
	Count    int          `json:"count"`
}

func (l wireServerList) ids() []string {
	out := make([]string, len(l.Servers))
	for i, s := range l.Servers {
		out[i] = s.ID
	}
	return out
}

func (c *apiClient) server(id string) wireServer {
	c.t.Helper()
	return decode[wireServer](c.t, c.do(http.MethodGet, "/physicalservers/"+id, ""), http.StatusOK)
}

func (c *apiClient) servers(query string) wireServerList {
	c.t.Helper()
	path := "/physicalservers"
	if query != "" {
		path += "?" + query
	}
	l := decode[wireServerList](c.t, c.do(http.MethodGet, path, ""), http.StatusOK)
	if l.PageInfo.CurrentCount != len(l.Servers) || l.Servers == nil {
		c.t.Errorf("GET %s: current_count %d for %d servers (null: %v)", path, l.PageInfo.CurrentCount, len(l.Servers), l.Servers == nil)
	}
	return l
}

// testHTTP is the tests' HTTP client. It has a transport of its own:
// httptest.Server.Close closes the idle connections of
// http.DefaultTransport, which would break a parallel test's request
// that is about to reuse one ("CloseIdleConnections called").
var testHTTP = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()} //nolint:forcetypeassert // the default transport is always *http.Transport
