package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/clouddc"
)

// instanceResourceModel is the Terraform view of an iMetal instance.
type instanceResourceModel struct {
	ID                types.String   `tfsdk:"id"`
	Name              types.String   `tfsdk:"name"`
	ImageID           types.String   `tfsdk:"image_id"`
	VPCID             types.String   `tfsdk:"vpc_id"`
	NetworkInterfaces types.List     `tfsdk:"network_interfaces"`
	Password          types.String   `tfsdk:"password"`
	PasswordWO        types.String   `tfsdk:"password_wo"` // write-only: null in plan and state
	PasswordWOVersion types.Int64    `tfsdk:"password_wo_version"`
	Metadata          types.Map      `tfsdk:"metadata"`
	Tags              types.Map      `tfsdk:"tags"`
	Description       types.String   `tfsdk:"description"`
	ServerID          types.String   `tfsdk:"server_id"`
	PowerState        types.String   `tfsdk:"power_state"`
	State             types.String   `tfsdk:"state"`
	OperationState    types.String   `tfsdk:"operation_state"`
	ImageName         types.String   `tfsdk:"image_name"`
	OSType            types.String   `tfsdk:"os_type"`
	CreatedAt         types.String   `tfsdk:"created_at"`
	LaunchedAt        types.String   `tfsdk:"launched_at"`
	ProjectID         types.String   `tfsdk:"project_id"`
	Timeouts          timeouts.Value `tfsdk:"timeouts"`

	// DeletionProtection is the provider's alone: it is never sent to the
	// API (instance_deletion_protection.go).
	DeletionProtection types.Bool `tfsdk:"deletion_protection"`
}

// networkInterfaceModel is one element of network_interfaces.
type networkInterfaceModel struct {
	SubnetID    types.String `tfsdk:"subnet_id"`
	IPv4Address types.String `tfsdk:"ipv4_address"`
}

var networkInterfaceAttrTypes = map[string]attr.Type{
	"subnet_id":    types.StringType,
	"ipv4_address": types.StringType,
}

var networkInterfaceType = types.ObjectType{AttrTypes: networkInterfaceAttrTypes}

// expandCreateInput builds the CreateInstance body from a plan. The plan is
// wholly known for the arguments (Terraform resolves them before apply);
// an ipv4_address left to the API is unknown and is omitted.
func expandCreateInput(ctx context.Context, m instanceResourceModel) (clouddc.CreateInstanceInput, diag.Diagnostics) {
	var diags diag.Diagnostics
	in := clouddc.CreateInstanceInput{
		Name:        m.Name.ValueString(),
		ImageID:     m.ImageID.ValueString(),
		VPCID:       m.VPCID.ValueString(),
		Password:    m.Password.ValueString(),
		Description: m.Description.ValueString(),
	}
	nics, d := expandNICs(ctx, m.NetworkInterfaces)
	diags.Append(d...)
	in.NetworkInterfaces = nics
	if !m.Metadata.IsNull() && !m.Metadata.IsUnknown() {
		md := map[string]string{}
		diags.Append(m.Metadata.ElementsAs(ctx, &md, false)...)
		in.Metadata = md
	}
	if id := m.ServerID.ValueString(); id != "" {
		in.Placement = &clouddc.Placement{ServerID: id}
	}
	return in, diags
}

// passwordChanged reports whether the configuration asks for a new
// password: password changed, or, with password_wo, its version changed
// (the value itself is not in the state, so its version stands for it).
// Moving between password and password_wo counts as a change.
func passwordChanged(plan, state instanceResourceModel) bool {
	if !plan.Password.IsNull() {
		return !plan.Password.Equal(state.Password)
	}
	return !plan.PasswordWOVersion.Equal(state.PasswordWOVersion)
}

// Values of power_state.
const (
	powerOn  = "on"
	powerOff = "off"
)

// powerOf is the power_state that an instance state implies, or "" when
// the state says nothing about power (pending, error, ...).
func powerOf(s clouddc.State) string {
	switch s {
	case clouddc.StateRunning:
		return powerOn
	case clouddc.StateStopped, clouddc.StateStopping:
		return powerOff
	}
	return ""
}

// nicModels reads the elements of network_interfaces.
func nicModels(ctx context.Context, l types.List) ([]networkInterfaceModel, diag.Diagnostics) {
	var elems []networkInterfaceModel
	diags := l.ElementsAs(ctx, &elems, false)
	return elems, diags
}

func expandNICs(ctx context.Context, l types.List) ([]clouddc.NetworkInterface, diag.Diagnostics) {
	elems, diags := nicModels(ctx, l)
	out := make([]clouddc.NetworkInterface, len(elems))
	for i, e := range elems {
		out[i] = clouddc.NetworkInterface{SubnetID: e.SubnetID.ValueString(), IPv4Address: e.IPv4Address.ValueString()}
	}
	return out, diags
}

// flattenInstance copies what the API reports into m. The password is never
// returned by the API, so m keeps its own; metadata that the configuration
// leaves unset stays null when the API reports none.
func flattenInstance(in *clouddc.Instance, m *instanceResourceModel) diag.Diagnostics {
	var diags diag.Diagnostics
	m.ID = types.StringValue(in.ID)
	m.Name = types.StringValue(in.Name)
	m.ImageID = types.StringValue(in.Image.ID)
	m.VPCID = types.StringValue(in.VPCID)
	m.Description = types.StringValue(in.Description)
	m.ServerID = types.StringValue(in.ServerID)
	m.State = types.StringValue(string(in.State))
	m.OperationState = types.StringValue(in.OperationState)
	m.ImageName = types.StringValue(in.Image.Name)
	m.OSType = types.StringValue(in.Image.OSType)
	m.CreatedAt = types.StringValue(in.CreatedAt)
	m.LaunchedAt = types.StringValue(in.LaunchedAt)
	if p := powerOf(in.State); p != "" {
		m.PowerState = types.StringValue(p)
	} else if m.PowerState.IsUnknown() {
		m.PowerState = types.StringNull()
	}

	nics := make([]attr.Value, len(in.NetworkInterfaces))
	for i, n := range in.NetworkInterfaces {
		obj, d := types.ObjectValue(networkInterfaceAttrTypes, map[string]attr.Value{
			"subnet_id":    types.StringValue(n.SubnetID),
			"ipv4_address": types.StringValue(n.IPv4Address),
		})
		diags.Append(d...)
		nics[i] = obj
	}
	list, d := types.ListValue(networkInterfaceType, nics)
	diags.Append(d...)
	m.NetworkInterfaces = list

	tags := make(map[string]attr.Value, len(in.Tags))
	for _, t := range in.Tags {
		tags[t.Key] = types.StringValue(t.Value)
	}
	tv, d := types.MapValue(types.StringType, tags)
	diags.Append(d...)
	m.Tags = tv

	userMD := userMetadata(in.Metadata)
	if len(userMD) == 0 && (m.Metadata.IsNull() || m.Metadata.IsUnknown()) {
		m.Metadata = types.MapNull(types.StringType)
	} else {
		md := make(map[string]attr.Value, len(userMD))
		for k, v := range userMD {
			md[k] = types.StringValue(v)
		}
		mv, d := types.MapValue(types.StringType, md)
		diags.Append(d...)
		m.Metadata = mv
	}
	return diags
}

// userMetadata is an instance's metadata without the create token that
// the provider adds to every instance it creates: the token is the
// provider's, not the configuration's, and must never show as drift.
func userMetadata(md map[string]string) map[string]string {
	if _, ok := md[clouddc.CreateTokenKey]; !ok {
		return md
	}
	out := make(map[string]string, len(md)-1)
	for k, v := range md {
		if k != clouddc.CreateTokenKey {
			out[k] = v
		}
	}
	return out
}

// nullUnknowns replaces the values still unknown in a planned model by null,
// so that the model can be saved to state before the API has filled them in.
func nullUnknowns(m *instanceResourceModel) {
	for _, s := range []*types.String{&m.ServerID, &m.PowerState, &m.State, &m.OperationState, &m.ImageName, &m.OSType,
		&m.CreatedAt, &m.LaunchedAt, &m.Description} {
		if s.IsUnknown() {
			*s = types.StringNull()
		}
	}
	if m.Metadata.IsUnknown() {
		m.Metadata = types.MapNull(types.StringType)
	}
	if m.Tags.IsUnknown() {
		m.Tags = types.MapNull(types.StringType)
	}
	if m.NetworkInterfaces.IsUnknown() {
		m.NetworkInterfaces = types.ListNull(networkInterfaceType)
		return
	}
	elems := m.NetworkInterfaces.Elements()
	out := make([]attr.Value, len(elems))
	for i, e := range elems {
		obj, ok := e.(types.Object)
		if !ok || obj.IsUnknown() {
			out[i] = types.ObjectNull(networkInterfaceAttrTypes)
			continue
		}
		attrs := obj.Attributes()
		fixed := make(map[string]attr.Value, len(attrs))
		for k, v := range attrs {
			if v.IsUnknown() {
				v = types.StringNull()
			}
			fixed[k] = v
		}
		out[i] = types.ObjectValueMust(networkInterfaceAttrTypes, fixed)
	}
	m.NetworkInterfaces = types.ListValueMust(networkInterfaceType, out)
}
