package simulator

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// The conformance table: one row per request of every endpoint in the API
// notes (DESIGN.md, section 8) and every error they document (status, error_code and a piece of
// error_msg), plus the successful answers with their bodies. Rows that
// fail run against one shared fixture, and the test then checks that none
// of them changed anything (every operation is all or nothing); rows that
// succeed, or need a setup, get a fixture of their own.

const otherProject = "ffffffffffffffffffffffffffffffff"

// fixture is a simulator with an instance in every state and phase.
type fixture struct {
	sim *TestServer
	c   *apiClient
	clk *fakeClock
	ids map[string]string // placeholder name -> ID
	rep *strings.Replacer
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	opts := validationOptions()
	opts.Servers = 12
	sim, c, clk := opsSim(t, opts)
	if err := sim.AddProject(otherProject, "other-region", "other-token"); err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for _, name := range []string{"running", "stopped", "reinstallErr", "terminated", "deleting", "reinstalling", "modifying", "stopping"} {
		ids[name] = c.createWith(func(b map[string]any) {
			b["name"] = name
			if name == "running" {
				b["network_interfaces"] = nics(DefaultSubnetID, "192.168.0.100")
			}
		})
	}
	sim.FailNextCreate("iMetal.0099", "the BMC did not answer")
	ids["createErr"] = c.create(bodyWith(nil))
	clk.Advance(createDur)
	c.power(ActionPowerOff, serverOf(sim, ids["stopped"]))
	sim.FailNextReinstall("iMetal.0099", "the image could not be written")
	c.reinstall("", testPassword, ids["reinstallErr"])
	c.delete(ids["terminated"])
	clk.Advance(powerDur)
	ids["pending"] = c.create(bodyWith(nil))
	c.delete(ids["deleting"])
	c.reinstall("", testPassword, ids["reinstalling"])
	c.modifyIP(ids["modifying"], DefaultVPCID, ipNICs(DefaultSubnetID, ""))
	c.power(ActionPowerOff, serverOf(sim, ids["stopping"]))

	for name, id := range maps.Clone(ids) {
		if name != "terminated" {
			ids["srv"+strings.ToUpper(name[:1])+name[1:]] = serverOf(sim, id)
		}
	}
	ids["srvIdle"] = DefaultServerID(12)
	ids["unknown"] = unknownID
	ids["p"] = DefaultProjectID
	pairs := []string{}
	for k, v := range ids {
		pairs = append(pairs, "{"+k+"}", v)
	}
	f := &fixture{sim: sim, c: c, clk: clk, ids: ids, rep: strings.NewReplacer(pairs...)}
	// The fixture is what the table assumes.
	for name, want := range map[string]string{"running": "running/install-succeed", "stopped": "stopped/install-succeed",
		"reinstallErr": "error/reinstall-failed", "terminated": "terminated/uninstall-succeed", "deleting": "shutting-down/uninstall-processing",
		"reinstalling": "running/reinstall-processing", "modifying": "running/modify-ip-processing", "stopping": "running/install-succeed",
		"createErr": "error/install-failed", "pending": "pending/install-processing"} {
		st := c.status(ids[name])
		if got := st.State + "/" + st.OperationState; got != want {
			t.Fatalf("fixture: %s is %s, want %s", name, got, want)
		}
	}
	return f
}

// unknownIDs is a JSON list of n well-formed IDs that name nothing.
func unknownIDs(n int) string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("e0000000-0000-4000-8000-%012d", i)
	}
	return jsonBody(ids)
}

type conformanceCase struct {
	name   string
	method string
	path   string // below /v1/{project_id}, with {placeholders}
	body   string // with {placeholders}
	token  string // "" the default token; "none" no header
	// project replaces the default project in the path.
	project string
	setup   func(t *testing.T, f *fixture)
	status  int
	code    string // error_code of an error answer
	msg     string // a substring of error_msg, with {placeholders}
	check   func(t *testing.T, f *fixture, r response)
}

func (tc conformanceCase) run(t *testing.T, f *fixture) {
	t.Helper()
	project := DefaultProjectID
	if tc.project != "" {
		project = tc.project
	}
	token := f.c.token
	switch tc.token {
	case "":
	case "none":
		token = ""
	default:
		token = tc.token
	}
	c := f.c.with(t)
	r := c.raw(tc.method, "/v1/"+project+f.rep.Replace(tc.path), token, f.rep.Replace(tc.body))
	if r.Header.Get("X-Request-Id") == "" {
		t.Errorf("no X-Request-Id header")
	}
	if tc.code != "" {
		e := wantError(t, r, tc.status, tc.code)
		if msg := f.rep.Replace(tc.msg); !strings.Contains(e.Msg, msg) {
			t.Errorf("error_msg %q does not contain %q", e.Msg, msg)
		}
		return
	}
	if r.Status != tc.status {
		t.Fatalf("status = %d, want %d; body %s", r.Status, tc.status, r.Body)
	}
	if tc.check != nil {
		tc.check(t, f, r)
	}
}

// bodyOf is a JSON body from a map; strings may hold placeholders.
func bodyOf(m map[string]any) string { return jsonBody(m) }

// wantIDs checks a {"instances": [{"id"}]} answer.
func wantIDs(names ...string) func(t *testing.T, f *fixture, r response) {
	return func(t *testing.T, f *fixture, r response) {
		t.Helper()
		var want []string
		for _, n := range names {
			want = append(want, f.ids[n])
		}
		if got := decode[wireIDs](t, r, r.Status).ids(); !slices.Equal(got, want) {
			t.Errorf("answer %v, want %v", got, want)
		}
	}
}

// wantStates checks instances' state/operation_state after a request.
func wantStates(states map[string]string) func(t *testing.T, f *fixture, r response) {
	return func(t *testing.T, f *fixture, r response) {
		t.Helper()
		for name, want := range states {
			st := f.c.with(t).status(f.ids[name])
			if got := st.State + "/" + st.OperationState; got != want {
				t.Errorf("%s is %s, want %s", name, got, want)
			}
		}
	}
}

func checks(fs ...func(t *testing.T, f *fixture, r response)) func(t *testing.T, f *fixture, r response) {
	return func(t *testing.T, f *fixture, r response) {
		t.Helper()
		for _, fn := range fs {
			fn(t, f, r)
		}
	}
}

type endpoint struct{ op, method, path, body string }

// endpoints are the twelve operations, with a request that would succeed
// on the fixture, for the checks every endpoint shares.
func endpoints() []endpoint {
	return []endpoint{
		{OpCreateInstance, http.MethodPost, "/instances", bodyWith(nil)},
		{OpRunInstances, http.MethodPost, "/instances/batch-create", runReq(1, 1, nil)},
		{OpListInstances, http.MethodGet, "/instances", ""},
		{OpShowInstanceStatus, http.MethodGet, "/instances/{running}/status", ""},
		{OpDeleteInstance, http.MethodDelete, "/instances/{running}", ""},
		{OpDeleteInstances, http.MethodPost, "/instances/batch-delete", `{"instance_id_set": ["{running}"]}`},
		{OpReinstallOS, http.MethodPut, "/instances/reinstall", `{"password": "` + testPassword + `", "instance_id_set": ["{running}"]}`},
		{OpChangePassword, http.MethodPut, "/instances/password", `{"new_password": "` + testPassword + `", "instance_id_set": ["{running}"]}`},
		{OpModifyIP, http.MethodPut, "/instances/{running}/ip", `{"vpc_id": "` + DefaultVPCID + `", "nics": [{"subnet_id": "` + DefaultSubnetID + `"}]}`},
		{OpListServers, http.MethodGet, "/physicalservers", ""},
		{OpShowServer, http.MethodGet, "/physicalservers/{srvRunning}", ""},
		{OpChangePowerState, http.MethodPut, "/physicalservers/power-state", `{"action": "power off", "server_id_set": ["{srvRunning}"]}`},
	}
}

func conformanceCases() []conformanceCase {
	const (
		invalid  = "iMetal.0001"
		missing  = "iMetal.0002"
		notFound = "iMetal.0200"
		state    = "iMetal.0201"
		noServer = "iMetal.0100"
		notReady = "iMetal.0101"
		post     = http.MethodPost
		get      = http.MethodGet
		put      = http.MethodPut
		del      = http.MethodDelete
	)
	var cases []conformanceCase

	// Every endpoint: authentication, permission, and the body errors.
	for _, ep := range endpoints() {
		cases = append(cases,
			conformanceCase{name: ep.op + "/no token", method: ep.method, path: ep.path, body: ep.body, token: "none",
				status: 401, code: "iMetal.0003", msg: "X-Auth-Token"},
			conformanceCase{name: ep.op + "/wrong token", method: ep.method, path: ep.path, body: ep.body, token: "not-a-token",
				status: 401, code: "iMetal.0003", msg: "Authentication failed"},
			conformanceCase{name: ep.op + "/token of another project", method: ep.method, path: ep.path, body: ep.body, token: "other-token",
				status: 403, code: "iMetal.0004", msg: DefaultProjectID},
			conformanceCase{name: ep.op + "/another project's path", method: ep.method, path: ep.path, body: ep.body, project: otherProject,
				status: 403, code: "iMetal.0004", msg: otherProject},
			conformanceCase{name: ep.op + "/expired token", method: ep.method, path: ep.path, body: ep.body,
				setup:  func(t *testing.T, f *fixture) { f.sim.ExpireToken(DefaultToken, 0) },
				status: 401, code: "iMetal.0003", msg: "expired"},
		)
		if ep.body != "" {
			cases = append(cases,
				conformanceCase{name: ep.op + "/empty body", method: ep.method, path: ep.path, status: 400, code: missing, msg: "request body"},
				conformanceCase{name: ep.op + "/malformed JSON", method: ep.method, path: ep.path, body: "{", status: 400, code: invalid, msg: "JSON"},
			)
		}
	}

	// Paths the gateway does not route.
	for _, p := range []struct{ method, path string }{
		{get, "/instances/{running}"}, {put, "/instances/{running}"}, {get, "/instances/{running}/ip"},
		{get, "/instances/reinstall"}, {post, "/instances/password"}, {del, "/physicalservers/{srvIdle}"},
		{post, "/physicalservers"}, {get, "/physicalservers/power-state/x"}, {get, "/instances/batch-delete"},
	} {
		cases = append(cases, conformanceCase{name: "unrouted/" + p.method + " " + p.path, method: p.method, path: p.path,
			status: 404, code: "APIGW.0101", msg: "does not exist"})
	}

	// CreateInstance (create_test.go has every rule; here one of each kind).
	cases = append(cases, []conformanceCase{
		{name: "CreateInstance/ok", method: post, path: "/instances", body: bodyWith(nil), status: 200,
			check: func(t *testing.T, f *fixture, r response) {
				out := decode[map[string]string](t, r, 200)
				if len(out) != 1 || !contractUUID.MatchString(out["instance_id"]) {
					t.Errorf("answer %s", r.Body)
				}
				f.c.with(t).wantState(out["instance_id"], "pending", "install-processing")
			}},
		{name: "CreateInstance/missing name", method: post, path: "/instances", body: bodyWith(func(b map[string]any) { delete(b, "name") }), status: 400, code: missing, msg: "name"},
		{name: "CreateInstance/name too long", method: post, path: "/instances", body: bodyWith(func(b map[string]any) { b["name"] = strings.Repeat("n", 64) }), status: 400, code: invalid, msg: "1 to 63"},
		{name: "CreateInstance/unknown image", method: post, path: "/instances", body: bodyWith(func(b map[string]any) { b["image_id"] = unknownID }), status: 400, code: invalid, msg: "image_id"},
		{name: "CreateInstance/subnet of another VPC", method: post, path: "/instances", body: bodyWith(func(b map[string]any) { b["vpc_id"] = otherVPCID }), status: 400, code: invalid, msg: "not in VPC"},
		{name: "CreateInstance/three NICs", method: post, path: "/instances", body: bodyWith(func(b map[string]any) {
			b["network_interfaces"] = nics(DefaultSubnetID, "", DefaultSubnetID, "", DefaultSubnetID, "")
		}), status: 400, code: invalid, msg: "1 or 2"},
		{name: "CreateInstance/address in use", method: post, path: "/instances", body: bodyWith(func(b map[string]any) {
			b["network_interfaces"] = nics(DefaultSubnetID, "192.168.0.100")
		}), status: 400, code: invalid, msg: "in use"},
		{name: "CreateInstance/address outside the subnet", method: post, path: "/instances", body: bodyWith(func(b map[string]any) {
			b["network_interfaces"] = nics(DefaultSubnetID, "10.0.0.5")
		}), status: 400, code: invalid, msg: "not a usable address"},
		{name: "CreateInstance/password too short", method: post, path: "/instances", body: bodyWith(func(b map[string]any) { b["password"] = "Ab1-" }), status: 400, code: invalid, msg: "8 to 26"},
		{name: "CreateInstance/password with two classes", method: post, path: "/instances", body: bodyWith(func(b map[string]any) { b["password"] = "abcdefgh12" }), status: 400, code: invalid, msg: "three"},
		{name: "CreateInstance/password contains root", method: post, path: "/instances", body: bodyWith(func(b map[string]any) { b["password"] = "Xroot-12345" }), status: 400, code: invalid, msg: "root"},
		{name: "CreateInstance/Windows password contains Administrator", method: post, path: "/instances", body: bodyWith(func(b map[string]any) {
			b["image_id"] = DefaultWindowsImage
			b["password"] = "Administrator1!"
		}), status: 400, code: invalid, msg: "Administrator"},
		{name: "CreateInstance/11 metadata pairs", method: post, path: "/instances", body: bodyWith(func(b map[string]any) { b["metadata"] = metadataPairs(11) }), status: 400, code: invalid, msg: "at most 10"},
		{name: "CreateInstance/description too long", method: post, path: "/instances", body: bodyWith(func(b map[string]any) { b["description"] = strings.Repeat("d", 256) }), status: 400, code: invalid, msg: "255"},
		{name: "CreateInstance/unknown server", method: post, path: "/instances", body: bodyWith(func(b map[string]any) { b["placement"] = map[string]any{"server_id": unknownID} }), status: 404, code: noServer, msg: unknownID},
		{name: "CreateInstance/server in use", method: post, path: "/instances", body: bodyWith(func(b map[string]any) { b["placement"] = map[string]any{"server_id": "{srvRunning}"} }), status: 400, code: notReady, msg: "{srvRunning}"},
		{name: "CreateInstance/no server ready", method: post, path: "/instances", body: bodyWith(nil),
			setup:  func(t *testing.T, f *fixture) { f.c.with(t).run(runReq(3, 3, nil)) },
			status: 400, code: notReady, msg: "No physical server"},
	}...)

	// RunInstances.
	cases = append(cases, []conformanceCase{
		{name: "RunInstances/ok", method: post, path: "/instances/batch-create", body: runReq(1, 2, func(b map[string]any) { b["name"] = "twin" }), status: 200,
			check: func(t *testing.T, f *fixture, r response) {
				ids := decode[wireIDs](t, r, 200).ids()
				if len(ids) != 2 {
					t.Fatalf("created %v, want 2", ids)
				}
				for _, id := range ids {
					if in := f.c.with(t).get(id); in.Name != "twin" || in.State != "pending" {
						t.Errorf("instance %s: %s %s", id, in.Name, in.State)
					}
				}
			}},
		{name: "RunInstances/server_id_set picks the ready ones", method: post, path: "/instances/batch-create", status: 200,
			body: runReq(1, 5, func(b map[string]any) {
				b["placement"] = map[string]any{"server_id_set": []string{"{srvRunning}", "{srvIdle}"}}
			}),
			check: func(t *testing.T, f *fixture, r response) {
				ids := decode[wireIDs](t, r, 200).ids()
				if len(ids) != 1 || serverOf(f.sim, ids[0]) != f.ids["srvIdle"] {
					t.Errorf("created %v, want one instance on the idle server", ids)
				}
			}},
		{name: "RunInstances/missing min_count", method: post, path: "/instances/batch-create", body: bodyWith(func(b map[string]any) { b["max_count"] = 1 }), status: 400, code: missing, msg: "min_count"},
		{name: "RunInstances/missing max_count", method: post, path: "/instances/batch-create", body: bodyWith(func(b map[string]any) { b["min_count"] = 1 }), status: 400, code: missing, msg: "max_count"},
		{name: "RunInstances/min_count 0", method: post, path: "/instances/batch-create", body: runReq(0, 1, nil), status: 400, code: invalid, msg: "min_count must be 1 to 100"},
		{name: "RunInstances/max_count 101", method: post, path: "/instances/batch-create", body: runReq(1, 101, nil), status: 400, code: invalid, msg: "max_count must be 1 to 100"},
		{name: "RunInstances/min_count above max_count", method: post, path: "/instances/batch-create", body: runReq(3, 2, nil), status: 400, code: invalid, msg: "greater than max_count"},
		{name: "RunInstances/fixed address", method: post, path: "/instances/batch-create", body: runReq(1, 1, func(b map[string]any) {
			b["network_interfaces"] = nics(DefaultSubnetID, "192.168.0.50")
		}), status: 400, code: invalid, msg: "network_interfaces[0].ipv4_address"},
		{name: "RunInstances/missing password", method: post, path: "/instances/batch-create", body: runReq(1, 1, func(b map[string]any) { delete(b, "password") }), status: 400, code: missing, msg: "password"},
		{name: "RunInstances/bad password", method: post, path: "/instances/batch-create", body: runReq(1, 1, func(b map[string]any) { b["password"] = "password" }), status: 400, code: invalid, msg: "password"},
		{name: "RunInstances/unknown server", method: post, path: "/instances/batch-create", body: runReq(1, 1, func(b map[string]any) {
			b["placement"] = map[string]any{"server_id_set": []string{"{srvIdle}", unknownID}}
		}), status: 404, code: noServer, msg: unknownID},
		{name: "RunInstances/server not a UUID", method: post, path: "/instances/batch-create", body: runReq(1, 1, func(b map[string]any) {
			b["placement"] = map[string]any{"server_id_set": []string{"server-1"}}
		}), status: 400, code: invalid, msg: "server_id_set"},
		{name: "RunInstances/fewer ready servers than min_count", method: post, path: "/instances/batch-create", body: runReq(4, 10, nil), status: 400, code: notReady, msg: "min_count is 4"},
		{name: "RunInstances/set servers in use", method: post, path: "/instances/batch-create", body: runReq(1, 1, func(b map[string]any) {
			b["placement"] = map[string]any{"server_id_set": []string{"{srvRunning}", "{srvStopped}"}}
		}), status: 400, code: notReady, msg: "Only 0"},
	}...)

	// ListInstances.
	cases = append(cases, []conformanceCase{
		{name: "ListInstances/ok", method: get, path: "/instances?limit=3", status: 200,
			check: func(t *testing.T, f *fixture, r response) {
				l := decode[wireList](t, r, 200)
				if l.Count != 10 || len(l.Instances) != 10 || l.PageInfo.CurrentCount != 10 || l.PageInfo.NextMarker != "" {
					t.Errorf("list: %d instances, count %d, current %d, next %q; want all 10 on one page (limit 3 counts as 10)",
						len(l.Instances), l.Count, l.PageInfo.CurrentCount, l.PageInfo.NextMarker)
				}
			}},
		{name: "ListInstances/state filter", method: get, path: "/instances?instance_state=error", status: 200,
			check: func(t *testing.T, f *fixture, r response) {
				l := decode[wireList](t, r, 200)
				if got, want := sortedCopy(l.ids()), sortedCopy([]string{f.ids["createErr"], f.ids["reinstallErr"]}); !slices.Equal(got, want) {
					t.Errorf("error instances %v, want %v", got, want)
				}
			}},
		{name: "ListInstances/limit not a number", method: get, path: "/instances?limit=ten", status: 400, code: invalid, msg: "limit"},
		{name: "ListInstances/unknown state", method: get, path: "/instances?instance_state=stopping", status: 400, code: invalid, msg: "instance_state"},
		{name: "ListInstances/101 instance IDs", method: get, path: "/instances?instance_id=" + strings.Trim(strings.ReplaceAll(unknownIDs(101), `"`, ""), "[]"), status: 400, code: invalid, msg: "at most 100"},
		{name: "ListInstances/instance ID not a UUID", method: get, path: "/instances?instance_id=abc", status: 400, code: invalid, msg: "instance_id"},
		{name: "ListInstances/101 server IDs", method: get, path: "/instances?server_id=" + strings.Trim(strings.ReplaceAll(unknownIDs(101), `"`, ""), "[]"), status: 400, code: invalid, msg: "at most 100"},
		{name: "ListInstances/server ID not a UUID", method: get, path: "/instances?server_id=srv-1", status: 400, code: invalid, msg: "server_id"},
		{name: "ListInstances/instance_id with server_id", method: get, path: "/instances?instance_id={running}&server_id={srvRunning}", status: 400, code: invalid, msg: "together"},
		{name: "ListInstances/unknown marker", method: get, path: "/instances?marker={unknown}", status: 400, code: invalid, msg: "marker"},
	}...)

	// ShowInstanceStatus: every state as the API reports it.
	for name, want := range map[string]wireStatus{
		"running":    {State: "running", OperationState: "install-succeed"},
		"pending":    {State: "pending", OperationState: "install-processing"},
		"stopped":    {State: "stopped", OperationState: "install-succeed"},
		"deleting":   {State: "shutting-down", OperationState: "uninstall-processing"},
		"terminated": {State: "terminated", OperationState: "uninstall-succeed"},
		"createErr": {State: "error", OperationState: "install-failed",
			Error: &wireInstanceError{Code: "iMetal.0099", Msg: "the BMC did not answer", Type: "create_instance_error"}},
		"reinstallErr": {State: "error", OperationState: "reinstall-failed",
			Error: &wireInstanceError{Code: "iMetal.0099", Msg: "the image could not be written", Type: "reinstall_error"}},
		"reinstalling": {State: "running", OperationState: "reinstall-processing"},
		"modifying":    {State: "running", OperationState: "modify-ip-processing"},
	} {
		cases = append(cases, conformanceCase{name: "ShowInstanceStatus/" + name, method: get, path: "/instances/{" + name + "}/status", status: 200,
			check: func(t *testing.T, f *fixture, r response) {
				got := decode[wireStatus](t, r, 200)
				if fmt.Sprint(got.State, got.OperationState) != fmt.Sprint(want.State, want.OperationState) ||
					(got.Error == nil) != (want.Error == nil) || (got.Error != nil && *got.Error != *want.Error) {
					t.Errorf("status = %+v %+v, want %+v %+v", got, got.Error, want, want.Error)
				}
			}})
	}
	cases = append(cases, conformanceCase{name: "ShowInstanceStatus/unknown", method: get, path: "/instances/{unknown}/status", status: 404, code: notFound, msg: "{unknown}"})

	// DeleteInstance.
	cases = append(cases, []conformanceCase{
		{name: "DeleteInstance/running", method: del, path: "/instances/{running}", status: 204,
			check: checks(func(t *testing.T, f *fixture, r response) {
				if len(r.Body) != 0 {
					t.Errorf("body %q, want none", r.Body)
				}
			}, wantStates(map[string]string{"running": "shutting-down/uninstall-processing"}))},
		{name: "DeleteInstance/pending", method: del, path: "/instances/{pending}", status: 204, check: wantStates(map[string]string{"pending": "shutting-down/uninstall-processing"})},
		{name: "DeleteInstance/stopped", method: del, path: "/instances/{stopped}", status: 204, check: wantStates(map[string]string{"stopped": "shutting-down/uninstall-processing"})},
		{name: "DeleteInstance/error", method: del, path: "/instances/{createErr}", status: 204, check: wantStates(map[string]string{"createErr": "shutting-down/uninstall-processing"})},
		{name: "DeleteInstance/shutting-down again", method: del, path: "/instances/{deleting}", status: 204, check: wantStates(map[string]string{"deleting": "shutting-down/uninstall-processing"})},
		{name: "DeleteInstance/reinstalling", method: del, path: "/instances/{reinstalling}", status: 204, check: wantStates(map[string]string{"reinstalling": "shutting-down/uninstall-processing"})},
		{name: "DeleteInstance/terminated", method: del, path: "/instances/{terminated}", status: 404, code: notFound, msg: "{terminated}"},
		{name: "DeleteInstance/unknown", method: del, path: "/instances/{unknown}", status: 404, code: notFound, msg: "{unknown}"},
		{name: "DeleteInstance/state that does not allow it", method: del, path: "/instances/{running}",
			setup: func(t *testing.T, f *fixture) {
				_ = f.sim.UpdateInstance(f.ids["running"], func(in *Instance) { in.State = "switch-installing" })
			}, status: 400, code: state, msg: "switch-installing"},
	}...)

	// DeleteInstances.
	cases = append(cases, []conformanceCase{
		{name: "DeleteInstances/ok", method: post, path: "/instances/batch-delete", body: `{"instance_id_set": ["{running}", "{stopped}", "{deleting}", "{createErr}"]}`, status: 202,
			check: checks(wantIDs("running", "stopped", "deleting", "createErr"), wantStates(map[string]string{
				"running": "shutting-down/uninstall-processing", "stopped": "shutting-down/uninstall-processing", "createErr": "shutting-down/uninstall-processing"}))},
		{name: "DeleteInstances/missing instance_id_set", method: post, path: "/instances/batch-delete", body: `{}`, status: 400, code: missing, msg: "instance_id_set"},
		{name: "DeleteInstances/empty instance_id_set", method: post, path: "/instances/batch-delete", body: `{"instance_id_set": []}`, status: 400, code: invalid, msg: "1 to 50"},
		{name: "DeleteInstances/51 IDs", method: post, path: "/instances/batch-delete", body: `{"instance_id_set": ` + unknownIDs(51) + `}`, status: 400, code: invalid, msg: "got 51"},
		{name: "DeleteInstances/an unknown ID", method: post, path: "/instances/batch-delete", body: `{"instance_id_set": ["{running}", "{unknown}"]}`, status: 404, code: notFound, msg: "[{unknown}]"},
		{name: "DeleteInstances/a terminated ID", method: post, path: "/instances/batch-delete", body: `{"instance_id_set": ["{terminated}", "{running}"]}`, status: 404, code: notFound, msg: "[{terminated}]"},
		{name: "DeleteInstances/instance_id_set not a list", method: post, path: "/instances/batch-delete", body: `{"instance_id_set": "{running}"}`, status: 400, code: invalid, msg: "instance_id_set"},
		{name: "DeleteInstances/state that does not allow it", method: post, path: "/instances/batch-delete", body: `{"instance_id_set": ["{stopped}", "{running}"]}`,
			setup: func(t *testing.T, f *fixture) {
				_ = f.sim.UpdateInstance(f.ids["running"], func(in *Instance) { in.State = "switch-installing" })
			}, status: 400, code: state, msg: "{running}"},
	}...)

	// ReinstallOs.
	reinstall := func(ids ...string) string {
		return `{"password": "` + testPassword + `", "instance_id_set": ["{` + strings.Join(ids, `}", "{`) + `}"]}`
	}
	cases = append(cases, []conformanceCase{
		{name: "ReinstallOs/running, stopped and reinstall_error", method: put, path: "/instances/reinstall", body: reinstall("running", "stopped", "reinstallErr"), status: 202,
			check: checks(wantIDs("running", "stopped", "reinstallErr"), wantStates(map[string]string{
				"running": "running/reinstall-processing", "stopped": "stopped/reinstall-processing", "reinstallErr": "running/reinstall-processing"}))},
		{name: "ReinstallOs/new image", method: put, path: "/instances/reinstall", status: 202,
			body: `{"image_id": "` + DefaultImageID2 + `", "password": "` + testPassword + `", "instance_id_set": ["{running}"]}`,
			check: func(t *testing.T, f *fixture, r response) {
				f.clk.Advance(reinstallDur)
				if in := f.c.with(t).get(f.ids["running"]); in.Image["id"] != DefaultImageID2 || in.OperationState != "reinstall-succeed" {
					t.Errorf("after the reinstall: image %v, %s", in.Image, in.OperationState)
				}
			}},
		{name: "ReinstallOs/missing password", method: put, path: "/instances/reinstall", body: `{"instance_id_set": ["{running}"]}`, status: 400, code: missing, msg: "password"},
		{name: "ReinstallOs/missing instance_id_set", method: put, path: "/instances/reinstall", body: `{"password": "` + testPassword + `"}`, status: 400, code: missing, msg: "instance_id_set"},
		{name: "ReinstallOs/11 IDs", method: put, path: "/instances/reinstall", body: `{"password": "` + testPassword + `", "instance_id_set": ` + unknownIDs(11) + `}`, status: 400, code: invalid, msg: "1 to 10"},
		{name: "ReinstallOs/empty instance_id_set", method: put, path: "/instances/reinstall", body: `{"password": "` + testPassword + `", "instance_id_set": []}`, status: 400, code: invalid, msg: "1 to 10"},
		{name: "ReinstallOs/image not a UUID", method: put, path: "/instances/reinstall", body: `{"image_id": "ubuntu", "password": "` + testPassword + `", "instance_id_set": ["{running}"]}`, status: 400, code: invalid, msg: "image_id"},
		{name: "ReinstallOs/unknown image", method: put, path: "/instances/reinstall", body: `{"image_id": "{unknown}", "password": "` + testPassword + `", "instance_id_set": ["{running}"]}`, status: 400, code: invalid, msg: "{unknown}"},
		{name: "ReinstallOs/unknown instance", method: put, path: "/instances/reinstall", body: reinstall("running", "unknown"), status: 404, code: notFound, msg: "[{unknown}]"},
		{name: "ReinstallOs/bad password", method: put, path: "/instances/reinstall", body: `{"password": "short", "instance_id_set": ["{running}"]}`, status: 400, code: invalid, msg: "8 to 26"},
		{name: "ReinstallOs/Windows image and Administrator", method: put, path: "/instances/reinstall",
			body: `{"image_id": "` + DefaultWindowsImage + `", "password": "Administrator1!", "instance_id_set": ["{running}"]}`, status: 400, code: invalid, msg: "Administrator"},
	}...)
	for _, name := range []string{"pending", "deleting", "terminated", "createErr", "reinstalling", "modifying", "stopping"} {
		cases = append(cases, conformanceCase{name: "ReinstallOs/state " + name, method: put, path: "/instances/reinstall", body: reinstall("running", name),
			status: 400, code: state, msg: "Instance {" + name + "} is in state"})
	}

	// ChangeInstancePassword.
	password := func(pw string, ids ...string) string {
		return `{"new_password": "` + pw + `", "instance_id_set": ["{` + strings.Join(ids, `}", "{`) + `}"]}`
	}
	cases = append(cases, []conformanceCase{
		{name: "ChangeInstancePassword/running and stopped", method: put, path: "/instances/password", body: password("Brand-New-Pw1", "running", "stopped"), status: 200,
			check: checks(wantIDs("running", "stopped"), func(t *testing.T, f *fixture, r response) {
				for _, n := range []string{"running", "stopped"} {
					if pw, _ := f.sim.Password(f.ids[n]); pw != "Brand-New-Pw1" {
						t.Errorf("password of %s = %q", n, pw)
					}
				}
			}, wantStates(map[string]string{"running": "running/install-succeed", "stopped": "stopped/install-succeed"}))},
		{name: "ChangeInstancePassword/missing new_password", method: put, path: "/instances/password", body: `{"instance_id_set": ["{running}"]}`, status: 400, code: missing, msg: "new_password"},
		{name: "ChangeInstancePassword/missing instance_id_set", method: put, path: "/instances/password", body: `{"new_password": "Brand-New-Pw1"}`, status: 400, code: missing, msg: "instance_id_set"},
		{name: "ChangeInstancePassword/51 IDs", method: put, path: "/instances/password", body: `{"new_password": "Brand-New-Pw1", "instance_id_set": ` + unknownIDs(51) + `}`, status: 400, code: invalid, msg: "1 to 50"},
		{name: "ChangeInstancePassword/unknown instance", method: put, path: "/instances/password", body: password("Brand-New-Pw1", "unknown", "running"), status: 404, code: notFound, msg: "[{unknown}]"},
		{name: "ChangeInstancePassword/bad password", method: put, path: "/instances/password", body: password("brandnewpw", "running"), status: 400, code: invalid, msg: "three"},
		{name: "ChangeInstancePassword/password with a hash", method: put, path: "/instances/password", body: password("Brand#New#1", "running"), status: 400, code: invalid, msg: "not allowed"},
	}...)
	for _, name := range []string{"pending", "deleting", "terminated", "createErr", "reinstallErr", "reinstalling", "modifying", "stopping"} {
		cases = append(cases, conformanceCase{name: "ChangeInstancePassword/state " + name, method: put, path: "/instances/password", body: password("Brand-New-Pw1", "stopped", name),
			status: 400, code: state, msg: "Instance {" + name + "} is in state"})
	}

	// ModifyInstanceIp.
	ip := func(vpc string, nics ...any) string { return bodyOf(map[string]any{"vpc_id": vpc, "nics": nics}) }
	nic := func(subnet, addr string) map[string]any {
		m := map[string]any{"subnet_id": subnet}
		if addr != "" {
			m["ip_address"] = addr
		}
		return m
	}
	cases = append(cases, []conformanceCase{
		{name: "ModifyInstanceIp/running", method: put, path: "/instances/{running}/ip", body: ip(DefaultVPCID, nic(DefaultSubnetID2, "192.168.1.33"), nic(DefaultSubnetID, "192.168.0.100")), status: 202,
			check: checks(func(t *testing.T, f *fixture, r response) {
				if len(r.Body) != 0 {
					t.Errorf("body %q, want none", r.Body)
				}
			}, wantStates(map[string]string{"running": "running/modify-ip-processing"}))},
		{name: "ModifyInstanceIp/stopped to another VPC", method: put, path: "/instances/{stopped}/ip", body: ip(otherVPCID, nic(otherSubnetID, "")), status: 202,
			check: wantStates(map[string]string{"stopped": "stopped/modify-ip-processing"})},
		{name: "ModifyInstanceIp/unknown instance", method: put, path: "/instances/{unknown}/ip", body: ip(DefaultVPCID, nic(DefaultSubnetID, "")), status: 404, code: notFound, msg: "{unknown}"},
		{name: "ModifyInstanceIp/missing vpc_id", method: put, path: "/instances/{running}/ip", body: bodyOf(map[string]any{"nics": []any{nic(DefaultSubnetID, "")}}), status: 400, code: missing, msg: "vpc_id"},
		{name: "ModifyInstanceIp/missing nics", method: put, path: "/instances/{running}/ip", body: bodyOf(map[string]any{"vpc_id": DefaultVPCID}), status: 400, code: missing, msg: "nics"},
		{name: "ModifyInstanceIp/no NIC", method: put, path: "/instances/{running}/ip", body: bodyOf(map[string]any{"vpc_id": DefaultVPCID, "nics": []any{}}), status: 400, code: invalid, msg: "nics must have 1 or 2"},
		{name: "ModifyInstanceIp/three NICs", method: put, path: "/instances/{running}/ip", body: ip(DefaultVPCID, nic(DefaultSubnetID, ""), nic(DefaultSubnetID, ""), nic(DefaultSubnetID, "")), status: 400, code: invalid, msg: "got 3"},
		{name: "ModifyInstanceIp/missing subnet_id", method: put, path: "/instances/{running}/ip", body: ip(DefaultVPCID, map[string]any{"ip_address": "192.168.0.9"}), status: 400, code: missing, msg: "nics[0].subnet_id"},
		{name: "ModifyInstanceIp/vpc_id not a UUID", method: put, path: "/instances/{running}/ip", body: ip("vpc-1", nic(DefaultSubnetID, "")), status: 400, code: invalid, msg: "vpc_id"},
		{name: "ModifyInstanceIp/unknown subnet", method: put, path: "/instances/{running}/ip", body: ip(DefaultVPCID, nic(unknownID, "")), status: 400, code: invalid, msg: "does not exist"},
		{name: "ModifyInstanceIp/subnet of another VPC", method: put, path: "/instances/{running}/ip", body: ip(DefaultVPCID, nic(otherSubnetID, "")), status: 400, code: invalid, msg: "not in VPC"},
		{name: "ModifyInstanceIp/address outside the subnet", method: put, path: "/instances/{running}/ip", body: ip(DefaultVPCID, nic(DefaultSubnetID, "192.168.1.5")), status: 400, code: invalid, msg: "nics[0].ip_address 192.168.1.5 is not a usable address"},
		{name: "ModifyInstanceIp/gateway address", method: put, path: "/instances/{running}/ip", body: ip(DefaultVPCID, nic(DefaultSubnetID, "192.168.0.1")), status: 400, code: invalid, msg: "not a usable address"},
		{name: "ModifyInstanceIp/not an address", method: put, path: "/instances/{running}/ip", body: ip(DefaultVPCID, nic(DefaultSubnetID, "x.y")), status: 400, code: invalid, msg: "not an IPv4 address"},
		{name: "ModifyInstanceIp/address of another instance", method: put, path: "/instances/{stopped}/ip", body: ip(DefaultVPCID, nic(DefaultSubnetID, "192.168.0.100")), status: 400, code: invalid, msg: "in use"},
		{name: "ModifyInstanceIp/one address twice", method: put, path: "/instances/{running}/ip", body: ip(DefaultVPCID, nic(DefaultSubnetID, "192.168.0.77"), nic(DefaultSubnetID, "192.168.0.77")), status: 400, code: invalid, msg: "nics[1].ip_address"},
	}...)
	for _, name := range []string{"pending", "deleting", "terminated", "createErr", "reinstallErr", "reinstalling", "modifying", "stopping"} {
		cases = append(cases, conformanceCase{name: "ModifyInstanceIp/state " + name, method: put, path: "/instances/{" + name + "}/ip", body: ip(DefaultVPCID, nic(DefaultSubnetID, "")),
			status: 400, code: state, msg: "Instance {" + name + "} is in state"})
	}

	// ListPhysicalServers and ShowPhysicalServer.
	cases = append(cases, []conformanceCase{
		{name: "ListPhysicalServers/ok", method: get, path: "/physicalservers?manage_state=ready", status: 200,
			check: func(t *testing.T, f *fixture, r response) {
				l := decode[wireServerList](t, r, 200)
				// The pending instance took the server the terminated one freed.
				want := []string{DefaultServerID(10), DefaultServerID(11), DefaultServerID(12)}
				if l.Count != 3 || !slices.Equal(sortedCopy(l.ids()), sortedCopy(want)) {
					t.Errorf("ready servers %v (count %d), want %v", l.ids(), l.Count, want)
				}
			}},
		{name: "ListPhysicalServers/unknown manage_state", method: get, path: "/physicalservers?manage_state=broken", status: 400, code: invalid, msg: "manage_state"},
		{name: "ListPhysicalServers/limit not a number", method: get, path: "/physicalservers?limit=1.5", status: 400, code: invalid, msg: "limit"},
		{name: "ListPhysicalServers/unknown marker", method: get, path: "/physicalservers?marker={unknown}", status: 400, code: invalid, msg: "marker"},
		{name: "ShowPhysicalServer/stopped", method: get, path: "/physicalservers/{srvStopped}", status: 200,
			check: func(t *testing.T, f *fixture, r response) {
				s := decode[wireServer](t, r, 200)
				if s.ID != f.ids["srvStopped"] || s.ManageState != "in-use" || s.PowerState != "off" || s.ProjectID != DefaultProjectID {
					t.Errorf("server = %+v", s)
				}
			}},
		{name: "ShowPhysicalServer/powering off", method: get, path: "/physicalservers/{srvStopping}", status: 200,
			check: func(t *testing.T, f *fixture, r response) {
				if s := decode[wireServer](t, r, 200); s.PowerState != "powering-off" {
					t.Errorf("power_state = %s", s.PowerState)
				}
			}},
		{name: "ShowPhysicalServer/unknown", method: get, path: "/physicalservers/{unknown}", status: 404, code: noServer, msg: "{unknown}"},
	}...)

	// ChangePhysicalServerPowerState.
	powerBody := func(action string, servers ...string) string {
		return `{"action": "` + action + `", "server_id_set": ["{` + strings.Join(servers, `}", "{`) + `}"]}`
	}
	cases = append(cases, []conformanceCase{
		{name: "ChangePhysicalServerPowerState/power off", method: put, path: "/physicalservers/power-state", body: powerBody("power off", "srvRunning", "srvIdle", "srvStopped"), status: 202,
			check: func(t *testing.T, f *fixture, r response) {
				var out struct {
					Servers []struct {
						ID string `json:"id"`
					} `json:"physical_servers"`
				}
				if err := json.Unmarshal(r.Body, &out); err != nil || len(out.Servers) != 3 || out.Servers[0].ID != f.ids["srvRunning"] {
					t.Errorf("answer %s", r.Body)
				}
				f.clk.Advance(powerDur)
				f.c.with(t).wantState(f.ids["running"], "stopped", "install-succeed")
			}},
		{name: "ChangePhysicalServerPowerState/power on", method: put, path: "/physicalservers/power-state", body: powerBody("power on", "srvStopped"), status: 202,
			check: func(t *testing.T, f *fixture, r response) {
				f.clk.Advance(powerDur)
				f.c.with(t).wantState(f.ids["stopped"], "running", "install-succeed")
			}},
		{name: "ChangePhysicalServerPowerState/reboot", method: put, path: "/physicalservers/power-state", body: powerBody("rebooting", "srvRunning"), status: 202,
			check: func(t *testing.T, f *fixture, r response) {
				if s := f.c.with(t).server(f.ids["srvRunning"]); s.PowerState != "rebooting" {
					t.Errorf("power_state = %s", s.PowerState)
				}
			}},
		{name: "ChangePhysicalServerPowerState/missing action", method: put, path: "/physicalservers/power-state", body: `{"server_id_set": ["{srvIdle}"]}`, status: 400, code: missing, msg: "action"},
		{name: "ChangePhysicalServerPowerState/unknown action", method: put, path: "/physicalservers/power-state", body: powerBody("power cycle", "srvIdle"), status: 400, code: invalid, msg: "power cycle"},
		{name: "ChangePhysicalServerPowerState/missing server_id_set", method: put, path: "/physicalservers/power-state", body: `{"action": "power on"}`, status: 400, code: missing, msg: "server_id_set"},
		{name: "ChangePhysicalServerPowerState/empty server_id_set", method: put, path: "/physicalservers/power-state", body: `{"action": "power on", "server_id_set": []}`, status: 400, code: invalid, msg: "1 to 50"},
		{name: "ChangePhysicalServerPowerState/51 servers", method: put, path: "/physicalservers/power-state", body: `{"action": "power on", "server_id_set": ` + unknownIDs(51) + `}`, status: 400, code: invalid, msg: "got 51"},
		{name: "ChangePhysicalServerPowerState/unknown server", method: put, path: "/physicalservers/power-state", body: powerBody("power off", "srvIdle", "unknown"), status: 404, code: noServer, msg: "[{unknown}]"},
		{name: "ChangePhysicalServerPowerState/other action in progress", method: put, path: "/physicalservers/power-state", body: powerBody("power on", "srvStopping"), status: 400, code: state, msg: "powering-off"},
		{name: "ChangePhysicalServerPowerState/reboot when off", method: put, path: "/physicalservers/power-state", body: powerBody("rebooting", "srvStopped"), status: 400, code: state, msg: "power it on"},
	}...)
	for _, name := range []string{"pending", "deleting", "reinstalling", "modifying"} {
		srv := "srv" + strings.ToUpper(name[:1]) + name[1:]
		cases = append(cases, conformanceCase{name: "ChangePhysicalServerPowerState/instance " + name, method: put, path: "/physicalservers/power-state", body: powerBody("power off", "srvIdle", srv),
			status: 400, code: state, msg: "Instance {" + name + "} is in state"})
	}
	return cases
}

func TestConformance(t *testing.T) {
	t.Parallel()
	cases := conformanceCases()
	seen := map[string]bool{}
	for _, tc := range cases {
		if seen[tc.name] {
			t.Fatalf("two cases are named %q", tc.name)
		}
		seen[tc.name] = true
	}
	// Every endpoint has a successful row and an error row.
	for _, ep := range endpoints() {
		var ok, bad bool
		for _, tc := range cases {
			if strings.HasPrefix(tc.name, ep.op+"/") {
				ok = ok || tc.code == ""
				bad = bad || tc.code != ""
			}
		}
		if !ok || !bad {
			t.Errorf("%s: a successful row %v, an error row %v; want both", ep.op, ok, bad)
		}
	}

	shared := newFixture(t)
	snapshot := func() string {
		var pws []string
		for _, in := range shared.sim.Instances() {
			pw, _ := shared.sim.Password(in.ID)
			pws = append(pws, pw)
		}
		return jsonBody([]any{shared.sim.Instances(), shared.sim.Servers(), pws})
	}
	before := snapshot()
	t.Run("errors", func(t *testing.T) {
		for _, tc := range cases {
			if tc.setup != nil || tc.code == "" {
				continue
			}
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				tc.run(t, shared)
			})
		}
	})
	if after := snapshot(); after != before {
		t.Errorf("refused requests changed the simulator:\nbefore %s\nafter  %s", before, after)
	}
	t.Run("own fixture", func(t *testing.T) {
		for _, tc := range cases {
			if tc.setup == nil && tc.code != "" {
				continue
			}
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				f := newFixture(t)
				if tc.setup != nil {
					tc.setup(t, f)
				}
				tc.run(t, f)
			})
		}
	})
}
