package provider

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/action/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/action"
	"github.com/hashicorp/terraform-plugin-framework/action/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/clouddc"
)

// The API can power only physical servers on and off and reboot them
// (ChangePhysicalServerPowerState); an instance runs while its server is
// on. The power actions therefore take an instance, find its server by
// the instance's server_id, change the server's power, and wait until the
// instance (and, for a reboot, the server) reaches its end state.

var (
	_ action.Action              = (*serverPowerAction)(nil)
	_ action.ActionWithConfigure = (*serverPowerAction)(nil)
)

// defaultActionTimeout bounds an action's wait unless its timeouts block
// says otherwise. A server's power cycle takes minutes, not half an hour.
const defaultActionTimeout = 20 * time.Minute

// powerKind is one of the power actions.
type powerKind struct {
	suffix    string // of the type name: clouddc_instance_<suffix>
	title     string // "Power On", for diagnostics
	past      string // "powered on", for progress
	apiAction string // clouddc.ActionPowerOn, ...
	// from are the instance states the action starts from; done is the
	// state it ends in.
	from []clouddc.State
	done clouddc.State
	desc string
}

var (
	powerOnKind = powerKind{
		suffix: "power_on", title: "Power On", past: "powered on", apiAction: clouddc.ActionPowerOn,
		from: []clouddc.State{clouddc.StateStopped}, done: clouddc.StateRunning,
		desc: "Powers on the physical server under an instance and waits until the instance is `running`. " +
			"An instance that is already running is left as it is.",
	}
	powerOffKind = powerKind{
		suffix: "power_off", title: "Power Off", past: "powered off", apiAction: clouddc.ActionPowerOff,
		from: []clouddc.State{clouddc.StateRunning}, done: clouddc.StateStopped,
		desc: "Powers off the physical server under an instance and waits until the instance is `stopped`. " +
			"An instance that is already stopped is left as it is.",
	}
	rebootKind = powerKind{
		suffix: "reboot", title: "Reboot", past: "rebooted", apiAction: clouddc.ActionReboot,
		from: []clouddc.State{clouddc.StateRunning}, done: clouddc.StateRunning,
		desc: "Reboots the physical server under a running instance and waits until the server is back `on` and the " +
			"instance `running`. A password changed with `ChangeInstancePassword` (a change of the `clouddc_instance`'s " +
			"`password` or `password_wo_version`) takes effect at this reboot.\n\n" +
			"A server starts and ends a reboot `on`, and the API may still report `on` for a moment after accepting the " +
			"request, so `on` only counts as the end once the server was seen rebooting. When it is never seen rebooting " +
			"within ten polls (ten seconds), the action ends with a warning that says so.",
	}
)

// NewInstancePowerOnAction returns the clouddc_instance_power_on action.
func NewInstancePowerOnAction() action.Action { return &serverPowerAction{kind: powerOnKind} }

// NewInstancePowerOffAction returns the clouddc_instance_power_off action.
func NewInstancePowerOffAction() action.Action { return &serverPowerAction{kind: powerOffKind} }

// NewInstanceRebootAction returns the clouddc_instance_reboot action.
func NewInstanceRebootAction() action.Action { return &serverPowerAction{kind: rebootKind} }

type serverPowerAction struct {
	kind   powerKind
	client *clouddc.Client
}

// instanceActionModel is the configuration of every instance action.
type instanceActionModel struct {
	InstanceID types.String   `tfsdk:"instance_id"`
	Timeouts   timeouts.Value `tfsdk:"timeouts"`
}

func (a *serverPowerAction) Metadata(_ context.Context, req action.MetadataRequest, resp *action.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_instance_" + a.kind.suffix
}

func (a *serverPowerAction) Schema(ctx context.Context, _ action.SchemaRequest, resp *action.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: a.kind.desc + "\n\n**Needs Terraform 1.14 or later** (actions); OpenTofu and older Terraform " +
			"versions reject a configuration with an `action` block. The action reports the instance's state and the time " +
			"elapsed as it waits. If the instance's `clouddc_instance` sets `power_state`, the next plan powers the server " +
			"back to that state: leave `power_state` unset on instances that actions power on and off.",
		Attributes: map[string]schema.Attribute{
			"instance_id": instanceIDActionAttribute(),
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.BlockWithOpts(ctx, timeouts.Opts{
				InvokeDescription: "How long to wait for the end state (a duration such as `45m`). Default: `20m`.",
			}),
		},
	}
}

func (a *serverPowerAction) Configure(_ context.Context, req action.ConfigureRequest, resp *action.ConfigureResponse) {
	if c := configureClient(req.ProviderData, &resp.Diagnostics); c != nil {
		a.client = c
	}
}

func (a *serverPowerAction) Invoke(ctx context.Context, req action.InvokeRequest, resp *action.InvokeResponse) {
	if !clientConfigured(a.client, &resp.Diagnostics) {
		return
	}
	var cfg instanceActionModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	id := cfg.InstanceID.ValueString()
	ctx, cancel := invocationContext(ctx, cfg.Timeouts, id, &resp.Diagnostics)
	if ctx == nil {
		return
	}
	defer cancel()
	k := a.kind

	inst := readActionInstance(ctx, a.client, id, strings.ToLower(k.title), &resp.Diagnostics)
	if inst == nil {
		return
	}
	if inst.State == k.done && k.apiAction != clouddc.ActionReboot {
		resp.SendProgress(action.InvokeProgressEvent{Message: fmt.Sprintf("instance %s is already %s; nothing to do", id, inst.State)})
		return
	}
	if !slices.Contains(k.from, inst.State) {
		resp.Diagnostics.AddError("Cannot "+k.title+" the Instance", stateRefusal(inst, k))
		return
	}

	ctx, progress := startProgress(ctx, resp.SendProgress, "instance "+id)
	defer progress.stop()
	progress.sayNow(fmt.Sprintf("%s physical server %s", progressVerb(k), inst.ServerID))
	tflog.Info(ctx, "changing the power of the instance's server", map[string]any{"server_id": inst.ServerID, "action": k.apiAction})
	if err := a.client.ChangeServerPowerState(ctx, k.apiAction, inst.ServerID); err != nil {
		addClientError(&resp.Diagnostics, fmt.Sprintf("Unable to %s the Instance's Physical Server", k.title), err)
		return
	}
	if k.apiAction == clouddc.ActionReboot {
		_, seen, err := a.client.WaitForServerReboot(ctx, inst.ServerID)
		if err != nil {
			addActionWaitError(&resp.Diagnostics, "Physical Server Did Not Come Back On", err)
			return
		}
		if !seen {
			// A server starts and ends a reboot on: without seeing it
			// reboot, on proves nothing either way. Say so.
			resp.Diagnostics.AddWarning("Reboot Not Seen",
				fmt.Sprintf("The API accepted the reboot of physical server %s, but reported it on at every poll for %s: the reboot "+
					"either came and went between two polls or has not started yet. If it matters (for a new password to take "+
					"effect, say), check the server in the CloudDC console.", inst.ServerID, a.client.RebootGrace()))
		}
	}
	if _, err := a.client.WaitForPowerState(ctx, id, k.done); err != nil {
		addActionWaitError(&resp.Diagnostics, fmt.Sprintf("Instance Did Not Become %s", capitalize(string(k.done))), err)
		return
	}
	progress.say(fmt.Sprintf("%s; the instance is %s", k.past, k.done))
}

// stateRefusal explains why an instance in its state cannot take a power
// action, and what to do instead.
func stateRefusal(inst *clouddc.Instance, k powerKind) string {
	msg := fmt.Sprintf("Instance %s is %s", inst.ID, inst.State)
	if inst.OperationState != "" {
		msg += fmt.Sprintf(" (operation_state %s)", inst.OperationState)
	}
	switch {
	case k.apiAction == clouddc.ActionReboot && inst.State == clouddc.StateStopped:
		return msg + ": its physical server is off and cannot be rebooted. Power it on instead (clouddc_instance_power_on)."
	case inst.State == clouddc.StatePending || inst.State == clouddc.StateShuttingDown:
		return msg + ": wait until its installation or deletion ends, then run the action again."
	case inst.State == clouddc.StateError:
		return msg + ": its last operation failed. Look at the instance in the CloudDC console, or replace it."
	}
	return msg + fmt.Sprintf(": a %s needs it to be %s. Wait until its current operation ends, then run the action again.",
		k.suffix, joinStates(k.from))
}

func joinStates(states []clouddc.State) string {
	out := ""
	for i, s := range states {
		if i > 0 {
			out += " or "
		}
		out += string(s)
	}
	return out
}

func progressVerb(k powerKind) string {
	switch k.apiAction {
	case clouddc.ActionPowerOn:
		return "powering on"
	case clouddc.ActionPowerOff:
		return "powering off"
	}
	return "rebooting"
}

func capitalize(s string) string {
	return strings.ToUpper(s[:1]) + s[1:]
}
