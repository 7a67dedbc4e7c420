package simulator

import (
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestNew_rejectsInvalidOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"negative servers", Options{Servers: -1}, "servers"},
		{"negative create duration", Options{CreateDuration: -time.Second}, "durations"},
		{"negative delete duration", Options{DeleteDuration: -time.Second}, "durations"},
		{"negative retention", Options{Retention: -time.Second}, "durations"},
		{"image ID not a UUID", Options{Images: []ImageSpec{{ID: "ubuntu", Name: "Ubuntu", OSType: "Linux"}}}, "ubuntu"},
		{"image ID upper case", Options{Images: []ImageSpec{{ID: strings.ToUpper(DefaultImageID), OSType: "Linux"}}}, "UUID"},
		{"subnet ID not a UUID", Options{Subnets: []SubnetSpec{{ID: "net", VPCID: DefaultVPCID, CIDR: netip.MustParsePrefix("10.0.0.0/24")}}}, "net"},
		{"subnet VPC not a UUID", Options{Subnets: []SubnetSpec{{ID: DefaultSubnetID, VPCID: "vpc", CIDR: netip.MustParsePrefix("10.0.0.0/24")}}}, DefaultSubnetID},
		{"subnet too small", Options{Subnets: []SubnetSpec{{ID: DefaultSubnetID, VPCID: DefaultVPCID, CIDR: netip.MustParsePrefix("10.0.0.0/30")}}}, "/29"},
		{"subnet IPv6", Options{Subnets: []SubnetSpec{{ID: DefaultSubnetID, VPCID: DefaultVPCID, CIDR: netip.MustParsePrefix("fd00::/64")}}}, "IPv4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sim, err := New(tt.opts)
			if err == nil {
				t.Fatalf("New(%+v) = %v, nil; want an error", tt.opts, sim)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New error %q does not mention %q", err, tt.want)
			}
		})
	}
}

func TestNew_defaults(t *testing.T) {
	t.Parallel()
	sim, err := New(Options{})
	if err != nil {
		t.Fatalf("New(Options{}): %v", err)
	}
	if sim.ProjectID() != DefaultProjectID || sim.Token() != DefaultToken {
		t.Errorf("project/token = %q/%q, want %q/%q", sim.ProjectID(), sim.Token(), DefaultProjectID, DefaultToken)
	}
	servers := sim.Servers()
	if len(servers) != 10 {
		t.Fatalf("%d servers, want 10", len(servers))
	}
	seen := map[string]bool{}
	for _, s := range servers {
		if !contractUUID.MatchString(s.ID) || seen[s.ID] || !s.Ready() || s.Name == "" {
			t.Errorf("server %+v: want a unique lower-case UUID, a name, and ready", s)
		}
		seen[s.ID] = true
	}
	if n := len(sim.Instances()); n != 0 {
		t.Errorf("a new simulator has %d instances", n)
	}
	// The default catalogue is usable as documented: the well-known IDs work.
	_, c := startSim(t, Options{})
	for _, image := range []string{DefaultImageID, DefaultImageID2, DefaultWindowsImage} {
		id := c.createWith(func(b map[string]any) {
			b["image_id"] = image
			b["network_interfaces"] = nics(DefaultSubnetID, "", DefaultSubnetID2, "")
		})
		if got := c.get(id).Image["id"]; got != image {
			t.Errorf("image id = %q, want %q", got, image)
		}
	}
}

func TestSimulator_auth(t *testing.T) {
	t.Parallel()
	const otherProject = "ffffffffffffffffffffffffffffffff"
	sim, c := startSim(t, Options{})
	if err := sim.AddProject(otherProject, "other-region", "other-token"); err != nil {
		t.Fatal(err)
	}
	id := c.create(bodyWith(nil))

	ops := []struct {
		name, method, path, body string
	}{
		{"CreateInstance", http.MethodPost, "/instances", bodyWith(nil)},
		{"ListInstances", http.MethodGet, "/instances", ""},
		{"ShowInstanceStatus", http.MethodGet, "/instances/" + id + "/status", ""},
		{"DeleteInstance", http.MethodDelete, "/instances/" + id, ""},
		{"ShowInstanceStatus of an unknown instance", http.MethodGet, "/instances/" + unknownID + "/status", ""},
	}
	creds := []struct {
		name, project, token string
		status               int
		code                 string
	}{
		{"missing token", DefaultProjectID, "", http.StatusUnauthorized, "iMetal.0003"},
		{"wrong token", DefaultProjectID, "not-a-token", http.StatusUnauthorized, "iMetal.0003"},
		{"token differs in case", DefaultProjectID, strings.ToUpper(DefaultToken), http.StatusUnauthorized, "iMetal.0003"},
		{"token of another project", DefaultProjectID, "other-token", http.StatusForbidden, "iMetal.0004"},
		{"default token on another project", otherProject, DefaultToken, http.StatusForbidden, "iMetal.0004"},
	}
	t.Run("refused", func(t *testing.T) {
		for _, op := range ops {
			for _, cr := range creds {
				t.Run(op.name+"/"+cr.name, func(t *testing.T) {
					t.Parallel()
					r := c.with(t).raw(op.method, "/v1/"+cr.project+op.path, cr.token, op.body)
					e := wantError(t, r, cr.status, cr.code)
					if cr.status == http.StatusForbidden && !strings.Contains(e.Msg, cr.project) {
						t.Errorf("error_msg %q does not name the project %s", e.Msg, cr.project)
					}
					if r.Header.Get("X-Request-Id") == "" {
						t.Error("no X-Request-Id header")
					}
				})
			}
		}
	})
	// The refused requests created and deleted nothing.
	if n := len(sim.Instances()); n != 1 {
		t.Errorf("%d instances after refused requests, want 1", n)
	}
	c.wantState(id, "running", "install-succeed")

	t.Run("other token on its own project", func(t *testing.T) {
		t.Parallel()
		other := &apiClient{t: t, base: sim.URL, project: otherProject, token: "other-token"}
		l := other.list("")
		if l.Count != 0 || len(l.Instances) != 0 {
			t.Errorf("the other project sees %d instances (count %d), want none of this project's", len(l.Instances), l.Count)
		}
	})
}

// TestSimulator_authDoesNotLeak checks that refused requests create nothing,
// delete nothing, and that projects are isolated.
func TestSimulator_authDoesNotLeak(t *testing.T) {
	t.Parallel()
	sim, c := startSim(t, Options{Servers: 1})
	id := c.create(bodyWith(nil))
	wantError(t, c.raw(http.MethodPost, "/v1/"+DefaultProjectID+"/instances", "", bodyWith(nil)), http.StatusUnauthorized, "iMetal.0003")
	wantError(t, c.raw(http.MethodDelete, "/v1/"+DefaultProjectID+"/instances/"+id, "bad", ""), http.StatusUnauthorized, "iMetal.0003")
	if got := sim.Instances(); len(got) != 1 || got[0].ID != id || got[0].State == "shutting-down" {
		t.Errorf("after refused requests: %+v, want only %s, not deleting", got, id)
	}
	// An empty token cannot be registered, and a request without one is
	// not authenticated.
	if err := sim.AddToken("", DefaultProjectID, TokenScope{}); err == nil {
		t.Error("AddToken took an empty token")
	}
	wantError(t, c.raw(http.MethodGet, "/v1/"+DefaultProjectID+"/instances", "", ""), http.StatusUnauthorized, "iMetal.0003")
}

func TestSimulator_requestID(t *testing.T) {
	t.Parallel()
	_, c := startSim(t, Options{})
	id := c.create(bodyWith(nil))
	requests := []struct {
		name, method, path, token, body string
		status                          int
	}{
		{"create", http.MethodPost, "/v1/" + DefaultProjectID + "/instances", DefaultToken, bodyWith(nil), 200},
		{"create invalid", http.MethodPost, "/v1/" + DefaultProjectID + "/instances", DefaultToken, "{", 400},
		{"list", http.MethodGet, "/v1/" + DefaultProjectID + "/instances", DefaultToken, "", 200},
		{"status", http.MethodGet, "/v1/" + DefaultProjectID + "/instances/" + id + "/status", DefaultToken, "", 200},
		{"status unknown", http.MethodGet, "/v1/" + DefaultProjectID + "/instances/" + unknownID + "/status", DefaultToken, "", 404},
		{"delete", http.MethodDelete, "/v1/" + DefaultProjectID + "/instances/" + id, DefaultToken, "", 204},
		{"unauthenticated", http.MethodGet, "/v1/" + DefaultProjectID + "/instances", "", "", 401},
		{"forbidden", http.MethodGet, "/v1/ffffffffffffffffffffffffffffffff/instances", DefaultToken, "", 403},
		{"unknown path", http.MethodGet, "/v2/nothing", DefaultToken, "", 404},
	}
	seen := map[string]string{}
	for _, rq := range requests {
		r := c.raw(rq.method, rq.path, rq.token, rq.body)
		if r.Status != rq.status {
			t.Errorf("%s: status %d, want %d; body %s", rq.name, r.Status, rq.status, r.Body)
		}
		rid := r.Header.Get("X-Request-Id")
		if rid == "" {
			t.Errorf("%s: no X-Request-Id header", rq.name)
			continue
		}
		if prev, dup := seen[rid]; dup {
			t.Errorf("%s: X-Request-Id %s was already used by %s", rq.name, rid, prev)
		}
		seen[rid] = rq.name
	}
}

func TestSimulator_unknownInstance(t *testing.T) {
	t.Parallel()
	_, c := startSim(t, Options{})
	c.create(bodyWith(nil)) // another instance must not be found in its place
	for _, id := range []string{unknownID, "not-a-uuid"} {
		t.Run("status "+id, func(t *testing.T) {
			t.Parallel()
			e := wantError(t, c.with(t).do(http.MethodGet, "/instances/"+id+"/status", ""), http.StatusNotFound, "iMetal.0200")
			if !strings.Contains(e.Msg, id) {
				t.Errorf("error_msg %q does not name %s", e.Msg, id)
			}
		})
		t.Run("delete "+id, func(t *testing.T) {
			t.Parallel()
			e := wantError(t, c.with(t).do(http.MethodDelete, "/instances/"+id, ""), http.StatusNotFound, "iMetal.0200")
			if !strings.Contains(e.Msg, id) {
				t.Errorf("error_msg %q does not name %s", e.Msg, id)
			}
		})
	}
}

func TestSimulator_unknownPath(t *testing.T) {
	t.Parallel()
	_, c := startSim(t, Options{})
	id := c.create(bodyWith(nil))
	p := "/v1/" + DefaultProjectID
	tests := []struct{ method, path string }{
		{http.MethodGet, "/"},
		{http.MethodGet, "/v2/" + DefaultProjectID + "/instances"},
		{http.MethodGet, p + "/servers"},
		// There is no GET-one-instance endpoint.
		{http.MethodGet, p + "/instances/" + id},
		{http.MethodGet, p + "/instances/" + id + "/status/extra"},
		{http.MethodPut, p + "/instances"},
		{http.MethodPatch, p + "/instances/" + id},
		{http.MethodPost, p + "/instances/" + id + "/status"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			t.Parallel()
			wantError(t, c.with(t).raw(tt.method, tt.path, DefaultToken, ""), http.StatusNotFound, "APIGW.0101")
		})
	}
}

// TestSimulator_projectIsolation: a token added for another project works on
// that project's path, and the two projects do not see each other's
// instances.
func TestSimulator_projectIsolation(t *testing.T) {
	t.Parallel()
	const otherProject = "ffffffffffffffffffffffffffffffff"
	sim, c := startSim(t, Options{Retention: time.Hour})
	if err := sim.AddProject(otherProject, "other-region", "other-token"); err != nil {
		t.Fatal(err)
	}
	other := &apiClient{t: t, base: sim.URL, project: otherProject, token: "other-token"}

	mine := c.create(bodyWith(nil))
	theirs := other.create(bodyWith(func(b map[string]any) { b["name"] = "theirs" }))

	if l := c.list(""); l.Count != 1 || len(l.ids()) != 1 || l.ids()[0] != mine {
		t.Errorf("this project lists %v (count %d), want only %s", l.ids(), l.Count, mine)
	}
	if l := other.list(""); l.Count != 1 || len(l.ids()) != 1 || l.ids()[0] != theirs {
		t.Errorf("the other project lists %v (count %d), want only %s", l.ids(), l.Count, theirs)
	}
	if l := other.list("instance_id=" + mine + "," + theirs); len(l.ids()) != 1 || l.ids()[0] != theirs {
		t.Errorf("instance_id filter across projects gave %v, want only %s", l.ids(), theirs)
	}
	wantError(t, other.do(http.MethodGet, "/instances/"+mine+"/status", ""), http.StatusNotFound, "iMetal.0200")
	wantError(t, other.do(http.MethodDelete, "/instances/"+mine, ""), http.StatusNotFound, "iMetal.0200")
	c.wantState(mine, "running", "install-succeed")
	other.delete(theirs)
	other.wantState(theirs, "terminated", "uninstall-succeed")
}
