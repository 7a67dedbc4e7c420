package provider

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/clouddc-tf/terraform-provider-clouddc/internal/clouddc"
)

// deletion_protection guards every operation that wipes an instance's
// system disk: a destroy, a replacement, a change of image_id (an in-place
// reinstall) and the clouddc_instance_reinstall action. CloudDC has no lock
// of its own, so the guard lives in the provider, kept in the state, as
// Google's provider keeps deletion_protection on some resources. One flag
// rather than hcloud's two (delete_protection and rebuild_protection): the
// Hetzner API wants both equal anyway, and on AWS and Google an image change
// replaces the instance, so that their deletion guards catch it too.
//
// The guard is what the state holds when the plan is made. It is refused
// at plan time where Terraform shows the provider the operation (ModifyPlan
// sees a null plan, a replacement or a new image_id; the action's
// ModifyPlan sees its deletion_protection), and in any case by Delete and
// by the action's Invoke before any API call.

var _ resource.ResourceWithModifyPlan = (*instanceResource)(nil)

// deletionProtectionAttribute is the schema of deletion_protection.
func deletionProtectionAttribute() schema.BoolAttribute {
	return schema.BoolAttribute{
		MarkdownDescription: "While `true`, Terraform refuses every operation that wipes the instance's system disk: " +
			"`terraform destroy`, removing the resource from the configuration, a change that forces a new instance, a change of " +
			"`image_id` (which reinstalls the operating system in place), and the `clouddc_instance_reinstall` action given this " +
			"value. Each fails at plan time, naming the attribute, and in any case before any request to the API, with the instance " +
			"left as it is. To go ahead, set `deletion_protection = false` without the other change and apply (an in-place change " +
			"that makes no API call), then make the change. `lifecycle { prevent_destroy = true }` is weaker here: it cannot see an " +
			"in-place reinstall or an action, and it goes with the resource block, while this is kept in the state. It is the " +
			"provider's, not the API's: it does not stop a deletion or a reinstall from the console or the API, and it is not " +
			"reported by the data sources. Default: `false`.",
		Optional: true,
		Computed: true,
		Default:  booldefault.StaticBool(false),
	}
}

// ModifyPlan refuses to plan the destroy, the replacement or the reinstall
// of a protected instance, and warns that an image change of an unprotected
// one reinstalls it. Terraform 1.3 and later show the provider a destroy
// (as a null plan); a tainted instance's replacement and -replace it does
// not show, so Delete refuses too.
func (r *instanceResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	checkCreateMetadata(ctx, req, resp)
	if req.State.Raw.IsNull() {
		return // a create, or the replacement of a tainted instance
	}
	var protected types.Bool
	var id types.String
	resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("deletion_protection"), &protected)...)
	resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("id"), &id)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if req.Plan.Raw.IsNull() {
		if protected.ValueBool() {
			addDeletionProtectedError(&resp.Diagnostics, id.ValueString(), "destroy it",
				"If it is meant to go, set deletion_protection = false in its resource block (put the block back first if you "+
					"removed it) and run terraform apply: that changes only the state and makes no API call. Then run the command again.")
		}
		return
	}
	var plan, state, config instanceResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}
	changed := replacedBy(plan, state, config)
	if state.State.ValueString() == string(clouddc.StateShuttingDown) {
		replaceWhileBeingDeleted(ctx, id.ValueString(), protected.ValueBool(), resp)
		return
	}
	switch {
	case len(changed) > 0 && protected.ValueBool():
		what := strings.Join(changed, ", ")
		addDeletionProtectedError(&resp.Diagnostics, id.ValueString(),
			fmt.Sprintf("replace it (a change of %s needs a new instance)", what),
			fmt.Sprintf("If the new instance is meant, undo the change of %s, set deletion_protection = false and run terraform apply: "+
				"that changes only the state and makes no API call. Then make the change again.", what))
	case len(changed) > 0:
		// A replacement installs the new image anyway: no reinstall.
	case !plan.ImageID.Equal(state.ImageID):
		reinstallByImage(&resp.Diagnostics, id.ValueString(), state.ImageID, plan.ImageID, protected.ValueBool())
	}
}

// replaceWhileBeingDeleted plans the replacement of an instance that is
// shutting-down: its deletion was started (an interrupted destroy, or a
// deletion outside Terraform) and cannot be undone, so keeping it in the
// state would leave the resource with an instance about to vanish. The
// apply's delete waits for that deletion to end; then the create installs
// a new instance. Under deletion_protection the plan is refused instead,
// since protection cannot stop a deletion already under way.
func replaceWhileBeingDeleted(ctx context.Context, id string, protected bool, resp *resource.ModifyPlanResponse) {
	if protected {
		resp.Diagnostics.AddAttributeError(path.Root("deletion_protection"), "Protected Instance Is Being Deleted",
			fmt.Sprintf("Instance %s is shutting-down: its deletion was started (by an interrupted destroy, or outside Terraform), "+
				"and deletion_protection cannot stop a deletion already under way. To let Terraform install a new instance in its "+
				"place, set deletion_protection = false and apply; to stop managing it, run terraform state rm with this resource's address.", id))
		return
	}
	resp.Diagnostics.AddAttributeWarning(path.Root("state"), "Instance Is Being Deleted",
		fmt.Sprintf("Instance %s is shutting-down: its deletion was started (by an interrupted destroy, or outside Terraform) and "+
			"cannot be undone. The plan replaces it: the apply waits until it is terminated, then installs a new instance.", id))
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("state"), types.StringUnknown())...)
	resp.RequiresReplace = append(resp.RequiresReplace, path.Root("state"))
}

// replacedBy lists the attributes whose change makes the plan a
// replacement (empty for an update in place). The framework does not
// tell ModifyPlan which attributes forced one, so it compares those that
// can (kept in step with the schema by TestReplacingAttributes).
func replacedBy(plan, state, config instanceResourceModel) []string {
	var changed []string
	for _, a := range replacingAttributes {
		if !a.get(plan).Equal(a.get(state)) && (!a.ifConfigured || !a.get(config).IsNull()) {
			changed = append(changed, a.name)
		}
	}
	return changed
}

// checkCreateMetadata refuses, at plan time, metadata of more than
// clouddc.MaxUserMetadata pairs for an instance the provider is about to
// create (a create or a replacement): the create token takes one of the
// API's ten. An instance made by hand may hold ten and be imported and
// managed as it is; only creating one needs the free pair.
func checkCreateMetadata(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return // a destroy
	}
	var plan, state, config instanceResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() || plan.Metadata.IsUnknown() || len(plan.Metadata.Elements()) <= clouddc.MaxUserMetadata {
		return
	}
	what := "creates"
	if !req.State.Raw.IsNull() {
		resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
		resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
		if resp.Diagnostics.HasError() || len(replacedBy(plan, state, config)) == 0 {
			return // kept as it is: no create
		}
		what = "replaces"
	}
	resp.Diagnostics.AddAttributeError(path.Root("metadata"), "Too Many Metadata Pairs for a New Instance",
		fmt.Sprintf("metadata: this plan %s the instance, and an instance the provider creates takes at most %d metadata pairs; it "+
			"has %d. The API stores %d, and the provider uses one of them for the create token (%s) that proves which instance a "+
			"create made. (An instance made outside Terraform may hold %d and be imported and managed as it is.)",
			what, clouddc.MaxUserMetadata, len(plan.Metadata.Elements()), clouddc.MaxMetadataPairs, clouddc.CreateTokenKey, clouddc.MaxMetadataPairs))
}

// reinstallByImage refuses a change of image_id under deletion_protection,
// and otherwise warns that it reinstalls the operating system: the plan
// shows it as an ordinary in-place update.
func reinstallByImage(diags *diag.Diagnostics, id string, from, to types.String, protected bool) {
	what := fmt.Sprintf("Changing image_id from %s to %s reinstalls", from.ValueString(), to.ValueString())
	if to.IsUnknown() {
		what = fmt.Sprintf("image_id is known only after apply; if it then differs from %s, the apply reinstalls", from.ValueString())
	}
	wipe := fmt.Sprintf("%s the operating system of instance %s in place (ReinstallOs): its system disk is rebuilt from the "+
		"new image, and everything stored on it is lost. The instance keeps its ID, its server and its data disks.", what, id)
	if !protected {
		diags.AddAttributeWarning(path.Root("image_id"), "Changing image_id Reinstalls the Operating System",
			wipe+" If that is not what you want, keep image_id as it is.")
		return
	}
	diags.AddAttributeError(path.Root("image_id"), "Instance Is Protected From Reinstalling",
		wipe+fmt.Sprintf(" The instance has deletion_protection = true in the state, which guards it against every operation that "+
			"wipes its system disk, so Terraform may not do this. The instance was not changed.\n\n"+
			"If the reinstall is meant, keep image_id = %q, set deletion_protection = false and run terraform apply: that changes "+
			"only the state and makes no API call. Then change image_id again. Otherwise, put image_id back to %q.",
			from.ValueString(), from.ValueString()))
}

// replacingAttributes are the attributes whose change replaces the
// instance (their plan modifiers say RequiresReplace), as ModifyPlan
// compares them.
var replacingAttributes = []struct {
	name         string
	get          func(instanceResourceModel) attr.Value
	ifConfigured bool // RequiresReplaceIfConfigured
}{
	{"name", func(m instanceResourceModel) attr.Value { return m.Name }, false},
	{"metadata", func(m instanceResourceModel) attr.Value { return m.Metadata }, false},
	{"description", func(m instanceResourceModel) attr.Value { return m.Description }, false},
	{"server_id", func(m instanceResourceModel) attr.Value { return m.ServerID }, true},
}

// addDeletionProtectedError says why the instance is kept, and how to go
// ahead if the operation is meant.
func addDeletionProtectedError(diags *diag.Diagnostics, id, what, howToProceed string) {
	diags.AddAttributeError(path.Root("deletion_protection"), "Instance Is Protected From Deletion",
		fmt.Sprintf("Instance %s has deletion_protection = true in the state, so Terraform may not %s. The instance was not changed.\n\n%s",
			id, what, howToProceed))
}

// deleteRefusedAdvice is what to do when Delete, not ModifyPlan, refuses a
// protected instance: Terraform reached the deletion without showing it
// to the provider, which it does when it replaces a tainted instance (a
// create that failed or was interrupted taints it) or one that -replace
// names. Setting deletion_protection = false cannot help then: the
// replacement deletes with the prior state, which keeps true.
const deleteRefusedAdvice = "Terraform went ahead with a deletion that it did not show the provider when it planned, which it " +
	"does when it replaces a tainted resource (a create that failed, timed out or was interrupted taints it) or one that " +
	"-replace names. Setting deletion_protection = false now would not help: the replacement deletes the instance as the " +
	"state holds it, with deletion_protection = true.\n\n" +
	"To keep the instance, run terraform untaint with the resource's address, for example:\n\n" +
	"  terraform untaint clouddc_instance.web\n\n" +
	"The next plan then leaves it in place (or changes it in place). To replace it after all: untaint it, set " +
	"deletion_protection = false and run terraform apply (that changes only the state and makes no API call), then run " +
	"terraform apply -replace=ADDRESS."

// onlyDeletionProtectionChanged reports whether an update changes nothing
// the API holds, so that it can be made without an API call.
func onlyDeletionProtectionChanged(plan, state instanceResourceModel) bool {
	return plan.Name.Equal(state.Name) && plan.ImageID.Equal(state.ImageID) && plan.VPCID.Equal(state.VPCID) &&
		plan.NetworkInterfaces.Equal(state.NetworkInterfaces) && plan.Password.Equal(state.Password) &&
		plan.PasswordWOVersion.Equal(state.PasswordWOVersion) && plan.Metadata.Equal(state.Metadata) &&
		plan.Description.Equal(state.Description) && plan.ServerID.Equal(state.ServerID) && plan.PowerState.Equal(state.PowerState)
}
