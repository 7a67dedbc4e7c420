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
		{name: "id", f: instanceFilter{IDs: []string{"i-0", "i-1"}}, want: true},
		{name: "other id", f: instanceFilter{IDs: []string{"i-2"}}},
		{name: "server", f: instanceFilter{ServerIDs: []string{"s-1"}}, want: true},
		{name: "other server", f: instanceFilter{ServerIDs: []string{"s-2"}}},
		{name: "name", f: instanceFilter{NameRegex: regexp.MustCompile(`^web-`)}, want: true},
		{name: "other name", f: instanceFilter{NameRegex: regexp.MustCompile(`^db-`)}},
		{name: "all of them", f: instanceFilter{State: "running", IDs: []string{"i-1"}, ServerIDs: []string{"s-1"}, NameRegex: regexp.MustCompile(`1$`)}, want: true},
		{name: "all but one", f: instanceFilter{State: "running", IDs: []string{"i-1"}, ServerIDs: []string{"s-9"}, NameRegex: regexp.MustCompile(`1$`)}},
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
