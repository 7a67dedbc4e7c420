package simulator

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestLegacy_stateNames: in Legacy mode every state and phase is answered
// with its 2025 name, by ShowInstanceStatus and ListInstances alike, while
// the stored state, the Go API and the history keep the current names.
func TestLegacy_stateNames(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	if err := f.sim.UpdateInstance(f.ids["stopped"], func(in *Instance) { in.State = "switch-installing" }); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"running":      "running",
		"pending":      "pending",
		"stopped":      "switch-installing", // set as drift above
		"deleting":     "shutting-down",
		"terminated":   "teminated",
		"createErr":    "failed",
		"reinstallErr": "failed",
		"reinstalling": "reinstalling",
		"modifying":    "modifyIping",
		"stopping":     "stopping",
	}
	current := map[string]string{
		"running": "running", "pending": "pending", "stopped": "switch-installing", "deleting": "shutting-down",
		"terminated": "terminated", "createErr": "error", "reinstallErr": "error", "reinstalling": "running",
		"modifying": "running", "stopping": "running",
	}
	check := func(t *testing.T, names map[string]string) {
		t.Helper()
		for name, state := range names {
			if got := f.c.with(t).status(f.ids[name]).State; got != state {
				t.Errorf("%s: status says %q, want %q", name, got, state)
			}
			if got := f.c.with(t).get(f.ids[name]).State; got != state {
				t.Errorf("%s: list says %q, want %q", name, got, state)
			}
		}
	}
	check(t, current)
	f.sim.SetLegacy(true)
	check(t, want)
	for name, state := range current {
		if in, _ := f.sim.Instance(f.ids[name]); in.State != state {
			t.Errorf("%s: the Go API says %q in legacy mode, want the stored %q", name, in.State, state)
		}
	}
	h := f.sim.History(f.ids["terminated"])
	if last := h[len(h)-1]; last.State != "terminated" {
		t.Errorf("history in legacy mode records %q, want terminated", last.State)
	}
	// The operation_state and the error are not renamed.
	st := f.c.status(f.ids["reinstallErr"])
	if st.OperationState != "reinstall-failed" || st.Error == nil || st.Error.Type != "reinstall_error" {
		t.Errorf("legacy status = %+v %+v", st, st.Error)
	}
	// Phases end: the instance is answered as running again.
	f.clk.Advance(powerDur)
	if got := f.c.status(f.ids["stopping"]).State; got != "stopped" {
		t.Errorf("after the power-off: %q, want stopped", got)
	}
	if got := f.c.status(f.ids["reinstalling"]).State; got != "running" {
		t.Errorf("after the reinstall: %q, want running", got)
	}
	f.sim.SetLegacy(false)
	if got := f.c.status(f.ids["terminated"]).State; got != "terminated" {
		t.Errorf("after SetLegacy(false): %q, want terminated", got)
	}
}

func TestLegacy_filter(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.sim.SetLegacy(true)
	ids := func(names ...string) []string {
		var out []string
		for _, n := range names {
			out = append(out, f.ids[n])
		}
		return sortedCopy(out)
	}
	for _, tt := range []struct {
		filter string
		want   []string
	}{
		{"teminated", ids("terminated")},
		{"terminated", ids("terminated")}, // the current name maps to the legacy one
		{"failed", ids("createErr", "reinstallErr")},
		{"error", ids("createErr", "reinstallErr")},
		{"reinstalling", ids("reinstalling")},
		{"modifyIping", ids("modifying")},
		{"stopping", ids("stopping")},
		{"running", ids("running")}, // not the instances in a phase
		{"stopped", ids("stopped")},
		{"shutting-down", ids("deleting")},
		{"pending", ids("pending")},
		{"switch-installing", nil},
	} {
		t.Run(tt.filter, func(t *testing.T) {
			l := f.c.with(t).list("instance_state=" + tt.filter)
			if got := sortedCopy(l.ids()); !slices.Equal(got, tt.want) || l.Count != len(tt.want) {
				t.Errorf("instance_state=%s gave %v (count %d), want %v", tt.filter, got, l.Count, tt.want)
			}
			for _, in := range l.Instances {
				if want := strings.NewReplacer("terminated", "teminated", "error", "failed").Replace(tt.filter); in.State != want {
					t.Errorf("listed %s as %q for filter %s", in.ID, in.State, tt.filter)
				}
			}
		})
	}
	e := wantError(t, f.c.do(http.MethodGet, "/instances?instance_state=deleted", ""), http.StatusBadRequest, "iMetal.0001")
	if !strings.Contains(e.Msg, "teminated") || !strings.Contains(e.Msg, "modifyIping") {
		t.Errorf("error_msg %q does not list the legacy names", e.Msg)
	}
	// Out of legacy mode the 2025 names are refused again.
	f.sim.SetLegacy(false)
	for _, name := range []string{"teminated", "failed", "stopping", "reinstalling", "modifyIping", "switch-installing"} {
		wantError(t, f.c.do(http.MethodGet, "/instances?instance_state="+name, ""), http.StatusBadRequest, "iMetal.0001")
	}
}

// TestLegacy_option: Options.Legacy starts the simulator in legacy mode.
func TestLegacy_option(t *testing.T) {
	t.Parallel()
	sim, c := startSim(t, Options{Legacy: true, Retention: time.Hour})
	sim.FailNextCreate("iMetal.0099", "boom")
	id := c.create(bodyWith(nil))
	if st := c.status(id); st.State != "failed" || st.OperationState != "install-failed" {
		t.Errorf("status = %s/%s, want failed/install-failed", st.State, st.OperationState)
	}
	c.delete(id) // instant: the next request sees it terminated
	if st := c.status(id); st.State != "teminated" || st.OperationState != "uninstall-succeed" {
		t.Errorf("status = %s/%s, want teminated/uninstall-succeed", st.State, st.OperationState)
	}
}
