package provider

import (
	"context"
	"regexp"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/attr"
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

// unknownWhenChanged keeps a computed value from the state, except when one
// of the given attributes changes in the plan: then the API will report a
// new value (a reinstall changes image_name and launched_at, for example),
// so the plan shows it as known after apply.
type unknownWhenChanged struct {
	attrs []string
}

func (m unknownWhenChanged) Description(context.Context) string {
	return "Kept from the state unless " + strings.Join(m.attrs, ", ") + " changes."
}

func (m unknownWhenChanged) MarkdownDescription(ctx context.Context) string {
	return m.Description(ctx)
}

func (m unknownWhenChanged) PlanModifyString(ctx context.Context, req planmodifier.StringRequest, resp *planmodifier.StringResponse) {
	if req.StateValue.IsNull() || !req.PlanValue.IsUnknown() || req.ConfigValue.IsUnknown() {
		return // creation, a configured value, or already decided
	}
	if !req.ConfigValue.IsNull() {
		return
	}
	for _, a := range m.attrs {
		var plan, state attr.Value
		resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root(a), &plan)...)
		resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root(a), &state)...)
		if resp.Diagnostics.HasError() {
			return
		}
		if plan.IsUnknown() || !plan.Equal(state) {
			return // stays unknown
		}
	}
	resp.PlanValue = req.StateValue
}

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
