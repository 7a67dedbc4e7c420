package provider

import (
	"regexp"
	"testing"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/clouddc"
)

func TestInstanceFilter_matches(t *testing.T) {
	t.Parallel()
	in := &clouddc.Instance{ID: "i-1", Name: "web-1", State: clouddc.StateRunning, ServerID: "s-1"}
	tests := []struct {
		name string
		f    instanceFilter
		want bool
	}{
		{name: "no filter", f: instanceFilter{}, want: true},
		{name: "state", f: instanceFilter{State: "running"}, want: true},
		{name: "other state", f: instanceFilter{State: "stopped"}},
		{name: "id", f: instanceFilter{InstanceIDs: []string{"i-0", "i-1"}}, want: true},
		{name: "other id", f: instanceFilter{InstanceIDs: []string{"i-2"}}},
		{name: "server", f: instanceFilter{ServerIDs: []string{"s-1"}}, want: true},
		{name: "other server", f: instanceFilter{ServerIDs: []string{"s-2"}}},
		{name: "name", f: instanceFilter{NameRegex: regexp.MustCompile(`^web-`)}, want: true},
		{name: "other name", f: instanceFilter{NameRegex: regexp.MustCompile(`^db-`)}},
		{name: "all of them", f: instanceFilter{State: "running", InstanceIDs: []string{"i-1"}, ServerIDs: []string{"s-1"}, NameRegex: regexp.MustCompile(`1$`)}, want: true},
		{name: "all but one", f: instanceFilter{State: "running", InstanceIDs: []string{"i-1"}, ServerIDs: []string{"s-9"}, NameRegex: regexp.MustCompile(`1$`)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.f.matches(in); got != tt.want {
				t.Errorf("matches = %v; want %v", got, tt.want)
			}
		})
	}
}

// TestInstanceFilter_leavesOutEndedInstances: instances being deleted or
// deleted pass only a filter that asks for their state.
func TestInstanceFilter_leavesOutEndedInstances(t *testing.T) {
	t.Parallel()
	for _, st := range []clouddc.State{clouddc.StateShuttingDown, clouddc.StateTerminated} {
		in := &clouddc.Instance{ID: "i-1", Name: "web-1", State: st}
		if (instanceFilter{}).matches(in) {
			t.Errorf("an instance in state %s passes an empty filter", st)
		}
		if (instanceFilter{InstanceIDs: []string{"i-1"}}).matches(in) {
			t.Errorf("an instance in state %s passes a filter by its ID alone", st)
		}
		if !(instanceFilter{State: string(st)}).matches(in) {
			t.Errorf("an instance in state %s does not pass state = %q", st, st)
		}
	}
	for _, st := range []clouddc.State{clouddc.StatePending, clouddc.StateRunning, clouddc.StateStopped, clouddc.StateError} {
		if !(instanceFilter{}).matches(&clouddc.Instance{ID: "i-1", State: st}) {
			t.Errorf("an instance in state %s does not pass an empty filter", st)
		}
	}
}

// TestAdoptable: the list resource leaves out instances that carry a
// create token, unless the filter names them by ID.
func TestAdoptable(t *testing.T) {
	t.Parallel()
	byHand := clouddc.Instance{ID: "i-hand", Metadata: map[string]string{"team": "a"}}
	made := clouddc.Instance{ID: "i-made", Metadata: map[string]string{clouddc.CreateTokenKey: "f00d"}}
	found := []clouddc.Instance{byHand, made}

	shown, left := adoptable(found, instanceFilter{})
	if len(shown) != 1 || shown[0].ID != "i-hand" || len(left) != 1 || left[0].ID != "i-made" {
		t.Errorf("without instance_ids: shown %v, left out %v; want i-hand shown and i-made left out", shown, left)
	}
	shown, left = adoptable(found, instanceFilter{InstanceIDs: []string{"i-made", "i-hand"}})
	if len(shown) != 2 || len(left) != 0 {
		t.Errorf("with both named in instance_ids: shown %v, left out %v; want both shown", shown, left)
	}
}

// TestListedInstance: what the list resource shows, and what generated
// configuration is written from, has what the API reports and no password.
func TestListedInstance(t *testing.T) {
	t.Parallel()
	in := &clouddc.Instance{
		ID: "2f6a3c52-7a7e-4b8a-9d4e-0c1f2a3b4c5d", Name: "web-1", State: clouddc.StateStopped, ServerID: "s-1", VPCID: "vpc",
		Image:             clouddc.Image{ID: "img", Name: "Ubuntu", OSType: "Linux"},
		NetworkInterfaces: []clouddc.NetworkInterface{{SubnetID: "sn", IPv4Address: "192.168.0.9"}},
		Metadata:          map[string]string{"team": "platform"},
	}
	m, diags := listedInstance(in)
	if diags.HasError() {
		t.Fatal(diags)
	}
	if m.ID.ValueString() != in.ID || m.Name.ValueString() != "web-1" || m.PowerState.ValueString() != powerOff ||
		m.ImageID.ValueString() != "img" || len(m.NetworkInterfaces.Elements()) != 1 {
		t.Errorf("listed instance %+v does not match the API's", m)
	}
	if !m.Password.IsNull() || !m.PasswordWO.IsNull() || !m.PasswordWOVersion.IsNull() {
		t.Error("a listed instance has a password; the API never returns one")
	}
	if !m.Timeouts.IsNull() {
		t.Error("a listed instance has timeouts")
	}
	if got := m.Metadata.Elements(); len(got) != 1 {
		t.Errorf("metadata = %v; want the API's", got)
	}
}
