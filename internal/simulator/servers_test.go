package simulator

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestServers_listAndShow(t *testing.T) {
	t.Parallel()
	const n = 25
	sim, c, clk := opsSim(t, Options{Servers: n})
	inUse := c.run(runReq(3, 3, func(b map[string]any) {
		b["placement"] = map[string]any{"server_id_set": []string{DefaultServerID(2), DefaultServerID(11), DefaultServerID(24)}}
	}))
	all := make([]string, n)
	for i := range all {
		all[i] = DefaultServerID(i + 1)
	}
	busy := []string{DefaultServerID(2), DefaultServerID(11), DefaultServerID(24)}
	ready := slices.DeleteFunc(slices.Clone(all), func(id string) bool { return slices.Contains(busy, id) })

	// Every field of the server object.
	s2 := c.server(DefaultServerID(2))
	want := wireServer{ID: DefaultServerID(2), Name: "imetal-server-002", ProjectID: DefaultProjectID, ManageState: "in-use",
		PowerState: "on", OnboardTime: rfc3339(t0), Tags: []map[string]any{}}
	if fmt.Sprint(s2) != fmt.Sprint(want) {
		t.Errorf("server = %+v, want %+v", s2, want)
	}
	if s := c.server(DefaultServerID(1)); s.ManageState != "ready" || s.PowerState != "on" {
		t.Errorf("idle server = %+v, want ready and on", s)
	}
	e := wantError(t, c.do(http.MethodGet, "/physicalservers/"+unknownID, ""), http.StatusNotFound, "iMetal.0100")
	if !strings.Contains(e.Msg, unknownID) {
		t.Errorf("error_msg %q does not name the server", e.Msg)
	}

	// Paging and the manage_state filter, as ListInstances pages.
	pageAll := func(query string, limit int) ([]string, int) {
		var got []string
		marker, count := "", -1
		for range n + 1 {
			q := fmt.Sprintf("limit=%d", limit)
			if query != "" {
				q += "&" + query
			}
			if marker != "" {
				q += "&marker=" + marker
			}
			l := c.servers(q)
			if count >= 0 && l.Count != count {
				t.Errorf("%s: count changed between pages: %d then %d", q, count, l.Count)
			}
			count = l.Count
			got = append(got, l.ids()...)
			if l.PageInfo.NextMarker == "" {
				return got, count
			}
			marker = l.PageInfo.NextMarker
		}
		t.Fatalf("%s: more pages than servers", query)
		return nil, 0
	}
	for _, tt := range []struct {
		query string
		want  []string
	}{{"", all}, {"manage_state=ready", ready}, {"manage_state=in-use", busy}} {
		for _, limit := range []int{1, 10, 11, 1000, 5000} {
			got, count := pageAll(tt.query, limit)
			if !slices.Equal(got, tt.want) || count != len(tt.want) {
				t.Errorf("%q limit %d: %v (count %d), want %v", tt.query, limit, got, count, tt.want)
			}
		}
	}
	first := c.servers("")
	if len(first.Servers) != 10 || first.PageInfo.NextMarker != all[9] || first.PageInfo.PreviousMarker != "" {
		t.Errorf("default page: %d servers, next %q previous %q", len(first.Servers), first.PageInfo.NextMarker, first.PageInfo.PreviousMarker)
	}
	third := c.servers("marker=" + all[19])
	if !slices.Equal(third.ids(), all[20:]) || third.PageInfo.PreviousMarker != all[9] {
		t.Errorf("third page %v previous %q, want %v previous %s", third.ids(), third.PageInfo.PreviousMarker, all[20:], all[9])
	}
	// A marker that does not match the filter still places the page.
	if l := c.servers("manage_state=in-use&marker=" + all[2]); !slices.Equal(l.ids(), busy[1:]) {
		t.Errorf("in-use after server 3: %v, want %v", l.ids(), busy[1:])
	}
	for _, bad := range []string{"manage_state=free", "manage_state=READY", "limit=ten", "marker=" + unknownID} {
		e := wantError(t, c.do(http.MethodGet, "/physicalservers?"+bad, ""), http.StatusBadRequest, "iMetal.0001")
		if !strings.Contains(e.Msg, strings.Split(bad, "=")[0]) {
			t.Errorf("%s: error_msg %q does not name the parameter", bad, e.Msg)
		}
	}

	// A server freed by a termination is ready again.
	clk.Advance(createDur)
	c.delete(inUse[1])
	if s := c.server(DefaultServerID(11)); s.ManageState != "in-use" {
		t.Errorf("server of a deleting instance is %s", s.ManageState)
	}
	clk.Advance(deleteDur)
	if s := c.server(DefaultServerID(11)); s.ManageState != "ready" {
		t.Errorf("server of a terminated instance is %s, want ready", s.ManageState)
	}
	if got := sim.RequestCount(OpShowServer); got != 5 {
		t.Errorf("RequestCount(ShowServer) = %d, want 5", got)
	}
}

func TestServers_power(t *testing.T) {
	t.Parallel()
	sim, c, clk := opsSim(t, Options{Servers: 3})
	id := runningInstance(c, clk, nil)
	srv := serverOf(sim, id)
	idle := DefaultServerID(3)

	at := clk.Now()
	c.power(ActionPowerOff, srv, idle)
	if s := c.server(srv); s.PowerState != "powering-off" {
		t.Errorf("power_state = %s, want powering-off", s.PowerState)
	}
	c.wantState(id, "running", "install-succeed")
	// Repeating the action in progress changes nothing.
	c.power(ActionPowerOff, srv)
	clk.Advance(powerDur - time.Nanosecond)
	c.wantState(id, "running", "install-succeed")
	clk.Advance(time.Nanosecond)
	c.wantState(id, "stopped", "install-succeed")
	for _, s := range []string{srv, idle} {
		if got := c.server(s); got.PowerState != "off" {
			t.Errorf("server %s is %s, want off", s, got.PowerState)
		}
	}
	h := sim.History(id)
	if last := h[len(h)-1]; last.State != "stopped" || !last.At.Equal(at.Add(powerDur)) {
		t.Errorf("last change %+v, want stopped at %v", last, at.Add(powerDur))
	}
	// Powering off what is off is accepted and changes nothing.
	c.power(ActionPowerOff, srv)
	if got := c.server(srv); got.PowerState != "off" {
		t.Errorf("repeated power off: %s", got.PowerState)
	}
	n := len(sim.History(id))
	// A server that is off cannot be rebooted.
	e := wantError(t, c.do(http.MethodPut, "/physicalservers/power-state", jsonBody(map[string]any{"action": ActionReboot, "server_id_set": []string{srv}})),
		http.StatusBadRequest, "iMetal.0201")
	if !strings.Contains(e.Msg, srv) {
		t.Errorf("error_msg %q does not name the server", e.Msg)
	}

	c.power(ActionPowerOn, srv)
	if got := c.server(srv); got.PowerState != "powering-on" {
		t.Errorf("power_state = %s, want powering-on", got.PowerState)
	}
	// A different action while one runs is refused.
	wantError(t, c.do(http.MethodPut, "/physicalservers/power-state", jsonBody(map[string]any{"action": ActionPowerOff, "server_id_set": []string{srv}})),
		http.StatusBadRequest, "iMetal.0201")
	clk.Advance(powerDur)
	c.wantState(id, "running", "install-succeed")
	if len(sim.History(id)) != n+1 {
		t.Errorf("history grew by %d on power on, want 1", len(sim.History(id))-n)
	}

	c.power(ActionReboot, srv)
	if got := c.server(srv); got.PowerState != "rebooting" {
		t.Errorf("power_state = %s, want rebooting", got.PowerState)
	}
	clk.Advance(powerDur)
	c.wantState(id, "running", "install-succeed")
	if got := c.server(srv); got.PowerState != "on" {
		t.Errorf("after rebooting: %s, want on", got.PowerState)
	}
	if len(sim.History(id)) != n+1 {
		t.Errorf("a reboot changed the instance's state")
	}
	// The Go API sees the same.
	for _, s := range sim.Servers() {
		if s.ID == srv && (s.PowerState != PowerOn || s.InstanceID != id) {
			t.Errorf("Servers() has %+v", s)
		}
	}
}

func TestServers_powerRefusedWhileBusy(t *testing.T) {
	t.Parallel()
	sim, c, clk := opsSim(t, Options{})
	reinstalling := c.create(bodyWith(nil))
	modifying := c.create(bodyWith(nil))
	deleting := c.create(bodyWith(nil))
	failed := c.create(bodyWith(nil))
	clk.Advance(createDur)
	c.reinstall("", testPassword, reinstalling)
	c.modifyIP(modifying, DefaultVPCID, ipNICs(DefaultSubnetID, ""))
	c.delete(deleting)
	pending := c.create(bodyWith(nil))
	if err := sim.UpdateInstance(failed, func(in *Instance) { in.State = "error" }); err != nil {
		t.Fatal(err)
	}
	for name, id := range map[string]string{"pending": pending, "reinstalling": reinstalling, "modifying the IP": modifying, "shutting-down": deleting} {
		e := wantError(t, c.do(http.MethodPut, "/physicalservers/power-state", jsonBody(map[string]any{
			"action": ActionPowerOff, "server_id_set": []string{DefaultServerID(10), serverOf(sim, id)}})), http.StatusBadRequest, "iMetal.0201")
		if !strings.Contains(e.Msg, id) {
			t.Errorf("%s: error_msg %q does not name the instance", name, e.Msg)
		}
	}
	// All or nothing: the idle server of the refused requests is still on.
	if got := c.server(DefaultServerID(10)); got.PowerState != "on" {
		t.Errorf("idle server is %s after refused requests", got.PowerState)
	}
	// An instance in error allows it, and stays in error.
	c.power(ActionPowerOff, serverOf(sim, failed))
	clk.Advance(powerDur)
	c.wantState(failed, "error", "install-succeed")
	if got := c.server(serverOf(sim, failed)); got.PowerState != "off" {
		t.Errorf("server of the failed instance is %s", got.PowerState)
	}
}
