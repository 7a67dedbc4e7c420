package provider

import (
	"context"
	"regexp"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func isUUID(s string) bool { return uuidRE.MatchString(s) }

// nicsDiffer reports whether the planned network interfaces differ from
// the state: another count, another subnet, or an address that differs (an
// address left to the API, null in the configuration, is no difference).
func nicsDiffer(cfg, state []networkInterfaceModel) bool {
	if len(cfg) != len(state) {
		return true
	}
	for i := range cfg {
		if differs(cfg[i].SubnetID, state[i].SubnetID) {
			return true
		}
		if !cfg[i].IPv4Address.IsNull() && differs(cfg[i].IPv4Address, state[i].IPv4Address) {
			return true
		}
	}
	return false
}

// differs reports whether a configured value is unknown or not equal to the
// state's value.
func differs(cfg, state types.String) bool {
	return cfg.IsUnknown() || !cfg.Equal(state)
}

// updateSteps are the API operations that an in-place update carries out.
// plannedSteps decides them, for Update and for the plan alike, so that the
// plan shows as "known after apply" exactly what the apply will change.
type updateSteps struct {
	modifyIP  bool // ModifyInstanceIp: another VPC, or other network interfaces
	reinstall bool // ReinstallOs: another image
	power     bool // a power action: power_state asked for, and not the current one
}

// updateGoal is what an update is asked to reach (from the plan, or from
// the configuration while planning), or what the state holds.
type updateGoal struct {
	ImageID, VPCID, PowerState types.String
	NICs                       []networkInterfaceModel
	// NICsUnknown: the network interfaces are not known yet (they come
	// from another resource that is not created yet).
	NICsUnknown bool
}

// plannedSteps is the one rule for what an update does. A NIC address
// left to the API (null) is no change, and a power_state left unset
// changes nothing; an unknown value counts as a change.
func plannedSteps(want, state updateGoal) updateSteps {
	return updateSteps{
		modifyIP:  differs(want.VPCID, state.VPCID) || want.NICsUnknown || nicsDiffer(want.NICs, state.NICs),
		reinstall: differs(want.ImageID, state.ImageID),
		power:     !want.PowerState.IsNull() && differs(want.PowerState, state.PowerState),
	}
}

// readUpdateGoal reads the attributes plannedSteps needs from a
// configuration, a plan or a state.
func readUpdateGoal(ctx context.Context, get func(context.Context, path.Path, any) diag.Diagnostics) (updateGoal, diag.Diagnostics) {
	var g updateGoal
	var nics types.List
	var diags diag.Diagnostics
	diags.Append(get(ctx, path.Root("image_id"), &g.ImageID)...)
	diags.Append(get(ctx, path.Root("vpc_id"), &g.VPCID)...)
	diags.Append(get(ctx, path.Root("power_state"), &g.PowerState)...)
	diags.Append(get(ctx, path.Root("network_interfaces"), &nics)...)
	if diags.HasError() {
		return g, diags
	}
	if g.NICsUnknown = nics.IsUnknown(); !g.NICsUnknown {
		var d diag.Diagnostics
		g.NICs, d = nicModels(ctx, nics)
		diags.Append(d...)
	}
	return g, diags
}

// keptUnlessUpdated plans a computed value that only some API operations
// change: it keeps the value from the state unless the update runs one of
// them (a reinstall changes image_name and launched_at, for example); then
// the plan shows it as known after apply. Anything else, a password change
// above all, leaves it as it is.
type keptUnlessUpdated struct {
	// changedBy reports whether the update's steps change the value.
	changedBy func(updateSteps) bool
	// by names those steps, for the description.
	by string
}

func (m keptUnlessUpdated) Description(context.Context) string {
	return "Kept from the state unless " + m.by + " changes it."
}

func (m keptUnlessUpdated) MarkdownDescription(ctx context.Context) string {
	return m.Description(ctx)
}

func (m keptUnlessUpdated) PlanModifyString(ctx context.Context, req planmodifier.StringRequest, resp *planmodifier.StringResponse) {
	if req.StateValue.IsNull() || !req.PlanValue.IsUnknown() || !req.ConfigValue.IsNull() {
		return // a creation, or already decided
	}
	// The configuration, not the plan: the plan's optional and computed
	// values (power_state, the NICs' addresses) are still unknown while
	// their own modifiers have not run.
	want, diags := readUpdateGoal(ctx, req.Config.GetAttribute)
	resp.Diagnostics.Append(diags...)
	cur, diags := readUpdateGoal(ctx, req.State.GetAttribute)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() || m.changedBy(plannedSteps(want, cur)) {
		return // stays unknown
	}
	resp.PlanValue = req.StateValue
}

var (
	// keptUnlessAnyStep: state, which any of the operations moves.
	keptUnlessAnyStep = keptUnlessUpdated{
		changedBy: func(s updateSteps) bool { return s.modifyIP || s.reinstall || s.power },
		by:        "a reinstall, an IP change or a power action",
	}
	// keptUnlessLongOperation: operation_state, which shows the last
	// reinstall or IP change.
	keptUnlessLongOperation = keptUnlessUpdated{
		changedBy: func(s updateSteps) bool { return s.modifyIP || s.reinstall },
		by:        "a reinstall or an IP change",
	}
	// keptUnlessReinstalled: what the image gives the instance.
	keptUnlessReinstalled = keptUnlessUpdated{
		changedBy: func(s updateSteps) bool { return s.reinstall },
		by:        "a reinstall",
	}
)

// nicAddressModifier plans a NIC's ipv4_address. An address the
// configuration leaves to the API keeps its current value while the NIC
// stays on the same subnet, and becomes unknown when the NIC moves to
// another subnet or is new, since the API then assigns one.
type nicAddressModifier struct{}

func (nicAddressModifier) Description(context.Context) string {
	return "Kept from the state while the interface stays on its subnet."
}

func (m nicAddressModifier) MarkdownDescription(ctx context.Context) string {
	return m.Description(ctx)
}

func (nicAddressModifier) PlanModifyString(ctx context.Context, req planmodifier.StringRequest, resp *planmodifier.StringResponse) {
	if !req.ConfigValue.IsNull() || req.StateValue.IsNull() || !req.PlanValue.IsUnknown() {
		return
	}
	subnet := req.Path.ParentPath().AtName("subnet_id")
	var planSubnet, stateSubnet types.String
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, subnet, &planSubnet)...)
	resp.Diagnostics.Append(req.State.GetAttribute(ctx, subnet, &stateSubnet)...)
	if resp.Diagnostics.HasError() || planSubnet.IsUnknown() || !planSubnet.Equal(stateSubnet) {
		return
	}
	resp.PlanValue = req.StateValue
}
