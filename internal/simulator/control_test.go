package simulator

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

func TestSimulator_requestCount(t *testing.T) {
	t.Parallel()
	sim, c := startSim(t, Options{})
	for _, op := range []string{OpCreateInstance, OpListInstances, OpShowInstanceStatus, OpDeleteInstance} {
		if n := sim.RequestCount(op); n != 0 {
			t.Errorf("RequestCount(%s) = %d on a new simulator", op, n)
		}
	}
	id := c.create(bodyWith(nil))
	c.do(http.MethodPost, "/instances", "{") // refused requests count too
	c.list("")
	c.list("instance_id=" + id)
	c.raw(http.MethodGet, "/v1/"+DefaultProjectID+"/instances", "", "") // 401
	c.do(http.MethodGet, "/instances?limit=x", "")                      // 400
	c.status(id)
	c.do(http.MethodGet, "/instances/"+unknownID+"/status", "")
	c.delete(id)
	c.raw(http.MethodGet, "/v2/unknown", DefaultToken, "") // no operation

	want := map[string]int{
		OpCreateInstance:     2,
		OpListInstances:      4,
		OpShowInstanceStatus: 2,
		OpDeleteInstance:     1,
	}
	for op, n := range want {
		if got := sim.RequestCount(op); got != n {
			t.Errorf("RequestCount(%s) = %d, want %d", op, got, n)
		}
	}
	if got := sim.RequestCounts(); !maps.Equal(got, want) {
		t.Errorf("RequestCounts() = %v, want %v", got, want)
	}
	// The returned map is a copy.
	sim.RequestCounts()[OpCreateInstance] = 100
	if got := sim.RequestCount(OpCreateInstance); got != 2 {
		t.Errorf("changing the RequestCounts map changed the count to %d", got)
	}
	if got := sim.RequestCount("NoSuchOperation"); got != 0 {
		t.Errorf("RequestCount(unknown) = %d", got)
	}
}

func TestSimulator_updateInstance(t *testing.T) {
	t.Parallel()
	sim, c, clk := lifecycleSim(t, 0)
	id := c.createWith(func(b map[string]any) {
		b["metadata"] = map[string]any{"env": "prod"}
		b["description"] = "before"
	})
	other := c.create(bodyWith(nil))
	clk.Advance(createDur)

	const newID = "f0000000-0000-4000-8000-000000000001"
	err := sim.UpdateInstance(id, func(in *Instance) {
		in.ID = newID // must be ignored
		in.Name = "renamed-in-console"
		in.Description = "after"
		in.Metadata["env"] = "staging"
		in.Metadata["owner"] = "ops"
	})
	if err != nil {
		t.Fatalf("UpdateInstance: %v", err)
	}
	in := c.get(id)
	if in.Name != "renamed-in-console" || in.Description != "after" ||
		!maps.Equal(in.Metadata, map[string]string{"env": "staging", "owner": "ops"}) {
		t.Errorf("after the drift: name %q description %q metadata %v", in.Name, in.Description, in.Metadata)
	}
	if in.State != "running" || in.OperationState != "install-succeed" {
		t.Errorf("the drift changed the state to %s/%s", in.State, in.OperationState)
	}
	if l := c.list("instance_id=" + newID); l.Count != 0 {
		t.Errorf("the instance can be found by the ID the change tried to give it")
	}
	if _, ok := sim.Instance(newID); ok {
		t.Errorf("Instance(%s) found the instance under its new ID", newID)
	}
	if o := c.get(other); o.Name != "web-01" || o.Description != "" {
		t.Errorf("another instance changed: %q %q", o.Name, o.Description)
	}
	if n := len(sim.History(id)); n != 2 {
		t.Errorf("a change without a state change added history: %d entries", n)
	}

	// A state change made out of band is recorded with its time.
	at := clk.Advance(time.Second)
	if err := sim.UpdateInstance(id, func(in *Instance) { in.State = "stopped" }); err != nil {
		t.Fatal(err)
	}
	c.wantState(id, "stopped", "install-succeed")
	h := sim.History(id)
	if last := h[len(h)-1]; last.State != "stopped" || !last.At.Equal(at) {
		t.Errorf("last history entry %+v, want stopped at %v", last, at)
	}
	if in := c.get(id); in.UpdatedAt != rfc3339(at) {
		t.Errorf("updated_at = %s, want %s", in.UpdatedAt, rfc3339(at))
	}
	// A stopped instance can be deleted.
	c.delete(id)
	c.wantState(id, "shutting-down", "uninstall-processing")

	if err := sim.UpdateInstance(unknownID, func(*Instance) { t.Error("change called for an unknown instance") }); err == nil {
		t.Errorf("UpdateInstance(unknown) = nil, want an error")
	}
}

// TestSimulator_goAPIReturnsCopies: what the Go API returns cannot change
// the simulator behind its back.
func TestSimulator_goAPIReturnsCopies(t *testing.T) {
	t.Parallel()
	sim, c := startSim(t, Options{})
	id := c.createWith(func(b map[string]any) { b["metadata"] = map[string]any{"env": "prod"} })
	in, _ := sim.Instance(id)
	in.Metadata["env"] = "hacked"
	in.NetworkInterfaces[0].IPv4Address = "10.0.0.1"
	all := sim.Instances()
	all[0].Name = "hacked"
	sim.Servers()[0].InstanceID = "hacked"
	sim.History(id)[0].State = "hacked"

	got := c.get(id)
	if got.Metadata["env"] != "prod" || got.NetworkInterfaces[0].IPv4Address != "192.168.0.2" || got.Name != "web-01" {
		t.Errorf("changing returned values changed the instance: %+v", got)
	}
	if sim.Servers()[0].InstanceID != id || sim.History(id)[0].State != "pending" {
		t.Errorf("changing returned values changed servers or history")
	}
	// Nor can an UpdateInstance change that keeps a reference.
	var kept map[string]string
	_ = sim.UpdateInstance(id, func(in *Instance) { kept = in.Metadata })
	kept["env"] = "late"
	if got := c.get(id).Metadata["env"]; got != "prod" {
		t.Errorf("a map kept from UpdateInstance changed the instance: env=%s", got)
	}
}

func TestSimulator_instancesInCreationOrder(t *testing.T) {
	t.Parallel()
	sim, c := startSim(t, Options{Servers: 15})
	ids := createN(c, 15)
	var got []string
	for _, in := range sim.Instances() {
		got = append(got, in.ID)
	}
	if !slices.Equal(got, ids) {
		t.Errorf("Instances() = %v, want creation order %v", got, ids)
	}
}

func TestSimulator_removeInstance(t *testing.T) {
	t.Parallel()
	sim, c, _ := lifecycleSim(t, 1)
	server := sim.Servers()[0].ID
	id := c.createWith(func(b map[string]any) { b["network_interfaces"] = nics(DefaultSubnetID, "192.168.0.10") })
	c.wantState(id, "pending", "install-processing")

	if err := sim.RemoveInstance(id); err != nil {
		t.Fatalf("RemoveInstance: %v", err)
	}
	// At once, with no time passing: gone from every view.
	wantError(t, c.do(http.MethodGet, "/instances/"+id+"/status", ""), http.StatusNotFound, "iMetal.0200")
	wantError(t, c.do(http.MethodDelete, "/instances/"+id, ""), http.StatusNotFound, "iMetal.0200")
	if l := c.list(""); l.Count != 0 || len(l.Instances) != 0 {
		t.Errorf("list after RemoveInstance: %v", l.ids())
	}
	if _, ok := sim.Instance(id); ok {
		t.Errorf("Instance() still finds it")
	}
	if !sim.Servers()[0].Ready() {
		t.Errorf("the server is not ready after RemoveInstance")
	}
	// Its server and its address can be used again.
	id2 := c.createWith(func(b map[string]any) {
		b["network_interfaces"] = nics(DefaultSubnetID, "192.168.0.10")
		b["placement"] = map[string]any{"server_id": server}
	})
	if in := c.get(id2); in.ServerID != server || in.NetworkInterfaces[0].IPv4Address != "192.168.0.10" {
		t.Errorf("new instance on %s with %s", in.ServerID, in.NetworkInterfaces[0].IPv4Address)
	}
	if err := sim.RemoveInstance(id); err == nil {
		t.Errorf("RemoveInstance of a removed instance = nil, want an error")
	}
	if err := sim.RemoveInstance(unknownID); err == nil {
		t.Errorf("RemoveInstance(unknown) = nil, want an error")
	}
}

func TestSimulator_outOfBandDelete(t *testing.T) {
	t.Parallel()
	sim, c, clk := lifecycleSim(t, 0)
	id := c.create(bodyWith(nil))
	clk.Advance(createDur)
	if err := sim.DeleteInstance(id); err != nil {
		t.Fatalf("DeleteInstance: %v", err)
	}
	c.wantState(id, "shutting-down", "uninstall-processing")
	if err := sim.DeleteInstance(id); err != nil {
		t.Errorf("DeleteInstance while shutting down = %v, want nil", err)
	}
	clk.Advance(deleteDur)
	c.wantState(id, "terminated", "uninstall-succeed")
	if got := len(readyServers(sim)); got != 10 {
		t.Errorf("%d ready servers, want 10", got)
	}
	if err := sim.DeleteInstance(id); err == nil {
		t.Errorf("DeleteInstance of a terminated instance = nil, want an error")
	}
	if err := sim.DeleteInstance(unknownID); err == nil {
		t.Errorf("DeleteInstance(unknown) = nil, want an error")
	}
	// An out-of-band deletion takes the next queued failure like any other.
	id2 := c.create(bodyWith(nil))
	sim.FailNextDelete("iMetal.0099", "stuck")
	if err := sim.DeleteInstance(id2); err != nil {
		t.Fatal(err)
	}
	clk.Advance(deleteDur)
	if st := c.wantState(id2, "error", "uninstall-failed"); st.Error == nil || st.Error.Type != "delete_instance_error" {
		t.Errorf("error = %+v", st.Error)
	}
}

// TestSimulator_concurrency runs creations, listings, status reads and
// deletions at once; run with -race.
func TestSimulator_concurrency(t *testing.T) {
	t.Parallel()
	const workers = 20
	sim, c := startSim(t, Options{Servers: workers, CreateDuration: time.Millisecond, DeleteDuration: time.Millisecond})
	var wg sync.WaitGroup
	created := make(chan string, workers)
	for w := range workers {
		wg.Go(func() {
			r := c.do(http.MethodPost, "/instances", bodyWith(func(b map[string]any) { b["name"] = "vm-" + strconv.Itoa(w) }))
			if r.Status != http.StatusOK {
				t.Errorf("create: %d %s", r.Status, r.Body)
				return
			}
			var out struct {
				ID string `json:"instance_id"`
			}
			if err := json.Unmarshal(r.Body, &out); err != nil {
				t.Errorf("create answer %s: %v", r.Body, err)
				return
			}
			id := out.ID
			created <- id
			for range 3 {
				if r := c.do(http.MethodGet, "/instances?limit=100", ""); r.Status != http.StatusOK {
					t.Errorf("list: %d %s", r.Status, r.Body)
				}
				if r := c.do(http.MethodGet, "/instances/"+id+"/status", ""); r.Status != http.StatusOK {
					t.Errorf("status of %s: %d %s", id, r.Status, r.Body)
				}
				_ = sim.Instances()
				_ = sim.Servers()
			}
			if r := c.do(http.MethodDelete, "/instances/"+id, ""); r.Status != http.StatusNoContent {
				t.Errorf("delete %s: %d %s", id, r.Status, r.Body)
			}
		})
	}
	wg.Wait()
	close(created)
	seen := map[string]bool{}
	for id := range created {
		if !contractUUID.MatchString(id) || seen[id] {
			t.Errorf("bad or duplicate instance ID %q", id)
		}
		seen[id] = true
	}
	if len(seen) != workers {
		t.Fatalf("%d instances created, want %d", len(seen), workers)
	}
	if got := sim.RequestCount(OpCreateInstance); got != workers {
		t.Errorf("RequestCount(create) = %d, want %d", got, workers)
	}
	// Every instance ends terminated and gone (retention 0); every server
	// ends ready.
	deadline := time.Now().Add(5 * time.Second)
	for len(sim.Instances()) > 0 || len(readyServers(sim)) != workers {
		if time.Now().After(deadline) {
			t.Fatalf("after the deletions: %d instances left, %d ready servers", len(sim.Instances()), len(readyServers(sim)))
		}
		time.Sleep(5 * time.Millisecond)
	}
}
