package simulator

import (
	"testing"
	"time"
)

// TestServers_powerStateLag: with PowerStateLag, an accepted power action
// shows only after the lag, in ShowPhysicalServer and in
// ListPhysicalServers alike: a reboot reads on, rebooting, on.
func TestServers_powerStateLag(t *testing.T) {
	t.Parallel()
	const lag = powerDur / 4
	sim, c, clk := opsSim(t, Options{Servers: 2, PowerStateLag: lag})
	id := runningInstance(c, clk, nil)
	srv := serverOf(sim, id)

	listed := func() string {
		t.Helper()
		for _, s := range c.servers("").Servers {
			if s.ID == srv {
				return s.PowerState
			}
		}
		t.Fatalf("server %s is not listed", srv)
		return ""
	}
	want := func(power string) {
		t.Helper()
		if got := c.server(srv).PowerState; got != power {
			t.Errorf("ShowPhysicalServer: power_state = %s, want %s", got, power)
		}
		if got := listed(); got != power {
			t.Errorf("ListPhysicalServers: power_state = %s, want %s", got, power)
		}
	}

	c.power(ActionReboot, srv)
	want("on") // accepted, not shown yet
	clk.Advance(lag - time.Nanosecond)
	want("on")
	clk.Advance(time.Nanosecond)
	want("rebooting")
	clk.Advance(powerDur - lag)
	want("on")
	c.wantState(id, "running", "install-succeed")

	// A power off shows late too; the instance stops when the power
	// change ends, as without a lag.
	c.power(ActionPowerOff, srv)
	want("on")
	clk.Advance(lag)
	want("powering-off")
	clk.Advance(powerDur - lag)
	want("off")
	c.wantState(id, "stopped", "install-succeed")
}
