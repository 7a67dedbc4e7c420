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

// deletion_protection: CloudDC has no lock of its own, so the guard lives
// in the provider, as Google's provider keeps deletion_protection on its
// instances. It is refused at plan time where Terraform shows the provider
// the destroy (ModifyPlan sees a null plan, or a replacement), and in any
// case by Delete before any API call.

var _ resource.ResourceWithModifyPlan = (*instanceResource)(nil)

// deletionProtectionAttribute is the schema of deletion_protection.
func deletionProtectionAttribute() schema.BoolAttribute {
	return schema.BoolAttribute{
		MarkdownDescription: "While `true`, Terraform refuses to destroy or replace the instance: `terraform destroy`, removing the " +
			"resource from the configuration and a change that forces a new instance all fail at plan time, and in any case " +
			"before any request to the API, with the instance left as it is. To destroy it, set `deletion_protection = false` and apply " +
			"(an in-place change that makes no API call), then destroy. It is the provider's, not the API's: it is kept in the " +
			"state only, does not stop a deletion from the console or the API, and is not reported by the data sources. Default: `false`.",
		Optional: true,
		Computed: true,
		Default:  booldefault.StaticBool(false),
	}
}

// ModifyPlan refuses to plan the destroy or the replacement of a protected
// instance. Terraform 1.3 and later show the provider a destroy (as a null
// plan); whatever it shows, Delete refuses too.
func (r *instanceResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	checkCreateMetadata(ctx, req, resp)
	if req.State.Raw.IsNull() {
		return // a create
	}
	var protected types.Bool
	var id types.String
	resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("deletion_protection"), &protected)...)
	resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("id"), &id)...)
	if resp.Diagnostics.HasError() || !protected.ValueBool() {
		return
	}
	if req.Plan.Raw.IsNull() {
		addDeletionProtectedError(&resp.Diagnostics, id.ValueString(), "destroy it")
		return
	}
	// A replacement: the framework does not tell ModifyPlan which
	// attributes forced one, so compare those that can (kept in step
	// with the schema by TestReplacingAttributes).
	var plan, state, config instanceResourceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	resp.Diagnostics.Append(req.Config.Get(ctx, &config)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if changed := replacedBy(plan, state, config); len(changed) > 0 {
		addDeletionProtectedError(&resp.Diagnostics, id.ValueString(),
			fmt.Sprintf("replace it (a change of %s needs a new instance)", strings.Join(changed, ", ")))
	}
}

// replacedBy lists the attributes whose change makes the plan a
// replacement (empty for an update in place).
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

// addDeletionProtectedError says why the instance is kept and how to turn
// the guard off.
func addDeletionProtectedError(diags *diag.Diagnostics, id, what string) {
	diags.AddAttributeError(path.Root("deletion_protection"), "Instance Is Protected From Deletion",
		fmt.Sprintf("Instance %s has deletion_protection = true in the state, so Terraform may not %s. The instance was not changed.\n\n"+
			"If it is meant to go, set deletion_protection = false in its resource block and run terraform apply: that changes only "+
			"the state and makes no API call. Then run the command again.", id, what))
}

// onlyDeletionProtectionChanged reports whether an update changes nothing
// the API holds, so that it can be made without an API call.
func onlyDeletionProtectionChanged(plan, state instanceResourceModel) bool {
	return plan.Name.Equal(state.Name) && plan.ImageID.Equal(state.ImageID) && plan.VPCID.Equal(state.VPCID) &&
		plan.NetworkInterfaces.Equal(state.NetworkInterfaces) && plan.Password.Equal(state.Password) &&
		plan.PasswordWOVersion.Equal(state.PasswordWOVersion) && plan.Metadata.Equal(state.Metadata) &&
		plan.Description.Equal(state.Description) && plan.ServerID.Equal(state.ServerID) && plan.PowerState.Equal(state.PowerState)
}
