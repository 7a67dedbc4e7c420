package simulator

import (
	"fmt"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"
)

// waitInstances waits (real time, bounded) until the simulator holds n
// instances, and returns them.
func waitInstances(t *testing.T, sim *TestServer, n int) []Instance {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		all := sim.Instances()
		if len(all) >= n {
			return all
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d instances after 10 s, want %d", len(all), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestFault_lateHeld: a create held with no answer: the client that gives
// up gets nothing (no status, no body), and the instance lands Late after
// the request arrived all the same.
func TestFault_lateHeld(t *testing.T) {
	t.Parallel()
	sim, _ := startSim(t, Options{})
	sim.InjectFault(Fault{Op: OpCreateInstance, Late: 1500 * time.Millisecond, Hold: time.Minute})
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, sim.URL+"/v1/"+sim.ProjectID()+"/instances",
		strings.NewReader(bodyWith(func(b map[string]any) { b["name"] = "held" })))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Auth-Token", sim.Token())
	client := &http.Client{Timeout: 100 * time.Millisecond}
	if resp, err := client.Do(req); err == nil {
		_ = resp.Body.Close()
		t.Fatalf("the held create was answered: %d", resp.StatusCode)
	}
	if n := len(sim.Instances()); n != 0 {
		t.Fatalf("%d instances when the client gave up; the create lands late", n)
	}
	if all := waitInstances(t, sim, 1); all[0].Name != "held" {
		t.Errorf("instances %+v, want the held one", all)
	}
}

// TestFault_lateHeldThenClosed: when Hold passes first, the connection is
// closed without an answer.
func TestFault_lateHeldThenClosed(t *testing.T) {
	t.Parallel()
	sim, _ := startSim(t, Options{})
	sim.InjectFault(Fault{Op: OpCreateInstance, Late: 200 * time.Millisecond, Hold: 50 * time.Millisecond})
	status, _, err, _ := send(t, sim, http.MethodPost, "/instances", bodyWith(nil))
	if err == nil || !connectionLost(err) {
		t.Fatalf("status %d, error %v; want the connection closed without an answer", status, err)
	}
	waitInstances(t, sim, 1)
}

// TestFault_replay: a create answered as usual, then carried out again with
// the same body: two instances with the same name and metadata, as a
// gateway's replay makes them.
func TestFault_replay(t *testing.T) {
	t.Parallel()
	sim, c := startSim(t, Options{Servers: 4, AdminToken: testAdminToken})
	// Long enough that the check right after the answer cannot miss it on a
	// busy machine.
	sim.InjectFault(Fault{Op: OpCreateInstance, Replay: 2 * time.Second})
	md := map[string]any{"terraform-provider-clouddc:create-token": "0123456789abcdef0123456789abcdef"}
	id := c.createWith(func(b map[string]any) { b["name"] = "twice"; b["metadata"] = md })
	if all := sim.Instances(); len(all) != 1 || all[0].ID != id {
		t.Fatalf("right after the answer: %+v, want just %s", all, id)
	}
	all := waitInstances(t, sim, 2)
	if len(all) != 2 || all[1].Name != "twice" || !maps.Equal(all[1].Metadata, map[string]string{"terraform-provider-clouddc:create-token": "0123456789abcdef0123456789abcdef"}) {
		t.Errorf("after the replay: %+v, want a second instance like the first", all)
	}
	c.adminOK(http.MethodPost, "/_simulator/faults", `{"op": "CreateInstance", "replay": "100ms"}`, http.StatusNoContent)
	c.create(bodyWith(nil))
	waitInstances(t, sim, 4)
}

// TestFault_listingFaultsMatchListingsOnly: a fault that alters a listing is
// skipped by other operations, which go on to the next queued fault in
// order.
func TestFault_listingFaultsMatchListingsOnly(t *testing.T) {
	t.Parallel()
	sim, c := startSim(t, Options{})
	id := c.create(bodyWith(nil))
	sim.InjectFault(Fault{HideItems: 1})
	sim.InjectFault(Fault{Status: http.StatusBadGateway})
	wantError(t, c.do(http.MethodGet, "/instances/"+id+"/status", ""), http.StatusBadGateway, "iMetal.0099")
	if l := c.list(""); len(l.Instances) != 0 || l.Count != 0 {
		t.Errorf("the listing fault was not applied to the listing: %v (count %d)", l.ids(), l.Count)
	}
	if q := sim.QueuedFaults(); len(q) != 0 {
		t.Errorf("faults left: %+v", q)
	}
}

// TestAdmin_refusesFaultCombinations: the admin API refuses a fault whose
// fields the simulator gives no meaning together.
func TestAdmin_refusesFaultCombinations(t *testing.T) {
	t.Parallel()
	_, c := startSim(t, Options{AdminToken: testAdminToken})
	for _, bad := range []string{
		`{"hold": "1s"}`,
		`{"late": "1s", "after": true}`,
		`{"late": "1s", "hold": "1s", "drop": true}`,
		`{"late": "1s", "hold": "1s", "status": 504}`,
		`{"replay": "1s", "status": 500}`,
		`{"replay": "1s", "after": true}`,
		`{"replay": "1s", "lose_items": 1}`,
		`{"replay": "-1s"}`,
		`{"hide_items": -1}`,
		`{"op": "ShowInstanceStatus", "hide_items": 1}`,
		`{"ignore_filter": true, "after": true}`,
		`{"ignore_filter": true, "body": "{}"}`,
		`{"hide_items": 1, "status": 503}`,
	} {
		r := c.admin(http.MethodPost, "/_simulator/faults", bad)
		if r.Status != http.StatusBadRequest {
			t.Errorf("%s: %d %s, want 400", bad, r.Status, r.Body)
		}
	}
	for _, good := range []string{
		`{"op": "CreateInstance", "late": "1s", "hold": "1m"}`,
		`{"op": "CreateInstance", "replay": "2s"}`,
		`{"op": "ListInstances", "ignore_filter": true, "hide_items": 2}`,
		fmt.Sprintf(`{"hide_items": 1, "status": %d}`, http.StatusOK),
	} {
		c.adminOK(http.MethodPost, "/_simulator/faults", good, http.StatusNoContent)
	}
}
