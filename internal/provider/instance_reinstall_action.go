package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/action/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/action"
	"github.com/hashicorp/terraform-plugin-framework/action/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/clouddc"
)

var (
	_ action.Action               = (*instanceReinstallAction)(nil)
	_ action.ActionWithConfigure  = (*instanceReinstallAction)(nil)
	_ action.ActionWithModifyPlan = (*instanceReinstallAction)(nil)
)

// NewInstanceReinstallAction returns the clouddc_instance_reinstall action.
func NewInstanceReinstallAction() action.Action { return &instanceReinstallAction{} }

// instanceReinstallAction reinstalls an instance's operating system from
// the image it already has: a fresh system disk on demand, without a change
// to the configuration. Changing the image is the resource's job (a change
// of image_id); an action that changed it would leave the resource planning
// to reinstall the old image back.
type instanceReinstallAction struct {
	client *clouddc.Client
}

type instanceReinstallModel struct {
	InstanceID         types.String   `tfsdk:"instance_id"`
	Password           types.String   `tfsdk:"password"`
	DeletionProtection types.Bool     `tfsdk:"deletion_protection"`
	Timeouts           timeouts.Value `tfsdk:"timeouts"`
}

func (a *instanceReinstallAction) Metadata(_ context.Context, req action.MetadataRequest, resp *action.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_instance_reinstall"
}

func (a *instanceReinstallAction) Schema(ctx context.Context, _ action.SchemaRequest, resp *action.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Reinstalls the operating system of an instance from the image it has (ReinstallOs) and waits until " +
			"the reinstall has succeeded and the instance is `running` or `stopped`. The instance keeps its ID, its server and " +
			"its data disks; its system disk is rebuilt, so **anything stored on the system disk is lost**. To install another " +
			"image, change the `clouddc_instance`'s `image_id` instead. Hand it the resource's `deletion_protection`: while that " +
			"is `true`, the action is refused at plan time.\n\n" +
			"**Needs Terraform 1.14 or later** (actions). The action reports the instance's state and the time elapsed as it waits. " +
			"A reinstall whose answer is lost (a 5xx or a dropped connection) is not sent again, since a second request could " +
			"start a second reinstall: the error says so, and the instance's `operation_state` tells whether it started. After an " +
			"earlier reinstall, the instance already reports `reinstall-succeed`; the action then waits for the API to show the " +
			"new reinstall (another `operation_state`, or a new `launched_at`) before it takes `reinstall-succeed` for its end.",
		Attributes: map[string]schema.Attribute{
			"instance_id": instanceIDActionAttribute(),
			"password": schema.StringAttribute{
				MarkdownDescription: "Administrator password of the reinstalled system, with the rules of the `clouddc_instance`'s " +
					"`password`. Give the instance's current password (the one the resource's `password` or `password_wo` holds): " +
					"the provider cannot read passwords back, so a different one here makes the resource's password silently wrong " +
					"until it is changed again. Write-only: it takes an ephemeral value (such as an `ephemeral = true` variable, " +
					"as with `password_wo`) and is never stored in a plan or in the state. Terraform 1.16 drops an ephemeral value " +
					"here when the action runs with `terraform apply -invoke` (the action then stops, before any request, and says " +
					"so): there, give a sensitive variable that is not ephemeral, or invoke the action from an `action_trigger`.",
				Required:   true,
				WriteOnly:  true,
				Validators: []validator.String{validPassword()},
			},
			"deletion_protection": schema.BoolAttribute{
				MarkdownDescription: "The instance's `deletion_protection`: give the resource's, such as " +
					"`clouddc_instance.web.deletion_protection`. While it is `true`, the action is refused at plan time, before any " +
					"request, as a change of the resource's `image_id` is: `deletion_protection` guards the instance against every " +
					"operation that wipes its system disk. An action cannot read Terraform's state, so the guard must be handed to it; " +
					"the argument is required so that it cannot be left out by mistake. For an instance that no configuration manages, " +
					"set `false`.",
				Required: true,
			},
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.BlockWithOpts(ctx, timeouts.Opts{
				InvokeDescription: "How long to wait for the reinstall to finish (a duration such as `45m`). Default: `20m`.",
			}),
		},
	}
}

// ModifyPlan refuses, at plan time, to reinstall an instance whose
// deletion_protection is true.
func (a *instanceReinstallAction) ModifyPlan(ctx context.Context, req action.ModifyPlanRequest, resp *action.ModifyPlanResponse) {
	var cfg instanceReinstallModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	refuseProtectedReinstall(&resp.Diagnostics, cfg)
}

// refuseProtectedReinstall reports whether the action must not reinstall,
// with the error that says why; an unknown protection is decided at invoke.
func refuseProtectedReinstall(diags *diag.Diagnostics, cfg instanceReinstallModel) bool {
	if !cfg.DeletionProtection.ValueBool() {
		return false
	}
	id := cfg.InstanceID.ValueString()
	if cfg.InstanceID.IsUnknown() {
		id = "(known after apply)"
	}
	diags.AddAttributeError(path.Root("deletion_protection"), "Instance Is Protected From Reinstalling",
		fmt.Sprintf("This action reinstalls the operating system of instance %s: its system disk is rebuilt, and everything stored "+
			"on it is lost. It was given deletion_protection = true, which guards the instance against every operation that wipes "+
			"its system disk, so it was not run, and the instance was not changed.\n\n"+
			"If the reinstall is meant, set deletion_protection = false on the instance's clouddc_instance resource and run "+
			"terraform apply (that changes only the state and makes no API call), then invoke the action again.", id))
	return true
}

// refuseMissingPassword reports whether the action has no password to send,
// with the error that says why. The password is required, but a CLI may
// still invoke the action without it: Terraform 1.16.4 drops an ephemeral
// value of a write-only action argument when the action runs with
// terraform apply -invoke (TestAccInstanceActions_reinstallInvokeEphemeral).
// The API would refuse an empty password; nothing is sent.
func refuseMissingPassword(diags *diag.Diagnostics, cfg instanceReinstallModel) bool {
	if !cfg.Password.IsNull() && !cfg.Password.IsUnknown() && cfg.Password.ValueString() != "" {
		return false
	}
	diags.AddAttributeError(path.Root("password"), "No Password Reached the Reinstall Action",
		"The configuration sets password, but Terraform invoked the action without its value, so nothing was sent to the API. "+
			"Terraform 1.16 does this with an ephemeral value (such as an ephemeral = true variable) when the action is run with "+
			"terraform apply -invoke. Give password a value that is not ephemeral (a sensitive variable; the argument is "+
			"write-only, so it is stored nowhere), or invoke the action from an action_trigger.")
	return true
}

func (a *instanceReinstallAction) Configure(_ context.Context, req action.ConfigureRequest, resp *action.ConfigureResponse) {
	if c := configureClient(req.ProviderData, &resp.Diagnostics); c != nil {
		a.client = c
	}
}

func (a *instanceReinstallAction) Invoke(ctx context.Context, req action.InvokeRequest, resp *action.InvokeResponse) {
	if !clientConfigured(a.client, &resp.Diagnostics) {
		return
	}
	var cfg instanceReinstallModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	// Known by now, even when it was not at plan time.
	if refuseProtectedReinstall(&resp.Diagnostics, cfg) || refuseMissingPassword(&resp.Diagnostics, cfg) {
		return
	}
	id := cfg.InstanceID.ValueString()
	ctx, cancel := invocationContext(ctx, cfg.Timeouts, id, &resp.Diagnostics)
	if ctx == nil {
		return
	}
	defer cancel()

	inst := readActionInstance(ctx, a.client, id, "reinstall", &resp.Diagnostics)
	if inst == nil {
		return
	}
	if inst.State != clouddc.StateRunning && inst.State != clouddc.StateStopped {
		resp.Diagnostics.AddError("Cannot Reinstall the Instance", stateRefusal(inst, powerKind{suffix: "reinstall",
			from: []clouddc.State{clouddc.StateRunning, clouddc.StateStopped}}))
		return
	}

	ctx, progress := startProgress(ctx, resp.SendProgress, "instance "+id)
	defer progress.stop()
	progress.sayNow(fmt.Sprintf("reinstalling image %s (%s)", inst.Image.ID, inst.Image.Name))
	tflog.Info(ctx, "reinstalling the instance's operating system", map[string]any{"image_id": inst.Image.ID})
	if err := a.client.ReinstallOS(ctx, id, "", cfg.Password.ValueString()); err != nil {
		addClientError(&resp.Diagnostics, "Unable to Reinstall the Instance", err)
		return
	}
	// inst is the instance before the request: after an earlier reinstall,
	// its reinstall-succeed must not be taken for this one's end.
	st, err := a.client.WaitForReinstall(ctx, inst.ID, inst)
	if err != nil {
		addActionWaitError(&resp.Diagnostics, "Reinstalling the Instance Failed", err)
		return
	}
	progress.say(fmt.Sprintf("reinstall done; the instance is %s", st.State))
}
