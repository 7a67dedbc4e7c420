package simulator

import (
	"net/http"
	"testing"
	"time"
)

const testLag = 20 * time.Second

// TestOperationLag_reinstall: an accepted reinstall shows the instance as it
// was (running, install-succeed) for the lag, in listings and in
// ShowInstanceStatus; then it shows as processing and takes its normal
// duration. The instance is busy from the start.
func TestOperationLag_reinstall(t *testing.T) {
	t.Parallel()
	sim, c, clk := opsSim(t, Options{AdminToken: testAdminToken})
	id := runningInstance(c, clk, nil)
	sim.SetOperationLag(testLag)
	c.reinstall(DefaultImageID2, testPassword, id)
	c.wantState(id, "running", "install-succeed")
	if in := c.get(id); in.State != "running" || in.OperationState != "install-succeed" {
		t.Errorf("listed during the lag as %s/%s, want running/install-succeed", in.State, in.OperationState)
	}
	if l := c.list("instance_state=running&instance_id=" + id); len(l.Instances) != 1 {
		t.Errorf("the instance_state filter uses the shown state: %v", l.ids())
	}
	wantError(t, c.do(http.MethodPut, "/instances/reinstall", jsonBody(map[string]any{"password": testPassword, "instance_id_set": []string{id}})),
		http.StatusBadRequest, "iMetal.0201")
	clk.Advance(testLag)
	c.wantState(id, "running", "reinstall-processing")
	clk.Advance(reinstallDur - time.Second)
	c.wantState(id, "running", "reinstall-processing")
	clk.Advance(time.Second)
	c.wantState(id, "running", "reinstall-succeed")
	if in, _ := sim.Instance(id); in.Image.ID != DefaultImageID2 {
		t.Errorf("image %s after the reinstall, want %s", in.Image.ID, DefaultImageID2)
	}
}

// TestOperationLag_modifyIPAndLegacy: a previous error shows on through the
// lag, legacy mode shows the old state rather than reinstalling, an IP
// change shows late too, and a deletion ends the lag at once.
func TestOperationLag_modifyIPAndLegacy(t *testing.T) {
	t.Parallel()
	sim, c, clk := opsSim(t, Options{AdminToken: testAdminToken})
	id := runningInstance(c, clk, nil)
	sim.FailNextReinstall("iMetal.0099", "the disk did not answer")
	c.reinstall("", testPassword, id)
	clk.Advance(reinstallDur)
	failed := c.wantState(id, "error", "reinstall-failed")
	if failed.Error == nil {
		t.Fatal("no error after the failed reinstall")
	}

	c.adminOK(http.MethodPut, "/_simulator/settings", `{"operation_lag": "20s", "legacy": true}`, http.StatusOK)
	c.reinstall("", testPassword, id) // a failed reinstall may be retried
	st := c.wantState(id, "failed", "reinstall-failed")
	if st.Error == nil || st.Error.Msg != "the disk did not answer" {
		t.Errorf("during the lag the error shows %+v, want the previous one", st.Error)
	}
	clk.Advance(testLag)
	c.wantState(id, "reinstalling", "reinstall-processing")
	clk.Advance(reinstallDur)
	c.wantState(id, "running", "reinstall-succeed")

	c.modifyIP(id, DefaultVPCID, ipNICs(DefaultSubnetID2, ""))
	c.wantState(id, "running", "reinstall-succeed")
	c.delete(id)
	c.wantState(id, "shutting-down", "uninstall-processing")

	c.adminOK(http.MethodPut, "/_simulator/settings", `{"operation_lag": 0, "legacy": false}`, http.StatusOK)
	wantError(t, c.admin(http.MethodPut, "/_simulator/settings", `{"operation_lag": "-1s"}`), http.StatusBadRequest, "SIM.0400")
}
