package simulator

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
)

const (
	createDur = 10 * time.Second
	deleteDur = 20 * time.Second
	retention = time.Minute
)

// lifecycleSim is a simulator on a fake clock with distinct durations, so
// that each transition can be reached exactly.
func lifecycleSim(t *testing.T, servers int) (*TestServer, *apiClient, *fakeClock) {
	t.Helper()
	clk := newFakeClock()
	sim, c := startSim(t, Options{
		Now: clk.Now, Servers: servers,
		CreateDuration: createDur, DeleteDuration: deleteDur, Retention: retention,
	})
	return sim, c, clk
}

func serverOf(sim *TestServer, id string) string {
	in, _ := sim.Instance(id)
	return in.ServerID
}

func readyServers(sim *TestServer) []string {
	var out []string
	for _, s := range sim.Servers() {
		if s.Ready() {
			out = append(out, s.ID)
		}
	}
	return out
}

func TestSimulator_placement(t *testing.T) {
	t.Parallel()
	sim, c, clk := lifecycleSim(t, 2)
	servers := sim.Servers()
	if len(servers) != 2 {
		t.Fatalf("%d servers, want 2", len(servers))
	}
	on := func(server string) string {
		return bodyWith(func(b map[string]any) { b["placement"] = map[string]any{"server_id": server} })
	}

	e := wantError(t, c.do(http.MethodPost, "/instances", on(unknownID)), http.StatusNotFound, "iMetal.0100")
	if !strings.Contains(e.Msg, unknownID) {
		t.Errorf("error_msg %q does not name the server", e.Msg)
	}

	a := c.create(on(servers[1].ID))
	if got := serverOf(sim, a); got != servers[1].ID {
		t.Fatalf("instance on %s, want %s", got, servers[1].ID)
	}
	e = wantError(t, c.do(http.MethodPost, "/instances", on(servers[1].ID)), http.StatusBadRequest, "iMetal.0101")
	if !strings.Contains(e.Msg, servers[1].ID) {
		t.Errorf("error_msg %q does not name the server", e.Msg)
	}

	// Without placement the free server is taken; then none is left.
	b := c.create(bodyWith(nil))
	if got := serverOf(sim, b); got != servers[0].ID {
		t.Fatalf("instance on %s, want the free %s", got, servers[0].ID)
	}
	wantError(t, c.do(http.MethodPost, "/instances", bodyWith(nil)), http.StatusBadRequest, "iMetal.0101")
	wantError(t, c.do(http.MethodPost, "/instances", on(servers[0].ID)), http.StatusBadRequest, "iMetal.0101")
	if n := len(sim.Instances()); n != 2 {
		t.Errorf("%d instances after refused creations, want 2", n)
	}

	// A server being deleted is not free yet; a terminated one is, even
	// while the instance is still visible during its retention.
	clk.Advance(createDur)
	c.delete(a)
	wantError(t, c.do(http.MethodPost, "/instances", on(servers[1].ID)), http.StatusBadRequest, "iMetal.0101")
	if got := readyServers(sim); len(got) != 0 {
		t.Errorf("ready servers while deleting: %v, want none", got)
	}
	clk.Advance(deleteDur)
	c.wantState(a, "terminated", "uninstall-succeed")
	if got := readyServers(sim); !slices.Equal(got, []string{servers[1].ID}) {
		t.Errorf("ready servers after termination: %v, want %s", got, servers[1].ID)
	}
	a2 := c.create(on(servers[1].ID))
	if got := c.get(a2).ServerID; got != servers[1].ID {
		t.Errorf("the freed server was not reused: %s", got)
	}
	// Both the terminated and the new instance name the server.
	l := c.list("server_id=" + servers[1].ID)
	if !slices.Equal(l.ids(), []string{a, a2}) {
		t.Errorf("instances on the reused server: %v, want [%s %s]", l.ids(), a, a2)
	}

	// Without placement, a server freed by termination is found too.
	c.delete(b)
	clk.Advance(deleteDur)
	b2 := c.create(bodyWith(nil))
	if got := serverOf(sim, b2); got != servers[0].ID {
		t.Errorf("instance on %q, want the freed %s", got, servers[0].ID)
	}
}

func TestSimulator_createLifecycle(t *testing.T) {
	t.Parallel()
	sim, c, clk := lifecycleSim(t, 0)
	id := c.create(bodyWith(nil))

	c.wantState(id, "pending", "install-processing")
	clk.Advance(createDur - time.Nanosecond)
	c.wantState(id, "pending", "install-processing")
	if in := c.get(id); in.LaunchedAt != "" || in.State != "pending" {
		t.Errorf("before the creation ends: state %s, launched_at %q", in.State, in.LaunchedAt)
	}
	clk.Advance(time.Nanosecond)
	st := c.wantState(id, "running", "install-succeed")
	if st.Error != nil {
		t.Errorf("status error = %+v, want none", st.Error)
	}
	// Even when the clock has moved on, the change is stamped with its
	// due time, not with the time somebody looked.
	clk.Advance(time.Hour)
	in := c.get(id)
	want := rfc3339(t0.Add(createDur))
	if in.State != "running" || in.OperationState != "install-succeed" || in.LaunchedAt != want || in.UpdatedAt != want || in.CreatedAt != rfc3339(t0) {
		t.Errorf("instance = %s/%s created %s launched %s updated %s; want running/install-succeed created %s launched and updated %s",
			in.State, in.OperationState, in.CreatedAt, in.LaunchedAt, in.UpdatedAt, rfc3339(t0), want)
	}
	h := sim.History(id)
	if !slices.Equal(stateHistory(h), []string{"pending/install-processing", "running/install-succeed"}) {
		t.Fatalf("history = %v", stateHistory(h))
	}
	if !h[0].At.Equal(t0) || !h[1].At.Equal(t0.Add(createDur)) {
		t.Errorf("history times = %v, %v; want %v, %v", h[0].At, h[1].At, t0, t0.Add(createDur))
	}
}

func TestSimulator_deleteLifecycle(t *testing.T) {
	t.Parallel()
	sim, c, clk := lifecycleSim(t, 0)
	id := c.create(bodyWith(nil))
	keep := c.create(bodyWith(nil)) // an instance that must be unaffected
	clk.Advance(createDur)
	c.wantState(id, "running", "install-succeed")

	deleteAt := clk.Now()
	c.delete(id)
	c.wantState(id, "shutting-down", "uninstall-processing")
	if in := c.get(id); in.UpdatedAt != rfc3339(deleteAt) || in.LaunchedAt != rfc3339(t0.Add(createDur)) {
		t.Errorf("updated_at %s launched_at %s after DELETE", in.UpdatedAt, in.LaunchedAt)
	}

	// A second DELETE while shutting down answers 204 and changes nothing:
	// not the state, not the history, not the due time.
	clk.Advance(deleteDur / 2)
	c.delete(id)
	c.wantState(id, "shutting-down", "uninstall-processing")
	if n := len(sim.History(id)); n != 3 {
		t.Errorf("history has %d entries after a repeated DELETE, want 3", n)
	}
	clk.Advance(deleteDur/2 - time.Nanosecond)
	c.wantState(id, "shutting-down", "uninstall-processing")
	clk.Advance(time.Nanosecond)
	c.wantState(id, "terminated", "uninstall-succeed")
	terminatedAt := deleteAt.Add(deleteDur)

	// Terminated stays visible, in the list and in the status, until the
	// retention has passed; DELETE on it is 404.
	l := c.list("")
	if l.Count != 2 || !slices.Equal(l.ids(), []string{id, keep}) {
		t.Errorf("list = %v (count %d), want [%s %s]", l.ids(), l.Count, id, keep)
	}
	if in := c.get(id); in.State != "terminated" || in.OperationState != "uninstall-succeed" || in.UpdatedAt != rfc3339(terminatedAt) {
		t.Errorf("listed as %s/%s updated %s", in.State, in.OperationState, in.UpdatedAt)
	}
	e := wantError(t, c.do(http.MethodDelete, "/instances/"+id, ""), http.StatusNotFound, "iMetal.0200")
	if !strings.Contains(e.Msg, id) {
		t.Errorf("error_msg %q does not name %s", e.Msg, id)
	}
	h := sim.History(id)
	wantHistory := []string{"pending/install-processing", "running/install-succeed", "shutting-down/uninstall-processing", "terminated/uninstall-succeed"}
	wantTimes := []time.Time{t0, t0.Add(createDur), deleteAt, terminatedAt}
	if !slices.Equal(stateHistory(h), wantHistory) {
		t.Fatalf("history = %v, want %v", stateHistory(h), wantHistory)
	}
	for i, ch := range h {
		if !ch.At.Equal(wantTimes[i]) {
			t.Errorf("history[%d] (%s) at %v, want %v", i, ch.State, ch.At, wantTimes[i])
		}
	}

	clk.Advance(retention - time.Nanosecond)
	c.wantState(id, "terminated", "uninstall-succeed")
	clk.Advance(time.Nanosecond)
	wantError(t, c.do(http.MethodGet, "/instances/"+id+"/status", ""), http.StatusNotFound, "iMetal.0200")
	wantError(t, c.do(http.MethodDelete, "/instances/"+id, ""), http.StatusNotFound, "iMetal.0200")
	l = c.list("")
	if l.Count != 1 || !slices.Equal(l.ids(), []string{keep}) {
		t.Errorf("list after retention = %v (count %d), want [%s]", l.ids(), l.Count, keep)
	}
	if l := c.list("instance_id=" + id); l.Count != 0 || len(l.Instances) != 0 {
		t.Errorf("the purged instance is still listed by ID")
	}
	if _, ok := sim.Instance(id); ok || sim.History(id) != nil {
		t.Errorf("the Go API still knows the purged instance")
	}
	c.wantState(keep, "running", "install-succeed")
}

// TestSimulator_zeroRetention: with no retention a terminated instance
// vanishes as soon as it is terminated.
func TestSimulator_zeroRetention(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	_, c := startSim(t, Options{Now: clk.Now, DeleteDuration: deleteDur})
	id := c.create(bodyWith(nil))
	c.wantState(id, "running", "install-succeed")
	c.delete(id)
	clk.Advance(deleteDur)
	wantError(t, c.do(http.MethodGet, "/instances/"+id+"/status", ""), http.StatusNotFound, "iMetal.0200")
}

func TestSimulator_deleteWhilePending(t *testing.T) {
	t.Parallel()
	sim, c, clk := lifecycleSim(t, 0)
	id := c.create(bodyWith(nil))
	clk.Advance(createDur / 2)
	deleteAt := clk.Now()
	c.delete(id)
	c.wantState(id, "shutting-down", "uninstall-processing")
	// The creation's due time passes: the cancelled creation must not
	// bring the instance to running.
	clk.Advance(createDur)
	c.wantState(id, "shutting-down", "uninstall-processing")
	clk.Advance(deleteAt.Add(deleteDur).Sub(clk.Now()))
	c.wantState(id, "terminated", "uninstall-succeed")
	if in := c.get(id); in.LaunchedAt != "" {
		t.Errorf("launched_at = %q for an instance that never ran", in.LaunchedAt)
	}
	want := []string{"pending/install-processing", "shutting-down/uninstall-processing", "terminated/uninstall-succeed"}
	if got := stateHistory(sim.History(id)); !slices.Equal(got, want) {
		t.Errorf("history = %v, want %v", got, want)
	}
	if got := readyServers(sim); len(got) != 10 {
		t.Errorf("%d ready servers after the cancelled creation, want 10", len(got))
	}
}

func TestSimulator_failNextCreate(t *testing.T) {
	t.Parallel()
	sim, c, clk := lifecycleSim(t, 0)
	sim.FailNextCreate("iMetal.0099", "the OS installation failed")
	failed := c.create(bodyWith(nil))
	ok := c.create(bodyWith(nil)) // only the next creation fails
	c.wantState(failed, "pending", "install-processing")
	clk.Advance(createDur)

	wantErr := wireInstanceError{Code: "iMetal.0099", Msg: "the OS installation failed", Type: "create_instance_error"}
	st := c.wantState(failed, "error", "install-failed")
	if st.Error == nil || *st.Error != wantErr {
		t.Errorf("status error = %+v, want %+v", st.Error, wantErr)
	}
	in := c.get(failed)
	if in.Error == nil || *in.Error != wantErr {
		t.Errorf("listed error = %+v, want %+v", in.Error, wantErr)
	}
	if in.LaunchedAt != "" || in.State != "error" || in.OperationState != "install-failed" {
		t.Errorf("listed as %s/%s launched %q", in.State, in.OperationState, in.LaunchedAt)
	}
	if l := c.list("instance_state=error"); !slices.Equal(l.ids(), []string{failed}) {
		t.Errorf("instances in error: %v, want [%s]", l.ids(), failed)
	}
	if st := c.wantState(ok, "running", "install-succeed"); st.Error != nil {
		t.Errorf("the second creation has error %+v", st.Error)
	}
	want := []string{"pending/install-processing", "error/install-failed"}
	if got := stateHistory(sim.History(failed)); !slices.Equal(got, want) {
		t.Errorf("history = %v, want %v", got, want)
	}

	// An instance in error can be deleted; the deletion clears the error.
	c.delete(failed)
	if st := c.wantState(failed, "shutting-down", "uninstall-processing"); st.Error != nil {
		t.Errorf("error %+v kept while deleting", st.Error)
	}
	clk.Advance(deleteDur)
	c.wantState(failed, "terminated", "uninstall-succeed")
	if got := len(readyServers(sim)); got != 9 {
		t.Errorf("%d ready servers, want 9 (the failed instance's server is free)", got)
	}
}

func TestSimulator_failNextDelete(t *testing.T) {
	t.Parallel()
	sim, c, clk := lifecycleSim(t, 0)
	id := c.createWith(func(b map[string]any) { b["network_interfaces"] = nics(DefaultSubnetID, "192.168.0.10") })
	clk.Advance(createDur)
	sim.FailNextDelete("iMetal.0099", "the disk could not be wiped")
	c.delete(id)
	clk.Advance(deleteDur)

	wantErr := wireInstanceError{Code: "iMetal.0099", Msg: "the disk could not be wiped", Type: "delete_instance_error"}
	st := c.wantState(id, "error", "uninstall-failed")
	if st.Error == nil || *st.Error != wantErr {
		t.Errorf("status error = %+v, want %+v", st.Error, wantErr)
	}
	if in := c.get(id); in.Error == nil || *in.Error != wantErr {
		t.Errorf("listed error = %+v, want %+v", in.Error, wantErr)
	}
	// A failed deletion keeps the server and the address.
	if got := len(readyServers(sim)); got != 9 {
		t.Errorf("%d ready servers after a failed deletion, want 9", got)
	}
	wantError(t, c.do(http.MethodPost, "/instances", bodyWith(func(b map[string]any) {
		b["network_interfaces"] = nics(DefaultSubnetID, "192.168.0.10")
	})), http.StatusBadRequest, "iMetal.0001")

	// The retry succeeds.
	c.delete(id)
	if st := c.wantState(id, "shutting-down", "uninstall-processing"); st.Error != nil {
		t.Errorf("error %+v kept while retrying the deletion", st.Error)
	}
	clk.Advance(deleteDur)
	if st := c.wantState(id, "terminated", "uninstall-succeed"); st.Error != nil {
		t.Errorf("terminated with error %+v", st.Error)
	}
	want := []string{"pending/install-processing", "running/install-succeed", "shutting-down/uninstall-processing",
		"error/uninstall-failed", "shutting-down/uninstall-processing", "terminated/uninstall-succeed"}
	if got := stateHistory(sim.History(id)); !slices.Equal(got, want) {
		t.Errorf("history = %v, want %v", got, want)
	}
	if got := len(readyServers(sim)); got != 10 {
		t.Errorf("%d ready servers, want 10", got)
	}
}

func TestSimulator_failNextQueues(t *testing.T) {
	t.Parallel()
	sim, c, clk := lifecycleSim(t, 0)
	sim.FailNextCreate("iMetal.0099", "first")
	sim.FailNextCreate("iMetal.0099", "second")
	a, b, ok := c.create(bodyWith(nil)), c.create(bodyWith(nil)), c.create(bodyWith(nil))
	clk.Advance(createDur)
	for id, msg := range map[string]string{a: "first", b: "second"} {
		if st := c.wantState(id, "error", "install-failed"); st.Error == nil || st.Error.Msg != msg {
			t.Errorf("instance error = %+v, want message %q", st.Error, msg)
		}
	}
	c.wantState(ok, "running", "install-succeed")
}

func TestSimulator_addressesReleased(t *testing.T) {
	t.Parallel()
	_, c, clk := lifecycleSim(t, 0)
	fixed := func(addr string) string {
		return bodyWith(func(b map[string]any) { b["network_interfaces"] = nics(DefaultSubnetID, addr) })
	}
	addr := func(id string) string { return c.get(id).NetworkInterfaces[0].IPv4Address }

	a := c.create(fixed("192.168.0.10"))
	e := wantError(t, c.do(http.MethodPost, "/instances", fixed("192.168.0.10")), http.StatusBadRequest, "iMetal.0001")
	if !strings.Contains(e.Msg, "192.168.0.10") {
		t.Errorf("error_msg %q does not name the address", e.Msg)
	}
	auto1 := c.create(bodyWith(nil))
	if got := addr(auto1); got != "192.168.0.2" {
		t.Fatalf("first auto-assigned address = %s, want 192.168.0.2", got)
	}
	clk.Advance(createDur)

	// While the instance shuts down it keeps its address.
	c.delete(auto1)
	auto2 := c.create(bodyWith(nil))
	if got := addr(auto2); got != "192.168.0.3" {
		t.Errorf("address while .2 is shutting down = %s, want 192.168.0.3", got)
	}
	wantError(t, c.do(http.MethodPost, "/instances", fixed("192.168.0.2")), http.StatusBadRequest, "iMetal.0001")

	// Once terminated, the address is free again, though the instance is
	// still listed with it during its retention.
	clk.Advance(deleteDur)
	c.wantState(auto1, "terminated", "uninstall-succeed")
	if got := addr(auto1); got != "192.168.0.2" {
		t.Errorf("terminated instance lists address %q, want 192.168.0.2", got)
	}
	auto3 := c.create(bodyWith(nil))
	if got := addr(auto3); got != "192.168.0.2" {
		t.Errorf("address after termination = %s, want the released 192.168.0.2", got)
	}

	c.delete(a)
	clk.Advance(deleteDur)
	a2 := c.create(fixed("192.168.0.10"))
	if got := addr(a2); got != "192.168.0.10" {
		t.Errorf("reassigned fixed address = %s", got)
	}
}

func TestSimulator_subnetExhausted(t *testing.T) {
	t.Parallel()
	// A /29 has 5 usable addresses: .2 to .6.
	sim, c := startSim(t, Options{Subnets: []SubnetSpec{{ID: DefaultSubnetID, VPCID: DefaultVPCID,
		CIDR: netip.MustParsePrefix("10.1.2.0/29")}}})
	var got []string
	for range 5 {
		got = append(got, c.get(c.create(bodyWith(nil))).NetworkInterfaces[0].IPv4Address)
	}
	want := []string{"10.1.2.2", "10.1.2.3", "10.1.2.4", "10.1.2.5", "10.1.2.6"}
	if !slices.Equal(got, want) {
		t.Errorf("addresses = %v, want %v", got, want)
	}
	e := wantError(t, c.do(http.MethodPost, "/instances", bodyWith(nil)), http.StatusBadRequest, "iMetal.0001")
	if !strings.Contains(e.Msg, "no free address") {
		t.Errorf("error_msg = %q", e.Msg)
	}
	// The refused creation did not keep a server.
	if n := len(readyServers(sim)); n != 5 {
		t.Errorf("%d ready servers, want 5", n)
	}
}

// TestSimulator_realClockTimers checks that transitions happen on time with
// nobody polling: the timers, not the requests, move the instance along.
func TestSimulator_realClockTimers(t *testing.T) {
	t.Parallel()
	const d = 50 * time.Millisecond
	events := make(chan string, 100)
	sim, c := startSim(t, Options{
		CreateDuration: d, DeleteDuration: d, Retention: d,
		Logger: slog.New(eventHandler{ch: events}),
	})
	start := time.Now()
	id := c.create(bodyWith(nil))
	await := func(want string) time.Time {
		t.Helper()
		deadline := time.After(10 * time.Second)
		for {
			select {
			case ev := <-events:
				if ev == id+" "+want {
					return time.Now()
				}
			case <-deadline:
				t.Fatalf("instance %s did not reach %q within 10s", id, want)
			}
		}
	}
	requests := func() int {
		n := 0
		for _, v := range sim.RequestCounts() {
			n += v
		}
		return n
	}

	before := requests()
	ranAt := await("running")
	if requests() != before {
		t.Fatalf("a request was sent while waiting")
	}
	if ranAt.Sub(start) < d {
		t.Errorf("running after %v, before the create duration %v", ranAt.Sub(start), d)
	}
	h := sim.History(id)
	if len(h) != 2 || h[1].State != "running" || h[1].At.Sub(h[0].At) < d {
		t.Errorf("history = %+v, want running %v after pending", h, d)
	}

	c.delete(id)
	before = requests()
	await("terminated")
	await("purged")
	if requests() != before {
		t.Fatalf("a request was sent while waiting")
	}
	wantError(t, c.do(http.MethodGet, "/instances/"+id+"/status", ""), http.StatusNotFound, "iMetal.0200")
	if got := len(readyServers(sim)); got != 10 {
		t.Errorf("%d ready servers after the purge, want 10", got)
	}
}

func TestSimulator_historyOfUnknown(t *testing.T) {
	t.Parallel()
	sim, _ := startSim(t, Options{})
	if h := sim.History(unknownID); h != nil {
		t.Errorf("History(unknown) = %v, want nil", h)
	}
	if got := fmt.Sprint(sim.Instances()); got != "[]" {
		t.Errorf("Instances() = %s, want []", got)
	}
}

// TestSimulator_lateObservation: when nobody looks for a long time, every
// due change is still applied at its due time, in order, and the retention
// counts from the termination, not from when somebody looked.
func TestSimulator_lateObservation(t *testing.T) {
	t.Parallel()
	sim, c, clk := lifecycleSim(t, 0)
	id := c.create(bodyWith(nil))
	gone := c.create(bodyWith(nil))
	c.delete(gone) // cancelled at once, at t0

	// One jump past the creation, the deletion and its retention.
	clk.Advance(createDur + deleteDur + retention + time.Hour)
	wantError(t, c.do(http.MethodGet, "/instances/"+gone+"/status", ""), http.StatusNotFound, "iMetal.0200")
	in := c.get(id)
	if want := rfc3339(t0.Add(createDur)); in.LaunchedAt != want || in.UpdatedAt != want {
		t.Errorf("launched_at %s updated_at %s, want both %s (the due time)", in.LaunchedAt, in.UpdatedAt, want)
	}
	h := sim.History(id)
	if len(h) != 2 || !h[1].At.Equal(t0.Add(createDur)) {
		t.Errorf("history = %+v, want running at %v", h, t0.Add(createDur))
	}
}
