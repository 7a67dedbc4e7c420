package simulator

import (
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
)

const (
	reinstallDur = 30 * time.Second
	modifyIPDur  = 40 * time.Second
	powerDur     = 50 * time.Second
)

// opsSim is a simulator on a fake clock where every operation takes its
// own distinct time, so that each phase can be observed.
func opsSim(t *testing.T, opts Options) (*TestServer, *apiClient, *fakeClock) {
	t.Helper()
	clk := newFakeClock()
	opts.Now = clk.Now
	opts.CreateDuration, opts.DeleteDuration = createDur, deleteDur
	opts.ReinstallDuration, opts.ModifyIPDuration, opts.PowerDuration = reinstallDur, modifyIPDur, powerDur
	if opts.Retention == 0 {
		opts.Retention = time.Hour
	}
	sim, c := startSim(t, opts)
	return sim, c, clk
}

// runningInstance creates an instance and lets it reach running.
func runningInstance(c *apiClient, clk *fakeClock, mutate func(b map[string]any)) string {
	c.t.Helper()
	id := c.createWith(mutate)
	clk.Advance(createDur)
	c.wantState(id, "running", "install-succeed")
	return id
}

func TestRunInstances_lifecycle(t *testing.T) {
	t.Parallel()
	sim, c, clk := opsSim(t, Options{Servers: 6})
	ids := c.run(runReq(2, 3, func(b map[string]any) {
		b["name"] = "batch"
		b["network_interfaces"] = nics(DefaultSubnetID, "", DefaultSubnetID2, "")
		b["metadata"] = map[string]any{"team": "web"}
	}))
	if len(ids) != 3 {
		t.Fatalf("RunInstances created %d instances, want max_count 3", len(ids))
	}
	l := c.list("instance_id=" + strings.Join(ids, ","))
	if !slices.Equal(l.ids(), ids) {
		t.Fatalf("listed %v, want %v in creation order", l.ids(), ids)
	}
	for i, in := range l.Instances {
		wantNICs := fmt.Sprint([]wireNIC{{DefaultSubnetID, fmt.Sprintf("192.168.0.%d", 2+i)}, {DefaultSubnetID2, fmt.Sprintf("192.168.1.%d", 2+i)}})
		if in.Name != "batch" || in.State != "pending" || in.OperationState != "install-processing" ||
			in.Metadata["team"] != "web" || fmt.Sprint(in.NetworkInterfaces) != wantNICs || in.ServerID != DefaultServerID(i+1) {
			t.Errorf("instance %d = %+v, want batch, pending, team=web, NICs %s on server %d", i, in, wantNICs, i+1)
		}
		if pw, _ := sim.Password(in.ID); pw != testPassword {
			t.Errorf("password of %s = %q", in.ID, pw)
		}
	}
	clk.Advance(createDur)
	for _, id := range ids {
		c.wantState(id, "running", "install-succeed")
	}

	// server_id_set: only the ready servers of the set are used, and no
	// more than max_count.
	set := []string{DefaultServerID(1), DefaultServerID(5), DefaultServerID(4), DefaultServerID(6)}
	ids2 := c.run(runReq(1, 2, func(b map[string]any) { b["placement"] = map[string]any{"server_id_set": set} }))
	if len(ids2) != 2 || serverOf(sim, ids2[0]) != DefaultServerID(5) || serverOf(sim, ids2[1]) != DefaultServerID(4) {
		t.Errorf("placed on %s and %s, want servers 5 and 4 (the ready ones of the set, in its order)", serverOf(sim, ids2[0]), serverOf(sim, ids2[1]))
	}

	// One server is left: min_count 2 creates nothing, min_count 1
	// creates one though max_count is 5.
	before := len(sim.Instances())
	e := wantError(t, c.do(http.MethodPost, "/instances/batch-create", runReq(2, 5, nil)), http.StatusBadRequest, "iMetal.0101")
	if !strings.Contains(e.Msg, "min_count is 2") || !strings.Contains(e.Msg, "Only 1") {
		t.Errorf("error_msg = %q", e.Msg)
	}
	if n := len(sim.Instances()); n != before {
		t.Errorf("a refused RunInstances created %d instances", n-before)
	}
	if got := len(readyServers(sim)); got != 1 {
		t.Errorf("%d ready servers after a refused RunInstances, want 1", got)
	}
	last := c.run(runReq(1, 5, nil))
	if len(last) != 1 || serverOf(sim, last[0]) != DefaultServerID(6) {
		t.Errorf("RunInstances with one free server created %v", last)
	}
	if got := sim.RequestCount(OpRunInstances); got != 4 {
		t.Errorf("RequestCount(RunInstances) = %d, want 4", got)
	}
}

func TestRunInstances_subnetRunsOut(t *testing.T) {
	t.Parallel()
	// A /29 has 5 usable addresses: 6 instances do not fit, and none is
	// created.
	sim, c := startSim(t, Options{Subnets: []SubnetSpec{{ID: DefaultSubnetID, VPCID: DefaultVPCID, CIDR: netip.MustParsePrefix("10.1.2.0/29")}}})
	e := wantError(t, c.do(http.MethodPost, "/instances/batch-create", runReq(6, 6, nil)), http.StatusBadRequest, "iMetal.0001")
	if !strings.Contains(e.Msg, "no free address") {
		t.Errorf("error_msg = %q", e.Msg)
	}
	if n := len(sim.Instances()); n != 0 {
		t.Fatalf("%d instances created", n)
	}
	// Nothing was reserved: five fit afterwards, from the first address.
	ids := c.run(runReq(5, 5, nil))
	if got := c.get(ids[0]).NetworkInterfaces[0].IPv4Address; got != "10.1.2.2" {
		t.Errorf("first address = %s, want 10.1.2.2", got)
	}
}

func TestDeleteInstances_lifecycle(t *testing.T) {
	t.Parallel()
	sim, c, clk := opsSim(t, Options{})
	ids := c.run(runReq(4, 4, nil))
	clk.Advance(createDur)
	a, b, cc, d := ids[0], ids[1], ids[2], ids[3]

	// All or nothing: one unknown ID and nothing is deleted.
	e := wantError(t, c.do(http.MethodPost, "/instances/batch-delete", jsonBody(map[string]any{"instance_id_set": []string{a, unknownID, b}})),
		http.StatusNotFound, "iMetal.0200")
	if !strings.Contains(e.Msg, unknownID) || strings.Contains(e.Msg, a) {
		t.Errorf("error_msg %q should list only the missing ID", e.Msg)
	}
	for _, id := range ids {
		c.wantState(id, "running", "install-succeed")
	}

	c.batchDelete(a, b)
	c.wantState(a, "shutting-down", "uninstall-processing")
	c.wantState(b, "shutting-down", "uninstall-processing")
	c.wantState(cc, "running", "install-succeed")
	// A repeated ID is answered once; shutting-down is accepted again.
	got := decode[wireIDs](t, c.do(http.MethodPost, "/instances/batch-delete", jsonBody(map[string]any{"instance_id_set": []string{a, cc, cc}})), http.StatusAccepted)
	if !slices.Equal(got.ids(), []string{a, cc}) {
		t.Errorf("answer %v, want [%s %s]", got.ids(), a, cc)
	}
	if n := len(sim.History(a)); n != 3 {
		t.Errorf("repeating the deletion added history: %d entries", n)
	}
	clk.Advance(deleteDur)
	for _, id := range []string{a, b, cc} {
		c.wantState(id, "terminated", "uninstall-succeed")
	}
	// A terminated instance counts as not found, as for DeleteInstance.
	e = wantError(t, c.do(http.MethodPost, "/instances/batch-delete", jsonBody(map[string]any{"instance_id_set": []string{d, a}})), http.StatusNotFound, "iMetal.0200")
	if !strings.Contains(e.Msg, a) {
		t.Errorf("error_msg %q does not name the terminated %s", e.Msg, a)
	}
	c.wantState(d, "running", "install-succeed")
	if got := sim.RequestCount(OpDeleteInstances); got != 4 {
		t.Errorf("RequestCount(DeleteInstances) = %d, want 4", got)
	}
}

func TestReinstallOS_lifecycle(t *testing.T) {
	t.Parallel()
	sim, c, clk := opsSim(t, Options{})
	id := runningInstance(c, clk, func(b map[string]any) { b["network_interfaces"] = nics(DefaultSubnetID, "192.168.0.77") })
	before := c.get(id)

	at := clk.Now()
	c.reinstall(DefaultWindowsImage, "Win-Passw0rd", id)
	st := c.wantState(id, "running", "reinstall-processing")
	if st.Error != nil {
		t.Errorf("error %+v while reinstalling", st.Error)
	}
	if in := c.get(id); in.Image["id"] != DefaultImageID || in.UpdatedAt != rfc3339(at) {
		t.Errorf("while reinstalling: image %v updated_at %s; want the old image, updated at %s", in.Image, in.UpdatedAt, rfc3339(at))
	}
	if pw, _ := sim.Password(id); pw != testPassword {
		t.Errorf("the password changed before the reinstall ended: %q", pw)
	}
	clk.Advance(reinstallDur - time.Nanosecond)
	c.wantState(id, "running", "reinstall-processing")
	clk.Advance(time.Nanosecond)
	c.wantState(id, "running", "reinstall-succeed")
	after := c.get(id)
	end := rfc3339(at.Add(reinstallDur))
	wantImage := map[string]string{"id": DefaultWindowsImage, "name": "Windows Server 2022 Datacenter 64bit", "os_type": "Windows"}
	if fmt.Sprint(after.Image) != fmt.Sprint(wantImage) || after.LaunchedAt != end || after.UpdatedAt != end ||
		after.CreatedAt != before.CreatedAt || after.ServerID != before.ServerID ||
		fmt.Sprint(after.NetworkInterfaces) != fmt.Sprint(before.NetworkInterfaces) {
		t.Errorf("after the reinstall: %+v\nwant image %v, launched and updated %s, the rest as before %+v", after, wantImage, end, before)
	}
	if pw, _ := sim.Password(id); pw != "Win-Passw0rd" {
		t.Errorf("password = %q, want the reinstall's", pw)
	}
	want := []string{"pending/install-processing", "running/install-succeed", "running/reinstall-processing", "running/reinstall-succeed"}
	if got := stateHistory(sim.History(id)); !slices.Equal(got, want) {
		t.Errorf("history = %v, want %v", got, want)
	}

	// Without image_id the image is kept; a stopped instance ends running.
	c.power(ActionPowerOff, after.ServerID)
	clk.Advance(powerDur)
	c.wantState(id, "stopped", "reinstall-succeed")
	c.reinstall("", "Other-Passw0rd", id)
	c.wantState(id, "stopped", "reinstall-processing")
	clk.Advance(reinstallDur)
	c.wantState(id, "running", "reinstall-succeed")
	if in := c.get(id); in.Image["id"] != DefaultWindowsImage {
		t.Errorf("image = %v, want it kept", in.Image)
	}
	if srv := c.server(after.ServerID); srv.PowerState != PowerOn {
		t.Errorf("server power %s after the reinstall of a stopped instance, want on", srv.PowerState)
	}
}

func TestReinstallOS_failure(t *testing.T) {
	t.Parallel()
	sim, c, clk := opsSim(t, Options{})
	id := runningInstance(c, clk, nil)
	other := runningInstance(c, clk, nil)
	sim.FailNextReinstall("iMetal.0099", "the image could not be written")
	c.reinstall(DefaultImageID2, "New-Passw0rd", id)
	clk.Advance(reinstallDur)
	wantErr := wireInstanceError{Code: "iMetal.0099", Msg: "the image could not be written", Type: "reinstall_error"}
	st := c.wantState(id, "error", "reinstall-failed")
	if st.Error == nil || *st.Error != wantErr {
		t.Errorf("error = %+v, want %+v", st.Error, wantErr)
	}
	if in := c.get(id); in.Image["id"] != DefaultImageID {
		t.Errorf("image = %v, want the old one after a failed reinstall", in.Image)
	}
	if pw, _ := sim.Password(id); pw != testPassword {
		t.Errorf("password = %q, want the old one after a failed reinstall", pw)
	}
	// Only a reinstall may retry it; it starts as running, without the error.
	wantError(t, c.do(http.MethodPut, "/instances/"+id+"/ip", jsonBody(map[string]any{"vpc_id": DefaultVPCID, "nics": ipNICs(DefaultSubnetID, "")})),
		http.StatusBadRequest, "iMetal.0201")
	c.reinstall("", "New-Passw0rd", id, other)
	if st := c.wantState(id, "running", "reinstall-processing"); st.Error != nil {
		t.Errorf("error %+v kept while retrying", st.Error)
	}
	clk.Advance(reinstallDur)
	c.wantState(id, "running", "reinstall-succeed")
	c.wantState(other, "running", "reinstall-succeed")

	// An error of another kind does not allow a reinstall.
	sim.FailNextCreate("iMetal.0099", "no")
	failed := c.create(bodyWith(nil))
	clk.Advance(createDur)
	e := wantError(t, c.do(http.MethodPut, "/instances/reinstall", jsonBody(map[string]any{"password": testPassword, "instance_id_set": []string{failed}})),
		http.StatusBadRequest, "iMetal.0201")
	if !strings.Contains(e.Msg, failed) || !strings.Contains(e.Msg, "error") {
		t.Errorf("error_msg = %q", e.Msg)
	}
}

func TestChangePassword(t *testing.T) {
	t.Parallel()
	sim, c, clk := opsSim(t, Options{})
	linux := runningInstance(c, clk, nil)
	windows := runningInstance(c, clk, func(b map[string]any) { b["image_id"] = DefaultWindowsImage })
	both := []string{linux, windows}

	r := c.do(http.MethodPut, "/instances/password", jsonBody(map[string]any{"new_password": "Changed-Pw1", "instance_id_set": both}))
	if got := decode[wireIDs](t, r, http.StatusOK).ids(); !slices.Equal(got, both) {
		t.Fatalf("answer %v, want %v", got, both)
	}
	for _, id := range both {
		if pw, _ := sim.Password(id); pw != "Changed-Pw1" {
			t.Errorf("password of %s = %q, want Changed-Pw1 at once (synchronous)", id, pw)
		}
		// The state is untouched: the change is synchronous.
		c.wantState(id, "running", "install-succeed")
	}
	// "root" is fine for Windows but not for Linux: all or nothing.
	e := wantError(t, c.do(http.MethodPut, "/instances/password", jsonBody(map[string]any{"new_password": "Xroot-12345", "instance_id_set": []string{windows, linux}})),
		http.StatusBadRequest, "iMetal.0001")
	if !strings.Contains(e.Msg, linux) || !strings.Contains(e.Msg, "root") {
		t.Errorf("error_msg = %q, want the Linux instance and root named", e.Msg)
	}
	if pw, _ := sim.Password(windows); pw != "Changed-Pw1" {
		t.Errorf("a refused change changed the Windows password to %q", pw)
	}
	// A stopped instance allows it; a pending one does not.
	c.power(ActionPowerOff, serverOf(sim, linux))
	clk.Advance(powerDur)
	pending := c.create(bodyWith(nil))
	e = wantError(t, c.do(http.MethodPut, "/instances/password", jsonBody(map[string]any{"new_password": "Third-Pw12", "instance_id_set": []string{linux, pending}})),
		http.StatusBadRequest, "iMetal.0201")
	if !strings.Contains(e.Msg, pending) || !strings.Contains(e.Msg, "pending") {
		t.Errorf("error_msg = %q", e.Msg)
	}
	c.do(http.MethodPut, "/instances/password", jsonBody(map[string]any{"new_password": "Third-Pw12", "instance_id_set": []string{linux}}))
	if pw, _ := sim.Password(linux); pw != "Third-Pw12" {
		t.Errorf("password of the stopped instance = %q", pw)
	}
}

func TestModifyIP_lifecycle(t *testing.T) {
	t.Parallel()
	sim, c, clk := opsSim(t, validationOptions())
	id := runningInstance(c, clk, func(b map[string]any) {
		b["network_interfaces"] = nics(DefaultSubnetID, "192.168.0.10", DefaultSubnetID2, "192.168.1.10")
	})
	neighbour := runningInstance(c, clk, nil) // holds 192.168.0.2

	at := clk.Now()
	// Keep the first address on the second NIC, a fixed new one first.
	c.modifyIP(id, DefaultVPCID, ipNICs(DefaultSubnetID2, "192.168.1.20", DefaultSubnetID, "192.168.0.10"))
	c.wantState(id, "running", "modify-ip-processing")
	if in := c.get(id); fmt.Sprint(in.NetworkInterfaces) != fmt.Sprint([]wireNIC{{DefaultSubnetID, "192.168.0.10"}, {DefaultSubnetID2, "192.168.1.10"}}) {
		t.Errorf("NICs changed before the end: %v", in.NetworkInterfaces)
	}
	// The new address is reserved from the request on.
	e := wantError(t, c.do(http.MethodPost, "/instances", bodyWith(func(b map[string]any) {
		b["network_interfaces"] = nics(DefaultSubnetID2, "192.168.1.20")
	})), http.StatusBadRequest, "iMetal.0001")
	if !strings.Contains(e.Msg, "in use") {
		t.Errorf("error_msg = %q", e.Msg)
	}
	clk.Advance(modifyIPDur)
	c.wantState(id, "running", "modify-ip-succeed")
	in := c.get(id)
	want := []wireNIC{{DefaultSubnetID2, "192.168.1.20"}, {DefaultSubnetID, "192.168.0.10"}}
	if fmt.Sprint(in.NetworkInterfaces) != fmt.Sprint(want) || in.UpdatedAt != rfc3339(at.Add(modifyIPDur)) {
		t.Errorf("after the change: NICs %v updated %s, want %v at %s", in.NetworkInterfaces, in.UpdatedAt, want, rfc3339(at.Add(modifyIPDur)))
	}
	// The old 192.168.1.10 is free again; the kept 192.168.0.10 is not.
	x := c.createWith(func(b map[string]any) { b["network_interfaces"] = nics(DefaultSubnetID2, "192.168.1.10") })
	if got := c.get(x).NetworkInterfaces[0].IPv4Address; got != "192.168.1.10" {
		t.Errorf("released address not reusable: %s", got)
	}
	wantError(t, c.do(http.MethodPost, "/instances", bodyWith(func(b map[string]any) { b["network_interfaces"] = nics(DefaultSubnetID, "192.168.0.10") })),
		http.StatusBadRequest, "iMetal.0001")

	// Another VPC; automatic addresses; and another instance's address is refused.
	e = wantError(t, c.do(http.MethodPut, "/instances/"+id+"/ip", jsonBody(map[string]any{"vpc_id": DefaultVPCID, "nics": ipNICs(DefaultSubnetID, "192.168.0.2")})),
		http.StatusBadRequest, "iMetal.0001")
	if !strings.Contains(e.Msg, "nics[0].ip_address") || !strings.Contains(e.Msg, "in use") {
		t.Errorf("error_msg = %q", e.Msg)
	}
	c.wantState(neighbour, "running", "install-succeed")
	c.modifyIP(id, otherVPCID, ipNICs(otherSubnetID, ""))
	clk.Advance(modifyIPDur)
	in = c.get(id)
	if in.VPCID != otherVPCID || fmt.Sprint(in.NetworkInterfaces) != fmt.Sprint([]wireNIC{{otherSubnetID, "10.9.0.2"}}) {
		t.Errorf("after moving VPC: %s %v", in.VPCID, in.NetworkInterfaces)
	}
	wantHist := []string{"pending/install-processing", "running/install-succeed", "running/modify-ip-processing",
		"running/modify-ip-succeed", "running/modify-ip-processing", "running/modify-ip-succeed"}
	if got := stateHistory(sim.History(id)); !slices.Equal(got, wantHist) {
		t.Errorf("history = %v, want %v", got, wantHist)
	}
}

func TestModifyIP_failureAndDeletionRelease(t *testing.T) {
	t.Parallel()
	sim, c, clk := opsSim(t, Options{})
	id := runningInstance(c, clk, func(b map[string]any) { b["network_interfaces"] = nics(DefaultSubnetID, "192.168.0.10") })
	sim.FailNextModifyIP("iMetal.0099", "the switch refused the VLAN")
	c.modifyIP(id, DefaultVPCID, ipNICs(DefaultSubnetID, "192.168.0.50"))
	clk.Advance(modifyIPDur)
	wantErr := wireInstanceError{Code: "iMetal.0099", Msg: "the switch refused the VLAN", Type: "modify_ip_error"}
	if st := c.wantState(id, "error", "modify-ip-failed"); st.Error == nil || *st.Error != wantErr {
		t.Errorf("error = %+v, want %+v", st.Error, wantErr)
	}
	if got := c.get(id).NetworkInterfaces; fmt.Sprint(got) != fmt.Sprint([]wireNIC{{DefaultSubnetID, "192.168.0.10"}}) {
		t.Errorf("NICs = %v after a failed change, want them unchanged", got)
	}
	// The reserved .50 is free again, the kept .10 is not.
	fixed := func(a string) string {
		return bodyWith(func(b map[string]any) { b["network_interfaces"] = nics(DefaultSubnetID, a) })
	}
	c.create(fixed("192.168.0.50"))
	wantError(t, c.do(http.MethodPost, "/instances", fixed("192.168.0.10")), http.StatusBadRequest, "iMetal.0001")

	// A deletion during an IP change releases the reserved addresses too.
	id2 := runningInstance(c, clk, nil)
	c.modifyIP(id2, DefaultVPCID, ipNICs(DefaultSubnetID, "192.168.0.60"))
	clk.Advance(modifyIPDur - 5*time.Second)
	c.delete(id2)
	clk.Advance(10 * time.Second) // past the change's due time: it must not come back
	c.wantState(id2, "shutting-down", "uninstall-processing")
	if got := c.get(id2).NetworkInterfaces[0].IPv4Address; got != "192.168.0.2" {
		t.Errorf("the abandoned change replaced the address with %s", got)
	}
	c.create(fixed("192.168.0.60"))
	clk.Advance(deleteDur)
	c.wantState(id2, "terminated", "uninstall-succeed")
}
