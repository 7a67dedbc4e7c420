package provider

import (
	"context"
	"regexp"

	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func isUUID(s string) bool { return uuidRE.MatchString(s) }

// nicsRequireReplace replaces the instance when the configured network
// interfaces differ from the state: another count, another subnet, or a
// fixed address that differs. An address left to the API (null in the
// configuration) is not a difference, which a plain RequiresReplace on the
// list would get wrong: the nested ipv4_address is still unknown when the
// list's modifiers run.
type nicsRequireReplace struct{}

func (nicsRequireReplace) Description(context.Context) string {
	return "Changing the network interfaces creates a new instance."
}

func (m nicsRequireReplace) MarkdownDescription(ctx context.Context) string {
	return m.Description(ctx)
}

func (nicsRequireReplace) PlanModifyList(ctx context.Context, req planmodifier.ListRequest, resp *planmodifier.ListResponse) {
	if req.StateValue.IsNull() {
		return // creation
	}
	if req.ConfigValue.IsUnknown() {
		resp.RequiresReplace = true
		return
	}
	var cfg, state []networkInterfaceModel
	resp.Diagnostics.Append(req.ConfigValue.ElementsAs(ctx, &cfg, false)...)
	resp.Diagnostics.Append(req.StateValue.ElementsAs(ctx, &state, false)...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.RequiresReplace = nicsDiffer(cfg, state)
}

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
