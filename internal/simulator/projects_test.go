package simulator

import (
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

const (
	secondProject = "5b6c7d8e9f00112233445566778899aa"
	secondToken   = "second-project-token"
)

// TestProjects_ownServersAndIAMName: a project of AddProject has its own
// servers, which no other project sees, lists or installs on, and IAM finds
// it by its name with its own token, also when another project has that
// name.
func TestProjects_ownServersAndIAMName(t *testing.T) {
	t.Parallel()
	sim, a := startSim(t, Options{Servers: 2, AdminToken: testAdminToken})
	if err := sim.AddProject(secondProject, DefaultRegion, secondToken); err != nil {
		t.Fatal(err)
	}
	b := &apiClient{t: t, base: sim.URL, project: secondProject, token: secondToken}
	aServers, bServers := a.servers("").ids(), b.servers("").ids()
	if len(aServers) != 2 || len(bServers) != 2 {
		t.Fatalf("project A lists servers %v, B %v; want two each", aServers, bServers)
	}
	for _, id := range bServers {
		if slices.Contains(aServers, id) {
			t.Fatalf("server %s is listed by both projects", id)
		}
		if srv := b.server(id); srv.ProjectID != secondProject {
			t.Errorf("server %s reports project %q, want %s", id, srv.ProjectID, secondProject)
		}
		wantError(t, a.do(http.MethodGet, "/physicalservers/"+id, ""), http.StatusNotFound, "iMetal.0100")
		wantError(t, a.do(http.MethodPut, "/physicalservers/power-state",
			jsonBody(map[string]any{"action": ActionPowerOff, "server_id_set": []string{id}})), http.StatusNotFound, "iMetal.0100")
		wantError(t, a.do(http.MethodPost, "/instances", bodyWith(func(m map[string]any) {
			m["placement"] = map[string]any{"server_id": id}
		})), http.StatusNotFound, "iMetal.0100")
	}
	id := b.create(bodyWith(nil))
	if in, _ := sim.Instance(id); !slices.Contains(bServers, in.ServerID) {
		t.Errorf("B's instance landed on %s, not on one of B's servers %v", in.ServerID, bServers)
	}
	// Two creates fill A's servers; a third finds none of B's.
	a.create(bodyWith(nil))
	a.create(bodyWith(nil))
	wantError(t, a.do(http.MethodPost, "/instances", bodyWith(nil)), http.StatusBadRequest, "iMetal.0101")

	for _, tc := range []struct{ token, want string }{{DefaultToken, DefaultProjectID}, {secondToken, secondProject}} {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, sim.URL+"/v3/projects?name="+DefaultRegion, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Auth-Token", tc.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, err := readBody(resp)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(body), `"id":"`+tc.want+`"`) || strings.Count(string(body), `"id"`) != 1 {
			t.Errorf("IAM lookup of %s with %s's token: %s; want project %s only", DefaultRegion, tc.want, body, tc.want)
		}
	}

	for _, bad := range []struct{ id, name, token string }{
		{secondProject, "again", "another-token"},
		{"not-hex", "x", "x-token"},
		{"6b6c7d8e9f00112233445566778899aa", "", "t"},
		{"6b6c7d8e9f00112233445566778899aa", "x", ""},
		{"6b6c7d8e9f00112233445566778899aa", "x", secondToken},
	} {
		if err := sim.AddProject(bad.id, bad.name, bad.token); err == nil {
			t.Errorf("AddProject(%q, %q, %q) succeeded", bad.id, bad.name, bad.token)
		}
	}
	r := a.adminOK(http.MethodPost, "/_simulator/projects", `{"project_id": "6b6c7d8e9f00112233445566778899aa", "name": "cn-south-1", "token": "third"}`, http.StatusCreated)
	if strings.Count(string(r.Body), "a0000000-") != 2 {
		t.Errorf("POST /projects answered %s, want the project's two servers", r.Body)
	}
	wantError(t, a.admin(http.MethodPost, "/_simulator/projects", `{"project_id": "6b6c7d8e9f00112233445566778899aa", "name": "x", "token": "fourth"}`),
		http.StatusBadRequest, "SIM.0400")
	if got := sim.Projects(); len(got) != 3 || got["6b6c7d8e9f00112233445566778899aa"] != "cn-south-1" {
		t.Errorf("Projects() = %v", got)
	}
}

// TestTokens_instancesOnly: a token whose policy grants the instance
// permissions only gets 403 iMetal.0004 naming the missing permission from
// every physical-server endpoint, and every instance endpoint works.
func TestTokens_instancesOnly(t *testing.T) {
	t.Parallel()
	sim, full := startSim(t, Options{Servers: 2, AdminToken: testAdminToken})
	if err := sim.AddToken("narrow", DefaultProjectID, TokenScope{InstancesOnly: true}); err != nil {
		t.Fatal(err)
	}
	narrow := &apiClient{t: t, base: sim.URL, project: DefaultProjectID, token: "narrow"}
	srv := full.servers("").ids()[0]
	for _, tc := range []struct{ method, path, body, perm string }{
		{http.MethodGet, "/physicalservers", "", "clouddc:imetal:list"},
		{http.MethodGet, "/physicalservers/" + srv, "", "clouddc:imetal:get"},
		{http.MethodPut, "/physicalservers/power-state", jsonBody(map[string]any{"action": ActionPowerOff, "server_id_set": []string{srv}}), "clouddc:imetal:updatePowerStatus"},
	} {
		e := wantError(t, narrow.do(tc.method, tc.path, tc.body), http.StatusForbidden, "iMetal.0004")
		if !strings.Contains(e.Msg, tc.perm) {
			t.Errorf("%s %s: error_msg %q does not name %s", tc.method, tc.path, e.Msg, tc.perm)
		}
	}
	if s := full.server(srv); s.PowerState != PowerOn {
		t.Errorf("the refused power-off changed the server: %s", s.PowerState)
	}
	id := narrow.create(bodyWith(nil))
	narrow.get(id)
	narrow.status(id)
	narrow.delete(id)

	// From the admin API; a project it does not know is refused.
	full.adminOK(http.MethodPost, "/_simulator/tokens", `{"token": "narrow-2", "instances_only": true}`, http.StatusNoContent)
	narrow2 := &apiClient{t: t, base: sim.URL, project: DefaultProjectID, token: "narrow-2"}
	wantError(t, narrow2.do(http.MethodGet, "/physicalservers", ""), http.StatusForbidden, "iMetal.0004")
	narrow2.list("")
	wantError(t, full.admin(http.MethodPost, "/_simulator/tokens", `{"token": "x", "project_id": "ffffffffffffffffffffffffffffffff"}`), http.StatusBadRequest, "SIM.0400")
	wantError(t, full.admin(http.MethodPost, "/_simulator/tokens", `{"token": ""}`), http.StatusBadRequest, "SIM.0400")
	// Widened again: the same token with the full scope.
	if err := sim.AddToken("narrow", DefaultProjectID, TokenScope{}); err != nil {
		t.Fatal(err)
	}
	narrow.servers("")
}

// TestAKSK_instancesOnly: an access key's policy narrows it as a token's
// does.
func TestAKSK_instancesOnly(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	sim := StartTest(t, Options{Now: clock.Now, AccessKeys: map[string]AccessKey{
		testAK: {Secret: testSK, Scope: TokenScope{InstancesOnly: true}},
	}})
	path := "/v1/" + DefaultProjectID + "/physicalservers"
	r := sendSigned(t, testSign(t, sim.URL, signedReq{method: http.MethodGet, path: path, ak: testAK, sk: testSK, date: clock.Now()}))
	wantError(t, r, http.StatusForbidden, "iMetal.0004")
	path = "/v1/" + DefaultProjectID + "/instances"
	if r := sendSigned(t, testSign(t, sim.URL, signedReq{method: http.MethodGet, path: path, ak: testAK, sk: testSK, date: clock.Now()})); r.Status != http.StatusOK {
		t.Errorf("ListInstances with the narrow key: %d %s", r.Status, r.Body)
	}
}

// TestPersist_projectsAndScopes: projects, their servers and instances,
// and token scopes survive a restart.
func TestPersist_projectsAndScopes(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	opts := Options{StateFile: filepath.Join(t.TempDir(), "state.json"), Now: clk.Now, Servers: 1, CreateDuration: time.Second}
	sim, _ := startSim(t, opts)
	if err := sim.AddProject(secondProject, "cn-south-1", secondToken); err != nil {
		t.Fatal(err)
	}
	if err := sim.AddToken("narrow", secondProject, TokenScope{InstancesOnly: true}); err != nil {
		t.Fatal(err)
	}
	b := &apiClient{t: t, base: sim.URL, project: secondProject, token: secondToken}
	id := b.create(bodyWith(nil))
	bServers := b.servers("").ids()

	sim2, _ := restart(t, sim, opts)
	b = &apiClient{t: t, base: sim2.URL, project: secondProject, token: secondToken}
	if got := b.servers("").ids(); !slices.Equal(got, bServers) {
		t.Errorf("after a restart B lists servers %v, want %v", got, bServers)
	}
	b.get(id)
	narrow := &apiClient{t: t, base: sim2.URL, project: secondProject, token: "narrow"}
	wantError(t, narrow.do(http.MethodGet, "/physicalservers", ""), http.StatusForbidden, "iMetal.0004")
	if got := sim2.Projects()[secondProject]; got != "cn-south-1" {
		t.Errorf("after a restart project B is named %q", got)
	}
}
