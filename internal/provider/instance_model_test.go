package provider

import (
	"context"
	"reflect"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/clouddc"
)

func nicList(t *testing.T, nics ...[2]attr.Value) types.List {
	t.Helper()
	vals := make([]attr.Value, len(nics))
	for i, n := range nics {
		vals[i] = types.ObjectValueMust(networkInterfaceAttrTypes, map[string]attr.Value{"subnet_id": n[0], "ipv4_address": n[1]})
	}
	return types.ListValueMust(networkInterfaceType, vals)
}

func TestExpandCreateInput(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := instanceResourceModel{
		Name: types.StringValue("web-1"), ImageID: types.StringValue("img"), VPCID: types.StringValue("vpc"),
		Password: types.StringValue("Secret-123"), Description: types.StringValue("d"),
		NetworkInterfaces: nicList(t,
			[2]attr.Value{types.StringValue("sn-1"), types.StringValue("192.168.0.9")},
			[2]attr.Value{types.StringValue("sn-2"), types.StringUnknown()}),
		Metadata: types.MapValueMust(types.StringType, map[string]attr.Value{"k": types.StringValue("v")}),
		ServerID: types.StringUnknown(),
	}
	got, diags := expandCreateInput(ctx, m)
	if diags.HasError() {
		t.Fatal(diags)
	}
	want := clouddc.CreateInstanceInput{
		Name: "web-1", ImageID: "img", VPCID: "vpc", Password: "Secret-123", Description: "d",
		NetworkInterfaces: []clouddc.NetworkInterface{{SubnetID: "sn-1", IPv4Address: "192.168.0.9"}, {SubnetID: "sn-2"}},
		Metadata:          map[string]string{"k": "v"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}

	m.ServerID = types.StringValue("srv-1")
	m.Metadata = types.MapNull(types.StringType)
	got, _ = expandCreateInput(ctx, m)
	if got.Placement == nil || got.Placement.ServerID != "srv-1" {
		t.Errorf("placement not set from server_id: %+v", got.Placement)
	}
	if got.Metadata != nil {
		t.Errorf("null metadata sent as %v", got.Metadata)
	}
}

func TestFlattenInstance(t *testing.T) {
	t.Parallel()
	in := &clouddc.Instance{
		ID: "i-1", Name: "web-1", VPCID: "vpc", Description: "",
		NetworkInterfaces: []clouddc.NetworkInterface{{SubnetID: "sn-1", IPv4Address: "192.168.0.2"}},
		Image:             clouddc.Image{ID: "img", Name: "Ubuntu", OSType: "Linux"},
		State:             clouddc.StateRunning, OperationState: "install-succeed",
		Metadata: map[string]string{}, ServerID: "srv-1", CreatedAt: "2026-01-01T00:00:00Z", LaunchedAt: "2026-01-01T00:05:00Z",
	}
	m := instanceResourceModel{Password: types.StringValue("keep-me"), Metadata: types.MapNull(types.StringType)}
	if diags := flattenInstance(in, &m); diags.HasError() {
		t.Fatal(diags)
	}
	checks := map[string]types.String{
		"id": m.ID, "name": m.Name, "image_id": m.ImageID, "vpc_id": m.VPCID, "server_id": m.ServerID, "state": m.State,
		"operation_state": m.OperationState, "image_name": m.ImageName, "os_type": m.OSType, "created_at": m.CreatedAt,
		"launched_at": m.LaunchedAt, "password": m.Password, "description": m.Description,
	}
	want := map[string]string{
		"id": "i-1", "name": "web-1", "image_id": "img", "vpc_id": "vpc", "server_id": "srv-1", "state": "running",
		"operation_state": "install-succeed", "image_name": "Ubuntu", "os_type": "Linux", "created_at": "2026-01-01T00:00:00Z",
		"launched_at": "2026-01-01T00:05:00Z", "password": "keep-me", "description": "",
	}
	for k, v := range checks {
		if v.ValueString() != want[k] || v.IsNull() {
			t.Errorf("%s = %v, want %q", k, v, want[k])
		}
	}
	if !m.Metadata.IsNull() {
		t.Errorf("empty metadata from the API should stay null when unset, got %v", m.Metadata)
	}
	nics, _ := expandNICs(context.Background(), m.NetworkInterfaces)
	if len(nics) != 1 || nics[0] != (clouddc.NetworkInterface{SubnetID: "sn-1", IPv4Address: "192.168.0.2"}) {
		t.Errorf("NICs = %+v", nics)
	}

	// Metadata added outside Terraform shows up (drift), even when unset.
	in.Metadata = map[string]string{"owner": "console"}
	_ = flattenInstance(in, &m)
	if got, ok := m.Metadata.Elements()["owner"].(types.String); !ok || got.ValueString() != "console" {
		t.Errorf("drifted metadata not read: %v", m.Metadata)
	}
	// Metadata configured and then cleared outside Terraform reads as empty.
	in.Metadata = nil
	_ = flattenInstance(in, &m)
	if m.Metadata.IsNull() || len(m.Metadata.Elements()) != 0 {
		t.Errorf("cleared metadata should read as an empty map, got %v", m.Metadata)
	}

	// The provider's create token is never read into the state: with no
	// metadata configured it stays null, and next to configured pairs it
	// is left out, so that it never shows as drift.
	in.Metadata = map[string]string{clouddc.CreateTokenKey: "0123abcd"}
	m.Metadata = types.MapNull(types.StringType)
	_ = flattenInstance(in, &m)
	if !m.Metadata.IsNull() {
		t.Errorf("a create token alone should leave unset metadata null, got %v", m.Metadata)
	}
	in.Metadata = map[string]string{clouddc.CreateTokenKey: "0123abcd", "team": "platform"}
	_ = flattenInstance(in, &m)
	if els := m.Metadata.Elements(); len(els) != 1 || els["team"] == nil {
		t.Errorf("metadata with the create token = %v, want only team", m.Metadata)
	}
	if len(in.Metadata) != 2 {
		t.Errorf("flattenInstance changed the API's map: %v", in.Metadata)
	}
}

func TestNewInstanceData_createToken(t *testing.T) {
	t.Parallel()
	d := newInstanceData(&clouddc.Instance{ID: "i-1", Metadata: map[string]string{clouddc.CreateTokenKey: "0123abcd", "team": "platform"}})
	if len(d.Metadata) != 1 || d.Metadata["team"] != "platform" || d.CreateToken.ValueString() != "0123abcd" {
		t.Errorf("metadata %v, create_token %v; want the token apart from the metadata", d.Metadata, d.CreateToken)
	}
	d = newInstanceData(&clouddc.Instance{ID: "i-2"})
	if d.CreateToken.ValueString() != "" || d.Metadata == nil {
		t.Errorf("an instance made otherwise: metadata %v, create_token %v", d.Metadata, d.CreateToken)
	}
}

func TestNullUnknowns(t *testing.T) {
	t.Parallel()
	m := instanceResourceModel{
		ID: types.StringValue("i-1"), ServerID: types.StringUnknown(), State: types.StringUnknown(),
		OperationState: types.StringUnknown(), ImageName: types.StringUnknown(), OSType: types.StringUnknown(),
		CreatedAt: types.StringUnknown(), LaunchedAt: types.StringUnknown(), Description: types.StringValue(""),
		Metadata:          types.MapUnknown(types.StringType),
		NetworkInterfaces: nicList(t, [2]attr.Value{types.StringValue("sn-1"), types.StringUnknown()}),
	}
	nullUnknowns(&m)
	for name, v := range map[string]attr.Value{"server_id": m.ServerID, "state": m.State, "operation_state": m.OperationState,
		"image_name": m.ImageName, "os_type": m.OSType, "created_at": m.CreatedAt, "launched_at": m.LaunchedAt, "metadata": m.Metadata} {
		if !v.IsNull() {
			t.Errorf("%s = %v, want null", name, v)
		}
	}
	if m.ID.ValueString() != "i-1" {
		t.Errorf("known values must be kept, id = %v", m.ID)
	}
	obj, ok := m.NetworkInterfaces.Elements()[0].(types.Object)
	if !ok {
		t.Fatalf("network interface = %T; want types.Object", m.NetworkInterfaces.Elements()[0])
	}
	nic := obj.Attributes()
	if subnet, ok := nic["subnet_id"].(types.String); !nic["ipv4_address"].IsNull() || !ok || subnet.ValueString() != "sn-1" {
		t.Errorf("NIC = %v", nic)
	}
}

func TestNICsDiffer(t *testing.T) {
	t.Parallel()
	s := func(v string) types.String { return types.StringValue(v) }
	state := []networkInterfaceModel{{SubnetID: s("sn-1"), IPv4Address: s("192.168.0.2")}}
	tests := []struct {
		name string
		cfg  []networkInterfaceModel
		want bool
	}{
		{"same, address left to the API", []networkInterfaceModel{{SubnetID: s("sn-1"), IPv4Address: types.StringNull()}}, false},
		{"same fixed address", []networkInterfaceModel{{SubnetID: s("sn-1"), IPv4Address: s("192.168.0.2")}}, false},
		{"other address", []networkInterfaceModel{{SubnetID: s("sn-1"), IPv4Address: s("192.168.0.3")}}, true},
		{"unknown address", []networkInterfaceModel{{SubnetID: s("sn-1"), IPv4Address: types.StringUnknown()}}, true},
		{"other subnet", []networkInterfaceModel{{SubnetID: s("sn-2"), IPv4Address: types.StringNull()}}, true},
		{"unknown subnet", []networkInterfaceModel{{SubnetID: types.StringUnknown(), IPv4Address: types.StringNull()}}, true},
		{"a second NIC", []networkInterfaceModel{{SubnetID: s("sn-1")}, {SubnetID: s("sn-2")}}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := nicsDiffer(tc.cfg, state); got != tc.want {
				t.Errorf("nicsDiffer = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestPasswordChanged(t *testing.T) {
	t.Parallel()
	pw := func(p string, version int64) instanceResourceModel {
		m := instanceResourceModel{Password: types.StringNull(), PasswordWOVersion: types.Int64Null()}
		if p != "" {
			m.Password = types.StringValue(p)
		}
		if version != 0 {
			m.PasswordWOVersion = types.Int64Value(version)
		}
		return m
	}
	tests := []struct {
		name        string
		plan, state instanceResourceModel
		want        bool
	}{
		{"same password", pw("A-Passw0rd", 0), pw("A-Passw0rd", 0), false},
		{"new password", pw("B-Passw0rd", 0), pw("A-Passw0rd", 0), true},
		{"imported: no password in state yet", pw("A-Passw0rd", 0), pw("", 0), true},
		{"same write-only version", pw("", 1), pw("", 1), false},
		{"write-only version bumped", pw("", 2), pw("", 1), true},
		{"write-only version lowered", pw("", 1), pw("", 2), true},
		{"password to write-only", pw("", 1), pw("A-Passw0rd", 0), true},
		{"write-only to password", pw("A-Passw0rd", 0), pw("", 3), true},
	}
	for _, tc := range tests {
		if got := passwordChanged(tc.plan, tc.state); got != tc.want {
			t.Errorf("%s: passwordChanged = %v, want %v", tc.name, got, tc.want)
		}
	}
}
