package provider

import (
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/types"
)

func TestPlannedSteps(t *testing.T) {
	t.Parallel()
	s := types.StringValue
	nic := func(subnet string, addr types.String) []networkInterfaceModel {
		return []networkInterfaceModel{{SubnetID: s(subnet), IPv4Address: addr}}
	}
	state := updateGoal{ImageID: s("img-1"), VPCID: s("vpc-1"), PowerState: s(powerOn), NICs: nic("sn-1", s("192.168.0.2"))}
	// want is the state's goal changed by edit, as a configuration that
	// leaves power_state and the address to the provider asks for it.
	want := func(edit func(*updateGoal)) updateGoal {
		g := updateGoal{ImageID: s("img-1"), VPCID: s("vpc-1"), PowerState: types.StringNull(), NICs: nic("sn-1", types.StringNull())}
		if edit != nil {
			edit(&g)
		}
		return g
	}
	tests := []struct {
		name string
		want updateGoal
		out  updateSteps
	}{
		{"nothing the API holds (a password change)", want(nil), updateSteps{}},
		{"the same power asked for", want(func(g *updateGoal) { g.PowerState = s(powerOn) }), updateSteps{}},
		{"the same fixed address", want(func(g *updateGoal) { g.NICs = nic("sn-1", s("192.168.0.2")) }), updateSteps{}},
		{"another image", want(func(g *updateGoal) { g.ImageID = s("img-2") }), updateSteps{reinstall: true}},
		{"an image not known yet", want(func(g *updateGoal) { g.ImageID = types.StringUnknown() }), updateSteps{reinstall: true}},
		{"another VPC", want(func(g *updateGoal) { g.VPCID = s("vpc-2") }), updateSteps{modifyIP: true}},
		{"another subnet", want(func(g *updateGoal) { g.NICs = nic("sn-2", types.StringNull()) }), updateSteps{modifyIP: true}},
		{"another address", want(func(g *updateGoal) { g.NICs = nic("sn-1", s("192.168.0.9")) }), updateSteps{modifyIP: true}},
		{"interfaces not known yet", want(func(g *updateGoal) { g.NICs, g.NICsUnknown = nil, true }), updateSteps{modifyIP: true}},
		{"powered off", want(func(g *updateGoal) { g.PowerState = s(powerOff) }), updateSteps{power: true}},
		{"a power not known yet", want(func(g *updateGoal) { g.PowerState = types.StringUnknown() }), updateSteps{power: true}},
		{"everything at once", want(func(g *updateGoal) { g.ImageID, g.VPCID, g.PowerState = s("img-2"), s("vpc-2"), s(powerOff) }),
			updateSteps{modifyIP: true, reinstall: true, power: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := plannedSteps(tc.want, state); got != tc.out {
				t.Errorf("plannedSteps = %+v, want %+v", got, tc.out)
			}
		})
	}
}
